package decide

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// An availability Event tells a person that the app stopped (or started again) surviving a failure;
// a new app starting up, however its pods become ready, tells nothing of the kind.
func TestStatusEventsOfAvailability(t *testing.T) {
	highlyAvailable := func(s metav1.ConditionStatus, reason string) []metav1.Condition {
		return []metav1.Condition{{Type: appsv1alpha1.ConditionHighlyAvailable, Status: s, Reason: reason}}
	}
	const (
		none = ""
		ha   = appsv1alpha1.ReasonHighlyAvailable
		nha  = appsv1alpha1.ReasonNotHighlyAvailable
	)
	cases := []struct {
		name            string
		before          []metav1.Condition
		currentRevision int64
		now             []metav1.Condition
		want            string
	}{
		{"a new app's first status", nil, 0, highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonNoReadyPods), none},
		{"a new app's pods all ready at once", highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonNoReadyPods), 0,
			highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), none},
		{"a new app's pods ready one by one", highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleNode), 0,
			highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), none},
		{"a new app's ready pods lost before its rollout completed", highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), 0,
			highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleNode), nha},
		{"a running app back to highly available", highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleNode), 1,
			highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), ha},
		{"a running app back from no ready pod", highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonNoReadyPods), 2,
			highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), ha},
		{"a running app loses a zone", highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), 1,
			highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleNode), nha},
		{"no change", highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), 1,
			highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), none},
		{"one replica asked for", nil, 0, highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleReplica), nha},
		{"one replica asked for, told already", highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleReplica), 1,
			highlyAvailable(metav1.ConditionFalse, appsv1alpha1.ReasonSingleReplica), none},
		{"no condition", highlyAvailable(metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant), 1, nil, none},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := appsv1alpha1.HighlyAvailableAppStatus{Conditions: c.before, CurrentRevision: c.currentRevision}
			got := StatusEvents(before, appsv1alpha1.HighlyAvailableAppStatus{Conditions: c.now}, nil)
			switch {
			case c.want == none && len(got) != 0:
				t.Errorf("Events %+v, want none", got)
			case c.want != none && (len(got) != 1 || got[0].Reason != c.want):
				t.Errorf("Events %+v, want one %s", got, c.want)
			}
		})
	}
}

// A problem that blocks the app is told when it is new, not on every reconcile while it lasts.
func TestStatusEventsOfAProblem(t *testing.T) {
	stalled := func(reason, message string) appsv1alpha1.HighlyAvailableAppStatus {
		return appsv1alpha1.HighlyAvailableAppStatus{Conditions: []metav1.Condition{{Type: appsv1alpha1.ConditionStalled,
			Status: metav1.ConditionTrue, Reason: reason, Message: message}}}
	}
	conflict := &status.Problem{Reason: appsv1alpha1.ReasonConflict, Message: "Service web exists and is not the app's"}
	cases := []struct {
		name    string
		before  appsv1alpha1.HighlyAvailableAppStatus
		problem *status.Problem
		want    int
	}{
		{"no problem", appsv1alpha1.HighlyAvailableAppStatus{}, nil, 0},
		{"a new problem", appsv1alpha1.HighlyAvailableAppStatus{}, conflict, 1},
		{"the same problem, told already", stalled(conflict.Reason, conflict.Message), conflict, 0},
		{"the same reason, another message", stalled(conflict.Reason, "Deployment web exists and is not the app's"), conflict, 1},
		{"another problem", stalled(appsv1alpha1.ReasonApplyFailed, "refused"), conflict, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := StatusEvents(c.before, c.before, c.problem)
			if len(got) != c.want {
				t.Fatalf("Events %+v, want %d", got, c.want)
			}
			if c.want == 1 && (got[0].Reason != c.problem.Reason || got[0].Message != c.problem.Message || got[0].Type != "Warning") {
				t.Errorf("Event %+v, want a Warning %s: %s", got[0], c.problem.Reason, c.problem.Message)
			}
		})
	}
}

// An error that keeps recurring is told once, when the status starts saying so.
func TestStatusEventsOfRetrying(t *testing.T) {
	now := metav1.Now()
	quiet := appsv1alpha1.HighlyAvailableAppStatus{}
	retrying := status.Retrying(quiet, 1, "webhook timed out", now)
	cases := []struct {
		name         string
		before, next appsv1alpha1.HighlyAvailableAppStatus
		want         int
	}{
		{"the error starts to show", quiet, retrying, 1},
		{"the error still shows", retrying, status.Retrying(quiet, 1, "webhook timed out again", now), 0},
		{"the error is gone", retrying, quiet, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := StatusEvents(c.before, c.next, nil)
			if len(got) != c.want {
				t.Fatalf("Events %+v, want %d", got, c.want)
			}
			if c.want == 1 && (got[0].Reason != appsv1alpha1.ReasonRetryingAfterError || got[0].Type != "Warning" ||
				!strings.Contains(got[0].Message, "webhook timed out")) {
				t.Errorf("Event %+v, want a Warning RetryingAfterError with the error", got[0])
			}
		})
	}
}
