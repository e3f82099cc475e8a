package advice

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// noDefaults is the app with spec.availability.defaultProbes false.
func noDefaults(app *appsv1alpha1.HighlyAvailableApp) *appsv1alpha1.HighlyAvailableApp {
	app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{DefaultProbes: new(false)}
	return app
}

func httpProbe(path string, port intstr.IntOrString) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}}
}

func noReadiness(c *corev1.Container) { c.ReadinessProbe = nil }
func noPorts(c *corev1.Container)     { c.ReadinessProbe, c.Ports = nil, nil }
func livenessOnly(c *corev1.Container) {
	c.LivenessProbe, c.ReadinessProbe = httpProbe("/healthz", intstr.FromInt32(8080)), nil
}
func livenessOnlyNoPorts(c *corev1.Container) { livenessOnly(c); c.Ports = nil }

func TestNoReadinessProbe(t *testing.T) {
	runContainerCases(t, NoReadinessProbe, checkNoReadinessProbe, []containerCase{
		{name: "a readiness probe of its own", app: goodApp(appsv1alpha1.Stateless)},
		{name: "a port and the default on: the operator gives it one", app: withWeb(appsv1alpha1.Stateless, noReadiness)},
		{name: "the default off", app: noDefaults(withWeb(appsv1alpha1.Stateless, noReadiness)), applies: true,
			says: []string{"spec.availability.defaultProbes is false", "add a readinessProbe"}},
		{name: "the default off, with a probe of its own", app: noDefaults(goodApp(appsv1alpha1.Stateless))},
		{name: "no port", app: withWeb(appsv1alpha1.Stateless, noPorts), applies: true,
			says: []string{"declares no TCP port", "add a readinessProbe"}},
		{name: "Stateful, no port", app: withWeb(appsv1alpha1.Stateful, noPorts), applies: true},
		{name: "UDP ports alone: the default TCP probe has none to check", app: withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			noReadiness(c)
			c.Ports = []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
		}), applies: true, says: []string{"declares no TCP port"}},
		{name: "Daemon, the default off", app: noDefaults(withWeb(appsv1alpha1.Daemon, noReadiness)), applies: true},
		{name: "a Job serves no traffic", app: withWeb(appsv1alpha1.Job, noPorts)},
		// LivenessWithoutReadiness says it, better.
		{name: "a liveness probe", app: withWeb(appsv1alpha1.Stateless, livenessOnlyNoPorts)},
		{name: "only a startup probe", app: withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			noPorts(c)
			c.StartupProbe = httpProbe("/healthz", intstr.FromInt32(8080))
		}), applies: true},
	})
}

func TestLivenessWithoutReadiness(t *testing.T) {
	runContainerCases(t, LivenessWithoutReadiness, checkLivenessWithoutReadiness, []containerCase{
		{name: "both probes", app: withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			c.LivenessProbe = httpProbe("/healthz", intstr.FromInt32(8080))
		})},
		{name: "no probe at all", app: withWeb(appsv1alpha1.Stateless, noPorts)},
		{name: "the operator adds its readiness probe", app: withWeb(appsv1alpha1.Stateless, livenessOnly)},
		{name: "no port", app: withWeb(appsv1alpha1.Stateless, livenessOnlyNoPorts), applies: true,
			says: []string{"liveness probe but no readiness probe", "declares no TCP port", "add a readinessProbe"}},
		{name: "the default off", app: noDefaults(withWeb(appsv1alpha1.Stateful, livenessOnly)), applies: true,
			says: []string{"defaultProbes is false"}},
		{name: "a Job", app: withWeb(appsv1alpha1.Job, livenessOnlyNoPorts)},
	})
}

func TestIdenticalProbes(t *testing.T) {
	same := func(mutate func(live *corev1.Probe)) *appsv1alpha1.HighlyAvailableApp {
		return withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			c.LivenessProbe = c.ReadinessProbe.DeepCopy()
			mutate(c.LivenessProbe)
		})
	}
	says := []string{"liveness probe identical to its readiness probe", "more tolerant"}
	runContainerCases(t, IdenticalProbes, checkIdenticalProbes, []containerCase{
		{name: "only readiness", app: goodApp(appsv1alpha1.Stateless)},
		{name: "a copy", app: same(func(*corev1.Probe) {}), applies: true, says: says},
		{name: "defaults written out and the port by number", app: same(func(p *corev1.Probe) {
			p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold = 1, 10, 1, 3
			p.HTTPGet.Port = intstr.FromInt32(8080)
			p.HTTPGet.Scheme = corev1.URISchemeHTTP
		}), applies: true, says: says},
		{name: "only the liveness grace period differs", app: same(func(p *corev1.Probe) {
			p.TerminationGracePeriodSeconds = new(int64(5))
		}), applies: true},
		{name: "a higher failure threshold", app: same(func(p *corev1.Probe) { p.FailureThreshold = 6 })},
		{name: "a longer timeout", app: same(func(p *corev1.Probe) { p.TimeoutSeconds = 5 })},
		{name: "another path", app: same(func(p *corev1.Probe) { p.HTTPGet.Path = "/healthz" })},
		{name: "another port", app: same(func(p *corev1.Probe) { p.HTTPGet.Port = intstr.FromInt32(9090) })},
		{name: "a TCP check of the same port", app: same(func(p *corev1.Probe) {
			p.HTTPGet, p.TCPSocket = nil, &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}
		})},
		{name: "the same exec command", app: withWeb(appsv1alpha1.Daemon, func(c *corev1.Container) {
			exec := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/check"}}}
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: exec, PeriodSeconds: 5}
			c.LivenessProbe = &corev1.Probe{ProbeHandler: *exec.DeepCopy(), PeriodSeconds: 5}
		}), applies: true},
		{name: "the root path unset and written out", app: withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			c.ReadinessProbe = httpProbe("", intstr.FromInt32(8080))
			c.LivenessProbe = httpProbe("/", intstr.FromInt32(8080))
		}), applies: true},
	})
}

func TestLongInitialDelay(t *testing.T) {
	delayed := func(liveness, readiness int32, startup bool) *appsv1alpha1.HighlyAvailableApp {
		return withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			c.LivenessProbe = httpProbe("/healthz", intstr.FromInt32(8080))
			c.LivenessProbe.InitialDelaySeconds = liveness
			c.ReadinessProbe.InitialDelaySeconds = readiness
			if startup {
				c.StartupProbe = httpProbe("/healthz", intstr.FromInt32(8080))
			}
		})
	}
	runContainerCases(t, LongInitialDelay, checkLongInitialDelay, []containerCase{
		{name: "short delays", app: delayed(10, 29, false)},
		{name: "a long liveness delay", app: delayed(30, 0, false), applies: true,
			says: []string{"liveness probe waits 30s", "restarted in a loop", "add a startupProbe"}},
		{name: "a long readiness delay", app: delayed(0, 120, false), applies: true,
			says: []string{"readiness probe waits 120s", "out of the Service", "add a startupProbe"}},
		{name: "both", app: delayed(60, 60, false), applies: true,
			says: []string{"liveness probe waits 60s and its readiness probe waits 60s"}},
		{name: "a startup probe covers the start", app: delayed(60, 60, true)},
		{name: "a Job's liveness probe", app: func() *appsv1alpha1.HighlyAvailableApp {
			app := delayed(45, 0, false)
			app.Spec.Type = appsv1alpha1.Job
			return app
		}(), applies: true},
	})
}
