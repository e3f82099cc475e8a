package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// The manager's Deployment in config/manager must keep the manager highly available and let it stop
// cleanly: these tests hold the promises docs/getting-started.md makes about it.

var managerDir = filepath.Join("..", "config", "manager")

func managerDeployment(t *testing.T) appsv1.Deployment {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(managerDir, "manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	var deploy appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(docs[len(docs)-1]), &deploy); err != nil {
		t.Fatal(err)
	}
	return deploy
}

func TestManagerReplicasAndShutdown(t *testing.T) {
	deploy := managerDeployment(t)
	spec := deploy.Spec.Template.Spec
	manager := spec.Containers[0]
	if r := deploy.Spec.Replicas; r == nil || *r < 2 {
		t.Errorf("replicas = %s, want at least 2", describe(r))
	}
	if !hasArg(manager, "--leader-elect") {
		t.Error("two replicas without --leader-elect would both reconcile")
	}

	shutdown := defaultGracefulShutdownTimeout
	for _, arg := range manager.Args {
		if v, ok := strings.CutPrefix(arg, "--graceful-shutdown-timeout="); ok {
			var err error
			if shutdown, err = time.ParseDuration(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	grace := spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %s does not leave the graceful shutdown (%s) time to finish",
			describe(grace), shutdown)
	}
}

func TestManagerAntiAffinity(t *testing.T) {
	deploy := managerDeployment(t)
	anti := deploy.Spec.Template.Spec.Affinity
	if anti == nil || anti.PodAntiAffinity == nil ||
		len(anti.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) > 0 {
		t.Fatal("want preferred (never required) pod anti-affinity, so that one node still runs both replicas")
	}
	keys := map[string]bool{}
	for _, term := range anti.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		keys[term.PodAffinityTerm.TopologyKey] = true
		if !subset(term.PodAffinityTerm.LabelSelector.MatchLabels, deploy.Spec.Template.Labels) {
			t.Errorf("anti-affinity over %s selects %v, not the manager's pods", term.PodAffinityTerm.TopologyKey,
				term.PodAffinityTerm.LabelSelector.MatchLabels)
		}
	}
	for _, key := range []string{corev1.LabelHostname, corev1.LabelTopologyZone} {
		if !keys[key] {
			t.Errorf("no anti-affinity over %s", key)
		}
	}
}

func TestManagerMemoryLimit(t *testing.T) {
	manager := managerDeployment(t).Spec.Template.Spec.Containers[0]
	limit, ok := manager.Resources.Limits[corev1.ResourceMemory]
	if !ok {
		t.Fatal("no memory limit")
	}
	var handed bool
	for _, env := range manager.Env {
		if env.Name != envMemoryLimit || env.ValueFrom == nil || env.ValueFrom.ResourceFieldRef == nil {
			continue
		}
		ref := env.ValueFrom.ResourceFieldRef
		handed = ref.Resource == "limits.memory" && ref.Divisor.String() == "1"

	}
	if !handed {
		t.Errorf("%s is not the container's memory limit in bytes", envMemoryLimit)
	}
	if soft, set, err := softMemoryLimit("", limit.String()); err != nil || !set || soft >= limit.Value() {
		t.Errorf("soft memory limit %d for a limit of %s (%v)", soft, limit.String(), err)
	}
}

func TestManagerDisruptionBudget(t *testing.T) {
	deploy := managerDeployment(t)
	rawPDB, err := os.ReadFile(filepath.Join(managerDir, "pdb.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pdb policyv1.PodDisruptionBudget
	if err := yaml.UnmarshalStrict(rawPDB, &pdb); err != nil {
		t.Fatal(err)
	}
	if !subset(pdb.Spec.Selector.MatchLabels, deploy.Spec.Template.Labels) || pdb.Spec.MaxUnavailable == nil ||
		pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("the budget selects %v with maxUnavailable %v: want the manager's pods, one at a time",
			pdb.Spec.Selector.MatchLabels, pdb.Spec.MaxUnavailable)
	}
	kustomization, err := os.ReadFile(filepath.Join(managerDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(kustomization), "- pdb.yaml") {
		t.Error("config/manager/kustomization.yaml does not ship pdb.yaml")
	}
}

func describe[T int32 | int64](v *T) string {
	if v == nil {
		return "unset"
	}
	return strconv.FormatInt(int64(*v), 10)
}

func hasArg(c corev1.Container, arg string) bool {
	for _, a := range c.Args {
		if a == arg || strings.HasPrefix(a, arg+"=") {
			return true
		}
	}
	return false
}

func subset(sub, set map[string]string) bool {
	if len(sub) == 0 {
		return false
	}
	for k, v := range sub {
		if set[k] != v {
			return false
		}
	}
	return true
}
