package workload

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The fuzz targets build objects from apps that the CRD admits, decoded from the fuzzer's bytes by
// fuzzApp, and check that the builders never panic and keep their promises. The objects built from
// the seed corpus, and from many more generated apps, are also dry-run created on a real API server
// (TestBuiltObjectsPassAPIServerValidation), which proves that the generated apps are admitted and
// that everything built from them is valid. `make fuzz` runs each target for a short while.

// fuzzNamespace is the namespace of every generated app: the dry-run test creates it.
const fuzzNamespace = "fuzz"

// fuzzSeeds are the seed corpus of every target: small byte strings, each of which decodes to a
// different shape of app (the first byte picks the type, the next ones the sections).
var fuzzSeeds = [][]byte{
	{},
	{0},
	{1},
	{0, 3, 1, 1, 1, 1, 1, 1, 1, 1},
	{1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
	{0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
	{1, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
	[]byte("a stateless app with everything in it, and then some more bytes to spend on sections"),
	[]byte("\x01a stateful app with storage, peers, autoscaling and a partition, with bytes to spare"),
	{1, 52, 100, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
}

// fuzzBytes hands out the fuzzer's bytes; once they run out, every read is zero, so any input
// decodes to an app.
type fuzzBytes struct{ data []byte }

func (b *fuzzBytes) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	v := b.data[0]
	b.data = b.data[1:]
	return v
}

func (b *fuzzBytes) bool() bool { return b.byte()&1 == 1 }

// intn is in [0, n).
func (b *fuzzBytes) intn(n int) int {
	return (int(b.byte())<<8 | int(b.byte())) % n
}

// between is in [lo, hi].
func (b *fuzzBytes) between(lo, hi int) int32 { return int32(lo + b.intn(hi-lo+1)) }

// label is a DNS label (RFC 1035: a letter first) of 1 to maxLen characters.
func (b *fuzzBytes) label(maxLen int) string {
	const letters, inner = "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789-"
	n := 1 + b.intn(maxLen)
	s := []byte{letters[b.intn(len(letters))]}
	for i := 1; i < n; i++ {
		c := inner[b.intn(len(inner))]
		if i == n-1 && c == '-' {
			c = 'z'
		}
		s = append(s, c)
	}
	return string(s)
}

// intOrPercent is an int in [lo, hi] or a percentage in [loPct, hiPct].
func (b *fuzzBytes) intOrPercent(lo, hi, loPct, hiPct int) *intstr.IntOrString {
	var v intstr.IntOrString
	if b.bool() {
		v = intstr.FromInt32(b.between(lo, hi))
	} else {
		v = intstr.FromString(fmt.Sprintf("%d%%", b.between(loPct, hiPct)))
	}
	return &v
}

// unique is next's string or, when seen has it, that string cut and numbered so that it is free and
// at most maxLen long. It calls next once: once the bytes run out next repeats itself, and a loop
// that asked it again could find nothing new.
func (b *fuzzBytes) unique(seen map[string]bool, maxLen int, next func() string) string {
	name := next()
	s := name
	for i := len(seen); seen[s]; i++ {
		suffix := strconv.Itoa(i)
		s = name[:max(1, min(len(name), maxLen-len(suffix)))] + suffix
	}
	seen[s] = true
	return s
}

// fuzzApp decodes bytes into an app that the CRD's rules admit, over as much of the API as the
// builders read: type, name, replicas, containers with ports, environment and probes, init
// containers, template labels, the Service, storage, availability, rollout and autoscaling.
// What the CRD cannot check (see docs/admission.md) is generated valid: unique, well-formed container
// and port names, storage containers that exist.
func fuzzApp(data []byte) *appsv1alpha1.HighlyAvailableApp {
	b := &fuzzBytes{data: data}
	app := &appsv1alpha1.HighlyAvailableApp{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp"},
		ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNamespace},
	}
	spec := &app.Spec
	stateful := b.bool()
	maxName, maxReplicas := 63, int32(1000)
	spec.Type = appsv1alpha1.Stateless
	if stateful {
		spec.Type, maxName, maxReplicas = appsv1alpha1.Stateful, 52, 100
	}
	app.Name = b.label(maxName)
	if b.byte()%4 != 0 {
		spec.Replicas = new(b.between(0, int(min(maxReplicas, 12))))
		if b.byte()%8 == 0 {
			spec.Replicas = new(maxReplicas - b.between(0, 3))
		}
	}
	fuzzTemplate(b, spec)
	if b.bool() {
		spec.Service = fuzzService(b)
	}
	if stateful {
		fuzzStorage(b, spec)
	}
	// Autoscaling first: the bounds of availability and rollout depend on it.
	minPods, maxPods := spec.DesiredReplicas(), spec.DesiredReplicas()
	if b.byte()%3 == 0 {
		spec.Autoscaling = fuzzAutoscaling(b, spec.DesiredReplicas(), maxReplicas)
		maxPods = spec.Autoscaling.MaxReplicas
		if spec.Autoscaling.MinReplicas != nil {
			minPods = *spec.Autoscaling.MinReplicas
		}
	}
	if b.bool() {
		spec.Availability = fuzzAvailability(b, minPods)
	}
	if b.bool() {
		spec.Rollout = fuzzRollout(b, stateful, maxPods)
	}
	return app
}

// fuzzTemplate fills the pod template: containers with ports, environment and preStop hooks, an
// init container, labels, the restart policy, a grace period and spread constraints.
func fuzzTemplate(b *fuzzBytes, spec *appsv1alpha1.HighlyAvailableAppSpec) {
	containerNames := map[string]bool{}
	portNames := map[string]bool{}
	ports := map[int32]bool{}
	for range 1 + b.intn(3) {
		c := corev1.Container{
			Name:  b.unique(containerNames, 63, func() string { return b.label(20) }),
			Image: fmt.Sprintf("registry.example/%s:%d", b.label(10), b.byte()),
		}
		for range b.intn(3) {
			p := corev1.ContainerPort{ContainerPort: b.between(1, 65535)}
			if ports[p.ContainerPort] {
				continue
			}
			ports[p.ContainerPort] = true
			if b.bool() {
				p.Name = b.unique(portNames, 15, func() string { return b.label(15) })
			}
			if b.byte()%5 == 0 {
				p.Protocol = corev1.ProtocolUDP
			}
			c.Ports = append(c.Ports, p)
		}
		if b.bool() {
			c.Env = []corev1.EnvVar{{Name: "MODE", Value: b.label(8)}}
		}
		if b.bool() {
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/drain"}}}}
		}
		spec.Template.Spec.Containers = append(spec.Template.Spec.Containers, c)
	}
	if b.byte()%4 == 0 {
		spec.Template.Spec.InitContainers = []corev1.Container{{
			Name: b.unique(containerNames, 63, func() string { return b.label(20) }), Image: "registry.example/init:1",
		}}
	}
	if b.bool() {
		spec.Template.Labels = map[string]string{"tier": b.label(10), "example.com/" + b.label(10): ""}
		if b.bool() {
			// The operator's own labels win over the template's.
			spec.Template.Labels[appsv1alpha1.LabelName] = "other"
		}
	}
	if b.bool() {
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	if b.byte()%4 == 0 {
		spec.Template.Spec.TerminationGracePeriodSeconds = new(int64(b.between(0, 600)))
	}
	if b.byte()%4 == 0 {
		spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: ZoneTopologyKey, WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "any"}},
		}}
	}
}

// fuzzService is a Service section with up to three ports, node ports where the type has them.
func fuzzService(b *fuzzBytes) *appsv1alpha1.ServiceSpec {
	svc := &appsv1alpha1.ServiceSpec{Type: []corev1.ServiceType{
		corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer,
	}[b.intn(3)]}
	n := b.intn(4)
	svcPorts, nodePorts, names := map[int32]bool{}, map[int32]bool{}, map[string]bool{}
	for range n {
		p := corev1.ServicePort{Port: b.between(1, 65535), Protocol: corev1.ProtocolTCP}
		if svcPorts[p.Port] {
			continue
		}
		svcPorts[p.Port] = true
		if n > 1 || b.bool() {
			p.Name = b.unique(names, 15, func() string { return b.label(15) })
		}
		if b.bool() {
			p.TargetPort = intstr.FromInt32(b.between(1, 65535))
		}
		if svc.Type != corev1.ServiceTypeClusterIP && b.bool() {
			if np := b.between(30000, 32767); !nodePorts[np] {
				nodePorts[np] = true
				p.NodePort = np
			}
		}
		svc.Ports = append(svc.Ports, p)
	}
	return svc
}

// fuzzStorage fills the Stateful fields: storage entries, claim retention, pod management.
func fuzzStorage(b *fuzzBytes, spec *appsv1alpha1.HighlyAvailableAppSpec) {
	storageNames, paths := map[string]bool{}, map[string]bool{}
	for range b.intn(4) {
		st := appsv1alpha1.StorageSpec{
			Name:      b.unique(storageNames, 63, func() string { return b.label(20) }),
			MountPath: "/" + b.unique(paths, 63, func() string { return b.label(12) }),
			Size:      *resource.NewQuantity(int64(b.between(1, 1<<20))*1024*1024, resource.BinarySI),
		}
		if b.bool() {
			st.StorageClassName = new("fast")
		}
		if b.bool() {
			st.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}
		}
		if b.bool() {
			st.Containers = []string{spec.Template.Spec.Containers[b.intn(len(spec.Template.Spec.Containers))].Name}
		}
		spec.Storage = append(spec.Storage, st)
	}
	if b.bool() {
		spec.VolumeClaimRetention = &appsv1alpha1.VolumeClaimRetention{
			WhenDeleted: appsv1alpha1.DeleteClaims, WhenScaled: appsv1alpha1.RetainClaims,
		}
	}
	if b.bool() {
		policy := appsv1alpha1.PodManagementPolicy("Parallel")
		spec.PodManagementPolicy = &policy
	}
}

// fuzzAutoscaling is an autoscaler section; without a minimum, replicas is the minimum, so the
// maximum is kept at or above it.
func fuzzAutoscaling(b *fuzzBytes, replicas, maxReplicas int32) *appsv1alpha1.AutoscalingSpec {
	as := &appsv1alpha1.AutoscalingSpec{MaxReplicas: b.between(1, int(maxReplicas))}
	if b.bool() {
		as.MinReplicas = new(b.between(1, int(as.MaxReplicas)))
	} else if replicas > as.MaxReplicas {
		as.MaxReplicas = max(replicas, 1)
	}
	if b.bool() {
		as.TargetCPUUtilizationPercentage = new(b.between(1, 100))
	}
	return as
}

// fuzzAvailability is a disruption budget that lets at least one of minPods go, a spread and a
// graceful shutdown.
func fuzzAvailability(b *fuzzBytes, minPods int32) *appsv1alpha1.AvailabilitySpec {
	av := &appsv1alpha1.AvailabilitySpec{
		Spread: []appsv1alpha1.SpreadPolicy{appsv1alpha1.SpreadZone, appsv1alpha1.SpreadNode, appsv1alpha1.SpreadNone}[b.intn(3)],
	}
	switch b.intn(3) {
	case 0:
		av.MaxUnavailable = b.intOrPercent(1, 5, 1, 100)
	case 1:
		if minPods >= 2 {
			// A percentage is rounded up: it must leave at least one pod free.
			av.MinAvailable = b.intOrPercent(0, int(minPods)-1, 0, int(100*(minPods-1)/minPods))
		} else {
			av.MinAvailable = b.intOrPercent(0, 3, 0, 99)
		}
	}
	if b.bool() {
		av.PreStopDelaySeconds = new(b.between(0, 300))
	}
	if b.bool() {
		av.TerminationGracePeriodSeconds = new(int64(b.between(0, 86400)))
	}
	return av
}

// fuzzRollout is a rollout section of the type's fields, never both maxSurge and maxUnavailable 0,
// with a partition of at most maxPods.
func fuzzRollout(b *fuzzBytes, stateful bool, maxPods int32) *appsv1alpha1.RolloutSpec {
	r := &appsv1alpha1.RolloutSpec{Paused: b.byte()%8 == 0}
	if stateful {
		if b.bool() {
			r.MaxUnavailable = b.intOrPercent(1, 5, 1, 100)
		}
		if b.bool() {
			r.Partition = new(b.between(0, int(maxPods)))
		}
	} else {
		if b.bool() {
			r.MaxSurge = b.intOrPercent(0, 5, 0, 100)
		}
		if b.bool() {
			r.MaxUnavailable = b.intOrPercent(0, 5, 0, 100)
			if r.MaxSurge != nil && isZero(*r.MaxSurge) && isZero(*r.MaxUnavailable) {
				r.MaxUnavailable = new(intstr.FromInt32(1))
			}
		} else if r.MaxSurge != nil && isZero(*r.MaxSurge) {
			r.MaxUnavailable = new(intstr.FromString("25%"))
		}
	}
	if b.bool() {
		r.MinReadySeconds = new(b.between(0, 60))
		r.ProgressDeadlineSeconds = new(*r.MinReadySeconds + b.between(1, 600))
	}
	if b.bool() {
		r.RevisionHistoryLimit = new(b.between(0, 20))
	}
	if b.bool() {
		r.FailureGraceSeconds = new(b.between(0, 3600))
		r.CrashLoopRestarts = new(b.between(1, 100))
		r.UnschedulableGraceSeconds = new(b.between(0, 3600))
	}
	return r
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	return strings.TrimLeft(strings.TrimSuffix(v.StrVal, "%"), "0") == ""
}

// fuzzOptions are the options the targets build with; a cluster domain of the greatest length
// allowed makes HA_PEERS as long as it can be.
func fuzzOptions(data []byte) Options {
	if len(data) > 0 && data[len(data)-1]%2 == 1 {
		return Options{ClusterDomain: strings.Repeat("d", 63) + "." + strings.Repeat("e", 63)}
	}
	return Options{}
}

func FuzzPodTemplate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		app := fuzzApp(data)
		if _, message, failed := SpecChecks.First(app); failed {
			t.Fatalf("the generated app has a problem: %s", message)
		}
		before := app.DeepCopy()
		tpl := PodTemplate(app, fuzzOptions(data))
		for k, v := range SelectorLabels(app) {
			if tpl.Labels[k] != v {
				t.Fatalf("template label %s = %q, want %q", k, tpl.Labels[k], v)
			}
		}
		if tpl.Spec.TerminationGracePeriodSeconds == nil {
			t.Fatal("no termination grace period")
		}
		if len(tpl.Spec.Containers) != len(app.Spec.Template.Spec.Containers) {
			t.Fatalf("%d containers, want %d", len(tpl.Spec.Containers), len(app.Spec.Template.Spec.Containers))
		}
		if app.Spec.AppType() == appsv1alpha1.Stateful {
			for _, c := range tpl.Spec.Containers {
				peers := envValue(c, EnvPeers)
				if got, want := len(strings.Split(peers, ",")), int(app.Spec.DesiredReplicas()); peers != "" && got != want {
					t.Fatalf("container %s: %d peers, want %d", c.Name, got, want)
				}
				if len(peers) > 128<<10 {
					t.Fatalf("container %s: HA_PEERS is %d bytes, above the kernel's 128 KiB", c.Name, len(peers))
				}
			}
		}
		assertUnchanged(t, before, app)
	})
}

func FuzzWorkload(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		app := fuzzApp(data)
		before := app.DeepCopy()
		tpl := PodTemplate(app, fuzzOptions(data))
		if app.Spec.AppType() == appsv1alpha1.Stateful {
			sts := StatefulSet(app, tpl, app.Spec.Partition())
			if sts.Name != app.Name || sts.Spec.ServiceName != HeadlessServiceName(app) {
				t.Fatalf("StatefulSet %s with service %s for app %s", sts.Name, sts.Spec.ServiceName, app.Name)
			}
			if len(sts.Spec.VolumeClaimTemplates) != len(app.Spec.Storage) {
				t.Fatalf("%d claim templates, want %d", len(sts.Spec.VolumeClaimTemplates), len(app.Spec.Storage))
			}
			checkNames(t, "claim", ClaimName(app, longestStorageName(app), max(app.Spec.DesiredReplicas(), 1)-1), validation.IsDNS1123Subdomain)
			checkNames(t, "pod", fmt.Sprintf("%s-%d", app.Name, max(app.Spec.DesiredReplicas(), 1)-1), validation.IsDNS1123Label)
			// The StatefulSet controller labels pods with <name>-<hash>, the hash at most 10 characters.
			checkNames(t, "controller-revision-hash", app.Name+"-0123456789", validation.IsValidLabelValue)
		} else {
			d := Deployment(app, tpl)
			if d.Name != app.Name || !matches(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				t.Fatalf("Deployment %s selects %v, template labels %v", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
			}
			if (app.Spec.Autoscaling == nil) != (d.Spec.Replicas != nil) {
				t.Fatalf("replicas %v with autoscaling %v", d.Spec.Replicas, app.Spec.Autoscaling)
			}
		}
		assertUnchanged(t, before, app)
	})
}

func FuzzServices(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		app := fuzzApp(data)
		before := app.DeepCopy()
		svcs := []*corev1.Service{Service(app)}
		if app.Spec.AppType() == appsv1alpha1.Stateful {
			svcs = append(svcs, HeadlessService(app))
		}
		for _, svc := range svcs {
			if svc == nil {
				continue
			}
			checkNames(t, "Service", svc.Name, validation.IsDNS1035Label)
			names := map[string]bool{}
			for _, p := range svc.Spec.Ports {
				if names[p.Name] {
					t.Fatalf("Service %s: port name %q twice", svc.Name, p.Name)
				}
				names[p.Name] = true
			}
			if !maps.Equal(svc.Spec.Selector, SelectorLabels(app)) {
				t.Fatalf("Service %s selects %v", svc.Name, svc.Spec.Selector)
			}
		}
		assertUnchanged(t, before, app)
	})
}

func FuzzDisruptionBudget(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		app := fuzzApp(data)
		before := app.DeepCopy()
		pdb := PodDisruptionBudget(app)
		if (pdb == nil) != (MinimumReplicas(app) < 2) {
			t.Fatalf("budget %v for a minimum of %d replicas", pdb, MinimumReplicas(app))
		}
		if pdb != nil {
			if (pdb.Spec.MinAvailable == nil) == (pdb.Spec.MaxUnavailable == nil) {
				t.Fatalf("budget sets minAvailable %v and maxUnavailable %v", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
			}
			// A budget that lets no pod go blocks every drain: the CRD's rules must have refused it.
			if keep := MinAvailablePods(app, MinimumReplicas(app)); keep >= MinimumReplicas(app) {
				t.Fatalf("budget keeps %d of %d pods: no drain could ever evict one", keep, MinimumReplicas(app))
			}
		}
		assertUnchanged(t, before, app)
	})
}

func FuzzAutoscaler(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		app := fuzzApp(data)
		before := app.DeepCopy()
		hpa := HorizontalPodAutoscaler(app, workloadKind(app))
		if (hpa == nil) != (app.Spec.Autoscaling == nil) {
			t.Fatalf("autoscaler %v for autoscaling %v", hpa, app.Spec.Autoscaling)
		}
		if hpa != nil && (*hpa.Spec.MinReplicas < 1 || *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas) {
			t.Fatalf("autoscaler from %d to %d replicas", *hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
		}
		assertUnchanged(t, before, app)
	})
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func longestStorageName(app *appsv1alpha1.HighlyAvailableApp) string {
	longest := ""
	for _, st := range app.Spec.Storage {
		if len(st.Name) > len(longest) {
			longest = st.Name
		}
	}
	if longest == "" {
		return "data"
	}
	return longest
}

func checkNames(t *testing.T, what, name string, valid func(string) []string) {
	t.Helper()
	if errs := valid(name); len(errs) > 0 {
		t.Fatalf("%s %q: %s", what, name, strings.Join(errs, "; "))
	}
}

func assertUnchanged(t *testing.T, before, after *appsv1alpha1.HighlyAvailableApp) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(before.Spec, after.Spec) {
		t.Fatal("a builder changed the app's spec")
	}
}
