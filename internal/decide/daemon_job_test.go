package decide

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

func daemonApp() *appsv1alpha1.HighlyAvailableApp {
	app := newApp(appsv1alpha1.Daemon, "agent:1")
	app.Spec.Replicas = nil
	return app
}

func (w *world) daemonSet() *appsv1.DaemonSet {
	d, _ := w.objs[Ref{kinds.DaemonSet, "web"}].(*appsv1.DaemonSet)
	return d
}

// settleDaemonSet plays the DaemonSet controller on three nodes.
func (w *world) settleDaemonSet(state podState) {
	ds := w.daemonSet()
	hash := hashOfTemplate(ds)
	var pods []corev1.Pod
	var ready, updated int32
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		p := w.newPod("web-"+node, hash, ds, "DaemonSet", state)
		p.Spec.NodeName = node
		if state != podReady {
			// The old pod stays while the new one is not ready (maxUnavailable 0).
			for _, old := range w.pods {
				if old.Spec.NodeName == node {
					pods = append(pods, old)
					if rollout.PodReady(&old) {
						ready++
					}
				}
			}
		} else {
			ready++
		}
		updated++
		pods = append(pods, p)
	}
	w.pods = pods
	ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 3, CurrentNumberScheduled: 3,
		UpdatedNumberScheduled: updated, NumberReady: ready, NumberAvailable: ready}
}

func TestDaemonAppIsADaemonSetWithALocalService(t *testing.T) {
	w := newWorld(daemonApp())
	p := step(t, w)
	applied := make([]string, 0, len(p.Apply))
	for _, d := range p.Apply {
		applied = append(applied, d.Kind)
	}
	if got := strings.Join(applied, ","); got != "DaemonSet,Service" {
		t.Fatalf("applied %s, want a DaemonSet and a Service (no PodDisruptionBudget)", got)
	}
	svc := w.objs[Ref{kinds.Service, "web"}].(*corev1.Service)
	if svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal {
		t.Errorf("Service traffic policy %v", svc.Spec.InternalTrafficPolicy)
	}
	if p.Service != "web" {
		t.Errorf("status service %q", p.Service)
	}
}

func TestDaemonBadImageIsRolledBack(t *testing.T) {
	w := newWorld(daemonApp())
	step(t, w)
	w.settleDaemonSet(podReady)
	p := step(t, w)
	if p.Rollout.CurrentRevision != 1 {
		t.Fatalf("revision 1 not complete: %+v", p.Rollout)
	}
	w.app.Spec.Template.Spec.Containers[0].Image = "agent:does-not-exist"
	step(t, w)
	w.settleDaemonSet(podPullNotFound)
	w.now = w.now.Add(2 * time.Second)
	p = step(t, w)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack {
		t.Fatalf("not rolled back: %+v", p.Rollout)
	}
	if got := w.daemonSet().Spec.Template.Spec.Containers[0].Image; got != "agent:1" {
		t.Errorf("DaemonSet image %s", got)
	}
}

func jobApp() *appsv1alpha1.HighlyAvailableApp {
	app := newApp(appsv1alpha1.Job, "perl:5")
	app.Spec.Replicas = nil
	app.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	app.Spec.Template.Spec.Containers[0].Ports = nil
	return app
}

// finishRun plays the Job controller: the run's Job ends as asked.
func (w *world) finishRun(name string, complete bool) {
	for i := range w.objs {
		job, ok := w.objs[i].(*batchv1.Job)
		if !ok || job.Name != name {
			continue
		}
		cond := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}
		if !complete {
			cond = batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded",
				Message: "Job has reached the specified backoff limit"}
		}
		job.Status.Conditions = []batchv1.JobCondition{cond}
	}
}

// jobsOf moves the Jobs the plan created into Input.Jobs, as a list would show them.
func (w *world) jobInput() Input {
	in := w.input()
	for ref, obj := range w.objs {
		if job, ok := obj.(*batchv1.Job); ok && ref.Kind == kinds.Job {
			in.Jobs = append(in.Jobs, *job)
		}
	}
	return in
}

func jobStep(t *testing.T, w *world) Plan {
	t.Helper()
	p := Decide(w.jobInput())
	w.act(p)
	return p
}

func TestJobRuns(t *testing.T) {
	w := newWorld(jobApp())
	p := jobStep(t, w)
	if len(p.Apply) != 1 || p.Apply[0].Ref != (Ref{kinds.Job, "web-1"}) {
		t.Fatalf("applied %+v, want run 1's Job", p.Apply)
	}
	if jobOf(p) == nil || jobOf(p).Run != 1 {
		t.Fatalf("job status input %+v", jobOf(p))
	}
	// The reconcile that creates the run's Job does not see it yet: the status shows the run
	// starting, not a Job deleted before it finished.
	if jobOf(p).Job == nil || jobOf(p).Job.Name != "web-1" || jobOf(p).Recorded != nil {
		t.Errorf("the run being created is reported as %+v", jobOf(p))
	}
	got := status.ComputeJob(*jobOf(p))
	if meta.IsStatusConditionTrue(got.Conditions, appsv1alpha1.ConditionStalled) {
		t.Errorf("the run being created is reported stalled: %+v", got.Conditions)
	}
	for _, c := range got.Conditions {
		if strings.Contains(c.Message, "deleted") {
			t.Errorf("the run being created is reported gone: %s %s", c.Type, c.Message)
		}
	}
	if rec := rollout.ReadRecord(&w.revs[0]); rec.RunStarted != 1 {
		t.Errorf("run start not recorded: %+v", rec)
	}
	if p = jobStep(t, w); len(p.Apply) != 0 {
		t.Fatalf("run 1 started twice: %+v", p.Apply)
	}

	By := func(string) {}
	By("a template change while run 1 is active: run 2 waits")
	w.app.Spec.Template.Spec.Containers[0].Image = "perl:6"
	p = jobStep(t, w)
	if len(p.Apply) != 0 || jobOf(p).WaitingFor != "web-1" {
		t.Fatalf("run 2 did not wait for run 1: apply %+v, waiting %q", p.Apply, jobOf(p).WaitingFor)
	}
	w.finishRun("web-1", true)
	p = jobStep(t, w)
	if len(p.Apply) != 1 || p.Apply[0].Ref != (Ref{kinds.Job, "web-2"}) {
		t.Fatalf("run 2 did not start once run 1 finished: %+v", p.Apply)
	}

	By("run 2 fails: the outcome is recorded with the Job's reason")
	w.finishRun("web-2", false)
	p = jobStep(t, w)
	if !contains(eventReasons(p), "BackoffLimitExceeded") || jobOf(p).LastFailed != 2 {
		t.Errorf("failure not recorded: %v %+v", eventReasons(p), jobOf(p))
	}
	if jobStep(t, w).Events != nil {
		t.Error("the outcome was recorded twice")
	}

	By("a Job deleted after it finished is never started again, and its recorded outcome stands")
	delete(w.objs, Ref{kinds.Job, "web-2"})
	p = jobStep(t, w)
	if len(p.Apply) != 0 || jobOf(p).Recorded == nil || jobOf(p).Recorded.Reason != "BackoffLimitExceeded" {
		t.Errorf("apply %+v, recorded %+v", p.Apply, jobOf(p).Recorded)
	}
}

func TestJobRunsBeyondTheHistoryAreDeleted(t *testing.T) {
	app := jobApp()
	app.Spec.Rollout = &appsv1alpha1.RolloutSpec{RevisionHistoryLimit: new(int32(1))}
	w := newWorld(app)
	for i, img := range []string{"perl:1", "perl:2", "perl:3"} {
		w.app.Spec.Template.Spec.Containers[0].Image = img
		jobStep(t, w)
		w.finishRun(workload.RunName(w.app, int64(i+1)), true)
	}
	w.app.Spec.Template.Spec.Containers[0].Image = "perl:4"
	p := jobStep(t, w)
	deleted := make([]string, 0, len(p.Delete))
	for _, d := range p.Delete {
		if !d.Background {
			t.Errorf("%s deleted without its pods", d.Ref)
		}
		deleted = append(deleted, d.Ref.Name)
	}
	for _, name := range []string{"web-1", "web-2"} {
		if _, kept := w.objs[Ref{kinds.Job, name}]; kept {
			t.Errorf("%s kept beyond the history limit of 1", name)
		}
	}
	if _, kept := w.objs[Ref{kinds.Job, "web-3"}]; !kept || !contains(deleted, "web-2") {
		t.Errorf("deleted %v: want web-2 gone when run 4 starts, web-3 kept", deleted)
	}
}

func TestScheduledJobIsACronJob(t *testing.T) {
	app := jobApp()
	app.Spec.Job = &appsv1alpha1.JobSpec{Schedule: "*/5 * * * *"}
	w := newWorld(app)
	p := jobStep(t, w)
	if len(p.Apply) != 1 || p.Apply[0].Kind != kinds.CronJob {
		t.Fatalf("applied %+v, want the CronJob alone", p.Apply)
	}
	cj := w.objs[p.Apply[0].Ref].(*batchv1.CronJob)
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrency policy %s", cj.Spec.ConcurrencyPolicy)
	}
	p = jobStep(t, w)
	if cronJobOf(p) == nil || cronJobOf(p).CronJob == nil {
		t.Fatalf("cron status input %+v", cronJobOf(p))
	}
	if rec := rollout.ReadRecord(&w.revs[0]); rec.Outcome != rollout.OutcomeComplete {
		t.Errorf("the revision in place is not complete: %+v", rec)
	}

	// The schedule removed: the CronJob goes and a run starts.
	w.app.Spec.Job.Schedule = ""
	p = jobStep(t, w)
	if len(p.Delete) != 1 || p.Delete[0].Ref.Kind != kinds.CronJob || len(p.Apply) != 1 || p.Apply[0].Kind != kinds.Job {
		t.Errorf("delete %+v apply %+v", p.Delete, p.Apply)
	}
}

func TestRemovingTheScheduleKeepsAnActiveScheduledRun(t *testing.T) {
	app := jobApp()
	app.Spec.Job = &appsv1alpha1.JobSpec{Schedule: "*/5 * * * *"}
	w := newWorld(app)
	p := jobStep(t, w)
	cj := w.objs[p.Apply[0].Ref].(*batchv1.CronJob)
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Name: "web-29000000"}}

	// The schedule removed while the CronJob's run is active: the CronJob stays, suspended, and run 1
	// waits for the scheduled run.
	w.app.Spec.Job.Schedule = ""
	p = jobStep(t, w)
	if len(p.Delete) != 0 || len(p.Apply) != 1 || p.Apply[0].Kind != kinds.CronJob {
		t.Fatalf("delete %+v apply %+v: want the CronJob kept and applied (suspended), no run", p.Delete, p.Apply)
	}
	if kept := w.objs[p.Apply[0].Ref].(*batchv1.CronJob); kept.Spec.Suspend == nil || !*kept.Spec.Suspend ||
		kept.Spec.Schedule != "*/5 * * * *" {
		t.Errorf("CronJob spec %+v: want it suspended on its old schedule", kept.Spec)
	}
	if jobOf(p) == nil || jobOf(p).WaitingFor != "web-29000000" {
		t.Errorf("job status input %+v: want run 1 waiting for web-29000000", jobOf(p))
	}

	// The scheduled run finished: the CronJob goes and run 1 starts.
	w.objs[Ref{kinds.CronJob, cj.Name}].(*batchv1.CronJob).Status.Active = nil
	p = jobStep(t, w)
	if len(p.Delete) != 1 || p.Delete[0].Ref.Kind != kinds.CronJob || len(p.Apply) != 1 || p.Apply[0].Kind != kinds.Job {
		t.Errorf("delete %+v apply %+v: want the CronJob deleted and run 1 started", p.Delete, p.Apply)
	}
}

var _ = metav1.Now

// jobOf is the status input of a one-off Job app's run in the plan; nil for any other report.
func jobOf(p Plan) *status.JobInput {
	if in, ok := p.Report.(common).Report.(status.JobInput); ok {
		return &in
	}
	return nil
}

// cronJobOf is the status input of a scheduled Job app in the plan; nil for any other report.
func cronJobOf(p Plan) *status.CronJobInput {
	if in, ok := p.Report.(common).Report.(status.CronJobInput); ok {
		return &in
	}
	return nil
}
