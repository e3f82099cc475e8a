package decide

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// StatusEvents are the Events that a status write tells, decided from the status before it and the
// status written: a problem that blocks the app when it is new (not on every reconcile while it
// lasts), an error that keeps recurring once the status starts saying so, and a change of the
// HighlyAvailable condition, so that a person watching the app sees when it stops (or starts again)
// surviving a failure. They are told only once the status is written; a write that fails leaves the
// status before as it was, so the next write decides them again.
func StatusEvents(before, next appsv1alpha1.HighlyAvailableAppStatus, problem *status.Problem) []Event {
	var out []Event
	if e := problemEvent(before, problem); e != nil {
		out = append(out, *e)
	}
	if status.IsRetrying(next) && !status.IsRetrying(before) {
		c := meta.FindStatusCondition(next.Conditions, appsv1alpha1.ConditionReconciling)
		out = append(out, Event{Type: corev1.EventTypeWarning, Reason: appsv1alpha1.ReasonRetryingAfterError,
			Action: "Reconcile", Message: c.Message})
	}
	if e := availabilityEvent(before, next); e != nil {
		out = append(out, *e)
	}
	return out
}

// problemEvent is a Warning for a problem that blocks the app (a conflict, a refused storage change)
// unless the status before already says it.
func problemEvent(before appsv1alpha1.HighlyAvailableAppStatus, problem *status.Problem) *Event {
	if problem == nil {
		return nil
	}
	if c := meta.FindStatusCondition(before.Conditions, appsv1alpha1.ConditionStalled); c != nil &&
		c.Status == metav1.ConditionTrue && c.Reason == problem.Reason && c.Message == problem.Message {
		return nil
	}
	return &Event{Type: corev1.EventTypeWarning, Reason: problem.Reason, Action: "Reconcile", Message: problem.Message}
}

// availabilityEvent tells a change of the HighlyAvailable condition's status; a new app starting up,
// however its pods become ready, tells nothing of the kind.
func availabilityEvent(before, next appsv1alpha1.HighlyAvailableAppStatus) *Event {
	now := meta.FindStatusCondition(next.Conditions, appsv1alpha1.ConditionHighlyAvailable)
	if now == nil {
		return nil
	}
	was := meta.FindStatusCondition(before.Conditions, appsv1alpha1.ConditionHighlyAvailable)
	lost := &Event{Type: corev1.EventTypeWarning, Reason: appsv1alpha1.ReasonNotHighlyAvailable, Action: "Observe",
		Message: fmt.Sprintf("%s: %s", now.Reason, now.Message)}
	switch {
	case now.Reason == appsv1alpha1.ReasonSingleReplica:
		// A replica count that can never be highly available is worth a warning as soon as it is asked
		// for.
		if was == nil || was.Reason != now.Reason {
			return lost
		}
		return nil
	case was == nil || was.Status == now.Status:
		// A new app has no ready pod yet: that is starting up, not a loss.
		return nil
	case now.Status == metav1.ConditionTrue && before.CurrentRevision == 0:
		// A new app's first rollout has not completed: its pods becoming ready, one by one or all at
		// once, is starting up, and the rollout's completion says it.
		return nil
	case now.Status == metav1.ConditionTrue:
		return &Event{Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonHighlyAvailable, Action: "Observe", Message: now.Message}
	default:
		// It was highly available and no longer is: a lost node or zone.
		return lost
	}
}
