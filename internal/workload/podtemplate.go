// Package workload turns a HighlyAvailableApp into the Kubernetes objects that run it: the pod
// template with the operator's HA defaults, a Deployment or a StatefulSet, Services, a
// PodDisruptionBudget and a HorizontalPodAutoscaler. Every function here is pure: it reads the app and
// returns objects, and never talks to the API server.
package workload

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Options are the cluster facts the builders need that are not in the app, and the operator's
// generation of defaults.
type Options struct {
	// Defaults is the generation of defaults new revisions are built with: DefaultsCurrent when 0.
	// Tests set an older one to play an older operator.
	Defaults int
	// ClusterDomain is the DNS domain of the cluster, used in the stable names of Stateful pods.
	ClusterDomain string
	// AllowedServiceTypes are the Service types apps may ask for in spec.service.type; empty allows
	// every type. See ServiceTypeCheck.
	AllowedServiceTypes []corev1.ServiceType
}

// The generations of the operator's pod-template defaults. Every revision keeps the generation it was
// built with (rollout.Record.Defaults), and the template of a revision the spec still matches is built
// with that generation again: a default added to the operator reaches an app's running pods only with
// its next revision (the next change of its template), never through an operator upgrade.
const (
	// DefaultsOriginal are the labels, the topology spread, graceful shutdown, a Stateful app's
	// storage mounts and peer discovery, and a Job's restart policy.
	DefaultsOriginal = 1
	// DefaultsReadinessProbe adds a TCP readiness probe on the first declared port of a container
	// that has none (availability.defaultProbes).
	DefaultsReadinessProbe = 2
	// DefaultsCurrent is the generation new revisions are built with.
	DefaultsCurrent = DefaultsReadinessProbe
)

// DefaultsLevel is the generation of defaults new revisions are built with.
func (o Options) DefaultsLevel() int {
	if o.Defaults <= 0 || o.Defaults > DefaultsCurrent {
		return DefaultsCurrent
	}
	return o.Defaults
}

// The default readiness probe: a TCP connection to the container's first declared port, every 5 s,
// failing after 3 attempts in a row (15 s).
const (
	DefaultProbePeriodSeconds    = 5
	DefaultProbeTimeoutSeconds   = 1
	DefaultProbeFailureThreshold = 3
)

// DefaultClusterDomain is the cluster domain of most clusters.
const DefaultClusterDomain = "cluster.local"

// Environment variables given to every container of a Stateful app, unless the container sets them.
const (
	EnvPodName      = "POD_NAME"
	EnvPodNamespace = "POD_NAMESPACE"
	EnvPodIP        = "POD_IP"
	EnvPeers        = "HA_PEERS"
)

// Topology keys the spread constraints use.
const (
	ZoneTopologyKey = corev1.LabelTopologyZone
	NodeTopologyKey = corev1.LabelHostname
)

// Labels are the labels on every object generated for the app.
func Labels(app *appsv1alpha1.HighlyAvailableApp) map[string]string {
	return map[string]string{
		appsv1alpha1.LabelName:      app.Name,
		appsv1alpha1.LabelInstance:  app.Name,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
	}
}

// SelectorLabels select the app's pods. They never change, because a workload's selector is
// immutable.
func SelectorLabels(app *appsv1alpha1.HighlyAvailableApp) map[string]string {
	return map[string]string{
		appsv1alpha1.LabelName:     app.Name,
		appsv1alpha1.LabelInstance: app.Name,
	}
}

// SelectorString is SelectorLabels in the label selector syntax, for the scale subresource.
func SelectorString(app *appsv1alpha1.HighlyAvailableApp) string {
	return fmt.Sprintf("%s=%s,%s=%s", appsv1alpha1.LabelInstance, app.Name, appsv1alpha1.LabelName, app.Name)
}

// PeerNames lists the stable DNS names of every ordinal of a Stateful app, in ordinal order.
func PeerNames(app *appsv1alpha1.HighlyAvailableApp, opts Options) []string {
	domain := opts.ClusterDomain
	if domain == "" {
		domain = DefaultClusterDomain
	}
	n := app.Spec.DesiredReplicas()
	names := make([]string, 0, n)
	for i := range n {
		names = append(names, fmt.Sprintf("%s-%d.%s.%s.svc.%s", app.Name, i, HeadlessServiceName(app), app.Namespace, domain))
	}
	return names
}

// PodTemplate is the app's template with the operator's additions of the newest generation of
// defaults (PodTemplateAt).
func PodTemplate(app *appsv1alpha1.HighlyAvailableApp, opts Options) corev1.PodTemplateSpec {
	return PodTemplateAt(app, opts, opts.DefaultsLevel())
}

// PodTemplateAt is the app's template with the operator's additions of the given generation of
// defaults: its labels; topology spread over zones and nodes; a preStop delay and a termination grace
// period where the template sets none; a readiness probe where a serving container has none; and what
// the app's type adds: for a Stateful app, the storage mounts and the peer-discovery environment; for
// a Job app, a restart policy. What the user set is kept: the operator only fills gaps.
func PodTemplateAt(app *appsv1alpha1.HighlyAvailableApp, opts Options, defaults int) corev1.PodTemplateSpec {
	switch app.Spec.AppType() {
	case appsv1alpha1.Stateful:
		return statefulTemplate(app, opts, defaults)
	case appsv1alpha1.Daemon:
		// A DaemonSet places one pod per node by itself; a spread constraint would only keep a node's
		// surge pod from starting beside the pod it replaces.
		return servingTemplate(app, "", defaults)
	case appsv1alpha1.Job:
		return jobTemplate(app)
	}
	// The Deployment's ReplicaSets label their pods with the template's hash.
	return servingTemplate(app, "pod-template-hash", defaults)
}

// servingTemplate is the base template of an app whose pods serve (not a Job's), with, from
// DefaultsReadinessProbe on, a readiness probe on the first declared port of each container that has
// none, unless availability.defaultProbes is false.
func servingTemplate(app *appsv1alpha1.HighlyAvailableApp, revisionKey string, defaults int) corev1.PodTemplateSpec {
	tpl := baseTemplate(app, revisionKey)
	if defaults >= DefaultsReadinessProbe && app.Spec.DefaultProbes() {
		for i := range tpl.Spec.Containers {
			addReadinessProbe(&tpl.Spec.Containers[i])
		}
	}
	return tpl
}

// DefaultProbePort is the port of a container's default readiness probe: its first TCP port (a UDP or
// SCTP port cannot answer a TCP probe); false when it declares none.
func DefaultProbePort(c *corev1.Container) (int32, bool) {
	for _, p := range c.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// addReadinessProbe gives a container that declares a TCP port and has no readiness probe a TCP probe
// on its first TCP port, so that it receives traffic only once it listens.
func addReadinessProbe(c *corev1.Container) {
	port, ok := DefaultProbePort(c)
	if c.ReadinessProbe != nil || !ok {
		return
	}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}},
		PeriodSeconds:    DefaultProbePeriodSeconds,
		TimeoutSeconds:   DefaultProbeTimeoutSeconds,
		SuccessThreshold: 1,
		FailureThreshold: DefaultProbeFailureThreshold,
	}
}

// baseTemplate is the app's template with the additions every type gets: the labels, graceful
// shutdown and, when revisionKey names the label that tells one revision's pods from another's, the
// topology spread.
func baseTemplate(app *appsv1alpha1.HighlyAvailableApp, revisionKey string) corev1.PodTemplateSpec {
	tpl := *app.Spec.Template.DeepCopy()
	labels := make(map[string]string, len(tpl.Labels)+3)
	maps.Copy(labels, tpl.Labels)
	maps.Copy(labels, Labels(app))
	tpl.Labels = labels

	spec := &tpl.Spec
	if len(spec.TopologySpreadConstraints) == 0 && revisionKey != "" {
		spec.TopologySpreadConstraints = spreadConstraints(app, revisionKey)
	}
	addGracefulShutdown(app, spec)
	return tpl
}

// statefulTemplate adds the storage mounts and the peer-discovery environment; the StatefulSet labels
// its pods with their revision as controller-revision-hash.
func statefulTemplate(app *appsv1alpha1.HighlyAvailableApp, opts Options, defaults int) corev1.PodTemplateSpec {
	tpl := servingTemplate(app, "controller-revision-hash", defaults)
	spec := &tpl.Spec
	addStorageMounts(app, spec)
	peers := strings.Join(PeerNames(app, opts), ",")
	for i := range spec.InitContainers {
		addPeerEnv(&spec.InitContainers[i], peers)
	}
	for i := range spec.Containers {
		addPeerEnv(&spec.Containers[i], peers)
	}
	return tpl
}

// jobTemplate spreads the pods of one run when several run at once, and restarts a failed container
// in place unless the template says otherwise.
func jobTemplate(app *appsv1alpha1.HighlyAvailableApp) corev1.PodTemplateSpec {
	revisionKey := ""
	if app.Spec.Parallelism() > 1 {
		// Only the pods of the same run count.
		revisionKey = batchv1.ControllerUidLabel
	}
	tpl := baseTemplate(app, revisionKey)
	if tpl.Spec.RestartPolicy == "" {
		// A Job refuses Always; OnFailure retries a failed container in place, as a Job usually wants.
		tpl.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	return tpl
}

// spreadConstraints spreads pods over zones as far as the cluster allows (ScheduleAnyway, so that a
// one-zone cluster still schedules; status reports the zones reached) and strictly over nodes (a
// skew of one can always be met by the least loaded node). Tainted and cordoned nodes do not count as
// places to spread to, so a lost zone or a drain does not block the replacement pods. Only pods of the
// same revision count (revisionKey), so a rolling update spreads its new pods afresh.
func spreadConstraints(app *appsv1alpha1.HighlyAvailableApp, revisionKey string) []corev1.TopologySpreadConstraint {
	policy := app.Spec.SpreadPolicy()
	if policy == appsv1alpha1.SpreadNone {
		return nil
	}
	honor := corev1.NodeInclusionPolicyHonor
	constraint := func(key string, when corev1.UnsatisfiableConstraintAction) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{
			MaxSkew:            1,
			TopologyKey:        key,
			WhenUnsatisfiable:  when,
			LabelSelector:      selector(app),
			MatchLabelKeys:     []string{revisionKey},
			NodeAffinityPolicy: &honor,
			NodeTaintsPolicy:   &honor,
		}
	}
	var out []corev1.TopologySpreadConstraint
	if policy == appsv1alpha1.SpreadZone {
		out = append(out, constraint(ZoneTopologyKey, corev1.ScheduleAnyway))
	}
	return append(out, constraint(NodeTopologyKey, corev1.DoNotSchedule))
}

// addGracefulShutdown gives every container without a preStop hook a sleep, so that the pod leaves
// the Service's endpoints before it stops serving, and sets a grace period that covers it. A grace
// period the template sets itself is kept, and the sleep is cut to fit in it: the API server refuses a
// preStop sleep longer than the pod's grace period.
func addGracefulShutdown(app *appsv1alpha1.HighlyAvailableApp, spec *corev1.PodSpec) {
	delay := int64(app.Spec.PreStopDelaySeconds())
	if spec.TerminationGracePeriodSeconds != nil {
		delay = min(delay, *spec.TerminationGracePeriodSeconds)
	}
	if delay > 0 {
		for i := range spec.Containers {
			c := &spec.Containers[i]
			if c.Lifecycle == nil {
				c.Lifecycle = &corev1.Lifecycle{}
			}
			if c.Lifecycle.PreStop == nil {
				c.Lifecycle.PreStop = &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: delay}}
			}
		}
	}
	if spec.TerminationGracePeriodSeconds == nil {
		grace := delay + app.Spec.ShutdownSeconds()
		spec.TerminationGracePeriodSeconds = &grace
	}
}

// addStorageMounts mounts each storage entry into the containers it names (every container when it
// names none), unless the container already mounts a volume of that name.
func addStorageMounts(app *appsv1alpha1.HighlyAvailableApp, spec *corev1.PodSpec) {
	for _, st := range app.Spec.Storage {
		for i := range spec.Containers {
			c := &spec.Containers[i]
			if len(st.Containers) > 0 && !slices.Contains(st.Containers, c.Name) {
				continue
			}
			if hasMount(c, st.Name) {
				continue
			}
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: st.Name, MountPath: st.MountPath})
		}
	}
}

// addPeerEnv adds the peer-discovery variables the container does not set itself. They come first,
// so that the user's own variables can refer to them: CASSANDRA_SEEDS: $(HA_PEERS).
func addPeerEnv(c *corev1.Container, peers string) {
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	var env []corev1.EnvVar
	for _, v := range []corev1.EnvVar{
		{Name: EnvPodName, ValueFrom: field("metadata.name")},
		{Name: EnvPodNamespace, ValueFrom: field("metadata.namespace")},
		{Name: EnvPodIP, ValueFrom: field("status.podIP")},
		{Name: EnvPeers, Value: peers},
	} {
		if !hasEnv(c, v.Name) {
			env = append(env, v)
		}
	}
	c.Env = append(env, c.Env...)
}

func hasEnv(c *corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func hasMount(c *corev1.Container, name string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return true
		}
	}
	return false
}
