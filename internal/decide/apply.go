package decide

import (
	"fmt"
	"maps"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
)

// Ref names one object the app may generate.
type Ref struct {
	Kind string
	Name string
}

func (r Ref) String() string { return r.Kind + " " + r.Name }

// ownerReference makes the app the controller of what it generates.
func ownerReference(app *appsv1alpha1.HighlyAvailableApp) metav1.OwnerReference {
	gvk := appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp")
	return metav1.OwnerReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: app.Name,
		UID: app.UID, Controller: new(true), BlockOwnerDeletion: new(true)}
}

// IsControlledBy tells whether the app is the object's controller.
func IsControlledBy(obj metav1.Object, app *appsv1alpha1.HighlyAvailableApp) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == app.UID
}

// controllerName names the object's controller, "" when it has none.
func controllerName(obj metav1.Object) string {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		return ref.Kind + " " + ref.Name
	}
	return ""
}

// ConflictMessage says that an object the app needs exists and is not the app's.
func ConflictMessage(kind, name string, obj metav1.Object) string {
	if owner := controllerName(obj); owner != "" {
		return fmt.Sprintf("%s %s already exists and is controlled by %s, not by this app", kind, name, owner)
	}
	return fmt.Sprintf("%s %s already exists and is not owned by this app; the operator leaves it untouched", kind, name)
}

// Desired is an object to apply, encoded for server-side apply.
type Desired struct {
	Ref
	// Object is the typed object (owner reference set), with the managed-fields entry the cache will
	// show once it is applied (AppliedEntry).
	Object client.Object
	// Apply is what is sent, as unstructured.
	Apply *unstructured.Unstructured
	// Create is true when no object of the name exists yet.
	Create bool
}

// prepare sets the owner, and tells whether the existing object already carries everything desired
// says, so that nothing needs to be sent: FieldManager's applies set the same fields (none dropped,
// none added) and each desired value is there.
func prepare(app *appsv1alpha1.HighlyAvailableApp, obj client.Object, existing client.Object) (Desired, bool, error) {
	obj.SetOwnerReferences([]metav1.OwnerReference{ownerReference(app)})
	kind, ok := kinds.ByName(kinds.Of(obj))
	if !ok || !kind.Generated {
		return Desired{}, false, fmt.Errorf("encode %s %s: not a kind the operator generates", kinds.Of(obj), obj.GetName())
	}
	ref := Ref{Kind: kind.Name, Name: obj.GetName()}
	want, err := toUnstructured(obj)
	if err != nil {
		return Desired{}, false, fmt.Errorf("encode %s: %w", ref, err)
	}
	want.SetAPIVersion(kind.APIVersion())
	want.SetKind(kind.Name)
	// Fields that cannot be typed match nothing: the object is applied, and the API server judges it.
	digest, err := AppliedDigest(want)
	if err != nil {
		digest = ""
	}
	obj.SetManagedFields([]metav1.ManagedFieldsEntry{AppliedEntry(want.GetAPIVersion(), digest)})
	d := Desired{Ref: ref, Object: obj, Apply: want, Create: existing == nil}
	if existing == nil || digest == "" || AppliedDigestOf(existing) != digest {
		return d, false, nil
	}
	have, err := toUnstructured(existing)
	if err != nil {
		return Desired{}, false, err
	}
	same := isSubset(comparable(want.Object["spec"]), have.Object["spec"]) &&
		isSubset(want.Object["metadata"], have.Object["metadata"]) && sameSelector(want, have)
	return d, same, nil
}

// sameSelector compares a Service's selector whole: it is one atomic field, so a key the operator no
// longer sets stays until the selector is applied again, which isSubset would not see.
func sameSelector(want, have *unstructured.Unstructured) bool {
	if want.GetKind() != kinds.Service {
		return true
	}
	w, _, _ := unstructured.NestedStringMap(want.Object, "spec", "selector")
	h, _, _ := unstructured.NestedStringMap(have.Object, "spec", "selector")
	return maps.Equal(w, h)
}

// comparable is a spec without what a cached object may have lost: the claim templates of a
// StatefulSet carry apiVersion and kind when sent, but a cached StatefulSet (decoded from protobuf)
// has them empty. Without this, a Stateful app's StatefulSet would be applied again on every
// reconcile.
func comparable(spec any) any {
	m, ok := spec.(map[string]any)
	if !ok {
		return spec
	}
	templates, ok := m["volumeClaimTemplates"].([]any)
	if !ok {
		return spec
	}
	out := make(map[string]any, len(m))
	maps.Copy(out, m)
	stripped := make([]any, len(templates))
	for i, t := range templates {
		tm, ok := t.(map[string]any)
		if !ok {
			stripped[i] = t
			continue
		}
		c := make(map[string]any, len(tm))
		for k, v := range tm {
			if k != "apiVersion" && k != "kind" {
				c[k] = v
			}
		}
		stripped[i] = c
	}
	out["volumeClaimTemplates"] = stripped
	return out
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	return u, nil
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
