package advice

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestNoResourceRequests(t *testing.T) {
	list := func(kv ...string) corev1.ResourceList {
		out := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return out
	}
	with := func(requests, limits corev1.ResourceList) *appsv1alpha1.HighlyAvailableApp {
		return withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) {
			c.Resources = corev1.ResourceRequirements{Requests: requests, Limits: limits}
		})
	}
	podLevel := func(app *appsv1alpha1.HighlyAvailableApp, requests corev1.ResourceList) *appsv1alpha1.HighlyAvailableApp {
		app.Spec.Template.Spec.Resources = &corev1.ResourceRequirements{Requests: requests}
		return app
	}
	runContainerCases(t, NoResourceRequests, checkNoResourceRequests, []containerCase{
		{name: "both", app: goodApp(appsv1alpha1.Stateless)},
		{name: "none", app: with(nil, nil), applies: true,
			says: []string{"requests no CPU and no memory", "first evicted", "resources.requests.cpu and resources.requests.memory"}},
		{name: "no memory", app: with(list("cpu", "10m"), nil), applies: true,
			says: []string{"requests no memory:", "set resources.requests.memory to"}},
		{name: "no CPU", app: with(list("memory", "1Gi"), nil), applies: true,
			says: []string{"requests no CPU:", "set resources.requests.cpu to"}},
		{name: "limits stand for requests", app: with(nil, list("cpu", "1", "memory", "1Gi"))},
		{name: "a CPU limit and a memory request", app: with(list("memory", "1Gi"), list("cpu", "1"))},
		{name: "a request of zero", app: with(list("cpu", "0", "memory", "1Gi"), nil), applies: true,
			says: []string{"requests no CPU:"}},
		{name: "requests of the pod as a whole", app: podLevel(with(nil, nil), list("cpu", "1", "memory", "1Gi"))},
		{name: "the pod's CPU, no memory anywhere", app: podLevel(with(nil, nil), list("cpu", "1")), applies: true,
			says: []string{"requests no memory:"}},
		{name: "a Job too", app: withWeb(appsv1alpha1.Job, func(c *corev1.Container) { c.Resources = corev1.ResourceRequirements{} }),
			applies: true},
	})
}
