package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

func ownedBy(owner client.Object, kind string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{
		APIVersion: "v1", Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: new(true),
	}}
}

// A Daemon app's tree: the DaemonSet, its revisions, and their pods node by node.
func TestGetTreeDaemon(t *testing.T) {
	app := webApp()
	app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Daemon, nil
	app.Spec.Template = userTemplate(imageGood)
	app.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 5,
		Conditions: []metav1.Condition{{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: appsv1alpha1.ReasonRolloutComplete}},
		Workload: &appsv1alpha1.WorkloadReference{Kind: "DaemonSet", Name: appName}, ReadySummary: "3/3",
		ReadyReplicas: 3, UpdatedReplicas: 3, CurrentRevision: 1, UpdateRevision: 1,
		Daemon: &appsv1alpha1.DaemonStatus{DesiredNumberScheduled: 3, CoveredPercent: ptr.To[int32](100)}}
	rev := revision(t, app, 1, imageGood, rollout.OutcomeComplete, "", time.Hour)
	h := rollout.RevisionHash(rev)
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: testNamespace, Generation: 1,
		CreationTimestamp: ago(time.Hour)},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, CurrentNumberScheduled: 3,
			UpdatedNumberScheduled: 3, NumberReady: 3, NumberAvailable: 3}}
	s, out, _ := newSession(t, nil, app, rev, ds,
		appPod("web-zz", h, "node-a", time.Hour), appPod("web-aa", h, "node-c", time.Hour),
		appPod("web-mm", h, "node-b", time.Hour),
		zoneNode("node-a", "zone-a"), zoneNode("node-b", "zone-b"), zoneNode("node-c", "zone-c"))
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-daemon.golden", out.String())
}

// A Job app's tree: its runs, newest first, each with its pods; the failed run says why.
func TestGetTreeJob(t *testing.T) {
	app := webApp()
	app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Job, nil
	run := ptr.To[int64](2)
	app.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 5,
		Conditions: []metav1.Condition{{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: appsv1alpha1.ReasonComplete}},
		ReadySummary: "1/1", CurrentRevision: 2, UpdateRevision: 2,
		Job: &appsv1alpha1.JobStatus{CurrentRun: run, RunName: "web-2", Succeeded: 1}}
	job := func(n int64, created time.Duration, conds ...batchv1.JobCondition) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: workload.RunName(app, n), Namespace: testNamespace,
			CreationTimestamp: ago(created), OwnerReferences: ownedBy(app, "HighlyAvailableApp"),
			Labels: map[string]string{appsv1alpha1.LabelName: appName, appsv1alpha1.LabelInstance: appName}},
			Status: batchv1.JobStatus{Conditions: conds}}
		j.Labels[workload.LabelRun] = strconv.FormatInt(n, 10)
		return j
	}
	failed := job(1, 2*time.Hour, batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue,
		Reason: "DeadlineExceeded", Message: "Job was active longer than specified deadline"})
	done := job(2, time.Hour, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
	done.Status.Succeeded = 1
	pod := appPod("web-2-abcde", "", "node-a", time.Hour, func(p *corev1.Pod) {
		p.Labels[batchv1.JobNameLabel] = "web-2"
		p.Status.Phase = corev1.PodSucceeded
		p.Status.Conditions[0].Status = corev1.ConditionFalse
		p.Status.ContainerStatuses[0].Ready = false
	})
	s, out, _ := newSession(t, nil, app, failed, done, pod, zoneNode("node-a", "zone-a"))
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-job.golden", out.String())
}

// A scheduled Job app's tree: the CronJob, then the runs it started.
func TestGetTreeCronJob(t *testing.T) {
	app := webApp()
	app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Job, nil
	app.Spec.Job = &appsv1alpha1.JobSpec{Schedule: "*/5 * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent}
	last := ago(3 * time.Minute)
	app.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 5,
		Conditions: []metav1.Condition{{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: appsv1alpha1.ReasonScheduled}},
		ReadySummary: "0 active",
		Job: &appsv1alpha1.JobStatus{RunName: "web-29000000", LastScheduleTime: &last,
			LastSuccessfulRun: "web-29000000"}}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: testNamespace, UID: "cj-uid",
		CreationTimestamp: ago(time.Hour), OwnerReferences: ownedBy(app, "HighlyAvailableApp")},
		Spec:   batchv1.CronJobSpec{Schedule: "*/5 * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent},
		Status: batchv1.CronJobStatus{LastScheduleTime: &last}}
	run := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "web-29000000", Namespace: testNamespace, CreationTimestamp: last,
			OwnerReferences: ownedBy(cj, "CronJob"),
			Labels:          map[string]string{appsv1alpha1.LabelName: appName, appsv1alpha1.LabelInstance: appName}},
		Status: batchv1.JobStatus{Succeeded: 1,
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
	}
	s, out, _ := newSession(t, nil, app, cj, run)
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-cronjob.golden", out.String())
}

// The progress line counts a Daemon's eligible nodes, and tells a Job's run as its message says.
func TestProgressLineDaemonAndJob(t *testing.T) {
	daemon := webApp()
	daemon.Spec.Type, daemon.Spec.Replicas = appsv1alpha1.Daemon, nil
	daemon.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 5, UpdatedReplicas: 4, AvailableReplicas: 4,
		Replicas: 6, Daemon: &appsv1alpha1.DaemonStatus{DesiredNumberScheduled: 6}}
	job := webApp()
	job.Spec.Type, job.Spec.Replicas = appsv1alpha1.Job, nil
	job.Status = appsv1alpha1.HighlyAvailableAppStatus{ObservedGeneration: 5}
	for _, tc := range []struct {
		app   *appsv1alpha1.HighlyAvailableApp
		state appState
		want  string
	}{
		{daemon, appState{Phase: appsv1alpha1.PhaseProgressing, Reason: appsv1alpha1.ReasonRollingOut},
			`Waiting for "web" rollout to finish: 4 of 6 updated replicas are available...`},
		{job, appState{Phase: appsv1alpha1.PhaseProgressing, Reason: appsv1alpha1.ReasonRunning,
			Message: "run 1 (Job web-1): 1 active, 0 succeeded, 0 failed"},
			`Waiting for "web": Running: run 1 (Job web-1): 1 active, 0 succeeded, 0 failed`},
	} {
		if got := progressLine(tc.app, tc.state); got != tc.want {
			t.Errorf("progressLine = %q, want %q", got, tc.want)
		}
	}
}
