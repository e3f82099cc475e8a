package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

func TestStripForCache(t *testing.T) {
	for _, tc := range []struct {
		name            string
		annotations     map[string]string
		wantAnnotations map[string]string
	}{
		{"no annotations", nil, nil},
		{"only last-applied", map[string]string{lastAppliedAnnotation: `{"kind":"Pod"}`}, nil},
		{
			"last-applied among others",
			map[string]string{lastAppliedAnnotation: `{"kind":"Pod"}`, "apps.haoperator.dev/retry": "1"},
			map[string]string{"apps.haoperator.dev/retry": "1"},
		},
		{"others kept", map[string]string{"a": "b"}, map[string]string{"a": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Name: "web-1", Labels: map[string]string{"app": "web"}, Annotations: tc.annotations,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
			}}
			out, err := stripForCache(pod)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := out.(*corev1.Pod)
			if !ok {
				t.Fatalf("stripForCache returned %T, want *corev1.Pod", out)
			}
			if got.ManagedFields != nil {
				t.Errorf("managedFields = %v, want none", got.ManagedFields)
			}
			if len(got.Annotations) != len(tc.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", got.Annotations, tc.wantAnnotations)
			}
			for k, v := range tc.wantAnnotations {
				if got.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
				}
			}
			if got.Name != "web-1" || got.Labels["app"] != "web" {
				t.Errorf("name or labels changed: %s %v", got.Name, got.Labels)
			}
		})
	}
	t.Run("a tombstone passes through", func(t *testing.T) {
		in := toolscache.DeletedFinalStateUnknown{Key: "shop/web-1"}
		out, err := stripForCache(in)
		if err != nil || out != in {
			t.Errorf("stripForCache(tombstone) = %v, %v", out, err)
		}
	})
}
