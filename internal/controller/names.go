package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/haoperator/ha-operator/internal/decide"
)

// lookup says where an object the cache does not hold is looked for.
type lookup int

const (
	// inCache: only the operator's own objects, which its cache holds.
	inCache lookup = iota
	// orForeign: also an object of the same name the operator does not own (one without its label),
	// which it must find to leave alone. The names cache answers whether one exists; only then is it
	// read from the API server.
	orForeign
	// orAPIServer: also the API server, for an object the operator has just created that no cache
	// shows yet.
	orAPIServer
)

// newNamesCache is a cache of the names of every object of the kinds the operator creates, in every
// namespace, kept as metadata and trimmed to its identity (trimToIdentity). It answers "is there an
// object of this name that the operator's cache does not hold?" without a request to the API server
// for every object an app wants. Its informers start on the first look-up of a kind, and only the
// leader looks.
func newNamesCache(mgr ctrl.Manager) (cache.Cache, error) {
	names, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), HTTPClient: mgr.GetHTTPClient(),
		DefaultTransform: trimToIdentity,
	})
	if err != nil {
		return nil, err
	}
	return names, mgr.Add(names)
}

// trimToIdentity keeps of an object's metadata its name, namespace, UID and resource version.
func trimToIdentity(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		// A tombstone, or an object of another form: nothing to trim.
		if _, tombstone := obj.(toolscache.DeletedFinalStateUnknown); !tombstone {
			return stripForCache(obj)
		}
		return obj, nil
	}
	m.ObjectMeta = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
	return m, nil
}

// read gets an object by name from the cache and, when the cache has none, looks for it as where
// says. It returns nil when none exists.
func (r *HighlyAvailableAppReconciler) read(ctx context.Context, obj client.Object, where lookup) (client.Object, error) {
	key := client.ObjectKeyFromObject(obj)
	err := r.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) && where != inCache && r.APIReader != nil {
		if where == orForeign {
			elsewhere, lookErr := r.namedElsewhere(ctx, obj)
			if lookErr != nil || !elsewhere {
				return nil, lookErr
			}
		}
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

// namedElsewhere says whether the names cache holds an object of obj's kind and name; without a
// names cache, it says yes, so that the API server is asked.
func (r *HighlyAvailableAppReconciler) namedElsewhere(ctx context.Context, obj client.Object) (bool, error) {
	if r.Names == nil {
		return true, nil
	}
	gvk, err := apiutil.GVKForObject(obj, r.Scheme)
	if err != nil {
		return false, err
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	err = r.Names.Get(ctx, client.ObjectKeyFromObject(obj), m)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// foreignIf is orForeign when wanted is set: an object the app wants is looked for among those it
// does not own; one it no longer wants only in the cache.
func foreignIf(wanted bool) lookup {
	if wanted {
		return orForeign
	}
	return inCache
}

// confirmAbsent asks the API server for each object the plan creates: the caches may not show one of
// the same name created a moment before, by someone else (a GitOps tool that syncs a Service and the
// app together) or by another instance of the operator, and an apply that found it would take it
// over. It returns true when one exists, now in the input, for the decision to be made again.
func (r *HighlyAvailableAppReconciler) confirmAbsent(ctx context.Context, app client.Object, in *decide.Input, plan *decide.Plan) (bool, error) {
	if r.APIReader == nil {
		return false, nil
	}
	found := false
	for _, d := range plan.Apply {
		if !d.Create {
			continue
		}
		obj, err := r.read(ctx, decide.NewObject(d.Ref, app.GetNamespace()), orAPIServer)
		if err != nil {
			return false, fmt.Errorf("get %s: %w", d.Ref, err)
		}
		if obj != nil {
			in.Objects[d.Ref], found = obj, true
		}
	}
	return found, nil
}
