package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"
)

const crdPath = "config/crd/bases/apps.haoperator.dev_highlyavailableapps.yaml"

// TestAPIDocIsCurrent keeps docs/api.md in step with the CRD the API server serves.
func TestAPIDocIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, crdPath))
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(raw, crdPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/api.md is out of date with the CRD: run make docs")
	}
	for _, field := range []string{"`replicas`", "`rollout.autoRollback`", "`storage[].size`", "`resilience`", "`spec.storage`"} {
		if !bytes.Contains(want, []byte(field)) {
			t.Errorf("the reference does not document %s", field)
		}
	}
}

func TestRenderRefusesWhatIsNotACRD(t *testing.T) {
	_, err := render([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), "x.yaml")
	if err == nil || !strings.Contains(err.Error(), `kind is "ConfigMap"`) {
		t.Fatalf("render(ConfigMap) error = %v, want one naming the kind", err)
	}
}

func TestTypeOf(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		schema apiextensionsv1.JSONSchemaProps
		want   string
	}{
		{"embedded Kubernetes type", "spec.template", apiextensionsv1.JSONSchemaProps{Type: "object"}, "PodTemplateSpec (core/v1), as in a Deployment"},
		{"quantity", "spec.storage[].size", apiextensionsv1.JSONSchemaProps{XIntOrString: true, Pattern: "^[0-9]+$"}, "quantity"},
		{"int or percentage", "spec.rollout.maxSurge", apiextensionsv1.JSONSchemaProps{XIntOrString: true}, "integer or percentage"},
		{"sized integer", "spec.replicas", apiextensionsv1.JSONSchemaProps{Type: "integer", Format: "int32"}, "integer (int32)"},
		{"list of strings", "spec.x", apiextensionsv1.JSONSchemaProps{Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{
			Schema: &apiextensionsv1.JSONSchemaProps{Type: "string"}}}, "[]string"},
		{"timestamp", "status.x", apiextensionsv1.JSONSchemaProps{Type: "string", Format: "date-time"}, "timestamp"},
		{"plain", "spec.type", apiextensionsv1.JSONSchemaProps{Type: "string"}, "string"},
	}
	for _, tc := range cases {
		if got := typeOf(tc.path, &tc.schema); got != tc.want {
			t.Errorf("%s: typeOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestValidationOf(t *testing.T) {
	cases := []struct {
		name     string
		schema   apiextensionsv1.JSONSchemaProps
		required bool
		want     string
	}{
		{"nothing", apiextensionsv1.JSONSchemaProps{Type: "string"}, false, ""},
		{"required with bounds", apiextensionsv1.JSONSchemaProps{Type: "integer", Minimum: ptr.To(1.0), Maximum: ptr.To(300.0)}, true, "required; ≥ 1; ≤ 300"},
		{"enum", apiextensionsv1.JSONSchemaProps{Type: "string", Enum: []apiextensionsv1.JSON{{Raw: []byte(`"Zone"`)}, {Raw: []byte(`"Node"`)}}}, false, "one of `Zone`, `Node`"},
		{"name", apiextensionsv1.JSONSchemaProps{Type: "string", MinLength: ptr.To[int64](1), MaxLength: ptr.To[int64](63), Pattern: "^a|b$"}, false,
			"not empty; at most 63 characters; matches `^a\\|b$`"},
		{"field rule stays out, own rule stays in", apiextensionsv1.JSONSchemaProps{Type: "object", XValidations: apiextensionsv1.ValidationRules{
			{Rule: "self == oldSelf", Message: "type is immutable"}, {Rule: "x", Message: "elsewhere", FieldPath: ".a"}}}, false, "type is immutable"},
		{"list items", apiextensionsv1.JSONSchemaProps{Type: "array", MaxItems: ptr.To[int64](4), Items: &apiextensionsv1.JSONSchemaPropsOrArray{
			Schema: &apiextensionsv1.JSONSchemaProps{Type: "string", Enum: []apiextensionsv1.JSON{{Raw: []byte(`"ReadWriteOnce"`)}}}}}, false,
			"at most 4 items; each: one of `ReadWriteOnce`"},
	}
	for _, tc := range cases {
		if got := validationOf(&tc.schema, tc.required); got != tc.want {
			t.Errorf("%s: validationOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCellAndCode(t *testing.T) {
	if got, want := cell("named <app>-client | or\nnot"), `named &lt;app&gt;-client \| or not`; got != want {
		t.Errorf("cell = %q, want %q", got, want)
	}
	if got, want := code("a > b || c"), `a > b \|\| c`; got != want {
		t.Errorf("code = %q, want %q", got, want)
	}
}
