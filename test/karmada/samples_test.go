package karmada

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	policyv1alpha1 "github.com/karmada-io/karmada/pkg/apis/policy/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// karmadaCRD is the path of one of Karmada's CRDs in its module (v1.18.2, as go.mod pins it), where
// karmada-apiserver's validation comes from.
func karmadaCRD(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/karmada-io/karmada").Output()
	if err != nil {
		t.Fatalf("find Karmada's module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "charts", "karmada", "_crds", "bases", file)
}

// readObject reads one object from a YAML file.
func readObject(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return u
}

// The customization is valid for karmada-apiserver, as karmada-webhook checks it too (its scripts
// load: every test of this package runs them).
func TestCustomizationIsValid(t *testing.T) {
	validateAgainst(t, karmadaCRD(t, filepath.Join("config", "config.karmada.io_resourceinterpretercustomizations.yaml")),
		readObject(t, customizationPath))
	if target := loadCustomization(t).Spec.Target; target.APIVersion != appsv1alpha1.GroupVersion.String() ||
		target.Kind != "HighlyAvailableApp" {
		t.Errorf("target = %v, want %s HighlyAvailableApp", target, appsv1alpha1.GroupVersion)
	}
}

// The sample PropagationPolicies are valid, and each places its apps as their type needs: Stateless
// divided, Daemon and Job duplicated, Stateful on one cluster that a taint never evicts it from.
func TestSamplePropagationPolicies(t *testing.T) {
	appTypes := sampleApps(t)
	policyCRD := karmadaCRD(t, filepath.Join("policy", "policy.karmada.io_propagationpolicies.yaml"))
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "karmada", "samples", "propagationpolicy-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample policies: %v", err)
	}
	selected := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			u := readObject(t, file)
			validateAgainst(t, policyCRD, u)
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			policy := &policyv1alpha1.PropagationPolicy{}
			if err := yaml.UnmarshalStrict(raw, policy); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !policy.Spec.PropagateDeps {
				t.Error("propagateDeps is off: the ConfigMaps and Secrets the app names would not follow it")
			}
			scheduling := policy.Spec.Placement.ReplicaScheduling
			for _, s := range policy.Spec.ResourceSelectors {
				appType, ok := appTypes[s.Name]
				if s.Kind != "HighlyAvailableApp" || !ok {
					t.Errorf("selects %s %s, not an app of config/samples", s.Kind, s.Name)
					continue
				}
				selected[s.Name] = true
				switch appType {
				case appsv1alpha1.Stateless:
					if scheduling == nil || scheduling.ReplicaSchedulingType != policyv1alpha1.ReplicaSchedulingTypeDivided {
						t.Errorf("the Stateless app %s is not divided", s.Name)
					}
				case appsv1alpha1.Stateful:
					checkStatefulPlacement(t, s.Name, policy)
				default:
					if scheduling == nil || scheduling.ReplicaSchedulingType != policyv1alpha1.ReplicaSchedulingTypeDuplicated {
						t.Errorf("the %s app %s is not duplicated", appType, s.Name)
					}
				}
			}
		})
	}
	for name := range appTypes {
		if !selected[name] {
			t.Errorf("no sample policy places the app %s of config/samples", name)
		}
	}
}

// checkStatefulPlacement: one cluster, no failover, and a toleration of every NoExecute taint without
// a time limit, so that Karmada's taint manager never evicts the app.
func checkStatefulPlacement(t *testing.T, name string, policy *policyv1alpha1.PropagationPolicy) {
	t.Helper()
	placement := policy.Spec.Placement
	if placement.ClusterAffinity == nil || len(placement.ClusterAffinity.ClusterNames) != 1 ||
		placement.ClusterAffinity.LabelSelector != nil || len(placement.ClusterAffinities) > 0 {
		t.Errorf("the Stateful app %s may be placed on more than one cluster: %s", name, describe(placement))
	}
	if policy.Spec.Failover != nil {
		t.Errorf("the Stateful app %s fails over: %s", name, describe(policy.Spec.Failover))
	}
	tolerated := false
	for _, toleration := range placement.ClusterTolerations {
		tolerated = tolerated || (toleration.Key == "" && toleration.Operator == corev1.TolerationOpExists &&
			toleration.Effect == corev1.TaintEffectNoExecute && toleration.TolerationSeconds == nil)
	}
	if !tolerated {
		t.Errorf("the Stateful app %s does not tolerate NoExecute taints for ever: a lost cluster's taint would evict it",
			name)
	}
}

// sampleApps are the apps of config/samples by name, with their type.
func sampleApps(t *testing.T) map[string]appsv1alpha1.AppType {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "apps_v1alpha1_highlyavailableapp_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample apps: %v", err)
	}
	out := map[string]appsv1alpha1.AppType{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := yaml.UnmarshalStrict(raw, app); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[app.Name] = app.Spec.AppType()
	}
	return out
}
