package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func readyApp() *appsv1alpha1.HighlyAvailableApp {
	app := webApp()
	app.Status.Conditions = []metav1.Condition{
		{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: appsv1alpha1.ReasonRolloutComplete},
		{Type: appsv1alpha1.ConditionReconciling, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRolloutComplete},
		{Type: appsv1alpha1.ConditionStalled, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRolloutComplete},
	}
	app.Status.CurrentRevision, app.Status.UpdateRevision, app.Status.LastFailedRevision = 3, 3, 0
	app.Status.UpdatedReplicas = 3
	return app
}

func rollingApp() *appsv1alpha1.HighlyAvailableApp {
	app := readyApp()
	app.Status.Conditions = []metav1.Condition{
		{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRollingOut},
		{Type: appsv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: appsv1alpha1.ReasonRollingOut},
	}
	app.Status.UpdatedReplicas, app.Status.AvailableReplicas, app.Status.Replicas = 1, 3, 4
	return app
}

func laggingApp() *appsv1alpha1.HighlyAvailableApp {
	app := readyApp()
	app.Generation = 6
	return app
}

func laggingStalledApp() *appsv1alpha1.HighlyAvailableApp {
	app := webApp()
	app.Generation = 6
	return app
}

func pausedApp() *appsv1alpha1.HighlyAvailableApp {
	app := rollingApp()
	app.Status.Conditions[1].Reason = appsv1alpha1.ReasonPaused
	return app
}

func TestStatusOnce(t *testing.T) {
	tests := []struct {
		name     string
		app      *appsv1alpha1.HighlyAvailableApp
		wantCode int // -1: no error
		wantOut  string
		wantErr  string
	}{
		{"ready", readyApp(), -1, "highlyavailableapp.apps.haoperator.dev/web successfully rolled out (revision 3)\n", ""},
		{"stalled after a rollback", webApp(), 1, "",
			"highlyavailableapp.apps.haoperator.dev/web failed: RolledBack: rolled back to revision 2: " + stuckPodFailure},
		{"ready but generation not observed", laggingApp(), -1,
			`Waiting for "web": waiting for the operator to observe generation 6 (observed 5)...` + "\n", ""},
		{"stalled but generation not observed", laggingStalledApp(), -1,
			`Waiting for "web": waiting for the operator to observe generation 6 (observed 5)...` + "\n", ""},
		{"rolling", rollingApp(), -1,
			`Waiting for "web" rollout to finish: 1 of 3 updated replicas are available...` + "\n", ""},
		{"paused", pausedApp(), -1,
			`Rollout of "web" is paused at 1 of 3 updated replicas (resume with: kubectl haapp resume web)` + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, _ := newSession(t, nil, tt.app)
			err := s.status(context.Background(), appName, false, 0)
			if tt.wantCode < 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else {
				var exit *exitError
				if !errors.As(err, &exit) || exit.code != tt.wantCode {
					t.Fatalf("error %v, want exit code %d", err, tt.wantCode)
				}
				if exit.Error() != tt.wantErr {
					t.Errorf("message %q, want %q", exit.Error(), tt.wantErr)
				}
			}
			if out.String() != tt.wantOut {
				t.Errorf("output %q, want %q", out, tt.wantOut)
			}
		})
	}
}

// sequence makes each Get of the app return the next state, then the last one for ever.
func sequence(states ...*appsv1alpha1.HighlyAvailableApp) *interceptor.Funcs {
	var calls atomic.Int32
	return &interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey,
		obj client.Object, opts ...client.GetOption) error {
		app, ok := obj.(*appsv1alpha1.HighlyAvailableApp)
		if !ok {
			return c.Get(ctx, key, obj, opts...)
		}
		i := min(int(calls.Add(1))-1, len(states)-1)
		withPhase(states[i].DeepCopy()).DeepCopyInto(app)
		return nil
	}}
}

func TestStatusWatchesUntilReady(t *testing.T) {
	s, out, _ := newSession(t, sequence(laggingApp(), laggingApp(), rollingApp(), rollingApp(), readyApp()), readyApp())
	if err := s.status(context.Background(), appName, true, time.Minute); err != nil {
		t.Fatalf("error %v", err)
	}
	want := "" +
		`Waiting for "web": waiting for the operator to observe generation 6 (observed 5)...` + "\n" +
		`Waiting for "web" rollout to finish: 1 of 3 updated replicas are available...` + "\n" +
		"highlyavailableapp.apps.haoperator.dev/web successfully rolled out (revision 3)\n"
	if out.String() != want {
		t.Errorf("output\n%s\nwant (each progress line once)\n%s", out, want)
	}
}

func TestStatusWatchesUntilStalled(t *testing.T) {
	s, _, _ := newSession(t, sequence(rollingApp(), webApp()), readyApp())
	err := s.status(context.Background(), appName, true, time.Minute)
	var exit *exitError
	if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "ImagePullBackOff") {
		t.Fatalf("error %v, want exit 1 naming the cause", err)
	}
}

func TestStatusTimesOutWhileGenerationLags(t *testing.T) {
	s, out, _ := newSession(t, nil, laggingApp())
	err := s.status(context.Background(), appName, true, 30*time.Millisecond)
	var exit *exitError
	if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "timed out after 30ms") {
		t.Fatalf("error %v, want a timeout with exit code 1", err)
	}
	if strings.Count(out.String(), "\n") != 1 {
		t.Errorf("the same progress line was printed more than once:\n%s", out)
	}
}

func TestStatusCommandLineExitCodes(t *testing.T) {
	tests := []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		args []string
		want int
	}{
		{"ready", readyApp(), nil, 0},
		{"stalled", webApp(), nil, 1},
		{"lagging, no watch", laggingApp(), []string{"--watch=false"}, 0},
		{"lagging, timeout", laggingApp(), []string{"--timeout", "20ms"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"status", appName, "-n", testNamespace}, tt.args...)
			_, _, err := runPlugin(t, []client.Object{tt.app}, args...)
			code := 0
			if err != nil {
				code = exitCode(err)
			}
			if code != tt.want {
				t.Errorf("exit code %d (error %v), want %d", code, err, tt.want)
			}
		})
	}
}

func TestStatusNotFound(t *testing.T) {
	s, _, _ := newSession(t, nil)
	err := s.status(context.Background(), appName, true, time.Second)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("error %v", err)
	}
}
