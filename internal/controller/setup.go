package controller

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
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

// appIndex is the field under which the cache indexes an app's pods, ReplicaSets, revisions and Jobs:
// the value of their instance label, the app's name. observe lists through it, so that a reconcile
// reads its own app's objects and not every object of that kind in the namespace (3,000 pods for
// 1,000 apps of 3 in one namespace).
const appIndex = "app"

// byApp lists one app's objects of a kind through appIndex; the label selector still decides which
// of them are the app's.
func byApp(app *appsv1alpha1.HighlyAvailableApp) client.ListOption {
	return client.MatchingFields{appIndex: app.Name}
}

// indexByApp registers appIndex on the informers of the kinds observe lists, before the manager
// starts them. It is the index the manager's field indexer would register, with one difference: an
// object is indexed under its namespace and app alone. The field indexer adds a second entry for a
// list across all namespaces, which observe never makes, and would cost each app about 3 KiB more.
// The index is named and keyed as the cache reads a field selector ("field:" and the field's name;
// the namespace, "/" and the value), so that a List with client.MatchingFields uses it.
func indexByApp(ctx context.Context, informers cache.Informers) error {
	for _, obj := range appIndexed() {
		informer, err := informers.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("index %T by app: %w", obj, err)
		}
		err = informer.AddIndexers(toolscache.Indexers{"field:" + appIndex: func(o any) ([]string, error) {
			obj, ok := o.(client.Object)
			if !ok {
				return nil, nil
			}
			var keys []string
			for _, app := range appOf(obj) {
				keys = append(keys, obj.GetNamespace()+"/"+app)
			}
			return keys, nil
		}})
		if err != nil {
			return fmt.Errorf("index %T by app: %w", obj, err)
		}
	}
	return nil
}

// appIndexed are the kinds observe lists through appIndex; ReplicaSets are cached as metadata.
func appIndexed() []client.Object {
	sets := &metav1.PartialObjectMetadata{}
	sets.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))
	return []client.Object{&corev1.Pod{}, sets, &appsv1.ControllerRevision{}, &batchv1.Job{}}
}

// appOf is an object's value in appIndex: its instance label.
func appOf(obj client.Object) []string {
	if name := obj.GetLabels()[appsv1alpha1.LabelInstance]; name != "" {
		return []string{name}
	}
	return nil
}
