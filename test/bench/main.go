// Command bench measures ha-operator on the local simulated cluster (hack/cluster/cluster.sh)
// against the floor, a plain client that creates the same Deployments, Services and
// PodDisruptionBudgets directly, and against the Deployment controller for the latency of a change;
// with ARGO_ROLLOUTS_BIN, also Argo Rollouts' controller on the same apps as Rollouts. Each phase runs
// on a fresh cluster sized for the apps; timings come from watch events. It prints one table and
// writes the figures as JSON. Run it with `make bench N=200`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
}

const (
	podsPerApp  = 3
	podsPerNode = 110
	zones       = 3
	// The unrelated objects of the memory phase, for a run of referenceApps apps or more; smaller
	// runs scale the count down.
	unrelatedObjectsAt1000 = 5000
	referenceApps          = 1000
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

//nolint:funlen // the flags, then the phases in order: one read from top to bottom.
func run() error {
	n := flag.Int("n", 200, "how many apps (Stateless nginx, 3 replicas)")
	perNamespace := flag.Int("apps-per-namespace", 0, "spread the apps over namespaces of this many "+
		"(0: all in one); not with the soak phase")
	manager := flag.String("manager", "bin/manager", "the operator binary to measure")
	operatorArgs := flag.String("operator-args", "", "extra flags for the operator, separated by spaces")
	out := flag.String("out", "bench.json", "where to write the figures as JSON")
	name := flag.String("cluster-name", "bench", "the local cluster's name (its state dir .cluster/NAME)")
	portBase := flag.Int("cluster-port-base", 20400, "the first of the local cluster's ports")
	idleWindow := flag.Duration("idle-window", 30*time.Second, "how long to count writes once settled")
	churn := flag.Int("churn", 0, "image changes for the churn figures (default: N, at most 100)")
	rollbacks := flag.Int("rollbacks", 0, "apps given a missing image for the rollback figure (default: N/5, 1 to 10)")
	keep := flag.Bool("keep-cluster", false, "leave the last phase's cluster running")
	only := flag.String("phases", strings.Join(phaseNames, ","), "the phases to run, separated by commas; "+
		"the soak phase ("+soakPhase+") is long and runs only when named here")
	statusWorkers := flag.Int("status-floor-workers", defaultStatusFloorWorkers, "the workers of the floor with status")
	argoBin := flag.String("argo-rollouts", os.Getenv("ARGO_ROLLOUTS_BIN"), "Argo Rollouts' rollouts-controller "+
		"binary for the argo phase (default $ARGO_ROLLOUTS_BIN; none: the phase does not run)")
	argoArgs := flag.String("argo-rollouts-args", "", "extra flags for rollouts-controller, separated by spaces")
	soakDuration := flag.Duration("soak-duration", 30*time.Minute, "how long the soak phase keeps changing the apps")
	soakRate := flag.Float64("soak-rate", 2, "the soak's changes a second: in turn an app replaced "+
		"(one deleted, a new one created), an image changed, a replica count changed to between 2 and 5")
	soakSeed := flag.Uint64("soak-seed", 1, "the seed of the soak's random choices: the same seed, the same changes")
	flag.Parse()
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	if *perNamespace < 0 {
		return errors.New("-apps-per-namespace must be 0 (one namespace) or more")
	}
	if *statusWorkers < 1 {
		return errors.New("-status-floor-workers must be at least 1")
	}
	if *soakRate <= 0 || *soakDuration <= 0 {
		return errors.New("-soak-rate and -soak-duration must be positive")
	}
	// The control plane's clients log through klog; the figures are what matters here.
	klog.SetOutput(os.Stderr)
	ctrllog.SetLogger(klog.Background())

	root, err := repoRoot()
	if err != nil {
		return err
	}
	managerPath, err := filepath.Abs(*manager)
	if err != nil {
		return err
	}
	if _, err := os.Stat(managerPath); err != nil {
		return fmt.Errorf("the operator binary: %w", err)
	}
	argo := argoRollouts{extraArgs: strings.Fields(*argoArgs), module: filepath.Join(root, "hack", "argo-rollouts")}
	if *argoBin != "" {
		if argo.binary, err = filepath.Abs(*argoBin); err != nil {
			return err
		}
		if _, err := os.Stat(argo.binary); err != nil {
			return fmt.Errorf("the Argo Rollouts binary (ARGO_ROLLOUTS_BIN): %w", err)
		}
	}
	b := &bench{
		manager:       managerPath,
		operatorArgs:  strings.Fields(*operatorArgs),
		n:             *n,
		perNamespace:  *perNamespace,
		idleWindow:    *idleWindow,
		statusWorkers: *statusWorkers,
		churn:         *churn,
		rollbacks:     *rollbacks,
		unrelated:     scaledCount(unrelatedObjectsAt1000, *n, referenceApps),
		argo:          argo,
		soakSettings:  soakSettings{duration: *soakDuration, rate: *soakRate, seed: *soakSeed},
		logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
		},
	}
	if b.churn <= 0 {
		b.churn = min(*n, 100)
	}
	if b.rollbacks <= 0 {
		b.rollbacks = max(1, min(*n/5, 10))
	}
	b.churn, b.rollbacks = min(b.churn, *n), min(b.rollbacks, *n, b.churn)
	// The churn phase runs the floor's Deployments beside the apps; size for both.
	perZone := nodesPerZone((*n+b.churn)*podsPerApp, zones, podsPerNode, 2, 0.25)
	b.cluster = &cluster{root: root, name: *name, portBase: *portBase, nodesPerZone: perZone, log: os.Stderr}
	b.results.N, b.results.NodesPerZone, b.results.AppsPerNamespace = *n, perZone, *perNamespace

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	defer func() {
		if !*keep {
			if err := b.cluster.down(); err != nil {
				b.logf("stopping the cluster: %v", err)
			}
		}
	}()
	started := time.Now()
	b.logf("%d apps, %d nodes in %d zones (%d pods each), operator %s %s",
		*n, perZone*zones, zones, podsPerNode, managerPath, *operatorArgs)
	if argo.binary != "" {
		b.logf("Argo Rollouts: %s %s", argo.binary, *argoArgs)
	}
	if *perNamespace > 0 {
		b.logf("%d apps per namespace, in %d namespaces", *perNamespace, len(b.appNamespaces()))
	}
	selected, err := selectPhases(*only)
	if err != nil {
		return err
	}
	if selected[soakPhase] && *perNamespace > 0 {
		return errors.New("-apps-per-namespace: the soak phase keeps its apps in one namespace; run it without the flag")
	}
	// A phase that fails leaves its figures out; the others still run and the table is printed.
	var failed []string
	for _, p := range []struct {
		name string
		run  func() error
	}{
		{"floor1", func() (err error) { b.results.Floor1, err = b.floor(ctx, 1); return err }},
		{"floor8", func() (err error) { b.results.Floor8, err = b.floor(ctx, 8); return err }},
		{statusFloorPhase, func() (err error) { b.results.FloorStatus, err = b.floorWithStatus(ctx, false); return err }},
		{guardedFloorPhase, func() (err error) { b.results.FloorGuarded, err = b.floorWithStatus(ctx, true); return err }},
		{"catchup", func() (err error) { b.results.CatchUp, err = b.catchUp(ctx); return err }},
		{"endtoend", func() (err error) { b.results.EndToEnd, b.results.Memory, err = b.endToEnd(ctx); return err }},
		{"churn", func() (err error) { b.results.Churn, err = b.churnAndRollback(ctx); return err }},
		{argoPhase, func() (err error) { b.results.ArgoRollouts, err = b.argoRollouts(ctx); return err }},
		{soakPhase, func() (err error) { b.results.Soak, err = b.soak(ctx); return err }},
	} {
		if !selected[p.name] || ctx.Err() != nil || (p.name == argoPhase && argo.binary == "") {
			continue
		}
		if err := p.run(); err != nil {
			b.logf("phase %s failed: %v", p.name, err)
			failed = append(failed, p.name)
			b.results.Failed = append(b.results.Failed, p.name+": "+err.Error())
		} else {
			b.results.Ran = append(b.results.Ran, p.name)
		}
	}
	b.results.Table = tableRows(b.results)
	b.printResults(selected, perZone)
	fmt.Printf("Measured in %s.\n", time.Since(started).Round(time.Second))
	data, err := json.MarshalIndent(b.results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("phases failed: %s", strings.Join(failed, ", "))
	}
	return ctx.Err()
}

// selectPhases are the phases named in a list separated by commas.
func selectPhases(list string) (map[string]bool, error) {
	known := append(slices.Clone(phaseNames), soakPhase)
	selected := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown phase %q (phases: %s)", name, strings.Join(known, ", "))
		}
		selected[name] = true
	}
	return selected, nil
}

// printResults prints the table and the notes under it.
func (b *bench) printResults(selected map[string]bool, perZone int) {
	title := fmt.Sprintf("N=%d (%d nodes)", b.n, perZone*zones)
	if b.perNamespace > 0 {
		title = fmt.Sprintf("N=%d (%d nodes, %d apps per namespace)", b.n, perZone*zones, b.perNamespace)
	}
	if selected[soakPhase] {
		title = fmt.Sprintf("N=%d (%d nodes, soak %d)", b.n, perZone*zones, soakNodesPerZone(b.n)*zones)
	}
	fmt.Printf("\n%s\n", renderTable(title, b.results.Table))
	fmt.Printf("%s\n%s\n", notes(b.results, b), argoNote(b.results, b.argo.binary != "" && selected[argoPhase]))
	if note := requestsNote(b.results); note != "" {
		fmt.Println(note)
	}
	if selected[soakPhase] {
		fmt.Println(soakNote(b.results))
	}
}

// phaseNames are the phases run by default, in the order they run; argoPhase runs only with an Argo
// Rollouts binary. The soak phase runs last, and only when named.
var phaseNames = []string{"floor1", "floor8", statusFloorPhase, guardedFloorPhase, "catchup", "endtoend", "churn",
	argoPhase}

const argoPhase = "argo"

// kib is the unit of the per-app memory rows, mib that of the rows of changes and totals.
const (
	kib = "KiB"
	mib = "MiB"
)

// tableRows lays the results out beside the floor.
func tableRows(r results) []row {
	// in is a figure of a phase, absent when the phase did not run to the end.
	in := func(phase string) func(float64) figure {
		if !slices.Contains(r.Ran, phase) {
			return func(float64) figure { return nil }
		}
		return value
	}
	f1, f8, cu, e2e, ch, ar := in("floor1"), in("floor8"), in("catchup"), in("endtoend"), in("churn"), in(argoPhase)
	fs, fg := in(statusFloorPhase), in(guardedFloorPhase)
	idleFloor := figure(nil)
	if r.Floor8.IdleWrites != nil && r.Floor8.IdleWindowSecs > 0 {
		idleFloor = value(float64(*r.Floor8.IdleWrites) / (r.Floor8.IdleWindowSecs / 60))
	}
	unrelated := fmt.Sprintf("after %d unrelated 32 KiB ConfigMaps and Secrets", r.Memory.Unrelated)
	return append([]row{
		{Name: "catch-up: children exist, observedGeneration current", Unit: "s",
			Floor1: f1(r.Floor1.ChildrenSeconds), Floor8: f8(r.Floor8.ChildrenSeconds),
			Status: fs(r.FloorStatus.ChildrenSeconds), Guarded: fg(r.FloorGuarded.ChildrenSeconds),
			Op:   cu(r.CatchUp.ChildrenSeconds),
			Argo: ar(r.ArgoRollouts.ChildrenSeconds)},
		{Name: "catch-up: all Ready", Unit: "s",
			Floor1: f1(r.Floor1.ReadySeconds), Floor8: f8(r.Floor8.ReadySeconds), Status: fs(r.FloorStatus.ReadySeconds),
			Guarded: fg(r.FloorGuarded.ReadySeconds), Op: cu(r.CatchUp.ReadySeconds), Argo: ar(r.ArgoRollouts.ReadySeconds)},
		{Name: "end to end: create the apps, all Ready", Unit: "s",
			Floor1: f1(r.Floor1.ReadySeconds), Floor8: f8(r.Floor8.ReadySeconds), Status: fs(r.FloorStatus.ReadySeconds),
			Guarded: fg(r.FloorGuarded.ReadySeconds), Op: e2e(r.EndToEnd.ReadySeconds)},
		{Name: "reconciles per app, catch-up", Op: cu(r.CatchUp.ReconcilesPerApp)},
		{Name: "reconciles per app, end to end", Op: e2e(r.EndToEnd.ReconcilesPerApp)},
		{Name: "API requests per app, catch-up",
			Floor1: f1(r.Floor1.RequestsPerApp), Floor8: f8(r.Floor8.RequestsPerApp), Status: fs(r.FloorStatus.RequestsPerApp),
			Guarded: fg(r.FloorGuarded.RequestsPerApp), Op: cu(r.CatchUp.RequestsPerApp)},
		{Name: "API requests per app, end to end",
			Floor1: f1(r.Floor1.RequestsPerApp), Floor8: f8(r.Floor8.RequestsPerApp), Status: fs(r.FloorStatus.RequestsPerApp),
			Guarded: fg(r.FloorGuarded.RequestsPerApp), Op: e2e(r.EndToEnd.RequestsPerApp)},
		{Name: "Go heap per app, settled", Unit: kib,
			Op: e2e(r.Memory.HeapPerAppKiB), Argo: ar(r.ArgoRollouts.HeapPerAppKiB)},
		{Name: "of which Events kept by client-go to find series (6 to 12 min)", Unit: kib,
			Op: e2e(r.Memory.EventSeriesPerAppKiB)},
		{Name: "RSS per app, settled", Unit: kib, Op: e2e(r.Memory.RSSPerAppKiB)},
		{Name: "Go heap change " + unrelated, Unit: mib, Op: e2e(r.Memory.HeapChangeMiB)},
		{Name: "RSS change " + unrelated, Unit: mib, Op: e2e(r.Memory.RSSChangeMiB)},
		{Name: "churn: image change → template, p50 (floor: Deployment controller)", Unit: "ms",
			Floor8: ch(r.Churn.DeploymentCtrlP50Ms), Op: ch(r.Churn.OperatorP50Ms)},
		{Name: "churn: image change → template, p99 (floor: Deployment controller)", Unit: "ms",
			Floor8: ch(r.Churn.DeploymentCtrlP99Ms), Op: ch(r.Churn.OperatorP99Ms)},
		{Name: "rollback: first failure signal → template back, p50", Unit: "s", Op: ch(r.Churn.RollbackP50Seconds)},
		{Name: "rollback: first failure signal → template back, max", Unit: "s", Op: ch(r.Churn.RollbackMaxSeconds)},
		{Name: "idle writes per minute", Floor8: idleFloor, Op: e2e(r.Memory.IdleWritesPerMn)},
	}, soakRows(r)...)
}

// notes says how the figures were taken, under the table.
func notes(r results, b *bench) string {
	return fmt.Sprintf(`Floor: the same Deployments, Services and PDBs created by a plain client (no rate limit); it
has no catch-up of its own, so its catch-up and end-to-end figures are one run. Floor + status: the apps
exist first; %d workers create each app's objects, owned by the app, and write its status twice (with
the objects in place, then Ready), as the status contract asks of any implementation: no read, no
revision record, no Event; its figures are counted as the catch-up's. Guarded floor: the same, and,
as the operator does, server-side applies that refuse an object of the same name (the operator's
precondition on a create), the first revision's record written once, at the end, and the three
Events a new bench app gets (created and rollout started, advice, rollout complete). The operator's
catch-up counts from the start of its process. Churn: %d image changes, one every 200 ms, the apps' and plain
Deployments' interleaved; the floor is the Deployment controller's Deployment → ReplicaSet latency on
the same cluster. Rollback: %d apps given %s (%d not observed). Memory: the heap live after a forced garbage
collection and the resident set, the lowest of 10 samples a second apart, minus the operator with no
app. Idle: changes to every kind the operator writes over %s
once settled (the operator sent %.0f write requests in that window).`,
		b.statusWorkers, r.Churn.Samples, r.Churn.Rollbacks, imageMissing, r.Churn.RollbacksNotObserved,
		b.idleWindow, r.Memory.IdleWriteCalls)
}

// argoNote says how the Argo Rollouts column was taken, or how to take it when it was not.
func argoNote(r results, wanted bool) string {
	switch {
	case !wanted:
		return "Argo Rollouts column: not run; make bench ARGO_ROLLOUTS_BIN=bin/rollouts-controller builds and runs it."
	case !slices.Contains(r.Ran, argoPhase):
		return "Argo Rollouts column: the phase failed (above)."
	}
	a := r.ArgoRollouts
	return fmt.Sprintf(`Argo Rollouts: rollouts-controller %s, CRDs of %s.
The same apps as Rollouts (canary, no steps) beside the same Services and PDBs, created first; counted
from the start of its process. Children: each Rollout's ReplicaSet, status.observedGeneration current;
Ready: phase Healthy, %d replicas available. Memory as the operator's (%.1f KiB of resident memory per app).`,
		a.Version, a.CRDs, podsPerApp, a.RSSPerAppKiB)
}

// repoRoot is the repository: the nearest directory above the working directory with a go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "cluster", "cluster.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from within the repository: hack/cluster/cluster.sh not found")
		}
		dir = parent
	}
}
