package karmada

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	workv1alpha2 "github.com/karmada-io/karmada/pkg/apis/work/v1alpha2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// cond is what a test states of a condition: its status, reason and a part of its message.
type cond struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

func isTrue(reason, message string) cond  { return cond{metav1.ConditionTrue, reason, message} }
func isFalse(reason, message string) cond { return cond{metav1.ConditionFalse, reason, message} }

// conds are the conditions a test states, by type.
type conds map[string]cond

// The condition types, short.
const (
	ready       = appsv1alpha1.ConditionReady
	reconciling = appsv1alpha1.ConditionReconciling
	stalled     = appsv1alpha1.ConditionStalled
	available   = appsv1alpha1.ConditionAvailable
	ha          = appsv1alpha1.ConditionHighlyAvailable
)

// verdict is how the aggregate reads as a whole: its phase, kstatus (Flux, kubectl wait) and Argo CD's
// health.
type verdict struct {
	phase   appsv1alpha1.Phase
	kstatus kstatus.Status
	argo    string
}

var (
	isReady       = verdict{appsv1alpha1.PhaseReady, kstatus.CurrentStatus, "Healthy"}
	isProgressing = verdict{appsv1alpha1.PhaseProgressing, kstatus.InProgressStatus, "Progressing"}
	isStalled     = verdict{appsv1alpha1.PhaseStalled, kstatus.FailedStatus, "Degraded"}
	// Rolling back after a failure, as for one cluster: Stalled, and kstatus in progress while pods move.
	isRollingBack = verdict{appsv1alpha1.PhaseStalled, kstatus.InProgressStatus, "Degraded"}
	isPaused      = verdict{appsv1alpha1.PhasePaused, kstatus.InProgressStatus, "Suspended"}
)

// want is what users read from the aggregated status: the verdict, the conditions and the figures.
type want struct {
	verdict
	observed   int64
	conditions conds
	// absent conditions must not be set (Available and HighlyAvailable of a Job app).
	absent       []string
	readySummary string
	ready        int32
	clusters     int32
	resilience   appsv1alpha1.Resilience
	clusterLoss  *appsv1alpha1.ClusterLoss
	check        func(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus)
}

const bothClusters = "clusters member-east, member-west"

// The times the members' runs finished.
var (
	finishedEarly = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	finishedLate  = time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)
)

// rolling is a Deployment half way through an update to revision 2.
func rolling(desired int32) (deployment, status.Rollout) {
	return deployment{replicas: desired + 1, ready: desired, updated: 1, available: desired, generation: 3, observed: 3},
		status.Rollout{CurrentRevision: 1, UpdateRevision: 2, OnUpdateRevision: true}
}

// serving is a member whose Deployment runs n replicas of revision 1.
func serving(cluster string, share int64, n int32) member {
	return member{cluster: cluster, share: share, report: stateless(settledDeployment(n), onRevision(1), nil)}
}

func loss(tolerated bool, worst string, remaining, minimum int32) *appsv1alpha1.ClusterLoss {
	return &appsv1alpha1.ClusterLoss{Tolerated: tolerated, WorstCluster: worst, RemainingReady: remaining,
		MinimumReady: minimum}
}

type aggregateCase struct {
	name     string
	template *appsv1alpha1.HighlyAvailableApp
	// previous is the aggregated status the control plane's app had.
	previous *appsv1alpha1.HighlyAvailableAppStatus
	members  []member
	want     want
}

func TestAggregateStatus(t *testing.T) {
	in := newInterpreter(t)
	cases := append(dividedCases(), failoverCases()...)
	cases = append(cases, shapeCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			template := tc.template.DeepCopy()
			if tc.previous != nil {
				template.Status = *tc.previous
			}
			validateAgainstCRD(t, toUnstructured(t, template))
			items := in.items(template, tc.members...)
			aggregated := in.aggregateStatus(toUnstructured(t, template), items)
			checkAggregate(t, aggregated, tc.want)
			checkStable(t, in, aggregated, items)
		})
	}
}

// dividedCases are a Stateless app divided between clusters, through updates and failures.
func dividedCases() []aggregateCase {
	web := newApp(1, replicas(4))
	updated := newApp(2, replicas(4), image("nginx:1.28"))
	broken := newApp(2, replicas(4), image(badImage))
	rollingDeployment, rollingRollout := rolling(2)
	pausedRollout := status.Rollout{CurrentRevision: 1, UpdateRevision: 2, OnUpdateRevision: true, Paused: true}
	lastGeneration := &appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 1}
	return []aggregateCase{
		{
			name: "divided 2/2, both serving", template: web,
			members: []member{serving(east, 2, 2), serving(west, 2, 2)},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{
					ready: isTrue(appsv1alpha1.ReasonRolloutComplete, "cluster member-east: revision 1 serves on 2 of 2 replicas; "+
						"cluster member-west: revision 1 serves on 2 of 2 replicas"),
					reconciling: isFalse(appsv1alpha1.ReasonRolloutComplete, ""),
					stalled:     isFalse(appsv1alpha1.ReasonRolloutComplete, ""),
					available: isTrue(appsv1alpha1.ReasonMinimumAvailable,
						"4 of 4 pods ready in "+bothClusters+"; the disruption budget needs 3"),
					// Each cluster survives a zone; losing a cluster leaves 2 of the 3 the budget needs.
					ha: isTrue(appsv1alpha1.ReasonZoneRedundant, "4 pods ready in 2 clusters, "+
						"but losing cluster member-east would leave 2 ready pods; the disruption budget needs 3"),
				},
				readySummary: "4/4", ready: 4, clusters: 2, resilience: appsv1alpha1.ClusterRedundant,
				clusterLoss: loss(false, east, 2, 3), check: checkDividedFigures,
			},
		},
		{
			name:     "divided 3/3 with a budget that survives a cluster",
			template: newApp(1, replicas(6), minAvailable("50%")),
			members:  []member{serving(east, 3, 3), serving(west, 3, 3)},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{ha: isTrue(appsv1alpha1.ReasonClusterRedundant,
					"6 pods ready in 2 clusters; losing cluster member-east would leave 3 ready pods; the disruption budget needs 3")},
				readySummary: "6/6", ready: 6, clusters: 2, resilience: appsv1alpha1.ClusterRedundant,
				clusterLoss: loss(true, east, 3, 3),
			},
		},
		{
			name: "an update one member has not received yet", template: updated, previous: lastGeneration,
			members: []member{
				{cluster: east, share: 2, report: stateless(rollingDeployment, rollingRollout, nil)},
				{cluster: west, share: 2, copyOf: web, report: stateless(settledDeployment(2), onRevision(1), nil)},
			},
			want: want{verdict: isProgressing, observed: 1,
				conditions: conds{reconciling: isTrue(appsv1alpha1.ReasonObservingGeneration,
					"waiting for cluster member-west to receive generation 2 of the app")},
				readySummary: "4/4", ready: 4, clusters: 2, resilience: appsv1alpha1.ClusterRedundant,
			},
		},
		{
			name: "an update rolling in one member, done in the other", template: updated, previous: lastGeneration,
			members: []member{
				{cluster: east, share: 2, report: stateless(rollingDeployment, rollingRollout, nil)},
				{cluster: west, share: 2, report: stateless(settledDeployment(2), onRevision(2), nil)},
			},
			want: want{verdict: isProgressing, observed: 2,
				conditions: conds{
					ready:       isFalse(appsv1alpha1.ReasonRollingOut, "cluster member-east: 1 of 2 replicas updated"),
					reconciling: isTrue(appsv1alpha1.ReasonRollingOut, "cluster member-east: 1 of 2 replicas updated"),
					stalled:     isFalse(appsv1alpha1.ReasonRollingOut, ""),
				},
				readySummary: "4/4", ready: 4, clusters: 2,
			},
		},
		{
			name: "a bad image rolled back in both members", template: broken, previous: lastGeneration,
			members: []member{
				{cluster: east, share: 2, report: stateless(settledDeployment(2), rolledBack, nil)},
				{cluster: west, share: 2, report: stateless(settledDeployment(2), rolledBack, nil)},
			},
			want: want{verdict: isStalled, observed: 2,
				conditions: conds{
					ready: isFalse(appsv1alpha1.ReasonRolledBack, "cluster member-east: revision 2 failed"),
					stalled: isTrue(appsv1alpha1.ReasonRolledBack, "cluster member-east: revision 2 failed and was rolled back "+
						"to revision 1: "+pullFailed+"; also stalled in cluster member-west"),
					reconciling: isFalse(appsv1alpha1.ReasonRolledBack, ""),
					// The previous revision still serves everywhere.
					available: isTrue(appsv1alpha1.ReasonMinimumAvailable, "4 of 4 pods ready"),
				},
				readySummary: "4/4", ready: 4, clusters: 2, check: checkRolledBackRevisions,
			},
		},
		{
			name: "a bad image rolled back in one member, still rolling back in the other", template: broken,
			members: []member{
				{cluster: east, share: 2, report: stateless(deployment{replicas: 3, ready: 1, updated: 2, available: 1,
					generation: 3, observed: 3}, rolledBack, nil)},
				{cluster: west, share: 2, report: stateless(settledDeployment(2), rolledBack, nil)},
			},
			want: want{verdict: isRollingBack, observed: 2,
				conditions: conds{
					stalled:     isTrue(appsv1alpha1.ReasonRolledBack, "cluster member-east: revision 2 failed"),
					reconciling: isTrue(appsv1alpha1.ReasonRollingOut, "cluster member-east: rolling back"),
				},
				readySummary: "3/4", ready: 3, clusters: 2,
			},
		},
		{
			name: "autoscaled: each member's autoscaler owns its count", template: newApp(1, replicas(4), autoscaled),
			members: []member{
				{cluster: east, share: 2, report: stateless(deployment{desired: 5, replicas: 5, ready: 5, updated: 5, available: 5,
					generation: 4, observed: 4}, onRevision(1), nil)},
				{cluster: west, share: 2, report: stateless(deployment{desired: 3, replicas: 3, ready: 3, updated: 3, available: 3,
					generation: 2, observed: 2}, onRevision(1), nil)},
			},
			want: want{verdict: isReady, observed: 1,
				conditions:   conds{available: isTrue(appsv1alpha1.ReasonMinimumAvailable, "8 of 8 pods ready")},
				readySummary: "8/8", ready: 8, clusters: 2, resilience: appsv1alpha1.ClusterRedundant,
				clusterLoss: loss(false, east, 3, 7),
			},
		},
		{
			name: "paused mid-update", template: newApp(2, replicas(4), image("nginx:1.28"), paused),
			members: []member{
				{cluster: east, share: 2, report: stateless(rollingDeployment, pausedRollout, nil)},
				{cluster: west, share: 2, report: stateless(rollingDeployment, pausedRollout, nil)},
			},
			want: want{verdict: isPaused, observed: 2,
				conditions: conds{reconciling: isTrue(appsv1alpha1.ReasonPaused,
					"cluster member-east: update paused by spec.rollout.paused")},
				readySummary: "4/4", ready: 4, clusters: 2,
			},
		},
		{
			name: "a member not reported yet, another Karmada could not apply to", template: web,
			members: []member{{cluster: east, share: 2}, {cluster: west, notApplied: "namespaces \"shop\" not found"}},
			want: want{verdict: isProgressing,
				conditions: conds{
					reconciling: isTrue(appsv1alpha1.ReasonRetryingAfterError,
						"Karmada could not apply the app to cluster member-west: namespaces \"shop\" not found"),
					ha: isFalse(appsv1alpha1.ReasonNoReadyPods, "no pod is ready in "+bothClusters),
				},
				readySummary: "0/4", resilience: appsv1alpha1.Unavailable,
			},
		},
		{
			name: "members whose operators have not reported yet", template: web,
			previous: &appsv1alpha1.HighlyAvailableAppStatus{},
			members:  []member{{cluster: east, share: 2}, {cluster: west, share: 2}},
			want: want{verdict: isProgressing,
				conditions: conds{reconciling: isTrue(appsv1alpha1.ReasonCreating,
					"waiting for the operator in cluster member-east to report on the app")},
				readySummary: "0/4", resilience: appsv1alpha1.Unavailable,
			},
		},
		{
			name: "not placed on any member cluster yet", template: web,
			want: want{verdict: isProgressing, observed: 1,
				conditions: conds{
					reconciling: isTrue(appsv1alpha1.ReasonCreating, "waiting for Karmada to place the app on a member cluster"),
					available: isFalse(appsv1alpha1.ReasonBelowMinimum,
						"0 of 4 pods ready: the app is not placed on any member cluster yet; the disruption budget needs 3"),
				},
				readySummary: "0/4", resilience: appsv1alpha1.Unavailable,
			},
		},
	}
}

// failoverCases follow a member cluster's loss: Karmada keeps the lost member's last report in the
// binding until its eviction is done.
func failoverCases() []aggregateCase {
	web := newApp(1, replicas(4))
	notCounted := "; not counted: the last report of cluster member-east"
	return []aggregateCase{
		{
			name: "one member lost, its eviction pending, the survivor scaling up", template: web,
			members: []member{
				// The lost cluster's last report, as Karmada keeps it in the binding.
				serving(east, 2, 2),
				{cluster: west, share: 4, report: stateless(deployment{replicas: 4, ready: 2, updated: 4, available: 2,
					generation: 3, observed: 3}, onRevision(1), nil)},
			},
			want: want{verdict: isProgressing, observed: 1,
				conditions: conds{
					reconciling: isTrue(appsv1alpha1.ReasonRollingOut, "cluster member-west: 4 of 4 replicas updated, 2 ready"),
					available: isFalse(appsv1alpha1.ReasonBelowMinimum,
						"2 of 4 pods ready in cluster member-west; the disruption budget needs 3"),
					ha: isFalse(appsv1alpha1.ReasonSingleCluster,
						"all 2 ready pods run in cluster member-west, although the app is placed on "+bothClusters+notCounted),
				},
				readySummary: "2/4", ready: 2, clusters: 1, clusterLoss: loss(false, west, 0, 3),
			},
		},
		{
			name: "one member lost, its eviction pending, the survivor running every replica", template: web,
			members: []member{serving(east, 2, 2), serving(west, 4, 4)},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{
					ready:     isTrue(appsv1alpha1.ReasonRolloutComplete, "cluster member-west: revision 1 serves on 4 of 4 replicas"),
					available: isTrue(appsv1alpha1.ReasonMinimumAvailable, "4 of 4 pods ready in cluster member-west"),
					ha: isFalse(appsv1alpha1.ReasonSingleCluster,
						"all 4 ready pods run in cluster member-west, although the app is placed on "+bothClusters+notCounted),
				},
				readySummary: "4/4", ready: 4, clusters: 1, clusterLoss: loss(false, west, 0, 3), check: checkSurvivorResilience,
			},
		},
		{
			name: "after the eviction: the survivor alone", template: web,
			members: []member{serving(west, 4, 4)},
			want: want{verdict: isReady, observed: 1,
				// The survivor's own verdict on its zones.
				conditions:   conds{ha: isFalse(appsv1alpha1.ReasonZoneSkewed, "cluster member-west: 4 pods in 2 zones")},
				readySummary: "4/4", ready: 4, clusters: 1, resilience: appsv1alpha1.NodeRedundant,
				clusterLoss: loss(false, west, 0, 3), check: checkZoneLossOfOne,
			},
		},
		{
			name: "after the eviction: the survivor alone, once across clusters", template: web,
			previous: &appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{{
				Type: appsv1alpha1.ConditionHighlyAvailable, Status: metav1.ConditionFalse,
				Reason:             appsv1alpha1.ReasonSingleCluster,
				Message:            "all 4 ready pods run in cluster member-west, although the app is placed on " + bothClusters,
				LastTransitionTime: metav1.Now()}}},
			members: []member{serving(west, 4, 4)},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{ha: isFalse(appsv1alpha1.ReasonSingleCluster,
					"all 4 ready pods run in cluster member-west, although the app ran across clusters")},
				readySummary: "4/4", ready: 4, clusters: 1, resilience: appsv1alpha1.NodeRedundant,
				clusterLoss: loss(false, west, 0, 3), check: checkZoneLossOfOne,
			},
		},
		{
			// Three clusters 2/1/1 lose the one with 2: the others get 2 each, and the lost one's 2 could be
			// any of the three. No report is left out then.
			name: "shares alike after a loss: nothing left out", template: web,
			members: []member{serving(east, 2, 2), serving(mid, 2, 2), serving(west, 2, 2)},
			want: want{verdict: isReady, observed: 1,
				readySummary: "6/4", ready: 6, clusters: 3, resilience: appsv1alpha1.ClusterRedundant,
				clusterLoss: loss(true, east, 4, 3),
			},
		},
	}
}

// shapeCases are the app types that are not divided: Daemon, Job and Stateful.
func shapeCases() []aggregateCase {
	agent, pi, db := newApp(1, daemon), newApp(1, job), newApp(1, stateful, replicas(3))
	refusal := appsv1alpha1.ReasonStatefulOnSeveralClusters
	noHA := []string{available, ha}
	return []aggregateCase{
		{
			name: "Daemon covering every node of both clusters", template: agent,
			members: []member{
				{cluster: east, share: -1, report: daemonSet(3, 3)}, {cluster: west, share: -1, report: daemonSet(2, 2)},
			},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{
					available: isTrue(appsv1alpha1.ReasonMinimumAvailable,
						"cluster member-east: 3 of 3 eligible nodes have a ready daemon pod; cluster member-west: 2 of 2"),
					ha: isTrue(appsv1alpha1.ReasonAllNodesCovered, "cluster member-west: 2 of 2 eligible nodes"),
				},
				readySummary: "5/5", ready: 5, clusters: 2, resilience: appsv1alpha1.ClusterRedundant, check: checkDaemonCovered,
			},
		},
		{
			name: "Daemon with a node uncovered in one member", template: agent,
			members: []member{
				{cluster: east, share: -1, report: daemonSet(3, 3)}, {cluster: west, share: -1, report: daemonSet(2, 1)},
			},
			want: want{verdict: isProgressing, observed: 1,
				conditions: conds{ha: isFalse(appsv1alpha1.ReasonNodesUncovered,
					"cluster member-west: 1 of 2 eligible nodes have a ready daemon pod")},
				readySummary: "4/5", ready: 4, clusters: 2, check: checkDaemonPartlyCovered,
			},
		},
		{
			name: "Job completed in both members", template: pi,
			members: []member{
				{cluster: east, share: -1, report: jobRun(status.RunComplete, finishedEarly)},
				{cluster: west, share: -1, report: jobRun(status.RunComplete, finishedLate)},
			},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{ready: isTrue(appsv1alpha1.ReasonComplete, "cluster member-east: run 1 (Job pi-1) completed")},
				absent:     noHA, readySummary: "2/2", check: checkJobCompleted,
			},
		},
		{
			name: "Job running in one member", template: pi,
			members: []member{
				{cluster: east, share: -1, report: jobRun(status.RunComplete, finishedEarly)},
				{cluster: west, share: -1, report: jobRun(status.RunActive, finishedEarly)},
			},
			want: want{verdict: isProgressing, observed: 1,
				conditions: conds{
					reconciling: isTrue(appsv1alpha1.ReasonRunning, "cluster member-west: run 1 (Job pi-1): 1 active"),
				},
				absent: noHA, readySummary: "1/2", check: checkJobRunning,
			},
		},
		{
			name: "Job failed in one member", template: pi,
			members: []member{
				{cluster: east, share: -1, report: jobRun(status.RunComplete, finishedEarly)},
				{cluster: west, share: -1, report: jobRun(status.RunFailed, finishedEarly)},
			},
			want: want{verdict: isStalled, observed: 1,
				conditions: conds{stalled: isTrue("BackoffLimitExceeded", "cluster member-west: run 1 (Job pi-1) failed")},
				absent:     noHA, readySummary: "1/2",
			},
		},
		{
			name: "scheduled Job in both members", template: newApp(1, job, schedule("*/5 * * * *")),
			members: []member{
				{cluster: east, share: -1, report: cronJob("pi-29012345", finishedEarly)},
				{cluster: west, share: -1, report: cronJob("pi-29012350", finishedLate)},
			},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{ready: isTrue(appsv1alpha1.ReasonScheduled, "last run pi-29012345 completed")},
				absent:     noHA, readySummary: "0 active", check: checkCronJob,
			},
		},
		{
			name: "Stateful on one cluster", template: db,
			members: []member{{cluster: east, share: -1, report: stateless(settledDeployment(3), onRevision(1), nil)}},
			want: want{verdict: isReady, observed: 1,
				conditions: conds{ready: isTrue(appsv1alpha1.ReasonRolloutComplete,
					"cluster member-east: revision 1 serves on 3 of 3 replicas")},
				readySummary: "3/3", ready: 3, clusters: 1, clusterLoss: loss(false, east, 0, 2), check: checkStatefulOnOne,
			},
		},
		{
			name: "Stateful placed on two clusters: refused", template: db,
			members: []member{
				{cluster: east, share: -1, report: stateless(settledDeployment(3), onRevision(1), nil)},
				{cluster: west, share: -1, report: stateless(settledDeployment(3), onRevision(1), nil)},
			},
			want: want{verdict: isStalled, observed: 1,
				conditions: conds{
					stalled: isTrue(refusal,
						"a Stateful app is never divided between clusters, but it is placed on "+bothClusters),
					ready:       isFalse(refusal, "place it on one member cluster"),
					reconciling: isFalse(refusal, ""),
				},
				readySummary: "6/6", ready: 6, clusters: 2, resilience: appsv1alpha1.ClusterRedundant,
			},
		},
	}
}

func checkDividedFigures(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.Replicas != 4 || st.UpdatedReplicas != 4 || st.AvailableReplicas != 4 || st.Zones != 4 || st.Nodes != 4 {
		t.Errorf("figures: replicas %d, updated %d, available %d, zones %d, nodes %d; want 4 each, summed",
			st.Replicas, st.UpdatedReplicas, st.AvailableReplicas, st.Zones, st.Nodes)
	}
	if st.Workload == nil || *st.Workload != (appsv1alpha1.WorkloadReference{Kind: "Deployment", Name: "web"}) ||
		st.Service != "web" || st.Selector == "" || st.CurrentRevision != 1 || st.UpdateRevision != 1 {
		t.Errorf("workload %v, service %q, selector %q, revisions %d/%d: want the members'",
			st.Workload, st.Service, st.Selector, st.CurrentRevision, st.UpdateRevision)
	}
	if st.ZoneLoss != nil {
		t.Errorf("zoneLoss = %v, want none across clusters", st.ZoneLoss)
	}
}

func checkRolledBackRevisions(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.CurrentRevision != 1 || st.UpdateRevision != 2 || st.LastFailedRevision != 2 {
		t.Errorf("revisions %d/%d, failed %d; want 1/2, failed 2",
			st.CurrentRevision, st.UpdateRevision, st.LastFailedRevision)
	}
}

func checkSurvivorResilience(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.Resilience == appsv1alpha1.ClusterRedundant || st.Resilience == "" {
		t.Errorf("resilience = %q, want the survivor's own", st.Resilience)
	}
}

func checkZoneLossOfOne(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.ZoneLoss == nil || st.ZoneLoss.WorstZone != "zone-a" {
		t.Errorf("zoneLoss = %v, want the one member's", st.ZoneLoss)
	}
}

func checkDaemonCovered(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	d := st.Daemon
	if d == nil || d.DesiredNumberScheduled != 5 || d.CoveredPercent == nil || *d.CoveredPercent != 100 {
		t.Errorf("daemon = %s, want 5 eligible nodes, 100%% covered", describe(d))
	}
	if st.ClusterLoss != nil {
		t.Errorf("clusterLoss = %v: a DaemonSet's pods go with their cluster's nodes", st.ClusterLoss)
	}
}

func checkDaemonPartlyCovered(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if d := st.Daemon; d == nil || d.CoveredPercent == nil || *d.CoveredPercent != 80 {
		t.Errorf("daemon = %s, want 80%% covered", describe(d))
	}
}

func checkJobCompleted(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	j := st.Job
	if j == nil || j.Succeeded != 2 || j.RunName != "pi-1" || j.CurrentRun == nil || *j.CurrentRun != 1 ||
		j.CompletionTime == nil || !j.CompletionTime.Time.Equal(finishedLate) {
		t.Errorf("job = %s, want 2 succeeded in run pi-1, completed when the last member finished", describe(j))
	}
}

func checkJobRunning(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.Job == nil || st.Job.CompletionTime != nil || st.Job.Active != 1 {
		t.Errorf("job = %s, want 1 active and no completion time", describe(st.Job))
	}
}

func checkCronJob(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	j := st.Job
	if j == nil || j.LastSuccessfulRun != "pi-29012350" || j.LastSuccessfulTime == nil ||
		!j.LastSuccessfulTime.Time.Equal(finishedLate) {
		t.Errorf("job = %s, want the latest successful run of any member", describe(j))
	}
}

func checkStatefulOnOne(t *testing.T, st appsv1alpha1.HighlyAvailableAppStatus) {
	if st.Workload == nil || st.Workload.Kind != "StatefulSet" || st.Service != "db-client" || st.ZoneLoss == nil {
		t.Errorf("workload %v, service %q, zoneLoss %v: want the member's StatefulSet, client Service and zone loss",
			st.Workload, st.Service, st.ZoneLoss)
	}
}

// checkAggregate reads the aggregated app as its users do and compares it with what the test wants.
func checkAggregate(t *testing.T, aggregated *unstructured.Unstructured, w want) {
	t.Helper()
	validateAgainstCRD(t, aggregated)
	if state := phaseAgrees(t, aggregated); state.Phase != w.phase {
		t.Errorf("phase = %s (%s: %s), want %s", state.Phase, state.Reason, state.Message, w.phase)
	}
	if res := kstatusOf(t, aggregated); res.Status != w.kstatus {
		t.Errorf("kstatus = %s (%s), want %s", res.Status, res.Message, w.kstatus)
	}
	if health, message := argoHealth(t, aggregated); health != w.argo {
		t.Errorf("Argo CD health = %s (%s), want %s", health, message, w.argo)
	}
	app := toApp(t, aggregated)
	st := app.Status
	if st.ObservedGeneration != w.observed {
		t.Errorf("observedGeneration = %d, want %d (generation %d)", st.ObservedGeneration, w.observed, app.Generation)
	}
	for _, conditionType := range []string{ready, reconciling, stalled} {
		if meta.FindStatusCondition(st.Conditions, conditionType) == nil {
			t.Errorf("condition %s is missing", conditionType)
		}
	}
	for conditionType, wc := range w.conditions {
		c := meta.FindStatusCondition(st.Conditions, conditionType)
		if c == nil {
			t.Errorf("condition %s is missing", conditionType)
			continue
		}
		if c.Status != wc.status || c.Reason != wc.reason || !strings.Contains(c.Message, wc.message) {
			t.Errorf("%s = %s/%s %q, want %s/%s containing %q",
				conditionType, c.Status, c.Reason, c.Message, wc.status, wc.reason, wc.message)
		}
	}
	for _, conditionType := range w.absent {
		if c := meta.FindStatusCondition(st.Conditions, conditionType); c != nil {
			t.Errorf("condition %s is set (%s/%s), want none", conditionType, c.Status, c.Reason)
		}
	}
	if st.ReadySummary != w.readySummary || st.ReadyReplicas != w.ready || st.Clusters != w.clusters {
		t.Errorf("readySummary %q, readyReplicas %d, clusters %d; want %q, %d, %d",
			st.ReadySummary, st.ReadyReplicas, st.Clusters, w.readySummary, w.ready, w.clusters)
	}
	if w.resilience != "" && st.Resilience != w.resilience {
		t.Errorf("resilience = %q, want %q", st.Resilience, w.resilience)
	}
	if w.clusterLoss != nil && !equality.Semantic.DeepEqual(st.ClusterLoss, w.clusterLoss) {
		t.Errorf("clusterLoss = %s, want %s", describe(st.ClusterLoss), describe(w.clusterLoss))
	}
	if w.check != nil {
		w.check(t, st)
	}
	if t.Failed() {
		t.Logf("aggregated status: %s", describe(aggregated.Object["status"]))
	}
}

// checkStable aggregates again from the aggregated app, as Karmada does on the next status event: the
// status must not change (Karmada writes it only when it differs, and an aggregate that changed every
// time would never rest), conditions keeping their transition times.
func checkStable(t *testing.T, in *interpreter, aggregated *unstructured.Unstructured,
	items []workv1alpha2.AggregatedStatusItem) {
	t.Helper()
	again := in.aggregateStatus(aggregated, items)
	if !equality.Semantic.DeepEqual(again.Object["status"], aggregated.Object["status"]) {
		t.Errorf("a second aggregation changed the status:\nfirst  %s\nsecond %s",
			describe(aggregated.Object["status"]), describe(again.Object["status"]))
	}
}

// A condition keeps its transition time while its status holds and takes the time of the aggregation
// when it changes, as meta.SetStatusCondition does.
func TestAggregateTransitionTimes(t *testing.T) {
	in := newInterpreter(t)
	long := metav1.NewTime(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	template := newApp(1, replicas(4))
	template.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 1, Conditions: []metav1.Condition{
		{Type: ready, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRollingOut, Message: "m",
			LastTransitionTime: long},
		{Type: stalled, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRollingOut, LastTransitionTime: long},
	}}
	before := time.Now().Add(-time.Second)
	items := in.items(template, serving(east, 2, 2), serving(west, 2, 2))
	app := toApp(t, in.aggregateStatus(toUnstructured(t, template), items))
	if c := meta.FindStatusCondition(app.Status.Conditions, stalled); c == nil || !c.LastTransitionTime.Equal(&long) {
		t.Errorf("Stalled stayed False but its transition time is %v, want %v", c, long)
	}
	c := meta.FindStatusCondition(app.Status.Conditions, ready)
	if c == nil || c.Status != metav1.ConditionTrue || c.LastTransitionTime.Time.Before(before.Truncate(time.Second)) ||
		c.LastTransitionTime.After(time.Now().Add(time.Second)) {
		t.Errorf("Ready became True at %v, want the time of the aggregation (after %v)", c, before)
	}
}

// Every scenario's aggregate is also checked by the tests above; this one feeds the aggregation with
// every kind of malformed item Karmada can hand over, which must not make the script fail.
func TestAggregateStatusOddItems(t *testing.T) {
	in := newInterpreter(t)
	template := toUnstructured(t, newApp(1, replicas(4)))
	for name, items := range map[string][]workv1alpha2.AggregatedStatusItem{
		"no items":               nil,
		"applied without status": {{ClusterName: east, Applied: true}},
		"a status that is not a HighlyAvailableApp's": {{ClusterName: east, Applied: true,
			Status: rawStatus(t, map[string]any{"replicas": "three", "conditions": "none", "readySummary": 4})}},
	} {
		t.Run(name, func(t *testing.T) {
			aggregated := in.aggregateStatus(template, items)
			validateAgainstCRD(t, aggregated)
			kstatusOf(t, aggregated)
			phaseAgrees(t, aggregated)
		})
	}
}

func rawStatus(t *testing.T, v map[string]any) *runtime.RawExtension {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return &runtime.RawExtension{Raw: raw}
}
