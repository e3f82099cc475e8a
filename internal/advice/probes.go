package advice

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

// longInitialDelaySeconds is where an initialDelaySeconds counts as a guess at the start-up time
// that a startup probe should replace: 30 seconds is the whole failure window of a probe of the
// defaults (failureThreshold 3 × periodSeconds 10), so a delay that long waits out more than the
// probe itself would tolerate.
const longInitialDelaySeconds = 30

// Probe defaults of the API server (pkg/apis/core/v1/defaults.go), so that a field left unset and
// the same value set explicitly compare equal.
const (
	defaultTimeoutSeconds   = 1
	defaultPeriodSeconds    = 10
	defaultSuccessThreshold = 1
	defaultFailureThreshold = 3
)

// servesTraffic tells whether readiness means anything for the app's pods: a Job's pods are behind
// no Service and no rollout waits for them to be ready.
func servesTraffic(app *appsv1alpha1.HighlyAvailableApp) bool {
	return app.Spec.AppType() != appsv1alpha1.Job
}

// noDefaultReadiness says why the operator gives the container no readiness probe of its own
// (spec.availability.defaultProbes: a TCP probe on the first declared port of a container that has
// none), or "" when it gives it one. The container has no readiness probe of its own.
func noDefaultReadiness(in containerInput) string {
	switch {
	case !in.App.Spec.DefaultProbes():
		return "spec.availability.defaultProbes is false"
	case !hasProbePort(in.Container):
		return "it declares no TCP port, so the operator cannot give it its default TCP probe"
	}
	return ""
}

// checkNoReadinessProbe: a container that serves (Stateless, Stateful, Daemon) without a readiness
// probe of its own or of the operator's. A container with a liveness probe gets
// LivenessWithoutReadiness instead, which says more.
func checkNoReadinessProbe(in containerInput) (string, string, bool) {
	c := in.Container
	if !servesTraffic(in.App) || c.ReadinessProbe != nil || c.LivenessProbe != nil {
		return "", "", false
	}
	why := noDefaultReadiness(in)
	if why == "" {
		return "", "", false
	}
	return NoReadinessProbe, fmt.Sprintf("%s has no readiness probe and %s: its pods count as ready as soon "+
		"as the container starts, so a rollout moves on to the next pods, and Services send them traffic, before "+
		"the app serves; "+
		"add a readinessProbe (an httpGet on its health endpoint, or a tcpSocket on the port it serves on)",
		in.what(), why), true
}

// checkLivenessWithoutReadiness: a liveness probe and no readiness probe, of its own or of the
// operator's, on a container that serves.
func checkLivenessWithoutReadiness(in containerInput) (string, string, bool) {
	c := in.Container
	if !servesTraffic(in.App) || c.LivenessProbe == nil || c.ReadinessProbe != nil {
		return "", "", false
	}
	why := noDefaultReadiness(in)
	if why == "" {
		return "", "", false
	}
	return LivenessWithoutReadiness, fmt.Sprintf("%s has a liveness probe but no readiness probe, and %s: "+
		"its pods count as ready as soon as the container starts, so a rollout moves on before the app serves, "+
		"and a pod that cannot keep up is restarted instead of being taken out of the Service for a while; add a "+
		"readinessProbe that fails while the app cannot serve (an httpGet on its health endpoint)", in.what(), why), true
}

// checkIdenticalProbes: the liveness probe checks the same thing with the same timings as the
// readiness probe, once the API server's defaults are filled in and named ports resolved.
func checkIdenticalProbes(in containerInput) (string, string, bool) {
	c := in.Container
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		return "", "", false
	}
	if !apiequality.Semantic.DeepEqual(normalProbe(c, c.LivenessProbe), normalProbe(c, c.ReadinessProbe)) {
		return "", "", false
	}
	return IdenticalProbes, fmt.Sprintf("%s has a liveness probe identical to its readiness probe: when the "+
		"app is only busy, both fail at once and the kubelet restarts the container instead of just taking it "+
		"out of the Service, which moves its load to the other pods, which may then be restarted in turn; make "+
		"the liveness probe more tolerant (a higher failureThreshold or timeoutSeconds) or have it check only "+
		"that the process is alive", in.what()), true
}

// normalProbe is the probe with the API server's defaults filled in, named ports resolved to the
// container's numbers, and terminationGracePeriodSeconds (a liveness-only field) dropped.
func normalProbe(c *corev1.Container, p *corev1.Probe) *corev1.Probe {
	n := p.DeepCopy()
	n.TerminationGracePeriodSeconds = nil
	orDefault := func(v *int32, def int32) {
		if *v == 0 {
			*v = def
		}
	}
	orDefault(&n.TimeoutSeconds, defaultTimeoutSeconds)
	orDefault(&n.PeriodSeconds, defaultPeriodSeconds)
	orDefault(&n.SuccessThreshold, defaultSuccessThreshold)
	orDefault(&n.FailureThreshold, defaultFailureThreshold)
	if h := n.HTTPGet; h != nil {
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Scheme == "" {
			h.Scheme = corev1.URISchemeHTTP
		}
		h.Port = portNumber(c, h.Port)
	}
	if t := n.TCPSocket; t != nil {
		t.Port = portNumber(c, t.Port)
	}
	if g := n.GRPC; g != nil && g.Service != nil && *g.Service == "" {
		g.Service = nil
	}
	return n
}

// portNumber resolves a named port to the number the container declares for it; a number, or a
// name the container does not declare, stays as it is.
func portNumber(c *corev1.Container, port intstr.IntOrString) intstr.IntOrString {
	if port.Type != intstr.String {
		return port
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return intstr.FromInt32(p.ContainerPort)
		}
	}
	return port
}

// checkLongInitialDelay: a liveness or readiness probe that waits longInitialDelaySeconds or more,
// in a container without a startup probe.
func checkLongInitialDelay(in containerInput) (string, string, bool) {
	c := in.Container
	if c.StartupProbe != nil {
		return "", "", false
	}
	var long, costs []string
	if p := c.LivenessProbe; p != nil && p.InitialDelaySeconds >= longInitialDelaySeconds {
		long = append(long, fmt.Sprintf("its liveness probe waits %ds", p.InitialDelaySeconds))
		costs = append(costs, "a liveness delay is a guess at the start-up time, so a start that gets slower "+
			"is restarted in a loop, and one that hangs goes unnoticed that long")
	}
	if p := c.ReadinessProbe; p != nil && p.InitialDelaySeconds >= longInitialDelaySeconds {
		long = append(long, fmt.Sprintf("its readiness probe waits %ds", p.InitialDelaySeconds))
		costs = append(costs, "a readiness delay keeps every new pod out of the Service that long even when "+
			"it starts fast, and so slows every rollout")
	}
	if len(long) == 0 {
		return "", "", false
	}
	return LongInitialDelay, fmt.Sprintf("%s has no startup probe and %s before its first check "+
		"(initialDelaySeconds): %s; add a startupProbe on the same check (periodSeconds 5, failureThreshold × "+
		"periodSeconds longer than the slowest start) and drop initialDelaySeconds",
		in.what(), strings.Join(long, " and "), strings.Join(costs, ", and ")), true
}

// hasProbePort tells whether the operator's default probe has a port to check (workload.DefaultProbePort).
func hasProbePort(c *corev1.Container) bool {
	_, ok := workload.DefaultProbePort(c)
	return ok
}
