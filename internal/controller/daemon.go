package controller

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get;list;watch;create;update;patch;delete

// reconcileDaemon runs a Daemon app as a DaemonSet. The revision history, the failure detection from
// the pods and the automatic rollback are the Stateless ones (planRollout): the DaemonSet's pods carry
// the revision hash of the template like a Deployment's.
func (r *HighlyAvailableAppReconciler) reconcileDaemon(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	pods, err := r.listPods(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	current, err := r.getDaemonSet(ctx, app)
	if err != nil {
		return ctrl.Result{}, err
	}
	var currentObj client.Object
	if current != nil {
		currentObj = current
	}
	plan, err := r.planRollout(ctx, app, currentObj, pods)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("plan rollout: %w", err)
	}
	desired := []client.Object{workload.DaemonSet(app, plan.template)}
	var unwanted []client.Object
	svc := workload.DaemonService(app)
	if svc != nil {
		desired = append(desired, svc)
	} else {
		unwanted = append(unwanted, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: workload.ServiceName(app), Namespace: app.Namespace}})
	}
	problem, err := r.applyAll(ctx, app, desired, unwanted)
	if err != nil {
		return ctrl.Result{}, err
	}

	if current, err = r.getDaemonSet(ctx, app); err != nil {
		return ctrl.Result{}, err
	}
	readyPods, err := r.placeReadyPods(ctx, pods)
	if err != nil {
		return ctrl.Result{}, err
	}
	in := status.Input{App: app, ReadyPods: readyPods, Rollout: plan.status, Problem: problem, Now: metav1.NewTime(r.now())}
	var misscheduled int32
	if current != nil {
		in.Workload = status.FromDaemonSet(current)
		misscheduled = current.Status.NumberMisscheduled
	}
	if svc != nil {
		in.Service = svc.Name
	}
	next := status.ComputeDaemon(in, misscheduled)
	r.reportProblem(app, problem)
	r.reportAvailabilityChange(app, next)
	if err := r.patchStatus(ctx, app, next); err != nil {
		return ctrl.Result{}, err
	}
	recordAppState(app, next)
	log.V(1).Info("reconciled", "ready", next.ReadySummary, "revision", next.CurrentRevision, "resilience", next.Resilience)
	return ctrl.Result{RequeueAfter: plan.requeueAfter}, nil
}

// applyAll applies the desired objects and deletes the unwanted ones the app owns, with an Event for
// each change. An object of the same name that the app does not own is left alone and returned as
// the problem to report.
func (r *HighlyAvailableAppReconciler) applyAll(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp,
	desired, unwanted []client.Object) (*status.Problem, error) {
	var problem *status.Problem
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

// getDaemonSet reads the app's DaemonSet from the cache; nil when there is none or it is not the app's.
func (r *HighlyAvailableAppReconciler) getDaemonSet(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (*appsv1.DaemonSet, error) {
	ds := &appsv1.DaemonSet{}
	err := r.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: workload.WorkloadName(app)}, ds)
	if client.IgnoreNotFound(err) != nil {
		return nil, fmt.Errorf("get DaemonSet: %w", err)
	}
	if err != nil || !isControlledBy(ds, app) {
		return nil, nil
	}
	return ds, nil
}

// daemonSetRevision is the revision hash of the DaemonSet's template and whether every eligible node
// runs it, available, with no surge pod left.
func daemonSetRevision(ds *appsv1.DaemonSet) (hash string, settled bool) {
	s := ds.Status
	return ds.Spec.Template.Labels[rollout.LabelRevisionHash], s.ObservedGeneration >= ds.Generation &&
		s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.CurrentNumberScheduled == s.DesiredNumberScheduled &&
		s.NumberAvailable == s.DesiredNumberScheduled && s.NumberUnavailable == 0
}
