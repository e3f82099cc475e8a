package decide

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// settleStatefulSet plays the StatefulSet controller: ordinals at or above the partition run the
// template in the given state, the others keep what they ran; pods it does not control are left.
func (w *world) settleStatefulSet(state podState) {
	sts := w.statefulSet()
	hash := hashOfTemplate(sts)
	n := *sts.Spec.Replicas
	partition := int32(0)
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = *ru.Partition
	}
	byName := map[string]corev1.Pod{}
	for _, p := range w.pods {
		byName[p.Name] = p
	}
	pods := make([]corev1.Pod, 0, n)
	var ready, updated int32
	for ord := range n {
		name := fmt.Sprintf("web-%d", ord)
		p, ok := byName[name]
		onDelete := sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType
		if !ok || (!onDelete && ord >= partition && p.Labels[rollout.LabelRevisionHash] != hash) {
			p = w.newPod(name, hash, sts, "StatefulSet", state)
		}
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name, UID: sts.UID, Controller: new(true)}}
		if rollout.PodReady(&p) {
			ready++
		}
		if p.Labels[rollout.LabelRevisionHash] == hash {
			updated++
		}
		pods = append(pods, p)
	}
	w.pods = pods
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: n, ReadyReplicas: ready,
		AvailableReplicas: ready, UpdatedReplicas: updated}
}

// TestModel drives random sequences of what happens to an app through Decide, and checks after every
// step the invariants the operator promises.
func TestModel(t *testing.T) {
	images := []string{"nginx:1", "nginx:2", "nginx:3", "nginx:1.91"}
	// seen counts the zone behaviours the random runs reached, so that a change that makes them
	// unreachable fails here rather than passing every invariant vacuously.
	seen := map[string]int{}
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		typ := appsv1alpha1.Stateless
		if seed%3 == 0 {
			typ = appsv1alpha1.Stateful
		}
		w := newWorld(newApp(typ, "nginx:1"))
		w.app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(60))}
		w.draining, w.down, w.silent = map[string]bool{}, map[string]bool{}, map[string]time.Time{}
		if typ == appsv1alpha1.Stateful && seed%2 == 0 {
			w.app.Spec.Rollout.Strategy = appsv1alpha1.ZoneByZone
		}
		state := podReady
		var trace []string
		// Half the runs start with the operator of the first generation of defaults and upgrade it at
		// a random step (upgrade): from then until the template changes, the new operator must do what
		// the old one would have done.
		var old *workload.Options
		upgradeAt := -1
		if seed%2 == 1 {
			w.options.Defaults = workload.DefaultsOriginal
			upgradeAt = rng.IntN(40)
		}
		for i := range 40 {
			if i == upgradeAt {
				if w.deployment() != nil || w.statefulSet() != nil {
					// Pods run revisions of the old operator (none run before its workload exists).
					old = &workload.Options{Defaults: workload.DefaultsOriginal}
				}
				w.options.Defaults = 0
				trace = append(trace, "upgrade the operator")
			}
			switch choice := rng.IntN(13); choice {
			case 9, 10, 12:
				trace = append(trace, w.disturb(rng, choice))
			case 11:
				if typ == appsv1alpha1.Stateless {
					on := w.app.Spec.Availability == nil || w.app.Spec.Availability.Rebalance == nil || !*w.app.Spec.Availability.Rebalance
					w.app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Rebalance: &on}
					w.app.Generation++
					trace = append(trace, fmt.Sprintf("rebalance %v", on))
				}
			case 0:
				img := images[rng.IntN(len(images))]
				if img != w.app.Spec.Template.Spec.Containers[0].Image {
					// A new template: new defaults may reach the pods from now on.
					old = nil
				}
				w.app.Spec.Template.Spec.Containers[0].Image = img
				w.app.Generation++
				trace = append(trace, "image "+img)
			case 1:
				n := int32(1 + rng.IntN(6))
				w.app.Spec.Replicas = &n
				w.app.Generation++
				trace = append(trace, fmt.Sprintf("scale %d", n))
			case 2:
				w.app.Spec.Rollout.Paused = !w.app.Spec.Rollout.Paused
				w.app.Generation++
				trace = append(trace, fmt.Sprintf("paused %v", w.app.Spec.Rollout.Paused))
			case 3:
				if w.app.Spec.Autoscaling == nil {
					w.app.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: new(int32(2)), MaxReplicas: 8}
				} else {
					w.app.Spec.Autoscaling = nil
				}
				w.app.Generation++
				trace = append(trace, fmt.Sprintf("autoscaling %v", w.app.Spec.Autoscaling != nil))
			case 4:
				state = []podState{podReady, podStarting, podPull429, podCrash}[rng.IntN(4)]
				trace = append(trace, fmt.Sprintf("pods %d", state))
			default:
				d := time.Duration(1+rng.IntN(40)) * time.Second
				w.now = w.now.Add(d)
				trace = append(trace, fmt.Sprintf("+%s", d))
			}
			w.simulate(state)
			in := w.input()
			before := in.App.DeepCopy()
			p := Decide(in)
			if !reflect.DeepEqual(before, in.App) {
				t.Fatalf("seed %d step %d: the decision changed the app\n%v", seed, i, trace)
			}
			checkInvariants(t, w, in, p, func() string { return fmt.Sprintf("seed %d step %d: %v", seed, i, trace) })
			if old != nil {
				checkUpgrade(t, in, p, *old, func() string { return fmt.Sprintf("seed %d step %d: %v", seed, i, trace) })
				seen["upgrade"]++
			}
			checkZoneInvariants(t, w, in, p, func() string { return fmt.Sprintf("seed %d step %d: %v", seed, i, trace) })
			checkNodeLossInvariants(t, in, p, func() string { return fmt.Sprintf("seed %d step %d: %v", seed, i, trace) })
			if len(p.MarkPods) > 0 {
				seen[appsv1alpha1.ReasonNodeSilent]++
			}
			for _, e := range p.Events {
				seen[e.Reason]++
			}
			for _, d := range p.DeletePods {
				seen[d.Event.Reason]++
			}
			w.act(p)
		}
	}
	for _, reason := range []string{appsv1alpha1.ReasonDrainSurge, appsv1alpha1.ReasonScaleInPlan, appsv1alpha1.ReasonZoneUpdate,
		appsv1alpha1.ReasonRebalanced, "upgrade", appsv1alpha1.ReasonNodeSilent} {
		if seen[reason] == 0 {
			t.Errorf("no random run reached %s (reached: %v)", reason, seen)
		}
	}
}

// disturb does to the world's nodes what happens to a cluster's: a cordon and its end (9), a zone
// lost and back (10), a node that stops renewing its Lease and renews it again (12); it returns what
// it did, for the trace.
func (w *world) disturb(rng *rand.Rand, choice int) string {
	switch choice {
	case 9:
		node := []string{"node-a", "node-b", "node-c"}[rng.IntN(3)]
		w.draining[node] = !w.draining[node]
		if w.draining[node] {
			w.evictOne(node)
		}
		return fmt.Sprintf("cordon %s %v", node, w.draining[node])
	case 10:
		zone := []string{"zone-a", "zone-b", "zone-c"}[rng.IntN(3)]
		w.down[zone] = !w.down[zone]
		if w.down[zone] {
			w.loseZone(zone)
		}
		return fmt.Sprintf("zone %s down %v", zone, w.down[zone])
	default:
		node := []string{"node-a", "node-b", "node-c"}[rng.IntN(3)]
		if _, ok := w.silent[node]; ok {
			delete(w.silent, node)
			return node + " renews its Lease again"
		}
		w.silent[node] = w.now
		return node + " stops renewing its Lease"
	}
}

// simulate lets the workload controller and the kubelet catch up: the pods of the workload's template
// take the state (a missing image never pulls, whatever the state).
func (w *world) simulate(state podState) {
	if w.deployment() == nil && w.statefulSet() == nil {
		return
	}
	img := ""
	if d := w.deployment(); d != nil {
		img = d.Spec.Template.Spec.Containers[0].Image
	} else {
		img = w.statefulSet().Spec.Template.Spec.Containers[0].Image
	}
	if img == "nginx:1.91" {
		state = podPullNotFound
	}
	if w.deployment() != nil {
		w.settleDeployment(state)
	} else {
		w.settleStatefulSet(state)
	}
}

func checkInvariants(t *testing.T, w *world, in Input, p Plan, where func() string) {
	t.Helper()
	app := in.App
	// Never fewer replicas than the user or the autoscaler set.
	for _, d := range p.Apply {
		var replicas *int32
		switch o := d.Object.(type) {
		case *appsv1.Deployment:
			replicas = o.Spec.Replicas
		case *appsv1.StatefulSet:
			replicas = o.Spec.Replicas
		default:
			continue
		}
		live := ObservedWorkload(w.objs[d.Ref]).Desired
		switch {
		case app.Spec.Autoscaling == nil && (replicas == nil || *replicas < app.Spec.DesiredReplicas()):
			t.Fatalf("%s: applies %v replicas, the spec asks %d", where(), replicas, app.Spec.DesiredReplicas())
		case app.Spec.Autoscaling == nil && *replicas > max(live, app.Spec.DesiredReplicas()+maxSurgeOf(app)):
			t.Fatalf("%s: applies %d replicas, above the spec's %d and its surge", where(), *replicas, app.Spec.DesiredReplicas())
		case app.Spec.Autoscaling != nil && !d.Create && replicas != nil:
			t.Fatalf("%s: applies replicas under an autoscaler", where())
		}
	}
	if h := p.HandOverBefore; h != nil {
		if live := ObservedWorkload(w.objs[h.Ref]).Desired; h.Replicas != live {
			t.Fatalf("%s: hands over %d replicas, %d run", where(), h.Replicas, live)
		}
	}
	// Never a serving pod deleted: only pods that are not ready, and that the workload controls; a
	// zone-by-zone update and a rebalance delete ready pods, within the budget (checkZoneInvariants).
	for _, d := range p.DeletePods {
		if rollout.PodReady(d.Pod) && d.Event.Reason != appsv1alpha1.ReasonZoneUpdate && d.Event.Reason != appsv1alpha1.ReasonRebalanced {
			t.Fatalf("%s: deletes ready pod %s", where(), d.Pod.Name)
		}
		if ref := metav1.GetControllerOf(d.Pod); ref == nil {
			t.Fatalf("%s: deletes pod %s that no workload controls", where(), d.Pod.Name)
		}
	}
	// Never a healthy update failed: with no pod showing a failure signal, the only failure is the
	// deadline, and only after that long without progress.
	for _, e := range p.Events {
		if e.Reason != appsv1alpha1.ReasonRolloutFailed {
			continue
		}
		var signal bool
		for i := range in.Pods {
			if v := rollout.PodFailure(&in.Pods[i], in.Now, rollout.TolerancesOf(&app.Spec)); v.Failed {
				signal = true
			}
		}
		if !signal && !deadlinePassed(in, app) {
			t.Fatalf("%s: a healthy update failed: %s", where(), e.Message)
		}
	}
	// Every refusal reaches the status, with the generation observed.
	if p.Problem != nil {
		st := status.Compute(status.Input{App: app, Workload: p.Workload, Rollout: p.Rollout, Problem: p.Problem, Now: metav1.NewTime(in.Now)})
		c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionStalled)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != p.Problem.Reason || st.ObservedGeneration != app.Generation {
			t.Fatalf("%s: refusal %+v not on the status: %+v", where(), p.Problem, c)
		}
	}
}

// checkUpgrade checks that an operator upgrade restarts no running pod: on the same input, the new
// operator writes the revisions and gives the workload the template the old one would have, as long
// as the app's template has not changed since the upgrade.
func checkUpgrade(t *testing.T, in Input, p Plan, old workload.Options, where func() string) {
	t.Helper()
	before := in
	before.Options = old
	want := Decide(before)
	revisionNames := func(p Plan) []string {
		out := make([]string, 0, len(p.Revisions))
		for _, r := range p.Revisions {
			out = append(out, r.Object.Name)
		}
		return out
	}
	templateOf := func(p Plan) string {
		for _, d := range p.Apply {
			switch o := d.Object.(type) {
			case *appsv1.Deployment:
				return templateHash(o.Spec.Template)
			case *appsv1.StatefulSet:
				return templateHash(o.Spec.Template)
			}
		}
		return ""
	}
	if got, old := revisionNames(p), revisionNames(want); !slices.Equal(got, old) {
		t.Fatalf("%s: after the upgrade the operator writes revisions %v, the old one %v", where(), got, old)
	}
	if got, old := templateOf(p), templateOf(want); got != old {
		t.Fatalf("%s: after the upgrade the workload gets template %s, the old operator's %s", where(), got, old)
	}
}

// checkNodeLossInvariants checks the guards of marking the pods of silent nodes not ready: only
// ready pods on silent nodes, never the app's last ready pods, nothing while most of the cluster is
// silent, and never a marked pod deleted.
func checkNodeLossInvariants(t *testing.T, in Input, p Plan, where func() string) {
	t.Helper()
	if len(p.MarkPods) == 0 {
		return
	}
	if in.SilentShare >= ClusterSilentShare {
		t.Fatalf("%s: marks pods while %.0f%% of the nodes are silent", where(), in.SilentShare*100)
	}
	marked := map[types.UID]bool{}
	for _, m := range p.MarkPods {
		marked[m.Pod.UID] = true
		lease, ok := in.NodeLeases[m.Pod.Spec.NodeName]
		if !rollout.PodReady(m.Pod) || !ok || in.Now.Sub(lease.LastRenewal) < lease.RenewInterval*3/2 {
			t.Fatalf("%s: marks pod %s, not ready or on a node that renews its Lease", where(), m.Pod.Name)
		}
	}
	left := 0
	for i := range in.Pods {
		if rollout.PodReady(&in.Pods[i]) && !marked[in.Pods[i].UID] && in.Pods[i].DeletionTimestamp == nil {
			left++
		}
	}
	if left == 0 {
		t.Fatalf("%s: marks the app's last ready pods %v", where(), p.MarkPods)
	}
	for _, d := range p.DeletePods {
		if marked[d.Pod.UID] {
			t.Fatalf("%s: deletes pod %s it marks not ready", where(), d.Pod.Name)
		}
	}
}

// deadlinePassed tells whether the update revision went longer than its deadline without progress.
func deadlinePassed(in Input, app *appsv1alpha1.HighlyAvailableApp) bool {
	open := []rollout.Record{}
	recorded := map[string]bool{}
	for i := range in.Revisions {
		r := rollout.ReadRecord(&in.Revisions[i])
		recorded[r.Hash] = true
		if r.Outcome == rollout.OutcomeNone {
			open = append(open, r)
		}
	}
	// A first revision is recorded once its rollout ends: until then it started with its workload.
	if obj := in.Objects[WorkloadRef(app)]; obj != nil {
		if w := ObservedWorkload(obj); !recorded[w.Hash] {
			open = append(open, rollout.Record{Hash: w.Hash, ProgressAt: obj.GetCreationTimestamp().Time})
		}
	}
	for _, r := range open {
		last := rollout.LastProgress(rollout.Input{Pods: in.Pods, UpdateHash: r.Hash, ProgressAt: r.ProgressAt})
		if in.Now.Sub(last) > time.Duration(app.Spec.ProgressDeadlineSeconds())*time.Second {
			return true
		}
	}
	return false
}

// evictOne evicts one pod of the app from a cordoned node, as a drain does once the budget allows it.
func (w *world) evictOne(node string) {
	for i := range w.pods {
		if w.pods[i].Spec.NodeName == node {
			w.pods = append(w.pods[:i], w.pods[i+1:]...)
			return
		}
	}
}

// loseZone removes the pods of a zone, as the node lifecycle controller does once its nodes are gone.
func (w *world) loseZone(zone string) {
	node := "node-" + strings.TrimPrefix(zone, "zone-")
	w.pods = slices.DeleteFunc(w.pods, func(p corev1.Pod) bool { return p.Spec.NodeName == node })
}

func maxSurgeOf(app *appsv1alpha1.HighlyAvailableApp) int32 {
	p := planner{app: app}
	return p.drainSurgeCap()
}

// checkZoneInvariants checks the promises of the zone behaviours: ready pods never fall below the
// disruption budget's minimum because of a deletion the operator decides, the budget of a surging
// app counts against spec.replicas, and nothing stays surged with no pod on a draining node.
func checkZoneInvariants(t *testing.T, w *world, in Input, p Plan, where func() string) {
	t.Helper()
	app := in.App
	var ready, readyDeleted int32
	deleted := map[string]bool{}
	for _, d := range p.DeletePods {
		deleted[string(d.Pod.UID)] = true
	}
	for i := range in.Pods {
		if rollout.PodReady(&in.Pods[i]) && in.Pods[i].DeletionTimestamp == nil {
			ready++
			if deleted[string(in.Pods[i].UID)] {
				readyDeleted++
			}
		}
	}
	desired := p.Workload.Desired
	if readyDeleted > 0 && ready-readyDeleted < workload.MinAvailablePods(app, desired) {
		t.Fatalf("%s: deletes %d ready pods of %d, below the budget's minimum %d", where(), readyDeleted, ready, workload.MinAvailablePods(app, desired))
	}
	for _, d := range p.Apply {
		if pdb, ok := d.Object.(*policyv1.PodDisruptionBudget); ok && maxSurgeOf(app) > 0 {
			if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != int(app.Spec.DesiredReplicas()) {
				t.Fatalf("%s: a surging app's budget is %+v, want minAvailable %d", where(), pdb.Spec, app.Spec.DesiredReplicas())
			}
		}
		dep, ok := d.Object.(*appsv1.Deployment)
		if !ok || app.Spec.Autoscaling != nil {
			continue
		}
		onDraining := false
		for i := range in.Pods {
			if in.DrainingNodes[in.Pods[i].Spec.NodeName] {
				onDraining = true
			}
		}
		live := ObservedWorkload(w.objs[d.Ref]).Desired
		if !onDraining && *dep.Spec.Replicas > max(app.Spec.DesiredReplicas(), live) {
			t.Fatalf("%s: surges to %d replicas with no pod on a draining node", where(), *dep.Spec.Replicas)
		}
	}
}
