package decide

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// settledStateless is a Stateless app with n ready pods, one per node in turn.
func settledStateless(t *testing.T, n int32, change func(*appsv1alpha1.HighlyAvailableApp)) *world {
	t.Helper()
	app := newApp(appsv1alpha1.Stateless, "nginx:1")
	app.Spec.Replicas = new(n)
	if change != nil {
		change(app)
	}
	w := newWorld(app)
	w.draining, w.down = map[string]bool{}, map[string]bool{}
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	return w
}

func (w *world) pdb() *policyv1.PodDisruptionBudget {
	p, _ := w.objs[Ref{kinds.PDB, "web"}].(*policyv1.PodDisruptionBudget)
	return p
}

func zonesOf(w *world, pods []corev1.Pod) map[string]int {
	in := w.input()
	out := map[string]int{}
	for _, p := range pods {
		out[in.NodeZones[p.Spec.NodeName]]++
	}
	return out
}

func TestDrainSurgesBeforeEvictions(t *testing.T) {
	w := settledStateless(t, 3, nil)
	if pdb := w.pdb(); pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 3 || pdb.Spec.MaxUnavailable != nil {
		t.Fatalf("budget %+v: with surge on drain it keeps minAvailable at replicas", pdb.Spec)
	}
	w.draining["node-a"] = true
	p := step(t, w)
	if got := *w.deployment().Spec.Replicas; got != 4 {
		t.Fatalf("replicas %d while a pod is on a cordoned node, want 4", got)
	}
	if !contains(eventReasons(p), appsv1alpha1.ReasonDrainSurge) {
		t.Errorf("no %s event: %v", appsv1alpha1.ReasonDrainSurge, eventReasons(p))
	}
	// The budget still counts against 3: with the surge pod ready, one eviction is allowed.
	if pdb := w.pdb(); pdb.Spec.MinAvailable.IntValue() != 3 {
		t.Errorf("budget %+v during the surge, want minAvailable 3", pdb.Spec)
	}
	// The drain evicts the pod; nothing is left on the node, the surge ends.
	w.settleDeployment(podReady)
	w.evictOne("node-a")
	w.settleDeployment(podReady)
	step(t, w)
	step(t, w)
	if got := *w.deployment().Spec.Replicas; got != 3 {
		t.Errorf("replicas %d once no pod is on the cordoned node, want 3", got)
	}
}

func TestUncordonEndsTheSurge(t *testing.T) {
	w := settledStateless(t, 3, nil)
	w.draining["node-b"] = true
	step(t, w)
	w.settleDeployment(podReady)
	if got := *w.deployment().Spec.Replicas; got != 4 {
		t.Fatalf("replicas %d, want 4", got)
	}
	w.draining["node-b"] = false
	for range 3 {
		step(t, w)
		w.settleDeployment(podReady)
	}
	if got := *w.deployment().Spec.Replicas; got != 3 {
		t.Errorf("replicas %d after the uncordon, want 3", got)
	}
}

func TestDrainSurgeWithinMaxSurge(t *testing.T) {
	w := settledStateless(t, 6, nil) // maxSurge 25% of 6: 2
	w.draining["node-a"], w.draining["node-b"] = true, true
	step(t, w)
	if got := *w.deployment().Spec.Replicas; got != 8 {
		t.Errorf("replicas %d with 4 pods on cordoned nodes, want 6+2", got)
	}
}

func TestSurgeOnDrainOff(t *testing.T) {
	w := settledStateless(t, 3, func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{SurgeOnDrain: new(false)}
	})
	if pdb := w.pdb(); pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Fatalf("budget %+v, want the default maxUnavailable 1", pdb.Spec)
	}
	w.draining["node-a"] = true
	step(t, w)
	if got := *w.deployment().Spec.Replicas; got != 3 {
		t.Errorf("replicas %d, want no surge", got)
	}
}

func TestScaleInFromTheMostCrowdedZone(t *testing.T) {
	w := settledStateless(t, 6, nil)
	// Crowd zone-c: a: 1, b: 1, c: 4.
	for i := range w.pods {
		w.pods[i].Spec.NodeName = []string{"node-a", "node-b", "node-c", "node-c", "node-c", "node-c"}[i]
	}
	before := zonesOf(w, w.pods)
	w.app.Spec.Replicas = new(int32(3))
	p := step(t, w)
	if len(p.PodCosts) != 3 {
		t.Fatalf("deletion costs on %d pods, want 3", len(p.PodCosts))
	}
	for _, c := range p.PodCosts {
		if z := w.input().NodeZones[c.Pod.Spec.NodeName]; z != "zone-c" {
			t.Errorf("pod %s in %s marked first (zones %v)", c.Pod.Name, z, before)
		}
	}
	if got := *w.deployment().Spec.Replicas; got != 6 {
		t.Fatalf("replicas %d before the costs are observed, want 6 held", got)
	}
	if p.Requeue == 0 || p.Requeue > ScaleInHold {
		t.Errorf("requeue %v, want %v", p.Requeue, ScaleInHold)
	}
	p = step(t, w)
	if len(p.PodCosts) != 0 || *w.deployment().Spec.Replicas != 3 {
		t.Fatalf("costs observed: replicas %d, costs %d, want 3 and none", *w.deployment().Spec.Replicas, len(p.PodCosts))
	}
	w.settleDeployment(podReady)
	after := zonesOf(w, w.pods)
	if after["zone-a"] != 1 || after["zone-b"] != 1 || after["zone-c"] != 1 {
		t.Errorf("after the scale-in, zones %v (before %v): the most crowded zone did not lose its pods first", after, before)
	}
}

// zonalStateful is a ZoneByZone Stateful app with one ready pod per zone (web-0 in zone-a...).
func zonalStateful(t *testing.T) *world {
	t.Helper()
	app := newApp(appsv1alpha1.Stateful, "cassandra:3")
	app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Strategy: appsv1alpha1.ZoneByZone}
	w := newWorld(app)
	w.draining, w.down = map[string]bool{}, map[string]bool{}
	step(t, w)
	if got := w.statefulSet().Spec.UpdateStrategy; got.Type != appsv1.OnDeleteStatefulSetStrategyType || got.RollingUpdate != nil {
		t.Fatalf("update strategy %+v, want OnDelete", got)
	}
	w.settleStatefulSet(podReady)
	for i := range w.pods {
		w.pods[i].Spec.NodeName = []string{"node-a", "node-b", "node-c"}[i]
	}
	step(t, w)
	return w
}

// replaceDeleted plays the StatefulSet controller under OnDelete: deleted pods come back on the
// template, on the node they ran on, in the given state.
func (w *world) replaceDeleted(p Plan, state podState) {
	sts := w.statefulSet()
	for _, d := range p.DeletePods {
		pod := w.newPod(d.Pod.Name, hashOfTemplate(sts), sts, "StatefulSet", state)
		pod.Spec.NodeName = d.Pod.Spec.NodeName
		w.pods = append(w.pods, pod)
	}
	var ready, updated int32
	for i := range w.pods {
		if rollout.PodReady(&w.pods[i]) {
			ready++
		}
		if w.pods[i].Labels[rollout.LabelRevisionHash] == hashOfTemplate(sts) {
			updated++
		}
	}
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: int32(len(w.pods)),
		ReadyReplicas: ready, AvailableReplicas: ready, UpdatedReplicas: updated}
}

func deletedNames(p Plan) string {
	out := make([]string, 0, len(p.DeletePods))
	for _, d := range p.DeletePods {
		out = append(out, d.Pod.Name)
	}
	return strings.Join(out, ",")
}

func TestZoneByZoneReplacesOneZoneAtATime(t *testing.T) {
	w := zonalStateful(t)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:4"
	p := step(t, w) // the StatefulSet gets the new template; no pod is replaced by it
	if len(p.DeletePods) != 0 {
		t.Fatalf("deleted %s before the StatefulSet carried the template", deletedNames(p))
	}
	w.replaceDeleted(p, podReady)
	var order []string
	for range 6 {
		w.now = w.now.Add(5 * time.Second)
		p = step(t, w)
		if len(p.DeletePods) > 0 {
			order = append(order, deletedNames(p)+"@"+p.Rollout.UpdatingZone)
		}
		w.replaceDeleted(p, podReady)
	}
	if got := strings.Join(order, " "); got != "web-0@zone-a web-1@zone-b web-2@zone-c" {
		t.Errorf("replaced %s, want zone-a, then zone-b, then zone-c", got)
	}
	if p.Rollout.CurrentRevision != 2 || p.Rollout.UpdatingZone != "" {
		t.Errorf("rollout %+v, want revision 2 complete and no zone updating", p.Rollout)
	}
}

func TestZoneByZoneWaitsForTheZoneToBeReady(t *testing.T) {
	w := zonalStateful(t)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:4"
	w.replaceDeleted(step(t, w), podReady)
	p := step(t, w)
	w.replaceDeleted(p, podStarting)
	p = step(t, w)
	if len(p.DeletePods) != 0 || p.Rollout.UpdatingZone != "zone-a" {
		t.Errorf("deleted %q, updating %q while zone-a's pod starts: want nothing and zone-a", deletedNames(p), p.Rollout.UpdatingZone)
	}
}

func TestZoneByZoneStopsAtTheFirstFailingZoneAndRollsBack(t *testing.T) {
	w := zonalStateful(t)
	good := hashOfTemplate(w.statefulSet())
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:does-not-exist"
	w.replaceDeleted(step(t, w), podReady)
	p := step(t, w)
	if deletedNames(p) != "web-0" {
		t.Fatalf("deleted %q, want web-0 (zone-a) first", deletedNames(p))
	}
	w.replaceDeleted(p, podPullNotFound)
	w.now = w.now.Add(2 * time.Second)
	p = step(t, w)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack {
		t.Fatalf("not rolled back: %+v", p.Rollout)
	}
	if deletedNames(p) != "" {
		t.Errorf("deleted %q in the step that rolled back", deletedNames(p))
	}
	// The StatefulSet carries the good template again and its controller has observed it: the failed
	// pod of zone-a is deleted and comes back on it; zone-b and zone-c were never touched.
	w.statefulSet().Status.ObservedGeneration = w.statefulSet().Generation
	p = step(t, w)
	if deletedNames(p) != "web-0" {
		t.Fatalf("deleted %q, want the failed web-0", deletedNames(p))
	}
	w.replaceDeleted(p, podReady)
	for _, pod := range w.pods {
		if pod.Labels[rollout.LabelRevisionHash] != good {
			t.Errorf("pod %s not on the good revision", pod.Name)
		}
	}
}

// The rollback is part of the zone's update: the status keeps naming the zone whose pods failed
// while the StatefulSet takes the good template back and its controller observes it, even when the
// failed pod came back in another zone.
func TestZoneByZoneKeepsNamingTheZoneThroughTheRollback(t *testing.T) {
	w := zonalStateful(t)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:does-not-exist"
	w.replaceDeleted(step(t, w), podReady)
	var zones []string
	record := func(p Plan) {
		w.app.Status.UpdatingZone = p.Rollout.UpdatingZone
		zones = append(zones, p.Rollout.UpdatingZone)
	}
	p := step(t, w)
	record(p)
	w.replaceDeleted(p, podPullNotFound)
	for i := range w.pods {
		if w.pods[i].Name == "web-0" {
			w.pods[i].Spec.NodeName = "node-b" // scheduled in zone-b this time
		}
	}
	w.now = w.now.Add(2 * time.Second)
	p = step(t, w)
	record(p)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack {
		t.Fatalf("not rolled back: %+v", p.Rollout)
	}
	p = step(t, w) // the StatefulSet carries the good template; its controller has not observed it
	record(p)
	w.statefulSet().Status.ObservedGeneration = w.statefulSet().Generation
	p = step(t, w)
	record(p)
	if deletedNames(p) != "web-0" {
		t.Fatalf("deleted %q, want the failed web-0", deletedNames(p))
	}
	w.replaceDeleted(p, podStarting)
	record(step(t, w))
	if got := strings.Join(zones, ","); got != "zone-a,zone-a,zone-a,zone-a,zone-a" {
		t.Errorf("updating zone %s, want zone-a from the first deletion to the failed pod's return", got)
	}
	w.pods[len(w.pods)-1] = w.newPod("web-0", hashOfTemplate(w.statefulSet()), w.statefulSet(), "StatefulSet", podReady)
	w.replaceDeleted(Plan{}, podReady)
	if p := step(t, w); p.Rollout.UpdatingZone != "" || len(p.DeletePods) != 0 {
		t.Errorf("updating %q, deleted %q once every pod is ready: want neither", p.Rollout.UpdatingZone, deletedNames(p))
	}
}

func TestZoneByZoneOnlyForStateful(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Strategy: appsv1alpha1.ZoneByZone, Paused: true}
	w := newWorld(app)
	step(t, w)
	w.settleStatefulSet(podReady)
	w.app.Spec.Template.Spec.Containers[0].Image = "db:2"
	w.replaceDeleted(step(t, w), podReady)
	if p := step(t, w); len(p.DeletePods) != 0 {
		t.Errorf("a paused ZoneByZone update deleted %s", deletedNames(p))
	}
}

// skewed is a rebalancing app with 4 ready pods: 3 in zone-a, 1 in zone-b, none in zone-c.
func skewed(t *testing.T) *world {
	t.Helper()
	w := settledStateless(t, 4, func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Rebalance: new(true)}
	})
	for i := range w.pods {
		w.pods[i].Spec.NodeName = []string{"node-a", "node-a", "node-a", "node-b"}[i]
	}
	return w
}

func TestRebalanceMovesOnePodOfTheCrowdedZone(t *testing.T) {
	w := skewed(t)
	p := step(t, w)
	if len(p.DeletePods) != 0 {
		t.Fatalf("moved %s before the youngest pod was ready for %v", deletedNames(p), RebalanceInterval)
	}
	if p.Requeue <= 0 || p.Requeue > RebalanceInterval {
		t.Errorf("requeue %v, want within %v", p.Requeue, RebalanceInterval)
	}
	w.now = w.now.Add(RebalanceInterval)
	p = step(t, w)
	if len(p.DeletePods) != 1 || p.DeletePods[0].Pod.Spec.NodeName != "node-a" || p.DeletePods[0].Event.Reason != appsv1alpha1.ReasonRebalanced {
		t.Fatalf("deletes %+v, want one pod of zone-a with a Rebalanced event", p.DeletePods)
	}
	if !strings.Contains(p.DeletePods[0].Event.Message, "zone-c") {
		t.Errorf("event %q does not name the least crowded zone", p.DeletePods[0].Event.Message)
	}
	// The replacement lands in zone-c (the world places new pods by spread): one move at a time.
	w.settleDeployment(podReady)
	if p := step(t, w); len(p.DeletePods) != 0 {
		t.Errorf("a second move at once: %s", deletedNames(p))
	}
	w.now = w.now.Add(RebalanceInterval)
	if p := step(t, w); len(p.DeletePods) != 0 {
		t.Errorf("zones %v are balanced, yet it moved %s", zonesOf(w, w.pods), deletedNames(p))
	}
}

func TestRebalanceHoldsBack(t *testing.T) {
	cases := []struct {
		name   string
		change func(*world)
	}{
		{"not asked for", func(w *world) { w.app.Spec.Availability.Rebalance = nil }},
		{"during an update", func(w *world) { w.app.Spec.Template.Spec.Containers[0].Image = "nginx:2" }},
		{"a pod not ready", func(w *world) { setPodState(&w.pods[3], podStarting, w.now) }},
		{"the budget would break", func(w *world) {
			all := intstr.FromString("100%")
			w.app.Spec.Availability.MinAvailable = &all
		}},
		{"no other zone has a schedulable node", func(w *world) { w.down["zone-b"], w.down["zone-c"] = true, true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := skewed(t)
			w.now = w.now.Add(time.Minute)
			tc.change(w)
			for _, d := range Decide(w.input()).DeletePods {
				if d.Event.Reason == appsv1alpha1.ReasonRebalanced {
					t.Errorf("moved %s", d.Pod.Name)
				}
			}
		})
	}
}

func TestDrainingAndSchedulableNodes(t *testing.T) {
	node := func(unschedulable bool, taints ...string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
		for _, k := range taints {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoSchedule})
		}
		return n
	}
	cases := []struct {
		node                  *corev1.Node
		draining, schedulable bool
	}{
		{node(false), false, true},
		{node(true), true, false},
		{node(false, TaintClusterAutoscalerDeletion), true, false},
		{node(false, TaintKarpenterDisrupted), true, false},
		{node(false, TaintKarpenterDisruption), true, false},
		{node(false, corev1.TaintNodeUnreachable), false, false},
		{node(false, "dedicated"), false, true},
	}
	for i, tc := range cases {
		if got := Draining(tc.node); got != tc.draining {
			t.Errorf("case %d: draining %v, want %v", i, got, tc.draining)
		}
		if got := Schedulable(tc.node); got != tc.schedulable {
			t.Errorf("case %d: schedulable %v, want %v", i, got, tc.schedulable)
		}
	}
}

// A pod deleted in one zone may be scheduled in another: the status keeps naming the zone being
// replaced until the workload is complete.
func TestZoneByZoneNamesTheZoneItReplaces(t *testing.T) {
	w := zonalStateful(t)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:4"
	w.replaceDeleted(step(t, w), podReady)
	p := step(t, w)
	if p.Rollout.UpdatingZone != "zone-a" || deletedNames(p) != "web-0" {
		t.Fatalf("updating %q, deleted %q: want zone-a and web-0", p.Rollout.UpdatingZone, deletedNames(p))
	}
	w.app.Status.UpdatingZone = p.Rollout.UpdatingZone
	w.replaceDeleted(p, podStarting)
	for i := range w.pods {
		if w.pods[i].Name == "web-0" {
			w.pods[i].Spec.NodeName = "node-b" // the replacement landed in zone-b
		}
	}
	if p := step(t, w); p.Rollout.UpdatingZone != "zone-a" || len(p.DeletePods) != 0 {
		t.Errorf("updating %q, deleted %q while web-0 starts in zone-b: want zone-a and nothing", p.Rollout.UpdatingZone, deletedNames(p))
	}
}
