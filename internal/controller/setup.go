package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/workload"
)

// CacheOptions limit the manager's cache to what the registry of kinds says (kinds.All): the objects
// the operator generates or its workloads create are cached only with the label
// app.kubernetes.io/managed-by=ha-operator, so that its memory does not grow with the unrelated
// Deployments, Services and pods of the cluster; some kinds are trimmed to what the operator reads
// (trims).
func CacheOptions() cache.Options {
	owned := labels.SelectorFromSet(labels.Set{appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue})
	byObject := map[client.Object]cache.ByObject{}
	for _, k := range kinds.All() {
		opts := cache.ByObject{Transform: trims[k.Name]}
		if k.Cache == kinds.CacheOwned {
			opts.Label = owned
		}
		if k.Namespace != "" {
			opts.Namespaces = map[string]cache.Config{k.Namespace: {}}
		}
		byObject[k.New()] = opts
	}
	return cache.Options{ByObject: byObject, DefaultTransform: stripForCache}
}

// trims are the transforms that keep of a kind's objects only what the operator reads: a pod's
// signature and place, a ReplicaSet's metadata, a node's zone and drain state, a volume's claim and
// zone, a node Lease's renewal.
var trims = map[string]toolscache.TransformFunc{
	kinds.Pod:        trimPod,
	kinds.ReplicaSet: trimMetadata,
	kinds.Node:       trimNode,
	kinds.Volume:     trimVolume,
	kinds.Lease:      trimLease,
}

// NewReconciler wires a reconciler to the manager's client, cache, API reader and event recorder.
func NewReconciler(mgr ctrl.Manager, clusterDomain string) *HighlyAvailableAppReconciler {
	return &HighlyAvailableAppReconciler{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Recorder:   mgr.GetEventRecorder("ha-operator"),
		Options:    workload.Options{ClusterDomain: clusterDomain},
		WakeWindow: DefaultWakeWindow,
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

// nodeIndex is the field under which the cache indexes the pods by the node they run on, so that the
// apps with pods on a node (appsOnNode) are found among that node's pods, not among every pod of the
// cluster: the follower of the Leases asks on each late renewal, and at 9,000 pods a list of them all
// per late renewal held gigabytes.
const nodeIndex = "spec.nodeName"

// nodeOf is a pod's value in nodeIndex: its node, none while it is not scheduled.
func nodeOf(obj client.Object) []string {
	if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" {
		return []string{pod.Spec.NodeName}
	}
	return nil
}

// indexByNode registers nodeIndex on the pods' informer, before the manager starts it.
func indexByNode(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &corev1.Pod{}, nodeIndex, nodeOf); err != nil {
		return fmt.Errorf("index pods by node: %w", err)
	}
	return nil
}

// appIndexed are the kinds observe lists through appIndex (kinds.Kind.ByApp), as their informers hold
// them.
func appIndexed() []client.Object {
	var out []client.Object
	for _, k := range kinds.All() {
		if k.ByApp {
			out = append(out, k.Watched())
		}
	}
	return out
}

// appOf is an object's value in appIndex: its instance label.
func appOf(obj client.Object) []string {
	if name := obj.GetLabels()[appsv1alpha1.LabelInstance]; name != "" {
		return []string{name}
	}
	return nil
}
