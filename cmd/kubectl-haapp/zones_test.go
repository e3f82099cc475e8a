package main

import (
	"strings"
	"testing"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestZoneLossLine(t *testing.T) {
	cases := []struct {
		zl   *appsv1alpha1.ZoneLoss
		want string
	}{
		{nil, ""},
		{&appsv1alpha1.ZoneLoss{Tolerated: false, WorstZone: "zone-c", RemainingReady: 1, MinimumReady: 2},
			"NOT tolerated: losing zone zone-c leaves 1 ready, the budget needs 2"},
		{&appsv1alpha1.ZoneLoss{Tolerated: true, WorstNode: "node-1", RemainingReady: 2, MinimumReady: 2},
			"tolerated: losing node node-1 leaves 2 ready, the budget needs 2"},
	}
	for _, tc := range cases {
		if got := zoneLossLine(tc.zl); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestProgressLineNamesTheZoneBeingUpdated(t *testing.T) {
	app := webApp()
	app.Status.UpdatingZone = "zone-b"
	app.Status.UpdatedReplicas, app.Status.AvailableReplicas = 1, 3
	if got := progressLine(app, stateOf(app)); !strings.Contains(got, "replacing the pods of zone zone-b, 1 of 3") {
		t.Errorf("progress %q does not name the zone", got)
	}
}
