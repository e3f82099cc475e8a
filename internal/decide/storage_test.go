package decide

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
	"github.com/haoperator/ha-operator/internal/workload"
)

// TestStorageChecks runs each storage check alone on the input it exists for, and on one it lets pass.
func TestStorageChecks(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("2Gi"),
		StorageClassName: new("fast")}}
	withStorage := func(mutate func(*appsv1alpha1.StorageSpec)) *appsv1alpha1.HighlyAvailableApp {
		a := app.DeepCopy()
		mutate(&a.Spec.Storage[0])
		return a
	}
	// The StatefulSet as it exists: a 2Gi claim template of class fast, ReadWriteOnce.
	sts := workload.StatefulSet(app, workload.PodTemplate(app, workload.Options{}), 0)
	owned := func(a *appsv1alpha1.HighlyAvailableApp) map[string]*corev1.PersistentVolumeClaim {
		out := map[string]*corev1.PersistentVolumeClaim{}
		for ord := range int32(3) {
			name := workload.ClaimName(a, "data", ord)
			out[name] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: workload.Labels(a)}}
		}
		return out
	}
	input := func(a *appsv1alpha1.HighlyAvailableApp, existing *appsv1.StatefulSet, classes map[string]bool) storageInput {
		return storageInput{app: a, sts: existing, claims: owned(a), classes: classes, def: "fast", replicas: 3}
	}
	fast := map[string]bool{"fast": true}
	fixed := map[string]bool{"fast": false}
	tests := []struct {
		name   string
		check  check.Func[storageInput]
		fails  storageInput
		passes storageInput
		reason string
	}{
		{"a size of zero", checkSizes, input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.Size = resource.MustParse("0") }), nil, fast),
			input(app, nil, fast), appsv1alpha1.ReasonInvalidStorage},
		{"a claim of another app under the name", checkClaimOwners, func() storageInput {
			in := input(app, nil, fast)
			in.claims["data-web-0"].Labels = map[string]string{appsv1alpha1.LabelInstance: "other", appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue}
			return in
		}(), input(app, nil, fast), appsv1alpha1.ReasonConflict},
		{"a class that does not exist for a claim to create", checkClassesExist, func() storageInput {
			in := input(app, nil, map[string]bool{})
			delete(in.claims, "data-web-2")
			return in
		}(), input(app, nil, fast), appsv1alpha1.ReasonStorageClassNotFound},
		{"access modes changed", checkAccessModes, input(withStorage(func(s *appsv1alpha1.StorageSpec) {
			s.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}), sts, fast), input(app, sts, fast), appsv1alpha1.ReasonStorageChangeRefused},
		{"the class changed", checkClassChange, input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.StorageClassName = new("slow") }), sts, fast),
			input(app, sts, fast), appsv1alpha1.ReasonStorageChangeRefused},
		{"a smaller size", checkShrink, input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.Size = resource.MustParse("1Gi") }), sts, fast),
			input(app, sts, fast), appsv1alpha1.ReasonStorageChangeRefused},
		{"an entry removed", checkRemoved, input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.Name = "logs" }), sts, fast),
			input(app, sts, fast), appsv1alpha1.ReasonStorageChangeRefused},
		{"a larger size on a class without expansion", checkExpansion,
			input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.Size = resource.MustParse("4Gi") }), sts, fixed),
			input(withStorage(func(s *appsv1alpha1.StorageSpec) { s.Size = resource.MustParse("4Gi") }), sts, fast),
			appsv1alpha1.ReasonStorageChangeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, message, failed := tc.check(tc.fails)
			if !failed || reason != tc.reason || message == "" {
				t.Errorf("on the input it exists for: %q %q %v, want reason %s", reason, message, failed, tc.reason)
			}
			if reason, message, failed := tc.check(tc.passes); failed {
				t.Errorf("on an input it lets pass: %q %q", reason, message)
			}
		})
	}
}
