package workload

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// spreadOver is the constraint the operator adds for one topology key.
func spreadOver(app string, key, revisionKey string, when corev1.UnsatisfiableConstraintAction) corev1.TopologySpreadConstraint {
	honor := corev1.NodeInclusionPolicyHonor
	return corev1.TopologySpreadConstraint{
		MaxSkew:     1,
		TopologyKey: key, WhenUnsatisfiable: when,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
			appsv1alpha1.LabelName: app, appsv1alpha1.LabelInstance: app,
		}},
		MatchLabelKeys:     []string{revisionKey},
		NodeAffinityPolicy: &honor,
		NodeTaintsPolicy:   &honor,
	}
}

func TestPodTemplateLabels(t *testing.T) {
	app := webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
		// A label the selector relies on cannot be taken over by the template.
		a.Spec.Template.Labels[appsv1alpha1.LabelName] = "someone-else"
	})
	got := PodTemplate(app, Options{}).Labels
	want := map[string]string{
		labelTier:                   tierFrontend,
		appsv1alpha1.LabelName:      webName,
		appsv1alpha1.LabelInstance:  webName,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
	}
	assertEqual(t, "pod labels", got, want)
}

func TestPodTemplateSpread(t *testing.T) {
	own := []corev1.TopologySpreadConstraint{{
		MaxSkew: 2, TopologyKey: "rack", WhenUnsatisfiable: corev1.DoNotSchedule,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelTier: tierFrontend}},
	}}
	cases := []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		want []corev1.TopologySpreadConstraint
	}{
		{
			name: "default is zone, best effort, then node, strict",
			app:  webApp(),
			want: []corev1.TopologySpreadConstraint{
				spreadOver(webName, ZoneTopologyKey, "pod-template-hash", corev1.ScheduleAnyway),
				spreadOver(webName, NodeTopologyKey, "pod-template-hash", corev1.DoNotSchedule),
			},
		},
		{
			name: "Zone on a Stateful app counts pods of the same controller revision",
			app:  dbApp(withAvailability(appsv1alpha1.AvailabilitySpec{Spread: appsv1alpha1.SpreadZone})),
			want: []corev1.TopologySpreadConstraint{
				spreadOver("db", ZoneTopologyKey, "controller-revision-hash", corev1.ScheduleAnyway),
				spreadOver("db", NodeTopologyKey, "controller-revision-hash", corev1.DoNotSchedule),
			},
		},
		{
			name: "Node spreads over nodes only",
			app:  webApp(withAvailability(appsv1alpha1.AvailabilitySpec{Spread: appsv1alpha1.SpreadNode})),
			want: []corev1.TopologySpreadConstraint{
				spreadOver(webName, NodeTopologyKey, "pod-template-hash", corev1.DoNotSchedule),
			},
		},
		{
			name: "None adds nothing",
			app:  webApp(withAvailability(appsv1alpha1.AvailabilitySpec{Spread: appsv1alpha1.SpreadNone})),
			want: nil,
		},
		{
			name: "the template's own constraints are kept and none are added",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.TopologySpreadConstraints = own
			}),
			want: own,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PodTemplate(tc.app, Options{}).Spec.TopologySpreadConstraints
			assertEqual(t, "topologySpreadConstraints", got, tc.want)
		})
	}
}

func TestPodTemplateGracefulShutdown(t *testing.T) {
	sleep := func(s int64) *corev1.Lifecycle {
		return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: s}}}
	}
	ownHook := &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/drain"}}}}
	postStart := &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/warm"}}}
	twoContainers := func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Template.Spec.Containers = append(a.Spec.Template.Spec.Containers,
			corev1.Container{Name: "sidecar", Image: "envoy:1", Lifecycle: ownHook.DeepCopy()})
	}
	cases := []struct {
		name       string
		app        *appsv1alpha1.HighlyAvailableApp
		lifecycles []*corev1.Lifecycle // per container, in order
		initHook   bool                // whether the init container got a lifecycle
		grace      int64
	}{
		{
			name:       "defaults: a 5 s sleep and 5+30 s of grace",
			app:        webApp(),
			lifecycles: []*corev1.Lifecycle{sleep(5)},
			grace:      35,
		},
		{
			name: "the delay and the shutdown time the app asks for",
			app: webApp(withAvailability(appsv1alpha1.AvailabilitySpec{
				PreStopDelaySeconds: ptr.To[int32](10), TerminationGracePeriodSeconds: ptr.To[int64](60),
			})),
			lifecycles: []*corev1.Lifecycle{sleep(10)},
			grace:      70,
		},
		{
			name:       "a container's own preStop is kept; the others get the sleep",
			app:        webApp(twoContainers),
			lifecycles: []*corev1.Lifecycle{sleep(5), ownHook},
			grace:      35,
		},
		{
			name: "a postStart hook stays next to the added preStop",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: postStart}
			}),
			lifecycles: []*corev1.Lifecycle{{PostStart: postStart, PreStop: sleep(5).PreStop}},
			grace:      35,
		},
		{
			name: "preStopDelaySeconds 0 adds no hook",
			app: webApp(withAvailability(appsv1alpha1.AvailabilitySpec{PreStopDelaySeconds: ptr.To[int32](0)}),
				twoContainers),
			lifecycles: []*corev1.Lifecycle{nil, ownHook},
			grace:      30,
		},
		{
			name: "the template's own grace period is kept",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](7)
			}),
			lifecycles: []*corev1.Lifecycle{sleep(5)},
			grace:      7,
		},
		{
			name: "init containers get no preStop hook",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "migrate:1"}}
			}),
			lifecycles: []*corev1.Lifecycle{sleep(5)},
			grace:      35,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := PodTemplate(tc.app, Options{}).Spec
			if len(spec.Containers) != len(tc.lifecycles) {
				t.Fatalf("%d containers, want %d", len(spec.Containers), len(tc.lifecycles))
			}
			for i, c := range spec.Containers {
				assertEqual(t, "lifecycle of "+c.Name, c.Lifecycle, tc.lifecycles[i])
			}
			for _, c := range spec.InitContainers {
				if c.Lifecycle != nil {
					t.Errorf("init container %s got lifecycle %+v, want none", c.Name, c.Lifecycle)
				}
			}
			if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds != tc.grace {
				t.Errorf("terminationGracePeriodSeconds = %v, want %d", ptr.Deref(spec.TerminationGracePeriodSeconds, -1), tc.grace)
			}
		})
	}
}

func TestPodTemplateStatelessHasNoPeerEnvOrMounts(t *testing.T) {
	spec := PodTemplate(webApp(), Options{}).Spec
	c := spec.Containers[0]
	if len(c.Env) != 0 || len(c.VolumeMounts) != 0 {
		t.Errorf("Stateless container got env %v and mounts %v, want none", c.Env, c.VolumeMounts)
	}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path},
	}}
}

func TestPodTemplatePeerEnv(t *testing.T) {
	peers3 := "db-0.db.data.svc.cluster.local,db-1.db.data.svc.cluster.local,db-2.db.data.svc.cluster.local"
	ownIP := corev1.EnvVar{Name: EnvPodIP, Value: "0.0.0.0"}
	cases := []struct {
		name     string
		app      *appsv1alpha1.HighlyAvailableApp
		wantEnv  []corev1.EnvVar // of the first container
		wantInit []corev1.EnvVar // of the init container, when there is one
	}{
		{
			name: "all four variables are added, before the user's so that they can refer to them",
			app: dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "SEEDS", Value: "$(HA_PEERS)"}}
			}),
			wantEnv: []corev1.EnvVar{
				fieldEnv(EnvPodName, "metadata.name"),
				fieldEnv(EnvPodNamespace, "metadata.namespace"),
				fieldEnv(EnvPodIP, "status.podIP"),
				{Name: EnvPeers, Value: peers3},
				{Name: "SEEDS", Value: "$(HA_PEERS)"},
			},
		},
		{
			name: "the user's own POD_IP and HA_PEERS are kept as they are",
			app: dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{ownIP, {Name: EnvPeers, Value: "seed-0"}}
			}),
			wantEnv: []corev1.EnvVar{
				fieldEnv(EnvPodName, "metadata.name"),
				fieldEnv(EnvPodNamespace, "metadata.namespace"),
				ownIP,
				{Name: EnvPeers, Value: "seed-0"},
			},
		},
		{
			name: "init containers get the variables too, so they can wait for peers",
			app: dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "wait", Image: "busybox"}}
			}),
			wantEnv: []corev1.EnvVar{
				fieldEnv(EnvPodName, "metadata.name"),
				fieldEnv(EnvPodNamespace, "metadata.namespace"),
				fieldEnv(EnvPodIP, "status.podIP"),
				{Name: EnvPeers, Value: peers3},
			},
			wantInit: []corev1.EnvVar{
				fieldEnv(EnvPodName, "metadata.name"),
				fieldEnv(EnvPodNamespace, "metadata.namespace"),
				fieldEnv(EnvPodIP, "status.podIP"),
				{Name: EnvPeers, Value: peers3},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := PodTemplate(tc.app, Options{}).Spec
			assertEqual(t, "container env", spec.Containers[0].Env, tc.wantEnv)
			if tc.wantInit != nil {
				assertEqual(t, "init container env", spec.InitContainers[0].Env, tc.wantInit)
			}
		})
	}
}

func TestPeers(t *testing.T) {
	cases := []struct {
		name     string
		replicas *int32
		domain   string
		want     string
	}{
		{"one replica", ptr.To[int32](1), "", "db-0.db.data.svc.cluster.local"},
		{"three replicas (the default)", nil, "",
			"db-0.db.data.svc.cluster.local,db-1.db.data.svc.cluster.local,db-2.db.data.svc.cluster.local"},
		{"five replicas", ptr.To[int32](5), "", strings.Join([]string{
			"db-0.db.data.svc.cluster.local", "db-1.db.data.svc.cluster.local", "db-2.db.data.svc.cluster.local",
			"db-3.db.data.svc.cluster.local", "db-4.db.data.svc.cluster.local",
		}, ",")},
		{"a custom cluster domain", ptr.To[int32](2), "corp.example",
			"db-0.db.data.svc.corp.example,db-1.db.data.svc.corp.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := dbApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = tc.replicas })
			opts := Options{ClusterDomain: tc.domain}
			if got := strings.Join(PeerNames(app, opts), ","); got != tc.want {
				t.Errorf("PeerNames = %q, want %q", got, tc.want)
			}
			var peers string
			for _, e := range PodTemplate(app, opts).Spec.Containers[0].Env {
				if e.Name == EnvPeers {
					peers = e.Value
				}
			}
			if peers != tc.want {
				t.Errorf("HA_PEERS = %q, want %q", peers, tc.want)
			}
		})
	}
}

func TestPodTemplateStorageMounts(t *testing.T) {
	containers := func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Template.Spec.Containers = []corev1.Container{
			{Name: "db", Image: "postgres:17"},
			{Name: containerBackup, Image: "backup:1"},
			{Name: containerMetrics, Image: "exporter:1"},
		}
	}
	mount := func(name, path string) corev1.VolumeMount { return corev1.VolumeMount{Name: name, MountPath: path} }
	cases := []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		want map[string][]corev1.VolumeMount // by container name
	}{
		{
			name: "no containers named: every container",
			app:  dbApp(containers),
			want: map[string][]corev1.VolumeMount{
				"db":             {mount(volData, "/var/lib/db")},
				containerBackup:  {mount(volData, "/var/lib/db")},
				containerMetrics: {mount(volData, "/var/lib/db")},
			},
		},
		{
			name: "only the containers storage[].containers names",
			app: dbApp(containers, func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Storage[0].Containers = []string{"db", containerBackup}
				a.Spec.Storage = append(a.Spec.Storage, appsv1alpha1.StorageSpec{
					Name: "wal", MountPath: "/wal", Size: a.Spec.Storage[0].Size, Containers: []string{"db"},
				})
			}),
			want: map[string][]corev1.VolumeMount{
				"db":             {mount(volData, "/var/lib/db"), mount("wal", "/wal")},
				containerBackup:  {mount(volData, "/var/lib/db")},
				containerMetrics: nil,
			},
		},
		{
			name: "a container's own mount of the same name is kept and not doubled",
			app: dbApp(containers, func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.Containers[1].VolumeMounts = []corev1.VolumeMount{
					{Name: volData, MountPath: "/backup/source", ReadOnly: true},
				}
			}),
			want: map[string][]corev1.VolumeMount{
				"db":             {mount(volData, "/var/lib/db")},
				containerBackup:  {{Name: volData, MountPath: "/backup/source", ReadOnly: true}},
				containerMetrics: {mount(volData, "/var/lib/db")},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := PodTemplate(tc.app, Options{}).Spec
			if len(spec.Containers) != len(tc.want) {
				t.Fatalf("%d containers, want %d", len(spec.Containers), len(tc.want))
			}
			for _, c := range spec.Containers {
				assertEqual(t, "volumeMounts of "+c.Name, c.VolumeMounts, tc.want[c.Name])
			}
			if len(spec.Volumes) != 0 {
				t.Errorf("volumes = %v, want none: the claim templates provide them", spec.Volumes)
			}
		})
	}
}

func TestDefaultReadinessProbe(t *testing.T) {
	own := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}
	type app = appsv1alpha1.HighlyAvailableApp
	tests := []struct {
		name     string
		app      *app
		defaults int
		// want is the probe of the first container; nil for none.
		want *corev1.Probe
	}{
		{"a serving container gets a TCP probe on its first port", webApp(func(a *app) {
			a.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 9090}}
		}), DefaultsCurrent, &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}},
		{"a probe of the template is kept as it is", webApp(func(a *app) { a.Spec.Template.Spec.Containers[0].ReadinessProbe = own }),
			DefaultsCurrent, own},
		{"a container without ports gets none", webApp(func(a *app) { a.Spec.Template.Spec.Containers[0].Ports = nil }),
			DefaultsCurrent, nil},
		{"a UDP port cannot answer a TCP probe: the first TCP port", webApp(func(a *app) {
			a.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP},
				{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
		}), DefaultsCurrent, &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}},
		{"UDP ports alone: none", webApp(func(a *app) {
			a.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
		}), DefaultsCurrent, nil},
		{"availability.defaultProbes false turns it off", webApp(func(a *app) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{DefaultProbes: new(false)}
		}), DefaultsCurrent, nil},
		{"the first generation of defaults has none", webApp(), DefaultsOriginal, nil},
		{"a Stateful app's container gets one too", dbApp(), DefaultsCurrent, &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(5432)}},
			PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}},
		{"a Job's pods serve nothing: none", webApp(func(a *app) {
			a.Spec.Type, a.Spec.Replicas, a.Spec.Template.Spec.RestartPolicy = appsv1alpha1.Job, nil, corev1.RestartPolicyNever
		}), DefaultsCurrent, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.app.DeepCopy()
			got := PodTemplateAt(tc.app, Options{}, tc.defaults).Spec.Containers[0].ReadinessProbe
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("readiness probe %+v, want %+v", got, tc.want)
			}
			if !equality.Semantic.DeepEqual(before, tc.app) {
				t.Error("the app was modified")
			}
		})
	}
}
