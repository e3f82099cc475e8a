package karmada

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	configv1alpha1 "github.com/karmada-io/karmada/pkg/apis/config/v1alpha1"
	workv1alpha2 "github.com/karmada-io/karmada/pkg/apis/work/v1alpha2"
	"github.com/karmada-io/karmada/pkg/resourceinterpreter/customized/declarative"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// customizationPath is the file users apply to the Karmada control plane: the tests load this very file.
var customizationPath = filepath.Join("..", "..", "config", "karmada", "resourceinterpretercustomization.yaml")

// Annotations Karmada, and the customization's replica revision, put on a member cluster's copy.
const (
	annotationTemplateGeneration = "resourcetemplate.karmada.io/generation"
	annotationScheduledReplicas  = "apps.haoperator.dev/karmada-replicas"
)

// interpreter runs the customization's scripts through Karmada's declarative interpreter, the code
// karmada-controller-manager runs them with; every error of a script fails the test.
type interpreter struct {
	t  testing.TB
	ci *declarative.ConfigurableInterpreter
}

// loadCustomization reads and decodes config/karmada's ResourceInterpreterCustomization.
func loadCustomization(t testing.TB) *configv1alpha1.ResourceInterpreterCustomization {
	t.Helper()
	raw, err := os.ReadFile(customizationPath)
	if err != nil {
		t.Fatalf("read the customization: %v", err)
	}
	customization := &configv1alpha1.ResourceInterpreterCustomization{}
	if err := yaml.UnmarshalStrict(raw, customization); err != nil {
		t.Fatalf("decode the customization: %v", err)
	}
	return customization
}

func newInterpreter(t testing.TB) *interpreter {
	t.Helper()
	ci := declarative.NewConfigurableInterpreter(nil)
	ci.LoadConfig([]*configv1alpha1.ResourceInterpreterCustomization{loadCustomization(t)})
	return &interpreter{t: t, ci: ci}
}

func (in *interpreter) getReplicas(obj *unstructured.Unstructured) (int32, *workv1alpha2.ReplicaRequirements) {
	in.t.Helper()
	replicas, requirements, enabled, err := in.ci.GetReplicas(obj.DeepCopy())
	in.check("GetReplicas", enabled, err)
	return replicas, requirements
}

func (in *interpreter) reviseReplica(obj *unstructured.Unstructured, replicas int64) *unstructured.Unstructured {
	in.t.Helper()
	revised, enabled, err := in.ci.ReviseReplica(obj.DeepCopy(), replicas)
	in.check("ReviseReplica", enabled, err)
	return revised
}

func (in *interpreter) retain(desired, observed *unstructured.Unstructured) *unstructured.Unstructured {
	in.t.Helper()
	retained, enabled, err := in.ci.Retain(desired.DeepCopy(), observed.DeepCopy())
	in.check("Retain", enabled, err)
	return retained
}

func (in *interpreter) reflectStatus(obj *unstructured.Unstructured) *runtime.RawExtension {
	in.t.Helper()
	status, enabled, err := in.ci.ReflectStatus(obj.DeepCopy())
	in.check("ReflectStatus", enabled, err)
	return status
}

func (in *interpreter) interpretHealth(obj *unstructured.Unstructured) bool {
	in.t.Helper()
	healthy, enabled, err := in.ci.InterpretHealth(obj.DeepCopy())
	in.check("InterpretHealth", enabled, err)
	return healthy
}

func (in *interpreter) getDependencies(obj *unstructured.Unstructured) []configv1alpha1.DependentObjectReference {
	in.t.Helper()
	deps, enabled, err := in.ci.GetDependencies(obj.DeepCopy())
	in.check("GetDependencies", enabled, err)
	return deps
}

func (in *interpreter) aggregateStatus(obj *unstructured.Unstructured,
	items []workv1alpha2.AggregatedStatusItem) *unstructured.Unstructured {
	in.t.Helper()
	aggregated, enabled, err := in.ci.AggregateStatus(obj.DeepCopy(), items)
	in.check("AggregateStatus", enabled, err)
	return aggregated
}

func (in *interpreter) check(operation string, enabled bool, err error) {
	in.t.Helper()
	if err != nil {
		in.t.Fatalf("%s: the script failed: %v", operation, err)
	}
	if !enabled {
		in.t.Fatalf("%s: the customization does not implement it for %s", operation,
			appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp"))
	}
}

// toUnstructured turns a typed object into what Karmada hands to the scripts.
func toUnstructured(t testing.TB, obj any) *unstructured.Unstructured {
	t.Helper()
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatalf("convert to unstructured: %v", err)
	}
	return &unstructured.Unstructured{Object: content}
}

// toApp decodes an object the scripts returned, the way the API server reads it: from JSON.
func toApp(t testing.TB, u *unstructured.Unstructured) *appsv1alpha1.HighlyAvailableApp {
	t.Helper()
	raw, err := u.MarshalJSON()
	if err != nil {
		t.Fatalf("encode the app: %v", err)
	}
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := json.Unmarshal(raw, app); err != nil {
		t.Fatalf("decode the app: %v", err)
	}
	return app
}

// decodeReflected reads a member's reflected status.
func decodeReflected(t testing.TB, raw *runtime.RawExtension) map[string]any {
	t.Helper()
	out := map[string]any{}
	if raw == nil {
		return out
	}
	if err := json.Unmarshal(raw.Raw, &out); err != nil {
		t.Fatalf("decode the reflected status %s: %v", raw.Raw, err)
	}
	return out
}

func describe(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(raw)
}
