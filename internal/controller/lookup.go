package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
)

// lookup says where an object the cache does not hold is looked for.
type lookup int

const (
	// inCache: only the operator's own objects, which its cache holds.
	inCache lookup = iota
	// orAPIServer: also the API server, for an object the cache may not show yet: one the operator
	// has just created, or one of the same name the operator does not own (the cache holds only
	// objects with its label), which it must find to leave alone.
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

// confirmAbsent asks the API server for each object the plan creates, since the apply would take over
// an object of the same name that the cache does not show: one the operator does not own (the cache
// holds only objects with its label), or one created a moment before, by someone else (a GitOps tool
// that syncs a Service and the app together) or by another instance of the operator. observe looks
// for the app's objects in the cache alone, so this is where someone else's object is found, and only
// when the plan would create one of its name: one read per object created, none for a settled app. It
// returns true when one exists, now in the input, for the decision to be made again.
func (r *HighlyAvailableAppReconciler) confirmAbsent(ctx context.Context, app client.Object, in *decide.Input, plan *decide.Plan) (bool, error) {
	if r.APIReader == nil {
		return false, nil
	}
	found := false
	for _, d := range plan.Apply {
		if !d.Create {
			continue
		}
		// The plan creates only what observe did not find in the cache: ask the API server alone.
		obj := kinds.NewObject(d.Kind, d.Name, app.GetNamespace())
		err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("get %s: %w", d.Ref, err)
		}
		in.Objects[d.Ref], found = obj, true
	}
	return found, nil
}
