package decide

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The digest follows the set of fields an apply sets, not their values: a changed value is the
// subset comparison's to find, a field added or dropped is the digest's.
func TestAppliedDigestFollowsTheFieldsNotTheValues(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
	digest := func(change func(*corev1.Service)) string {
		t.Helper()
		svc := ClientService(app)
		change(svc)
		d, _, err := prepare(app, svc, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppliedDigest(d.Apply)
		if err != nil {
			t.Fatal(err)
		}
		if got == "" || AppliedDigestOf(d.Object) != got {
			t.Fatalf("the desired object carries the digest %q, want %q", AppliedDigestOf(d.Object), got)
		}
		return got
	}
	base := digest(func(*corev1.Service) {})
	if again := digest(func(*corev1.Service) {}); again != base {
		t.Errorf("the digest of the same object changed: %s, then %s", base, again)
	}
	if v := digest(func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 }); v == base {
		// The port is the key of its list entry: a new key is a new field.
		t.Errorf("a new port keeps the digest %s", v)
	}
	if v := digest(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"other": "value"} }); v != base {
		// The selector is one atomic field: its keys are values, compared by carries.
		t.Errorf("a selector of other keys changed the digest: %s, was %s", v, base)
	}
	if v := digest(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }); v != base {
		t.Errorf("a changed value changed the digest: %s, was %s", v, base)
	}
	if v := digest(func(s *corev1.Service) { s.Annotations = map[string]string{"example.com/mark": "x"} }); v == base {
		t.Errorf("an added annotation keeps the digest %s", v)
	}
}

// An object is applied again when a value differs, or when the operator's applies set other fields
// on it (a field it no longer sets, or none of its applies at all) though every desired value is
// there; not for what only the live object has.
func TestPrepareAppliesWhenTheFieldsDiffer(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
	d, _, err := prepare(app, ClientService(app), nil)
	if err != nil {
		t.Fatal(err)
	}
	live := d.Object.DeepCopyObject().(*corev1.Service)
	if _, same, _ := prepare(app, ClientService(app), live); !same {
		t.Fatal("the object as applied needs another apply")
	}
	live.Spec.Type = corev1.ServiceTypeNodePort
	if _, same, _ := prepare(app, ClientService(app), live); same {
		t.Error("an object with another value is not applied")
	}
	live = d.Object.DeepCopyObject().(*corev1.Service)
	live.Spec.Selector["left-over"] = "x"
	if _, same, _ := prepare(app, ClientService(app), live); same {
		t.Error("a selector with a key the operator does not set is not applied: an atomic map is compared whole")
	}
	live = d.Object.DeepCopyObject().(*corev1.Service)
	live.Spec.ClusterIP, live.Spec.SessionAffinity = "10.0.0.7", corev1.ServiceAffinityNone
	live.Annotations = map[string]string{"someone.example.com/note": "kept"}
	if _, same, _ := prepare(app, ClientService(app), live); !same {
		t.Error("the API server's defaults and another manager's annotation make the object applied again")
	}
	live.ManagedFields = []metav1.ManagedFieldsEntry{AppliedEntry("v1", "another-set")}
	if _, same, _ := prepare(app, ClientService(app), live); same {
		t.Error("an object whose applied fields differ is not applied")
	}
	live.ManagedFields = nil
	if _, same, _ := prepare(app, ClientService(app), live); same {
		t.Error("an object the operator never applied is not applied")
	}
}
