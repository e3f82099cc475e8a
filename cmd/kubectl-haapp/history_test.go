package main

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/haoperator/ha-operator/internal/rollout"
)

func TestHistory(t *testing.T) {
	s, out, _ := newSession(t, nil, world(t)...)
	s.width = 0
	if err := s.history(context.Background(), appName); err != nil {
		t.Fatal(err)
	}
	golden(t, "history-web.golden", out.String())
}

func TestHistoryOrderAndStates(t *testing.T) {
	app := webApp()
	app.Status.CurrentRevision, app.Status.UpdateRevision, app.Status.LastFailedRevision = 10, 12, 0
	// Created out of order; numbers above 9 sort as numbers, not as text.
	objs := make([]client.Object, 0, 6)
	objs = append(objs,
		app,
		revision(t, app, 12, "nginx:1.27.2", rollout.OutcomeNone, "", time.Minute),
		revision(t, app, 9, "nginx:1.26", rollout.OutcomeComplete, "", 3*time.Hour),
		revision(t, app, 11, "nginx:1.27.1", rollout.OutcomeNone, "", 10*time.Minute),
		revision(t, app, 10, imageOther, rollout.OutcomeComplete, "", 2*time.Hour),
	)
	// A revision of another app with the same labels but another owner is not listed.
	other := webApp()
	other.UID = "other-uid"
	objs = append(objs, revision(t, other, 1, "httpd:2", rollout.OutcomeComplete, "", time.Hour))

	s, out, _ := newSession(t, nil, objs...)
	if err := s.history(context.Background(), appName); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"REVISION  HASH        OUTCOME             AGE   IMAGES\n" +
		"9         " + hashOf("nginx:1.26") + "  Complete            3h    nginx:1.26\n" +
		"10        " + hashOf(imageOther) + "  Complete (serving)  120m  nginx:1.27\n" +
		"11        " + hashOf("nginx:1.27.1") + "  superseded          10m   nginx:1.27.1\n" +
		"12        " + hashOf("nginx:1.27.2") + "  in progress         60s   nginx:1.27.2\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func hashOf(image string) string {
	tpl := userTemplate(image)
	return rollout.Hash(&tpl)
}

func TestHistoryEmpty(t *testing.T) {
	s, out, _ := newSession(t, nil, webApp())
	if err := s.history(context.Background(), appName); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "highlyavailableapp.apps.haoperator.dev/web has no revisions yet\n" {
		t.Errorf("got %q", got)
	}
}

// A new app's first revision is recorded when its rollout ends: until then the history shows it from
// the status, in progress, with the spec's images.
func TestHistoryOfAFirstRolloutInProgress(t *testing.T) {
	app := webApp()
	app.Status.CurrentRevision, app.Status.UpdateRevision, app.Status.LastFailedRevision = 0, 1, 0
	s, out, _ := newSession(t, nil, app)
	if err := s.history(context.Background(), appName); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"REVISION  HASH  OUTCOME      AGE  IMAGES\n" +
		"1         -     in progress  3d   nginx:1.91\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
