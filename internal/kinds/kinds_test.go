package kinds

import (
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range All() {
		if seen[k.Name] {
			t.Errorf("%s is listed twice", k.Name)
		}
		seen[k.Name] = true
		if got := Of(k.New()); got != k.Name {
			t.Errorf("Of(%s.New()) = %q", k.Name, got)
		}
		if k.Resource == "" || k.GroupVersion.Version == "" {
			t.Errorf("%s: no resource or version", k.Name)
		}
		for _, verb := range []string{"get", "list", "watch"} {
			if !slices.Contains(k.Verbs, verb) {
				t.Errorf("%s: the operator caches and watches it, but its verbs %v lack %s", k.Name, k.Verbs, verb)
			}
		}
		if k.Generated && (!slices.Contains(k.Verbs, "create") || !slices.Contains(k.Verbs, "patch")) {
			t.Errorf("%s is generated (applied) but its verbs %v lack create or patch", k.Name, k.Verbs)
		}
		if k.MetadataOnly && k.Watched().GetObjectKind().GroupVersionKind() != k.GVK() {
			t.Errorf("%s: its metadata object is of kind %v", k.Name, k.Watched().GetObjectKind().GroupVersionKind())
		}
	}
	obj := NewObject(Service, "web", "shop")
	if Of(obj) != Service || obj.GetName() != "web" || obj.GetNamespace() != "shop" {
		t.Errorf("NewObject = %s %s/%s", Of(obj), obj.GetNamespace(), obj.GetName())
	}
	if len(Generated()) == 0 || slices.ContainsFunc(Generated(), func(k Kind) bool { return !k.Generated }) {
		t.Errorf("Generated() = %v", Generated())
	}
}
