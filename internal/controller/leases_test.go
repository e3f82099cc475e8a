package controller

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
