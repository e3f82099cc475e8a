package workload

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func daemonApp(mutate ...func(*appsv1alpha1.HighlyAvailableApp)) *appsv1alpha1.HighlyAvailableApp {
	return webApp(append([]func(*appsv1alpha1.HighlyAvailableApp){func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Type = appsv1alpha1.Daemon
	}}, mutate...)...)
}

func jobApp(mutate ...func(*appsv1alpha1.HighlyAvailableApp)) *appsv1alpha1.HighlyAvailableApp {
	return webApp(append([]func(*appsv1alpha1.HighlyAvailableApp){func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Type = appsv1alpha1.Job
		a.Spec.Template.Spec.Containers[0].Ports = nil
	}}, mutate...)...)
}

func TestDaemonSetUpdateStrategy(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		rollout                  *appsv1alpha1.RolloutSpec
		wantSurge, wantUnavailab intstr.IntOrString
	}{
		{"defaults: a node's new pod starts before its old one stops", nil, intstr.FromInt32(1), intstr.FromInt32(0)},
		{"the app's own", &appsv1alpha1.RolloutSpec{MaxSurge: new(intstr.FromInt32(0)), MaxUnavailable: new(intstr.FromString("10%"))},
			intstr.FromInt32(0), intstr.FromString("10%")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := daemonApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Rollout = tc.rollout })
			ru := DaemonSet(app, PodTemplate(app, Options{})).Spec.UpdateStrategy.RollingUpdate
			if *ru.MaxSurge != tc.wantSurge || *ru.MaxUnavailable != tc.wantUnavailab {
				t.Errorf("maxSurge %v maxUnavailable %v, want %v and %v", ru.MaxSurge, ru.MaxUnavailable, tc.wantSurge, tc.wantUnavailab)
			}
		})
	}
}

func TestDaemonPodTemplateKeepsHADefaults(t *testing.T) {
	tpl := PodTemplate(daemonApp(), Options{})
	if tpl.Spec.Containers[0].Lifecycle == nil || tpl.Spec.Containers[0].Lifecycle.PreStop == nil {
		t.Error("no preStop delay on the daemon's container")
	}
	if tpl.Spec.TerminationGracePeriodSeconds == nil || *tpl.Spec.TerminationGracePeriodSeconds != 35 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 35", tpl.Spec.TerminationGracePeriodSeconds)
	}
	if tpl.Spec.RestartPolicy != "" {
		t.Errorf("restartPolicy = %q, want the pod default (Always)", tpl.Spec.RestartPolicy)
	}
}

func TestDaemonService(t *testing.T) {
	svc := DaemonService(daemonApp())
	if svc == nil {
		t.Fatal("no Service although the container declares port 80")
	}
	if p := svc.Spec.InternalTrafficPolicy; p == nil || *p != corev1.ServiceInternalTrafficPolicyLocal {
		t.Errorf("internalTrafficPolicy = %v, want Local", p)
	}
	noPorts := daemonApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Ports = nil })
	if svc := DaemonService(noPorts); svc != nil {
		t.Errorf("Service = %v, want none without ports", svc)
	}
}

func TestJobRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  corev1.RestartPolicy
		want corev1.RestartPolicy
	}{
		{"unset defaults to OnFailure", "", corev1.RestartPolicyOnFailure},
		{"Never is kept", corev1.RestartPolicyNever, corev1.RestartPolicyNever},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := jobApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.RestartPolicy = tc.set })
			if got := Job(app, PodTemplate(app, Options{}), 1).Spec.Template.Spec.RestartPolicy; got != tc.want {
				t.Errorf("restartPolicy = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestJobSpread(t *testing.T) {
	for _, tc := range []struct {
		name        string
		parallelism *int32
		wantKeys    []string
	}{
		{"one pod at a time: nothing to spread", nil, nil},
		{"parallel pods spread over zones and nodes, counting only the same run",
			new(int32(3)), []string{ZoneTopologyKey, NodeTopologyKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := jobApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Job = &appsv1alpha1.JobSpec{Parallelism: tc.parallelism}
			})
			got := PodTemplate(app, Options{}).Spec.TopologySpreadConstraints
			if len(got) != len(tc.wantKeys) {
				t.Fatalf("constraints = %v, want keys %v", got, tc.wantKeys)
			}
			for i, c := range got {
				if c.TopologyKey != tc.wantKeys[i] || len(c.MatchLabelKeys) != 1 || c.MatchLabelKeys[0] != batchv1.ControllerUidLabel {
					t.Errorf("constraint %d = %+v, want key %s matching %s", i, c, tc.wantKeys[i], batchv1.ControllerUidLabel)
				}
			}
		})
	}
}

func TestRunName(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, tc := range []struct {
		app  string
		run  int64
		want string
	}{
		{"pi", 1, "pi-1"},
		{"pi", 12, "pi-12"},
		{long, 7, strings.Repeat("a", 61) + "-7"},
		{strings.Repeat("a", 59) + "-bcd", 123, strings.Repeat("a", 59) + "-123"},
	} {
		app := jobApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Name = tc.app })
		got := RunName(app, tc.run)
		if got != tc.want || len(got) > 63 {
			t.Errorf("RunName(%s, %d) = %q, want %q", tc.app, tc.run, got, tc.want)
		}
	}
}

func TestCronJob(t *testing.T) {
	app := jobApp(func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Name = strings.Repeat("c", 60)
		a.Spec.Job = &appsv1alpha1.JobSpec{Schedule: "*/5 * * * *", ActiveDeadlineSeconds: new(int64(20)), Completions: new(int32(2))}
	})
	cj := CronJob(app, PodTemplate(app, Options{}))
	if cj.Name != strings.Repeat("c", 52) {
		t.Errorf("name = %q, want the app's name cut to 52 characters", cj.Name)
	}
	if cj.Spec.Schedule != "*/5 * * * *" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("schedule %q concurrencyPolicy %q, want */5 * * * * and Forbid", cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
	}
	js := cj.Spec.JobTemplate.Spec
	if *js.ActiveDeadlineSeconds != 20 || *js.Completions != 2 || js.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("job template = %+v", js)
	}
	*js.Completions = 9
	if *app.Spec.Job.Completions != 2 {
		t.Error("changing the CronJob changed the app's spec")
	}
}
