package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
)

// lastAppliedAnnotation is kubectl's copy of the whole object as last applied client-side: as large
// as the object itself, and read by kubectl alone.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripForCache removes from an object, before the manager's cache stores it, what the operator
// never reads: the managed fields (server-side apply computes them on the API server; the operator
// sends apply configurations and merge patches computed between two cached copies, so it needs
// neither) and kubectl's last-applied annotation. They are often most of an object's size, and the
// cache holds every generated object and every pod of every app. The keys of its labels and
// annotations and its namespace, which every object repeats, are held once (shared).
func stripForCache(obj any) (any, error) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		return tombstone, nil
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		// Not an object with metadata: nothing to strip.
		return obj, nil
	}
	accessor.SetManagedFields(nil)
	accessor.SetNamespace(shared(accessor.GetNamespace()))
	accessor.SetLabels(sharedKeys(accessor.GetLabels()))
	accessor.SetAnnotations(sharedKeys(accessor.GetAnnotations()))
	return obj, nil
}
