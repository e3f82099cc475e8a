package controller

import (
	"context"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// lookup says where an object the cache does not hold is looked for.
type lookup int

const (
	// inCache: only the operator's own objects, which its cache holds.
	inCache lookup = iota
	// orAPIServer: also the API server, for an object the cache may not show yet: one the operator
	// has just created, or one of the same name the operator does not own (the cache holds only
	// objects with its label), which it must find to leave alone: one whose create was refused.
	orAPIServer
)

// read gets an object by name from the cache and, when the cache has none, looks for it as where
// says. It returns nil when none exists.
func (r *HighlyAvailableAppReconciler) read(ctx context.Context, obj client.Object, where lookup) (client.Object, error) {
	key := client.ObjectKeyFromObject(obj)
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && where == orAPIServer && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, obj)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// absentVersion is the resourceVersion a create carries as its precondition. A server-side apply
// that names a resourceVersion is refused (409 Conflict) unless the object exists at that version,
// and creates the object, the version ignored, when none exists. No object is ever at this one: etcd
// gives its first write revision 2, and the API server hands out etcd's revisions as versions. So the
// apply creates what is absent and refuses, without a read, an object of the same name that the cache
// does not show: one the operator does not own (the cache holds only objects with its label), or one
// created a moment before, by someone else (a GitOps tool that syncs a Service and the app together)
// or by the operator itself (its cache not caught up yet).
const absentVersion = "1"

// IfAbsent returns the object to apply with absentVersion as its resourceVersion: a create that
// never takes over an object that exists. The object itself is left as it is.
func IfAbsent(obj *unstructured.Unstructured) *unstructured.Unstructured {
	guarded := &unstructured.Unstructured{Object: maps.Clone(obj.Object)}
	meta, _ := obj.Object["metadata"].(map[string]any)
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["resourceVersion"] = absentVersion
	guarded.Object["metadata"] = meta
	return guarded
}
