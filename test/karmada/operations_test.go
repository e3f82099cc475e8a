package karmada

import (
	"slices"
	"testing"

	configv1alpha1 "github.com/karmada-io/karmada/pkg/apis/config/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// Every operation that applies to a HighlyAvailableApp is customized: without one Karmada would treat
// the app as a plain object (copied whole, always healthy, no aggregated status).
func TestEveryOperationIsCustomized(t *testing.T) {
	in := newInterpreter(t)
	gvk := appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp")
	for _, op := range []configv1alpha1.InterpreterOperation{
		configv1alpha1.InterpreterOperationInterpretReplica,
		configv1alpha1.InterpreterOperationReviseReplica,
		configv1alpha1.InterpreterOperationRetain,
		configv1alpha1.InterpreterOperationInterpretStatus,
		configv1alpha1.InterpreterOperationAggregateStatus,
		configv1alpha1.InterpreterOperationInterpretHealth,
		configv1alpha1.InterpreterOperationInterpretDependency,
	} {
		if !in.ci.HookEnabled(gvk, op) {
			t.Errorf("%s is not customized", op)
		}
	}
	// An app has one pod template: replicaResource describes it, components do not apply.
	if in.ci.HookEnabled(gvk, configv1alpha1.InterpreterOperationInterpretComponent) {
		t.Errorf("%s is customized", configv1alpha1.InterpreterOperationInterpretComponent)
	}
}

// Only a Stateless app is divided between clusters; the others are copied whole (0 replicas make the
// binding a non-workload, which Karmada never divides).
func TestGetReplicas(t *testing.T) {
	in := newInterpreter(t)
	for _, tc := range []struct {
		name         string
		app          *appsv1alpha1.HighlyAvailableApp
		replicas     int32
		requirements bool
	}{
		{name: "Stateless without replicas: the default of 3", app: newApp(1), replicas: 3, requirements: true},
		{name: "Stateless with 4 replicas", app: newApp(1, replicas(4)), replicas: 4, requirements: true},
		{name: "Stateless autoscaled", app: newApp(1, replicas(4), autoscaled), replicas: 4, requirements: true},
		{name: "Stateless scaled to 0", app: newApp(1, replicas(0)), replicas: 0, requirements: true},
		{name: "Stateful: never divided", app: newApp(1, stateful, replicas(3))},
		{name: "Daemon: one pod per node of each cluster", app: newApp(1, daemon)},
		{name: "Job: a run per cluster", app: newApp(1, job)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			validateAgainstCRD(t, toUnstructured(t, tc.app))
			got, requirements := in.getReplicas(toUnstructured(t, tc.app))
			if got != tc.replicas {
				t.Errorf("replicas = %d, want %d", got, tc.replicas)
			}
			if !tc.requirements {
				if requirements != nil {
					t.Errorf("requirements = %s, want none for an app that is not divided", describe(requirements))
				}
				return
			}
			if requirements == nil {
				t.Fatal("no replica requirements: the scheduler cannot tell which clusters have room")
			}
			requests := requirements.ResourceRequest
			if cpu := requests[corev1.ResourceCPU]; cpu.String() != "250m" {
				t.Errorf("cpu request = %s, want the container's 250m", cpu.String())
			}
			if memory := requests[corev1.ResourceMemory]; memory.String() != "128Mi" {
				t.Errorf("memory request = %s, want the container's 128Mi", memory.String())
			}
		})
	}
}

// A member's share becomes its spec.replicas and its scheduled-replicas annotation; nothing else of the
// copy changes.
func TestReviseReplica(t *testing.T) {
	in := newInterpreter(t)
	app := toUnstructured(t, newApp(2, replicas(5)))
	revised := in.reviseReplica(app, 2)
	validateAgainstCRD(t, revised)
	if got, _, _ := unstructured.NestedInt64(revised.Object, "spec", "replicas"); got != 2 {
		t.Errorf("spec.replicas = %d, want 2", got)
	}
	if got := revised.GetAnnotations()[annotationScheduledReplicas]; got != "2" {
		t.Errorf("annotation %s = %q, want \"2\"", annotationScheduledReplicas, got)
	}
	unstructured.RemoveNestedField(revised.Object, "metadata", "annotations")
	unstructured.RemoveNestedField(revised.Object, "spec", "replicas")
	unstructured.RemoveNestedField(app.Object, "spec", "replicas")
	if !equality.Semantic.DeepEqual(revised.Object, app.Object) {
		t.Errorf("ReviseReplica changed more than the replicas:\n got %s\nwant %s",
			describe(revised.Object), describe(app.Object))
	}
}

// Retention: an autoscaled member keeps its own spec.replicas; otherwise Karmada's share applies. The
// scheduled-replicas annotation always follows Karmada's share.
func TestRetain(t *testing.T) {
	in := newInterpreter(t)
	for _, tc := range []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		want int64
	}{
		{name: "autoscaled: the member's count stays", app: newApp(1, replicas(4), autoscaled), want: 7},
		{name: "not autoscaled: Karmada's share applies", app: newApp(1, replicas(4)), want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desired := in.reviseReplica(toUnstructured(t, tc.app), 2)
			observed := desired.DeepCopy()
			if err := unstructured.SetNestedField(observed.Object, int64(7), "spec", "replicas"); err != nil {
				t.Fatal(err)
			}
			observed.SetGeneration(9)
			observed.Object["status"] = map[string]any{"observedGeneration": int64(9), "readySummary": "7/7"}
			retained := in.retain(desired, observed)
			validateAgainstCRD(t, retained)
			if got, _, _ := unstructured.NestedInt64(retained.Object, "spec", "replicas"); got != tc.want {
				t.Errorf("spec.replicas = %d, want %d", got, tc.want)
			}
			if got := retained.GetAnnotations()[annotationScheduledReplicas]; got != "2" {
				t.Errorf("annotation %s = %q, want Karmada's share \"2\"", annotationScheduledReplicas, got)
			}
			unstructured.RemoveNestedField(retained.Object, "spec", "replicas")
			unstructured.RemoveNestedField(desired.Object, "spec", "replicas")
			if !equality.Semantic.DeepEqual(retained.Object, desired.Object) {
				t.Errorf("Retain kept more than the replicas:\n got %s\nwant %s",
					describe(retained.Object), describe(desired.Object))
			}
		})
	}
}

// What a member reports: its status as the operator wrote it, and what the aggregation needs to judge
// it.
func TestReflectStatus(t *testing.T) {
	in := newInterpreter(t)
	template := newApp(4, replicas(4))

	t.Run("a member that reported", func(t *testing.T) {
		obj := in.withReport(template, member{cluster: east, share: 2,
			report: stateless(settledDeployment(2), onRevision(3), nil)})
		reflected := decodeReflected(t, in.reflectStatus(obj))
		wantStatus, _, _ := unstructured.NestedMap(obj.Object, "status")
		for key, value := range wantStatus {
			if !equality.Semantic.DeepEqual(normalize(reflected[key]), normalize(value)) {
				t.Errorf("status.%s reflected as %s, want %s", key, describe(reflected[key]), describe(value))
			}
		}
		for key, want := range map[string]float64{
			"generation": memberGeneration, "resourceTemplateGeneration": 4, "scheduledReplicas": 2,
		} {
			if reflected[key] != want {
				t.Errorf("%s = %v, want %v", key, reflected[key], want)
			}
		}
	})
	t.Run("a member whose operator has not reported yet", func(t *testing.T) {
		reflected := decodeReflected(t, in.reflectStatus(in.withReport(template, member{cluster: east, share: 2})))
		want := map[string]any{
			"generation": float64(memberGeneration), "resourceTemplateGeneration": float64(4), "scheduledReplicas": float64(2),
		}
		if !equality.Semantic.DeepEqual(reflected, want) {
			t.Errorf("reflected %s, want %s", describe(reflected), describe(want))
		}
	})
	t.Run("an autoscaled member: the share is Karmada's, not its own count", func(t *testing.T) {
		app := newApp(4, replicas(4), autoscaled)
		obj := in.retain(in.memberCopy(app, member{share: 2}), withReplicas(t, in.memberCopy(app, member{share: 2}), 6))
		if reflected := decodeReflected(t, in.reflectStatus(obj)); reflected["scheduledReplicas"] != float64(2) {
			t.Errorf("scheduledReplicas = %v, want 2", reflected["scheduledReplicas"])
		}
	})
	t.Run("a Stateful member has no share", func(t *testing.T) {
		obj := in.withReport(newApp(1, stateful), member{cluster: east, share: -1,
			report: stateless(settledDeployment(3), onRevision(1), nil)})
		if reflected := decodeReflected(t, in.reflectStatus(obj)); reflected["scheduledReplicas"] != nil {
			t.Errorf("scheduledReplicas = %v, want none", reflected["scheduledReplicas"])
		}
	})
}

func withReplicas(t *testing.T, obj *unstructured.Unstructured, n int64) *unstructured.Unstructured {
	t.Helper()
	if err := unstructured.SetNestedField(obj.Object, n, "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	return obj
}

// normalize makes numbers comparable between an object built in Go (int64) and JSON (float64).
func normalize(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case map[string]any:
		out := map[string]any{}
		for k, item := range x {
			out[k] = normalize(item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = normalize(item)
		}
		return out
	default:
		return v
	}
}

// Health is what Karmada's failover and graceful eviction read: a member's copy is healthy once its
// operator has observed it and it serves.
func TestInterpretHealth(t *testing.T) {
	in := newInterpreter(t)
	web := newApp(2, replicas(4))
	for _, tc := range []struct {
		name    string
		app     *appsv1alpha1.HighlyAvailableApp
		member  member
		healthy bool
	}{
		{name: "serving every replica", app: web, healthy: true,
			member: member{share: 2, report: stateless(settledDeployment(2), onRevision(2), nil)}},
		{name: "no status yet", app: web, member: member{share: 2}},
		{name: "its operator has not observed the latest change", app: web,
			member: member{share: 2, behind: true, report: stateless(settledDeployment(2), onRevision(2), nil)}},
		{name: "rolling out, the disruption budget's minimum ready", app: web, healthy: true,
			member: member{share: 4, report: stateless(deployment{replicas: 5, ready: 4, updated: 2, available: 4,
				generation: 3, observed: 3}, status.Rollout{CurrentRevision: 1, UpdateRevision: 2, OnUpdateRevision: true}, nil)}},
		{name: "rolled back and serving: the failed revision would fail anywhere",
			app:     newApp(2, replicas(4), image(badImage)),
			healthy: true, member: member{share: 2, report: stateless(settledDeployment(2), rolledBack, nil)}},
		{name: "below the disruption budget's minimum", app: web,
			member: member{share: 4, report: stateless(deployment{replicas: 4, ready: 2, updated: 4, available: 2,
				generation: 2, observed: 2}, onRevision(2), nil)}},
		{name: "a Service of the same name in the cluster", app: web,
			member: member{share: 2, report: stateless(deployment{}, status.Rollout{},
				&status.Problem{Reason: appsv1alpha1.ReasonConflict, Message: "Service web exists and is not owned by the app"})}},
		{name: "Daemon covering its nodes", app: newApp(1, daemon), healthy: true,
			member: member{share: -1, report: daemonSet(3, 3)}},
		{name: "Daemon with no ready pod", app: newApp(1, daemon), member: member{share: -1, report: daemonSet(3, 0)}},
		{name: "Job running", app: newApp(1, job), healthy: true,
			member: member{share: -1, report: jobRun(status.RunActive, now.Time)}},
		{name: "Job failed: it would fail anywhere", app: newApp(1, job), healthy: true,
			member: member{share: -1, report: jobRun(status.RunFailed, now.Time)}},
		{name: "Job blocked by the cluster", app: newApp(1, job),
			member: member{share: -1, report: blockedJob}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.member.cluster = east
			obj := in.withReport(tc.app, tc.member)
			validateAgainstCRD(t, obj)
			if got := in.interpretHealth(obj); got != tc.healthy {
				t.Errorf("healthy = %v, want %v; status %s", got, tc.healthy, describe(obj.Object["status"]))
			}
		})
	}
}

// blockedJob is a Job app whose run the operator cannot create: a Job of the same name is not its own.
func blockedJob(_ testing.TB, app *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus {
	return status.ComputeJob(status.JobInput{App: app, Run: 1, RunName: "pi-1", Now: now,
		Problem: &status.Problem{Reason: appsv1alpha1.ReasonConflict,
			Message: "Job pi-1 exists and is not owned by the app"}})
}

// The ConfigMaps, Secrets, ServiceAccount and claims the pod template names go with the app.
func TestGetDependencies(t *testing.T) {
	in := newInterpreter(t)
	t.Run("a template that names them", func(t *testing.T) {
		app := newApp(1)
		pod := &app.Spec.Template.Spec
		pod.ServiceAccountName = "web"
		pod.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
		pod.Volumes = append(pod.Volumes,
			corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}},
			corev1.Volume{Name: "claim", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "web-cache"}}})
		pod.Containers[0].Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "web-token"}, Key: "token"}}}}
		got := in.getDependencies(toUnstructured(t, app))
		want := []configv1alpha1.DependentObjectReference{
			{APIVersion: "v1", Kind: "ConfigMap", Namespace: namespace, Name: "web-config"},
			{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: namespace, Name: "web-cache"},
			{APIVersion: "v1", Kind: "Secret", Namespace: namespace, Name: "registry"},
			{APIVersion: "v1", Kind: "Secret", Namespace: namespace, Name: "web-token"},
			{APIVersion: "v1", Kind: "ServiceAccount", Namespace: namespace, Name: "web"},
		}
		if !slices.Equal(got, want) {
			t.Errorf("dependencies = %s, want %s", describe(got), describe(want))
		}
	})
	t.Run("a template that names none", func(t *testing.T) {
		if got := in.getDependencies(toUnstructured(t, newApp(1))); len(got) != 0 {
			t.Errorf("dependencies = %s, want none", describe(got))
		}
	})
}
