package main

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func getWeb(t *testing.T, c client.Client) *appsv1alpha1.HighlyAvailableApp {
	t.Helper()
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: appName}, app); err != nil {
		t.Fatal(err)
	}
	return app
}

func TestPauseResume(t *testing.T) {
	tests := []struct {
		name       string
		paused     bool
		pause      bool
		wantPaused bool
		wantOut    string
	}{
		{"pause", false, true, true, "highlyavailableapp.apps.haoperator.dev/web paused\n"},
		{"pause again", true, true, true, "highlyavailableapp.apps.haoperator.dev/web is already paused\n"},
		{"resume", true, false, false, "highlyavailableapp.apps.haoperator.dev/web resumed\n"},
		{"resume when not paused", false, false, false, "highlyavailableapp.apps.haoperator.dev/web is already not paused\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := webApp()
			app.Spec.Rollout.Paused = tt.paused
			s, out, c := newSession(t, nil, app)
			before := getWeb(t, c)
			if err := s.setPaused(context.Background(), appName, tt.pause); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output %q, want %q", out, tt.wantOut)
			}
			after := getWeb(t, c)
			if after.Spec.Paused() != tt.wantPaused {
				t.Errorf("paused %v, want %v", after.Spec.Paused(), tt.wantPaused)
			}
			// The merge patch leaves the rest of spec.rollout alone.
			if got := after.Spec.Rollout.ProgressDeadlineSeconds; !equality.Semantic.DeepEqual(got, ptr.To[int32](600)) {
				t.Errorf("progressDeadlineSeconds %v after the patch", got)
			}
			after.Spec.Rollout.Paused = before.Spec.Rollout.Paused
			if !equality.Semantic.DeepEqual(after.Spec, before.Spec) {
				t.Error("the patch changed more than spec.rollout.paused")
			}
		})
	}
}

func TestPauseWithoutRolloutSection(t *testing.T) {
	app := webApp()
	app.Spec.Rollout = nil
	c, stdout, err := runPlugin(t, []client.Object{app}, "pause", appName, "-n", testNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if !getWeb(t, c).Spec.Paused() {
		t.Errorf("not paused; output %q", stdout)
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*appsv1alpha1.HighlyAvailableApp)
		wantOut string
	}{
		{"after a rollback", func(*appsv1alpha1.HighlyAvailableApp) {},
			"highlyavailableapp.apps.haoperator.dev/web retry of revision 3 requested\n"},
		{"nothing failed", func(a *appsv1alpha1.HighlyAvailableApp) { a.Status.LastFailedRevision = 0 },
			"highlyavailableapp.apps.haoperator.dev/web retry requested (no failed revision is waiting for one now)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := webApp()
			app.Annotations = map[string]string{"team": testNamespace, appsv1alpha1.AnnotationRetry: "2026-01-01T00:00:00Z"}
			tt.mutate(app)
			s, out, c := newSession(t, nil, app)
			if err := s.retry(context.Background(), appName); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantOut {
				t.Errorf("output %q, want %q", out, tt.wantOut)
			}
			got := getWeb(t, c).Annotations
			if got[appsv1alpha1.AnnotationRetry] != "2026-03-01T12:00:00Z" {
				t.Errorf("retry annotation %q", got[appsv1alpha1.AnnotationRetry])
			}
			if got["team"] != testNamespace {
				t.Error("other annotations were lost")
			}
		})
	}
}
