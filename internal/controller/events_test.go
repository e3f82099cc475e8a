package controller

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// An availability Event tells a person that the app stopped (or started again) surviving a failure;
// a new app starting up, however its pods become ready, tells nothing of the kind.
func TestReportAvailabilityChange(t *testing.T) {
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recorder := events.NewFakeRecorder(10)
			r := &HighlyAvailableAppReconciler{Recorder: recorder}
			app := &appsv1alpha1.HighlyAvailableApp{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
			app.Status.Conditions = c.before
			app.Status.CurrentRevision = c.currentRevision
			r.reportAvailabilityChange(app, appsv1alpha1.HighlyAvailableAppStatus{Conditions: c.now})
			var got []string
			for len(recorder.Events) > 0 {
				got = append(got, <-recorder.Events)
			}
			switch {
			case c.want == none && len(got) != 0:
				t.Errorf("Events %q, want none", got)
			case c.want != none && (len(got) != 1 || !containsReason(got[0], c.want)):
				t.Errorf("Events %q, want one %s", got, c.want)
			}
		})
	}
}

// containsReason says whether a fake recorder's Event ("Type Reason message") has the reason.
func containsReason(event, reason string) bool {
	fields := strings.Fields(event)
	return len(fields) > 1 && fields[1] == reason
}
