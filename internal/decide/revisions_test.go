package decide

import (
	"slices"
	"testing"
	"time"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// An app's first revision is told when it starts and written once, when its rollout ends: a new app
// costs one write of its record, not two, and the record says what a rollback reads.
func TestFirstRevisionIsWrittenOnceItsRolloutEnds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     appsv1alpha1.AppType
		pods    podState
		wait    time.Duration // between the steps while the pods are in that state
		outcome rollout.Outcome
		reason  string // the failure's reason, when it fails
	}{
		{"stateless, completes", appsv1alpha1.Stateless, podReady, time.Second, rollout.OutcomeComplete, ""},
		{"stateful, completes", appsv1alpha1.Stateful, podReady, time.Second, rollout.OutcomeComplete, ""},
		{"crash loop fails it", appsv1alpha1.Stateless, podCrash, 20 * time.Second, rollout.OutcomeFailed, string(rollout.ReasonCrashLoopBackOff)},
		{"no progress fails it at the deadline", appsv1alpha1.Stateless, podStarting, 20 * time.Second, rollout.OutcomeFailed,
			string(rollout.ReasonProgressDeadlineExceeded)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(tc.typ, "nginx:1")
			app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(60))}
			w := newWorld(app)
			var writes []RevisionWrite
			started := 0
			for range 10 {
				p := step(t, w)
				writes = append(writes, p.Revisions...)
				for _, e := range p.Events {
					if e.Reason == appsv1alpha1.ReasonRolloutStarted {
						started++
					}
				}
				if p.Rollout.UpdateRevision != 1 {
					t.Fatalf("update revision %d, want 1", p.Rollout.UpdateRevision)
				}
				if len(w.revs) == 0 && w.now.Sub(t0) > 60*time.Second && tc.outcome == rollout.OutcomeFailed {
					t.Fatalf("no record %s after the deadline", w.now.Sub(t0))
				}
				w.simulate(tc.pods)
				w.now = w.now.Add(tc.wait)
			}
			if started != 1 {
				t.Errorf("the rollout's start told %d times, want once", started)
			}
			if len(writes) != 1 || writes[0].Before != nil || writes[0].Object.Revision != 1 {
				t.Fatalf("writes %+v, want revision 1 created once", writes)
			}
			rec := rollout.ReadRecord(writes[0].Object)
			if rec.Outcome != tc.outcome || string(rec.FailureReason) != tc.reason {
				t.Errorf("written %s (%s), want %s (%s)", rec.Outcome, rec.FailureReason, tc.outcome, tc.reason)
			}
			if tc.outcome == rollout.OutcomeFailed && !rec.StartedAt.Equal(t0) {
				t.Errorf("started at %s, want the workload's creation %s", rec.StartedAt, t0)
			}
		})
	}
}

// What happens to a first revision before its rollout ends: each writes what it must, at once.
func TestFirstRevisionBeforeItsRolloutEnds(t *testing.T) {
	t.Run("a pause writes it paused", func(t *testing.T) {
		w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
		step(t, w)
		w.simulate(podStarting)
		w.app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Paused: true}
		p := step(t, w)
		if len(p.Revisions) != 1 || p.Revisions[0].Before != nil || !rollout.ReadRecord(p.Revisions[0].Object).Paused {
			t.Fatalf("writes %+v, want revision 1 created paused", p.Revisions)
		}
	})
	t.Run("a new template is revision 2, written at once", func(t *testing.T) {
		w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
		step(t, w)
		w.simulate(podStarting)
		w.app.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		p := step(t, w)
		if len(p.Revisions) != 1 || p.Revisions[0].Before != nil || p.Revisions[0].Object.Revision != 2 {
			t.Fatalf("writes %+v, want revision 2 created", p.Revisions)
		}
		if !slices.Contains(eventReasons(p), appsv1alpha1.ReasonRolloutStarted) || p.Rollout.UpdateRevision != 2 {
			t.Errorf("events %v, update revision %d", eventReasons(p), p.Rollout.UpdateRevision)
		}
		// Back to the first template: it was never written, and is revision 3.
		w.simulate(podStarting)
		w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1"
		p = step(t, w)
		if len(p.Revisions) != 1 || p.Revisions[0].Before != nil || p.Revisions[0].Object.Revision != 3 {
			t.Fatalf("writes %+v, want revision 3 created", p.Revisions)
		}
	})
	t.Run("a scale restarts no pod", func(t *testing.T) {
		w := newWorld(newApp(appsv1alpha1.Stateful, "cassandra:3"))
		step(t, w)
		w.simulate(podStarting)
		before := w.statefulSet().Spec.Template.DeepCopy()
		w.app.Spec.Replicas = new(int32(5))
		step(t, w)
		p := settle(t, w)
		if got := w.statefulSet(); !equalTemplates(before, &got.Spec.Template) {
			t.Error("a scale changed the template")
		}
		if len(p.Revisions) != 1 {
			t.Fatalf("writes %+v, want revision 1 on completion", p.Revisions)
		}
		data, err := rollout.DecodeRevision(p.Revisions[0].Object)
		if err != nil || !equalTemplates(before, &data.PodTemplate) {
			t.Errorf("the record keeps another template than the pods run (%v)", err)
		}
	})
	t.Run("an operator upgrade restarts no pod", func(t *testing.T) {
		for _, typ := range []appsv1alpha1.AppType{appsv1alpha1.Stateless, appsv1alpha1.Stateful} {
			w := newWorld(newApp(typ, "nginx:1"))
			w.options.Defaults = workload.DefaultsOriginal
			step(t, w)
			w.simulate(podStarting)
			hash := hashOfTemplate(w.objs[WorkloadRef(w.app)])
			w.options.Defaults = 0
			p := step(t, w)
			if got := hashOfTemplate(w.objs[WorkloadRef(w.app)]); got != hash || len(p.DeletePods) != 0 {
				t.Fatalf("%s: the upgraded operator changed the template %s → %s, deleted %d pods", typ, hash, got, len(p.DeletePods))
			}
			p = settle(t, w)
			if len(p.Revisions) != 1 || rollout.ReadRecord(p.Revisions[0].Object).Defaults != workload.DefaultsOriginal {
				t.Fatalf("%s: writes %+v, want revision 1 with the defaults it was built with", typ, p.Revisions)
			}
		}
	})
}

// settle makes the app's pods ready and plays the workload's controller until a decision writes a
// revision (at most a few rounds), and returns that decision.
func settle(t *testing.T, w *world) Plan {
	t.Helper()
	var p Plan
	for range 5 {
		for i := range w.pods {
			setPodState(&w.pods[i], podReady, w.now)
		}
		w.simulate(podReady)
		if p = step(t, w); len(p.Revisions) > 0 {
			break
		}
	}
	return p
}
