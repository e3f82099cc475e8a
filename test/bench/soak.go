package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// soakPhase keeps the apps changing for a long time (-soak-duration) and compares the operator's
// memory and goroutines before and after: what it keeps of the apps it has seen must go with them.
// It is long, so it runs only when -phases names it.
const soakPhase = "soak"

// soakSettings are the soak's flags.
type soakSettings struct {
	duration time.Duration
	// rate is the changes a second.
	rate float64
	seed uint64
}

// soakRun is the soak's figures: the operator settled before the churn and after it, a sample every
// minute in between, and the changes made.
type soakRun struct {
	Apps             int     `json:"apps"`
	NodesPerZone     int     `json:"nodesPerZone"`
	Seed             uint64  `json:"seed"`
	ChangesPerSecond float64 `json:"changesPerSecond"`
	// ChurnSeconds is how long the churn ran, SettleSeconds how long the apps then took to settle.
	ChurnSeconds  float64    `json:"churnSeconds"`
	SettleSeconds float64    `json:"settleSeconds"`
	Done          soakCounts `json:"done"`
	// Empty is the operator with no app; Before and After the lowest of 10 samples, settled; Restored
	// the same once every app is back to the replica count it was created with (soakPlan.restores),
	// after Restores scale changes.
	Empty    memory     `json:"empty"`
	Before   soakSample `json:"before"`
	After    soakSample `json:"after"`
	Restored soakSample `json:"restored"`
	Restores int        `json:"restores"`
	// The heap per app is the heap above the operator's with no app, over the apps that exist.
	HeapPerAppBeforeKiB float64 `json:"heapPerAppBeforeKiB"`
	HeapPerAppAfterKiB  float64 `json:"heapPerAppAfterKiB"`
	HeapPerAppRatio     float64 `json:"heapPerAppRatio"`
	HeapRatio           float64 `json:"heapRatio"`
	// The same, restored: the heap's growth with the apps' pods as before the churn.
	HeapPerAppRestoredKiB float64 `json:"heapPerAppRestoredKiB"`
	HeapRestoredRatio     float64 `json:"heapRestoredRatio"`
	// HeapRestoredLessEventsRatio is the same without the Events client-go keeps to find series
	// (EventSeriesPerApp*KiB): they go by themselves 6 to 12 minutes after they were sent.
	HeapRestoredLessEventsRatio float64 `json:"heapRestoredLessEventsRatio"`
	// The part of the heap client-go's Event broadcaster holds for the Events of the last 6 to 12
	// minutes, per app (an estimate from the heap profile).
	EventSeriesPerAppBeforeKiB   float64 `json:"eventSeriesPerAppBeforeKiB"`
	EventSeriesPerAppAfterKiB    float64 `json:"eventSeriesPerAppAfterKiB"`
	EventSeriesPerAppRestoredKiB float64 `json:"eventSeriesPerAppRestoredKiB"`
	MaxGoroutines                float64 `json:"maxGoroutines"`
	// SilentNodeMarks are the operator's NodeSilent Events that marked pods not ready: every node
	// stays healthy through the soak, so any is a false alarm.
	SilentNodeMarks int `json:"silentNodeMarks"`
	// Series is a sample a minute during the churn.
	Series []soakSample `json:"series"`
	// HeapProfiles are the operator's heap profiles before and after, in the cluster's logs.
	HeapProfiles []string `json:"heapProfiles"`
}

// soakCounts are the changes the churn made, and those the API server refused.
type soakCounts struct {
	Creates      int `json:"creates"`
	Deletes      int `json:"deletes"`
	ImageChanges int `json:"imageChanges"`
	ScaleChanges int `json:"scaleChanges"`
	Failed       int `json:"failed"`
}

// soakSample is the operator at one moment: its memory after a garbage collection, its goroutines,
// its work so far and its queue, with the apps that exist and the changes made so far.
type soakSample struct {
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	Apps           int     `json:"apps"`
	Changes        int     `json:"changes"`
	memory
	counters
	QueueDepth float64 `json:"queueDepth"`
}

// soakNodesPerZone sizes the soak's cluster for every app at the most replicas a scale change gives.
func soakNodesPerZone(n int) int { return nodesPerZone(n*soakMaxReplicas, zones, podsPerNode, 2, 0.25) }

// soak starts the operator, creates the apps and waits until they are settled; samples the operator;
// changes the apps for the soak's duration, sampling every minute; stops, waits until they are
// settled again, and samples the operator again. It fails only when the apps do not settle.
//
//nolint:funlen // one phase, its steps in the order they run, with the measurement around them.
func (b *bench) soak(ctx context.Context) (soakRun, error) {
	s := b.soakSettings
	run := soakRun{Apps: b.n, Seed: s.seed, ChangesPerSecond: s.rate, NodesPerZone: soakNodesPerZone(b.n)}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer func(saved int) { b.cluster.nodesPerZone = saved }(b.cluster.nodesPerZone)
	b.cluster.nodesPerZone = run.NodesPerZone
	f, err := b.fresh(ctx, progressAndChanges, appNamespace)
	if err != nil {
		return run, err
	}
	c, o, seen := f.client, f.observer, f.seen
	op, _, err := startOperator(ctx, b.cluster, b.manager, b.operatorArgs)
	if err != nil {
		return run, err
	}
	defer op.stop()
	if run.Empty, err = op.settledMemory(ctx, 5); err != nil {
		return run, err
	}
	groups := [][]client.Object{}
	for _, app := range b.apps() {
		groups = append(groups, []client.Object{app})
	}
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, err
	}
	// sample waits until the apps are settled and nothing has changed for 5 s, samples the operator
	// into the sample given, and returns how long the apps took to settle.
	sample := func(name string, into *soakSample, eventsKiB *float64) (time.Duration, error) {
		settling := time.Now()
		if err := b.waitSettled(ctx, seen); err != nil {
			return 0, err
		}
		settled := time.Since(settling)
		o.waitQuiet(ctx, 5*time.Second)
		var err error
		*into, *eventsKiB, err = b.settledSample(ctx, op, seen, name, &run)
		return settled, err
	}
	if _, err := sample("before", &run.Before, &run.EventSeriesPerAppBeforeKiB); err != nil {
		return run, err
	}
	b.logf("soak: %d apps settled: heap %.1f MiB, RSS %.1f MiB, %.0f goroutines; churning for %s, %.3g changes a second",
		run.Before.Apps, run.Before.Heap/(1<<20), run.Before.RSS/(1<<20), run.Before.Goroutines, s.duration, s.rate)

	start := time.Now()
	var changes atomic.Int64
	series := b.sampleEachMinute(ctx, op, seen, start, &changes)
	plan := newSoakPlan(s.seed, b.n)
	err = b.soakChurn(ctx, c, plan, &run.Done, &changes)
	run.Series = series()
	if err != nil {
		return run, err
	}
	run.ChurnSeconds = time.Since(start).Seconds()
	settled, err := sample("after", &run.After, &run.EventSeriesPerAppAfterKiB)
	if err != nil {
		return run, err
	}
	run.SettleSeconds = settled.Seconds()
	run.Before.Changes, run.After.Changes = 0, int(changes.Load())
	run.After.ElapsedSeconds = time.Since(start).Seconds()
	if err := b.soakRestore(ctx, c, plan, &run); err != nil {
		return run, err
	}
	if _, err := sample("restored", &run.Restored, &run.EventSeriesPerAppRestoredKiB); err != nil {
		return run, err
	}
	if run.SilentNodeMarks, err = silentNodeMarks(ctx, c); err != nil {
		return run, err
	}
	run.Restored.ElapsedSeconds = time.Since(start).Seconds()
	soakFigures(&run)
	b.logf("soak: %d creates, %d deletes, %d image and %d scale changes (%d failed) in %.0fs, settled %.1fs later; "+
		"heap per app %.1f → %.1f KiB (%.2f×), %.1f KiB once %d apps were scaled back (%.2f×), "+
		"goroutines %.0f → %.0f (at most %.0f)",
		run.Done.Creates, run.Done.Deletes, run.Done.ImageChanges, run.Done.ScaleChanges, run.Done.Failed,
		run.ChurnSeconds, run.SettleSeconds, run.HeapPerAppBeforeKiB, run.HeapPerAppAfterKiB, run.HeapPerAppRatio,
		run.HeapPerAppRestoredKiB, run.Restores, run.HeapRestoredRatio, run.Before.Goroutines, run.After.Goroutines,
		run.MaxGoroutines)
	return run, nil
}

// silentNodeMarks counts the operator's NodeSilent Events that marked pods not ready, in every
// namespace (the others say why it marked none).
func silentNodeMarks(ctx context.Context, c client.Reader) (int, error) {
	events := &corev1.EventList{}
	if err := c.List(ctx, events, client.MatchingFields{"reason": appsv1alpha1.ReasonNodeSilent}); err != nil {
		return 0, fmt.Errorf("list NodeSilent Events: %w", err)
	}
	marks := 0
	for _, e := range events.Items {
		if strings.Contains(e.Message, ": marked pods ") {
			marks += max(int(e.Count), 1)
		}
	}
	return marks, nil
}

// soakFigures derives the soak's figures from its samples.
func soakFigures(run *soakRun) {
	perApp := func(s soakSample) float64 { return (s.Heap - run.Empty.Heap) / float64(max(s.Apps, 1)) / 1024 }
	run.HeapPerAppBeforeKiB, run.HeapPerAppAfterKiB = perApp(run.Before), perApp(run.After)
	run.HeapPerAppRestoredKiB = perApp(run.Restored)
	if run.HeapPerAppBeforeKiB > 0 {
		run.HeapPerAppRatio = run.HeapPerAppAfterKiB / run.HeapPerAppBeforeKiB
	}
	if run.Before.Heap > 0 {
		run.HeapRatio = run.After.Heap / run.Before.Heap
		run.HeapRestoredRatio = run.Restored.Heap / run.Before.Heap
	}
	lessEvents := func(s soakSample, perAppKiB float64) float64 { return s.Heap - perAppKiB*1024*float64(s.Apps) }
	if before := lessEvents(run.Before, run.EventSeriesPerAppBeforeKiB); before > 0 && run.Restored.Heap > 0 {
		run.HeapRestoredLessEventsRatio = lessEvents(run.Restored, run.EventSeriesPerAppRestoredKiB) / before
	}
	run.MaxGoroutines = max(run.Before.Goroutines, run.After.Goroutines, run.Restored.Goroutines)
	for _, s := range run.Series {
		run.MaxGoroutines = max(run.MaxGoroutines, s.Goroutines)
	}
}

// soakChurn makes the plan's changes at the soak's rate until its duration is over: the i-th change
// is due i intervals after the start, so that a change the API server is slow to take is made up
// for by the next ones rather than skipped. A change the API server refuses is counted and logged,
// and the churn goes on: whether the apps settle afterwards is the test.
func (b *bench) soakChurn(ctx context.Context, c client.Client, plan *soakPlan, done *soakCounts,
	changes *atomic.Int64) error {
	interval := time.Duration(float64(time.Second) / b.soakSettings.rate)
	start := time.Now()
	end := start.Add(b.soakSettings.duration)
	for i := 1; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(due)):
		}
		if time.Now().After(end) {
			return nil
		}
		for _, err := range change(ctx, c, plan.next(), done) {
			done.Failed++
			b.logf("soak: %v", err)
		}
		changes.Add(1)
	}
}

// soakRestore scales every app back to the replica count it was created with (soakPlan.restores),
// eight at a time, counting the changes in run.Restores; a refusal fails the phase, since the sample
// after it would not be of the apps' first shape.
func (b *bench) soakRestore(ctx context.Context, c client.Client, plan *soakPlan, run *soakRun) error {
	steps := plan.restores()
	var mu sync.Mutex
	var refused []error
	work := make(chan soakStep)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for step := range work {
				var done soakCounts
				errs := change(ctx, c, step, &done)
				mu.Lock()
				run.Restores += done.ScaleChanges
				refused = append(refused, errs...)
				mu.Unlock()
			}
		})
	}
	for _, step := range steps {
		work <- step
	}
	close(work)
	wg.Wait()
	b.logf("soak: %d apps scaled back to the replicas they were created with", run.Restores)
	if len(refused) > 0 {
		return fmt.Errorf("scaling the apps back: %d refused, the first: %w", len(refused), refused[0])
	}
	return nil
}

// change makes one change, counting in done what the API server accepted, and returns its refusals.
func change(ctx context.Context, c client.Client, step soakStep, done *soakCounts) []error {
	var refused []error
	count := func(counter *int, err error) {
		if err != nil {
			refused = append(refused, err)
			return
		}
		*counter++
	}
	about := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	app := func(name string) *appsv1alpha1.HighlyAvailableApp {
		return &appsv1alpha1.HighlyAvailableApp{ObjectMeta: metav1.ObjectMeta{Namespace: appNamespace, Name: name}}
	}
	switch step.Kind {
	case replaceApp:
		count(&done.Deletes, about("delete "+step.App, c.Delete(ctx, app(step.App))))
		count(&done.Creates, about("create "+step.New, c.Create(ctx, newApp(appNamespace, step.New))))
	case changeImage:
		count(&done.ImageChanges, setImage(ctx, c, app(step.App), step.Image))
	case changeScale:
		patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, step.Replicas)
		count(&done.ScaleChanges, about(fmt.Sprintf("scale %s to %d", step.App, step.Replicas),
			c.Patch(ctx, app(step.App), client.RawPatch(types.MergePatchType, patch))))
	}
	return refused
}

// sampleEachMinute samples the operator every minute from now on, in the background; the function it
// returns stops the sampling and returns the samples.
func (b *bench) sampleEachMinute(ctx context.Context, op *operator, seen client.Reader, start time.Time,
	changes *atomic.Int64) func() []soakSample {
	var series []soakSample
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-tick.C:
			}
			s, err := b.sampleOperator(ctx, op, seen, 1)
			if err != nil {
				b.logf("soak: sample: %v", err)
				continue
			}
			s.ElapsedSeconds, s.Changes = time.Since(start).Seconds(), int(changes.Load())
			series = append(series, s)
			b.logf("soak %s: %d apps, %d changes, heap %.1f MiB, RSS %.1f MiB, %.0f goroutines, "+
				"%.0f reconciles, %.0f requests, %.0f queued",
				time.Duration(s.ElapsedSeconds)*time.Second, s.Apps, s.Changes, s.Heap/(1<<20), s.RSS/(1<<20),
				s.Goroutines, s.Reconciles, s.Requests, s.QueueDepth)
		}
	})
	return func() []soakSample {
		close(stop)
		wg.Wait()
		return series
	}
}

// settledSample is the lowest of 10 samples of the settled operator, and the heap its Event
// broadcaster holds per app in KiB; it saves the operator's heap profile in the cluster's logs as
// soak-heap-NAME.pb.gz, and adds its path to the run's.
func (b *bench) settledSample(ctx context.Context, op *operator, seen client.Reader, name string,
	run *soakRun) (soakSample, float64, error) {
	s, err := b.sampleOperator(ctx, op, seen, 10)
	if err != nil {
		return s, 0, err
	}
	events, err := op.heapHeldUnder(eventSeriesFrame)
	if err != nil {
		return s, 0, err
	}
	path := filepath.Join(b.cluster.dir(), "logs", "soak-heap-"+name+".pb.gz")
	if err := op.saveHeapProfile(path); err != nil {
		return s, 0, err
	}
	run.HeapProfiles = append(run.HeapProfiles, path)
	return s, events / float64(max(s.Apps, 1)) / 1024, nil
}

// sampleOperator samples the operator's memory (the lowest of samples, a second apart), then its
// counters and queue, and counts the apps.
func (b *bench) sampleOperator(ctx context.Context, op *operator, seen client.Reader, samples int) (soakSample, error) {
	var s soakSample
	var err error
	if s.memory, err = op.settledMemory(ctx, samples); err != nil {
		return s, err
	}
	m, err := op.metrics()
	if err != nil {
		return s, err
	}
	s.counters = countersIn(m)
	s.QueueDepth = sumMetric(m, "workqueue_depth", map[string]string{"name": "highlyavailableapp"})
	state, err := settleStateIn(ctx, seen)
	s.Apps = state.Apps
	return s, err
}

// settleState is how far the apps are from settled, as the bench's watch shows them.
type settleState struct {
	// Apps are the apps that exist, not being deleted; NotReady those of them not Ready for their
	// current generation, or whose Deployment is not ready with the app's replicas; Deleting the apps
	// being deleted; Deployments every Deployment in the apps' namespace.
	Apps, NotReady, Deleting, Deployments int
}

// settled says whether every app is Ready with its Deployment, and no deleted app's Deployment is
// left.
func (s settleState) settled() bool {
	return s.NotReady == 0 && s.Deleting == 0 && s.Deployments == s.Apps
}

func (s settleState) String() string {
	return fmt.Sprintf("%d apps, %d of them not Ready, %d being deleted, %d Deployments",
		s.Apps, s.NotReady, s.Deleting, s.Deployments)
}

// settleStateOf is the settle state of the apps and the Deployments of their namespace.
func settleStateOf(apps []appsv1alpha1.HighlyAvailableApp, deployments []appsv1.Deployment) settleState {
	s := settleState{Deployments: len(deployments)}
	byApp := make(map[string]*appsv1.Deployment, len(deployments))
	for i := range deployments {
		byApp[instance(&deployments[i])] = &deployments[i]
	}
	for i := range apps {
		app := &apps[i]
		if app.DeletionTimestamp != nil {
			s.Deleting++
			continue
		}
		s.Apps++
		d := byApp[app.Name]
		if !appReady(app) || d == nil || !deploymentReady(d) ||
			ptr.Deref(d.Spec.Replicas, 1) != ptr.Deref(app.Spec.Replicas, 1) {
			s.NotReady++
		}
	}
	return s
}

// settleStateIn reads the settle state from the watch's cache (without copying the objects).
func settleStateIn(ctx context.Context, seen client.Reader) (settleState, error) {
	var apps appsv1alpha1.HighlyAvailableAppList
	var deployments appsv1.DeploymentList
	for _, list := range []client.ObjectList{&apps, &deployments} {
		if err := seen.List(ctx, list, client.InNamespace(appNamespace), client.UnsafeDisableDeepCopy); err != nil {
			return settleState{}, err
		}
	}
	return settleStateOf(apps.Items, deployments.Items), nil
}

// waitSettled waits until the apps are settled, checking every second, for b.timeout() at most.
func (b *bench) waitSettled(ctx context.Context, seen client.Reader) error {
	timeout := b.timeout()
	deadline := time.Now().Add(timeout)
	for {
		s, err := settleStateIn(ctx, seen)
		if err == nil && s.settled() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the apps did not settle within %s: %s (%v)", timeout, s, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// soakRows are the soak's rows of the table, when the soak ran or failed: "–" when it failed.
func soakRows(r results) []row {
	ran := slices.Contains(r.Ran, soakPhase)
	if !ran && !slices.ContainsFunc(r.Failed, func(f string) bool { return strings.HasPrefix(f, soakPhase+":") }) {
		return nil
	}
	in := func(v float64) figure {
		if !ran {
			return nil
		}
		return value(v)
	}
	count := func(n int) figure { return in(float64(n)) }
	inMiB := func(bytes float64) figure { return in(bytes / (1 << 20)) }
	s := r.Soak
	return []row{
		{Name: "soak: Go heap per app, before", Unit: kib, Op: in(s.HeapPerAppBeforeKiB)},
		{Name: "soak: Go heap per app, after", Unit: kib, Op: in(s.HeapPerAppAfterKiB)},
		{Name: "soak: Go heap per app, after / before", Op: in(s.HeapPerAppRatio)},
		{Name: "soak: Go heap, after / before", Op: in(s.HeapRatio)},
		{Name: "soak: Go heap per app, apps scaled back", Unit: kib, Op: in(s.HeapPerAppRestoredKiB)},
		{Name: "soak: Go heap, apps scaled back / before", Op: in(s.HeapRestoredRatio)},
		{Name: "soak: the same, less the Events client-go keeps for series", Op: in(s.HeapRestoredLessEventsRatio)},
		{Name: "soak: apps scaled back to their first replicas", Op: count(s.Restores)},
		{Name: "soak: RSS, before", Unit: mib, Op: inMiB(s.Before.RSS)},
		{Name: "soak: RSS, after", Unit: mib, Op: inMiB(s.After.RSS)},
		{Name: "soak: goroutines, before", Op: in(s.Before.Goroutines)},
		{Name: "soak: goroutines, after", Op: in(s.After.Goroutines)},
		{Name: "soak: goroutines, most in a sample", Op: in(s.MaxGoroutines)},
		{Name: "soak: apps created", Op: count(s.Done.Creates)},
		{Name: "soak: apps deleted", Op: count(s.Done.Deletes)},
		{Name: "soak: image changes", Op: count(s.Done.ImageChanges)},
		{Name: "soak: scale changes", Op: count(s.Done.ScaleChanges)},
		{Name: "soak: changes the API server refused", Op: count(s.Done.Failed)},
		{Name: "soak: NodeSilent marks, every node healthy", Op: count(s.SilentNodeMarks)},
	}
}

// soakNote says how the soak's figures were taken, under the table.
func soakNote(r results) string {
	if !slices.Contains(r.Ran, soakPhase) {
		return "Soak: the phase failed (above)."
	}
	s := r.Soak
	profiles := "none saved"
	if len(s.HeapProfiles) >= 2 {
		profiles = fmt.Sprintf("go tool pprof -sample_index=inuse_space -top -diff_base %s %s", s.HeapProfiles[0],
			s.HeapProfiles[len(s.HeapProfiles)-1])
	}
	return fmt.Sprintf(`Soak: %d apps on %d nodes; for %s, %.3g changes a second (seed %d), in turn an app replaced
(deleted, and a new one created under a new name), an image changed (among %d) and a replica count
changed (to between %d and %d), each on an app picked at random; the operator sampled every minute
(bench.json, soak.series). Before and after: once every app is Ready with its Deployment ready with
the app's replicas and no deleted app's Deployment is left, then quiet for 5 s, the lowest of 10
samples a second apart; heap per app: the heap above the operator's with no app (%.1f MiB), over the
apps. The apps settled %.1f s after the churn stopped. Scaled back: then every app that a scale
change left at another count (%d) is scaled back to the replicas it was created with, so that the
apps hold as many pods as before (the images and the revision records the churn added stay), and
sampled again once settled. Of the heap, client-go keeps the Events the operator sent in the last 6
to 12 minutes to find series (before: the apps' creation; after: the churn's last minutes; scaled
back: the scale changes): %.1f KiB per app before, %.1f after, %.1f scaled back. What grew: %s.`,
		s.Apps, s.NodesPerZone*zones, time.Duration(s.ChurnSeconds*float64(time.Second)).Round(time.Second),
		s.ChangesPerSecond, s.Seed, len(soakImages), soakMinReplicas, soakMaxReplicas, s.Empty.Heap/(1<<20),
		s.SettleSeconds, s.Restores, s.EventSeriesPerAppBeforeKiB, s.EventSeriesPerAppAfterKiB,
		s.EventSeriesPerAppRestoredKiB, profiles)
}
