package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

const (
	// rowMissing and rowAvailable are the STATUS of an object that is not there yet, and of a
	// workload that is done rolling.
	rowMissing   = "Missing"
	rowAvailable = "Available"
	// notCreatedYet is the INFO of a missing object.
	notCreatedYet = "not created yet"
)

// readRuns reads what a Job app runs: its CronJob, when scheduled, and the Jobs of its runs (its own,
// or the CronJob's).
func (s *session) readRuns(ctx context.Context, snap *snapshot) error {
	app := snap.app
	if app.Spec.JobSchedule() != "" {
		cj := &batchv1.CronJob{}
		err := s.client.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workload.CronJobName(app)}, cj)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("get cronjob %q: %w", workload.CronJobName(app), err)
		case metav1.IsControlledBy(cj, app):
			snap.cronJob = cj
		}
	}
	list := &batchv1.JobList{}
	err := s.client.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app)))
	if err != nil {
		return fmt.Errorf("list jobs of %q: %w", app.Name, err)
	}
	for _, j := range list.Items {
		if metav1.IsControlledBy(&j, app) || (snap.cronJob != nil && metav1.IsControlledBy(&j, snap.cronJob)) {
			snap.jobs = append(snap.jobs, j)
		}
	}
	return nil
}

// runNodes are a Job app's runs, newest first, each with its pods, under the CronJob when there is one.
func runNodes(snap *snapshot, now time.Time) []*treeNode {
	podsOf := map[string][]corev1.Pod{}
	for _, p := range snap.pods {
		podsOf[p.Labels[batchv1.JobNameLabel]] = append(podsOf[p.Labels[batchv1.JobNameLabel]], p)
	}
	jobs := slices.Clone(snap.jobs)
	slices.SortFunc(jobs, func(a, b batchv1.Job) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
	runs := make([]*treeNode, 0, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		n := jobNode(j, podsOf[j.Name], now)
		if r := j.Labels[workload.LabelRun]; r != "" {
			n.cells[6] = strings.TrimPrefix("run "+r+", "+n.cells[6], ", ")
		}
		n.children = podNodes(podsOf[j.Name], snap.zones, now)
		runs = append(runs, n)
	}
	app := snap.app
	if app.Spec.JobSchedule() == "" {
		if len(runs) == 0 {
			return []*treeNode{{cells: []string{"Job/" + workload.RunName(app, max(app.Status.UpdateRevision, 1)),
				rowMissing, "", "", "", "", notCreatedYet}}}
		}
		return runs
	}
	if snap.cronJob == nil {
		return []*treeNode{{cells: []string{
			kinds.CronJob + "/" + workload.CronJobName(app), rowMissing, "", "", "", "", notCreatedYet}}}
	}
	cj := snap.cronJob
	info := fmt.Sprintf("schedule %q, %s", cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy)
	if t := cj.Status.LastScheduleTime; t != nil {
		info += ", last scheduled " + age(now, *t) + " ago"
	}
	state := "Scheduled"
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		state = "Suspended"
	}
	return []*treeNode{{cells: []string{kinds.CronJob + "/" + cj.Name, state,
		fmt.Sprintf("%d active", len(cj.Status.Active)),
		"", "", age(now, cj.CreationTimestamp), info}, children: runs}}
}

func jobNode(j *batchv1.Job, pods []corev1.Pod, now time.Time) *treeNode {
	run := status.ObserveJob(j, pods)
	completions := int32(1)
	if j.Spec.Completions != nil {
		completions = *j.Spec.Completions
	}
	info := fmt.Sprintf("%d active, %d failed", run.Active, run.Failed)
	if run.State == status.RunFailed {
		info = run.Reason + ": " + run.Message
	}
	return &treeNode{cells: []string{"Job/" + j.Name, string(run.State), fmt.Sprintf("%d/%d", run.Succeeded, completions),
		"", "", age(now, j.CreationTimestamp), info}}
}

// daemonSetNode is the DaemonSet's row: its eligible nodes and how many run the update.
func daemonSetNode(ds *appsv1.DaemonSet, now time.Time) *treeNode {
	st := ds.Status
	state := string(appsv1alpha1.PhaseProgressing)
	if st.ObservedGeneration >= ds.Generation && st.UpdatedNumberScheduled == st.DesiredNumberScheduled &&
		st.NumberAvailable == st.DesiredNumberScheduled {
		state = rowAvailable
	}
	info := fmt.Sprintf("%d nodes, updated %d, available %d",
		st.DesiredNumberScheduled, st.UpdatedNumberScheduled, st.NumberAvailable)
	if st.NumberMisscheduled > 0 {
		info += fmt.Sprintf(", misscheduled %d", st.NumberMisscheduled)
	}
	return &treeNode{cells: []string{kinds.DaemonSet + "/" + ds.Name, state,
		fmt.Sprintf("%d/%d", st.NumberReady, st.DesiredNumberScheduled), "", "", age(now, ds.CreationTimestamp), info}}
}

// sortByNode orders pod rows by node, then name: a daemon's tree reads node by node.
func sortByNode(rows []*treeNode) {
	slices.SortStableFunc(rows, func(a, b *treeNode) int {
		if c := strings.Compare(a.cells[4], b.cells[4]); c != 0 {
			return c
		}
		return strings.Compare(a.cells[0], b.cells[0])
	})
}

// desiredPods is how many pods the app should have ready, and false for a Job app, whose pods come
// and go with its runs: a Daemon app's eligible nodes, any other app's replicas.
func desiredPods(app *appsv1alpha1.HighlyAvailableApp) (int32, bool) {
	switch app.Spec.AppType() {
	case appsv1alpha1.Job:
		return 0, false
	case appsv1alpha1.Daemon:
		if d := app.Status.Daemon; d != nil {
			return d.DesiredNumberScheduled, true
		}
		return 0, true
	}
	return app.Spec.DesiredReplicas(), true
}

// runLine is the progress line of a Job app.
func runLine(app *appsv1alpha1.HighlyAvailableApp, state appState) string {
	msg := fmt.Sprintf("Waiting for %q: %s", app.Name, state.Reason)
	if state.Message != "" {
		msg += ": " + state.Message
	}
	return msg
}

// typeSummary is the summary line that takes the place of Replicas for a Daemon or a Job app.
func typeSummary(app *appsv1alpha1.HighlyAvailableApp) (label, value string, ok bool) {
	st := app.Status
	switch app.Spec.AppType() {
	case appsv1alpha1.Daemon:
		var eligible, misscheduled int32
		if d := st.Daemon; d != nil {
			eligible, misscheduled = d.DesiredNumberScheduled, d.NumberMisscheduled
		}
		return "Nodes", fmt.Sprintf("%d eligible | %d ready | %d updated | %d misscheduled",
			eligible, st.ReadyReplicas, st.UpdatedReplicas, misscheduled), true
	case appsv1alpha1.Job:
		j := st.Job
		if j == nil {
			return "Runs", "none yet", true
		}
		parts := []string{}
		if j.CurrentRun != nil {
			parts = append(parts, fmt.Sprintf("run %d", *j.CurrentRun))
		}
		if j.RunName != "" {
			parts = append(parts, "Job "+j.RunName)
		}
		parts = append(parts, fmt.Sprintf("%d active, %d succeeded, %d failed", j.Active, j.Succeeded, j.Failed))
		if j.LastScheduleTime != nil {
			parts = append(parts, "last scheduled "+j.LastScheduleTime.UTC().Format(time.RFC3339))
		}
		if j.LastSuccessfulRun != "" {
			parts = append(parts, "last successful "+j.LastSuccessfulRun)
		}
		return "Runs", strings.Join(parts, " | "), true
	}
	return "", "", false
}
