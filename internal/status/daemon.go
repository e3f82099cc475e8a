package status

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// FromDaemonSet reads a DaemonSet's figures. Its desired count is the number of eligible nodes (those
// its template selects), and a node counts once whether it runs one pod or, during a surge, two.
func FromDaemonSet(d *appsv1.DaemonSet) Workload {
	return Workload{Kind: "DaemonSet", Name: d.Name, Found: true, Generation: d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration, Desired: d.Status.DesiredNumberScheduled,
		Replicas: d.Status.CurrentNumberScheduled, ReadyReplicas: d.Status.NumberReady,
		UpdatedReplicas: d.Status.UpdatedNumberScheduled, AvailableReplicas: d.Status.NumberAvailable,
		Hash: d.Spec.Template.Labels[rollout.LabelRevisionHash]}
}

// ComputeDaemon is Compute for a Daemon app. Ready, Reconciling and Stalled follow the same rules as
// for a Stateless app (the rollout, its failures and the rollback included). The rest reads coverage,
// the share of eligible nodes that have a ready daemon pod, reported as status.daemon.coveredPercent:
//   - Available is True while at least one daemon pod is ready and no more eligible nodes lack one than
//     the update may take down (rollout.maxUnavailable, at least 1, so that a node that has just joined
//     does not make the app unavailable);
//   - HighlyAvailable is True (AllNodesCovered) only when every eligible node is covered;
//   - resilience is Unavailable while no node is covered, and otherwise where the ready daemon pods
//     run, as for any app (ZoneRedundant, NodeRedundant, or SinglePointOfFailure for one node).
//
// misscheduled is the DaemonSet's numberMisscheduled. A DaemonSet's pods go with their nodes, so a
// zone lost takes its share of the need with it: status.zoneLoss does not apply.
func ComputeDaemon(in Input, misscheduled int32) appsv1alpha1.HighlyAvailableAppStatus {
	if in.Workload.Kind == "" {
		in.Workload.Kind = "DaemonSet"
	}
	desired := in.Workload.Desired
	if !in.Workload.Found {
		// Until the DaemonSet reports, the number of eligible nodes is unknown.
		in.Workload.Desired = 0
	}
	out := workloadStatus(in, false)
	ready := in.Workload.ReadyReplicas
	out.ReadySummary = fmt.Sprintf("%d/%d", ready, desired)
	out.Daemon = &appsv1alpha1.DaemonStatus{DesiredNumberScheduled: desired, NumberMisscheduled: misscheduled}
	if in.Workload.Found {
		out.Daemon.CoveredPercent = new(coveredPercent(ready, desired))
	}
	if ready == 0 {
		out.Resilience = appsv1alpha1.Unavailable
	}

	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason,
			Message: msg, ObservedGeneration: in.App.Generation, LastTransitionTime: in.Now})
	}
	covered := fmt.Sprintf("%d of %d eligible nodes have a ready daemon pod", ready, desired)
	if misscheduled > 0 {
		covered += fmt.Sprintf("; %d nodes run one they should not", misscheduled)
	}
	tolerated := int32(1)
	maxUnavailable := in.App.Spec.RolloutMaxUnavailable()
	if v, err := intstr.GetScaledValueFromIntOrPercent(&maxUnavailable, int(desired), true); err == nil {
		tolerated = max(tolerated, int32(v))
	}
	if ready > 0 && desired-ready <= tolerated {
		set(appsv1alpha1.ConditionAvailable, metav1.ConditionTrue, appsv1alpha1.ReasonMinimumAvailable, covered)
	} else {
		set(appsv1alpha1.ConditionAvailable, metav1.ConditionFalse, appsv1alpha1.ReasonBelowMinimum, covered)
	}
	if desired > 0 && ready >= desired {
		set(appsv1alpha1.ConditionHighlyAvailable, metav1.ConditionTrue, appsv1alpha1.ReasonAllNodesCovered, covered)
	} else {
		if desired == 0 {
			covered = "no node is eligible: the template's nodeSelector, affinity and tolerations select none"
			if !in.Workload.Found {
				covered = "waiting for the DaemonSet to count the eligible nodes"
			}
		}
		set(appsv1alpha1.ConditionHighlyAvailable, metav1.ConditionFalse, appsv1alpha1.ReasonNodesUncovered, covered)
	}
	return withPhase(out)
}

// DaemonInput is what ComputeDaemon needs: the workload app's input and the DaemonSet's
// numberMisscheduled.
type DaemonInput struct {
	Input
	Misscheduled int32
}

// Status is the Daemon app's status, given the reconcile's problem and time (Report).
func (in DaemonInput) Status(problem *Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	in.Problem, in.Now = problem, now
	return ComputeDaemon(in.Input, in.Misscheduled)
}

// coveredPercent is the share of eligible nodes covered, rounded down so that 100 means every one.
func coveredPercent(ready, desired int32) int32 {
	if desired <= 0 {
		return 0
	}
	return min(ready, desired) * 100 / desired
}
