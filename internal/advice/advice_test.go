package advice

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// keys are what identifies one piece of advice: its rule and container.
func keys(advice []appsv1alpha1.Advice) []string {
	out := make([]string, 0, len(advice))
	for _, a := range advice {
		out = append(out, a.Rule+"/"+a.Container)
	}
	return out
}

func TestForNothingApplies(t *testing.T) {
	for _, appType := range []appsv1alpha1.AppType{appsv1alpha1.Stateless, appsv1alpha1.Stateful, appsv1alpha1.Daemon, appsv1alpha1.Job} {
		if got := For(Input{App: goodApp(appType)}); got != nil {
			t.Errorf("%s: %+v, want nil", appType, got)
		}
	}
	if got := For(Input{}); got != nil {
		t.Errorf("no app: %+v", got)
	}
}

// brokenStateful breaks every rule a Stateful app can break, in two containers and an init container.
func brokenStateful() Input {
	app := goodApp(appsv1alpha1.Stateful)
	app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{DefaultProbes: new(false)}
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data"}}
	spec := &app.Spec.Template.Spec
	web := &spec.Containers[0]
	web.Image = "nginx:latest"
	web.Command = []string{"/bin/sh", "-c", "nginx -g 'daemon off;'"}
	web.LivenessProbe = web.ReadinessProbe.DeepCopy()
	web.LivenessProbe.InitialDelaySeconds, web.ReadinessProbe.InitialDelaySeconds = 60, 60
	agent := corev1.Container{Name: "agent", Image: "registry:5000/agent",
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(9000)}}}}
	cache := corev1.Container{Name: "cache", Image: "redis:7.4"}
	spec.Containers = append(spec.Containers, cache, agent)
	spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Command: []string{"sh", "-c", "sleep 1"}}}
	immediate := storagev1.VolumeBindingImmediate
	return Input{App: app, StorageClasses: []storagev1.StorageClass{
		asDefault(class("standard", "local.haoperator.dev/zonal", &immediate), time.Time{}),
	}}
}

func TestForSortedByRuleThenContainer(t *testing.T) {
	got := For(brokenStateful())
	want := []string{
		"IdenticalProbes/web",
		"ImmediateZonalStorage/",
		"LivenessWithoutReadiness/agent",
		"LongInitialDelay/web",
		"MutableImage/agent",
		"MutableImage/init",
		"MutableImage/web",
		"NoReadinessProbe/cache",
		"NoResourceRequests/agent",
		"NoResourceRequests/cache",
		"ShellAsPID1/web",
	}
	if !slices.Equal(keys(got), want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(keys(got), "\n"), strings.Join(want, "\n"))
	}
	for _, a := range got {
		if a.Container != "" && !regexp.MustCompile(`\bcontainer `+a.Container+`\b`).MatchString(a.Message) {
			t.Errorf("%s/%s: the message does not name the container: %s", a.Rule, a.Container, a.Message)
		}
	}
}

// TestForDeterministic: the order of the StorageClasses and of the rules' inputs changes nothing,
// and the input is not changed.
func TestForDeterministic(t *testing.T) {
	in := brokenStateful()
	in.StorageClasses = append(in.StorageClasses, class("other", "ebs.csi.aws.com", nil), class("b", "nfs", nil))
	before := in.App.DeepCopy()
	first := For(in)
	slices.Reverse(in.StorageClasses)
	if again := For(in); !slices.Equal(first, again) {
		t.Errorf("another order of classes gave\n%+v\nthen\n%+v", first, again)
	}
	if !apiequality.Semantic.DeepEqual(before, in.App) {
		t.Error("For changed the app")
	}
}

// TestEveryRuleApplies: each rule of the API is reached by some app, and only the rules of the API
// are.
func TestEveryRuleApplies(t *testing.T) {
	job := goodApp(appsv1alpha1.Job)
	job.Spec.Job = nil
	seen := map[string]bool{}
	for _, a := range append(For(brokenStateful()), For(Input{App: job})...) {
		seen[a.Rule] = true
	}
	for _, r := range rules {
		if !seen[r] {
			t.Errorf("rule %s never applied", r)
		}
		delete(seen, r)
	}
	for r := range seen {
		t.Errorf("rule %s is not in the list of rules", r)
	}
}

// TestMessageShape: every message says what is wrong, then after ": " why it matters, then after
// "; " what to change, so that a short view (kubectl haapp get) can show what comes before the
// first ": ". The first part names the container, or for the whole app the field or storage.
func TestMessageShape(t *testing.T) {
	job := goodApp(appsv1alpha1.Job)
	job.Spec.Job = nil
	for _, a := range append(For(brokenStateful()), For(Input{App: job})...) {
		what, rest, ok := strings.Cut(a.Message, ": ")
		if !ok || !strings.Contains(rest, "; ") {
			t.Errorf("%s/%s: not what: why; change: %s", a.Rule, a.Container, a.Message)
			continue
		}
		if a.Container != "" && !strings.HasPrefix(strings.TrimPrefix(what, "init "), "container "+a.Container+" ") {
			t.Errorf("%s/%s: the first part does not begin with the container: %s", a.Rule, a.Container, what)
		}
	}
}
