package workload

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// fullApp sets every field a builder reads, so that any write through to the app would show.
func fullApp(appType appsv1alpha1.AppType) *appsv1alpha1.HighlyAvailableApp {
	fast := "fast"
	return dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Type = appType
		a.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		a.Spec.Template.Spec.Containers = append(a.Spec.Template.Spec.Containers, corev1.Container{
			Name: "sidecar", Image: "envoy:1", Env: []corev1.EnvVar{{Name: "POD_IP", Value: "x"}},
			Ports: []corev1.ContainerPort{{ContainerPort: 9901}},
		})
		a.Spec.Storage[0].StorageClassName = &fast
		a.Spec.Storage[0].AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeNodePort}
		a.Spec.VolumeClaimRetention = &appsv1alpha1.VolumeClaimRetention{WhenScaled: appsv1alpha1.DeleteClaims}
		a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("2"), Spread: appsv1alpha1.SpreadNode}
		a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxUnavailable: intOrString("1"), Partition: ptr.To[int32](1)}
		a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 4}
	})
}

// The builders read the app and never write it, neither directly nor later through what they return
// (the controller sets owner references and annotations on the objects, and may change more).
func TestBuildersDoNotMutateTheApp(t *testing.T) {
	for _, appType := range []appsv1alpha1.AppType{appsv1alpha1.Stateless, appsv1alpha1.Stateful} {
		t.Run(string(appType), func(t *testing.T) {
			app := fullApp(appType)
			if appType == appsv1alpha1.Stateless {
				app.Spec.Storage, app.Spec.VolumeClaimRetention = nil, nil
				app.Spec.Rollout.Partition = nil
				app.Spec.Rollout.MaxSurge = intOrString("2")
			}
			before := app.DeepCopy()
			tpl := PodTemplate(app, Options{ClusterDomain: "corp.example"})
			deploy := Deployment(app, tpl)
			sts := StatefulSet(app, tpl, 1)
			svc, headless := Service(app), HeadlessService(app)
			pdb, hpa := PodDisruptionBudget(app), HorizontalPodAutoscaler(app, workloadKind(app))
			ports := ServicePorts(app)
			MinAvailablePods(app, 3)
			PeerNames(app, Options{})
			if !equality.Semantic.DeepEqual(app, before) {
				t.Fatalf("building changed the app:\n%s", diff.Diff(before, app))
			}

			// Scribble over everything returned.
			tpl.Labels["x"] = "y"
			tpl.Spec.Containers[0].Env = append(tpl.Spec.Containers[0].Env[:0], corev1.EnvVar{Name: "Z"})
			tpl.Spec.Containers[1].Env[0].Value = changedValue
			tpl.Spec.Containers[0].Ports[0].ContainerPort = 1
			deploy.Spec.Template.Spec.Containers[0].Image = changedValue
			*deploy.Spec.Strategy.RollingUpdate.MaxSurge = intstr.FromInt32(99)
			*deploy.Spec.Strategy.RollingUpdate.MaxUnavailable = intstr.FromInt32(99)
			sts.Spec.Template.Spec.Containers[0].Image = changedValue
			*sts.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = intstr.FromInt32(99)
			for i := range sts.Spec.VolumeClaimTemplates {
				c := &sts.Spec.VolumeClaimTemplates[i]
				c.Spec.AccessModes[0] = corev1.ReadOnlyMany
				*c.Spec.StorageClassName = changedValue
				c.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("99Gi")
			}
			svc.Spec.Ports[0].Port = 1
			headless.Spec.Ports[0].Name = changedValue
			ports[0].TargetPort = intstr.FromInt32(1)
			*pdb.Spec.MinAvailable = intstr.FromInt32(99)
			*hpa.Spec.MinReplicas = 99
			*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization = 1
			if !equality.Semantic.DeepEqual(app, before) {
				t.Fatalf("changing the built objects changed the app:\n%s", diff.Diff(before, app))
			}
		})
	}
}
