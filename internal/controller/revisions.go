package controller

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// Annotations the operator keeps on a revision, beside the outcome the rollout package records.
const (
	// annotationStartedAt is when the revision's update last started (RFC 3339): its creation, or
	// the moment the spec came back to it or a retry was asked for.
	annotationStartedAt = "apps.haoperator.dev/started-at"
	// annotationFailedAt is when the revision's update was found to fail (RFC 3339).
	annotationFailedAt = "apps.haoperator.dev/failed-at"
	// annotationRetryToken is the app's retry annotation as it was when the revision failed: a new
	// value on the app asks for another try.
	annotationRetryToken = "apps.haoperator.dev/retry-token"
	// annotationRecovered marks a failed revision whose rollback has completed, so that the time it
	// took is measured once.
	annotationRecovered = "apps.haoperator.dev/rollback-complete"
	// annotationFailureReason is the failure signal that failed the revision (ImagePullBackOff,
	// ProgressDeadlineExceeded...).
	annotationFailureReason = "apps.haoperator.dev/failure-reason"
)

// rolloutPlan is what the revision history decides for one reconcile.
type rolloutPlan struct {
	// template is the pod template the workload gets: the spec's, or the last good revision's after
	// a failed update.
	template corev1.PodTemplateSpec
	// updateHash is the hash of the revision the spec asks for.
	updateHash string
	// rollbackTo is the revision the workload is held on after a failure; nil otherwise.
	rollbackTo *appsv1.ControllerRevision
	status     status.Rollout
	// requeueAfter is set while an update is in progress.
	requeueAfter time.Duration
}

// planRollout records the spec's revision, judges the update in progress and decides which revision
// the workload runs: the spec's, or, once the spec's has failed, the last one that completed.
func (r *HighlyAvailableAppReconciler) planRollout(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	current client.Object, pods []corev1.Pod) (*rolloutPlan, error) {
	log := logf.FromContext(ctx)
	desired := workload.PodTemplate(app, r.Options)
	hash := rollout.Hash(&desired)
	desired.Labels[rollout.LabelRevisionHash] = hash

	revs, err := r.listRevisions(ctx, app)
	if err != nil {
		return nil, err
	}
	rev, err := r.ensureRevision(ctx, app, revs, hash, desired)
	if err != nil {
		return nil, err
	}
	revs = replaceRevision(revs, rev)

	plan := &rolloutPlan{template: desired, updateHash: hash}
	servingHash, settled := workloadRevision(current)

	switch rollout.OutcomeOf(rev) {
	case rollout.OutcomeNone:
		if servingHash == hash && settled {
			if rev, err = r.markComplete(ctx, app, rev); err != nil {
				return nil, err
			}
			break
		}
		if servingHash != hash || app.Spec.Paused() {
			// The workload has not been given this revision yet (it is applied below), or the update
			// is held: nothing to judge yet.
			break
		}
		started := startedAt(rev)
		in := rollout.Input{Pods: pods, UpdateHash: hash, Now: r.now(), UpdateStarted: started,
			ProgressDeadlineSeconds: app.Spec.ProgressDeadlineSeconds()}
		verdict := rollout.DetectFailure(in)
		if !verdict.Failed {
			// Pod changes wake the reconciler; only the passing of time needs a requeue.
			plan.requeueAfter = rollout.RequeueAfter(in)
			break
		}
		log.Info("update failed", "revision", rev.Revision, "reason", verdict.Reason, "pod", verdict.Pod)
		target := rollout.RollbackTarget(revs, hash)
		if rev, err = r.markFailed(ctx, app, rev, target, verdict, started); err != nil {
			return nil, err
		}
	case rollout.OutcomeFailed:
		if app.Annotations[appsv1alpha1.AnnotationRetry] != rev.Annotations[annotationRetryToken] {
			if rev, err = r.retry(ctx, app, rev); err != nil {
				return nil, err
			}
		}
	}
	revs = replaceRevision(revs, rev)

	if rollout.OutcomeOf(rev) == rollout.OutcomeFailed {
		plan.status.Failure = rollout.FailureMessage(rev)
		plan.status.FailureReason = appsv1alpha1.ReasonRolloutFailed
		if rev.Annotations[annotationFailureReason] == string(rollout.ReasonProgressDeadlineExceeded) {
			plan.status.FailureReason = appsv1alpha1.ReasonProgressDeadlineExceeded
		}
		if app.Spec.AutoRollback() {
			if target := rollout.RollbackTarget(revs, hash); target != nil {
				data, err := rollout.DecodeRevision(target)
				if err != nil {
					return nil, fmt.Errorf("revision %d: %w", target.Revision, err)
				}
				plan.template = data.PodTemplate
				plan.rollbackTo = target
				plan.status.FailureReason = appsv1alpha1.ReasonRolledBack
				if err := r.noteRecovery(ctx, rev, target, servingHash, settled); err != nil {
					return nil, err
				}
			} else {
				plan.status.Failure += "; no earlier revision completed, so there is nothing to roll back to"
			}
		}
	}

	plan.status.UpdateRevision = rev.Revision
	plan.status.OnUpdateRevision = servingHash == hash
	plan.status.Paused = app.Spec.Paused()
	var lastGood string
	for _, cr := range rollout.ByNumber(revs) {
		switch rollout.OutcomeOf(cr) {
		case rollout.OutcomeComplete:
			plan.status.CurrentRevision = cr.Revision
			lastGood = rollout.RevisionHash(cr)
		case rollout.OutcomeFailed:
			plan.status.LastFailedRevision = cr.Revision
		}
	}
	if serving := rollout.FindByHash(revs, servingHash); serving != nil && settled {
		plan.status.CurrentRevision = serving.Revision
	}
	return plan, r.prune(ctx, app, revs, hash, servingHash, lastGood)
}

// afterApply finishes a Stateful rollback: the StatefulSet does not replace a pod that is not ready
// on its own (it waits for it to become ready first), so the pods of the failed revision that are not
// ready are deleted and come back on the good revision. Their claims are untouched.
func (r *HighlyAvailableAppReconciler) afterApply(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, plan *rolloutPlan, pods []corev1.Pod) error {
	if plan.rollbackTo == nil || app.Spec.AppType() != appsv1alpha1.Stateful {
		return nil
	}
	for i := range pods {
		p := &pods[i]
		if p.Labels[rollout.LabelRevisionHash] != plan.updateHash || isPodReady(p) || !p.DeletionTimestamp.IsZero() {
			continue
		}
		uid := p.UID
		if err := r.Delete(ctx, p, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete pod %s of the failed revision: %w", p.Name, err)
		}
		r.event(app, corev1.EventTypeNormal, ReasonPodReplaced, "Delete",
			"deleted pod %s of failed revision %d so that it comes back on revision %d; its volumes are kept",
			p.Name, plan.status.UpdateRevision, plan.rollbackTo.Revision)
	}
	return nil
}

// partition is the StatefulSet's partition: the spec's, or, while the update is paused, the lowest
// ordinal already on the new template, so that no further pod is replaced.
func (r *HighlyAvailableAppReconciler) partition(app *appsv1alpha1.HighlyAvailableApp, plan *rolloutPlan, pods []corev1.Pod) int32 {
	partition := app.Spec.Partition()
	if !app.Spec.Paused() {
		return partition
	}
	replicas := app.Spec.DesiredReplicas()
	hashByOrdinal := map[int32]string{}
	for i := range pods {
		if ord, ok := ordinal(app, pods[i].Name); ok {
			hashByOrdinal[ord] = pods[i].Labels[rollout.LabelRevisionHash]
		}
	}
	held := replicas
	target := plan.template.Labels[rollout.LabelRevisionHash]
	for ord := replicas - 1; ord >= 0 && hashByOrdinal[ord] == target; ord-- {
		held = ord
	}
	return max(partition, held)
}

func ordinal(app *appsv1alpha1.HighlyAvailableApp, podName string) (int32, bool) {
	prefix := app.Name + "-"
	if len(podName) <= len(prefix) || podName[:len(prefix)] != prefix {
		return 0, false
	}
	n, err := strconv.ParseInt(podName[len(prefix):], 10, 32)
	if err != nil || n < 0 {
		return 0, false
	}
	return int32(n), true
}

// workloadRevision is the revision hash of the workload's template and whether every replica runs it
// and is available.
func workloadRevision(obj client.Object) (hash string, settled bool) {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		s := w.Status
		return w.Spec.Template.Labels[rollout.LabelRevisionHash], s.ObservedGeneration >= w.Generation &&
			s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
	case *appsv1.StatefulSet:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		s := w.Status
		return w.Spec.Template.Labels[rollout.LabelRevisionHash], s.ObservedGeneration >= w.Generation &&
			s.UpdateRevision == s.CurrentRevision && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
	case *appsv1.DaemonSet:
		return daemonSetRevision(w)
	}
	return "", false
}

func (r *HighlyAvailableAppReconciler) listRevisions(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) ([]appsv1.ControllerRevision, error) {
	list := &appsv1.ControllerRevisionList{}
	if err := r.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app))); err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	out := list.Items[:0]
	for i := range list.Items {
		if isControlledBy(&list.Items[i], app) {
			out = append(out, list.Items[i])
		}
	}
	return out, nil
}

// ensureRevision returns the revision of the spec's template, creating it when new. A spec that comes
// back to an older revision makes it the newest again, as a Deployment's rollback does, and gives it
// a fresh try.
func (r *HighlyAvailableAppReconciler) ensureRevision(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	revs []appsv1.ControllerRevision, hash string, tpl corev1.PodTemplateSpec) (*appsv1.ControllerRevision, error) {
	next := rollout.NextNumber(revs)
	if existing := rollout.FindByHash(revs, hash); existing != nil {
		if existing.Revision == next-1 {
			return existing, nil
		}
		// A revision that completed stays a good one to roll back to; any other gets a fresh try.
		patched := existing.DeepCopy()
		if rollout.OutcomeOf(existing) != rollout.OutcomeComplete {
			patched, _ = rollout.ClearOutcome(existing)
		}
		patched.Revision = next
		setStartedNow(patched, r.now())
		if err := r.Update(ctx, patched); err != nil {
			return nil, fmt.Errorf("renumber revision %d to %d: %w", existing.Revision, next, err)
		}
		r.event(app, corev1.EventTypeNormal, ReasonRolloutStarted, "Rollout",
			"spec returned to the template of revision %d: it is now revision %d", existing.Revision, next)
		rolloutStarted(app)
		return patched, nil
	}
	cr, err := rollout.NewRevision(app, hash, next, rollout.RevisionData{Template: app.Spec.Template, PodTemplate: tpl})
	if err != nil {
		return nil, err
	}
	setStartedNow(cr, r.now())
	if err := controllerutil.SetControllerReference(app, cr, r.Scheme); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, cr); err != nil {
		return nil, fmt.Errorf("create revision %d: %w", next, err)
	}
	r.event(app, corev1.EventTypeNormal, ReasonRolloutStarted, "Rollout", "revision %d (%s): %s", next, hash, imagesOf(tpl))
	rolloutStarted(app)
	return cr, nil
}

func (r *HighlyAvailableAppReconciler) markComplete(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, rev *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	patched, changed := rollout.MarkComplete(rev)
	if !changed {
		return rev, nil
	}
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(rev, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, fmt.Errorf("mark revision %d complete: %w", rev.Revision, err)
	}
	r.event(app, corev1.EventTypeNormal, ReasonRolloutComplete, "Rollout", "revision %d serves on every replica", rev.Revision)
	rolloutCompleted(app)
	return patched, nil
}

func (r *HighlyAvailableAppReconciler) markFailed(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	rev, target *appsv1.ControllerRevision, verdict rollout.Verdict, started time.Time) (*appsv1.ControllerRevision, error) {
	patched, _ := rollout.MarkFailed(rev, verdict.String())
	now := r.now()
	patched.Annotations[annotationFailedAt] = now.UTC().Format(time.RFC3339)
	patched.Annotations[annotationRetryToken] = app.Annotations[appsv1alpha1.AnnotationRetry]
	patched.Annotations[annotationFailureReason] = string(verdict.Reason)
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(rev, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, fmt.Errorf("mark revision %d failed: %w", rev.Revision, err)
	}
	r.event(app, corev1.EventTypeWarning, ReasonRolloutFailed, "Rollout", "revision %d failed: %s", rev.Revision, verdict.String())
	observeFailureDetection(now.Sub(started))
	if app.Spec.AutoRollback() && target != nil {
		r.event(app, corev1.EventTypeWarning, ReasonRolledBack, "Rollback", "rolled back from revision %d to revision %d: %s",
			rev.Revision, target.Revision, verdict.String())
		rolledBack(app, string(verdict.Reason))
	}
	return patched, nil
}

// retry clears a failed revision's outcome because the app's retry annotation changed.
func (r *HighlyAvailableAppReconciler) retry(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, rev *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	patched, _ := rollout.ClearOutcome(rev)
	delete(patched.Annotations, annotationFailedAt)
	delete(patched.Annotations, annotationRetryToken)
	delete(patched.Annotations, annotationRecovered)
	delete(patched.Annotations, annotationFailureReason)
	setStartedNow(patched, r.now())
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(rev, client.MergeFromWithOptimisticLock{})); err != nil {
		return nil, fmt.Errorf("retry revision %d: %w", rev.Revision, err)
	}
	r.event(app, corev1.EventTypeNormal, ReasonRetrying, "Rollout", "retrying revision %d as asked by the %s annotation", rev.Revision, appsv1alpha1.AnnotationRetry)
	rolloutStarted(app)
	return patched, nil
}

// noteRecovery reports a rollback once: the event and counter when the failed revision is first held
// back, the time it took once the workload is settled on the good revision again.
func (r *HighlyAvailableAppReconciler) noteRecovery(ctx context.Context, failed, target *appsv1.ControllerRevision, servingHash string, settled bool) error {
	if !settled || servingHash != rollout.RevisionHash(target) || failed.Annotations[annotationRecovered] != "" {
		return nil
	}
	patched := failed.DeepCopy()
	patched.Annotations[annotationRecovered] = "true"
	if err := r.Patch(ctx, patched, client.MergeFromWithOptions(failed, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("note rollback of revision %d: %w", failed.Revision, err)
	}
	if at, err := time.Parse(time.RFC3339, failed.Annotations[annotationFailedAt]); err == nil {
		observeRollback(r.now().Sub(at))
	}
	return nil
}

// prune deletes the revisions beyond the history limit, never the spec's, the serving or the last good
// one.
func (r *HighlyAvailableAppReconciler) prune(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, revs []appsv1.ControllerRevision, keep ...string) error {
	for _, cr := range rollout.Prune(revs, app.Spec.RevisionHistoryLimit(), keep...) {
		if err := r.Delete(ctx, cr); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("prune revision %d: %w", cr.Revision, err)
		}
	}
	return nil
}

func replaceRevision(revs []appsv1.ControllerRevision, rev *appsv1.ControllerRevision) []appsv1.ControllerRevision {
	out := make([]appsv1.ControllerRevision, 0, len(revs)+1)
	found := false
	for i := range revs {
		if revs[i].Name == rev.Name {
			out = append(out, *rev)
			found = true
			continue
		}
		out = append(out, revs[i])
	}
	if !found {
		out = append(out, *rev)
	}
	return out
}

func setStartedNow(cr *appsv1.ControllerRevision, now time.Time) {
	if cr.Annotations == nil {
		cr.Annotations = map[string]string{}
	}
	cr.Annotations[annotationStartedAt] = now.UTC().Format(time.RFC3339)
}

func startedAt(cr *appsv1.ControllerRevision) time.Time {
	if t, err := time.Parse(time.RFC3339, cr.Annotations[annotationStartedAt]); err == nil {
		return t
	}
	return cr.CreationTimestamp.Time
}

func imagesOf(tpl corev1.PodTemplateSpec) string {
	images := map[string]bool{}
	out := ""
	for _, c := range tpl.Spec.Containers {
		if images[c.Image] {
			continue
		}
		images[c.Image] = true
		if out != "" {
			out += ", "
		}
		out += c.Name + "=" + c.Image
	}
	return out
}
