package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// bench runs the phases, each on a fresh cluster.
type bench struct {
	cluster      *cluster
	manager      string
	operatorArgs []string
	n            int
	// perNamespace spreads the apps over namespaces of that many; 0 keeps them in one.
	perNamespace int
	idleWindow   time.Duration
	// statusWorkers are the workers of the floor with status.
	statusWorkers int
	churn         int
	rollbacks     int
	unrelated     int
	// argo is the Argo Rollouts controller of the argo phase; none when its binary is empty.
	argo         argoRollouts
	soakSettings soakSettings
	logf         func(format string, args ...any)
	results      results
}

// floorRun is the floor with a number of workers: the Deployments, Services and PDBs created
// directly by a client.
type floorRun struct {
	Workers         int     `json:"workers"`
	ChildrenSeconds float64 `json:"childrenSeconds"`
	ReadySeconds    float64 `json:"readySeconds"`
	RequestsPerApp  float64 `json:"requestsPerApp"`
	IdleWrites      *int    `json:"idleWritesInWindow,omitempty"`
	IdleWindowSecs  float64 `json:"idleWindowSeconds,omitempty"`
}

// operatorRun is the operator reaching every app: children applied with observedGeneration
// current, all Ready, and its work counters once settled.
type operatorRun struct {
	ChildrenSeconds  float64  `json:"childrenSeconds"`
	ReadySeconds     float64  `json:"readySeconds"`
	Counters         counters `json:"counters"`
	ReconcilesPerApp float64  `json:"reconcilesPerApp"`
	RequestsPerApp   float64  `json:"requestsPerApp"`
	// ReadsPerApp are the GETs among them.
	ReadsPerApp float64 `json:"readsPerApp"`
	// APIServerRequests are the API server's counts of the requests to the kinds the operator
	// writes over the phase, every client's, by verb and resource (apirequests.go); catch-up only.
	APIServerRequests []apiRequests `json:"apiServerRequests,omitempty"`
	// BindingsPerApp are the scheduler's bindings of pods over the same window, per app: it sends
	// one Event (events.k8s.io) for each, counted in the rows of Events.
	BindingsPerApp float64 `json:"bindingsPerApp,omitempty"`
}

type memoryRun struct {
	Empty         memory  `json:"empty"`
	Settled       memory  `json:"settled"`
	HeapPerAppKiB float64 `json:"heapPerAppKiB"`
	// EventSeriesPerAppKiB is the part of the settled heap that client-go's Event broadcaster holds
	// for the Events sent in the last 6 to 12 minutes (an estimate from the heap profile).
	EventSeriesPerAppKiB float64 `json:"eventSeriesPerAppKiB"`
	RSSPerAppKiB         float64 `json:"rssPerAppKiB"`
	Unrelated            int     `json:"unrelatedObjects"`
	WithUnrelated        memory  `json:"withUnrelated"`
	HeapChangeMiB        float64 `json:"heapChangeMiB"`
	RSSChangeMiB         float64 `json:"rssChangeMiB"`
	IdleWindowSecs       float64 `json:"idleWindowSeconds"`
	IdleChanges          int     `json:"idleChanges"`
	IdleWriteCalls       float64 `json:"idleWriteRequests"`
	IdleWritesPerMn      float64 `json:"idleWritesPerMinute"`
}

type churnRun struct {
	Samples              int     `json:"samples"`
	OperatorP50Ms        float64 `json:"operatorP50Ms"`
	OperatorP99Ms        float64 `json:"operatorP99Ms"`
	DeploymentCtrlP50Ms  float64 `json:"deploymentControllerP50Ms"`
	DeploymentCtrlP99Ms  float64 `json:"deploymentControllerP99Ms"`
	Rollbacks            int     `json:"rollbacks"`
	RollbackP50Seconds   float64 `json:"rollbackP50Seconds"`
	RollbackMaxSeconds   float64 `json:"rollbackMaxSeconds"`
	RollbacksNotObserved int     `json:"rollbacksNotObserved"`
}

type results struct {
	N            int `json:"n"`
	NodesPerZone int `json:"nodesPerZone"`
	// AppsPerNamespace is -apps-per-namespace: 0 when the apps share one namespace.
	AppsPerNamespace int         `json:"appsPerNamespace,omitempty"`
	Floor1           floorRun    `json:"floor1"`
	Floor8           floorRun    `json:"floor8"`
	FloorStatus      floorRun    `json:"floorStatus"`
	FloorGuarded     floorRun    `json:"floorGuarded"`
	CatchUp          operatorRun `json:"catchUp"`
	EndToEnd         operatorRun `json:"endToEnd"`
	Memory           memoryRun   `json:"memory"`
	Churn            churnRun    `json:"churn"`
	ArgoRollouts     argoRun     `json:"argoRollouts"`
	Soak             soakRun     `json:"soak"`
	Table            []row       `json:"table"`
	// Ran and Failed are the phases that ran to the end, and those that failed with why.
	Ran    []string `json:"ran"`
	Failed []string `json:"failed,omitempty"`
}

func (b *bench) apps() []*appsv1alpha1.HighlyAvailableApp {
	apps := make([]*appsv1alpha1.HighlyAvailableApp, b.n)
	for i := range apps {
		apps[i] = newApp(b.namespaceOf(i), appName(i))
	}
	return apps
}

// namespaceOf is the namespace of the i-th app.
func (b *bench) namespaceOf(i int) string {
	if b.perNamespace <= 0 {
		return appNamespace
	}
	return fmt.Sprintf("%s%03d", spreadNamespacePrefix, i/b.perNamespace)
}

// appNamespaces are the namespaces of the apps, then extra.
func (b *bench) appNamespaces(extra ...string) []string {
	var out []string
	for i := range b.n {
		if ns := b.namespaceOf(i); len(out) == 0 || out[len(out)-1] != ns {
			out = append(out, ns)
		}
	}
	return append(out, extra...)
}

// progress marks, from watch events, when each app's children exist, when its status is current
// and when it is Ready; for the floor, when its Deployment is ready. Keys: "deploy/NAME",
// "service/NAME", "pdb/NAME", "current/NAME", "ready/NAME" (NAME the app's).
func progress(o *observer) map[client.Object]handler {
	return withServiceAndBudget(o, map[client.Object]handler{
		&appsv1alpha1.HighlyAvailableApp{}: func(_, after client.Object) {
			app, ok := after.(*appsv1alpha1.HighlyAvailableApp)
			if !ok {
				return
			}
			if app.Generation > 0 && app.Status.ObservedGeneration >= app.Generation {
				o.mark("current/" + app.Name)
			}
			if appReady(app) {
				o.mark("ready/" + app.Name)
			}
		},
		&appsv1.Deployment{}: func(_, after client.Object) {
			if d, ok := after.(*appsv1.Deployment); ok {
				o.mark("deploy/" + instance(d))
				if isAppNamespace(d.Namespace) && deploymentReady(d) {
					o.mark("deployready/" + instance(d))
				}
			}
		},
	})
}

// withServiceAndBudget adds to handlers the marks of an app's Service ("service/NAME") and PDB
// ("pdb/NAME") existing, NAME the app's instance label.
func withServiceAndBudget(o *observer, handlers map[client.Object]handler) map[client.Object]handler {
	mark := func(prefix string) handler {
		return func(_, after client.Object) {
			if after != nil {
				o.mark(prefix + instance(after))
			}
		}
	}
	handlers[&corev1.Service{}] = mark("service/")
	handlers[&policyv1.PodDisruptionBudget{}] = mark("pdb/")
	return handlers
}

// instance is the app an object belongs to, by its instance label.
func instance(obj client.Object) string { return obj.GetLabels()[appsv1alpha1.LabelInstance] }

func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + appName(i)
	}
	return out
}

// childrenKeys are the marks of every app's children.
func childrenKeys(n int) []string {
	return slices.Concat(keys("deploy/", n), keys("service/", n), keys("pdb/", n))
}

// writtenKinds are the kinds the operator writes; idle writes are changes to them.
var writtenKinds = []client.Object{
	&appsv1alpha1.HighlyAvailableApp{}, &appsv1.Deployment{}, &appsv1.StatefulSet{}, &corev1.Service{},
	&policyv1.PodDisruptionBudget{}, &autoscalingv2.HorizontalPodAutoscaler{}, &appsv1.ControllerRevision{},
	&corev1.Event{},
}

// withChangeCount adds to handlers the counting of every change to the written kinds.
func withChangeCount(o *observer, handlers map[client.Object]handler) map[client.Object]handler {
	for _, kind := range writtenKinds {
		var h handler
		for obj, existing := range handlers {
			if fmt.Sprintf("%T", obj) == fmt.Sprintf("%T", kind) {
				h = existing
				delete(handlers, obj)
			}
		}
		handlers[kind] = func(before, after client.Object) {
			if after != nil && after.GetNamespace() == "kube-system" {
				return
			}
			o.changed()
			if h != nil {
				h(before, after)
			}
		}
	}
	return handlers
}

func seconds(from, to time.Time) float64 { return to.Sub(from).Seconds() }

// freshPhase is what every phase starts from: a fresh cluster, a client of it with the phase's
// namespaces created, and an observer fed by a watch that runs until the context given to fresh ends.
type freshPhase struct {
	cfg      *rest.Config
	client   countingClient
	observer *observer
	seen     cache.Cache
}

// fresh starts the phase's cluster afresh, creates its namespaces and starts watching with handlers.
func (b *bench) fresh(ctx context.Context, handlers func(*observer) map[client.Object]handler,
	namespaces ...string) (freshPhase, error) {
	cfg, err := b.cluster.fresh(ctx)
	if err != nil {
		return freshPhase{}, err
	}
	return b.watched(ctx, cfg, handlers, namespaces...)
}

// watched creates the phase's namespaces on the fresh cluster of cfg and starts watching with
// handlers.
func (b *bench) watched(ctx context.Context, cfg *rest.Config, handlers func(*observer) map[client.Object]handler,
	namespaces ...string) (freshPhase, error) {
	f := freshPhase{cfg: cfg}
	var err error
	if f.client, err = newClient(cfg); err != nil {
		return f, err
	}
	if err := createNamespaces(ctx, f.client, namespaces...); err != nil {
		return f, err
	}
	f.observer = newObserver()
	f.seen, err = watch(ctx, cfg, handlers(f.observer))
	return f, err
}

// progressAndChanges are the handlers of the phases that wait for the apps to be Ready and count the
// changes once they are.
func progressAndChanges(o *observer) map[client.Object]handler {
	return withChangeCount(o, progress(o))
}

// floor creates the apps' Deployments, Services and PDBs directly with a client of workers
// workers: the least any operator can take to put the same objects in place. With 8 workers it also
// counts the changes to the written kinds once everything is ready, as the operator's idle figure.
func (b *bench) floor(ctx context.Context, workers int) (floorRun, error) {
	run := floorRun{Workers: workers}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	f, err := b.fresh(ctx, progressAndChanges, b.appNamespaces()...)
	if err != nil {
		return run, err
	}
	c, o := f.client, f.observer
	groups := make([][]client.Object, b.n)
	for i, app := range b.apps() {
		groups[i] = floorObjects(app)
	}
	before := c.requests.Load()
	start := time.Now()
	if err := createAll(ctx, c, workers, groups); err != nil {
		return run, err
	}
	run.RequestsPerApp = float64(c.requests.Load()-before) / float64(b.n)
	if err := o.waitFor(ctx, b.timeout(), "every Deployment to be ready", func() bool {
		_, ok := o.latest(keys("deployready/", b.n))
		return ok
	}); err != nil {
		return run, err
	}
	children, _ := o.latest(childrenKeys(b.n))
	ready, _ := o.latest(keys("deployready/", b.n))
	run.ChildrenSeconds, run.ReadySeconds = seconds(start, children), seconds(start, ready)
	b.logf("floor with %d worker(s): children %.1fs, ready %.1fs", workers, run.ChildrenSeconds, run.ReadySeconds)
	if workers == 8 {
		o.waitQuiet(ctx, 5*time.Second)
		o.count(true)
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(b.idleWindow):
		}
		changes := o.count(false)
		run.IdleWrites, run.IdleWindowSecs = &changes, b.idleWindow.Seconds()
		b.logf("floor: %d changes in %s once settled", changes, b.idleWindow)
	}
	return run, nil
}

// timeout bounds a wait for every app: generous, so that a slow machine gives a slow figure rather
// than no figure.
func (b *bench) timeout() time.Duration { return 5*time.Minute + 2*time.Duration(b.n)*time.Second }

// operatorDone waits until every app's children exist with its status current and every app is
// Ready, and returns the two times.
func (b *bench) operatorDone(ctx context.Context, o *observer) (children, ready time.Time, err error) {
	current := slices.Concat(childrenKeys(b.n), keys("current/", b.n))
	if err := o.waitFor(ctx, b.timeout(), "every app to be Ready", func() bool {
		_, okChildren := o.latest(current)
		_, okReady := o.latest(keys("ready/", b.n))
		return okChildren && okReady
	}); err != nil {
		return children, ready, err
	}
	children, _ = o.latest(current)
	ready, _ = o.latest(keys("ready/", b.n))
	return children, ready, nil
}

func (b *bench) settledCounters(ctx context.Context, o *observer, op *operator) (counters, error) {
	o.waitQuiet(ctx, 5*time.Second)
	return op.counters()
}

// catchUp creates the apps first, then starts the operator.
func (b *bench) catchUp(ctx context.Context) (operatorRun, error) {
	var run operatorRun
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	f, err := b.fresh(ctx, progressAndChanges, b.appNamespaces()...)
	if err != nil {
		return run, err
	}
	c, o := f.client, f.observer
	groups := [][]client.Object{}
	for _, app := range b.apps() {
		groups = append(groups, []client.Object{app})
	}
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, err
	}
	apiBefore, err := apiServerRequests(ctx, f.cfg)
	if err != nil {
		return run, err
	}
	op, start, err := startOperator(ctx, b.cluster, b.manager, b.operatorArgs)
	if err != nil {
		return run, err
	}
	defer op.stop()
	children, ready, err := b.operatorDone(ctx, o)
	if err != nil {
		return run, err
	}
	run.ChildrenSeconds, run.ReadySeconds = seconds(start, children), seconds(start, ready)
	if run.Counters, err = b.settledCounters(ctx, o, op); err != nil {
		return run, err
	}
	run.ReconcilesPerApp = run.Counters.Reconciles / float64(b.n)
	run.RequestsPerApp = run.Counters.Requests / float64(b.n)
	run.ReadsPerApp = run.Counters.Reads / float64(b.n)
	apiAfter, err := apiServerRequests(ctx, f.cfg)
	if err != nil {
		return run, err
	}
	resources, err := resourcesOf(writtenKinds)
	if err != nil {
		return run, err
	}
	run.APIServerRequests = requestsBetween(apiBefore, apiAfter, resources, b.n)
	run.BindingsPerApp = (apiAfter[bindingKey] - apiBefore[bindingKey]) / float64(b.n)
	b.logf("catch-up: children and status %.1fs, ready %.1fs, %.1f reconciles and %.1f requests per app",
		run.ChildrenSeconds, run.ReadySeconds, run.ReconcilesPerApp, run.RequestsPerApp)
	b.logf("catch-up: wakes per app: %s", wakesNote(run.Counters.Wakes, b.n))
	return run, nil
}

// endToEnd starts the operator, then creates the apps; once they are Ready and settled it measures
// memory, idle writes, and memory again after unrelated ConfigMaps and Secrets.
//
//nolint:funlen // one phase, its steps in the order they run, with the measurement around them.
func (b *bench) endToEnd(ctx context.Context) (operatorRun, memoryRun, error) {
	var run operatorRun
	var mem memoryRun
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	f, err := b.fresh(ctx, progressAndChanges, b.appNamespaces("unrelated")...)
	if err != nil {
		return run, mem, err
	}
	c, o := f.client, f.observer
	op, _, err := startOperator(ctx, b.cluster, b.manager, b.operatorArgs)
	if err != nil {
		return run, mem, err
	}
	defer op.stop()
	if mem.Empty, err = op.settledMemory(ctx, 5); err != nil {
		return run, mem, err
	}
	groups := [][]client.Object{}
	for _, app := range b.apps() {
		groups = append(groups, []client.Object{app})
	}
	start := time.Now()
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, mem, err
	}
	children, ready, err := b.operatorDone(ctx, o)
	if err != nil {
		return run, mem, err
	}
	run.ChildrenSeconds, run.ReadySeconds = seconds(start, children), seconds(start, ready)
	if run.Counters, err = b.settledCounters(ctx, o, op); err != nil {
		return run, mem, err
	}
	run.ReconcilesPerApp = run.Counters.Reconciles / float64(b.n)
	run.RequestsPerApp = run.Counters.Requests / float64(b.n)
	b.logf("end to end: ready %.1fs, %.1f reconciles and %.1f requests per app",
		run.ReadySeconds, run.ReconcilesPerApp, run.RequestsPerApp)
	b.logf("end to end: wakes per app: %s", wakesNote(run.Counters.Wakes, b.n))

	if mem.Settled, err = op.settledMemory(ctx, 10); err != nil {
		return run, mem, err
	}
	mem.HeapPerAppKiB = (mem.Settled.Heap - mem.Empty.Heap) / float64(b.n) / 1024
	events, err := op.heapHeldUnder(eventSeriesFrame)
	if err != nil {
		return run, mem, err
	}
	mem.EventSeriesPerAppKiB = events / float64(b.n) / 1024
	mem.RSSPerAppKiB = (mem.Settled.RSS - mem.Empty.RSS) / float64(b.n) / 1024

	before, err := op.counters()
	if err != nil {
		return run, mem, err
	}
	o.count(true)
	select {
	case <-ctx.Done():
		return run, mem, ctx.Err()
	case <-time.After(b.idleWindow):
	}
	mem.IdleChanges = o.count(false)
	after, err := op.counters()
	if err != nil {
		return run, mem, err
	}
	mem.IdleWindowSecs = b.idleWindow.Seconds()
	mem.IdleWriteCalls = after.Writes - before.Writes
	mem.IdleWritesPerMn = float64(mem.IdleChanges) / b.idleWindow.Minutes()
	b.logf("idle: %d changes, %.0f write requests in %s", mem.IdleChanges, mem.IdleWriteCalls, b.idleWindow)

	mem.Unrelated = b.unrelated
	if err := createAll(ctx, c, 8, unrelatedObjects("unrelated", b.unrelated, 32*1024)); err != nil {
		return run, mem, err
	}
	select {
	case <-ctx.Done():
		return run, mem, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	if mem.WithUnrelated, err = op.settledMemory(ctx, 10); err != nil {
		return run, mem, err
	}
	mem.HeapChangeMiB = (mem.WithUnrelated.Heap - mem.Settled.Heap) / (1 << 20)
	mem.RSSChangeMiB = (mem.WithUnrelated.RSS - mem.Settled.RSS) / (1 << 20)
	b.logf("memory: %.1f KiB heap (%.1f of it Events kept for series) and %.1f KiB RSS per app; "+
		"%d unrelated objects: heap %+.1f MiB, RSS %+.1f MiB",
		mem.HeapPerAppKiB, mem.EventSeriesPerAppKiB, mem.RSSPerAppKiB, mem.Unrelated, mem.HeapChangeMiB, mem.RSSChangeMiB)
	return run, mem, nil
}

// churnHandlers adds to the progress marks those of the churn and rollback phase: "churn-app/NAME"
// and "churn-deploy/NAME" (the app, then its Deployment, on the churn image), "floor-deploy/NAME"
// and "floor-rs/NAME" (a plain Deployment, then its new ReplicaSet, on the churn image),
// "floor-ready/NAME", "missing/NAME" (the app's Deployment on the missing image), "failing/NAME"
// (a pod of the app failing to pull) and "rolled-back/NAME" (the Deployment back on the churn image).
func churnHandlers(o *observer) map[client.Object]handler {
	handlers := progress(o)
	appKind := findKind(handlers, &appsv1alpha1.HighlyAvailableApp{})
	appProgress := handlers[appKind]
	handlers[appKind] = func(before, after client.Object) {
		appProgress(before, after)
		if app, ok := after.(*appsv1alpha1.HighlyAvailableApp); ok && templateImage(app.Spec.Template.Spec) == imageChurn {
			o.mark("churn-app/" + app.Name)
		}
	}
	deploymentKind := findKind(handlers, &appsv1.Deployment{})
	deploymentProgress := handlers[deploymentKind]
	handlers[deploymentKind] = func(before, after client.Object) {
		deploymentProgress(before, after)
		if d, ok := after.(*appsv1.Deployment); ok {
			markDeployment(o, d)
		}
	}
	handlers[&appsv1.ReplicaSet{}] = func(_, after client.Object) {
		rs, ok := after.(*appsv1.ReplicaSet)
		if !ok || rs.Namespace != floorNamespace || templateImage(rs.Spec.Template.Spec) != imageChurn {
			return
		}
		if owner := metaOwner(rs); owner != "" {
			o.mark("floor-rs/" + owner)
		}
	}
	handlers[&corev1.Pod{}] = func(_, after client.Object) {
		pod, ok := after.(*corev1.Pod)
		if !ok || !isAppNamespace(pod.Namespace) {
			return
		}
		for _, st := range pod.Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff") {
				o.mark("failing/" + pod.Labels[appsv1alpha1.LabelInstance])
			}
		}
	}
	return handlers
}

func markDeployment(o *observer, d *appsv1.Deployment) {
	image := templateImage(d.Spec.Template.Spec)
	switch {
	case d.Namespace == floorNamespace && image == imageChurn:
		o.mark("floor-deploy/" + d.Name)
	case d.Namespace == floorNamespace && deploymentReady(d):
		o.mark("floor-ready/" + d.Name)
	case isAppNamespace(d.Namespace) && image == imageChurn:
		if _, bad := o.at("missing/" + d.Name); bad {
			o.mark("rolled-back/" + d.Name)
		}
		o.mark("churn-deploy/" + d.Name)
	case isAppNamespace(d.Namespace) && image == imageMissing:
		o.mark("missing/" + d.Name)
	}
}

// churnAndRollback measures, with every app Ready and the operator running, how long an image
// change takes to reach the app's Deployment template, against how long the Deployment controller
// takes to carry a Deployment's change into a ReplicaSet on the same cluster; then how long the
// operator takes from the first failure signal of a missing image to the rollback applied.
func (b *bench) churnAndRollback(ctx context.Context) (churnRun, error) {
	run := churnRun{Samples: b.churn, Rollbacks: b.rollbacks}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	f, err := b.fresh(ctx, churnHandlers, b.appNamespaces(floorNamespace)...)
	if err != nil {
		return run, err
	}
	c, o, seen := f.client, f.observer, f.seen
	op, _, err := startOperator(ctx, b.cluster, b.manager, b.operatorArgs)
	if err != nil {
		return run, err
	}
	defer op.stop()
	groups := [][]client.Object{}
	apps := b.apps()
	for _, app := range apps {
		groups = append(groups, []client.Object{app})
	}
	floorDeployments := make([]*appsv1.Deployment, b.churn)
	for i := range b.churn {
		d, ok := floorObjects(newApp(floorNamespace, appName(i)))[0].(*appsv1.Deployment)
		if !ok {
			return run, fmt.Errorf("the floor's first object is not a Deployment")
		}
		floorDeployments[i] = d
		groups = append(groups, []client.Object{d})
	}
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, err
	}
	if _, _, err := b.operatorDone(ctx, o); err != nil {
		return run, err
	}
	if err := o.waitFor(ctx, b.timeout(), "the floor's Deployments to be ready", func() bool {
		_, ok := o.latest(keys("floor-ready/", b.churn))
		return ok
	}); err != nil {
		return run, err
	}
	o.waitQuiet(ctx, 3*time.Second)
	if err := b.measureChurn(ctx, c, o, apps, floorDeployments, &run); err != nil {
		return run, err
	}
	if err := b.measureRollback(ctx, c, o, seen, apps, &run); err != nil {
		return run, err
	}
	return run, nil
}

// measureChurn changes one image every 200 ms, the apps' and the plain Deployments' interleaved.
func (b *bench) measureChurn(ctx context.Context, c client.Client, o *observer,
	apps []*appsv1alpha1.HighlyAvailableApp, floorDeployments []*appsv1.Deployment, run *churnRun) error {
	for i := range b.churn {
		if err := setImage(ctx, c, apps[i], imageChurn); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		if err := setImage(ctx, c, floorDeployments[i], imageChurn); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := o.waitFor(ctx, 2*time.Minute, "every changed template", func() bool {
		_, okApps := o.latest(keys("churn-deploy/", b.churn))
		_, okFloor := o.latest(keys("floor-rs/", b.churn))
		return okApps && okFloor
	}); err != nil {
		return err
	}
	var operatorLatency, controllerLatency []time.Duration
	for i := range b.churn {
		name := appName(i)
		from, _ := o.at("churn-app/" + name)
		to, _ := o.at("churn-deploy/" + name)
		operatorLatency = append(operatorLatency, to.Sub(from))
		from, _ = o.at("floor-deploy/" + name)
		to, _ = o.at("floor-rs/" + name)
		controllerLatency = append(controllerLatency, to.Sub(from))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	run.OperatorP50Ms, run.OperatorP99Ms = ms(percentile(operatorLatency, 50)), ms(percentile(operatorLatency, 99))
	run.DeploymentCtrlP50Ms = ms(percentile(controllerLatency, 50))
	run.DeploymentCtrlP99Ms = ms(percentile(controllerLatency, 99))
	b.logf("churn: operator p50 %.0f ms p99 %.0f ms; Deployment controller p50 %.0f ms p99 %.0f ms",
		run.OperatorP50Ms, run.OperatorP99Ms, run.DeploymentCtrlP50Ms, run.DeploymentCtrlP99Ms)
	return nil
}

// measureRollback gives the first apps a missing image, once their churned revision completed (the
// one to return to), and times each from its first failing pod to its Deployment back on that
// revision.
func (b *bench) measureRollback(ctx context.Context, c client.Client, o *observer, seen client.Reader,
	apps []*appsv1alpha1.HighlyAvailableApp, run *churnRun) error {
	if err := o.waitFor(ctx, b.timeout(), "the changed apps to complete their update", func() bool {
		for i := range b.rollbacks {
			app := &appsv1alpha1.HighlyAvailableApp{}
			d := &appsv1.Deployment{}
			key := client.ObjectKey{Namespace: b.namespaceOf(i), Name: appName(i)}
			if seen.Get(ctx, key, app) != nil || seen.Get(ctx, key, d) != nil {
				return false
			}
			if !appReady(app) || !deploymentReady(d) || templateImage(d.Spec.Template.Spec) != imageChurn {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	o.waitQuiet(ctx, 3*time.Second)
	for i := range b.rollbacks {
		if err := setImage(ctx, c, apps[i], imageMissing); err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Rollbacks that do not come are counted, not fatal.
	_ = o.waitFor(ctx, 3*time.Minute, "every rollback", func() bool {
		_, ok := o.latest(keys("rolled-back/", b.rollbacks))
		return ok
	})
	var rollback []time.Duration
	for i := range b.rollbacks {
		failing, okFailing := o.at("failing/" + appName(i))
		back, okBack := o.at("rolled-back/" + appName(i))
		if !okFailing || !okBack {
			run.RollbacksNotObserved++
			continue
		}
		rollback = append(rollback, back.Sub(failing))
	}
	run.RollbackP50Seconds = percentile(rollback, 50).Seconds()
	run.RollbackMaxSeconds = percentile(rollback, 100).Seconds()
	b.logf("rollback: p50 %.2fs, max %.2fs, %d of %d not observed",
		run.RollbackP50Seconds, run.RollbackMaxSeconds, run.RollbacksNotObserved, b.rollbacks)
	return nil
}

// findKind is the key of handlers of the same type as kind.
func findKind(handlers map[client.Object]handler, kind client.Object) client.Object {
	for obj := range handlers {
		if fmt.Sprintf("%T", obj) == fmt.Sprintf("%T", kind) {
			return obj
		}
	}
	return kind
}

// metaOwner is the name of the object's controller.
func metaOwner(obj client.Object) string {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return ref.Name
		}
	}
	return ""
}
