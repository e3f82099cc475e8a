package controller

import (
	"context"
	"slices"
	"sync"

	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

type warningsKey struct{}

// warnings collects the API server's warnings about the writes of one reconcile.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !slices.Contains(w.list, text) {
		w.list = append(w.list, text)
	}
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.list)
}

// collectWarnings returns a context whose requests' warnings are collected.
func collectWarnings(ctx context.Context) (context.Context, *warnings) {
	w := &warnings{}
	return context.WithValue(ctx, warningsKey{}, w), w
}

// WarningHandler hands the API server's warnings about the operator's requests to the reconcile that
// sent them, so that the app they concern gets them as Events, and logs them. Set it as the manager's
// rest.Config WarningHandlerWithContext.
type WarningHandler struct{}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (WarningHandler) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	if w, ok := ctx.Value(warningsKey{}).(*warnings); ok {
		w.add(text)
	}
	logf.FromContext(ctx).Info("warning from the API server", "warning", text)
}
