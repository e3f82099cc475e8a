package status

import (
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// RunState is where one run of a Job app stands.
type RunState string

// The states of a run.
const (
	RunActive   RunState = "Active"
	RunComplete RunState = "Complete"
	RunFailed   RunState = "Failed"
)

// Run is what the operator observed of one Job.
type Run struct {
	State RunState
	// Reason is the Job's own reason for a failed run (BackoffLimitExceeded, DeadlineExceeded,
	// PodFailurePolicy...).
	Reason string
	// Message is the Job's message, followed by the failing pod's when there is one.
	Message        string
	Active         int32
	Succeeded      int32
	Failed         int32
	CompletionTime *metav1.Time
}

// ObserveJob reads a Job and its pods. A run fails as soon as the Job says it will (FailureTarget),
// before its last pods have stopped.
func ObserveJob(job *batchv1.Job, pods []corev1.Pod) Run {
	run := Run{State: RunActive, Active: job.Status.Active, Succeeded: job.Status.Succeeded,
		Failed: job.Status.Failed, CompletionTime: job.Status.CompletionTime}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			run.State = RunComplete
			return run
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			run.State, run.Reason, run.Message = RunFailed, c.Reason, c.Message
		}
	}
	if run.State == RunFailed {
		if run.Reason == "" {
			run.Reason = appsv1alpha1.ReasonJobFailed
		}
		if pod := FailingPod(pods); pod != "" {
			run.Message = strings.TrimSuffix(run.Message, ".") + "; " + pod
		}
	}
	return run
}

// FailingPod describes the most recent failure among the pods: "pod pi-1-x7k2p container pi: Error
// (exit code 1): <its message>". Empty when no pod failed.
func FailingPod(pods []corev1.Pod) string {
	type failure struct {
		at  metav1.Time
		msg string
	}
	var found []failure
	for i := range pods {
		p := &pods[i]
		for _, cs := range p.Status.ContainerStatuses {
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				t = cs.LastTerminationState.Terminated
			}
			if t == nil || t.ExitCode == 0 {
				continue
			}
			msg := fmt.Sprintf("pod %s container %s: %s (exit code %d)", p.Name, cs.Name, orText(t.Reason, "Error"), t.ExitCode)
			if m := strings.TrimSpace(t.Message); m != "" {
				msg += ": " + m
			}
			found = append(found, failure{t.FinishedAt, msg})
		}
		if p.Status.Phase == corev1.PodFailed && (p.Status.Reason != "" || p.Status.Message != "") {
			at := p.CreationTimestamp
			msg := fmt.Sprintf("pod %s: %s", p.Name, orText(p.Status.Reason, "Failed"))
			if p.Status.Message != "" {
				msg += ": " + p.Status.Message
			}
			found = append(found, failure{at, msg})
		}
	}
	if len(found) == 0 {
		return ""
	}
	// Newest first; among equals, the first seen.
	slices.SortStableFunc(found, func(a, b failure) int { return b.at.Compare(a.at.Time) })
	return found[0].msg
}

func orText(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// PodCount is "1 pod" or "n pods".
func PodCount(n int32) string {
	if n == 1 {
		return "1 pod"
	}
	return fmt.Sprintf("%d pods", n)
}

// JobInput is what ComputeJob needs about a one-off Job app.
type JobInput struct {
	App *appsv1alpha1.HighlyAvailableApp
	// Run is the number of the run the spec asks for, RunName the name of its Job.
	Run     int64
	RunName string
	// Job is the current run's Job; nil before it is created, or once it is deleted.
	Job  *batchv1.Job
	Pods []corev1.Pod
	// Recorded is the outcome the operator recorded for the current run before its Job was deleted
	// (RunComplete or RunFailed, with the reason and message); nil when none was.
	Recorded *Run
	// Started is true once the current run's Job was created.
	Started bool
	// WaitingFor names the Job of an earlier run that is still active: the current run starts when
	// it finishes.
	WaitingFor string
	// LastComplete and LastFailed are the numbers of the last run that completed and that failed.
	LastComplete, LastFailed int64
	Problem                  *Problem
	Now                      metav1.Time
}

// ComputeJob returns a one-off Job app's status: Reconciling=True while its run is active (or waits
// for the previous one to finish), Ready=True with reason Complete once it completed, Stalled=True
// with the Job's own reason and the failing pod's message once it failed. A failed run is not started
// again by itself: a template change starts the next run. Available and HighlyAvailable do not apply
// to a run and are not set.
func ComputeJob(in JobInput) appsv1alpha1.HighlyAvailableAppStatus {
	return withPhase(jobStatus(in))
}

// Status is the status of the Job app's run, given the reconcile's problem and time (Report).
func (in JobInput) Status(problem *Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	in.Problem, in.Now = problem, now
	return ComputeJob(in)
}

func jobStatus(in JobInput) appsv1alpha1.HighlyAvailableAppStatus {
	app := in.App
	completions := int32(1)
	if app.Spec.Job != nil && app.Spec.Job.Completions != nil {
		completions = *app.Spec.Job.Completions
	}
	out := appsv1alpha1.HighlyAvailableAppStatus{
		ObservedGeneration: app.Generation,
		Conditions:         jobConditions(app.Status.Conditions),
		Selector:           workload.SelectorString(app),
		UpdateRevision:     in.Run,
		CurrentRevision:    in.LastComplete,
		LastFailedRevision: in.LastFailed,
		Job:                &appsv1alpha1.JobStatus{RunName: in.RunName},
	}
	if in.Run > 0 {
		out.Job.CurrentRun = new(in.Run)
	}
	run := in.Recorded
	if in.Job != nil {
		observed := ObserveJob(in.Job, in.Pods)
		run = &observed
		out.Workload = &appsv1alpha1.WorkloadReference{Kind: "Job", Name: in.Job.Name}
	}
	if run != nil {
		out.Replicas, out.ReadyReplicas = run.Active, readyPods(in.Pods)
		out.Job.Active, out.Job.Succeeded, out.Job.Failed = run.Active, run.Succeeded, run.Failed
		out.Job.CompletionTime = run.CompletionTime
		out.ReadySummary = fmt.Sprintf("%d/%d", run.Succeeded, completions)
	} else {
		out.ReadySummary = fmt.Sprintf("0/%d", completions)
	}

	set := func(t string, c condition) {
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{Type: t, Status: c.status, Reason: c.reason,
			Message: c.message, ObservedGeneration: app.Generation, LastTransitionTime: in.Now})
	}
	ready, reconciling, stalled := jobProgress(in, run)
	set(appsv1alpha1.ConditionReady, ready)
	set(appsv1alpha1.ConditionReconciling, reconciling)
	set(appsv1alpha1.ConditionStalled, stalled)
	return out
}

func jobProgress(in JobInput, run *Run) (ready, reconciling, stalled condition) {
	label := fmt.Sprintf("run %d (Job %s)", in.Run, in.RunName)
	switch {
	case in.Problem != nil:
		p := in.Problem
		return conditionFalse(p.Reason, p.Message), conditionFalse(p.Reason, ""), conditionTrue(p.Reason, p.Message)
	case in.WaitingFor != "":
		msg := fmt.Sprintf("%s starts when Job %s of the previous run finishes", label, in.WaitingFor)
		return conditionFalse(appsv1alpha1.ReasonWaitingForRun, msg), conditionTrue(appsv1alpha1.ReasonWaitingForRun, msg),
			conditionFalse(appsv1alpha1.ReasonWaitingForRun, "")
	case run == nil && in.Started:
		msg := fmt.Sprintf("the Job of %s was deleted before it finished; change the template to start a new run", label)
		return conditionFalse(appsv1alpha1.ReasonRunDeleted, msg), conditionFalse(appsv1alpha1.ReasonRunDeleted, ""),
			conditionTrue(appsv1alpha1.ReasonRunDeleted, msg)
	case run == nil:
		msg := "creating " + label
		return conditionFalse(appsv1alpha1.ReasonCreating, msg), conditionTrue(appsv1alpha1.ReasonCreating, msg),
			conditionFalse(appsv1alpha1.ReasonCreating, "")
	case run.State == RunComplete:
		msg := fmt.Sprintf("%s completed: %s succeeded", label, PodCount(run.Succeeded))
		return conditionTrue(appsv1alpha1.ReasonComplete, msg), conditionFalse(appsv1alpha1.ReasonComplete, ""),
			conditionFalse(appsv1alpha1.ReasonComplete, "")
	case run.State == RunFailed:
		msg := fmt.Sprintf("%s failed: %s", label, run.Message)
		return conditionFalse(run.Reason, msg), conditionFalse(run.Reason, ""), conditionTrue(run.Reason, msg)
	default:
		msg := fmt.Sprintf("%s: %d active, %d succeeded, %d failed", label, run.Active, run.Succeeded, run.Failed)
		return conditionFalse(appsv1alpha1.ReasonRunning, msg), conditionTrue(appsv1alpha1.ReasonRunning, msg),
			conditionFalse(appsv1alpha1.ReasonRunning, "")
	}
}

// CronJobInput is what ComputeCronJob needs about a scheduled Job app.
type CronJobInput struct {
	App *appsv1alpha1.HighlyAvailableApp
	// CronJob is nil until it exists.
	CronJob *batchv1.CronJob
	// Runs are the Jobs the CronJob started that still exist.
	Runs    []batchv1.Job
	Problem *Problem
	Now     metav1.Time
}

// ComputeCronJob returns a scheduled Job app's status. The app is Ready (reason Scheduled) once its
// CronJob is in place: runs come and go on the schedule without the app itself changing, so a run in
// progress does not make it Reconciling and a failed run does not stall it (the next scheduled run
// may well succeed); the Ready message names the last run and how it ended. status.job holds the last
// schedule time and the last successful run.
func ComputeCronJob(in CronJobInput) appsv1alpha1.HighlyAvailableAppStatus {
	return withPhase(cronJobStatus(in))
}

// Status is the status of the scheduled Job app, given the reconcile's problem and time (Report).
func (in CronJobInput) Status(problem *Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	in.Problem, in.Now = problem, now
	return ComputeCronJob(in)
}

func cronJobStatus(in CronJobInput) appsv1alpha1.HighlyAvailableAppStatus {
	app := in.App
	out := appsv1alpha1.HighlyAvailableAppStatus{
		ObservedGeneration: app.Generation,
		Conditions:         jobConditions(app.Status.Conditions),
		Selector:           workload.SelectorString(app),
		Job:                &appsv1alpha1.JobStatus{},
	}
	set := func(t string, c condition) {
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{Type: t, Status: c.status, Reason: c.reason,
			Message: c.message, ObservedGeneration: app.Generation, LastTransitionTime: in.Now})
	}
	if p := in.Problem; p != nil {
		set(appsv1alpha1.ConditionReady, conditionFalse(p.Reason, p.Message))
		set(appsv1alpha1.ConditionReconciling, conditionFalse(p.Reason, ""))
		set(appsv1alpha1.ConditionStalled, conditionTrue(p.Reason, p.Message))
		return out
	}
	cj := in.CronJob
	if cj == nil {
		msg := "creating CronJob " + app.Name
		set(appsv1alpha1.ConditionReady, conditionFalse(appsv1alpha1.ReasonCreating, msg))
		set(appsv1alpha1.ConditionReconciling, conditionTrue(appsv1alpha1.ReasonCreating, msg))
		set(appsv1alpha1.ConditionStalled, conditionFalse(appsv1alpha1.ReasonCreating, ""))
		return out
	}
	out.Workload = &appsv1alpha1.WorkloadReference{Kind: "CronJob", Name: cj.Name}
	out.Job.LastScheduleTime = cj.Status.LastScheduleTime
	out.Job.LastSuccessfulTime = cj.Status.LastSuccessfulTime
	out.Job.Active = int32(len(cj.Status.Active))
	out.Replicas = out.Job.Active

	runs := append([]batchv1.Job(nil), in.Runs...)
	slices.SortStableFunc(runs, func(a, b batchv1.Job) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
	msg := fmt.Sprintf("schedule %q: no run yet", cj.Spec.Schedule)
	for i := range runs {
		r := ObserveJob(&runs[i], nil)
		if i == 0 {
			out.Job.RunName = runs[i].Name
			out.Job.Succeeded, out.Job.Failed = r.Succeeded, r.Failed
			switch r.State {
			case RunComplete:
				msg = fmt.Sprintf("schedule %q: last run %s completed", cj.Spec.Schedule, runs[i].Name)
			case RunFailed:
				msg = fmt.Sprintf("schedule %q: last run %s failed: %s: %s", cj.Spec.Schedule, runs[i].Name, r.Reason, r.Message)
			default:
				msg = fmt.Sprintf("schedule %q: run %s is active", cj.Spec.Schedule, runs[i].Name)
			}
		}
		if r.State == RunComplete && out.Job.LastSuccessfulRun == "" {
			out.Job.LastSuccessfulRun = runs[i].Name
		}
	}
	out.ReadySummary = fmt.Sprintf("%d active", out.Job.Active)
	set(appsv1alpha1.ConditionReady, conditionTrue(appsv1alpha1.ReasonScheduled, msg))
	set(appsv1alpha1.ConditionReconciling, conditionFalse(appsv1alpha1.ReasonScheduled, ""))
	set(appsv1alpha1.ConditionStalled, conditionFalse(appsv1alpha1.ReasonScheduled, ""))
	return out
}

// jobConditions are the app's conditions without Available and HighlyAvailable, which do not apply to
// runs.
func jobConditions(in []metav1.Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range in {
		if c.Type == appsv1alpha1.ConditionAvailable || c.Type == appsv1alpha1.ConditionHighlyAvailable {
			continue
		}
		out = append(out, c)
	}
	return out
}

func readyPods(pods []corev1.Pod) int32 {
	var n int32
	for i := range pods {
		if rollout.PodReady(&pods[i]) {
			n++
		}
	}
	return n
}
