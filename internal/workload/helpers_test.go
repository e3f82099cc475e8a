package workload

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// webApp is a Stateless app webName in namespace "shop" with one container webName serving http on 80,
// as the API server would store it before defaulting; mutate adjusts it per case.
func webApp(mutate ...func(*appsv1alpha1.HighlyAvailableApp)) *appsv1alpha1.HighlyAvailableApp {
	app := &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: webName, Namespace: "shop", Generation: 1},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{labelTier: tierFrontend}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: webName, Image: "nginx:1.27",
					Ports: []corev1.ContainerPort{{Name: portHTTP, ContainerPort: 80}},
				}}},
			},
		},
	}
	for _, m := range mutate {
		m(app)
	}
	return app
}

// dbApp is a Stateful app "db" in namespace volData with one container "db" on 5432 and one storage
// entry volData at /var/lib/db.
func dbApp(mutate ...func(*appsv1alpha1.HighlyAvailableApp)) *appsv1alpha1.HighlyAvailableApp {
	app := webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Name, a.Namespace = "db", volData
		a.Spec.Type = appsv1alpha1.Stateful
		a.Spec.Template.Spec.Containers = []corev1.Container{{
			Name: "db", Image: "postgres:17",
			Ports: []corev1.ContainerPort{{Name: "pg", ContainerPort: 5432}},
		}}
		a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: volData, MountPath: "/var/lib/db", Size: resource.MustParse("1Gi")}}
	})
	for _, m := range mutate {
		m(app)
	}
	return app
}

func withReplicas(n int32) func(*appsv1alpha1.HighlyAvailableApp) {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = new(n) }
}

func withAvailability(av appsv1alpha1.AvailabilitySpec) func(*appsv1alpha1.HighlyAvailableApp) {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Availability = &av }
}

func withAutoscaling(as appsv1alpha1.AutoscalingSpec) func(*appsv1alpha1.HighlyAvailableApp) {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Autoscaling = &as }
}

func withRollout(r appsv1alpha1.RolloutSpec) func(*appsv1alpha1.HighlyAvailableApp) {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Rollout = &r }
}

func intOrString(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

// assertEqual fails with a readable diff when got and want differ semantically (quantities by value).
func assertEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s differs (-want +got):\n%s", what, diff.Diff(want, got))
	}
}

// Names the tests use again and again.
const (
	webName          = "web"
	tierFrontend     = "frontend"
	portHTTP         = "http"
	volData          = "data"
	containerMetrics = "metrics"
	containerBackup  = "backup"
	changedValue     = "changed"
	kindDeployment   = "Deployment"
	labelTier        = "tier"
	appsV1           = "apps/v1"
)

// workloadKind is the kind of the workload an autoscaler of the app targets, as its type's driver
// names it.
func workloadKind(app *appsv1alpha1.HighlyAvailableApp) string {
	if app.Spec.AppType() == appsv1alpha1.Stateful {
		return "StatefulSet"
	}
	return "Deployment"
}
