package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch;create;update;patch;delete

const (
	// annotationRunStarted, on a revision of a Job app, is the number of the run whose Job was created
	// for it. A revision renumbered because the spec came back to its template is a new run: its
	// number no longer matches.
	annotationRunStarted = "apps.haoperator.dev/run-started"
	// annotationJobSpec, on the pod template of a Job app, is spec.job (without the schedule fields,
	// which the CronJob takes as they change): a change of the run's settings is a new revision, and
	// so a new run, like a change of the template.
	annotationJobSpec = "apps.haoperator.dev/job-spec"
)

// Job apps run as one Job per run (a ControllerRevision per run: the run number is the revision
// number, and `kubectl haapp history` lists the runs) or, with spec.job.schedule, as a CronJob.
//
// The rules for one-off runs, decided by decideRun:
//   - a template (or spec.job) change starts a new run, a new Job named <app>-<run>;
//   - a run that is still active is never deleted by a spec change: the new run starts once every
//     earlier run has finished;
//   - a run that finished is not started again, even when its Job is deleted (ttlSecondsAfterFinished);
//   - finished earlier runs are deleted beyond rollout.revisionHistoryLimit, newest kept.
func (r *HighlyAvailableAppReconciler) reconcileJob(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (ctrl.Result, error) {
	desired, err := jobTemplate(app, r.Options)
	if err != nil {
		return ctrl.Result{}, err
	}
	hash := desired.Labels[rollout.LabelRevisionHash]
	revs, err := r.listRevisions(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	rev, err := r.ensureRevision(ctx, app, revs, hash, desired)
	if err != nil {
		return ctrl.Result{}, err
	}
	revs = replaceRevision(revs, rev)
	if err := r.prune(ctx, app, revs, hash); err != nil {
		return ctrl.Result{}, err
	}
	if app.Spec.JobSchedule() != "" {
		return r.reconcileCronJob(ctx, app, desired, rev)
	}
	return r.reconcileRun(ctx, app, desired, rev, revs)
}

// jobTemplate is the pod template of a Job app's runs, with spec.job stamped on it and the revision
// hash label.
func jobTemplate(app *appsv1alpha1.HighlyAvailableApp, opts workload.Options) (corev1.PodTemplateSpec, error) {
	desired := workload.PodTemplate(app, opts)
	if app.Spec.Job != nil {
		settings := app.Spec.Job.DeepCopy()
		settings.Schedule, settings.ConcurrencyPolicy = "", ""
		data, err := json.Marshal(settings)
		if err != nil {
			return desired, fmt.Errorf("encode spec.job: %w", err)
		}
		if string(data) != "{}" {
			if desired.Annotations == nil {
				desired.Annotations = map[string]string{}
			}
			desired.Annotations[annotationJobSpec] = string(data)
		}
	}
	desired.Labels[rollout.LabelRevisionHash] = rollout.Hash(&desired)
	return desired, nil
}

// reconcileRun keeps one run of a one-off Job app going: the Job of the spec's revision, created once
// every earlier run has finished.
func (r *HighlyAvailableAppReconciler) reconcileRun(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	desired corev1.PodTemplateSpec, rev *appsv1.ControllerRevision, revs []appsv1.ControllerRevision) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	run := rev.Revision
	name := workload.RunName(app, run)
	cronRun, err := r.retireCronJob(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	jobs, err := r.listRuns(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	started := rev.Annotations[annotationRunStarted] == strconv.FormatInt(run, 10)
	decision := decideRun(name, started, runStates(jobs), app.Spec.RevisionHistoryLimit())
	if cronRun != "" && decision.waitFor == "" {
		decision.create, decision.waitFor = false, cronRun
	}

	var problem *status.Problem
	if decision.create {
		res, err := r.apply(ctx, app, workload.Job(app, desired, run))
		if conflict, ok := asConflict(err); ok {
			problem = &status.Problem{Reason: appsv1alpha1.ReasonConflict, Message: conflict.Error()}
		} else if err != nil {
			return ctrl.Result{}, err
		} else {
			if res == created {
				r.event(app, corev1.EventTypeNormal, ReasonCreated, "Create", "started run %d: created Job %s", run, name)
			}
			patched := rev.DeepCopy()
			patched.Annotations[annotationRunStarted] = strconv.FormatInt(run, 10)
			if err := r.Patch(ctx, patched, client.MergeFrom(rev)); err != nil {
				return ctrl.Result{}, fmt.Errorf("note the start of run %d: %w", run, err)
			}
			rev, started = patched, true
		}
	}
	for _, old := range decision.prune {
		job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: old, Namespace: app.Namespace}}
		if err := r.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("prune Job %s of a finished run: %w", old, err)
		}
		r.event(app, corev1.EventTypeNormal, ReasonDeleted, "Delete", "deleted Job %s: a finished run beyond the history limit", old)
	}

	in := status.JobInput{App: app, Run: run, RunName: name, Started: started, WaitingFor: decision.waitFor,
		Problem: problem, Now: metav1.NewTime(r.now())}
	if i := slices.IndexFunc(jobs, func(j batchv1.Job) bool { return j.Name == name }); i >= 0 {
		in.Job = &jobs[i]
	} else if started {
		// The cache may not have the Job that was just created: ask the API server before saying
		// that it is gone.
		if in.Job, err = r.freshRun(ctx, app, name); err != nil {
			return ctrl.Result{}, err
		}
	}
	if in.Job != nil {
		in.Pods, err = r.runPods(ctx, app, name)
		if err != nil {
			return ctrl.Result{}, err
		}
		if rev, err = r.recordOutcome(ctx, app, rev, status.ObserveJob(in.Job, in.Pods)); err != nil {
			return ctrl.Result{}, err
		}
	} else if started {
		in.Recorded = recordedRun(rev)
	}
	revs = replaceRevision(revs, rev)
	for _, cr := range rollout.ByNumber(revs) {
		switch rollout.OutcomeOf(cr) {
		case rollout.OutcomeComplete:
			in.LastComplete = cr.Revision
		case rollout.OutcomeFailed:
			in.LastFailed = cr.Revision
		}
	}
	next := status.ComputeJob(in)
	r.reportProblem(app, problem)
	if err := r.patchStatus(ctx, app, next); err != nil {
		return ctrl.Result{}, err
	}
	log.V(1).Info("reconciled", "run", run, "ready", next.ReadySummary)
	return ctrl.Result{}, nil
}

// reconcileCronJob keeps a scheduled Job app's CronJob on the spec's template and schedule.
func (r *HighlyAvailableAppReconciler) reconcileCronJob(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	desired corev1.PodTemplateSpec, rev *appsv1.ControllerRevision) (ctrl.Result, error) {
	problem, err := r.applyAll(ctx, app, []client.Object{workload.CronJob(app, desired)}, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	in := status.CronJobInput{App: app, Problem: problem, Now: metav1.NewTime(r.now())}
	cj := &batchv1.CronJob{}
	err = r.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workload.CronJobName(app)}, cj)
	if client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("get CronJob: %w", err)
	}
	if err == nil && isControlledBy(cj, app) {
		in.CronJob = cj
		if cj.Spec.JobTemplate.Spec.Template.Labels[rollout.LabelRevisionHash] == rollout.RevisionHash(rev) {
			// The CronJob starts its next runs on this revision: it is the one in place.
			if patched, changed := rollout.MarkComplete(rev); changed {
				if err := r.Patch(ctx, patched, client.MergeFrom(rev)); err != nil {
					return ctrl.Result{}, fmt.Errorf("mark revision %d in place: %w", rev.Revision, err)
				}
			}
		}
		list := &batchv1.JobList{}
		if err := r.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app))); err != nil {
			return ctrl.Result{}, fmt.Errorf("list runs: %w", err)
		}
		for i := range list.Items {
			if metav1.IsControlledBy(&list.Items[i], cj) {
				in.Runs = append(in.Runs, list.Items[i])
			}
		}
	}
	next := status.ComputeCronJob(in)
	r.reportProblem(app, problem)
	if err := r.patchStatus(ctx, app, next); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// retireCronJob removes the CronJob of an app whose schedule was removed, without cutting short a
// run it started: while the CronJob has active runs it is suspended (so that it starts no more) and
// kept, and the name of an active run is returned for the app's next run to wait for.
func (r *HighlyAvailableAppReconciler) retireCronJob(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (string, error) {
	cj := &batchv1.CronJob{}
	err := r.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workload.CronJobName(app)}, cj)
	if client.IgnoreNotFound(err) != nil {
		return "", fmt.Errorf("get CronJob: %w", err)
	}
	if err != nil || !isControlledBy(cj, app) {
		return "", nil
	}
	if len(cj.Status.Active) == 0 {
		_, err := r.applyAll(ctx, app, nil, []client.Object{cj})
		return "", err
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		before := cj.DeepCopy()
		cj.Spec.Suspend = new(true)
		if err := r.Patch(ctx, cj, client.MergeFrom(before)); err != nil {
			return "", fmt.Errorf("suspend CronJob %s: %w", cj.Name, err)
		}
		r.event(app, corev1.EventTypeNormal, ReasonUpdated, "Update",
			"suspended CronJob %s: the schedule was removed; it is deleted once its active runs finish", cj.Name)
	}
	return cj.Status.Active[0].Name, nil
}

// listRuns lists the Jobs of the app's one-off runs (those it controls and numbered).
func (r *HighlyAvailableAppReconciler) listRuns(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) ([]batchv1.Job, error) {
	list := &batchv1.JobList{}
	if err := r.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app)),
		client.HasLabels{workload.LabelRun}); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out := list.Items[:0]
	for i := range list.Items {
		if isControlledBy(&list.Items[i], app) {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}

// freshRun reads a run's Job from the API server; nil when it does not exist or is not the app's.
func (r *HighlyAvailableAppReconciler) freshRun(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, name string) (*batchv1.Job, error) {
	if r.APIReader == nil {
		return nil, nil
	}
	job := &batchv1.Job{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: name}, job)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("get Job %s: %w", name, err)
	}
	if err != nil || !isControlledBy(job, app) {
		return nil, nil
	}
	return job, nil
}

// runPods are the pods of one run's Job.
func (r *HighlyAvailableAppReconciler) runPods(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, job string) ([]corev1.Pod, error) {
	pods, err := r.listPods(ctx, app)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(pods, func(p corev1.Pod) bool { return p.Labels[batchv1.JobNameLabel] != job }), nil
}

// recordOutcome writes a finished run's outcome on its revision, so that it stands once the Job is
// deleted, with an Event the first time.
func (r *HighlyAvailableAppReconciler) recordOutcome(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	rev *appsv1.ControllerRevision, run status.Run) (*appsv1.ControllerRevision, error) {
	var patched *appsv1.ControllerRevision
	var changed bool
	switch run.State {
	case status.RunComplete:
		patched, changed = rollout.MarkComplete(rev)
		if changed {
			delete(patched.Annotations, annotationFailureReason)
			r.event(app, corev1.EventTypeNormal, appsv1alpha1.ReasonComplete, "Run", "run %d completed: %s succeeded", rev.Revision, status.PodCount(run.Succeeded))
		}
	case status.RunFailed:
		patched, changed = rollout.MarkFailed(rev, run.Message)
		if changed {
			patched.Annotations[annotationFailureReason] = run.Reason
			r.event(app, corev1.EventTypeWarning, run.Reason, "Run", "run %d failed: %s", rev.Revision, run.Message)
		}
	}
	if !changed {
		return rev, nil
	}
	if err := r.Patch(ctx, patched, client.MergeFrom(rev)); err != nil {
		return nil, fmt.Errorf("record the outcome of run %d: %w", rev.Revision, err)
	}
	return patched, nil
}

// recordedRun is the outcome recorded on a run's revision, nil while none is.
func recordedRun(rev *appsv1.ControllerRevision) *status.Run {
	switch rollout.OutcomeOf(rev) {
	case rollout.OutcomeComplete:
		return &status.Run{State: status.RunComplete}
	case rollout.OutcomeFailed:
		reason := rev.Annotations[annotationFailureReason]
		if reason == "" {
			reason = appsv1alpha1.ReasonJobFailed
		}
		return &status.Run{State: status.RunFailed, Reason: reason, Message: rollout.FailureMessage(rev)}
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

func asConflict(err error) (*ConflictError, bool) {
	var c *ConflictError
	ok := errors.As(err, &c)
	return c, ok
}
