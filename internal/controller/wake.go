package controller

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/metrics"
	"github.com/haoperator/ha-operator/internal/status"
)

// DefaultWakeWindow is how long the progress of an app's objects may wait before it wakes the app:
// the pods' and the workload's steps towards the goal (a pod scheduled, a pod ready, the workload's
// counts) come in bursts, and one reconcile a window later reports them all.
const DefaultWakeWindow = time.Second

// urgency is how soon an event wakes its app.
type urgency int

const (
	// wakeIgnore: nothing the app reads changed.
	wakeIgnore urgency = iota
	// wakeSoon: progress, reported within the wake window; the events of one window make one reconcile.
	wakeSoon
	// wakeNow: a change someone made, a deletion, a failure, or the goal reached.
	wakeNow
)

// waker wakes apps for the events of the objects they own or whose pods they run. What decides or
// ends something wakes the app at once: the app's own changes (not handled here), a change or
// deletion of a generated object, a pod failure signal, a workload reaching or losing its goal, a
// node or StorageClass change. The progress in between waits up to the window and is batched.
// During a catch-up that cuts the reconciles of a new app from one per step to a few.
type waker struct {
	window time.Duration
}

// handler wakes the apps that requests names for an object, creations as created says (soon, or not
// at all), deletions at once, and updates as update classifies them.
// The wakes are counted in haoperator_wakes_total under the kind's name.
func (w waker) handler(kind string, requests func(client.Object) []reconcile.Request, created urgency,
	update func(before, after client.Object) urgency) handler.EventHandler {
	c := wakeCounters{now: metrics.Wakes(kind, metrics.WakeNow), soon: metrics.Wakes(kind, metrics.WakeSoon),
		initial: metrics.Wakes(kind, metrics.WakeInitial)}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if created != wakeIgnore {
				w.add(q, c, requests(e.Object), created, e.IsInInitialList)
			}
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if u := update(e.ObjectOld, e.ObjectNew); u != wakeIgnore {
				w.add(q, c, requests(e.ObjectNew), u, false)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.add(q, c, requests(e.Object), wakeNow, false)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.add(q, c, requests(e.Object), wakeNow, false)
		},
	}
}

// wakeCounters are one kind's series of haoperator_wakes_total.
type wakeCounters struct {
	now, soon, initial prometheus.Counter
}

func (c wakeCounters) count(u urgency, initial bool, n int) {
	switch {
	case initial:
		c.initial.Add(float64(n))
	case u == wakeSoon:
		c.soon.Add(float64(n))
	default:
		c.now.Add(float64(n))
	}
}

// mapped is a handler that queues at once the apps that apps maps an object to (for an update, the
// object as it is now), counted in haoperator_wakes_total under source. The objects listed when the
// manager starts wake nobody: every app is queued then by its own listing, and mapping each node or
// StorageClass to every app would read all the apps once per object (108 times 3,000 apps at N=3,000).
func (w waker) mapped(source string, apps handler.MapFunc) handler.EventHandler {
	c := wakeCounters{now: metrics.Wakes(source, metrics.WakeNow)}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if !e.IsInInitialList {
				w.add(q, c, apps(ctx, e.Object), wakeNow, false)
			}
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.add(q, c, apps(ctx, e.ObjectNew), wakeNow, false)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.add(q, c, apps(ctx, e.Object), wakeNow, false)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			w.add(q, c, apps(ctx, e.Object), wakeNow, false)
		},
	}
}

// add queues the requests. The controller's priority queue keeps one entry per app at the earliest
// time asked and the highest priority, so an urgent event takes along the progress waiting for the
// window. Progress, and the objects listed when the operator starts, go at low priority: behind the
// changes people make and the failures, and, during a catch-up, behind the apps still to be
// reconciled a first time (the apps' own initial events are low priority too).
func (w waker) add(q workqueue.TypedRateLimitingInterface[reconcile.Request], c wakeCounters,
	requests []reconcile.Request, u urgency, initial bool) {
	c.count(u, initial, len(requests))
	var after time.Duration
	if u == wakeSoon {
		after = w.window
	}
	pq, isPriority := q.(priorityqueue.PriorityQueue[reconcile.Request])
	for _, r := range requests {
		switch {
		case isPriority:
			opts := priorityqueue.AddOpts{After: after}
			if initial || u == wakeSoon {
				opts.Priority = new(handler.LowPriority)
			}
			pq.AddWithOpts(opts, r)
		case after > 0:
			q.AddAfter(r, after)
		default:
			q.Add(r)
		}
	}
}

// ownerApp names the app that controls obj, if an app does.
func ownerApp(obj client.Object) []reconcile.Request {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "HighlyAvailableApp" &&
			ref.APIVersion == appsv1alpha1.GroupVersion.String() {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}}}
		}
	}
	return nil
}

// instanceApp names the app whose instance label obj carries, for the pods and ReplicaSets that the
// app's workload owns (not the app itself).
func instanceApp(obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[appsv1alpha1.LabelInstance]
	if name == "" || obj.GetLabels()[appsv1alpha1.LabelManagedBy] != appsv1alpha1.ManagedByValue {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: name}}}
}

// metadataChanged tells whether someone changed what an object is rather than how it is doing: its
// spec (the generation), labels, annotations, owners or finalizers, the fields the operator's
// applies own (someone took one over, or removed it: a Service has no generation), or its deletion
// began. The annotations the Deployment controller keeps on a Deployment (its revision) are how it
// is doing.
func metadataChanged(before, after client.Object) bool {
	return before.GetGeneration() != after.GetGeneration() ||
		!maps.Equal(before.GetLabels(), after.GetLabels()) ||
		!maps.EqualFunc(withoutControllerNotes(before.GetAnnotations()), withoutControllerNotes(after.GetAnnotations()),
			func(a, b string) bool { return a == b }) ||
		!slices.EqualFunc(before.GetOwnerReferences(), after.GetOwnerReferences(), func(a, b metav1.OwnerReference) bool {
			return a.UID == b.UID && a.Kind == b.Kind && a.Name == b.Name &&
				derefBool(a.Controller) == derefBool(b.Controller)
		}) ||
		!slices.Equal(before.GetFinalizers(), after.GetFinalizers()) ||
		decide.AppliedDigestOf(before) != decide.AppliedDigestOf(after) ||
		(before.GetDeletionTimestamp() == nil) != (after.GetDeletionTimestamp() == nil)
}

func derefBool(b *bool) bool { return b != nil && *b }

// deploymentControllerNotes is the prefix of the annotations the Deployment controller writes on a
// Deployment and its ReplicaSets.
const deploymentControllerNotes = "deployment.kubernetes.io/"

func withoutControllerNotes(annotations map[string]string) map[string]string {
	var out map[string]string
	for k, v := range annotations {
		if strings.HasPrefix(k, deploymentControllerNotes) {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(annotations))
		}
		out[k] = v
	}
	return out
}

// revisionUpdate ignores a change of a revision's annotations alone: they are the revision record,
// which only the operator writes and reads back on the next reconcile; waking the app for its own
// write would cost a reconcile that finds nothing to do. Any other change wakes the app at once. A
// revision's creation wakes nothing, for the same reason: only the operator creates revisions, an
// app's first as its rollout ends (the reconcile after it would find nothing to do), and a deletion
// wakes the app at once.
func revisionUpdate(before, after client.Object) urgency {
	b, okB := before.(*appsv1.ControllerRevision)
	a, okA := after.(*appsv1.ControllerRevision)
	if !okB || !okA {
		return wakeNow
	}
	bare := func(cr *appsv1.ControllerRevision) *appsv1.ControllerRevision {
		out := cr.DeepCopy()
		out.Annotations, out.ResourceVersion, out.ManagedFields = nil, "", nil
		return out
	}
	if equality.Semantic.DeepEqual(bare(b), bare(a)) {
		return wakeIgnore
	}
	return wakeNow
}

// changedNow wakes the app at once for a change of the object itself and ignores status-only writes:
// for the objects whose status the operator never reads (Service, PodDisruptionBudget,
// HorizontalPodAutoscaler, ControllerRevision).
func changedNow(before, after client.Object) urgency {
	if metadataChanged(before, after) {
		return wakeNow
	}
	return wakeIgnore
}

// everyChange wakes the app at once for every update: Jobs and CronJobs, whose every status step
// (a run started, succeeded or failed) is an outcome.
func everyChange(client.Object, client.Object) urgency { return wakeNow }

// workloadUpdate wakes the app at once when the workload was changed, reached its goal or left it,
// or reports that it cannot create pods; its other status steps are progress.
func workloadUpdate(before, after client.Object) urgency {
	if metadataChanged(before, after) {
		return wakeNow
	}
	b, a := decide.ObservedWorkload(before), decide.ObservedWorkload(after)
	if status.Settled(a) != status.Settled(b) || a.ReplicaFailure != b.ReplicaFailure {
		return wakeNow
	}
	if a == b {
		return wakeIgnore
	}
	return wakeSoon
}

// podUpdate classifies a pod's update by what changed in its signature: nothing the reconciler reads
// (most kubelet writes), progress (scheduled, running, ready), or a signal to act on at once (a
// container waiting or terminated, a restart, unschedulable, readiness lost, deletion begun, the pod
// finished, its labels changed).
func podUpdate(before, after client.Object) urgency {
	b, okB := before.(*corev1.Pod)
	a, okA := after.(*corev1.Pod)
	if !okB || !okA {
		return wakeNow
	}
	sb, sa := podSignature(b), podSignature(a)
	switch {
	case sb.equal(sa):
		return wakeIgnore
	case sb.deleting != sa.deleting, sb.app != sa.app, sb.revision != sa.revision,
		sb.unscheduled != sa.unscheduled && sa.scheduled != corev1.ConditionTrue,
		sb.ready == corev1.ConditionTrue && sa.ready != corev1.ConditionTrue,
		sa.phase == corev1.PodFailed, sa.phase == corev1.PodSucceeded,
		!containersProgressOnly(sb.containers, sa.containers):
		return wakeNow
	}
	return wakeSoon
}

// containersProgressOnly tells whether the containers' statuses changed only by starting: a status
// that appears is compared with an empty one.
func containersProgressOnly(before, after []containerSignature) bool {
	if len(after) < len(before) {
		return false
	}
	for _, a := range after {
		b := containerSignature{name: a.name, init: a.init}
		for _, x := range before {
			if x.name == a.name && x.init == a.init {
				b = x
			}
		}
		if !sameProgress(b, a) {
			return false
		}
	}
	return true
}

// sameProgress tells whether a container's status changed only by starting: the container's
// failure signals (a waiting reason other than creating, a termination, a restart) are the same.
func sameProgress(b, a containerSignature) bool {
	return b.name == a.name && b.init == a.init && b.terminated == a.terminated &&
		b.lastTerminated == a.lastTerminated && b.restarts == a.restarts &&
		(b.waiting == a.waiting || startingReason(a.waiting))
}

// startingReason is a waiting reason that is only a step towards running.
func startingReason(reason string) bool {
	return reason == "" || reason == "ContainerCreating" || reason == "PodInitializing"
}

// onlyCreated wakes nothing on updates: for ReplicaSets, whose arrival alone matters.
func onlyCreated(client.Object, client.Object) urgency { return wakeIgnore }

// claimUpdate wakes the app at once when someone changed a claim or its conditions changed (a resize
// that failed, or waits for the file system to follow), and ignores the rest of its status.
func claimUpdate(before, after client.Object) urgency {
	if metadataChanged(before, after) {
		return wakeNow
	}
	b, okB := before.(*corev1.PersistentVolumeClaim)
	a, okA := after.(*corev1.PersistentVolumeClaim)
	if !okB || !okA {
		return wakeNow
	}
	if b.Status.Phase != a.Status.Phase || !equality.Semantic.DeepEqual(b.Status.Conditions, a.Status.Conditions) {
		return wakeNow
	}
	return wakeIgnore
}

// volumeApp names the app whose claim the volume is bound to (the claim carries the app's instance
// label, the volume nothing of the app's).
func (r *HighlyAvailableAppReconciler) volumeApp(obj client.Object) []reconcile.Request {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok || pv.Spec.ClaimRef == nil {
		return nil
	}
	claim := &corev1.PersistentVolumeClaim{}
	if err := r.Get(context.Background(), types.NamespacedName{Namespace: pv.Spec.ClaimRef.Namespace, Name: pv.Spec.ClaimRef.Name}, claim); err != nil {
		return nil
	}
	return instanceApp(claim)
}

// volumeUpdate wakes the app when its volume is bound to a claim or released: the volume's zone is
// fixed when it is made.
func volumeUpdate(before, after client.Object) urgency {
	b, okB := before.(*corev1.PersistentVolume)
	a, okA := after.(*corev1.PersistentVolume)
	if !okB || !okA {
		return wakeNow
	}
	if (b.Spec.ClaimRef == nil) != (a.Spec.ClaimRef == nil) || b.Status.Phase != a.Status.Phase {
		return wakeNow
	}
	return wakeIgnore
}
