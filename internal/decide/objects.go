package decide

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

// AnnotationAppliedHash records, on each generated object, the hash of what the operator last applied.
// With it a reconcile notices fields it stopped setting; with the subset comparison it notices drift.
const AnnotationAppliedHash = "apps.haoperator.dev/applied-hash"

// Kinds of the objects the operator generates.
const (
	KindDeployment  = "Deployment"
	KindStatefulSet = "StatefulSet"
	KindService     = "Service"
	KindPDB         = "PodDisruptionBudget"
	KindHPA         = "HorizontalPodAutoscaler"
)

// Ref names one object the app may generate.
type Ref struct {
	Kind string
	Name string
}

func (r Ref) String() string { return r.Kind + " " + r.Name }

// Candidate is an object name the app may use, and whether its spec wants it now. observe reads each:
// a wanted one also past the cache, so that an object of the same name the app does not own is found.
type Candidate struct {
	Ref
	Wanted bool
}

// Candidates lists every object the app may generate, wanted or not, so that observe reads them all
// and decide can create, keep or delete each.
func Candidates(app *appsv1alpha1.HighlyAvailableApp) []Candidate {
	stateful := app.Spec.AppType() == appsv1alpha1.Stateful
	out := []Candidate{
		{Ref{KindDeployment, workload.WorkloadName(app)}, !stateful},
		{Ref{KindStatefulSet, workload.WorkloadName(app)}, stateful},
		{Ref{KindPDB, app.Name}, workload.PodDisruptionBudget(app) != nil},
		{Ref{KindHPA, app.Name}, app.Spec.Autoscaling != nil},
	}
	svc := workload.Service(app)
	// The app's name is the Stateless client Service and the Stateful headless Service; <app>-client
	// is the Stateful client Service.
	out = append(out,
		Candidate{Ref{KindService, app.Name}, stateful || (svc != nil && svc.Name == app.Name)},
		Candidate{Ref{KindService, app.Name + "-client"}, stateful && svc != nil})
	return out
}

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
	// Object is the typed object (owner reference and applied hash set).
	Object client.Object
	// Apply is what is sent, as unstructured.
	Apply *unstructured.Unstructured
	// Create is true when no object of the name exists yet.
	Create bool
}

// prepare sets the owner and the applied-hash annotation, and tells whether the existing object
// already carries everything desired says, so that nothing needs to be sent.
func prepare(app *appsv1alpha1.HighlyAvailableApp, obj client.Object, existing client.Object) (Desired, bool, error) {
	obj.SetOwnerReferences([]metav1.OwnerReference{ownerReference(app)})
	ref := Ref{Kind: kindOf(obj), Name: obj.GetName()}
	want, err := toUnstructured(obj)
	if err != nil {
		return Desired{}, false, fmt.Errorf("encode %s: %w", ref, err)
	}
	want.SetAPIVersion(apiVersionOf(ref.Kind))
	want.SetKind(ref.Kind)
	hash, err := hashOf(want.Object)
	if err != nil {
		return Desired{}, false, err
	}
	annotations := want.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationAppliedHash] = hash
	want.SetAnnotations(annotations)
	obj.SetAnnotations(annotations)
	d := Desired{Ref: ref, Object: obj, Apply: want, Create: existing == nil}
	if existing == nil {
		return d, false, nil
	}
	have, err := toUnstructured(existing)
	if err != nil {
		return Desired{}, false, err
	}
	same := existing.GetAnnotations()[AnnotationAppliedHash] == hash &&
		isSubset(comparableSpec(want.Object["spec"]), have.Object["spec"]) &&
		isSubset(want.Object["metadata"], have.Object["metadata"])
	return d, same, nil
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return KindDeployment
	case *appsv1.StatefulSet:
		return KindStatefulSet
	case *corev1.Service:
		return KindService
	case *policyv1.PodDisruptionBudget:
		return KindPDB
	case *autoscalingv2.HorizontalPodAutoscaler:
		return KindHPA
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}

func apiVersionOf(kind string) string {
	switch kind {
	case KindDeployment, KindStatefulSet:
		return appsv1.SchemeGroupVersion.String()
	case KindPDB:
		return policyv1.SchemeGroupVersion.String()
	case KindHPA:
		return autoscalingv2.SchemeGroupVersion.String()
	}
	return corev1.SchemeGroupVersion.String()
}

// NewObject is an empty typed object of the kind, named, for reads and deletes.
func NewObject(ref Ref, namespace string) client.Object {
	var obj client.Object
	switch ref.Kind {
	case KindDeployment:
		obj = &appsv1.Deployment{}
	case KindStatefulSet:
		obj = &appsv1.StatefulSet{}
	case KindPDB:
		obj = &policyv1.PodDisruptionBudget{}
	case KindHPA:
		obj = &autoscalingv2.HorizontalPodAutoscaler{}
	default:
		obj = &corev1.Service{}
	}
	obj.SetName(ref.Name)
	obj.SetNamespace(namespace)
	return obj
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
// comparableSpec is the part of a desired spec that a live object read back shows: without the
// apiVersion and kind of the claim templates of a StatefulSet, which the API server keeps but a
// typed object decoded from protobuf (the cache's) does not carry. Compared with them, every
// StatefulSet would be applied again at each reconcile, a no-op the API server does not even count
// as a new generation, and the app would wait forever for its workload to observe one.
func comparableSpec(spec any) any {
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
