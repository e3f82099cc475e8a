package gitops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// healthScriptPath is the script users install into argocd-cm: the tests load this very file.
var healthScriptPath = filepath.Join("..", "..", "config", "argocd", "health.lua")

// argoHealth is what Argo CD shows for an object.
type argoHealth struct {
	Status  string
	Message string
}

// The health statuses Argo CD shows.
const (
	healthy     = "Healthy"
	progressing = "Progressing"
	degraded    = "Degraded"
	suspended   = "Suspended"
)

// argoHealthStatuses are the statuses Argo CD accepts from a health script; anything else shows as
// Unknown.
var argoHealthStatuses = map[string]bool{
	healthy: true, progressing: true, degraded: true, suspended: true, "Missing": true, "Unknown": true,
}

// runHealthScript runs script on obj (an object as the API server returns it, decoded from JSON) in
// the environment Argo CD gives a health script configured in argocd-cm: only the package, base and
// table libraries, the object in the global `obj`, a one-second deadline, and a table returned.
func runHealthScript(script string, obj map[string]any) (argoHealth, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return argoHealth{}, fmt.Errorf("open Lua library %q: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return argoHealth{}, fmt.Errorf("run health script: %w", err)
	}
	hs, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return argoHealth{}, fmt.Errorf("health script returned %s, want a table", l.Get(-1).Type())
	}
	status, ok := hs.RawGetString("status").(lua.LString)
	if !ok {
		return argoHealth{}, errors.New("health script returned no string hs.status")
	}
	if !argoHealthStatuses[string(status)] {
		return argoHealth{}, fmt.Errorf("health script returned status %q, which Argo CD shows as Unknown", status)
	}
	result := argoHealth{Status: string(status)}
	switch message := hs.RawGetString("message").(type) {
	case lua.LString:
		result.Message = string(message)
	case *lua.LNilType:
	default:
		return argoHealth{}, fmt.Errorf("health script returned hs.message of type %s, want a string", message.Type())
	}
	return result, nil
}

// loadHealthScript reads the shipped script.
func loadHealthScript() (string, error) {
	script, err := os.ReadFile(healthScriptPath)
	if err != nil {
		return "", fmt.Errorf("read the Argo CD health script: %w", err)
	}
	return string(script), nil
}

// toLua converts a JSON-decoded value to Lua values the way Argo CD hands objects to its scripts:
// maps and lists become tables, every number (int64 from the API machinery, float64 from JSON)
// becomes a Lua number.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
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
