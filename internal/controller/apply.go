package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// FieldOwner is the field manager of every server-side apply the operator sends.
const FieldOwner = "ha-operator"

// AnnotationAppliedHash records, on each generated object, the hash of what the operator last applied.
// With it a reconcile notices fields it stopped setting; with the subset comparison it notices drift.
const AnnotationAppliedHash = "apps.haoperator.dev/applied-hash"

// ConflictError says that an object the app needs exists and is not controlled by the app.
type ConflictError struct {
	Kind, Name string
	Owner      string
}

func (e *ConflictError) Error() string {
	if e.Owner != "" {
		return fmt.Sprintf("%s %s already exists and is controlled by %s, not by this app", e.Kind, e.Name, e.Owner)
	}
	return fmt.Sprintf("%s %s already exists and is not owned by this app; the operator leaves it untouched", e.Kind, e.Name)
}

// applyResult says what apply did.
type applyResult int

const (
	unchanged applyResult = iota
	created
	updated
)

// apply makes the object in the cluster carry what desired says, with server-side apply, and sends
// nothing when it already does. It never touches an object that the app does not control: that is a
// ConflictError.
func (r *HighlyAvailableAppReconciler) apply(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, desired client.Object) (applyResult, error) {
	gvk, err := apiutil.GVKForObject(desired, r.Scheme)
	if err != nil {
		return unchanged, err
	}
	if err := controllerutil.SetControllerReference(app, desired, r.Scheme); err != nil {
		return unchanged, fmt.Errorf("set owner of %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	want, err := toUnstructured(desired)
	if err != nil {
		return unchanged, fmt.Errorf("encode %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	want.SetGroupVersionKind(gvk)
	hash, err := hashOf(want.Object)
	if err != nil {
		return unchanged, err
	}
	annotations := want.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationAppliedHash] = hash
	want.SetAnnotations(annotations)

	existing, err := r.getOwned(ctx, desired)
	if err != nil {
		return unchanged, err
	}
	result := created
	if existing != nil {
		if !isControlledBy(existing, app) {
			return unchanged, &ConflictError{Kind: gvk.Kind, Name: desired.GetName(), Owner: controllerName(existing)}
		}
		have, err := toUnstructured(existing)
		if err != nil {
			return unchanged, err
		}
		if existing.GetAnnotations()[AnnotationAppliedHash] == hash && isSubset(want.Object["spec"], have.Object["spec"]) &&
			isSubset(want.Object["metadata"], have.Object["metadata"]) {
			return unchanged, nil
		}
		result = updated
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(want), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return unchanged, fmt.Errorf("apply %s %s: %w", gvk.Kind, desired.GetName(), err)
	}
	return result, nil
}

// getOwned reads the object of desired's kind and name: from the cache, which only holds what the
// operator labels as its own, and, when the cache has none, from the API server, so that an object of
// the same name that the operator does not own is found and left alone. It returns nil when none
// exists.
func (r *HighlyAvailableAppReconciler) getOwned(ctx context.Context, desired client.Object) (client.Object, error) {
	existing, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", desired)
	}
	key := client.ObjectKeyFromObject(desired)
	err := r.Get(ctx, key, existing)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, existing)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return existing, nil
}

// deleteOwned deletes an object that the app no longer needs, if it exists and the app controls it.
// Only the cache is asked: what the operator generated carries its label, so what the cache does not
// hold is not the app's, and a settled app costs no request to the API server.
func (r *HighlyAvailableAppReconciler) deleteOwned(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, obj client.Object) (bool, error) {
	existing, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return false, fmt.Errorf("%T is not a client.Object", obj)
	}
	err := r.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	if client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("get %s: %w", obj.GetName(), err)
	}
	if err != nil || !isControlledBy(existing, app) {
		return false, nil
	}
	uid := existing.GetUID()
	if err := r.Delete(ctx, existing, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("delete %s: %w", obj.GetName(), err)
	}
	return true, nil
}

func isControlledBy(obj client.Object, app *appsv1alpha1.HighlyAvailableApp) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.UID == app.UID {
			return true
		}
	}
	return false
}

func controllerName(obj client.Object) string {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return ref.Kind + " " + ref.Name
		}
	}
	return ""
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}

func hashOf(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// isSubset tells whether every field that want sets has the same value in have. Fields only have
// sets (defaults the API server filled in, fields of other managers) do not matter; lists must match
// element by element.
func isSubset(want, have any) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, v := range w {
			if !isSubset(v, h[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		if len(w) != len(h) {
			return false
		}
		for i := range w {
			if !isSubset(w[i], h[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(want, have)
	}
}
