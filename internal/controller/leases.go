package controller

import (
	"context"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
)

// defaultLeaseSeconds is a node Lease's duration when it does not say: the kubelet's default.
const defaultLeaseSeconds = 40

// nodeLeases follows the nodes' Leases in kube-node-lease. It records, by the operator's own clock as
// the node lifecycle controller does, when it last saw each node renew its Lease (the kubelet's clock
// may be off), and the renew interval (a quarter of the Lease's duration). It wakes no app on a
// renewal: a timer per node wakes the apps with pods on a node that has not renewed for as long as the
// most hurried of them waits (the least NodeLossAfter of its apps: two and a half intervals unless an
// app asks for less, never below one and a half), and they are woken again when it renews. A renewal
// that is only late, as many are on a busy cluster, wakes nobody.
//
// When no node at all renewed for that long, the operator was the one cut off (an API server outage,
// a broken watch): the renewals it could not see are not silences. Every node then counts from the
// first renewal seen again (resumed), so that the nodes whose renewal comes a moment later are not
// taken for silent ones.
type nodeLeases struct {
	now  func() time.Time
	wake chan event.GenericEvent
	// dueAfter is how long a node renewing every interval may be silent before one of the apps with
	// pods on it must look: their least NodeLossAfter. Nil: the least of any app.
	dueAfter func(node string, interval time.Duration) time.Duration

	mu    sync.Mutex
	nodes map[string]*nodeLease
	// lastAny is when any node's renewal was last seen; resumed is when renewals were seen again after
	// none came for one and a half intervals.
	lastAny, resumed time.Time
}

type nodeLease struct {
	renewTime time.Time
	seen      time.Time
	interval  time.Duration
	timer     *time.Timer
	silent    bool
}

func newNodeLeases(now func() time.Time) *nodeLeases {
	return &nodeLeases{now: now, wake: make(chan event.GenericEvent, 1024), nodes: map[string]*nodeLease{}}
}

// handler records the Leases' renewals; it queues nothing itself.
func (l *nodeLeases) handler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			l.renewed(e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			l.renewed(e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			l.forget(e.Object.GetName())
		},
	}
}

// renewed records a Lease as seen now when its renewal time moved, and wakes the apps of a node that
// was silent.
func (l *nodeLeases) renewed(obj client.Object) {
	lease, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return
	}
	var renewTime time.Time
	if lease.Spec.RenewTime != nil {
		renewTime = lease.Spec.RenewTime.Time
	}
	seconds := int32(defaultLeaseSeconds)
	if lease.Spec.LeaseDurationSeconds != nil && *lease.Spec.LeaseDurationSeconds > 0 {
		seconds = *lease.Spec.LeaseDurationSeconds
	}
	interval := time.Duration(seconds) * time.Second / 4
	l.mu.Lock()
	defer l.mu.Unlock()
	n, known := l.nodes[lease.Name]
	if known && n.renewTime.Equal(renewTime) && n.interval == interval {
		return
	}
	if !known {
		n = &nodeLease{}
		l.nodes[lease.Name] = n
	}
	now := l.now()
	if !l.lastAny.IsZero() && now.Sub(l.lastAny) >= appsv1alpha1.LeastNodeLossAfter(interval) {
		// Nobody's renewal was seen for a while: the operator could not see, so nobody is silent yet.
		l.resumed = now
		for name, other := range l.nodes {
			if other.silent {
				other.silent = false
				l.send(name)
			}
			if other.timer != nil {
				other.timer.Reset(appsv1alpha1.LeastNodeLossAfter(other.interval))
			}
		}
	}
	l.lastAny = now
	wasSilent := n.silent
	n.renewTime, n.seen, n.interval, n.silent = renewTime, now, interval, false
	name := lease.Name
	if n.timer == nil {
		n.timer = time.AfterFunc(appsv1alpha1.LeastNodeLossAfter(interval), func() { l.check(name) })
	} else {
		n.timer.Reset(appsv1alpha1.LeastNodeLossAfter(interval))
	}
	if wasSilent {
		l.send(name)
	}
}

// check marks a node silent when it has not renewed its Lease for as long as its most hurried app
// waits, and wakes the apps with pods on it; before that, it sets its timer for then.
func (l *nodeLeases) check(name string) {
	l.mu.Lock()
	n, ok := l.nodes[name]
	if !ok || n.silent || l.now().Sub(l.lastSeen(n)) < appsv1alpha1.LeastNodeLossAfter(n.interval) {
		l.mu.Unlock()
		return
	}
	interval := n.interval
	l.mu.Unlock()
	due := appsv1alpha1.LeastNodeLossAfter(interval)
	if l.dueAfter != nil {
		// Read from the cache outside the lock: the renewals go on meanwhile.
		due = max(due, l.dueAfter(name, interval))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok = l.nodes[name]
	if !ok || n.silent {
		return
	}
	quiet := l.now().Sub(l.lastSeen(n))
	switch {
	case quiet < appsv1alpha1.LeastNodeLossAfter(n.interval):
		// It renewed meanwhile, and its timer was set again.
	case quiet < due:
		n.timer.Reset(due - quiet)
	case !l.send(name):
		// The channel of wake-ups is full: try again in a moment.
		n.timer.Reset(retrySend)
	default:
		n.silent = true
	}
}

// retrySend is how soon the wake of a silent node's apps is sent again when the channel was full.
const retrySend = time.Second

// send wakes the apps with pods on node, unless the channel of wake-ups is full. A renewal's wake
// lost so is not retried: the pods the kubelet reports ready again wake their apps.
func (l *nodeLeases) send(node string) bool {
	select {
	case l.wake <- event.GenericEvent{Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}}:
		return true
	default:
		return false
	}
}

func (l *nodeLeases) forget(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n, ok := l.nodes[name]; ok && n.timer != nil {
		n.timer.Stop()
	}
	delete(l.nodes, name)
}

// lastSeen is when the node's renewal was last seen, or, after a time the operator could not see,
// when it could see again.
func (l *nodeLeases) lastSeen(n *nodeLease) time.Time {
	if l.resumed.After(n.seen) {
		return l.resumed
	}
	return n.seen
}

// observe gives the decision the renewals of the nodes and the share of the cluster's nodes that are
// silent now.
func (l *nodeLeases) observe(nodes []string, in *decide.Input) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	silent := 0
	for _, n := range l.nodes {
		if now.Sub(l.lastSeen(n)) >= appsv1alpha1.LeastNodeLossAfter(n.interval) {
			silent++
		}
	}
	if len(l.nodes) > 0 {
		in.SilentShare = float64(silent) / float64(len(l.nodes))
	}
	for _, name := range nodes {
		if n, ok := l.nodes[name]; ok {
			if in.NodeLeases == nil {
				in.NodeLeases = map[string]decide.NodeLease{}
			}
			in.NodeLeases[name] = decide.NodeLease{LastRenewal: l.lastSeen(n), RenewInterval: n.interval}
		}
	}
}

// nodeApps maps a node to the apps with pods on it, from the cache.
func (r *HighlyAvailableAppReconciler) nodeApps() handler.EventHandler {
	return r.waker().mapped("Lease", func(ctx context.Context, node client.Object) []reconcile.Request {
		return r.appsOnNode(ctx, node.GetName())
	})
}

// appsOnNode are the apps with pods on node, from the cache; none when it cannot be read.
func (r *HighlyAvailableAppReconciler) appsOnNode(ctx context.Context, node string) []reconcile.Request {
	pods := &corev1.PodList{}
	selector := labels.SelectorFromSet(labels.Set{appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue})
	// The node's pods alone, through nodeIndex; only read: the cache's pods are not copied.
	if err := r.List(ctx, pods, client.MatchingFields{nodeIndex: node},
		client.MatchingLabelsSelector{Selector: selector}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range pods.Items {
		for _, req := range instanceApp(&pods.Items[i]) {
			if !slices.Contains(out, req) {
				out = append(out, req)
			}
		}
	}
	return out
}

// leastNodeLoss is the least NodeLossAfter of the apps with pods on node, for a Lease renewed every
// interval, from the cache: how long the node may be silent before one of them must look. 0 when no
// app has pods on it or the cache cannot be read, which the follower of the Leases takes as the least
// of any app.
func (r *HighlyAvailableAppReconciler) leastNodeLoss(node string, interval time.Duration) time.Duration {
	ctx := context.Background()
	var least time.Duration
	for _, req := range r.appsOnNode(ctx, node) {
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := r.Get(ctx, req.NamespacedName, app); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return 0
			}
			continue
		}
		if after := app.Spec.NodeLossAfter(interval); least == 0 || after < least {
			least = after
		}
	}
	return least
}
