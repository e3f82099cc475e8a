package decide

import (
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// AnnotationDeletionCost is the pod annotation the ReplicaSet controller reads to choose which pods a
// scale-in removes: the lowest cost first.
const AnnotationDeletionCost = "controller.kubernetes.io/pod-deletion-cost"

// deletionCostFirst marks the pods a scale-in should remove.
const deletionCostFirst = "-1"

// The taints that cluster autoscalers and Karpenter put on a node they are about to drain.
const (
	TaintClusterAutoscalerDeletion = "ToBeDeletedByClusterAutoscaler"
	TaintKarpenterDisrupted        = "karpenter.sh/disrupted"
	TaintKarpenterDisruption       = "karpenter.sh/disruption"
)

// RebalanceInterval is the least time between two rebalancing moves: the youngest pod of the app must
// have been ready that long.
const RebalanceInterval = 15 * time.Second

// actionDelete is the action of the Events of a pod the operator deletes.
const actionDelete = "Delete"

// ScaleInHold is how soon a scale-in held for its deletion costs is looked at again.
const ScaleInHold = time.Second

// Draining tells whether a node is being drained: cordoned, or tainted by a cluster autoscaler or
// Karpenter that is about to remove it.
func Draining(node *corev1.Node) bool {
	if node.Spec.Unschedulable {
		return true
	}
	for _, t := range node.Spec.Taints {
		switch t.Key {
		case TaintClusterAutoscalerDeletion, TaintKarpenterDisrupted, TaintKarpenterDisruption:
			return true
		}
	}
	return false
}

// Schedulable tells whether new pods may land on a node: not draining, and not tainted NoSchedule or
// NoExecute because it is not ready, unreachable or otherwise out of service.
func Schedulable(node *corev1.Node) bool {
	if Draining(node) {
		return false
	}
	for _, t := range node.Spec.Taints {
		switch t.Key {
		case corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable,
			corev1.TaintNodeOutOfService, corev1.TaintNodeNetworkUnavailable:
			return false
		}
	}
	return true
}

// PodCost sets (Cost non-empty) or removes the deletion cost annotation of one pod.
type PodCost struct {
	Pod  *corev1.Pod
	Cost string
}

// podZone is the zone of the node a pod runs on; "" when it has none or runs nowhere yet.
func (p *planner) podZone(pod *corev1.Pod) string {
	return p.in.NodeZones[pod.Spec.NodeName]
}

// activePods are the owned pods not being deleted.
func (p *planner) activePods() []*corev1.Pod {
	var out []*corev1.Pod
	for i := range p.pods {
		if p.pods[i].DeletionTimestamp == nil {
			out = append(out, &p.pods[i])
		}
	}
	return out
}

// drainSurgeCap is how many pods a drain may surge: the rollout's maxSurge against replicas; 0 when
// the app does not surge on drains.
func (p *planner) drainSurgeCap() int32 {
	spec := &p.app.Spec
	if !spec.SurgeOnDrain() {
		return 0
	}
	surge := spec.RolloutMaxSurge()
	n, err := intstr.GetScaledValueFromIntOrPercent(&surge, int(spec.DesiredReplicas()), true)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// drainSurge is how many replicas the Deployment gets above spec.replicas: one per pod of the app on
// a node being drained, within maxSurge.
func (p *planner) drainSurge() int32 {
	limit := p.drainSurgeCap()
	if limit == 0 {
		return 0
	}
	var n int32
	for _, pod := range p.activePods() {
		if p.in.DrainingNodes[pod.Spec.NodeName] {
			n++
		}
	}
	return min(n, limit)
}

// statelessReplicas is the replica count of a Stateless app without an autoscaler: spec.replicas
// plus the drain surge. A scale-in first marks the pods it should remove, most crowded zone first,
// and keeps the live count until the marks are observed, so that the ReplicaSet controller sees them.
func (p *planner) statelessReplicas() int32 {
	want := p.app.Spec.DesiredReplicas()
	surge := p.drainSurge()
	if surge > 0 {
		var nodes []string
		for node, draining := range p.in.DrainingNodes {
			if draining {
				nodes = append(nodes, node)
			}
		}
		slices.Sort(nodes)
		if d, ok := p.workload.(*appsv1.Deployment); !ok || d.Spec.Replicas == nil || *d.Spec.Replicas != want+surge {
			p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonDrainSurge, "Scale",
				"%d replicas while pods of the app run on draining nodes (%s): %d replacements are started before they are evicted",
				want+surge, strings.Join(nodes, ", "), surge)
		}
	}
	want += surge
	d, ok := p.workload.(*appsv1.Deployment)
	if !ok || d.Spec.Replicas == nil || *d.Spec.Replicas <= want || p.app.Spec.SpreadPolicy() == appsv1alpha1.SpreadNone {
		return want
	}
	if p.planScaleIn(want) {
		p.requeue(ScaleInHold)
		return *d.Spec.Replicas
	}
	return want
}

// planScaleIn marks with the lowest deletion cost the pods a scale-in to target should remove: from
// the zone with most pods first (then the node with most pods, then the youngest pod), and clears
// the mark of every other pod. It returns true when a pod needs a new mark, false once the pods carry
// them (or when pods of several revisions make the ReplicaSet's choice its own).
func (p *planner) planScaleIn(target int32) bool {
	active := p.activePods()
	hashes := map[string]bool{}
	for _, pod := range active {
		hashes[pod.Labels[rollout.LabelRevisionHash]] = true
	}
	if len(hashes) > 1 {
		return false
	}
	victims := p.crowdedFirst(active, len(active)-int(target))
	var patches []PodCost
	for _, pod := range active {
		want := ""
		if victims[pod.UID] {
			want = deletionCostFirst
		}
		have, set := pod.Annotations[AnnotationDeletionCost]
		switch {
		case want != "" && have != want:
			patches = append(patches, PodCost{Pod: pod, Cost: want})
		case want == "" && set && have == deletionCostFirst:
			patches = append(patches, PodCost{Pod: pod})
		}
	}
	if len(patches) == 0 {
		return false
	}
	p.plan.PodCosts = append(p.plan.PodCosts, patches...)
	var names []string
	for _, pod := range active {
		if victims[pod.UID] {
			names = append(names, fmt.Sprintf("%s (%s)", pod.Name, orUnknown(p.podZone(pod))))
		}
	}
	slices.Sort(names)
	p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonScaleInPlan, "Scale", "scaling in to %d replicas from the most crowded zones: %s",
		target, strings.Join(names, ", "))
	return true
}

// crowdedFirst picks n pods, one at a time from the zone that has most pods left (a pod on no node
// first), within it from the node with most pods, a pod that is not ready before one that is, then
// the youngest.
func (p *planner) crowdedFirst(pods []*corev1.Pod, n int) map[types.UID]bool {
	out := map[types.UID]bool{}
	left := slices.Clone(pods)
	for range max(n, 0) {
		if len(left) == 0 {
			break
		}
		byZone, byNode := map[string]int{}, map[string]int{}
		for _, pod := range left {
			byZone[p.podZone(pod)]++
			byNode[pod.Spec.NodeName]++
		}
		best := slices.MinFunc(left, func(a, b *corev1.Pod) int {
			if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
				return boolFirst(a.Spec.NodeName == "")
			}
			if za, zb := byZone[p.podZone(a)], byZone[p.podZone(b)]; za != zb {
				return zb - za
			}
			if p.podZone(a) != p.podZone(b) {
				return strings.Compare(p.podZone(a), p.podZone(b))
			}
			if na, nb := byNode[a.Spec.NodeName], byNode[b.Spec.NodeName]; na != nb {
				return nb - na
			}
			if rollout.PodReady(a) != rollout.PodReady(b) {
				return boolFirst(!rollout.PodReady(a))
			}
			if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
		out[best.UID] = true
		left = slices.DeleteFunc(left, func(pod *corev1.Pod) bool { return pod.UID == best.UID })
	}
	return out
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

func orUnknown(zone string) string {
	if zone == "" {
		return "no zone"
	}
	return zone
}

// drainBudget keeps the disruption budget at replicas while drains surge: an eviction is allowed
// only once a replacement is ready, so that a drain never takes the app below its desired ready
// count. The budget counts against the desired replicas, not the surged ones.
func (p *planner) drainBudget(pdb *policyv1.PodDisruptionBudget) {
	if p.drainSurgeCap() == 0 {
		return
	}
	minAvailable := intstr.FromInt32(p.app.Spec.DesiredReplicas())
	pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable = &minAvailable, nil
}

// zoneByZoneStrategy gives a ZoneByZone app's StatefulSet the OnDelete strategy: the operator, not the
// StatefulSet controller, decides which pods are replaced.
func (p *planner) zoneByZoneStrategy(sts *appsv1.StatefulSet) {
	if p.app.Spec.RolloutStrategy() == appsv1alpha1.ZoneByZone {
		sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	}
}

// zoneByZone replaces the pods of a ZoneByZone app one zone at a time, zones in name order: once the
// StatefulSet carries the template its pods should run (the update, or the rollback target after a
// failure) and every pod is ready, the pods of the first zone that still runs another revision are
// deleted, as many as the disruption budget allows, and come back on the template. While a pod of
// the template is not ready, nothing else is deleted: a failure stops the update in that zone, and
// the rollback brings it back (stuckPods deletes the failed pods).
func (p *planner) zoneByZone() {
	// While a node of the app is silent, its pods cannot be told from lost ones: no pod is replaced.
	if p.app.Spec.RolloutStrategy() != appsv1alpha1.ZoneByZone || p.workload == nil ||
		p.plan.Problem != nil || p.app.Spec.Paused() || len(p.plan.SilentNodes) > 0 {
		return
	}
	w := ObservedWorkload(p.workload)
	target := p.template.Labels[rollout.LabelRevisionHash]
	if w.Hash != target || w.ObservedGeneration < w.Generation || p.plan.Workload.Generation != w.Generation {
		// The StatefulSet takes a template (a rollback's, say) or changes in this reconcile (a scale),
		// or its controller has not observed it yet: look again once it has. The zone being replaced
		// stays named meanwhile; a rollback is part of that zone's update.
		p.plan.Rollout.UpdatingZone = p.app.Status.UpdatingZone
		return
	}
	deleting := map[string]bool{}
	for _, d := range p.plan.DeletePods {
		deleting[string(d.Pod.UID)] = true
	}
	var outdated []*corev1.Pod
	var waitingOn *corev1.Pod
	var ready int32
	active := p.activePods()
	for _, pod := range active {
		if pod.Labels[rollout.LabelRevisionHash] != target {
			outdated = append(outdated, pod)
		}
		switch {
		case deleting[string(pod.UID)] || !rollout.PodReady(pod):
			if waitingOn == nil {
				waitingOn = pod
			}
		default:
			ready++
		}
	}
	for i := range p.pods {
		if waitingOn == nil && p.pods[i].DeletionTimestamp != nil {
			waitingOn = &p.pods[i]
		}
	}
	if waitingOn != nil || int32(len(active)) < w.Desired {
		// A pod is starting, failing, being deleted or not created again yet: the zone being
		// replaced waits for it. The zone is the one the last status named (a pod that comes back
		// may be scheduled in another zone), or the pod's; it is cleared once every pod is ready on
		// the template.
		previous := p.app.Status.UpdatingZone
		if len(outdated) > 0 || previous != "" {
			p.plan.Rollout.UpdatingZone = previous
			if previous == "" && waitingOn != nil {
				p.plan.Rollout.UpdatingZone = p.podZone(waitingOn)
			}
		}
		return
	}
	if len(outdated) == 0 {
		return
	}
	zone := p.podZone(outdated[0])
	for _, pod := range outdated {
		if z := p.podZone(pod); z < zone {
			zone = z
		}
	}
	p.plan.Rollout.UpdatingZone = zone
	budget := ready - workload.MinAvailablePods(p.app, w.Desired)
	slices.SortFunc(outdated, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	for _, pod := range outdated {
		if budget <= 0 {
			break
		}
		if p.podZone(pod) != zone {
			continue
		}
		budget--
		p.plan.DeletePods = append(p.plan.DeletePods, PodDelete{Pod: pod, Event: Event{
			Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonZoneUpdate, Action: actionDelete,
			Message: fmt.Sprintf("deleted pod %s in %s: the ZoneByZone update replaces this zone's pods now; it comes back on revision %s, its volumes are kept",
				pod.Name, orUnknown(zone), target),
		}})
	}
}

// rebalance moves one pod of the most crowded zone when the ready pods are spread over the zones that
// have schedulable nodes with a skew above 1 (maxSkew of the zone spread): it deletes the pod, and the
// scheduler places its replacement by the spread constraint. Only when asked for, with every pod
// ready, nothing being rolled out, scaled or drained, one fewer ready pod still within the disruption
// budget, and the youngest pod ready for at least RebalanceInterval.
func (p *planner) rebalance() {
	active, ok := p.rebalancing()
	if !ok {
		return
	}
	counts := map[string]int{}
	for _, z := range p.in.ClusterZones {
		counts[z] = 0
	}
	youngest := time.Time{}
	for _, pod := range active {
		zone := p.podZone(pod)
		if !rollout.PodReady(pod) || zone == "" {
			return
		}
		counts[zone]++
		if t := readySinceOrCreated(pod); t.After(youngest) {
			youngest = t
		}
	}
	crowded, least := "", ""
	for _, z := range sortedKeys(counts) {
		if crowded == "" || counts[z] > counts[crowded] {
			crowded = z
		}
		if slices.Contains(p.in.ClusterZones, z) && (least == "" || counts[z] < counts[least]) {
			least = z
		}
	}
	if counts[crowded]-counts[least] <= 1 || int32(len(active))-1 < workload.MinAvailablePods(p.app, int32(len(active))) {
		return
	}
	if wait := youngest.Add(RebalanceInterval).Sub(p.in.Now); wait > 0 {
		p.requeue(wait)
		return
	}
	var inZone []*corev1.Pod
	for _, pod := range active {
		if p.podZone(pod) == crowded {
			inZone = append(inZone, pod)
		}
	}
	picked := p.crowdedFirst(inZone, 1)
	i := slices.IndexFunc(inZone, func(pod *corev1.Pod) bool { return picked[pod.UID] })
	victim := inZone[i]
	p.plan.DeletePods = append(p.plan.DeletePods, PodDelete{Pod: victim, Event: Event{
		Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonRebalanced, Action: actionDelete,
		Message: fmt.Sprintf("deleted pod %s in %s to rebalance the zones (%s): its replacement goes to the least crowded zone, %s",
			victim.Name, crowded, zoneCounts(counts), least),
	}})
	p.requeue(RebalanceInterval)
}

// rebalancing returns the pods to rebalance, and whether the app may be rebalanced now: asked for, a
// Deployment settled on the spec's revision and count with nothing else planned and no silent node,
// and at least two zones with schedulable nodes.
func (p *planner) rebalancing() ([]*corev1.Pod, bool) {
	app := p.app
	d, ok := p.workload.(*appsv1.Deployment)
	if !app.Spec.Rebalance() || !ok || p.plan.Problem != nil || p.failed || app.Spec.Paused() || len(p.plan.SilentNodes) > 0 ||
		len(p.in.ClusterZones) < 2 || len(p.plan.DeletePods) > 0 || len(p.plan.PodCosts) > 0 {
		return nil, false
	}
	w := ObservedWorkload(d)
	if p.plan.Workload.Generation != w.Generation || !status.Complete(w) || w.Hash != p.updateHash || w.Desired != app.Spec.DesiredReplicas() || p.drainSurge() > 0 {
		return nil, false
	}
	active := p.activePods()
	return active, int32(len(active)) == w.Desired && len(active) == len(p.pods)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func zoneCounts(counts map[string]int) string {
	parts := make([]string, 0, len(counts))
	for _, z := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%s: %d", z, counts[z]))
	}
	return strings.Join(parts, ", ")
}

// readySinceOrCreated is when the pod became ready, its creation when that is unknown.
func readySinceOrCreated(pod *corev1.Pod) time.Time {
	if t := rollout.ReadySince(pod); !t.IsZero() {
		return t
	}
	return pod.CreationTimestamp.Time
}
