package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// cluster is the local simulated cluster (hack/cluster/cluster.sh) the benchmark runs on.
type cluster struct {
	root         string
	name         string
	portBase     int
	nodesPerZone int
	log          io.Writer
}

func (c *cluster) dir() string        { return filepath.Join(c.root, ".cluster", c.name) }
func (c *cluster) kubeconfig() string { return filepath.Join(c.dir(), "kubeconfig") }

// kubeconfigFlag is the flag that points kubectl and the controllers at the cluster.
func (c *cluster) kubeconfigFlag() []string { return []string{"--kubeconfig", c.kubeconfig()} }

// script runs cluster.sh with the cluster's settings.
func (c *cluster) script(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "hack", "cluster", "cluster.sh"), args...)
	cmd.Env = append(os.Environ(),
		"CLUSTER_NAME="+c.name,
		"CLUSTER_DIR="+c.dir(),
		"CLUSTER_PORT_BASE="+strconv.Itoa(c.portBase),
		"CLUSTER_NODES_PER_ZONE="+strconv.Itoa(c.nodesPerZone),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster.sh %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

// fresh stops the cluster if it runs and starts it again from empty data, with the operator's CRD
// installed and those of the files or directories in crds.
func (c *cluster) fresh(ctx context.Context, crds ...string) (*rest.Config, error) {
	start := time.Now()
	if err := c.down(); err != nil {
		return nil, err
	}
	if err := c.script(ctx, "up"); err != nil {
		return nil, err
	}
	if err := c.installCRDs(ctx, append([]string{filepath.Join(c.root, "config", "crd", "bases")}, crds...)); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig())
	if err != nil {
		return nil, err
	}
	// Each start generates new keys at the same paths; client-go caches transports by the files'
	// paths, so the config carries their contents instead.
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, err
	}
	cfg.CAFile, cfg.CertFile, cfg.KeyFile = "", "", ""
	_, _ = fmt.Fprintf(c.log, "cluster %s up with %d nodes per zone in %.1fs\n",
		c.name, c.nodesPerZone, time.Since(start).Seconds())
	return cfg, nil
}

// installCRDs applies the CRDs of the files or directories and waits until the API server serves
// them. (kubectl wait would do, but fails when it reads a CRD before the API server gave it
// conditions.)
func (c *cluster) installCRDs(ctx context.Context, paths []string) error {
	kubectl := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "kubectl", append(c.kubeconfigFlag(), args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	files := make([]string, 0, 2*len(paths))
	for _, p := range paths {
		files = append(files, "-f", p)
	}
	applied, err := kubectl(append([]string{"apply", "--server-side", "--force-conflicts", "-o", "name"}, files...)...)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for crd := range strings.FieldsSeq(applied) {
		for {
			established, err := kubectl("get", crd,
				"-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
			if err == nil && established == "True" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s was not established within 60s (%v)", crd, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// down stops the cluster and deletes its data; it does not depend on the caller's context, so that
// an interrupted run still cleans up.
func (c *cluster) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return c.script(ctx, "down")
}

// operator is a controller running as a local process against the cluster, its metrics served over
// plain HTTP on the loopback interface: bin/manager, or Argo Rollouts' rollouts-controller.
type operator struct {
	cmd         *exec.Cmd
	metricsAddr string
	// pprofAddr serves Go's profiles, through which the bench has it collect its garbage.
	pprofAddr string
	// done is closed when the process has exited, with its exit status in exitErr.
	done    chan struct{}
	exitErr error
}

// startOperator runs the manager binary and waits until its health endpoint answers.
func startOperator(ctx context.Context, c *cluster, manager string, extraArgs []string) (*operator, time.Time, error) {
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", c.portBase+82)
	healthAddr := fmt.Sprintf("127.0.0.1:%d", c.portBase+83)
	pprofAddr := c.pprofAddr()
	args := slices.Concat(c.kubeconfigFlag(), []string{
		"--leader-elect=false",
		"--metrics-bind-address", metricsAddr,
		"--metrics-secure=false",
		"--health-probe-bind-address", healthAddr,
		"--pprof-bind-address", pprofAddr,
		"--zap-log-level", "error",
	}, extraArgs)
	return startProcess(ctx, c, "bench-operator.log", manager, args, metricsAddr, pprofAddr,
		"http://"+healthAddr+"/readyz")
}

// pprofAddr is where the controller under measurement serves Go's profiles.
func (c *cluster) pprofAddr() string { return fmt.Sprintf("127.0.0.1:%d", c.portBase+86) }

// startProcess runs binary with args and waits until readyURL answers. Its log goes to the cluster's
// logs directory, which `cluster.sh down` keeps.
func startProcess(ctx context.Context, c *cluster, logName, binary string, args []string,
	metricsAddr, pprofAddr, readyURL string) (*operator, time.Time, error) {
	op := &operator{metricsAddr: metricsAddr, pprofAddr: pprofAddr, done: make(chan struct{})}
	name := filepath.Base(binary)
	logPath := filepath.Join(c.dir(), "logs", logName)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, time.Time{}, err
	}
	op.cmd = exec.Command(binary, args...)
	op.cmd.Stdout, op.cmd.Stderr = logFile, logFile
	op.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	started := time.Now()
	if err := op.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, time.Time{}, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		op.exitErr = op.cmd.Wait()
		_ = logFile.Close()
		close(op.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return op, started, nil
			}
		}
		select {
		case <-op.done:
			return nil, time.Time{}, fmt.Errorf("%s exited while starting (%v); see %s", name, op.exitErr, logPath)
		case <-ctx.Done():
			op.stop()
			return nil, time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			op.stop()
			return nil, time.Time{}, fmt.Errorf("%s was not ready within 60s; see %s", name, logPath)
		}
	}
}

// stop ends the operator with SIGTERM, and SIGKILL after 10 s.
func (op *operator) stop() {
	if op == nil || op.cmd.Process == nil {
		return
	}
	_ = op.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-op.done:
	case <-time.After(10 * time.Second):
		_ = op.cmd.Process.Kill()
		<-op.done
	}
}

// metrics reads the operator's metrics endpoint.
func (op *operator) metrics() ([]sample, error) {
	resp, err := http.Get("http://" + op.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	return parseMetrics(string(body)), nil
}

// memory is the operator's heap and resident set in bytes, and its goroutines.
type memory struct {
	Heap       float64 `json:"heapBytes"`
	RSS        float64 `json:"rssBytes"`
	Goroutines float64 `json:"goroutines"`
}

// settledMemory samples the operator's memory once a second and keeps the lowest of each figure.
func (op *operator) settledMemory(ctx context.Context, samples int) (memory, error) {
	var low memory
	for i := range samples {
		if i > 0 {
			select {
			case <-ctx.Done():
				return low, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		m, _, err := op.memoryNow()
		if err != nil {
			return low, err
		}
		if i == 0 || m.Heap < low.Heap {
			low.Heap = m.Heap
		}
		if i == 0 || m.RSS < low.RSS {
			low.RSS = m.RSS
		}
		if i == 0 || m.Goroutines < low.Goroutines {
			low.Goroutines = m.Goroutines
		}
	}
	return low, nil
}

// memoryNow is one sample of the operator's memory, and the metrics it was read from. It first has
// the operator collect its garbage (a heap profile with gc=1), then reads the heap the collection
// found live (go_gc_heap_live_bytes): what the operator holds, not what it has yet to collect.
func (op *operator) memoryNow() (memory, []sample, error) {
	if err := op.collectGarbage(); err != nil {
		return memory{}, nil, err
	}
	m, err := op.metrics()
	if err != nil {
		return memory{}, nil, err
	}
	return memory{
		Heap:       liveHeap(m),
		RSS:        sumMetric(m, "process_resident_memory_bytes", nil),
		Goroutines: sumMetric(m, "go_goroutines", nil),
	}, m, nil
}

// liveHeap is the heap the last collection found live; a program whose Prometheus client does not
// export go_gc_heap_live_bytes gives the heap allocated, which just after a collection is the same
// but for what was allocated since.
func liveHeap(m []sample) float64 {
	if slices.ContainsFunc(m, func(s sample) bool { return s.name == "go_gc_heap_live_bytes" }) {
		return sumMetric(m, "go_gc_heap_live_bytes", nil)
	}
	return sumMetric(m, "go_memstats_heap_alloc_bytes", nil)
}

// collectGarbage runs a garbage collection in the operator: its heap profile with gc=1 collects
// before it is written.
func (op *operator) collectGarbage() error {
	resp, err := http.Get("http://" + op.pprofAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	return nil
}

// counters are the operator's work so far: reconciles of the app controller and requests to the
// API server, and of those, the writes.
type counters struct {
	Reconciles float64 `json:"reconciles"`
	Requests   float64 `json:"requests"`
	Writes     float64 `json:"writes"`
	// Reads are the GETs among the requests, its lists and watches included.
	Reads float64 `json:"reads"`
	// Wakes are the apps queued for a reconcile (haoperator_wakes_total), by source and urgency
	// ("Pod/soon"): what the reconciles were for. The queue folds the wakes of an app that waits.
	Wakes map[string]float64 `json:"wakes,omitempty"`
}

func (op *operator) counters() (counters, error) {
	m, err := op.metrics()
	if err != nil {
		return counters{}, err
	}
	return countersIn(m), nil
}

// countersIn are the counters in the operator's metrics.
func countersIn(m []sample) counters {
	c := counters{
		Reconciles: sumMetric(m, "controller_runtime_reconcile_total", map[string]string{"controller": "highlyavailableapp"}),
		Requests:   sumMetric(m, "rest_client_requests_total", nil),
		Reads:      sumMetric(m, "rest_client_requests_total", map[string]string{"method": "GET"}),
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		c.Writes += sumMetric(m, "rest_client_requests_total", map[string]string{"method": method})
	}
	for _, s := range m {
		if s.name == "haoperator_wakes_total" && s.value > 0 {
			if c.Wakes == nil {
				c.Wakes = map[string]float64{}
			}
			c.Wakes[s.labels["source"]+"/"+s.labels["urgency"]] += s.value
		}
	}
	return c
}

// wakesNote lists the wakes per app of n apps, the most first: "Pod/soon 3.1, Recheck/later 1.0".
func wakesNote(wakes map[string]float64, n int) string {
	keys := slices.Collect(maps.Keys(wakes))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(wakes[b], wakes[a]), cmp.Compare(a, b))
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, wakes[k]/float64(n)))
	}
	return strings.Join(parts, ", ")
}
