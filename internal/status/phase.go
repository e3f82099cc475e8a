package status

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// State is the app's phase with the reason and message of the condition that decided it.
type State struct {
	Phase   appsv1alpha1.Phase
	Reason  string
	Message string
}

// StateOf reads where the app stands: the phase the operator wrote on its status (status.phase), with
// the condition that decided it, once the status describes the app's generation; Progressing before
// that. The operator's metrics, the kubectl plugin and the Argo CD health script read the phase; the
// status computation writes it with phaseOf, the one definition of the phase.
func StateOf(app *appsv1alpha1.HighlyAvailableApp) State {
	st := app.Status
	if st.ObservedGeneration < app.Generation {
		return State{appsv1alpha1.PhaseProgressing, appsv1alpha1.ReasonObservingGeneration, fmt.Sprintf(
			"waiting for the operator to observe generation %d (observed %d)", app.Generation, st.ObservedGeneration)}
	}
	if st.Phase == "" {
		return State{appsv1alpha1.PhaseProgressing, appsv1alpha1.ReasonCreating, "the operator has not reported on the app yet"}
	}
	state := PhaseOf(st.Conditions)
	state.Phase = st.Phase
	return state
}

// PhaseOf decides the phase from the conditions, following kstatus: Stalled first, then Ready, then
// Reconciling (Paused when the update is held by spec.rollout.paused), NotReady when nothing moves.
func PhaseOf(conditions []metav1.Condition) State {
	if c := meta.FindStatusCondition(conditions, appsv1alpha1.ConditionStalled); isTrue(c) {
		return State{appsv1alpha1.PhaseStalled, c.Reason, c.Message}
	}
	reconciling := meta.FindStatusCondition(conditions, appsv1alpha1.ConditionReconciling)
	if isTrue(reconciling) && reconciling.Reason == appsv1alpha1.ReasonRetryingAfterError {
		// The operator cannot carry out the spec for now: whatever the pods do, the app is not where
		// the spec asks until it can.
		return State{appsv1alpha1.PhaseProgressing, reconciling.Reason, reconciling.Message}
	}
	ready := meta.FindStatusCondition(conditions, appsv1alpha1.ConditionReady)
	if isTrue(ready) {
		return State{appsv1alpha1.PhaseReady, ready.Reason, ready.Message}
	}
	if isTrue(reconciling) {
		if reconciling.Reason == appsv1alpha1.ReasonPaused {
			return State{appsv1alpha1.PhasePaused, reconciling.Reason, reconciling.Message}
		}
		return State{appsv1alpha1.PhaseProgressing, reconciling.Reason, reconciling.Message}
	}
	if ready != nil {
		return State{appsv1alpha1.PhaseNotReady, ready.Reason, ready.Message}
	}
	return State{appsv1alpha1.PhaseProgressing, appsv1alpha1.ReasonCreating, "the operator has not reported on the app yet"}
}

// withPhase writes the phase of the status's conditions on it.
func withPhase(out appsv1alpha1.HighlyAvailableAppStatus) appsv1alpha1.HighlyAvailableAppStatus {
	out.Phase = PhaseOf(out.Conditions).Phase
	return out
}

func isTrue(c *metav1.Condition) bool {
	return c != nil && c.Status == metav1.ConditionTrue
}

// Retrying is the status st with Reconciling True, reason RetryingAfterError and the error's message:
// the operator keeps meeting an error that retrying may fix. The other conditions and figures stay as
// they were.
func Retrying(st appsv1alpha1.HighlyAvailableAppStatus, generation int64, message string, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	st.Conditions = copyConditions(st.Conditions)
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: appsv1alpha1.ConditionReconciling,
		Status: metav1.ConditionTrue, Reason: appsv1alpha1.ReasonRetryingAfterError,
		Message: "retrying after an error: " + message, ObservedGeneration: generation, LastTransitionTime: now})
	return withPhase(st)
}

// IsRetrying tells whether the status says the operator keeps meeting an error (Retrying).
func IsRetrying(st appsv1alpha1.HighlyAvailableAppStatus) bool {
	c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionReconciling)
	return isTrue(c) && c.Reason == appsv1alpha1.ReasonRetryingAfterError
}
