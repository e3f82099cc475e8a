package controller

import (
	"maps"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/haoperator/ha-operator/internal/rollout"
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

func TestTrimPodKeepsWhatTheOperatorReads(t *testing.T) {
	pod := runningPod()
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	pod.Annotations = map[string]string{lastAppliedAnnotation: "{}", "controller.kubernetes.io/pod-deletion-cost": "5"}
	pod.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-x", UID: "rs"}}
	pod.Spec.Containers = []corev1.Container{{
		Name: "web", Image: "nginx:1.9.1",
		Env:       []corev1.EnvVar{{Name: "HA_PEERS", Value: "web-0,web-1,web-2"}},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
	}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data"}}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready"}}
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.244.1.8"}}
	pod.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}}
	pod.Status.ContainerStatuses[0].RestartCount = 4

	out, err := trimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := out.(*corev1.Pod)
	if !podSignature(trimmed).equal(podSignature(pod)) {
		t.Errorf("the signature changed: %+v, want %+v", podSignature(trimmed), podSignature(pod))
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if got, want := rollout.PodFailure(trimmed, now, rollout.Tolerances{}), rollout.PodFailure(pod, now, rollout.Tolerances{}); got != want {
		t.Errorf("the failure verdict changed: %+v, want %+v", got, want)
	}
	if len(trimmed.OwnerReferences) != 1 || trimmed.OwnerReferences[0].UID != "rs" {
		t.Errorf("owners lost: %v", trimmed.OwnerReferences)
	}
	if trimmed.ManagedFields != nil || trimmed.Spec.Volumes != nil || trimmed.Spec.Tolerations != nil ||
		trimmed.Spec.Containers[0].Env != nil || trimmed.Status.PodIPs != nil {
		t.Errorf("kept what nobody reads: %+v", trimmed)
	}
	if want := map[string]string{"controller.kubernetes.io/pod-deletion-cost": "5"}; !maps.Equal(trimmed.Annotations, want) {
		t.Errorf("annotations = %v, want %v", trimmed.Annotations, want)
	}
	if pod.Annotations[lastAppliedAnnotation] == "" {
		t.Error("trimPod changed the object it was given")
	}
}

func TestTrimReplicaSetKeepsItsOwner(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-x", UID: "rs", Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: "d", Controller: new(true)}}},
		Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web"}}}}},
	}
	out, err := trimReplicaSet(rs)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := out.(*appsv1.ReplicaSet)
	if !metav1.IsControlledBy(trimmed, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{UID: "d"}}) || trimmed.UID != "rs" {
		t.Errorf("lost its identity or owner: %+v", trimmed.ObjectMeta)
	}
	if len(trimmed.Spec.Template.Spec.Containers) != 0 {
		t.Error("kept the template")
	}
}
