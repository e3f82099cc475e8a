/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package controller holds the HighlyAvailableApp reconciler: thin orchestration around the pure
// packages workload (what to create), rollout (revisions and failures) and status (what to report).
package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/metrics"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// HighlyAvailableAppReconciler turns a HighlyAvailableApp into its workload, Services, disruption
// budget and autoscaler, rolls failed updates back and reports the app's availability.
type HighlyAvailableAppReconciler struct {
	client.Client
	// WakeWindow is how long the progress of an app's objects may wait to wake it (waker); zero wakes
	// it at once for every event.
	WakeWindow time.Duration
	// APIReader reads past the cache, which only holds the operator's own objects, to find objects of
	// the same name that it must not touch, once a create of the name was refused (IfAbsent).
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	// Options are the cluster facts the builders need.
	Options workload.Options
	// Now is the clock; tests may set it.
	Now func() time.Time
	// memory is what the reconciler keeps of each app between reconciles (memory).
	memory memory
	// leases follows the nodes' Leases (nodeLeases).
	leases *nodeLeases
	// judgingSince is when this process first reconciled, in Unix nanoseconds (0 before): update
	// progress deadlines count from it at the earliest (observingSince).
	judgingSince atomic.Int64
}

// +kubebuilder:rbac:groups=apps.haoperator.dev,resources=highlyavailableapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps.haoperator.dev,resources=highlyavailableapps/status,verbs=patch
// +kubebuilder:rbac:groups=apps.haoperator.dev,resources=highlyavailableapps/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=batch,resources=cronjobs,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumes,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods/status,verbs=patch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=list

// Reconcile brings one app's objects to what its spec asks for and reports what it observes, in four
// steps: observe (reads only), decide (pure: the whole plan), act (writes, decides nothing), report
// (the status, then Events and metrics once it is written).
func (r *HighlyAvailableAppReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := r.Get(ctx, req.NamespacedName, app); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.memory.forget(req.NamespacedName)
			forgetApp(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove what the app owns; claims stay unless
		// the StatefulSet's retention policy says otherwise.
		return ctrl.Result{}, nil
	}
	if r.memory.behindOwnStatus(app) {
		// The cache still shows the app as it was before the operator's last status write (a child's
		// event came first). Decided from it, the reconcile would compare with the status that write
		// replaced and tell again what it told (the advice, a change of availability); it looks again
		// once the cache has caught up, which is a moment later.
		return lookAgain(conflictWakes, conflictRetry), nil
	}

	in, err := r.observe(ctx, app)
	if err != nil {
		return r.retry(ctx, app, nil, nil, err)
	}
	plan := decide.Decide(in)
	done, actErr := r.act(ctx, app, &plan)
	problem, requeue, retry := classify(actErr)
	if retry != nil {
		return r.retry(ctx, app, &plan, done, retry)
	}
	r.memory.recovered(app)
	again := recheckWakes
	if problem != nil && plan.Problem == nil {
		plan.Problem = problem
		// The refusal is reported, not retried in a loop; but what the API server refuses can change
		// without the app changing (an admission plugin that has not yet learnt a new CRD, a policy
		// that is relaxed), so it is tried again now and then.
		plan.Requeue, again = applyFailedRecheck, refusedWakes
	}
	next := plan.Report.Status(plan.Problem, metav1.NewTime(in.Now))
	before := app.DeepCopy()
	if err := r.patchStatus(ctx, app, next); err != nil {
		// What this reconcile did is told after the next status write.
		r.memory.hold(before, append(plan.Events, done...), plan.Metrics)
		if apierrors.IsConflict(err) {
			// The cached app is behind the operator's own last write: look again once it caught up.
			return lookAgain(conflictWakes, conflictRetry), nil
		}
		return ctrl.Result{}, err
	}
	// The status is persisted: now what happened may be told.
	events, ms := r.memory.withUnsent(before, append(plan.Events, done...), plan.Metrics)
	r.emit(before, append(events, decide.StatusEvents(before.Status, next, plan.Problem)...), ms)
	recordAppState(app)
	r.log(ctx).V(1).Info("reconciled", "ready", next.ReadySummary, "revision", next.CurrentRevision, "resilience", next.Resilience)
	if requeue {
		// Someone else wrote the object a moment before: look again soon, without an error.
		return lookAgain(conflictWakes, conflictRetry), nil
	}
	return lookAgain(again, plan.Requeue), nil
}

// The looks again the reconciler asks for, in haoperator_wakes_total: a write that met a conflict,
// a write the API server refused, and decide's own (a timer of the rollout, the zones or the
// storage, a workload just changed).
var (
	conflictWakes = metrics.Wakes("Conflict", metrics.WakeLater)
	refusedWakes  = metrics.Wakes("Refused", metrics.WakeLater)
	recheckWakes  = metrics.Wakes("Recheck", metrics.WakeLater)
)

// lookAgain asks for a reconcile after d (none when d is 0), counted on c.
func lookAgain(c prometheus.Counter, d time.Duration) ctrl.Result {
	if d > 0 {
		c.Inc()
	}
	return ctrl.Result{RequeueAfter: d}
}

// RetryingAfter is how long an error that retrying may fix (a webhook that times out, a server error)
// may keep recurring before the app says so: a blip is retried quietly.
const RetryingAfter = 10 * time.Second

// retry returns an error that retrying may fix, for the whole reconcile to run again with backoff.
// Once such errors have kept recurring for RetryingAfter, the app's status says so (Reconciling, reason
// RetryingAfterError, with the error). What act already wrote before the error (done) is reported
// too: the status is written first, then its Events. Otherwise nothing is written: no status while
// the error is a blip, and no Event without a status.
func (r *HighlyAvailableAppReconciler) retry(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	plan *decide.Plan, done []decide.Event, err error) (ctrl.Result, error) {
	now := r.now()
	persists := now.Sub(r.memory.failing(app, now)) >= RetryingAfter
	if !persists && len(done) == 0 {
		return ctrl.Result{}, err
	}
	next := *app.Status.DeepCopy()
	if plan != nil {
		next = plan.Report.Status(nil, metav1.NewTime(now))
	}
	if persists {
		next = status.Retrying(next, app.Generation, err.Error(), metav1.NewTime(now))
	}
	before := app.DeepCopy()
	if perr := r.patchStatus(ctx, app, next); perr != nil {
		r.log(ctx).Info("could not report the error on the app", "error", err.Error(), "status error", perr.Error())
		r.memory.hold(before, done, nil)
		return ctrl.Result{}, err
	}
	events, ms := r.memory.withUnsent(before, done, nil)
	r.emit(before, append(events, decide.StatusEvents(before.Status, next, nil)...), ms)
	recordAppState(app)
	return ctrl.Result{}, err
}

// applyFailedRecheck is how soon an app whose object the API server refused is tried again.
const applyFailedRecheck = 15 * time.Second

// conflictRetry is how soon a reconcile whose write met a conflict (409, AlreadyExists) runs again.
const conflictRetry = 200 * time.Millisecond

func (r *HighlyAvailableAppReconciler) log(ctx context.Context) logr.Logger {
	return logf.FromContext(ctx)
}

// patchStatus writes the status when it differs from what the app has, and only then: a status that
// differs in Go alone (an empty list where the app has none) makes an empty patch, which is not sent.
// What the app has is the cached copy's status, unless the operator wrote one since that copy was
// cached (the cache has not caught up with its own write yet): then it is the status the operator
// wrote, and a write carries the copy's resourceVersion, so that the API server refuses it (a
// conflict, looked at again shortly) while the copy is behind. A merge patch computed against a copy
// that is behind would leave on the server the fields that the copy and the new status agree on.
func (r *HighlyAvailableAppReconciler) patchStatus(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, next appsv1alpha1.HighlyAvailableAppStatus) error {
	written := r.memory.of(app)
	behind := written.statusVersion != "" && written.statusVersion != app.ResourceVersion
	digest := statusDigest(next)
	if behind && written.statusDigest == digest || !behind && equality.Semantic.DeepEqual(app.Status, next) {
		return nil
	}
	if written.before(app) {
		// The cache still shows the app as it was before that write: a patch over this version would
		// be refused, so it is not sent.
		return apierrors.NewConflict(appsv1alpha1.GroupVersion.WithResource("highlyavailableapps").GroupResource(),
			app.Name, errors.New("the cache has not seen the operator's last status write yet"))
	}
	from := app.ResourceVersion
	before := app.DeepCopy()
	app.Status = next
	var opts []client.MergeFromOption
	if behind {
		opts = append(opts, client.MergeFromWithOptimisticLock{})
	}
	data, err := client.MergeFromWithOptions(before, opts...).Data(app)
	if err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	if string(data) == "{}" {
		return nil
	}
	if err := r.Status().Patch(ctx, app, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	r.memory.wroteStatus(app, from, app.ResourceVersion, digest)
	return nil
}

// statusDigest tells one status from another, for the memory of the status last written.
func statusDigest(st appsv1alpha1.HighlyAvailableAppStatus) uint64 {
	data, err := json.Marshal(st)
	if err != nil {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write(data)
	return h.Sum64()
}

// observingSince is when this process began to watch the cluster and judge it: its first reconcile
// (decide.Input.ObservingSince). That comes once it leads and its caches have synced, not when the
// process started: a standby waiting for the Lease, or a new leader while the API server it lost is
// still coming back, sees nothing it could judge, and a rollout's time without progress does not
// run while nobody watched it.
func (r *HighlyAvailableAppReconciler) observingSince(now time.Time) time.Time {
	r.judgingSince.CompareAndSwap(0, now.UnixNano())
	return time.Unix(0, r.judgingSince.Load())
}

func (r *HighlyAvailableAppReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// onlyCreates lets through only the arrival of an object.
var onlyCreates = predicate.Funcs{
	UpdateFunc:  func(event.UpdateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// SetupWithManager watches the apps and, for every kind of the registry (kinds.All), the objects that
// concern them; the waker decides how soon each event wakes its app (watches).
func (r *HighlyAvailableAppReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexByApp(context.Background(), mgr.GetCache()); err != nil {
		return err
	}
	if err := indexByNode(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&appsv1alpha1.HighlyAvailableApp{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	for _, w := range r.watches() {
		if w.kind.MetadataOnly {
			b = b.WatchesMetadata(w.kind.New(), w.handler, builder.WithPredicates(w.predicates...))
		} else {
			b = b.Watches(w.kind.New(), w.handler, builder.WithPredicates(w.predicates...))
		}
	}
	// A node that stops renewing its Lease, or renews it again, wakes the apps with pods on it.
	b = b.WatchesRawSource(source.Channel(r.nodeLeases().wake, r.nodeApps()))
	return b.Named("highlyavailableapp").Complete(r)
}

// waker is how the reconciler's watches wake apps.
func (r *HighlyAvailableAppReconciler) waker() waker { return waker{window: r.WakeWindow} }

// nodeLeases is the reconciler's follower of the nodes' Leases, made on first use.
func (r *HighlyAvailableAppReconciler) nodeLeases() *nodeLeases {
	if r.leases == nil {
		r.leases = newNodeLeases(r.now)
		r.leases.dueAfter = r.leastNodeLoss
	}
	return r.leases
}

// watch is how the events of one kind's objects reach the apps.
type watch struct {
	kind       kinds.Kind
	handler    handler.EventHandler
	predicates []predicate.Predicate
}

// watches are the controller's watches, one per kind of the registry, as its Wake says: an object the
// app controls wakes it through its owner reference; a pod, a ReplicaSet or a claim (owned by the
// workload, not the app) through its instance label; a node the apps with pods on it; a StorageClass
// the apps that name it, so that an app waiting for its class goes on by itself once it exists.
func (r *HighlyAvailableAppReconciler) watches() []watch {
	w := r.waker()
	out := make([]watch, 0, len(kinds.All()))
	for _, k := range kinds.All() {
		watch := watch{kind: k}
		switch k.Wake {
		case kinds.WakeWorkload:
			watch.handler = w.handler(k.Name, ownerApp, wakeSoon, workloadUpdate)
		case kinds.WakeChange:
			watch.handler = w.handler(k.Name, ownerApp, wakeSoon, changedNow)
		case kinds.WakeRevision:
			watch.handler = w.handler(k.Name, ownerApp, wakeIgnore, revisionUpdate)
		case kinds.WakeEvery:
			watch.handler = w.handler(k.Name, ownerApp, wakeSoon, everyChange)
		case kinds.WakePod:
			watch.handler = w.handler(k.Name, instanceApp, wakeSoon, podUpdate)
		case kinds.WakeArrival:
			// A ReplicaSet is what makes a Deployment's pod the app's: its arrival in the cache may
			// come after the pod's. Only its arrival matters.
			watch.handler = w.handler(k.Name, instanceApp, wakeSoon, onlyCreated)
		case kinds.WakeClaim:
			watch.handler = w.handler(k.Name, instanceApp, wakeSoon, claimUpdate)
		case kinds.WakeVolume:
			watch.handler = w.handler(k.Name, r.volumeApp, wakeSoon, volumeUpdate)
		case kinds.WakeLease:
			watch.handler = r.nodeLeases().handler()
		case kinds.WakeNode:
			// A cordon, a drain taint, a zone going down or coming back.
			watch.handler, watch.predicates = r.nodeToApps(), []predicate.Predicate{nodeStateChanged}
		case kinds.WakeStorageClass:
			watch.handler, watch.predicates = r.classToApps(), []predicate.Predicate{onlyCreates}
		}
		out = append(out, watch)
	}
	return out
}

// classToApps maps a StorageClass to the apps whose storage names it, or the default class.
func (r *HighlyAvailableAppReconciler) classToApps() handler.EventHandler {
	return r.waker().mapped("StorageClass", func(ctx context.Context, obj client.Object) []reconcile.Request {
		apps := &appsv1alpha1.HighlyAvailableAppList{}
		// Only read: the cache's apps are not copied.
		if err := r.List(ctx, apps, client.UnsafeDisableDeepCopy); err != nil {
			return nil
		}
		var out []reconcile.Request
		for i := range apps.Items {
			for _, st := range apps.Items[i].Spec.Storage {
				if st.StorageClassName == nil || *st.StorageClassName == obj.GetName() {
					out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&apps.Items[i])})
					break
				}
			}
		}
		return out
	})
}
