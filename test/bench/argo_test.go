package main

import (
	"reflect"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestRolloutState(t *testing.T) {
	rollout := func(generation int64, replicas any, status map[string]any) *unstructured.Unstructured {
		r := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{}, "status": status}}
		if replicas != nil {
			r.Object["spec"].(map[string]any)["replicas"] = replicas
		}
		r.SetGeneration(generation)
		return r
	}
	healthy := func(observed string, available int64) map[string]any {
		return map[string]any{"observedGeneration": observed, "phase": "Healthy", "availableReplicas": available}
	}
	for _, tc := range []struct {
		name           string
		rollout        *unstructured.Unstructured
		current, ready bool
	}{
		{"no status yet", rollout(1, int64(3), nil), false, false},
		{"Healthy with every replica, status current", rollout(2, int64(3), healthy("2", 3)), true, true},
		{"status of the generation before", rollout(2, int64(3), healthy("1", 3)), false, false},
		{"a hash, as Argo Rollouts wrote before 0.10", rollout(1, int64(3), healthy("7f8d9c", 3)), false, false},
		{"a replica not yet available", rollout(1, int64(3), healthy("1", 2)), true, false},
		{"Progressing with every replica", rollout(1, int64(3), map[string]any{
			"observedGeneration": "1", "phase": "Progressing", "availableReplicas": int64(3)}), true, false},
		{"replicas defaulted to 1", rollout(1, nil, healthy("1", 1)), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			current, ready := rolloutState(tc.rollout)
			if current != tc.current || ready != tc.ready {
				t.Errorf("rolloutState = current %v, ready %v; want %v, %v", current, ready, tc.current, tc.ready)
			}
		})
	}
}

// TestArgoObjects checks that the Argo Rollouts phase creates the floor's objects with a Rollout in
// place of the Deployment, running the same pods.
func TestArgoObjects(t *testing.T) {
	app := newApp(appNamespace, appName(7))
	floor := floorObjects(app)
	objects, err := argoObjects(app)
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) != len(floor) {
		t.Fatalf("%d objects, want the floor's %d", len(objects), len(floor))
	}
	for i := range floor {
		if _, isDeployment := floor[i].(*appsv1.Deployment); !isDeployment && !reflect.DeepEqual(objects[i], floor[i]) {
			t.Errorf("object %d is %T %s, want the floor's %T %s",
				i, objects[i], objects[i].GetName(), floor[i], floor[i].GetName())
		}
	}
	d, ok := floor[0].(*appsv1.Deployment)
	if !ok {
		t.Fatalf("the floor's first object is %T, want a Deployment", floor[0])
	}
	r, ok := objects[0].(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("the first object is %T, want a Rollout", objects[0])
	}
	if r.GroupVersionKind() != rolloutKind || r.GetName() != d.Name || r.GetNamespace() != d.Namespace ||
		!reflect.DeepEqual(r.GetLabels(), d.Labels) {
		t.Errorf("Rollout %s %s/%s labels %v, want %s %s/%s labels %v", r.GroupVersionKind(), r.GetNamespace(),
			r.GetName(), r.GetLabels(), rolloutKind, d.Namespace, d.Name, d.Labels)
	}

	// The pods: the Rollout's template, replicas and selector read back as the Deployment's.
	var spec struct {
		Replicas *int32                 `json:"replicas"`
		Template corev1.PodTemplateSpec `json:"template"`
		Strategy map[string]any         `json:"strategy"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(r.Object["spec"].(map[string]any), &spec); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec.Template, d.Spec.Template) {
		t.Errorf("the Rollout's pod template differs from the Deployment's:\n%+v\nwant\n%+v", spec.Template, d.Spec.Template)
	}
	if spec.Replicas == nil || *spec.Replicas != *d.Spec.Replicas {
		t.Errorf("replicas %v, want %d", spec.Replicas, *d.Spec.Replicas)
	}
	selector, _, _ := unstructured.NestedStringMap(r.Object, "spec", "selector", "matchLabels")
	if !reflect.DeepEqual(selector, d.Spec.Selector.MatchLabels) {
		t.Errorf("selector %v, want %v", selector, d.Spec.Selector.MatchLabels)
	}

	// The strategy: a canary without steps, which Argo Rollouts requires instead of rollingUpdate,
	// with the Deployment's surge and unavailability.
	canary, ok := spec.Strategy["canary"].(map[string]any)
	if len(spec.Strategy) != 1 || !ok {
		t.Fatalf("strategy %v, want only a canary", spec.Strategy)
	}
	if _, steps := canary["steps"]; steps {
		t.Errorf("canary %v has steps, want none", canary)
	}
	rolling := d.Spec.Strategy.RollingUpdate
	for field, want := range map[string]string{
		"maxSurge": rolling.MaxSurge.String(), "maxUnavailable": rolling.MaxUnavailable.String(),
	} {
		if got := canary[field]; got == nil || intOrStringText(got) != want {
			t.Errorf("canary %s = %v, want %s", field, got, want)
		}
	}
}

func intOrStringText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}
