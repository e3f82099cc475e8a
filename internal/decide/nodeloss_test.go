package decide

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// leases are the renewals of the world's three nodes: every node renewed just now but those silent
// for the given time, with a renew interval of 10 s (the kubelet's default 40 s Lease).
func leases(now time.Time, silent map[string]time.Duration) map[string]NodeLease {
	out := map[string]NodeLease{}
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		out[node] = NodeLease{LastRenewal: now.Add(-silent[node]), RenewInterval: 10 * time.Second}
	}
	return out
}

func TestNodeLoss(t *testing.T) {
	settled := func(typ appsv1alpha1.AppType) *world {
		w := newWorld(newApp(typ, "nginx:1"))
		step(t, w)
		w.simulate(podReady)
		step(t, w)
		w.simulate(podReady)
		// One pod on each node, as the spread constraints place them.
		for i := range w.pods {
			w.pods[i].Spec.NodeName = []string{"node-a", "node-b", "node-c"}[i%3]
		}
		return w
	}
	onNode := func(w *world, node string) []string {
		var out []string
		for _, p := range w.pods {
			if p.Spec.NodeName == node {
				out = append(out, p.Name)
			}
		}
		return out
	}
	tests := []struct {
		name         string
		typ          appsv1alpha1.AppType
		silent       map[string]time.Duration
		nodeLoss     *int32
		share        float64
		unready      []string // nodes whose pods are not ready already
		wantMarked   []string // nodes whose pods are marked
		wantReason   string
		wantRequeue  time.Duration
		noRequeue    bool // the follower of the Leases wakes the app when it must look
		wantReported int
	}{
		{name: "a node silent for 2.5 renew intervals: its pods are marked", typ: appsv1alpha1.Stateless,
			silent: map[string]time.Duration{"node-a": 25 * time.Second}, wantMarked: []string{"node-a"}, wantReported: 1},
		{name: "a Stateful app's pods too", typ: appsv1alpha1.Stateful,
			silent: map[string]time.Duration{"node-b": 30 * time.Second}, wantMarked: []string{"node-b"}, wantReported: 1},
		{name: "silent for less: nothing yet, looked at again when it is long enough", typ: appsv1alpha1.Stateless,
			silent: map[string]time.Duration{"node-a": 15 * time.Second}, wantRequeue: 10 * time.Second},
		{name: "nodeLossSeconds shortens the wait", typ: appsv1alpha1.Stateless, nodeLoss: new(int32(15)),
			silent: map[string]time.Duration{"node-a": 16 * time.Second}, wantMarked: []string{"node-a"}, wantReported: 1},
		{name: "but never below one and a half intervals", typ: appsv1alpha1.Stateless, nodeLoss: new(int32(1)),
			silent: map[string]time.Duration{"node-a": 14 * time.Second}, noRequeue: true},
		{name: "a renewal only late (12 s) is no reason to look again", typ: appsv1alpha1.Stateless,
			silent: map[string]time.Duration{"node-a": 12 * time.Second}, noRequeue: true},
		{name: "the app's last ready pods are never marked", typ: appsv1alpha1.Stateless,
			silent:  map[string]time.Duration{"node-a": time.Minute},
			unready: []string{"node-b", "node-c"}, wantReason: appsv1alpha1.ReasonLastReadyPods, wantReported: 1},
		{name: "most of the cluster silent at once: the control plane is suspected, nothing is marked", typ: appsv1alpha1.Stateless,
			silent: map[string]time.Duration{"node-a": time.Minute, "node-b": time.Minute}, share: 0.6,
			wantReason: appsv1alpha1.ReasonClusterSilent, wantReported: 2},
		{name: "a pod already not ready is not marked again", typ: appsv1alpha1.Stateless,
			silent: map[string]time.Duration{"node-a": time.Minute}, unready: []string{"node-a"}, wantReported: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := settled(tc.typ)
			if tc.nodeLoss != nil {
				w.app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{NodeLossSeconds: tc.nodeLoss}
			}
			for i := range w.pods {
				if slices.Contains(tc.unready, w.pods[i].Spec.NodeName) {
					setReady(&w.pods[i], false)
				}
			}
			in := w.input()
			in.NodeLeases, in.SilentShare = leases(w.now, tc.silent), tc.share
			p := Decide(in)

			var want []string
			for _, node := range tc.wantMarked {
				want = append(want, onNode(w, node)...)
			}
			var got []string
			for _, m := range p.MarkPods {
				got = append(got, m.Pod.Name)
				if !rollout.PodReady(m.Pod) {
					t.Errorf("marks pod %s, which is not ready", m.Pod.Name)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("marks %v, want %v", got, want)
			}
			for _, d := range p.DeletePods {
				if slices.Contains(got, d.Pod.Name) {
					t.Errorf("deletes pod %s it marks", d.Pod.Name)
				}
			}
			if len(p.SilentNodes) != tc.wantReported {
				t.Fatalf("reports %d silent nodes (%+v), want %d", len(p.SilentNodes), p.SilentNodes, tc.wantReported)
			}
			for _, sn := range p.SilentNodes {
				if sn.Marked != (tc.wantReason == "") || sn.Reason != tc.wantReason {
					t.Errorf("silent node %+v, want reason %q", sn, tc.wantReason)
				}
			}
			st := p.Report.Status(nil, in.App.CreationTimestamp)
			if len(st.SilentNodes) != tc.wantReported {
				t.Errorf("status.silentNodes %+v", st.SilentNodes)
			}
			if tc.wantReported > 0 && !slices.ContainsFunc(p.Events, func(e Event) bool {
				return e.Reason == appsv1alpha1.ReasonNodeSilent && strings.Contains(e.Message, p.SilentNodes[0].Name)
			}) {
				t.Errorf("no NodeSilent Event naming the node: %v", eventReasons(p))
			}
			if tc.wantRequeue > 0 && (p.Requeue == 0 || p.Requeue > tc.wantRequeue) {
				t.Errorf("requeue %s, want at most %s", p.Requeue, tc.wantRequeue)
			}
			if tc.noRequeue && p.Requeue != 0 {
				t.Errorf("requeue %s, want none", p.Requeue)
			}
		})
	}
}

// setReady sets a pod's Ready condition.
func setReady(pod *corev1.Pod, ready bool) {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			pod.Status.Conditions[i].Status = status
		}
	}
}
