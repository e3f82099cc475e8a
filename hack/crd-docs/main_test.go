package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

const crdPath = "config/crd/bases/apps.haoperator.dev_highlyavailableapps.yaml"

type props = apiextensionsv1.JSONSchemaProps

// listOf is an array schema of items.
func listOf(items props) props {
	return props{Type: typeArray, Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &items}}
}

// enum is an enum of JSON strings.
func enum(values ...string) []apiextensionsv1.JSON {
	out := make([]apiextensionsv1.JSON, len(values))
	for i, v := range values {
		out[i] = apiextensionsv1.JSON{Raw: []byte(`"` + v + `"`)}
	}
	return out
}

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
	fields := []string{"`replicas`", "`rollout.autoRollback`", "`storage[].size`", "`resilience`", "`spec.storage`"}
	for _, field := range fields {
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
	const str = "string"
	cases := []struct {
		name   string
		path   string
		schema props
		want   string
	}{
		{"embedded Kubernetes type", "spec.template", props{Type: "object"}, "PodTemplateSpec (core/v1), as in a Deployment"},
		{"quantity", "spec.storage[].size", props{XIntOrString: true, Pattern: "^[0-9]+$"}, "quantity"},
		{"int or percentage", "spec.rollout.maxSurge", props{XIntOrString: true}, "integer or percentage"},
		{"sized integer", "spec.replicas", props{Type: "integer", Format: "int32"}, "integer (int32)"},
		{"list of strings", "spec.x", listOf(props{Type: str}), "[]string"},
		{"timestamp", "status.x", props{Type: str, Format: "date-time"}, "timestamp"},
		{"plain", "spec.type", props{Type: str}, str},
	}
	for _, tc := range cases {
		if got := typeOf(tc.path, &tc.schema); got != tc.want {
			t.Errorf("%s: typeOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestValidationOf(t *testing.T) {
	const str = "string"
	cases := []struct {
		name     string
		schema   props
		required bool
		want     string
	}{
		{"nothing", props{Type: str}, false, ""},
		{"required with bounds", props{Type: "integer", Minimum: new(1.0), Maximum: new(300.0)}, true,
			"required; ≥ 1; ≤ 300"},
		{"enum", props{Type: str, Enum: enum("Zone", "Node")}, false, "one of `Zone`, `Node`"},
		{"name", props{Type: str, MinLength: new(int64(1)), MaxLength: new(int64(63)), Pattern: "^a|b$"}, false,
			"not empty; at most 63 characters; matches `^a\\|b$`"},
		{"field rule stays out, own rule stays in", props{Type: "object", XValidations: apiextensionsv1.ValidationRules{
			{Rule: "self == oldSelf", Message: "type is immutable"},
			{Rule: "x", Message: "elsewhere", FieldPath: ".a"},
		}}, false, "type is immutable"},
		{"list items", func() props {
			p := listOf(props{Type: str, Enum: enum("ReadWriteOnce")})
			p.MaxItems = new(int64(4))
			return p
		}(), false, "at most 4 items; each: one of `ReadWriteOnce`"},
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
