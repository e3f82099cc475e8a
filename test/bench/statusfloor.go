package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// statusFloorPhase is the floor with the apps' status: the least any implementation of the API can
// do for a new app. It creates the floor's objects, owned by the app, and writes the app's status
// twice, as the status contract asks: once the objects are in place (observedGeneration current,
// Reconciling), and once the Deployment is ready. Nothing else: no read before a create, no revision
// record, no Event.
const statusFloorPhase = "floorstatus"

// defaultStatusFloorWorkers are the phase's workers unless -status-floor-workers says otherwise: as
// many as the operator's reconciles at once by default.
const defaultStatusFloorWorkers = 64

// benchZones are the zones the status places an app's ready pods in, one pod a zone and a node.
var benchZones = []string{"zone-a", "zone-b", "zone-c"}

// floorStatus is the status the operator's own computation gives an app whose Deployment is d, its
// ready pods spread over the zones, each on a node of its own.
func floorStatus(app *appsv1alpha1.HighlyAvailableApp, d *appsv1.Deployment, service string,
	now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	in := status.Input{App: app, Workload: status.FromDeployment(d), Service: service, ClusterZones: benchZones,
		Rollout: status.Rollout{UpdateRevision: 1, OnUpdateRevision: true}, Now: now}
	if deploymentReady(d) {
		in.Rollout.CurrentRevision = 1
	}
	for i := range d.Status.ReadyReplicas {
		in.ReadyPods = append(in.ReadyPods, status.PodPlace{
			Node: fmt.Sprintf("node-%d", i), Zone: benchZones[int(i)%len(benchZones)]})
	}
	return status.Compute(in)
}

// statusFloorApp is one app of the phase: the app as last written, and whether its objects exist
// and its Ready status is written. A worker has the app alone (the queue gives a key to one worker
// at a time).
type statusFloorApp struct {
	app          *appsv1alpha1.HighlyAvailableApp
	created      bool
	readyWritten bool
	// revision is the guarded floor's revision record, built with the objects and written once
	// the app is Ready.
	revision *appsv1.ControllerRevision
}

// floorWithStatus runs the status floor: the apps exist, then its workers take each app once to
// create its objects and write its first status, and again when its Deployment is ready, to write
// Ready. Its figures are taken as the operator's catch-up's.
// With guarded, it is the guarded floor (guardedFloorPhase).
func (b *bench) floorWithStatus(ctx context.Context, guarded bool) (floorRun, error) {
	run := floorRun{Workers: b.statusWorkers}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	queue := workqueue.NewTyped[string]()
	defer queue.ShutDown()
	f, err := b.fresh(ctx, func(o *observer) map[client.Object]handler {
		handlers := progressAndChanges(o)
		kind := findKind(handlers, &appsv1.Deployment{})
		progress := handlers[kind]
		handlers[kind] = func(before, after client.Object) {
			progress(before, after)
			if d, ok := after.(*appsv1.Deployment); ok && isAppNamespace(d.Namespace) && deploymentReady(d) {
				queue.Add(instance(d))
			}
		}
		return handlers
	}, b.appNamespaces()...)
	if err != nil {
		return run, err
	}
	c, o, seen := f.client, f.observer, f.seen
	apps := b.apps()
	groups := make([][]client.Object, len(apps))
	state := make(map[string]*statusFloorApp, len(apps))
	for i, app := range apps {
		groups[i] = []client.Object{app}
		state[app.Name] = &statusFloorApp{app: app}
	}
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, err
	}
	before := c.requests.Load()
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range b.statusWorkers {
		wg.Go(func() {
			for {
				name, shutdown := queue.Get()
				if shutdown {
					return
				}
				if err := b.statusFloorStep(ctx, c, seen, state[name], guarded); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("app %s: %w", name, err)
					}
					mu.Unlock()
					stop()
				}
				queue.Done(name)
			}
		})
	}
	for _, app := range apps {
		queue.Add(app.Name)
	}
	children, ready, err := b.operatorDone(ctx, o)
	queue.ShutDown()
	wg.Wait()
	if firstErr != nil {
		return run, firstErr
	}
	if err != nil {
		return run, err
	}
	run.RequestsPerApp = float64(c.requests.Load()-before) / float64(b.n)
	run.ChildrenSeconds, run.ReadySeconds = seconds(start, children), seconds(start, ready)
	what := "floor with status"
	if guarded {
		what = "guarded floor"
	}
	b.logf("%s (%d workers): children and status %.1fs, ready %.1fs, %.1f requests per app",
		what, b.statusWorkers, run.ChildrenSeconds, run.ReadySeconds, run.RequestsPerApp)
	return run, nil
}

// statusFloorStep does what an app needs next: its objects and first status, or its Ready status
// once its Deployment, as the watch last saw it, is ready; guarded, with what the guarded floor adds
// (guardedfloor.go).
func (b *bench) statusFloorStep(ctx context.Context, c client.Client, seen client.Reader, s *statusFloorApp,
	guarded bool) error {
	app := s.app
	service := ""
	if !s.created {
		var deployment *appsv1.Deployment
		objects := floorObjects(app)
		for _, obj := range objects {
			owner := metav1.NewControllerRef(app, appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp"))
			owner.BlockOwnerDeletion = new(true)
			obj.SetOwnerReferences([]metav1.OwnerReference{*owner})
		}
		if guarded {
			cr, err := floorCreateGuarded(ctx, c, app, objects)
			if err != nil {
				return err
			}
			s.revision = cr
		}
		for _, obj := range objects {
			if !guarded {
				if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
					return fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
				}
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				deployment = o
			case *corev1.Service:
				service = o.Name
			}
		}
		s.created = true
		return writeFloorStatus(ctx, c, app, floorStatus(app, deployment, service, metav1.Now()))
	}
	if s.readyWritten {
		return nil
	}
	d := &appsv1.Deployment{}
	if err := seen.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: app.Name}, d); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !deploymentReady(d) {
		return nil
	}
	s.readyWritten = true
	if guarded {
		if err := floorCompleteGuarded(ctx, c, app, s.revision); err != nil {
			return err
		}
	}
	return writeFloorStatus(ctx, c, app, floorStatus(app, d, app.Status.Service, metav1.Now()))
}

// writeFloorStatus writes the app's status as the operator does: a merge patch of the status, sent
// only when it changes.
func writeFloorStatus(ctx context.Context, c client.Client, app *appsv1alpha1.HighlyAvailableApp,
	next appsv1alpha1.HighlyAvailableAppStatus) error {
	before := app.DeepCopy()
	app.Status = next
	if err := c.Status().Patch(ctx, app, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("write the status: %w", err)
	}
	return nil
}
