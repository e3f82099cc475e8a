package advice

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
)

// goodContainer follows every practice: a pinned image, a port, a readiness probe of its own and
// CPU and memory requests.
func goodContainer(name string) corev1.Container {
	return corev1.Container{
		Name:  name,
		Image: "nginx:1.27.2",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")},
		}},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
		}},
	}
}

// goodApp is an app of the type with one good container, web; a Job app has a deadline.
func goodApp(appType appsv1alpha1.AppType) *appsv1alpha1.HighlyAvailableApp {
	app := &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod"},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appType,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{goodContainer("web")}}},
		},
	}
	if appType == appsv1alpha1.Job {
		app.Spec.Job = &appsv1alpha1.JobSpec{ActiveDeadlineSeconds: new(int64(600))}
	}
	return app
}

// withWeb is a good app of the type whose container web is changed by mutate.
func withWeb(appType appsv1alpha1.AppType, mutate func(*corev1.Container)) *appsv1alpha1.HighlyAvailableApp {
	app := goodApp(appType)
	mutate(&app.Spec.Template.Spec.Containers[0])
	return app
}

// containerCase is one case of a per-container rule's table: the rule runs on the app's first
// container.
type containerCase struct {
	name    string
	app     *appsv1alpha1.HighlyAvailableApp
	applies bool
	// says are parts of the message: what is wrong and what to change.
	says []string
}

// runContainerCases runs a per-container rule's table: the rule applies or not as the case says,
// with its name as the reason and a message that names the container and says what the case says.
func runContainerCases(t *testing.T, rule string, f check.Func[containerInput], cases []containerCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &tc.app.Spec.Template.Spec.Containers[0]
			reason, message, applies := f(containerInput{App: tc.app, Container: c})
			assertResult(t, rule, reason, message, applies, tc.applies, append([]string{"container " + c.Name}, tc.says...))
		})
	}
}

// appCase is one case of a whole-app rule's table.
type appCase struct {
	name    string
	in      Input
	applies bool
	says    []string
}

func runAppCases(t *testing.T, rule string, f check.Func[Input], cases []appCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reason, message, applies := f(tc.in)
			assertResult(t, rule, reason, message, applies, tc.applies, tc.says)
		})
	}
}

func assertResult(t *testing.T, rule, reason, message string, applies, want bool, says []string) {
	t.Helper()
	if applies != want {
		t.Fatalf("applies = %v, want %v (reason %q, message %q)", applies, want, reason, message)
	}
	if !applies {
		if reason != "" || message != "" {
			t.Errorf("a rule that does not apply said %q %q", reason, message)
		}
		return
	}
	if reason != rule {
		t.Errorf("reason %q, want %q", reason, rule)
	}
	for _, s := range says {
		if !strings.Contains(message, s) {
			t.Errorf("message does not say %q:\n%s", s, message)
		}
	}
}

func assertNotSaid(t *testing.T, message, s string) {
	t.Helper()
	if strings.Contains(message, s) {
		t.Errorf("message says %q:\n%s", s, message)
	}
}
