package status

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Phase is where an app stands, read the way kstatus reads it: the conditions count only once the
// operator has observed the current generation. It is the one definition of the phase, used by the
// operator's metrics and by the kubectl plugin.
type Phase string

// The phases.
const (
	PhaseReady       Phase = "Ready"
	PhaseStalled     Phase = "Stalled"
	PhasePaused      Phase = "Paused"
	PhaseProgressing Phase = "Progressing"
	PhaseNotReady    Phase = "NotReady"
)

// State is the app's phase with the reason and message of the condition that decided it.
type State struct {
	Phase   Phase
	Reason  string
	Message string
}

// StateOf reads the app's phase from its status.
func StateOf(app *appsv1alpha1.HighlyAvailableApp) State {
	st := app.Status
	if st.ObservedGeneration < app.Generation {
		return State{PhaseProgressing, appsv1alpha1.ReasonObservingGeneration, fmt.Sprintf(
			"waiting for the operator to observe generation %d (observed %d)", app.Generation, st.ObservedGeneration)}
	}
	if c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionStalled); isTrue(c) {
		return State{PhaseStalled, c.Reason, c.Message}
	}
	ready := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionReady)
	if isTrue(ready) {
		return State{PhaseReady, ready.Reason, ready.Message}
	}
	if c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionReconciling); isTrue(c) {
		if c.Reason == appsv1alpha1.ReasonPaused {
			return State{PhasePaused, c.Reason, c.Message}
		}
		return State{PhaseProgressing, c.Reason, c.Message}
	}
	if ready != nil {
		return State{PhaseNotReady, ready.Reason, ready.Message}
	}
	return State{PhaseProgressing, appsv1alpha1.ReasonCreating, "the operator has not reported on the app yet"}
}

func isTrue(c *metav1.Condition) bool {
	return c != nil && c.Status == metav1.ConditionTrue
}
