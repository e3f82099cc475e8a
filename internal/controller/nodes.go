package controller

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/workload"
)

// observeNodes reads, from the cache, the zone and drain state of the nodes the app's pods run on, and
// the zones that have schedulable nodes.
func (r *HighlyAvailableAppReconciler) observeNodes(ctx context.Context, in *decide.Input) error {
	in.NodeZones, in.DrainingNodes = map[string]string{}, map[string]bool{}
	for i := range in.Pods {
		name := in.Pods[i].Spec.NodeName
		if _, seen := in.NodeZones[name]; name == "" || seen {
			continue
		}
		node := &corev1.Node{}
		if err := r.Get(ctx, client.ObjectKey{Name: name}, node); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("get node %s: %w", name, err)
		}
		in.NodeZones[name] = node.Labels[workload.ZoneTopologyKey]
		if decide.Draining(node) {
			in.DrainingNodes[name] = true
		}
	}
	nodes := &corev1.NodeList{}
	// Only read, on every reconcile, and there are as many nodes as the cluster has: the cache's nodes
	// are not copied.
	if err := r.List(ctx, nodes, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	in.ClusterZones = []string{}
	for i := range nodes.Items {
		zone := nodes.Items[i].Labels[workload.ZoneTopologyKey]
		if zone != "" && decide.Schedulable(&nodes.Items[i]) && !slices.Contains(in.ClusterZones, zone) {
			in.ClusterZones = append(in.ClusterZones, zone)
		}
	}
	slices.Sort(in.ClusterZones)
	return nil
}

// trimNode keeps of a node what the operator reads (its name, zone label, unschedulable flag and
// taints), so that the cache does not hold the nodes' status (images, conditions, addresses).
func trimNode(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		TypeMeta:   node.TypeMeta,
		ObjectMeta: metaOnly(node),
		Spec:       corev1.NodeSpec{Unschedulable: node.Spec.Unschedulable, Taints: node.Spec.Taints},
	}, nil
}

func metaOnly(node *corev1.Node) (out metav1.ObjectMeta) {
	out.Name, out.UID, out.ResourceVersion, out.Labels = node.Name, node.UID, node.ResourceVersion, node.Labels
	out.DeletionTimestamp = node.DeletionTimestamp
	return out
}

// nodeStateChanged passes a node event when it can change a decision: a node comes or goes, or its
// zone, its drain state or whether it takes new pods changes.
var nodeStateChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		before, ok1 := e.ObjectOld.(*corev1.Node)
		after, ok2 := e.ObjectNew.(*corev1.Node)
		if !ok1 || !ok2 {
			return true
		}
		return before.Labels[workload.ZoneTopologyKey] != after.Labels[workload.ZoneTopologyKey] ||
			decide.Draining(before) != decide.Draining(after) || decide.Schedulable(before) != decide.Schedulable(after)
	},
}

// nodeToApps enqueues every app when a node's state changes: the drain surge of the apps with pods on
// it, and the zone-loss headroom and rebalancing of every app, depend on it. Such changes are rare
// (cordons, drains, outages), and the queue folds repeated requests for one app.
func (r *HighlyAvailableAppReconciler) nodeToApps() handler.EventHandler {
	return r.waker().mapped("Node", func(ctx context.Context, _ client.Object) []reconcile.Request {
		apps := &appsv1alpha1.HighlyAvailableAppList{}
		// Only their names are read: the cache's apps are not copied.
		if err := r.List(ctx, apps, client.UnsafeDisableDeepCopy); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(apps.Items))
		for i := range apps.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&apps.Items[i])})
		}
		return out
	})
}
