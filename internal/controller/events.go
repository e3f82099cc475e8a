package controller

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/api/meta"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/metrics"
	"github.com/haoperator/ha-operator/internal/status"
)

// emit records the plan's Events and metrics; it is called once the status is written.
func (r *HighlyAvailableAppReconciler) emit(app *appsv1alpha1.HighlyAvailableApp, events []decide.Event, ms []decide.Metric) {
	for _, e := range combined(events) {
		r.event(app, e.Type, e.Reason, e.Action, "%s", e.Message)
	}
	for _, m := range ms {
		switch m.Kind {
		case decide.MetricRolloutStarted:
			metrics.RolloutStarted(app.Namespace, app.Name)
		case decide.MetricRolloutCompleted:
			metrics.RolloutCompleted(app.Namespace, app.Name)
		case decide.MetricRolledBack:
			metrics.RolledBack(app.Namespace, app.Name, m.Reason)
		case decide.MetricFailureDetection:
			metrics.ObserveFailureDetection(m.Seconds)
		case decide.MetricRollbackDuration:
			metrics.ObserveRollback(m.Seconds)
		}
	}
}

// combined makes one Event of a rollout's start and the objects created for it, as a new app's first
// reconcile has them: a person reading kubectl describe gets both in one line, and the API server one
// request less per new app.
func combined(events []decide.Event) []decide.Event {
	started := slices.IndexFunc(events, func(e decide.Event) bool { return e.Reason == appsv1alpha1.ReasonRolloutStarted })
	created := slices.IndexFunc(events, func(e decide.Event) bool { return e.Reason == appsv1alpha1.ReasonCreated })
	if started < 0 || created < 0 {
		return events
	}
	out := slices.Clone(events)
	out[created].Message += " for " + out[started].Message
	return slices.Delete(out, started, started+1)
}

// event records an Event on the app, when the reconciler has a recorder.
func (r *HighlyAvailableAppReconciler) event(app *appsv1alpha1.HighlyAvailableApp, eventType, reason, action, format string, args ...any) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(app, nil, eventType, reason, action, format, args...)
}

// reportProblem records a Warning Event for a problem that blocks the app (a conflict, a refused
// storage change) when it is new: not on every reconcile while it lasts.
func (r *HighlyAvailableAppReconciler) reportProblem(app *appsv1alpha1.HighlyAvailableApp, problem *status.Problem) {
	if problem == nil {
		return
	}
	if before := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled); before != nil &&
		before.Status == metav1.ConditionTrue && before.Reason == problem.Reason && before.Message == problem.Message {
		return
	}
	r.event(app, corev1.EventTypeWarning, problem.Reason, "Reconcile", "%s", problem.Message)
}

// reportAvailabilityChange records an Event when the HighlyAvailable condition changes status, so
// that a person watching the app sees when it stops (or starts again) surviving a failure.
func (r *HighlyAvailableAppReconciler) reportAvailabilityChange(app *appsv1alpha1.HighlyAvailableApp, next appsv1alpha1.HighlyAvailableAppStatus) {
	now := meta.FindStatusCondition(next.Conditions, appsv1alpha1.ConditionHighlyAvailable)
	if now == nil {
		return
	}
	before := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionHighlyAvailable)
	switch {
	case now.Reason == appsv1alpha1.ReasonSingleReplica:
		// A replica count that can never be highly available is worth a warning as soon as it is asked
		// for.
		if before == nil || before.Reason != now.Reason {
			r.event(app, corev1.EventTypeWarning, appsv1alpha1.ReasonNotHighlyAvailable, "Observe", "%s: %s", now.Reason, now.Message)
		}
	case before == nil || before.Status == now.Status:
		// A new app has no ready pod yet: that is starting up, not a loss.
	case now.Status == metav1.ConditionTrue && app.Status.CurrentRevision == 0:
		// A new app's first rollout has not completed: its pods becoming ready, one by one or all at
		// once, is starting up, and the rollout's completion says it.
	case now.Status == metav1.ConditionTrue:
		r.event(app, corev1.EventTypeNormal, appsv1alpha1.ReasonHighlyAvailable, "Observe", "%s", now.Message)
	default:
		// It was highly available and no longer is: a lost node or zone.
		r.event(app, corev1.EventTypeWarning, appsv1alpha1.ReasonNotHighlyAvailable, "Observe", "%s: %s", now.Reason, now.Message)
	}
}

// recordAppState exports the app's phase (the one definition, status.StateOf), resilience and
// zone-loss headroom.
func recordAppState(app *appsv1alpha1.HighlyAvailableApp) {
	metrics.SetAppState(app.Namespace, app.Name, string(status.StateOf(app).Phase), string(app.Status.Resilience))
	if zl := app.Status.ZoneLoss; zl != nil {
		metrics.SetZoneLoss(app.Namespace, app.Name, true, zl.Tolerated, zl.RemainingReady, zl.MinimumReady)
	} else {
		metrics.SetZoneLoss(app.Namespace, app.Name, false, false, 0, 0)
	}
}

func forgetApp(namespace, name string) { metrics.ForgetApp(namespace, name) }
