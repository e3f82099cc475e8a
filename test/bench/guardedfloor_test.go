package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The guarded floor applies the objects the floor creates, as apply configurations with their kind
// and without status, and leaves alone an object whose controller is not the app.
func TestGuardedFloorObjects(t *testing.T) {
	app := newApp(appNamespace, appName(0))
	app.UID = types.UID("app-uid")
	objects := floorObjects(app)
	owner := metav1.NewControllerRef(app, appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp"))
	for _, obj := range objects {
		obj.SetOwnerReferences([]metav1.OwnerReference{*owner})
		u, err := toApply(obj)
		if err != nil {
			t.Fatalf("toApply(%T): %v", obj, err)
		}
		if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() != app.Name {
			t.Errorf("%T: kind %q, apiVersion %q, name %q", obj, u.GetKind(), u.GetAPIVersion(), u.GetName())
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "status"); found {
			t.Errorf("%T: the apply configuration carries a status", obj)
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "metadata", "creationTimestamp"); found {
			t.Errorf("%T: the apply configuration carries a creationTimestamp", obj)
		}
		if !ownedBy(obj, app) {
			t.Errorf("%T: not owned by the app it was made for", obj)
		}
	}
	if _, ok := objects[0].(*appsv1.Deployment); !ok {
		t.Fatalf("the floor's first object is %T, not a Deployment", objects[0])
	}
	someoneElses := objects[1].DeepCopyObject().(client.Object)
	someoneElses.SetOwnerReferences(nil)
	if ownedBy(someoneElses, app) {
		t.Error("an object without an owner is taken as the app's")
	}
	other := *owner
	other.UID = "another-app"
	someoneElses.SetOwnerReferences([]metav1.OwnerReference{other})
	if ownedBy(someoneElses, app) {
		t.Error("an object of another app of the same name is taken as the app's")
	}
}
