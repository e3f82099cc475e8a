package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The Argo Rollouts column: the same apps as Argo Rollouts' Rollouts, beside the same Services and
// PDBs, caught up by its controller, rollouts-controller, from the start of its process. The
// Rollout is read as unstructured: the argo-rollouts module would bring its many dependencies into
// the project's go.mod for one status struct.

// argoRolloutsModule is the Go module of Argo Rollouts, which hack/argo-rollouts pins: the CRDs come
// from its manifests/crds.
const argoRolloutsModule = "github.com/argoproj/argo-rollouts"

// rolloutKind is Argo Rollouts' Rollout.
var rolloutKind = schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout"}

// argoRollouts is the controller the Argo Rollouts phase runs: its binary, the flags added to the
// bench's, and where its CRDs come from.
type argoRollouts struct {
	binary    string
	extraArgs []string
	// module is hack/argo-rollouts, the Go module that pins Argo Rollouts.
	module string
}

// argoRun is Argo Rollouts' controller reaching every app, as the catch-up phase measures the
// operator, and its memory, as the end-to-end phase does.
type argoRun struct {
	Binary          string  `json:"binary"`
	Version         string  `json:"version"`
	CRDs            string  `json:"crds"`
	ChildrenSeconds float64 `json:"childrenSeconds"`
	ReadySeconds    float64 `json:"readySeconds"`
	Empty           memory  `json:"empty"`
	Settled         memory  `json:"settled"`
	HeapPerAppKiB   float64 `json:"heapPerAppKiB"`
	RSSPerAppKiB    float64 `json:"rssPerAppKiB"`
}

// crds are the CRD files of the Argo Rollouts module that a.module pins, downloaded through the Go
// module proxy when the module cache lacks them, and that module as path@version. The controller
// waits for its informers of Experiments and analysis objects before it reconciles anything, so
// every CRD of the module is installed, not only the Rollout's.
func (a argoRollouts) crds(ctx context.Context) ([]string, string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", argoRolloutsModule)
	cmd.Dir = a.module
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Path, Version, Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr != nil || mod.Error != "" || err != nil {
		return nil, "", fmt.Errorf("go mod download %s in %s: %v %s %s", argoRolloutsModule, a.module,
			errors.Join(err, jsonErr), mod.Error, stderr.String())
	}
	files, err := filepath.Glob(filepath.Join(mod.Dir, "manifests", "crds", "*-crd.yaml"))
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no CRD in %s", filepath.Join(mod.Dir, "manifests", "crds"))
	}
	return files, mod.Path + "@" + mod.Version, err
}

// version is what the binary says of its version.
func (a argoRollouts) version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, a.binary, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w\n%s", a.binary, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// start runs rollouts-controller against the cluster: leader election off, its metrics and health
// endpoints on ports of the cluster's range (it listens on every interface; it has no flag for the
// address), logging errors only, as the operator does.
func (a argoRollouts) start(ctx context.Context, c *cluster) (*operator, time.Time, error) {
	metricsPort, healthPort := c.portBase+84, c.portBase+85
	args := slices.Concat(c.kubeconfigFlag(), []string{
		"--leader-elect=false",
		"--metricsPort", strconv.Itoa(metricsPort),
		"--healthzPort", strconv.Itoa(healthPort),
		"--loglevel", "error",
		"--enable-pprof-address", c.pprofAddr(),
	}, a.extraArgs)
	return startProcess(ctx, c, "bench-argo-rollouts.log", a.binary, args,
		fmt.Sprintf("127.0.0.1:%d", metricsPort), c.pprofAddr(), fmt.Sprintf("http://127.0.0.1:%d/healthz", healthPort))
}

// newRollout is the floor's Deployment of an app as a Rollout: the same labels, replicas, selector,
// pod template and revision settings, and the canary strategy with no steps and the Deployment's
// surge and unavailability, which updates the pods as the Deployment's rolling update would.
func newRollout(d *appsv1.Deployment) (*unstructured.Unstructured, error) {
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&d.Spec)
	if err != nil {
		return nil, fmt.Errorf("rollout %s: %w", d.Name, err)
	}
	canary := map[string]any{}
	for _, field := range []string{"maxSurge", "maxUnavailable"} {
		if v, found, _ := unstructured.NestedFieldCopy(spec, "strategy", "rollingUpdate", field); found {
			canary[field] = v
		}
	}
	spec["strategy"] = map[string]any{"canary": canary}
	unstructured.RemoveNestedField(spec, "template", "metadata", "creationTimestamp")
	r := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	r.SetGroupVersionKind(rolloutKind)
	r.SetNamespace(d.Namespace)
	r.SetName(d.Name)
	r.SetLabels(d.Labels)
	r.SetAnnotations(d.Annotations)
	return r, nil
}

// argoObjects are the floor's objects of the app with the Rollout in place of the Deployment.
func argoObjects(app *appsv1alpha1.HighlyAvailableApp) ([]client.Object, error) {
	objects := floorObjects(app)
	for i, obj := range objects {
		if d, ok := obj.(*appsv1.Deployment); ok {
			r, err := newRollout(d)
			if err != nil {
				return nil, err
			}
			objects[i] = r
		}
	}
	return objects, nil
}

// rolloutState reads a Rollout's progress: whether its status is of its current generation (Argo
// Rollouts writes status.observedGeneration as a string), and whether it is Healthy with every
// replica available.
func rolloutState(r *unstructured.Unstructured) (current, ready bool) {
	observed, _, _ := unstructured.NestedString(r.Object, "status", "observedGeneration")
	current = r.GetGeneration() > 0 && observed == strconv.FormatInt(r.GetGeneration(), 10)
	replicas, found, _ := unstructured.NestedInt64(r.Object, "spec", "replicas")
	if !found {
		replicas = 1
	}
	phase, _, _ := unstructured.NestedString(r.Object, "status", "phase")
	available, _, _ := unstructured.NestedInt64(r.Object, "status", "availableReplicas")
	return current, current && phase == "Healthy" && available == replicas
}

// argoProgress marks, from watch events, when each Rollout's ReplicaSet exists ("argo-rs/NAME"), when
// its status is current ("argo-current/NAME") and when it is Ready ("argo-ready/NAME"), and when
// the Services and PDBs exist, as progress does; every event is a change, for waitQuiet.
func argoProgress(o *observer) map[client.Object]handler {
	rollout := &unstructured.Unstructured{}
	rollout.SetGroupVersionKind(rolloutKind)
	return withServiceAndBudget(o, map[client.Object]handler{
		rollout: func(_, after client.Object) {
			o.changed()
			r, ok := after.(*unstructured.Unstructured)
			if !ok {
				return
			}
			current, ready := rolloutState(r)
			if current {
				o.mark("argo-current/" + r.GetName())
			}
			if ready {
				o.mark("argo-ready/" + r.GetName())
			}
		},
		&appsv1.ReplicaSet{}: func(_, after client.Object) {
			o.changed()
			if after == nil || !isAppNamespace(after.GetNamespace()) {
				return
			}
			for _, ref := range after.GetOwnerReferences() {
				if ref.Kind == rolloutKind.Kind && ref.Controller != nil && *ref.Controller {
					o.mark("argo-rs/" + ref.Name)
				}
			}
		},
	})
}

// argoRollouts measures Argo Rollouts as the catch-up phase measures the operator: the Rollouts,
// Services and PDBs exist first, then rollouts-controller starts, and the times count from the start
// of its process. Its memory is taken as the operator's: once settled, minus the controller with no
// app, which runs first on the empty cluster.
func (b *bench) argoRollouts(ctx context.Context) (argoRun, error) {
	run := argoRun{Binary: b.argo.binary}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var err error
	if run.Version, err = b.argo.version(ctx); err != nil {
		return run, err
	}
	crds, module, err := b.argo.crds(ctx)
	if err != nil {
		return run, err
	}
	run.CRDs = module
	cfg, err := b.cluster.fresh(ctx, crds...)
	if err != nil {
		return run, err
	}
	f, err := b.watched(ctx, cfg, argoProgress, b.appNamespaces()...)
	if err != nil {
		return run, err
	}
	c, o := f.client, f.observer

	empty, _, err := b.argo.start(ctx, b.cluster)
	if err != nil {
		return run, err
	}
	run.Empty, err = empty.settledMemory(ctx, 5)
	empty.stop()
	if err != nil {
		return run, err
	}

	groups := make([][]client.Object, b.n)
	for i, app := range b.apps() {
		if groups[i], err = argoObjects(app); err != nil {
			return run, err
		}
	}
	if err := createAll(ctx, c, 8, groups); err != nil {
		return run, err
	}
	ctl, start, err := b.argo.start(ctx, b.cluster)
	if err != nil {
		return run, err
	}
	defer ctl.stop()
	children := slices.Concat(keys("argo-rs/", b.n), keys("service/", b.n), keys("pdb/", b.n),
		keys("argo-current/", b.n))
	if err := o.waitFor(ctx, b.timeout(), "every Rollout to be Healthy", func() bool {
		_, okChildren := o.latest(children)
		_, okReady := o.latest(keys("argo-ready/", b.n))
		return okChildren && okReady
	}); err != nil {
		return run, err
	}
	childrenAt, _ := o.latest(children)
	readyAt, _ := o.latest(keys("argo-ready/", b.n))
	run.ChildrenSeconds, run.ReadySeconds = seconds(start, childrenAt), seconds(start, readyAt)
	b.logf("argo rollouts: children and status %.1fs, ready %.1fs", run.ChildrenSeconds, run.ReadySeconds)

	o.waitQuiet(ctx, 5*time.Second)
	if run.Settled, err = ctl.settledMemory(ctx, 10); err != nil {
		return run, err
	}
	run.HeapPerAppKiB = (run.Settled.Heap - run.Empty.Heap) / float64(b.n) / 1024
	run.RSSPerAppKiB = (run.Settled.RSS - run.Empty.RSS) / float64(b.n) / 1024
	b.logf("argo rollouts memory: %.1f KiB heap and %.1f KiB RSS per app", run.HeapPerAppKiB, run.RSSPerAppKiB)
	return run, nil
}
