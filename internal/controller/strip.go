package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/haoperator/ha-operator/internal/decide"
)

// lastAppliedAnnotation is kubectl's copy of the whole object as last applied client-side: as large
// as the object itself, and read by kubectl alone.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripForCache removes from an object, before the manager's cache stores it, what the operator
// never reads: the managed fields (server-side apply computes them on the API server; the operator
// sends apply configurations and merge patches computed between two cached copies, so it needs
// neither) and kubectl's last-applied annotation. They are often most of an object's size, and the
// cache holds every generated object and every pod of every app. Of the managed fields it keeps
// the digest of the operator's own applies' field set (appliedEntry), by which decide tells that
// an apply would change nothing. The keys of its labels and annotations and its namespace, which
// every object repeats, are held once (shared).
func stripForCache(obj any) (any, error) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		return tombstone, nil
	}
	accessor, err := meta.Accessor(obj)
	if err != nil {
		// Not an object with metadata: nothing to strip.
		return obj, nil
	}
	accessor.SetManagedFields(appliedEntry(accessor.GetManagedFields()))
	accessor.SetNamespace(shared(accessor.GetNamespace()))
	accessor.SetLabels(sharedKeys(accessor.GetLabels()))
	accessor.SetAnnotations(sharedKeys(accessor.GetAnnotations()))
	return obj, nil
}

// appliedEntry keeps, of an object's managed fields, the operator's applies' entry as a digest of
// its field set (decide.AppliedEntry); nil when the operator never applied the object.
func appliedEntry(entries []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	for i := range entries {
		e := &entries[i]
		if !decide.IsAppliedEntry(e) {
			continue
		}
		raw := e.FieldsV1.GetRawBytes()
		if decide.IsDigest(raw) {
			// Already the digest (an object the transform has seen).
			return []metav1.ManagedFieldsEntry{*e}
		}
		return []metav1.ManagedFieldsEntry{decide.AppliedEntry(shared(e.APIVersion), decide.FieldsDigest(raw))}
	}
	return nil
}
