package status

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestZoneLoss(t *testing.T) {
	abc := []string{"a", "b", "c"}
	cases := []struct {
		name         string
		ready        []PodPlace
		clusterZones []string
		minimum      int32
		want         *appsv1alpha1.ZoneLoss
	}{
		{"no ready pod", nil, abc, 2, nil},
		{"one pod per zone", places("a/n1", "b/n2", "c/n3"), abc, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: true, WorstZone: "a", RemainingReady: 2, MinimumReady: 2}},
		{"skewed: 8 in b, 1 in a", places("a/n1", "b/n2", "b/n2", "b/n3", "b/n3", "b/n4", "b/n4", "b/n5", "b/n5"), abc, 8,
			&appsv1alpha1.ZoneLoss{Tolerated: false, WorstZone: "b", RemainingReady: 1, MinimumReady: 8}},
		{"all in one zone of a three-zone cluster", places("a/n1", "a/n2", "a/n3"), abc, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: false, WorstZone: "a", RemainingReady: 0, MinimumReady: 2}},
		{"a one-zone cluster: the node is the domain", places("a/n1", "a/n2", "a/n3"), []string{"a"}, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: true, WorstNode: "n1", RemainingReady: 2, MinimumReady: 2}},
		{"a one-zone cluster, two pods on one node", places("a/n1", "a/n2", "a/n2"), []string{"a"}, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: false, WorstNode: "n2", RemainingReady: 1, MinimumReady: 2}},
		{"one node", places("a/n1", "a/n1", "a/n1"), []string{"a"}, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: false, WorstNode: "n1", RemainingReady: 0, MinimumReady: 2}},
		{"zone labels missing: judged by node", places("n1", "n2", "n3"), nil, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: true, WorstNode: "n1", RemainingReady: 2, MinimumReady: 2}},
		{"one pod's node has no zone label", places("a/n1", "a/n2", "n3"), abc, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: true, WorstNode: "n1", RemainingReady: 2, MinimumReady: 2}},
		{"a budget of 0 still needs a pod", places("a/n1", "a/n2"), abc, 0,
			&appsv1alpha1.ZoneLoss{Tolerated: false, WorstZone: "a", RemainingReady: 0, MinimumReady: 1}},
		{"a tie goes to the first zone by name", places("b/n2", "c/n3", "b/n4", "c/n5"), abc, 2,
			&appsv1alpha1.ZoneLoss{Tolerated: true, WorstZone: "b", RemainingReady: 2, MinimumReady: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ZoneLoss(tc.ready, tc.clusterZones, tc.minimum)
			switch {
			case got == nil && tc.want == nil:
			case got == nil || tc.want == nil || *got != *tc.want:
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The status reports the zone loss, an honest resilience and HighlyAvailable=False ZoneSkewed when a
// zone loss breaks the budget although other zones have room.
func TestComputeZoneLoss(t *testing.T) {
	skewed := places("a/n1", "a/n2", "a/n3", "a/n4", "b/n5", "c/n6")
	cases := []struct {
		name         string
		app          *appsv1alpha1.HighlyAvailableApp
		w            Workload
		ready        []PodPlace
		clusterZones []string
		resilience   appsv1alpha1.Resilience
		reason       string
		tolerated    bool
		minimum      int32
		even         bool
	}{
		{"skewed: 4 of 6 in zone a", app(replicas(6)), settled(6), skewed, []string{"a", "b", "c"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonZoneSkewed, false, 5, false},
		{"balanced, but the default budget needs 5 of 6", app(replicas(6)), settled(6),
			places("a/n1", "a/n2", "b/n3", "b/n4", "c/n5", "c/n6"), []string{"a", "b", "c"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonZoneSkewed, false, 5, true},
		{"skewed, but no other zone has room", app(replicas(6)), settled(6), skewed, []string{"a"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonNodeRedundant, false, 5, false},
		{"balanced with a budget of half", app(replicas(6), minAvailable("50%")), settled(6),
			places("a/n1", "a/n2", "b/n3", "b/n4", "c/n5", "c/n6"), []string{"a", "b", "c"},
			appsv1alpha1.ZoneRedundant, appsv1alpha1.ReasonZoneRedundant, true, 3, false},
		{"one-zone cluster: node redundant, not single zone", app(), settled(3), places("a/n1", "a/n2", "a/n3"), []string{"a"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonNodeRedundant, true, 2, false},
		{"all in one zone of three", app(), settled(3), places("a/n1", "a/n2", "a/n3"), []string{"a", "b", "c"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonSingleZone, false, 2, false},
		// The autoscaler's count (the workload's replicas) sets the budget's minimum, not spec.replicas.
		{"an autoscaler at 4 replicas", app(replicas(2), autoscaling(2)), settled(4),
			places("a/n1", "b/n2", "c/n3", "c/n4"), []string{"a", "b", "c"},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonZoneSkewed, false, 3, true},
		{"zone labels missing", app(), settled(3), places("n1", "n2", "n3"), []string{},
			appsv1alpha1.NodeRedundant, appsv1alpha1.ReasonNodeRedundant, true, 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{App: tc.app, Workload: tc.w, ReadyPods: tc.ready, ClusterZones: tc.clusterZones,
				Rollout: onRevision(1), Now: t0})
			if st.ZoneLoss == nil || st.ZoneLoss.Tolerated != tc.tolerated || st.ZoneLoss.MinimumReady != tc.minimum {
				t.Errorf("zoneLoss %+v, want tolerated %v with minimum %d", st.ZoneLoss, tc.tolerated, tc.minimum)
			}
			if st.Resilience != tc.resilience {
				t.Errorf("resilience %s, want %s", st.Resilience, tc.resilience)
			}
			c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionHighlyAvailable)
			if c == nil || c.Reason != tc.reason {
				t.Fatalf("HighlyAvailable %+v, want reason %s", c, tc.reason)
			}
			// Only a placement that is already even says that placement is not the cause.
			if even := strings.HasSuffix(c.Message, evenNote); tc.reason == appsv1alpha1.ReasonZoneSkewed && even != tc.even {
				t.Errorf("message %q: even placement %v, want %v", c.Message, even, tc.even)
			}
		})
	}
}
