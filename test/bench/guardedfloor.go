package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/controller"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// guardedFloorPhase is the floor with status and with what the operator keeps for its users on top:
// the least an implementation costs that owns its objects by server-side apply, keeps a revision
// history and tells a person what happened. Beside the floor with status's objects and two status
// writes, for each new app it
//   - creates the objects by server-side apply, as the operator's field manager, each with the
//     operator's precondition that no object of its name exists (controller.IfAbsent): a plain apply
//     would take over an object of the same name that the app does not own;
//   - writes the first revision's record once, when the revision completes (what a rollback, or an
//     undo, reads; nothing reads it before);
//   - sends the Events a new app of the bench gets: the objects created and the rollout started (one
//     Event), the advice on its template (the bench's pods ask for no resources), and the rollout
//     complete.
//
// What it leaves out is the operator's alone: its cache, its queue, its decision, its pods' watch.
// Against it, the operator's ratio is the cost of being an operator; against the floor with status,
// the ratio adds the cost of the guarantees above.
const guardedFloorPhase = "floorguarded"

// guardedFieldOwner is the field manager of the guarded floor's applies.
const guardedFieldOwner = "bench-floor"

// guardedEvents counts the guarded floor's Events, which have names of their own.
var guardedEvents atomic.Int64

// floorCreateGuarded creates the app's objects as the operator does on its first reconcile: each
// object by a server-side apply that refuses one that exists, then the Events of the creation. It
// returns the revision record, built and not yet written.
func floorCreateGuarded(ctx context.Context, c client.Client, app *appsv1alpha1.HighlyAvailableApp,
	objects []client.Object) (*appsv1.ControllerRevision, error) {
	d, _ := objects[0].(*appsv1.Deployment)
	if d == nil {
		return nil, fmt.Errorf("the floor's first object is %T, not a Deployment", objects[0])
	}
	data := rollout.RevisionData{Template: app.Spec.Template, PodTemplate: d.Spec.Template}
	cr, err := rollout.NewRevision(app, "floor", 1, data)
	if err != nil {
		return nil, err
	}
	for _, obj := range objects {
		u, err := toApply(obj)
		if err != nil {
			return nil, err
		}
		err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(controller.IfAbsent(u)),
			client.FieldOwner(guardedFieldOwner), client.ForceOwnership)
		if apierrors.IsConflict(err) {
			// One of the name exists: the app's own (a step tried again), or someone else's, left alone.
			err = floorOwns(ctx, c, app, obj)
		}
		if err != nil {
			return nil, fmt.Errorf("apply %T %s: %w", obj, obj.GetName(), err)
		}
	}
	for _, e := range []struct{ kind, reason, action, note string }{
		{corev1.EventTypeNormal, appsv1alpha1.ReasonCreated, "Create",
			"created Deployment, Service, PodDisruptionBudget; rollout of revision 1 started"},
		{corev1.EventTypeWarning, appsv1alpha1.ReasonAdvice, "Check",
			"NoResourceRequests: the containers ask for no CPU or memory"},
	} {
		if err := sendFloorEvent(ctx, c, app, e.kind, e.reason, e.action, e.note); err != nil {
			return nil, err
		}
	}
	return cr, nil
}

// floorCompleteGuarded creates the revision record, marked complete, and tells the rollout complete.
func floorCompleteGuarded(ctx context.Context, c client.Client, app *appsv1alpha1.HighlyAvailableApp,
	cr *appsv1.ControllerRevision) error {
	rec := rollout.Record{Number: 1, Hash: "floor", Outcome: rollout.OutcomeComplete, Completed: true}
	marked, _ := rec.WriteTo(cr)
	// One that exists is this step's, tried again.
	if err := c.Create(ctx, marked); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the revision record: %w", err)
	}
	return sendFloorEvent(ctx, c, app, corev1.EventTypeNormal, appsv1alpha1.ReasonRolloutComplete, "Rollout",
		"revision 1 serves every replica")
}

// sendFloorEvent creates one Event (events.k8s.io/v1) about the app, as the operator's recorder does
// for an Event that starts no series.
func sendFloorEvent(ctx context.Context, c client.Client, app *appsv1alpha1.HighlyAvailableApp,
	kind, reason, action, note string) error {
	e := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: app.Namespace,
			Name: app.Name + ".floor" + strconv.FormatInt(guardedEvents.Add(1), 10)},
		EventTime:           metav1.NowMicro(),
		ReportingController: "bench-floor",
		ReportingInstance:   "bench-floor",
		Action:              action,
		Reason:              reason,
		Type:                kind,
		Note:                note,
		Regarding: corev1.ObjectReference{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp",
			Namespace: app.Namespace, Name: app.Name, UID: app.UID},
	}
	if err := c.Create(ctx, e); err != nil {
		return fmt.Errorf("send Event %s: %w", reason, err)
	}
	return nil
}

// floorOwns reads the object of obj's name and returns an error unless the app is its controller.
func floorOwns(ctx context.Context, c client.Client, app *appsv1alpha1.HighlyAvailableApp, obj client.Object) error {
	existing, err := c.Scheme().New(mustGVK(obj))
	if err != nil {
		return err
	}
	found, _ := existing.(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), found); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !ownedBy(found, app) {
		return errors.New("it exists and is not the app's: the floor leaves it alone")
	}
	return nil
}

// ownedBy says whether the app is the object's controller.
func ownedBy(obj client.Object, app *appsv1alpha1.HighlyAvailableApp) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.UID == app.UID
}

// toApply is the object as an apply configuration: its fields as unstructured, with its kind.
func toApply(obj client.Object) (*unstructured.Unstructured, error) {
	fields, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: fields}
	u.SetGroupVersionKind(mustGVK(obj))
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}

func mustGVK(obj runtime.Object) schema.GroupVersionKind {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		panic(fmt.Sprintf("the bench's scheme has no kind for %T: %v", obj, err))
	}
	return gvk
}
