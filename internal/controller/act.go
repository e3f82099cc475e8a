package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/status"
)

// FieldOwner is the field manager of every server-side apply the operator sends.
const FieldOwner = decide.FieldManager

// HandOverFieldOwner applies a workload's live replica count when the operator stops owning it, so
// that the count is kept (see decide.HandOver).
const HandOverFieldOwner = "ha-operator-handover"

// applyError is a write the API server refused; refusals that retrying cannot fix become the app's
// ApplyFailed problem, conflicts requeue quietly, the rest are retried with backoff.
type applyError struct {
	what string
	err  error
}

func (e *applyError) Error() string { return e.what + ": " + e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

// act carries out the plan in a fixed order and decides nothing: the pods of silent nodes marked not
// ready first (traffic is at stake), then the revision records (so that the history is written
// before the workload changes), then claims, the StatefulSet being
// re-created, the pods' deletion costs (before a scale-in), the objects, the deletes, the pods to
// delete and, last, pruning. It returns the Events of what it did, to be emitted after the status.
func (r *HighlyAvailableAppReconciler) act(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, plan *decide.Plan) (events []decide.Event, err error) {
	ctx, warned := collectWarnings(ctx)
	defer func() {
		for _, text := range warned.all() {
			events = append(events, decide.Event{Type: corev1.EventTypeWarning, Reason: appsv1alpha1.ReasonAPIWarning, Action: "Apply", Message: text})
		}
	}()
	note := func(reason, action, format string, args ...any) {
		events = append(events, decide.Event{Type: corev1.EventTypeNormal, Reason: reason, Action: action, Message: fmt.Sprintf(format, args...)})
	}
	for _, m := range plan.MarkPods {
		if err := r.markNotReady(ctx, m); err != nil {
			return events, &applyError{"mark pod " + m.Pod.Name + " not ready", err}
		}
	}
	for _, w := range plan.Revisions {
		var err error
		if w.Before == nil {
			err = r.Create(ctx, w.Object)
		} else {
			err = r.Patch(ctx, w.Object, client.MergeFromWithOptions(w.Before, client.MergeFromWithOptimisticLock{}))
		}
		if err != nil {
			return events, &applyError{fmt.Sprintf("write revision %d", w.Object.Revision), err}
		}
		r.memory.raise(app, w.Object.Revision)
	}
	for _, g := range plan.GrowClaims {
		patched := g.Claim.DeepCopy()
		patched.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse(g.Size)
		if err := r.Patch(ctx, patched, client.MergeFrom(g.Claim)); err != nil {
			return events, &applyError{"grow claim " + g.Claim.Name, err}
		}
	}
	if sts := plan.RecreateStatefulSet; sts != nil {
		uid := sts.UID
		if err := r.Delete(ctx, sts, client.PropagationPolicy("Orphan"), client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return events, &applyError{"re-create StatefulSet " + sts.Name, err}
		}
	}
	if h := plan.HandOverBefore; h != nil {
		r.handOver(ctx, app, h)
	}
	for _, c := range plan.PodCosts {
		if err := r.patchDeletionCost(ctx, c); err != nil {
			return events, &applyError{"set the deletion cost of pod " + c.Pod.Name, err}
		}
	}
	applied, err := r.applyObjects(ctx, app, plan.Apply)
	events = append(events, applied...)
	if err != nil {
		return events, err
	}
	if h := plan.HandOverAfter; h != nil {
		r.handOver(ctx, app, h)
	}
	for _, d := range plan.Delete {
		uid := d.Object.GetUID()
		opts := []client.DeleteOption{client.Preconditions{UID: &uid}}
		if d.Background {
			opts = append(opts, client.PropagationPolicy(metav1.DeletePropagationBackground))
		}
		if err := r.Delete(ctx, d.Object, opts...); client.IgnoreNotFound(err) != nil {
			return events, &applyError{"delete " + d.Ref.String(), err}
		}
		note(appsv1alpha1.ReasonDeleted, "Delete", "deleted %s: %s", d.Ref, d.Why)
	}
	for _, d := range plan.DeletePods {
		uid := d.Pod.UID
		if err := r.Delete(ctx, d.Pod, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return events, &applyError{"delete pod " + d.Pod.Name, err}
		}
		events = append(events, d.Event)
	}
	for _, cr := range plan.Prune {
		uid := cr.UID
		if err := r.Delete(ctx, cr, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return events, &applyError{fmt.Sprintf("prune revision %d", cr.Revision), err}
		}
	}
	return events, nil
}

// applyObjects applies the objects, in order, with server-side apply as FieldOwner, and returns one
// Event for those created and one for those updated: Events of the same reason and action on one app
// form a series that keeps the first message only. A create carries a precondition that no object
// exists (IfAbsent); when one does, the app's memory keeps its name, for observe to read it past the
// cache. The first refusal stops it.
func (r *HighlyAvailableAppReconciler) applyObjects(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	objects []decide.Desired) ([]decide.Event, error) {
	var created, updated []string
	told := func() []decide.Event {
		var out []decide.Event
		if len(created) > 0 {
			out = append(out, decide.Event{Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonCreated, Action: "Create",
				Message: "created " + strings.Join(created, ", ")})
		}
		if len(updated) > 0 {
			out = append(out, decide.Event{Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonUpdated, Action: "Update",
				Message: "updated " + strings.Join(updated, ", ")})
		}
		return out
	}
	for _, d := range objects {
		obj := d.Apply
		if d.Create {
			obj = IfAbsent(obj)
		}
		if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
			if d.Create && apierrors.IsConflict(err) {
				r.memory.refuse(app, d.Ref)
			}
			return told(), &applyError{"apply " + d.String(), err}
		}
		if d.Create {
			created = append(created, d.String())
		} else {
			updated = append(updated, d.String())
		}
	}
	return told(), nil
}

// markNotReady sets the pod's Ready condition False, as the node lifecycle controller does: a
// strategic merge patch of its status that changes that condition alone, refused if the pod changed
// since it was read (another pod of the same name, or its kubelet back).
func (r *HighlyAvailableAppReconciler) markNotReady(ctx context.Context, m decide.PodMark) error {
	patched := m.Pod.DeepCopy()
	for i := range patched.Status.Conditions {
		c := &patched.Status.Conditions[i]
		if c.Type == corev1.PodReady {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, appsv1alpha1.ReasonNodeSilent, m.Message
			c.LastTransitionTime = metav1.NewTime(r.now())
		}
	}
	return client.IgnoreNotFound(r.Status().Patch(ctx, patched, client.StrategicMergeFrom(m.Pod, client.MergeFromWithOptimisticLock{})))
}

// patchDeletionCost sets or removes one pod's deletion cost annotation: a merge patch of its metadata,
// with its UID as precondition.
func (r *HighlyAvailableAppReconciler) patchDeletionCost(ctx context.Context, c decide.PodCost) error {
	patched := c.Pod.DeepCopy()
	if c.Cost == "" {
		delete(patched.Annotations, decide.AnnotationDeletionCost)
	} else {
		if patched.Annotations == nil {
			patched.Annotations = map[string]string{}
		}
		patched.Annotations[decide.AnnotationDeletionCost] = c.Cost
	}
	return client.IgnoreNotFound(r.Patch(ctx, patched, client.MergeFromWithOptions(c.Pod, client.MergeFromWithOptimisticLock{})))
}

// handOver applies the live replica count as another field manager, without force: should someone
// else (the autoscaler) already own a different count, the conflict means there is nothing to keep.
func (r *HighlyAvailableAppReconciler) handOver(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, h *decide.HandOver) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": h.Ref.Kind,
		"metadata": map[string]any{"name": h.Ref.Name, "namespace": app.Namespace},
		"spec":     map[string]any{"replicas": int64(h.Replicas)},
	}}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(HandOverFieldOwner)); err != nil && !apierrors.IsConflict(err) {
		// The next reconcile tries again; the operator's own apply below drops nothing it owned alone
		// only if this succeeded, so report it.
		r.log(ctx).Info("could not hand over the replica count", "workload", h.Ref.String(), "error", err.Error())
	}
}

// classify turns an error of act into what the app reports: a refusal that retrying cannot fix is
// the ApplyFailed problem (and no error, so that the status is written and nothing is retried in a
// loop); a conflict or an object that already exists is a quiet requeue; anything else is returned
// and retried with backoff.
func classify(err error) (problem *status.Problem, requeue bool, retry error) {
	var ae *applyError
	if !errors.As(err, &ae) {
		return nil, false, err
	}
	switch {
	case apierrors.IsInvalid(err), apierrors.IsForbidden(err), apierrors.IsBadRequest(err),
		apierrors.IsRequestEntityTooLargeError(err), apierrors.IsMethodNotSupported(err):
		return &status.Problem{Reason: appsv1alpha1.ReasonApplyFailed, Message: ae.Error()}, false, nil
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		return nil, true, nil
	}
	return nil, false, err
}

// memory is what the reconciler keeps of each app between reconciles, keyed by the app's namespace
// and name and valid for one UID: the highest revision number it has written, which the cache may not
// show yet, so that a new number never repeats one; since when an error that retrying may fix has
// kept recurring; and the objects whose create found one of the name. A restart forgets it (the
// freshly synced cache then knows every revision), and so does the app's deletion (forget), so that
// it does not grow with the apps ever deleted.
type memory struct {
	mu   sync.Mutex
	apps map[types.NamespacedName]appMemory
}

type appMemory struct {
	uid types.UID
	// issued is the highest revision number written.
	issued int64
	// failingSince is when the current run of transient errors began; zero while there is none.
	failingSince time.Time
	// statusVersion is the app's resourceVersion after the operator's last status write, and
	// statusDigest that status's digest: while the cache shows another resourceVersion, the cached
	// status may be older than what the API server has (patchStatus). statusFrom is the
	// resourceVersion that write was made over: a cache that still shows it is behind for sure.
	statusVersion, statusFrom string
	statusDigest              uint64
	// unsentEvents and unsentMetrics are what a reconcile did whose status write failed (a conflict
	// while the cache is behind): they go out after the next status write.
	unsentEvents  []decide.Event
	unsentMetrics []decide.Metric
	// refused names the objects whose create the API server refused because one of the name exists:
	// observe looks for them past the cache, which may never show them (someone else's object). Kept
	// while the app lives: a name read from the cache costs no request.
	refused []decide.Ref
}

// of returns what is kept of the app (the zero memory for an app it has not seen, or for another app
// that had the same name).
func (m *memory) of(app *appsv1alpha1.HighlyAvailableApp) appMemory {
	m.mu.Lock()
	defer m.mu.Unlock()
	if got, ok := m.apps[client.ObjectKeyFromObject(app)]; ok && got.uid == app.UID {
		return got
	}
	return appMemory{uid: app.UID}
}

func (m *memory) update(app *appsv1alpha1.HighlyAvailableApp, change func(*appMemory)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.apps == nil {
		m.apps = map[types.NamespacedName]appMemory{}
	}
	key := client.ObjectKeyFromObject(app)
	got, ok := m.apps[key]
	if !ok || got.uid != app.UID {
		got = appMemory{uid: app.UID}
	}
	change(&got)
	m.apps[key] = got
}

// raise records a revision number written for the app.
func (m *memory) raise(app *appsv1alpha1.HighlyAvailableApp, n int64) {
	m.update(app, func(a *appMemory) { a.issued = max(a.issued, n) })
}

// refuse records that the create of ref was refused: an object of its name exists.
func (m *memory) refuse(app *appsv1alpha1.HighlyAvailableApp, ref decide.Ref) {
	m.update(app, func(a *appMemory) {
		if !slices.Contains(a.refused, ref) {
			a.refused = append(a.refused, ref)
		}
	})
}

// failing records a transient error at now and returns since when such errors have kept recurring.
func (m *memory) failing(app *appsv1alpha1.HighlyAvailableApp, now time.Time) time.Time {
	var since time.Time
	m.update(app, func(a *appMemory) {
		if a.failingSince.IsZero() {
			a.failingSince = now
		}
		since = a.failingSince
	})
	return since
}

// wroteStatus records the status the operator wrote, and the app's resourceVersion before and after
// it.
func (m *memory) wroteStatus(app *appsv1alpha1.HighlyAvailableApp, from, to string, digest uint64) {
	m.update(app, func(a *appMemory) { a.statusFrom, a.statusVersion, a.statusDigest = from, to, digest })
}

// behindOwnStatus says that the cached app is, for sure, older than the operator's last status write:
// it still shows the version that write was made over. A patch that changed nothing keeps the
// version, and leaves nothing behind.
func (m *memory) behindOwnStatus(app *appsv1alpha1.HighlyAvailableApp) bool {
	return m.of(app).before(app)
}

// before says that app is the copy the last status write was made over.
func (a appMemory) before(app *appsv1alpha1.HighlyAvailableApp) bool {
	return a.statusFrom != "" && a.statusFrom == app.ResourceVersion && a.statusVersion != app.ResourceVersion
}

// hold keeps the Events and metrics of a reconcile whose status could not be written, so that what it
// did is told once a status is written: the status first, then what happened. A reconcile that meets
// the conflict again decides its status transitions again: they replace the ones held.
func (m *memory) hold(app *appsv1alpha1.HighlyAvailableApp, events []decide.Event, ms []decide.Metric) {
	if len(events) == 0 && len(ms) == 0 {
		return
	}
	m.update(app, func(a *appMemory) {
		a.unsentEvents = superseded(a.unsentEvents, events, sameEvent)
		a.unsentMetrics = superseded(a.unsentMetrics, ms, sameMetric)
	})
}

// withUnsent returns the held Events and metrics followed by the new ones, and forgets the held ones.
// A held Event or metric that the new ones repeat is dropped: a status transition that was not
// written is decided again, and told once.
func (m *memory) withUnsent(app *appsv1alpha1.HighlyAvailableApp, events []decide.Event, ms []decide.Metric) ([]decide.Event, []decide.Metric) {
	held := m.of(app)
	if len(held.unsentEvents) == 0 && len(held.unsentMetrics) == 0 {
		return events, ms
	}
	m.update(app, func(a *appMemory) { a.unsentEvents, a.unsentMetrics = nil, nil })
	return superseded(held.unsentEvents, events, sameEvent), superseded(held.unsentMetrics, ms, sameMetric)
}

// sameEvent and sameMetric say that two Events or metrics tell the same thing: the same type and
// reason, the same kind and reason.
func sameEvent(a, b decide.Event) bool   { return a.Type == b.Type && a.Reason == b.Reason }
func sameMetric(a, b decide.Metric) bool { return a.Kind == b.Kind && a.Reason == b.Reason }

// superseded returns the older entries that none of the newer repeats, followed by the newer ones.
func superseded[T any](older, newer []T, same func(a, b T) bool) []T {
	var out []T
	for _, o := range older {
		if !slices.ContainsFunc(newer, func(n T) bool { return same(o, n) }) {
			out = append(out, o)
		}
	}
	return append(out, newer...)
}

// recovered ends the app's run of transient errors.
func (m *memory) recovered(app *appsv1alpha1.HighlyAvailableApp) {
	if !m.of(app).failingSince.IsZero() {
		m.update(app, func(a *appMemory) { a.failingSince = time.Time{} })
	}
}

// forget drops what is kept of a deleted app.
func (m *memory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.apps, key)
}

// size is the number of apps remembered.
func (m *memory) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.apps)
}
