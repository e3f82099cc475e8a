package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// observer records, from watch events, when each thing of interest was first seen ("the Deployment
// of app-7 exists", "app-7 is Ready"), and counts changes while asked to.
type observer struct {
	mu         sync.Mutex
	first      map[string]time.Time
	counting   bool
	changes    int
	lastChange time.Time
	wake       chan struct{}
}

func newObserver() *observer {
	return &observer{first: map[string]time.Time{}, wake: make(chan struct{}, 1), lastChange: time.Now()}
}

// mark records now as the time key was first seen.
func (o *observer) mark(key string) {
	now := time.Now()
	o.mu.Lock()
	if _, ok := o.first[key]; !ok {
		o.first[key] = now
	}
	o.mu.Unlock()
	o.signal()
}

// changed notes a change to an object, counted while counting is on.
func (o *observer) changed() {
	o.mu.Lock()
	o.lastChange = time.Now()
	if o.counting {
		o.changes++
	}
	o.mu.Unlock()
	o.signal()
}

func (o *observer) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *observer) at(key string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.first[key]
	return t, ok
}

// latest is the last of the times of keys, and whether every key was seen.
func (o *observer) latest(keys []string) (time.Time, bool) {
	var last time.Time
	for _, k := range keys {
		t, ok := o.at(k)
		if !ok {
			return last, false
		}
		if t.After(last) {
			last = t
		}
	}
	return last, true
}

// count starts counting changes from zero, or stops and returns the count.
func (o *observer) count(on bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counting = on
	if on {
		o.changes = 0
	}
	return o.changes
}

// waitFor waits until done holds, checking it after each watch event (and each second, so that a
// timeout is noticed).
func (o *observer) waitFor(ctx context.Context, timeout time.Duration, what string, done func() bool) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		case <-o.wake:
		case <-tick.C:
		}
	}
	return nil
}

// waitQuiet waits until no change was seen for quiet, or for a minute at most (a cluster that never
// settles is reported by the idle figures, not by a failure).
func (o *observer) waitQuiet(ctx context.Context, quiet time.Duration) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		since := time.Since(o.lastChange)
		o.mu.Unlock()
		if since >= quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(quiet - since):
		}
	}
}

// handler is called for each watch event with the object before (nil when added) and after (nil when
// deleted).
type handler func(before, after client.Object)

// watch starts informers on the cluster for each kind with its handler, and waits until they have
// listed what exists.
func watch(ctx context.Context, cfg *rest.Config, handlers map[client.Object]handler) (cache.Cache, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	for obj, h := range handlers {
		informer, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, fmt.Errorf("informer for %T: %w", obj, err)
		}
		_, err = informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) {
				if after, ok := o.(client.Object); ok {
					h(nil, after)
				}
			},
			UpdateFunc: func(a, b any) {
				before, okA := a.(client.Object)
				after, okB := b.(client.Object)
				if okA && okB && before.GetResourceVersion() != after.GetResourceVersion() {
					h(before, after)
				}
			},
			DeleteFunc: func(o any) {
				if tombstone, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
					o = tombstone.Obj
				}
				if before, ok := o.(client.Object); ok {
					h(before, nil)
				}
			},
		})
		if err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the watches did not sync")
	}
	return c, nil
}
