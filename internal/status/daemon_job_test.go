package status

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func daemon(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "agent"
	a.Spec.Type = appsv1alpha1.Daemon
}

func jobType(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "pi"
	a.Spec.Type = appsv1alpha1.Job
}

// nodes is a DaemonSet on `eligible` nodes with `ready` ready pods, all updated.
func nodes(eligible, ready int32) Workload {
	return Workload{Kind: "DaemonSet", Name: "agent", Found: true, Generation: 1, ObservedGeneration: 1,
		Desired: eligible, Replicas: eligible, ReadyReplicas: ready, UpdatedReplicas: eligible, AvailableReplicas: ready}
}

func checkConds(t *testing.T, got []metav1.Condition, want map[string]cond) {
	t.Helper()
	for typ, w := range want {
		c := meta.FindStatusCondition(got, typ)
		if c == nil {
			t.Errorf("%s: missing", typ)
			continue
		}
		if c.Status != w.status || c.Reason != w.reason || !strings.Contains(c.Message, w.message) {
			t.Errorf("%s = %s/%s %q, want %s/%s containing %q", typ, c.Status, c.Reason, c.Message, w.status, w.reason, w.message)
		}
	}
}

func TestComputeDaemon(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           Input
		misscheduled int32
		want         map[string]cond
		summary      string
		covered      *int32
		resilience   appsv1alpha1.Resilience
	}{
		{
			name: "every eligible node covered, over three zones",
			in: Input{App: app(daemon), Workload: nodes(6, 6), Rollout: onRevision(1),
				ReadyPods: places("a/n1", "a/n2", "b/n3", "b/n4", "c/n5", "c/n6")},
			want: map[string]cond{
				appsv1alpha1.ConditionReady:           rolloutComplete(1, 6, 6),
				appsv1alpha1.ConditionReconciling:     complete,
				appsv1alpha1.ConditionAvailable:       T(appsv1alpha1.ReasonMinimumAvailable, "6 of 6 eligible nodes"),
				appsv1alpha1.ConditionHighlyAvailable: T(appsv1alpha1.ReasonAllNodesCovered, "6 of 6 eligible nodes have a ready daemon pod"),
			},
			summary: "6/6", covered: new(int32(100)), resilience: appsv1alpha1.ZoneRedundant,
		},
		{
			name: "a node just joined: rolling out, still available, not every node covered",
			in: Input{App: app(daemon), Workload: figures(nodes(7, 6), 7, 6, 7, 6), Rollout: onRevision(1),
				ReadyPods: places("a/n1", "a/n2", "b/n3", "b/n4", "c/n5", "c/n6")},
			misscheduled: 1,
			want: map[string]cond{
				appsv1alpha1.ConditionReconciling:     T(appsv1alpha1.ReasonRollingOut, ""),
				appsv1alpha1.ConditionAvailable:       T(appsv1alpha1.ReasonMinimumAvailable, "6 of 7"),
				appsv1alpha1.ConditionHighlyAvailable: F(appsv1alpha1.ReasonNodesUncovered, "6 of 7 eligible nodes have a ready daemon pod; 1 nodes run one they should not"),
			},
			summary: "6/7", covered: new(int32(85)), resilience: appsv1alpha1.ZoneRedundant,
		},
		{
			name: "half the nodes uncovered: not available",
			in:   Input{App: app(daemon), Workload: nodes(4, 2), Rollout: onRevision(1), ReadyPods: places("a/n1", "a/n2")},
			want: map[string]cond{
				appsv1alpha1.ConditionAvailable:       F(appsv1alpha1.ReasonBelowMinimum, "2 of 4"),
				appsv1alpha1.ConditionHighlyAvailable: F(appsv1alpha1.ReasonNodesUncovered, "2 of 4"),
			},
			summary: "2/4", covered: new(int32(50)), resilience: appsv1alpha1.NodeRedundant,
		},
		{
			name: "a failed update rolled back stalls as for Stateless",
			in: Input{App: app(daemon), Workload: nodes(3, 3), ReadyPods: places("a/n1", "b/n2", "c/n3"),
				Rollout: Rollout{CurrentRevision: 1, UpdateRevision: 2, LastFailedRevision: 2, Failure: imagePull,
					FailureReason: appsv1alpha1.ReasonRolledBack}},
			want: map[string]cond{
				appsv1alpha1.ConditionStalled: T(appsv1alpha1.ReasonRolledBack, "revision 2 failed and was rolled back to revision 1"),
				appsv1alpha1.ConditionReady:   F(appsv1alpha1.ReasonRolledBack, ""),
			},
			summary: "3/3", covered: new(int32(100)), resilience: appsv1alpha1.ZoneRedundant,
		},
		{
			name: "not created yet: no node count, no coverage",
			in:   Input{App: app(daemon), Workload: Workload{Kind: "DaemonSet", Name: "agent"}},
			want: map[string]cond{
				appsv1alpha1.ConditionReconciling:     T(appsv1alpha1.ReasonCreating, "creating DaemonSet agent"),
				appsv1alpha1.ConditionHighlyAvailable: F(appsv1alpha1.ReasonNodesUncovered, "waiting for the DaemonSet"),
			},
			summary: "0/0", resilience: appsv1alpha1.Unavailable,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Now = t0
			got := ComputeDaemon(tc.in, tc.misscheduled)
			checkConds(t, got.Conditions, tc.want)
			if got.ReadySummary != tc.summary || got.Resilience != tc.resilience {
				t.Errorf("summary %q resilience %q, want %q %q", got.ReadySummary, got.Resilience, tc.summary, tc.resilience)
			}
			if got.Daemon == nil || got.Daemon.NumberMisscheduled != tc.misscheduled ||
				(got.Daemon.CoveredPercent == nil) != (tc.covered == nil) ||
				(tc.covered != nil && *got.Daemon.CoveredPercent != *tc.covered) {
				t.Errorf("daemon = %+v, want covered %v misscheduled %d", got.Daemon, tc.covered, tc.misscheduled)
			}
		})
	}
}

func piJob(conds ...batchv1.JobCondition) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi-1"},
		Status: batchv1.JobStatus{Conditions: conds}}
}

func failedPod(name string, exit int32, msg string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: corev1.PodFailed,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "pi", State: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Reason: "Error", Message: msg, FinishedAt: t1}}}}}}
}

func TestComputeJob(t *testing.T) {
	jobFailed := func(reason, msg string) batchv1.JobCondition {
		return batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: msg}
	}
	for _, tc := range []struct {
		name    string
		in      JobInput
		want    map[string]cond
		summary string
	}{
		{
			name: "no Job yet: creating",
			in:   JobInput{Run: 1, RunName: "pi-1"},
			want: map[string]cond{
				appsv1alpha1.ConditionReconciling: T(appsv1alpha1.ReasonCreating, "creating run 1 (Job pi-1)"),
				appsv1alpha1.ConditionStalled:     F(appsv1alpha1.ReasonCreating, ""),
			},
			summary: "0/1",
		},
		{
			name: "active: Reconciling",
			in: JobInput{Run: 1, RunName: "pi-1", Started: true,
				Job: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi-1"}, Status: batchv1.JobStatus{Active: 1}}},
			want: map[string]cond{
				appsv1alpha1.ConditionReady:       F(appsv1alpha1.ReasonRunning, "run 1 (Job pi-1): 1 active, 0 succeeded, 0 failed"),
				appsv1alpha1.ConditionReconciling: T(appsv1alpha1.ReasonRunning, "1 active"),
			},
			summary: "0/1",
		},
		{
			name: "complete: Ready with reason Complete",
			in: JobInput{Run: 1, RunName: "pi-1", Started: true, Job: func() *batchv1.Job {
				j := piJob(batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
				j.Status.Succeeded = 1
				return j
			}()},
			want: map[string]cond{
				appsv1alpha1.ConditionReady:       T(appsv1alpha1.ReasonComplete, "run 1 (Job pi-1) completed: 1 pod succeeded"),
				appsv1alpha1.ConditionReconciling: F(appsv1alpha1.ReasonComplete, ""),
				appsv1alpha1.ConditionStalled:     F(appsv1alpha1.ReasonComplete, ""),
			},
			summary: "1/1",
		},
		{
			name: "backoff limit: Stalled with the Job's reason and the failing pod's message",
			in: JobInput{Run: 1, RunName: "pi-1", Started: true,
				Job:  piJob(jobFailed("BackoffLimitExceeded", "Job has reached the specified backoff limit")),
				Pods: []corev1.Pod{failedPod("pi-1-a", 1, "older"), failedPod("pi-1-b", 2, "Can't locate bignum.pm")}},
			want: map[string]cond{
				appsv1alpha1.ConditionStalled: T("BackoffLimitExceeded",
					"run 1 (Job pi-1) failed: Job has reached the specified backoff limit; pod pi-1-a container pi: Error (exit code 1): older"),
				appsv1alpha1.ConditionReady:       F("BackoffLimitExceeded", ""),
				appsv1alpha1.ConditionReconciling: F("BackoffLimitExceeded", ""),
			},
			summary: "0/1",
		},
		{
			name: "deadline: Stalled with DeadlineExceeded, as soon as the Job says it will fail",
			in: JobInput{Run: 2, RunName: "pi-2", Started: true,
				Job: piJob(batchv1.JobCondition{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue,
					Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"})},
			want: map[string]cond{
				appsv1alpha1.ConditionStalled: T("DeadlineExceeded", "run 2 (Job pi-2) failed: Job was active longer than specified deadline"),
			},
			summary: "0/1",
		},
		{
			name: "waiting for the previous run",
			in:   JobInput{Run: 2, RunName: "pi-2", WaitingFor: "pi-1"},
			want: map[string]cond{
				appsv1alpha1.ConditionReconciling: T(appsv1alpha1.ReasonWaitingForRun, "run 2 (Job pi-2) starts when Job pi-1 of the previous run finishes"),
			},
			summary: "0/1",
		},
		{
			name: "the Job was deleted after the outcome was recorded: the outcome stands",
			in:   JobInput{Run: 1, RunName: "pi-1", Started: true, Recorded: &Run{State: RunComplete, Succeeded: 1}},
			want: map[string]cond{
				appsv1alpha1.ConditionReady: T(appsv1alpha1.ReasonComplete, ""),
			},
			summary: "1/1",
		},
		{
			name: "the Job was deleted before it finished: Stalled",
			in:   JobInput{Run: 1, RunName: "pi-1", Started: true},
			want: map[string]cond{
				appsv1alpha1.ConditionStalled: T(appsv1alpha1.ReasonRunDeleted, "change the template to start a new run"),
			},
			summary: "0/1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.App, tc.in.Now = app(jobType), t0
			tc.in.App.Status.Conditions = []metav1.Condition{{Type: appsv1alpha1.ConditionHighlyAvailable, Status: metav1.ConditionTrue, Reason: "x"}}
			got := ComputeJob(tc.in)
			checkConds(t, got.Conditions, tc.want)
			if got.ReadySummary != tc.summary {
				t.Errorf("readySummary = %q, want %q", got.ReadySummary, tc.summary)
			}
			if meta.FindStatusCondition(got.Conditions, appsv1alpha1.ConditionHighlyAvailable) != nil {
				t.Error("HighlyAvailable is set on a Job app")
			}
			if got.Job == nil || got.Job.CurrentRun == nil || *got.Job.CurrentRun != tc.in.Run {
				t.Errorf("job status = %+v, want current run %d", got.Job, tc.in.Run)
			}
		})
	}
}

func TestComputeCronJob(t *testing.T) {
	run := func(name string, at metav1.Time, conds ...batchv1.JobCondition) batchv1.Job {
		return batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: at}, Status: batchv1.JobStatus{Conditions: conds}}
	}
	done := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}
	failed := batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded", Message: "too long"}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "pi"}, Spec: batchv1.CronJobSpec{Schedule: "* * * * *"},
		Status: batchv1.CronJobStatus{LastScheduleTime: &t2, LastSuccessfulTime: &t1}}
	for _, tc := range []struct {
		name        string
		in          CronJobInput
		want        map[string]cond
		runName     string
		lastSuccess string
	}{
		{"not created yet", CronJobInput{}, map[string]cond{
			appsv1alpha1.ConditionReconciling: T(appsv1alpha1.ReasonCreating, "creating CronJob pi")}, "", ""},
		{"no run yet", CronJobInput{CronJob: cj}, map[string]cond{
			appsv1alpha1.ConditionReady: T(appsv1alpha1.ReasonScheduled, `schedule "* * * * *": no run yet`)}, "", ""},
		{"the last run failed, an earlier one completed: still Ready, and it says so",
			CronJobInput{CronJob: cj, Runs: []batchv1.Job{run("pi-100", t0, done), run("pi-102", t2, failed), run("pi-101", t1, done)}},
			map[string]cond{
				appsv1alpha1.ConditionReady:       T(appsv1alpha1.ReasonScheduled, "last run pi-102 failed: DeadlineExceeded: too long"),
				appsv1alpha1.ConditionReconciling: F(appsv1alpha1.ReasonScheduled, ""),
				appsv1alpha1.ConditionStalled:     F(appsv1alpha1.ReasonScheduled, ""),
			}, "pi-102", "pi-101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.App, tc.in.Now = app(jobType), t0
			got := ComputeCronJob(tc.in)
			checkConds(t, got.Conditions, tc.want)
			if got.Job.RunName != tc.runName || got.Job.LastSuccessfulRun != tc.lastSuccess {
				t.Errorf("run %q last successful %q, want %q %q", got.Job.RunName, got.Job.LastSuccessfulRun, tc.runName, tc.lastSuccess)
			}
			if tc.in.CronJob != nil && (got.Job.LastScheduleTime == nil || !got.Job.LastScheduleTime.Equal(&t2)) {
				t.Errorf("lastScheduleTime = %v, want %v", got.Job.LastScheduleTime, t2)
			}
		})
	}
}
