package controller

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
)

func lease(node string, renewed time.Time, seconds int32) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node, Namespace: corev1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: renewed}, LeaseDurationSeconds: &seconds}}
}

// The follower of the nodes' Leases wakes nobody on a renewal, wakes the apps of a node silent for one
// and a half renew intervals, and wakes them again when it renews.
func TestNodeLeases(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newNodeLeases(func() time.Time { return now })
	woken := func() []string {
		var out []string
		for {
			select {
			case e := <-l.wake:
				out = append(out, e.Object.GetName())
			default:
				return out
			}
		}
	}
	// Kubelet clocks may be off: what counts is when the operator saw a renewal.
	skewed := now.Add(-time.Hour)
	l.renewed(lease("node-a", skewed, 40))
	l.renewed(lease("node-b", skewed, 40))
	now = now.Add(10 * time.Second)
	l.renewed(lease("node-a", skewed.Add(10*time.Second), 40))
	l.renewed(lease("node-b", skewed.Add(10*time.Second), 40))
	if w := woken(); len(w) != 0 {
		t.Fatalf("renewals woke %v", w)
	}
	in := decide.Input{}
	l.observe([]string{"node-a", "node-c"}, &in)
	if got := in.NodeLeases["node-a"]; !got.LastRenewal.Equal(now) || got.RenewInterval != 10*time.Second {
		t.Errorf("node-a %+v, want renewed now every 10 s", got)
	}
	if _, ok := in.NodeLeases["node-c"]; ok {
		t.Error("node-c has no Lease, but is reported")
	}

	By := "node-a goes silent for 15 s, node-b renews every 10 s: node-a's apps are woken"
	now = now.Add(10 * time.Second)
	l.renewed(lease("node-b", skewed.Add(20*time.Second), 40))
	now = now.Add(5 * time.Second)
	l.check("node-a")
	l.check("node-b")
	if w := woken(); len(w) != 1 || w[0] != "node-a" {
		t.Fatalf("%s: woke %v", By, w)
	}
	in = decide.Input{}
	l.observe([]string{"node-a"}, &in)
	if in.SilentShare != 0.5 {
		t.Errorf("%s: silent share %v, want 0.5", By, in.SilentShare)
	}
	l.check("node-a")
	if w := woken(); len(w) != 0 {
		t.Errorf("%s: woken again %v", By, w)
	}

	By = "node-a renews: its apps are woken again"
	l.renewed(lease("node-a", skewed.Add(40*time.Second), 40))
	if w := woken(); len(w) != 1 || w[0] != "node-a" {
		t.Fatalf("%s: woke %v", By, w)
	}
	l.forget("node-a")
	l.forget("node-b")
}

// When no node's renewal is seen for a while, the operator was cut off: the nodes count from the
// first renewal seen again, and the one whose renewal comes a moment later is not silent.
func TestNodeLeasesAfterAnOutage(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newNodeLeases(func() time.Time { return now })
	defer func() { l.forget("node-a"); l.forget("node-b"); l.forget("node-c") }()
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		l.renewed(lease(node, now, 20))
	}
	By := "an API server outage of a minute: every node looks silent, none is marked (55% or more)"
	now = now.Add(time.Minute)
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		l.check(node)
	}
	in := decide.Input{}
	l.observe([]string{"node-a"}, &in)
	if in.SilentShare != 1 {
		t.Fatalf("%s: silent share %v", By, in.SilentShare)
	}
	By = "back: node-a renews first; node-b and node-c a moment later are not silent"
	l.renewed(lease("node-a", now, 20))
	now = now.Add(2 * time.Second)
	in = decide.Input{}
	l.observe([]string{"node-b", "node-c"}, &in)
	if in.SilentShare != 0 {
		t.Errorf("%s: silent share %v, want 0", By, in.SilentShare)
	}
	if got := now.Sub(in.NodeLeases["node-b"].LastRenewal); got != 2*time.Second {
		t.Errorf("%s: node-b silent for %s, want counted from the first renewal seen again (2s)", By, got)
	}
}

// A node whose apps all wait longer than the least NodeLossAfter wakes them when the most hurried of
// them must look, not before: a renewal that is only late wakes nobody.
func TestNodeLeasesWaitForTheMostHurriedApp(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newNodeLeases(func() time.Time { return now })
	defer l.forget("node-a")
	var asked []string
	l.dueAfter = func(node string, interval time.Duration) time.Duration {
		asked = append(asked, node)
		return interval * 5 / 2 // the default NodeLossAfter of every app on it
	}
	woken := func() int {
		n := 0
		for {
			select {
			case <-l.wake:
				n++
			default:
				return n
			}
		}
	}
	l.renewed(lease("node-a", now, 40))

	By := "late by 6 s (16 s, past one and a half intervals): nobody is woken yet"
	now = now.Add(16 * time.Second)
	l.check("node-a")
	if n := woken(); n != 0 {
		t.Fatalf("%s: %d wakes", By, n)
	}
	if len(asked) != 1 || asked[0] != "node-a" {
		t.Errorf("%s: asked about %v, want node-a once", By, asked)
	}
	in := decide.Input{}
	l.observe([]string{"node-a"}, &in)
	if in.SilentShare != 1 {
		t.Errorf("%s: silent share %v, want 1 (the share counts one and a half intervals)", By, in.SilentShare)
	}

	By = "it renews at 20 s: nobody is woken"
	now = now.Add(4 * time.Second)
	l.renewed(lease("node-a", now, 40))
	if n := woken(); n != 0 {
		t.Fatalf("%s: %d wakes", By, n)
	}

	By = "silent for 25 s, two and a half intervals: its apps are woken, once"
	now = now.Add(16 * time.Second)
	l.check("node-a")
	if n := woken(); n != 0 {
		t.Fatalf("at 16 s: %d wakes", n)
	}
	now = now.Add(9 * time.Second)
	l.check("node-a")
	l.check("node-a")
	if n := woken(); n != 1 {
		t.Fatalf("%s: %d wakes, want 1", By, n)
	}
	By = "it renews: they are woken again"
	l.renewed(lease("node-a", now, 40))
	if n := woken(); n != 1 {
		t.Fatalf("%s: %d wakes, want 1", By, n)
	}
}

// When the channel of wake-ups is full, the node is not taken for woken: the next check sends again.
func TestNodeLeasesRetryAFullChannel(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newNodeLeases(func() time.Time { return now })
	defer l.forget("node-a")
	l.renewed(lease("node-a", now, 40))
	for l.send("filler") {
	}
	now = now.Add(15 * time.Second)
	l.check("node-a")
	for len(l.wake) > 0 {
		<-l.wake
	}
	l.check("node-a")
	if got := len(l.wake); got != 1 {
		t.Fatalf("%d wakes after the channel emptied, want 1", got)
	}
}

// The follower of the Leases asks how long a node may be silent: the least NodeLossAfter of the apps
// with pods on it, from the cache.
func TestLeastNodeLossOfTheAppsOnANode(t *testing.T) {
	scheme := testScheme(t)
	web, api, batch := nginx("ns", "web"), nginx("ns", "api"), nginx("ns", "batch")
	api.Spec.Availability = &appsv1alpha1.AvailabilitySpec{NodeLossSeconds: new(int32(18))}
	batch.Spec.Availability = &appsv1alpha1.AvailabilitySpec{NodeLossSeconds: new(int32(1))}
	onNode := func(app, name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: labelled("ns", name, app, app), Spec: corev1.PodSpec{NodeName: node}}
	}
	gone := onNode("deleted", "deleted-0", "node-b")
	r := &HighlyAvailableAppReconciler{Client: cached(scheme, web, api, batch,
		onNode("web", "web-0", "node-a"), onNode("web", "web-1", "node-a"), onNode("api", "api-0", "node-a"),
		onNode("web", "web-2", "node-b"), gone, onNode("batch", "batch-0", "node-c"))}
	for _, tc := range []struct {
		node string
		want time.Duration
	}{
		{"node-a", 18 * time.Second}, // api asks for 18 s, web the default 25 s
		{"node-b", 25 * time.Second}, // web; an app deleted since is skipped
		{"node-c", 15 * time.Second}, // batch asks for 1 s: never below one and a half intervals
		{"node-d", 0},                // no app's pod
	} {
		if got := r.leastNodeLoss(tc.node, 10*time.Second); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.node, got, tc.want)
		}
	}
	if got := r.appsOnNode(t.Context(), "node-a"); len(got) != 2 {
		t.Errorf("apps on node-a %v, want web and api once each", got)
	}

	// The node's pods are read through the index by node, not found among every pod of the cluster.
	var selectors []string
	r.Client = interceptor.NewClient(r.Client.(client.WithWatch), interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			o := (&client.ListOptions{}).ApplyOptions(opts)
			if o.FieldSelector != nil {
				selectors = append(selectors, o.FieldSelector.String())
			}
			return c.List(ctx, list, opts...)
		}})
	r.appsOnNode(t.Context(), "node-b")
	if len(selectors) != 1 || selectors[0] != nodeIndex+"=node-b" {
		t.Errorf("the pods of node-b listed with the field selectors %q, want one: %s=node-b", selectors, nodeIndex)
	}
}
