package workload

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// DaemonSet runs a Daemon app's pods with the given template (see PodTemplate): one pod on every node
// the template selects through its nodeSelector, affinity and tolerations. Its rolling update starts a
// node's new pod before it stops the old one (maxSurge 1, maxUnavailable 0 by default), so no node is
// left without its daemon during an update.
//
// A Daemon app gets no PodDisruptionBudget: node drains skip DaemonSet pods, and a budget on them
// would only block node maintenance (an eviction of the last pod on a node being drained).
func DaemonSet(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec) *appsv1.DaemonSet {
	spec := &app.Spec
	maxSurge, maxUnavailable := spec.DaemonMaxSurge(), spec.RolloutMaxUnavailable()
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "DaemonSet"},
		ObjectMeta: objectMeta(app, WorkloadName(app)),
		Spec: appsv1.DaemonSetSpec{
			Selector: selector(app),
			Template: template,
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxSurge: &maxSurge, MaxUnavailable: &maxUnavailable},
			},
			MinReadySeconds:      spec.MinReadySeconds(),
			RevisionHistoryLimit: new(spec.RevisionHistoryLimit()),
		},
	}
}

// DaemonService is a Daemon app's Service: the app's Service (see Service) with internalTrafficPolicy
// Local, so that a client reaches the daemon on its own node. It is nil when the containers declare
// no ports and the app lists none.
func DaemonService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	svc := Service(app)
	if svc == nil {
		return nil
	}
	local := corev1.ServiceInternalTrafficPolicyLocal
	svc.Spec.InternalTrafficPolicy = &local
	return svc
}
