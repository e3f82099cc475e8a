package status

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
	t2 = metav1.NewTime(t0.Add(2 * time.Minute))
)

const (
	appWeb          = "web"
	dbClient        = "db-client"
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
	summary3of3     = "3/3"
	summary0of3     = "0/3"

	imagePull = "pod web-7f9 container web: ImagePullBackOff: Back-off pulling image \"nginx:1.91\""
	conflict  = "Service web already exists and is not owned by this app; the operator leaves it untouched"
)

type appOption func(*appsv1alpha1.HighlyAvailableApp)

// app is a Stateless app appWeb (generation 4) with the API server's defaults unset.
func app(opts ...appOption) *appsv1alpha1.HighlyAvailableApp {
	a := &appsv1alpha1.HighlyAvailableApp{ObjectMeta: metav1.ObjectMeta{Name: appWeb, Namespace: "shop", Generation: 4}}
	for _, o := range opts {
		o(a)
	}
	return a
}

func replicas(n int32) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = new(n) }
}

func stateful(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "db"
	a.Spec.Type = appsv1alpha1.Stateful
}

func spread(p appsv1alpha1.SpreadPolicy) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Spread: p}
	}
}

func minAvailable(v string) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) {
		m := intstr.Parse(v)
		a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: &m}
	}
}

func autoscaling(minReplicas int32) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: new(minReplicas), MaxReplicas: 10}
	}
}

// settled is a Deployment whose n replicas all run the update revision and are available.
func settled(n int32) Workload {
	return Workload{Kind: kindDeployment, Name: appWeb, Found: true, Generation: 2, ObservedGeneration: 2,
		Desired: n, Replicas: n, ReadyReplicas: n, UpdatedReplicas: n, AvailableReplicas: n}
}

// figures sets the workload's total, ready, updated and available counts.
func figures(w Workload, total, ready, updated, available int32) Workload {
	w.Replicas, w.ReadyReplicas, w.UpdatedReplicas, w.AvailableReplicas = total, ready, updated, available
	return w
}

// places reads "zone/node" pairs; a pair without a slash is a node with no zone label.
func places(pairs ...string) []PodPlace {
	out := make([]PodPlace, 0, len(pairs))
	for _, p := range pairs {
		zone, node, ok := strings.Cut(p, "/")
		if !ok {
			zone, node = "", p
		}
		out = append(out, PodPlace{Zone: zone, Node: node})
	}
	return out
}

// onRevision is a rollout settled on revision n.
func onRevision(n int64) Rollout {
	return Rollout{CurrentRevision: n, UpdateRevision: n, OnUpdateRevision: true}
}

// cond is the part of a condition a test states; the time and generation are checked apart.
type cond struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

func T(reason, msg string) cond { return cond{metav1.ConditionTrue, reason, msg} }
func F(reason, msg string) cond { return cond{metav1.ConditionFalse, reason, msg} }

// conds is Ready, Reconciling, Stalled, Available and HighlyAvailable, in that order.
type conds [5]cond

var conditionOrder = [5]string{
	appsv1alpha1.ConditionReady, appsv1alpha1.ConditionReconciling, appsv1alpha1.ConditionStalled,
	appsv1alpha1.ConditionAvailable, appsv1alpha1.ConditionHighlyAvailable,
}

var (
	complete = F(appsv1alpha1.ReasonRolloutComplete, "")
	ha3zones = T(appsv1alpha1.ReasonZoneRedundant, "3 pods in 3 zones on 3 nodes; losing zone a would leave 2 ready pods; the disruption budget needs 2")
)

func available(ready, desired, minimum int32) cond {
	return T(appsv1alpha1.ReasonMinimumAvailable, fmt.Sprintf("%d of %d pods ready; the disruption budget needs %d", ready, desired, minimum))
}

func below(ready, desired, minimum int32) cond {
	return F(appsv1alpha1.ReasonBelowMinimum, fmt.Sprintf("%d of %d pods ready; the disruption budget needs %d", ready, desired, minimum))
}

func rolloutComplete(rev int64, available, desired int32) cond {
	return T(appsv1alpha1.ReasonRolloutComplete, fmt.Sprintf("revision %d serves on %d of %d replicas", rev, available, desired))
}

// figuresWant are the status fields besides the conditions.
type figuresWant struct {
	workload     *appsv1alpha1.WorkloadReference
	replicas     int32 // ready, updated and available are taken from the input
	readySummary string
	resilience   appsv1alpha1.Resilience
	zones, nodes int32
}

func TestCompute(t *testing.T) {
	deployment := &appsv1alpha1.WorkloadReference{Kind: kindDeployment, Name: appWeb}
	sts := &appsv1alpha1.WorkloadReference{Kind: kindStatefulSet, Name: "db"}
	threeZones := places("a/n1", "b/n2", "c/n3")
	oneZone := places("a/n1", "a/n2", "a/n3")
	stsWorkload := func(w Workload) Workload { w.Kind, w.Name = kindStatefulSet, "db"; return w }
	movingMsg := "1 of 3 replicas updated, 4 ready, 4 available, 4 in total"
	rolledBack := "revision 5 failed and was rolled back to revision 4: " + imagePull

	cases := []struct {
		name    string
		in      Input
		figures figuresWant
		conds   conds
		phase   appsv1alpha1.Phase
	}{
		{
			name:    "three zones, settled",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(), Workload: settled(3), Service: appWeb, ReadyPods: threeZones, Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds:   conds{rolloutComplete(4, 3, 3), complete, complete, available(3, 3, 2), ha3zones},
		},
		{
			name:    "one zone, three nodes, zone spread asked for",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(), Workload: settled(3), Service: appWeb, ReadyPods: oneZone, Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.NodeRedundant, 1, 3},
			conds: conds{rolloutComplete(4, 3, 3), complete, complete, available(3, 3, 2),
				F(appsv1alpha1.ReasonSingleZone, "3 pods in 1 zone")},
		},
		{
			name:    "one zone, three nodes, node spread asked for",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(spread(appsv1alpha1.SpreadNode)), Workload: settled(3), ReadyPods: oneZone, Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.NodeRedundant, 1, 3},
			conds: conds{rolloutComplete(4, 3, 3), complete, complete, available(3, 3, 2),
				T(appsv1alpha1.ReasonNodeRedundant, "3 pods on 3 nodes")},
		},
		{
			name:    "nodes without zone labels count as no zone",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(spread(appsv1alpha1.SpreadNone)), Workload: settled(2), ReadyPods: places("n1", "n2"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 2, "2/2", appsv1alpha1.NodeRedundant, 0, 2},
			conds: conds{rolloutComplete(4, 2, 2), complete, complete, available(2, 2, 1),
				T(appsv1alpha1.ReasonNodeRedundant, "2 pods on 2 nodes")},
		},
		{
			name:    "every pod on one node",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(), Workload: settled(3), ReadyPods: places("a/n1", "a/n1", "a/n1"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.SinglePointOfFailure, 1, 1},
			conds: conds{rolloutComplete(4, 3, 3), complete, complete, available(3, 3, 2),
				F(appsv1alpha1.ReasonSingleNode, "3 pods on 1 node")},
		},
		{
			name:    "no pod ready yet",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(), Workload: figures(settled(3), 3, 0, 3, 0), ReadyPods: nil, Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary0of3, appsv1alpha1.Unavailable, 0, 0},
			conds: conds{
				F(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 0 ready, 0 available, 3 in total"),
				T(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 0 ready, 0 available, 3 in total"),
				complete, below(0, 3, 2), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready"),
			},
		},
		{
			name:    "one of three ready: below the budget's minimum",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(), Workload: figures(settled(3), 3, 1, 3, 1), ReadyPods: places("a/n1"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, "1/3", appsv1alpha1.SinglePointOfFailure, 1, 1},
			conds: conds{
				F(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 1 ready, 1 available, 3 in total"),
				T(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 1 ready, 1 available, 3 in total"),
				complete, below(1, 3, 2), F(appsv1alpha1.ReasonSingleNode, "1 pod on 1 node"),
			},
		},
		{
			name:    "minAvailable 100%: two of three ready is not enough",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(minAvailable("100%")), Workload: figures(settled(3), 3, 2, 3, 2), ReadyPods: places("a/n1", "b/n2"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, "2/3", appsv1alpha1.NodeRedundant, 2, 2},
			conds: conds{
				F(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 2 ready, 2 available, 3 in total"),
				T(appsv1alpha1.ReasonRollingOut, "3 of 3 replicas updated, 2 ready, 2 available, 3 in total"),
				complete, below(2, 3, 3), F(appsv1alpha1.ReasonZoneSkewed, "2 pods in 2 zones on 2 nodes, but losing zone a would leave 1 ready pod; the disruption budget needs 3"+evenNote),
			},
		},
		{
			name:    "scaled to 1",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(replicas(1)), Workload: settled(1), ReadyPods: places("a/n1"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 1, "1/1", appsv1alpha1.SinglePointOfFailure, 1, 1},
			conds: conds{rolloutComplete(4, 1, 1), complete, complete, available(1, 1, 0),
				F(appsv1alpha1.ReasonSingleReplica, "1 replica asked for: any disruption takes the app down; ask for at least 2")},
		},
		{
			name:    "scaled to 0",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(replicas(0)), Workload: settled(0), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 0, "0/0", appsv1alpha1.Unavailable, 0, 0},
			conds: conds{rolloutComplete(4, 0, 0), complete, complete, available(0, 0, 0),
				F(appsv1alpha1.ReasonSingleReplica, "0 replicas asked for: any disruption takes the app down; ask for at least 2")},
		},
		{
			name:  "settled on an older revision: the spec's has not reached the workload yet",
			phase: appsv1alpha1.PhaseProgressing,
			in: Input{App: app(), Workload: settled(3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5}},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{F(appsv1alpha1.ReasonRollingOut, "rolling out revision 5"), T(appsv1alpha1.ReasonRollingOut, "rolling out revision 5"),
				complete, available(3, 3, 2), ha3zones},
		},
		{
			name:    "scaling down from 5 to 3",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(), Workload: figures(settled(3), 5, 5, 5, 5), ReadyPods: places("a/n1", "b/n2", "c/n3", "a/n4", "b/n5"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 5, "5/3", appsv1alpha1.ZoneRedundant, 3, 5},
			conds: conds{
				F(appsv1alpha1.ReasonScaling, "5 of 3 replicas updated, 5 ready, 5 available, 5 in total"),
				T(appsv1alpha1.ReasonScaling, "5 of 3 replicas updated, 5 ready, 5 available, 5 in total"),
				complete, available(5, 3, 2), T(appsv1alpha1.ReasonZoneRedundant, "5 pods in 3 zones on 5 nodes; losing zone a would leave 3 ready pods; the disruption budget needs 2"),
			},
		},
		{
			name:    "scaling up from 3 to 5 on the same revision",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(), Workload: figures(settled(5), 4, 3, 4, 3), ReadyPods: places("a/n1", "b/n2", "c/n3"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 4, "3/5", appsv1alpha1.NodeRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonScaling, "4 of 5 replicas updated, 3 ready, 3 available, 4 in total"),
				T(appsv1alpha1.ReasonScaling, "4 of 5 replicas updated, 3 ready, 3 available, 4 in total"),
				complete, below(3, 5, 4), F(appsv1alpha1.ReasonZoneSkewed, "3 pods in 3 zones on 3 nodes, but losing zone a would leave 2 ready pods; the disruption budget needs 4"+evenNote),
			},
		},
		{
			name:  "an autoscaler set 6 replicas: desired comes from the workload",
			phase: appsv1alpha1.PhaseReady,
			in: Input{App: app(autoscaling(2)), Workload: settled(6), Service: appWeb,
				ReadyPods: places("a/n1", "b/n2", "c/n3", "a/n4", "b/n5", "c/n6"), Rollout: onRevision(4)},
			figures: figuresWant{deployment, 6, "6/6", appsv1alpha1.NodeRedundant, 3, 6},
			conds: conds{rolloutComplete(4, 6, 6), complete, complete, available(6, 6, 5),
				F(appsv1alpha1.ReasonZoneSkewed, "6 pods in 3 zones on 6 nodes, but losing zone a would leave 4 ready pods; the disruption budget needs 5"+evenNote)},
		},
		{
			name:    "the workload is not created yet",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(), Workload: Workload{Kind: kindDeployment, Name: appWeb}, Service: appWeb, Rollout: Rollout{UpdateRevision: 1}},
			figures: figuresWant{nil, 0, summary0of3, appsv1alpha1.Unavailable, 0, 0},
			conds: conds{F(appsv1alpha1.ReasonCreating, "creating Deployment web"), T(appsv1alpha1.ReasonCreating, "creating Deployment web"),
				complete, below(0, 3, 2), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready")},
		},
		{
			name:    "the StatefulSet is not created yet",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(stateful), Workload: Workload{Kind: kindStatefulSet, Name: "db"}, Service: dbClient, Rollout: Rollout{UpdateRevision: 1}},
			figures: figuresWant{nil, 0, summary0of3, appsv1alpha1.Unavailable, 0, 0},
			conds: conds{F(appsv1alpha1.ReasonCreating, "creating StatefulSet db"), T(appsv1alpha1.ReasonCreating, "creating StatefulSet db"),
				complete, below(0, 3, 2), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready")},
		},
		{
			name:    "not created yet with an autoscaler: its minimum is desired",
			phase:   appsv1alpha1.PhaseProgressing,
			in:      Input{App: app(autoscaling(2)), Workload: Workload{Kind: kindDeployment, Name: appWeb}, Rollout: Rollout{UpdateRevision: 1}},
			figures: figuresWant{nil, 0, "0/2", appsv1alpha1.Unavailable, 0, 0},
			conds: conds{F(appsv1alpha1.ReasonCreating, "creating Deployment web"), T(appsv1alpha1.ReasonCreating, "creating Deployment web"),
				complete, below(0, 2, 1), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready")},
		},
		{
			name:  "the Deployment controller has not observed the latest generation",
			phase: appsv1alpha1.PhaseProgressing,
			in: Input{App: app(), Workload: func() Workload { w := settled(3); w.Generation = 3; return w }(),
				ReadyPods: threeZones, Rollout: onRevision(4)},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonObservingGeneration, "waiting for the Deployment controller to observe generation 3"),
				T(appsv1alpha1.ReasonObservingGeneration, "waiting for the Deployment controller to observe generation 3"),
				complete, available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "paused in the middle of an update",
			phase: appsv1alpha1.PhasePaused,
			in: Input{App: app(), Workload: figures(settled(3), 4, 4, 1, 4), ReadyPods: places("a/n1", "b/n2", "c/n3", "a/n4"),
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, OnUpdateRevision: true, Paused: true}},
			figures: figuresWant{deployment, 4, "4/3", appsv1alpha1.ZoneRedundant, 3, 4},
			conds: conds{
				F(appsv1alpha1.ReasonPaused, "update paused by spec.rollout.paused: "+movingMsg),
				T(appsv1alpha1.ReasonPaused, "update paused by spec.rollout.paused: "+movingMsg),
				complete, available(4, 3, 2), T(appsv1alpha1.ReasonZoneRedundant, "4 pods in 3 zones on 4 nodes; losing zone a would leave 2 ready pods; the disruption budget needs 2"),
			},
		},
		{
			name:  "paused before the update reached the workload",
			phase: appsv1alpha1.PhasePaused,
			in: Input{App: app(), Workload: settled(3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, Paused: true}},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonPaused, "update paused by spec.rollout.paused"),
				T(appsv1alpha1.ReasonPaused, "update paused by spec.rollout.paused"),
				complete, available(3, 3, 2), ha3zones,
			},
		},
		{
			name:    "paused with nothing to update is Ready",
			phase:   appsv1alpha1.PhaseReady,
			in:      Input{App: app(), Workload: settled(3), ReadyPods: threeZones, Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 4, OnUpdateRevision: true, Paused: true}},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds:   conds{rolloutComplete(4, 3, 3), complete, complete, available(3, 3, 2), ha3zones},
		},
		{
			name:  "a partition holds ordinals 0 and 1 on the previous revision",
			phase: appsv1alpha1.PhaseProgressing,
			in: Input{App: app(stateful), Workload: func() Workload {
				w := stsWorkload(figures(settled(3), 3, 3, 1, 3))
				w.Partition = 2
				return w
			}(), Service: dbClient, ReadyPods: threeZones, Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, OnUpdateRevision: true}},
			figures: figuresWant{sts, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonRollingOut, "partition 2: ordinals below it keep the previous revision"),
				T(appsv1alpha1.ReasonRollingOut, "partition 2: ordinals below it keep the previous revision"),
				complete, available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "a partition with every pod already on the spec's revision is Ready",
			phase: appsv1alpha1.PhaseReady,
			in: Input{App: app(stateful), Workload: func() Workload {
				w := stsWorkload(settled(3))
				w.Partition = 1
				return w
			}(), Service: dbClient, ReadyPods: threeZones, Rollout: onRevision(1)},
			figures: figuresWant{sts, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds:   conds{rolloutComplete(1, 3, 3), complete, complete, available(3, 3, 2), ha3zones},
		},
		{
			name:  "a partition still replacing the ordinals above it",
			phase: appsv1alpha1.PhaseProgressing,
			in: Input{App: app(stateful), Workload: func() Workload {
				w := stsWorkload(figures(settled(3), 3, 2, 1, 2))
				w.Partition = 1
				return w
			}(), ReadyPods: places("a/n1", "b/n2"), Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, OnUpdateRevision: true}},
			figures: figuresWant{sts, 3, "2/3", appsv1alpha1.NodeRedundant, 2, 2},
			conds: conds{
				F(appsv1alpha1.ReasonRollingOut, "1 of 3 replicas updated, 2 ready, 2 available, 3 in total"),
				T(appsv1alpha1.ReasonRollingOut, "1 of 3 replicas updated, 2 ready, 2 available, 3 in total"),
				complete, available(2, 3, 2), F(appsv1alpha1.ReasonZoneSkewed, "2 pods in 2 zones on 2 nodes, but losing zone a would leave 1 ready pod; the disruption budget needs 2"+evenNote),
			},
		},
		{
			name:  "rolled back, the old pods still coming back",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: figures(settled(3), 4, 3, 3, 3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, LastFailedRevision: 5,
					Failure: imagePull, FailureReason: appsv1alpha1.ReasonRolledBack}},
			figures: figuresWant{deployment, 4, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonRolledBack, rolledBack),
				T(appsv1alpha1.ReasonRollingOut, "rolling back: 3 of 3 replicas updated, 3 ready, 3 available, 4 in total"),
				T(appsv1alpha1.ReasonRolledBack, rolledBack),
				available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "rolled back and settled on the previous revision",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: settled(3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, LastFailedRevision: 5,
					Failure: imagePull, FailureReason: appsv1alpha1.ReasonRolledBack}},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonRolledBack, rolledBack),
				F(appsv1alpha1.ReasonRolledBack, ""),
				T(appsv1alpha1.ReasonRolledBack, rolledBack),
				available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "the first revision failed: nothing to roll back to",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: figures(settled(3), 3, 0, 3, 0),
				Rollout: Rollout{UpdateRevision: 1, LastFailedRevision: 1, OnUpdateRevision: true,
					Failure: imagePull, FailureReason: appsv1alpha1.ReasonRolloutFailed}},
			figures: figuresWant{deployment, 3, summary0of3, appsv1alpha1.Unavailable, 0, 0},
			conds: conds{
				F(appsv1alpha1.ReasonRolloutFailed, "revision 1 failed: "+imagePull),
				F(appsv1alpha1.ReasonRolloutFailed, ""),
				T(appsv1alpha1.ReasonRolloutFailed, "revision 1 failed: "+imagePull),
				below(0, 3, 2), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready"),
			},
		},
		{
			name:  "a failure without a reason counts as RolloutFailed",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: figures(settled(3), 4, 3, 1, 3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, LastFailedRevision: 5, OnUpdateRevision: true, Failure: imagePull}},
			figures: figuresWant{deployment, 4, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonRolloutFailed, "revision 5 failed: "+imagePull),
				F(appsv1alpha1.ReasonRolloutFailed, ""),
				T(appsv1alpha1.ReasonRolloutFailed, "revision 5 failed: "+imagePull),
				available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "the progress deadline passed",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: figures(settled(3), 4, 3, 1, 3), ReadyPods: threeZones,
				Rollout: Rollout{CurrentRevision: 4, UpdateRevision: 5, LastFailedRevision: 5, OnUpdateRevision: true,
					Failure: "no progress in 600s", FailureReason: appsv1alpha1.ReasonProgressDeadlineExceeded}},
			figures: figuresWant{deployment, 4, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonProgressDeadlineExceeded, "revision 5 failed: no progress in 600s"),
				F(appsv1alpha1.ReasonProgressDeadlineExceeded, ""),
				T(appsv1alpha1.ReasonProgressDeadlineExceeded, "revision 5 failed: no progress in 600s"),
				available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "a Service of the same name that the app does not own",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Workload: settled(3), ReadyPods: threeZones, Rollout: onRevision(4),
				Problem: &Problem{Reason: appsv1alpha1.ReasonConflict, Message: conflict}},
			figures: figuresWant{deployment, 3, summary3of3, appsv1alpha1.ZoneRedundant, 3, 3},
			conds: conds{
				F(appsv1alpha1.ReasonConflict, conflict), F(appsv1alpha1.ReasonConflict, ""), T(appsv1alpha1.ReasonConflict, conflict),
				available(3, 3, 2), ha3zones,
			},
		},
		{
			name:  "a problem outranks a failed rollout and a missing workload",
			phase: appsv1alpha1.PhaseStalled,
			in: Input{App: app(), Rollout: Rollout{UpdateRevision: 1, Failure: imagePull},
				Problem: &Problem{Reason: appsv1alpha1.ReasonConflict, Message: conflict}},
			figures: figuresWant{nil, 0, summary0of3, appsv1alpha1.Unavailable, 0, 0},
			conds: conds{
				F(appsv1alpha1.ReasonConflict, conflict), F(appsv1alpha1.ReasonConflict, ""), T(appsv1alpha1.ReasonConflict, conflict),
				below(0, 3, 2), F(appsv1alpha1.ReasonNoReadyPods, "no pod is ready"),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now = t0
			got := Compute(tc.in)
			w := tc.in.Workload
			want := appsv1alpha1.HighlyAvailableAppStatus{
				ObservedGeneration: 4,
				Phase:              tc.phase,
				Workload:           tc.figures.workload,
				Service:            tc.in.Service,
				Replicas:           tc.figures.replicas,
				ReadyReplicas:      w.ReadyReplicas,
				UpdatedReplicas:    w.UpdatedReplicas,
				AvailableReplicas:  w.AvailableReplicas,
				ReadySummary:       tc.figures.readySummary,
				Selector:           fmt.Sprintf("app.kubernetes.io/instance=%[1]s,app.kubernetes.io/name=%[1]s", tc.in.App.Name),
				CurrentRevision:    tc.in.Rollout.CurrentRevision,
				UpdateRevision:     tc.in.Rollout.UpdateRevision,
				LastFailedRevision: tc.in.Rollout.LastFailedRevision,
				Resilience:         tc.figures.resilience,
				Zones:              tc.figures.zones,
				Nodes:              tc.figures.nodes,
				// What a zone loss leaves is tested on its own (zoneloss_test.go).
				ZoneLoss: got.ZoneLoss,
			}
			for i, c := range tc.conds {
				want.Conditions = append(want.Conditions, metav1.Condition{
					Type: conditionOrder[i], Status: c.status, Reason: c.reason, Message: c.message,
					ObservedGeneration: 4, LastTransitionTime: t0,
				})
			}
			if !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("status differs (-want +got):\n%s", diff.Diff(want, got))
			}
		})
	}
}

// An unchanged world computes an unchanged status, so the controller writes nothing; a condition keeps
// its lastTransitionTime while its status stays, even when its reason or message changes.
func TestComputeKeepsTransitionTimes(t *testing.T) {
	threeZones := places("a/n1", "b/n2", "c/n3")
	a := app()
	in := Input{App: a, Workload: settled(3), Service: appWeb, ReadyPods: threeZones, Rollout: onRevision(4), Now: t0}
	first := Compute(in)

	a.Status = first
	in.Now = t1
	again := Compute(in)
	if !equality.Semantic.DeepEqual(again, first) {
		t.Fatalf("an unchanged world changed the status (-first +again):\n%s", diff.Diff(first, again))
	}

	// An update starts: Ready and Reconciling flip; Stalled, Available and HighlyAvailable do not,
	// though Available's message changes.
	a.Status = again
	a.Generation = 5
	in.Now = t2
	in.Workload = figures(settled(3), 4, 3, 1, 3)
	in.ReadyPods = places("a/n1", "b/n2", "c/n3", "a/n4")
	in.Workload.AvailableReplicas, in.Workload.ReadyReplicas = 4, 4
	in.Rollout = Rollout{CurrentRevision: 4, UpdateRevision: 5, OnUpdateRevision: true}
	moving := Compute(in)
	wantTimes := map[string]metav1.Time{
		appsv1alpha1.ConditionReady:           t2,
		appsv1alpha1.ConditionReconciling:     t2,
		appsv1alpha1.ConditionStalled:         t0,
		appsv1alpha1.ConditionAvailable:       t0,
		appsv1alpha1.ConditionHighlyAvailable: t0,
	}
	if len(moving.Conditions) != len(wantTimes) {
		t.Fatalf("%d conditions, want %d: %+v", len(moving.Conditions), len(wantTimes), moving.Conditions)
	}
	for _, c := range moving.Conditions {
		if !c.LastTransitionTime.Equal(&metav1.Time{Time: wantTimes[c.Type].Time}) {
			t.Errorf("%s (%s) lastTransitionTime = %s, want %s", c.Type, c.Status, c.LastTransitionTime, wantTimes[c.Type])
		}
		if c.ObservedGeneration != 5 {
			t.Errorf("%s observedGeneration = %d, want 5", c.Type, c.ObservedGeneration)
		}
	}
	if got := moving.Conditions[3].Message; got != "4 of 3 pods ready; the disruption budget needs 2" {
		t.Errorf("Available message = %q", got)
	}
	if moving.ObservedGeneration != 5 {
		t.Errorf("observedGeneration = %d, want 5", moving.ObservedGeneration)
	}

	// Compute works on a copy: the app's own conditions are left as they were.
	if !a.Status.Conditions[0].LastTransitionTime.Equal(&t0) || a.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("Compute changed the app's conditions: %+v", a.Status.Conditions[0])
	}
}

func TestFromWorkloads(t *testing.T) {
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: appWeb, Generation: 7},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](5)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 6, Replicas: 6, ReadyReplicas: 4,
			UpdatedReplicas: 3, AvailableReplicas: 2},
	}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 2},
		Spec: appsv1.StatefulSetSpec{UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
			Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)},
		}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1},
	}
	cases := []struct {
		name string
		got  Workload
		want Workload
	}{
		{"a Deployment", FromDeployment(deploy), Workload{Kind: kindDeployment, Name: appWeb, Found: true, Generation: 7,
			ObservedGeneration: 6, Desired: 5, Replicas: 6, ReadyReplicas: 4, UpdatedReplicas: 3, AvailableReplicas: 2}},
		{"a Deployment without replicas (the API server's default is 1)", FromDeployment(&appsv1.Deployment{}),
			Workload{Kind: kindDeployment, Found: true, Desired: 1}},
		{"a StatefulSet with a partition", FromStatefulSet(set), Workload{Kind: kindStatefulSet, Name: "db", Found: true,
			Generation: 2, ObservedGeneration: 2, Desired: 1, Replicas: 1, ReadyReplicas: 1, UpdatedReplicas: 1,
			AvailableReplicas: 1, Partition: 2}},
		{"a StatefulSet with the OnDelete strategy", FromStatefulSet(&appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3)}}),
			Workload{Kind: kindStatefulSet, Found: true, Desired: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %+v, want %+v", tc.got, tc.want)
			}
		})
	}
}
