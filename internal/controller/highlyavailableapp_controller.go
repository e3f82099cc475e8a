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
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

	"github.com/go-logr/logr"
	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
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
	// the same name that it must not touch (confirmAbsent).
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  recorder.EventRecorder
	// Options are the cluster facts the builders need.
	Options workload.Options
	// Now is the clock; tests may set it.
	Now func() time.Time
	// issued remembers the revision numbers written, ahead of the cache.
	issued issuedRevisions
	// ObservingSince is when the operator started watching: update progress deadlines count from it
	// at the earliest (decide.Input.ObservingSince).
	ObservingSince time.Time
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
			forgetApp(req.Namespace, req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !app.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove what the app owns; claims stay unless
		// the StatefulSet's retention policy says otherwise.
		return ctrl.Result{}, nil
	}

	in, err := r.observe(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan := decide.Decide(in)
	if found, err := r.confirmAbsent(ctx, app, &in, &plan); err != nil {
		return ctrl.Result{}, err
	} else if found {
		plan = decide.Decide(in)
	}
	done, actErr := r.act(ctx, app, &plan)
	problem, requeue, retry := classify(actErr)
	if retry != nil {
		// A transient error: nothing is reported, the whole reconcile runs again with backoff.
		r.emit(app, done, nil)
		return ctrl.Result{}, retry
	}
	if problem != nil && plan.Problem == nil {
		plan.Problem = problem
		// The refusal is reported, not retried in a loop; but what the API server refuses can change
		// without the app changing (an admission plugin that has not yet learnt a new CRD, a policy
		// that is relaxed), so it is tried again now and then.
		plan.Requeue = applyFailedRecheck
	}
	next := report(app, &plan, metav1.NewTime(in.Now))
	before := app.DeepCopy()
	if err := r.patchStatus(ctx, app, next); err != nil {
		return ctrl.Result{}, err
	}
	// The status is persisted: now what happened may be told.
	r.emit(before, append(plan.Events, done...), plan.Metrics)
	r.reportProblem(before, plan.Problem)
	r.reportAvailabilityChange(before, next)
	recordAppState(app)
	r.log(ctx).V(1).Info("reconciled", "ready", next.ReadySummary, "revision", next.CurrentRevision, "resilience", next.Resilience)
	if requeue {
		// Someone else wrote the object a moment before: look again soon, without an error.
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return ctrl.Result{RequeueAfter: plan.Requeue}, nil
}

// applyFailedRecheck is how soon an app whose object the API server refused is tried again.
const applyFailedRecheck = 15 * time.Second

// conflictRetry is how soon a reconcile whose write met a conflict (409, AlreadyExists) runs again.
const conflictRetry = 200 * time.Millisecond

// report computes the app's status from the plan, as its type reads it.
func report(app *appsv1alpha1.HighlyAvailableApp, plan *decide.Plan, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	switch {
	case plan.Job != nil:
		in := *plan.Job
		in.Problem, in.Now = plan.Problem, now
		return status.ComputeJob(in)
	case plan.CronJob != nil:
		in := *plan.CronJob
		in.Problem, in.Now = plan.Problem, now
		return status.ComputeCronJob(in)
	}
	in := status.Input{App: app, Workload: plan.Workload, ReadyPods: plan.ReadyPods, ClusterZones: plan.ClusterZones,
		Service: plan.Service, Rollout: plan.Rollout, Problem: plan.Problem, Now: now}
	if app.Spec.AppType() == appsv1alpha1.Daemon {
		return status.ComputeDaemon(in, plan.Misscheduled)
	}
	if app.Spec.AppType() == appsv1alpha1.Job {
		// A Job app refused before its runs were looked at (a policy, a revision that cannot be
		// recorded).
		return status.ComputeJob(status.JobInput{App: app, Problem: plan.Problem, Now: now})
	}
	return status.Compute(in)
}

func (r *HighlyAvailableAppReconciler) log(ctx context.Context) logr.Logger {
	return logf.FromContext(ctx)
}

// patchStatus writes the status when it differs from what the app has, and only then: a status that
// differs in Go alone (an empty list where the app has none) makes an empty patch, which is not sent.
func (r *HighlyAvailableAppReconciler) patchStatus(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, next appsv1alpha1.HighlyAvailableAppStatus) error {
	if equality.Semantic.DeepEqual(app.Status, next) {
		return nil
	}
	before := app.DeepCopy()
	app.Status = next
	data, err := client.MergeFrom(before).Data(app)
	if err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	if string(data) == "{}" {
		return nil
	}
	if err := r.Status().Patch(ctx, app, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	return nil
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

// SetupWithManager watches the apps and everything they own; the waker decides how soon each event
// wakes its app. Pods are owned by ReplicaSets or StatefulSets, not by the app, so they are mapped to
// their app through its instance label; a StorageClass is mapped to the apps that name it, so that an
// app waiting for its class goes on by itself once the class exists.
func (r *HighlyAvailableAppReconciler) SetupWithManager(mgr ctrl.Manager) error {
	classToApps := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		apps := &appsv1alpha1.HighlyAvailableAppList{}
		if err := r.List(ctx, apps); err != nil {
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
	if err := indexByApp(context.Background(), mgr.GetCache()); err != nil {
		return err
	}
	w := waker{window: r.WakeWindow}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&appsv1alpha1.HighlyAvailableApp{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	for _, owned := range []struct {
		obj    client.Object
		update func(before, after client.Object) urgency
	}{
		{&appsv1.Deployment{}, workloadUpdate},
		{&appsv1.StatefulSet{}, workloadUpdate},
		{&appsv1.DaemonSet{}, workloadUpdate},
		{&corev1.Service{}, changedNow},
		{&policyv1.PodDisruptionBudget{}, changedNow},
		{&autoscalingv2.HorizontalPodAutoscaler{}, changedNow},
		{&appsv1.ControllerRevision{}, revisionUpdate},
		{&batchv1.Job{}, everyChange},
		{&batchv1.CronJob{}, everyChange},
	} {
		b = b.Watches(owned.obj, w.handler(ownerApp, owned.update))
	}
	return b.
		Watches(&corev1.Pod{}, w.handler(instanceApp, podUpdate)).
		// A ReplicaSet is what makes a Deployment's pod the app's: its arrival in the cache may come
		// after the pod's. Only its arrival matters, and only its metadata is read.
		WatchesMetadata(&appsv1.ReplicaSet{}, w.handler(instanceApp, onlyCreated)).
		Watches(&storagev1.StorageClass{}, classToApps, builder.WithPredicates(onlyCreates)).
		// A cordon, a drain taint, a zone going down or coming back.
		Watches(&corev1.Node{}, r.nodeToApps(), builder.WithPredicates(nodeStateChanged)).
		Named("highlyavailableapp").
		Complete(r)
}
