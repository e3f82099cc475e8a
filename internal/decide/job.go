package decide

import (
	"encoding/json"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// AnnotationJobSpec is, on the pod template of a Job app, spec.job (without the schedule fields,
// which the CronJob takes as they change): a change of the run's settings is a new revision, and so a
// new run, like a change of the template.
const AnnotationJobSpec = "apps.haoperator.dev/job-spec"

// JobTemplate is the pod template of a Job app's runs, built with the given generation of defaults,
// with spec.job stamped on it.
func JobTemplate(app *appsv1alpha1.HighlyAvailableApp, opts workload.Options, defaults int) (corev1.PodTemplateSpec, error) {
	desired := workload.PodTemplateAt(app, opts, defaults)
	if app.Spec.Job != nil {
		settings := app.Spec.Job.DeepCopy()
		settings.Schedule, settings.ConcurrencyPolicy = "", ""
		data, err := json.Marshal(settings)
		if err != nil {
			return desired, err
		}
		if string(data) != "{}" {
			if desired.Annotations == nil {
				desired.Annotations = map[string]string{}
			}
			desired.Annotations[AnnotationJobSpec] = string(data)
		}
	}
	return desired, nil
}

// jobDriver runs a Job app. Its runs are one Job per run (a ControllerRevision per run: the run
// number is the revision number, and `kubectl haapp history` lists the runs) or, with
// spec.job.schedule, a CronJob. It has no Service, disruption budget or autoscaler, and a run's
// template is immutable: a change starts a new run rather than a rollout. The rules for one-off runs
// (decideRun):
//   - a template (or spec.job) change starts a new run, a new Job named <app>-<run>;
//   - a run that is still active is never deleted by a spec change: the new run starts once every
//     earlier run has finished;
//   - a run that finished is not started again, even when its Job is deleted (ttlSecondsAfterFinished);
//   - finished earlier runs are deleted beyond rollout.revisionHistoryLimit, newest kept.
type jobDriver struct{}

func (jobDriver) workload(app *appsv1alpha1.HighlyAvailableApp) Ref {
	return Ref{kinds.CronJob, workload.CronJobName(app)}
}

func (d jobDriver) candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref {
	return []Ref{d.workload(app)}
}

func (jobDriver) observes() Observes { return Observes{Runs: true} }

func (jobDriver) clientService(*appsv1alpha1.HighlyAvailableApp) *corev1.Service { return nil }

func (jobDriver) plan(p *planner) { p.jobs() }

// report is the run's status, the CronJob's for a scheduled app; a refused app's has neither.
func (jobDriver) report(p *planner) status.Report {
	switch {
	case p.jobIn != nil:
		return *p.jobIn
	case p.cronJobIn != nil:
		return *p.cronJobIn
	}
	return status.JobInput{App: p.app}
}

func (p *planner) jobs() {
	app := p.app
	desired, defaults, err := p.desiredTemplate(func(level int) (corev1.PodTemplateSpec, error) {
		return JobTemplate(app, p.in.Options, level)
	})
	if err != nil {
		p.problem(appsv1alpha1.ReasonInvalidSpec, "spec.job: %v", err)
		return
	}
	h, name, ok := p.recordRevision(desired, defaults, false)
	if !ok {
		return
	}
	hash := p.updateHash
	p.plan.Prune = append(p.plan.Prune, rollout.Prune(h.objects, app.Spec.RevisionHistoryLimit(), hash)...)
	if app.Spec.JobSchedule() != "" {
		p.cronJob(h, name, desired)
		return
	}
	p.run(h, name, desired, p.retireCronJob())
}

// retireCronJob removes the CronJob of an app whose schedule was removed, without cutting short a run
// it started: while the CronJob has active runs it is suspended (so that it starts no more) and kept,
// and the name of an active run is returned for the app's next run to wait for.
func (p *planner) retireCronJob() string {
	ref := p.driver.workload(p.app)
	cj, ok := p.in.Objects[ref].(*batchv1.CronJob)
	if !ok || !IsControlledBy(cj, p.app) || cj.DeletionTimestamp != nil {
		return ""
	}
	if len(cj.Status.Active) == 0 {
		p.plan.Delete = append(p.plan.Delete, Removal{Ref: ref, Object: cj, Background: true, Why: "the schedule was removed"})
		return ""
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		want := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: cj.Name, Namespace: cj.Namespace, Labels: workload.Labels(p.app)},
			Spec: *cj.Spec.DeepCopy()}
		want.Spec.Suspend = new(true)
		if d, _, err := prepare(p.app, want, cj); err == nil {
			p.plan.Apply = append(p.plan.Apply, d)
			p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonUpdated, "Update",
				"suspended CronJob %s: the schedule was removed; it is deleted once its active runs finish", cj.Name)
		}
	}
	return cj.Status.Active[0].Name
}

// cronJob keeps a scheduled Job app's CronJob on the spec's template and schedule.
func (p *planner) cronJob(h *history, name string, desired corev1.PodTemplateSpec) {
	app := p.app
	cj := workload.CronJob(app, desired)
	p.reconcileObjects(map[Ref]client.Object{{kinds.CronJob, cj.Name}: cj})
	in := &status.CronJobInput{App: app}
	if obj, ok := p.in.Objects[Ref{kinds.CronJob, cj.Name}].(*batchv1.CronJob); ok && IsControlledBy(obj, app) {
		in.CronJob = obj
		rec, robj := h.record(name)
		if obj.Spec.JobTemplate.Spec.Template.Labels[rollout.LabelRevisionHash] == p.updateHash && rec.Outcome != rollout.OutcomeComplete {
			// The CronJob starts its next runs on this revision: it is the one in place.
			rec.Outcome, rec.Completed, rec.Failure, rec.FailureReason = rollout.OutcomeComplete, true, "", ""
			p.write(h, robj, rec)
		}
		for i := range p.in.Jobs {
			if metav1.IsControlledBy(&p.in.Jobs[i], obj) {
				in.Runs = append(in.Runs, p.in.Jobs[i])
			}
		}
	}
	p.cronJobIn = in
}

// run keeps one run of a one-off Job app going: the Job of the spec's revision, created once every
// earlier run has finished, and its outcome recorded on the revision so that it stands once the Job
// is deleted.
func (p *planner) run(h *history, name string, desired corev1.PodTemplateSpec, cronRun string) {
	app := p.app
	rec, robj := h.record(name)
	runName := workload.RunName(app, rec.Number)
	var runs []batchv1.Job
	for i := range p.in.Jobs {
		if _, numbered := p.in.Jobs[i].Labels[workload.LabelRun]; numbered && IsControlledBy(&p.in.Jobs[i], app) {
			runs = append(runs, p.in.Jobs[i])
		}
	}
	started := rec.RunStarted == rec.Number
	decision := decideRun(runName, started, runStates(runs), app.Spec.RevisionHistoryLimit())
	if cronRun != "" && decision.waitFor == "" {
		// A run the retired CronJob started is still going: the app's run waits for it.
		decision.create, decision.waitFor = false, cronRun
	}
	var creating *batchv1.Job
	if decision.create {
		job := workload.Job(app, desired, rec.Number)
		p.reconcileJob(job)
		if p.plan.Problem == nil {
			rec.RunStarted = rec.Number
			p.write(h, robj, rec)
			p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonCreated, "Create", "started run %d: Job %s", rec.Number, runName)
			started, creating = true, job
		}
	}
	for _, old := range decision.prune {
		if i := slices.IndexFunc(runs, func(j batchv1.Job) bool { return j.Name == old }); i >= 0 {
			p.plan.Delete = append(p.plan.Delete, Removal{Ref: Ref{kinds.Job, old}, Object: &runs[i], Background: true,
				Why: "a finished run beyond the history limit"})
		}
	}

	in := &status.JobInput{App: app, Run: rec.Number, RunName: runName, Started: started, WaitingFor: decision.waitFor, Now: metav1.NewTime(p.in.Now)}
	if i := slices.IndexFunc(runs, func(j batchv1.Job) bool { return j.Name == runName }); i >= 0 {
		in.Job = &runs[i]
		for _, pod := range p.in.Pods {
			if metav1.IsControlledBy(&pod, in.Job) {
				in.Pods = append(in.Pods, pod)
			}
		}
		p.recordOutcome(h, name, status.ObserveJob(in.Job, in.Pods))
	} else if creating != nil {
		// This plan creates the run's Job: the status shows it starting, not gone.
		in.Job = creating
	} else if started {
		in.Recorded = recordedRun(h, name)
	}
	for i := range h.objects {
		switch r := rollout.ReadRecord(&h.objects[i]); r.Outcome {
		case rollout.OutcomeComplete:
			in.LastComplete = r.Number
		case rollout.OutcomeFailed:
			in.LastFailed = r.Number
		}
	}
	p.jobIn = in
}

// reconcileJob creates a run's Job, or reports the Conflict when a Job of its name is not the app's.
func (p *planner) reconcileJob(job *batchv1.Job) {
	ref := Ref{kinds.Job, job.Name}
	for i := range p.in.Jobs {
		if p.in.Jobs[i].Name == job.Name && !IsControlledBy(&p.in.Jobs[i], p.app) {
			p.problem(appsv1alpha1.ReasonConflict, "%s", ConflictMessage(ref.Kind, ref.Name, &p.in.Jobs[i]))
			return
		}
	}
	if existing := p.in.Objects[ref]; existing != nil && !IsControlledBy(existing, p.app) {
		p.problem(appsv1alpha1.ReasonConflict, "%s", ConflictMessage(ref.Kind, ref.Name, existing))
		return
	}
	d, _, err := prepare(p.app, job, nil)
	if err != nil {
		p.problem(appsv1alpha1.ReasonInvalidSpec, "%s: %v", ref, err)
		return
	}
	p.plan.Apply = append(p.plan.Apply, d)
}

// recordOutcome writes a finished run's outcome on its revision, with an Event the first time.
func (p *planner) recordOutcome(h *history, name string, run status.Run) {
	rec, obj := h.record(name)
	switch {
	case run.State == status.RunComplete && rec.Outcome != rollout.OutcomeComplete:
		rec.Outcome, rec.Completed, rec.Failure, rec.FailureReason = rollout.OutcomeComplete, true, "", ""
		p.write(h, obj, rec)
		p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonComplete, "Run", "run %d completed: %s succeeded",
			rec.Number, status.PodCount(run.Succeeded))
	case run.State == status.RunFailed && rec.Outcome != rollout.OutcomeFailed:
		rec.Outcome, rec.Failure, rec.FailureReason, rec.FailedAt = rollout.OutcomeFailed, run.Message, rollout.Reason(run.Reason), p.in.Now
		p.write(h, obj, rec)
		p.event(corev1.EventTypeWarning, run.Reason, "Run", "run %d failed: %s", rec.Number, run.Message)
	}
}

// recordedRun is the outcome recorded on a run's revision, nil while none is.
func recordedRun(h *history, name string) *status.Run {
	rec, _ := h.record(name)
	switch rec.Outcome {
	case rollout.OutcomeComplete:
		return &status.Run{State: status.RunComplete}
	case rollout.OutcomeFailed:
		reason := string(rec.FailureReason)
		if reason == "" {
			reason = appsv1alpha1.ReasonJobFailed
		}
		return &status.Run{State: status.RunFailed, Reason: reason, Message: rec.Failure}
	}
	return nil
}

// runState is what decideRun needs of one run's Job.
type runState struct {
	name string
	run  int64
	// finished is true once the Job completed or failed.
	finished bool
	// deleting is true once the Job is being deleted.
	deleting bool
}

func runStates(jobs []batchv1.Job) []runState {
	out := make([]runState, 0, len(jobs))
	for i := range jobs {
		n, _ := strconv.ParseInt(jobs[i].Labels[workload.LabelRun], 10, 64)
		state := status.ObserveJob(&jobs[i], nil).State
		out = append(out, runState{name: jobs[i].Name, run: n, finished: state != status.RunActive,
			deleting: !jobs[i].DeletionTimestamp.IsZero()})
	}
	return out
}

// runDecision is what to do about the runs of a one-off Job app.
type runDecision struct {
	// create says to create the current run's Job.
	create bool
	// waitFor names the Job of an earlier run that is still active, which the current run waits for.
	waitFor string
	// prune names the Jobs of finished earlier runs beyond the history limit.
	prune []string
}

// decideRun decides, from the current run's Job name, whether that run was started already, and the
// app's run Jobs, whether to start the current run, which earlier run it waits for, and which finished
// runs to delete: the newest `limit` finished earlier runs are kept.
func decideRun(current string, started bool, jobs []runState, limit int32) runDecision {
	var d runDecision
	exists := false
	var finished []runState
	for _, j := range jobs {
		switch {
		case j.name == current:
			exists = true
		case !j.finished && !j.deleting:
			if d.waitFor == "" || j.run < runOf(jobs, d.waitFor) {
				d.waitFor = j.name
			}
		case j.finished && !j.deleting:
			finished = append(finished, j)
		}
	}
	d.create = !exists && !started && d.waitFor == ""
	slices.SortFunc(finished, func(a, b runState) int { return int(b.run - a.run) })
	for i, j := range finished {
		if int32(i) >= limit {
			d.prune = append(d.prune, j.name)
		}
	}
	return d
}

func runOf(jobs []runState, name string) int64 {
	for _, j := range jobs {
		if j.name == name {
			return j.run
		}
	}
	return 0
}
