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
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// HighlyAvailableAppReconciler turns a HighlyAvailableApp into its workload, Services, disruption
// budget and autoscaler, rolls failed updates back and reports the app's availability.
type HighlyAvailableAppReconciler struct {
	client.Client
	// APIReader reads past the cache, which only holds the operator's own objects, to find objects of
	// the same name that it must not touch.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  recorder.EventRecorder
	// Options are the cluster facts the builders need.
	Options workload.Options
	// Now is the clock; tests may set it.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=apps.haoperator.dev,resources=highlyavailableapps,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps.haoperator.dev,resources=highlyavailableapps/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;controllerrevisions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=storage.k8s.io,resources=storageclasses,verbs=get;list;watch
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one app's objects to what its spec asks for and reports what it observes.
func (r *HighlyAvailableAppReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
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
	switch app.Spec.AppType() {
	case appsv1alpha1.Daemon:
		return r.reconcileDaemon(ctx, app)
	case appsv1alpha1.Job:
		return r.reconcileJob(ctx, app)
	}

	pods, err := r.listPods(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	current, err := r.getWorkload(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan, err := r.planRollout(ctx, app, current, pods)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("plan rollout: %w", err)
	}
	problem, err := r.applyObjects(ctx, app, plan, current, pods)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.afterApply(ctx, app, plan, pods); err != nil {
		return ctrl.Result{}, err
	}

	current, err = r.getWorkload(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	readyPods, err := r.placeReadyPods(ctx, pods)
	if err != nil {
		return ctrl.Result{}, err
	}
	in := status.Input{App: app, Workload: observeWorkload(current), ReadyPods: readyPods,
		Rollout: plan.status, Problem: problem, Now: metav1.NewTime(r.now())}
	if svc := workload.Service(app); svc != nil {
		in.Service = svc.Name
	}
	next := status.Compute(in)
	r.reportProblem(app, problem)
	r.reportAvailabilityChange(app, next)
	if err := r.patchStatus(ctx, app, next); err != nil {
		return ctrl.Result{}, err
	}
	recordAppState(app, next)
	log.V(1).Info("reconciled", "ready", next.ReadySummary, "revision", next.CurrentRevision, "resilience", next.Resilience)
	return ctrl.Result{RequeueAfter: plan.requeueAfter}, nil
}

// applyObjects applies every object the app needs and deletes those it no longer needs. An object of
// the same name that the app does not own is left alone and returned as the problem to report.
func (r *HighlyAvailableAppReconciler) applyObjects(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	plan *rolloutPlan, current client.Object, pods []corev1.Pod) (*status.Problem, error) {
	var problem *status.Problem
	stateful := app.Spec.AppType() == appsv1alpha1.Stateful

	var desired, unwanted []client.Object
	if stateful {
		step, p, err := r.checkStorage(ctx, app, current)
		switch {
		case err != nil || step == storageRefused:
			return p, err
		case step == storageApply:
			desired = append(desired, workload.StatefulSet(app, plan.template, r.partition(app, plan, pods)))
		case step == storageWait:
			plan.requeueAfter = storageRecreatePoll
		}
		desired = append(desired, workload.HeadlessService(app))
	} else {
		desired = append(desired, workload.Deployment(app, plan.template))
	}
	if svc := workload.Service(app); svc != nil {
		desired = append(desired, svc)
	} else {
		unwanted = append(unwanted, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: workload.ServiceName(app), Namespace: app.Namespace}})
	}
	if !stateful {
		// A Stateless app's client Service is named after the app; a Stateful app's is <app>-client.
		unwanted = append(unwanted, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: app.Name + "-client", Namespace: app.Namespace}})
	}
	if pdb := workload.PodDisruptionBudget(app); pdb != nil {
		desired = append(desired, pdb)
	} else {
		unwanted = append(unwanted, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace}})
	}
	if hpa := workload.HorizontalPodAutoscaler(app); hpa != nil {
		desired = append(desired, hpa)
	} else {
		unwanted = append(unwanted, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace}})
	}

	for _, obj := range desired {
		kind := kindOf(obj)
		res, err := r.apply(ctx, app, obj)
		var conflict *ConflictError
		switch {
		case errors.As(err, &conflict):
			if problem == nil {
				problem = &status.Problem{Reason: appsv1alpha1.ReasonConflict, Message: conflict.Error()}
			}
		case err != nil:
			return nil, err
		case res == created:
			r.event(app, corev1.EventTypeNormal, ReasonCreated, "Create", "created %s %s", kind, obj.GetName())
		case res == updated:
			r.event(app, corev1.EventTypeNormal, ReasonUpdated, "Update", "updated %s %s", kind, obj.GetName())
		}
	}
	for _, obj := range unwanted {
		deleted, err := r.deleteOwned(ctx, app, obj)
		if err != nil {
			return nil, err
		}
		if deleted {
			r.event(app, corev1.EventTypeNormal, ReasonDeleted, "Delete", "deleted %s %s: no longer needed", kindOf(obj), obj.GetName())
		}
	}
	return problem, nil
}

// getWorkload reads the app's Deployment or StatefulSet from the cache; nil when there is none or it
// is not the app's.
func (r *HighlyAvailableAppReconciler) getWorkload(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (client.Object, error) {
	var obj client.Object = &appsv1.Deployment{}
	if app.Spec.AppType() == appsv1alpha1.Stateful {
		obj = &appsv1.StatefulSet{}
	}
	err := r.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workload.WorkloadName(app)}, obj)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("get workload: %w", err)
	}
	if err != nil || !isControlledBy(obj, app) {
		return nil, nil
	}
	return obj, nil
}

func observeWorkload(obj client.Object) status.Workload {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return status.FromDeployment(w)
	case *appsv1.StatefulSet:
		return status.FromStatefulSet(w)
	}
	return status.Workload{}
}

// listPods lists the app's pods from the cache.
func (r *HighlyAvailableAppReconciler) listPods(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) ([]corev1.Pod, error) {
	list := &corev1.PodList{}
	if err := r.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app))); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	return list.Items, nil
}

// placeReadyPods tells on which node and in which zone each ready pod runs.
func (r *HighlyAvailableAppReconciler) placeReadyPods(ctx context.Context, pods []corev1.Pod) ([]status.PodPlace, error) {
	var out []status.PodPlace
	zones := map[string]string{}
	for i := range pods {
		p := &pods[i]
		if !isPodReady(p) || p.Spec.NodeName == "" || !p.DeletionTimestamp.IsZero() {
			continue
		}
		zone, ok := zones[p.Spec.NodeName]
		if !ok {
			node := &metav1.PartialObjectMetadata{}
			node.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Node"))
			err := r.Get(ctx, client.ObjectKey{Name: p.Spec.NodeName}, node)
			if client.IgnoreNotFound(err) != nil {
				return nil, fmt.Errorf("get node %s: %w", p.Spec.NodeName, err)
			}
			zone = node.Labels[workload.ZoneTopologyKey]
			zones[p.Spec.NodeName] = zone
		}
		out = append(out, status.PodPlace{Node: p.Spec.NodeName, Zone: zone})
	}
	return out, nil
}

func isPodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// patchStatus writes the status when it differs from what the app has, and only then.
func (r *HighlyAvailableAppReconciler) patchStatus(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, next appsv1alpha1.HighlyAvailableAppStatus) error {
	if equality.Semantic.DeepEqual(app.Status, next) {
		return nil
	}
	before := app.DeepCopy()
	app.Status = next
	if err := r.Status().Patch(ctx, app, client.MergeFrom(before)); err != nil {
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

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *corev1.Service:
		return "Service"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	case *autoscalingv2.HorizontalPodAutoscaler:
		return "HorizontalPodAutoscaler"
	case *appsv1.DaemonSet:
		return "DaemonSet"
	case *batchv1.Job:
		return "Job"
	case *batchv1.CronJob:
		return "CronJob"
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}

// SetupWithManager watches the apps and everything they own. Pods are owned by ReplicaSets or
// StatefulSets, not by the app, so they are mapped to their app through its instance label.
func (r *HighlyAvailableAppReconciler) SetupWithManager(mgr ctrl.Manager) error {
	podToApp := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		name := obj.GetLabels()[appsv1alpha1.LabelInstance]
		if name == "" || obj.GetLabels()[appsv1alpha1.LabelManagedBy] != appsv1alpha1.ManagedByValue {
			return nil
		}
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&appsv1alpha1.HighlyAvailableApp{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&appsv1.Deployment{}).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.Service{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&appsv1.ControllerRevision{}).
		Owns(&appsv1.DaemonSet{}).
		Owns(&batchv1.Job{}).
		Owns(&batchv1.CronJob{}).
		Watches(&corev1.Pod{}, podToApp).
		Named("highlyavailableapp").
		Complete(r)
}
