package controller

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

// CacheOptions limit the manager's cache to the objects the operator generates (labelled
// app.kubernetes.io/managed-by=ha-operator), so that its memory does not grow with the unrelated
// Deployments, Services and pods of the cluster. Nodes are cached trimmed to their name, zone label,
// unschedulable flag and taints (trimNode), pods and ReplicaSets to what the operator reads
// (trimPod, trimMetadata).
func CacheOptions() cache.Options {
	owned := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue})}
	byObject := map[client.Object]cache.ByObject{}
	for _, obj := range []client.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{}, &appsv1.ControllerRevision{}, &corev1.Service{},
		&corev1.PersistentVolumeClaim{}, &policyv1.PodDisruptionBudget{},
		&autoscalingv2.HorizontalPodAutoscaler{}, &appsv1.DaemonSet{}, &batchv1.Job{}, &batchv1.CronJob{},
	} {
		byObject[obj] = owned
	}
	byObject[&corev1.Pod{}] = cache.ByObject{Label: owned.Label, Transform: trimPod}
	// ReplicaSets are watched as metadata only (observe).
	byObject[&appsv1.ReplicaSet{}] = cache.ByObject{Label: owned.Label, Transform: trimMetadata}
	byObject[&corev1.Node{}] = cache.ByObject{Transform: trimNode}
	return cache.Options{ByObject: byObject, DefaultTransform: stripForCache}
}

// NewReconciler wires a reconciler to the manager's client, cache, API reader and event recorder.
func NewReconciler(mgr ctrl.Manager, clusterDomain string) *HighlyAvailableAppReconciler {
	return &HighlyAvailableAppReconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     mgr.GetScheme(),
		Recorder:   mgr.GetEventRecorder("ha-operator"),
		Options:    workload.Options{ClusterDomain: clusterDomain},
		WakeWindow: DefaultWakeWindow,
		// The manager starts watching right after: a rollout's deadline does not run while nobody
		// watched it.
		ObservingSince: time.Now(),
	}
}
