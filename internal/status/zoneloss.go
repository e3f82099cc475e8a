package status

import (
	"fmt"
	"slices"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

// ZoneLoss computes what losing the failure domain that holds most ready pods would leave: the zone,
// or the node when the cluster has one zone (clusterZones, the zones with schedulable nodes, has at
// most one and the ready pods are all in one zone) or when a ready pod's node has no zone label (a
// zone loss cannot be judged then, a node loss can). minimum is the disruption budget's minimum of
// ready pods for the desired count, at least 1. It returns nil when no pod is ready.
func ZoneLoss(ready []PodPlace, clusterZones []string, minimum int32) *appsv1alpha1.ZoneLoss {
	if len(ready) == 0 {
		return nil
	}
	minimum = max(minimum, 1)
	byZone, byNode := map[string]int32{}, map[string]int32{}
	labelled := true
	for _, p := range ready {
		byNode[p.Node]++
		if p.Zone == "" {
			labelled = false
			continue
		}
		byZone[p.Zone]++
	}
	zones := len(byZone)
	for _, z := range clusterZones {
		if _, ok := byZone[z]; !ok {
			zones++
		}
	}
	total := int32(len(ready))
	out := &appsv1alpha1.ZoneLoss{MinimumReady: minimum}
	if labelled && zones >= 2 {
		zone, n := largest(byZone)
		out.WorstZone, out.RemainingReady = zone, total-n
	} else {
		node, n := largest(byNode)
		out.WorstNode, out.RemainingReady = node, total-n
	}
	out.Tolerated = out.RemainingReady >= minimum
	return out
}

// largest is the key with the highest count, the first by name on a tie.
func largest(counts map[string]int32) (string, int32) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var best string
	var n int32 = -1
	for _, k := range keys {
		if counts[k] > n {
			best, n = k, counts[k]
		}
	}
	return best, n
}

// roomElsewhere tells whether the cluster has schedulable nodes in a zone other than the given one.
func roomElsewhere(clusterZones []string, zone string) bool {
	return slices.ContainsFunc(clusterZones, func(z string) bool { return z != "" && z != zone })
}

// minimumReady is the disruption budget's minimum of ready pods for the desired count.
func minimumReady(app *appsv1alpha1.HighlyAvailableApp, desired int32) int32 {
	return workload.MinAvailablePods(app, desired)
}

// zoneLossMessage tells in words what a zone loss would leave.
func zoneLossMessage(zl *appsv1alpha1.ZoneLoss) string {
	domain := "zone " + zl.WorstZone
	if zl.WorstZone == "" {
		domain = "node " + zl.WorstNode
	}
	left := fmt.Sprintf("%d ready pods", zl.RemainingReady)
	if zl.RemainingReady == 1 {
		left = "1 ready pod"
	}
	return fmt.Sprintf("losing %s would leave %s; the disruption budget needs %d", domain, left, zl.MinimumReady)
}

// evenlySpread tells whether the ready pods are spread over the zones with room with a skew of at most
// 1: then no placement does better, and only more replicas or another budget make a zone loss
// tolerable.
func evenlySpread(ready []PodPlace, clusterZones []string) bool {
	counts := map[string]int{}
	for _, z := range clusterZones {
		counts[z] = 0
	}
	for _, p := range ready {
		counts[p.Zone]++
	}
	lo, hi := -1, 0
	for _, n := range counts {
		hi = max(hi, n)
		if lo < 0 || n < lo {
			lo = n
		}
	}
	return hi-lo <= 1
}
