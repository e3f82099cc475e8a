package controller

import (
	"os"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	"github.com/haoperator/ha-operator/internal/kinds"
)

// TestEveryCachedKindIsWatched holds the cache, the watches and the RBAC rules to the one registry of
// kinds: a kind cached but not watched would never wake its app (as claims once did), and a kind
// watched without its RBAC rule would stop the operator on a real cluster.
func TestEveryCachedKindIsWatched(t *testing.T) {
	cached := map[schema.GroupVersionKind]bool{}
	for obj := range CacheOptions().ByObject {
		gvk, err := apiutil.GVKForObject(obj, scheme.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		cached[gvk] = true
	}
	watched := map[schema.GroupVersionKind]bool{}
	r := &HighlyAvailableAppReconciler{}
	for _, w := range r.watches() {
		if w.handler == nil {
			t.Errorf("%s is watched with no handler: its Wake is not one the controller knows", w.kind.Name)
		}
		watched[w.kind.GVK()] = true
	}
	for gvk := range cached {
		if !watched[gvk] {
			t.Errorf("%s is cached but not watched", gvk.Kind)
		}
	}
	for gvk := range watched {
		if !cached[gvk] {
			t.Errorf("%s is watched but not cached as the registry says", gvk.Kind)
		}
	}
	for name := range trims {
		if _, ok := kinds.ByName(name); !ok {
			t.Errorf("a transform trims %s, which is not a kind of the registry", name)
		}
	}
}

func TestEveryKindHasItsRBACRule(t *testing.T) {
	data, err := os.ReadFile("../../config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal(data, role); err != nil {
		t.Fatal(err)
	}
	allows := func(group, resource, verb string) bool {
		return slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool {
			return slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb)
		})
	}
	for _, k := range kinds.All() {
		for _, verb := range k.Verbs {
			if !allows(k.GroupVersion.Group, k.Resource, verb) {
				t.Errorf("config/rbac/role.yaml does not allow %s on %s (group %q): add it to the RBAC markers", verb, k.Resource, k.GroupVersion.Group)
			}
		}
	}
}
