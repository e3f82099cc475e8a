package controller

import (
	"slices"

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
