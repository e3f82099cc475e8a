package karmada

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/haoperator/ha-operator/internal/status"
)

var (
	crdPath          = filepath.Join("..", "..", "config", "crd", "bases", "apps.haoperator.dev_highlyavailableapps.yaml")
	healthScriptPath = filepath.Join("..", "..", "config", "argocd", "health.lua")
)

// crdSchema is what the API server checks a HighlyAvailableApp against: the structural schema of the
// CRD (pruning, list types), its OpenAPI validation and its CEL rules.
type crdSchema struct {
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	cel        *cel.Validator
}

// schemas caches the schemas read, by the CRD file's path.
var schemas sync.Map

// loadSchema reads the schema of the one version a CRD file serves.
func loadSchema(path string) (*crdSchema, error) {
	if cached, ok := schemas.Load(path); ok {
		return cached.(*crdSchema), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the CRD: %w", err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(raw, crd); err != nil {
		return nil, fmt.Errorf("decode the CRD %s: %w", path, err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil {
		return nil, fmt.Errorf("the CRD %s should serve one version, with a schema", path)
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(
		crd.Spec.Versions[0].Schema.OpenAPIV3Schema, internal, nil); err != nil {
		return nil, fmt.Errorf("convert the schema of %s: %w", path, err)
	}
	structural, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, fmt.Errorf("the schema of %s is not structural: %w", path, err)
	}
	validator, _, err := validation.NewSchemaValidator(internal)
	if err != nil {
		return nil, fmt.Errorf("build the validator of %s: %w", path, err)
	}
	schema := &crdSchema{structural: structural, validator: validator,
		cel: cel.NewValidator(structural, true, celconfig.PerCallLimit)}
	schemas.Store(path, schema)
	return schema, nil
}

// validateAgainstCRD fails when the API server would prune a field of obj (an unknown field, which
// would silently vanish from the status) or refuse obj (a wrong type, a value out of its enum or
// format, a broken list map, a CEL rule).
func validateAgainstCRD(t testing.TB, obj *unstructured.Unstructured) {
	t.Helper()
	validateAgainst(t, crdPath, obj)
}

// validateAgainst checks obj against the CRD in the file at path as the API server would.
func validateAgainst(t testing.TB, path string, obj *unstructured.Unstructured) {
	t.Helper()
	schema, err := loadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	pruned := runtime.DeepCopyJSON(obj.Object)
	if fields := pruning.PruneWithOptions(pruned, schema.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}); len(fields) > 0 {
		t.Errorf("the API server would prune %v from %s %s", fields, obj.GetKind(), obj.GetName())
	}
	errs := validation.ValidateCustomResource(nil, obj.Object, schema.validator)
	errs = append(errs, listtype.ValidateListSetsAndMaps(nil, schema.structural, obj.Object)...)
	celErrs, _ := schema.cel.Validate(context.Background(), nil, schema.structural, obj.Object, nil,
		celconfig.RuntimeCELCostBudget)
	errs = append(errs, celErrs...)
	for _, e := range errs {
		t.Errorf("the API server would refuse %s %s: %v", obj.GetKind(), obj.GetName(), e)
	}
}

// kstatusOf is what Flux, Helm and kubectl wait (kstatus) read from the object.
func kstatusOf(t testing.TB, obj *unstructured.Unstructured) *kstatus.Result {
	t.Helper()
	res, err := kstatus.Compute(obj)
	if err != nil {
		t.Fatalf("kstatus cannot read the app: %v", err)
	}
	if res.Status == kstatus.UnknownStatus {
		t.Fatalf("kstatus reads the app as Unknown: %s", res.Message)
	}
	return res
}

// argoHealth runs config/argocd/health.lua as Argo CD runs a health script set in argocd-cm: only the
// package, base and table libraries, the object in the global obj, one second.
func argoHealth(t testing.TB, obj *unstructured.Unstructured) (healthStatus, message string) {
	t.Helper()
	script, err := os.ReadFile(healthScriptPath)
	if err != nil {
		t.Fatalf("read the Argo CD health script: %v", err)
	}
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			t.Fatalf("open Lua library %q: %v", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(string(script)); err != nil {
		t.Fatalf("the Argo CD health script failed on the aggregate: %v", err)
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the Argo CD health script returned %s, want a table", l.Get(-1).Type())
	}
	return lua.LVAsString(hs.RawGetString("status")), lua.LVAsString(hs.RawGetString("message"))
}

// toLua converts a JSON-decoded value as Argo CD hands objects to its scripts.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []any:
		list := l.CreateTable(len(v), 0)
		for _, item := range v {
			list.Append(toLua(l, item))
		}
		return list
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetString(key, toLua(l, item))
		}
		return table
	default:
		return lua.LNil
	}
}

// phaseAgrees fails when status.phase says something else than internal/status.StateOf, the one
// definition of the phase, reads from the same aggregated status.
func phaseAgrees(t testing.TB, obj *unstructured.Unstructured) status.State {
	t.Helper()
	app := toApp(t, obj)
	state := status.StateOf(app)
	if string(app.Status.Phase) != string(state.Phase) {
		t.Errorf("status.phase is %q, internal/status.StateOf reads %q (%s: %s) from the same status",
			app.Status.Phase, state.Phase, state.Reason, state.Message)
	}
	return state
}
