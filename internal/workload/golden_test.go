package workload

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// loadApp reads a HighlyAvailableApp from testdata, refusing unknown fields so that a typo in the
// input cannot pass silently.
func loadApp(t *testing.T, name string) *appsv1alpha1.HighlyAvailableApp {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := yaml.UnmarshalStrict(data, app); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return app
}

// documents renders objects as one YAML stream, in the order given.
func documents(t *testing.T, objs ...any) string {
	t.Helper()
	parts := make([]string, 0, len(objs))
	for _, o := range objs {
		data, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(data))
	}
	return strings.Join(parts, "---\n")
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test ./internal/workload -update creates it): %v", err)
	}
	if got != string(want) {
		t.Errorf("objects differ from %s (go test ./internal/workload -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// The nginx sample becomes a Deployment, a Service on port 80 and a PodDisruptionBudget, and
// nothing else.
func TestGoldenNginx(t *testing.T) {
	app := loadApp(t, "nginx.app.yaml")
	opts := Options{}
	deploy := Deployment(app, PodTemplate(app, opts))
	svc := Service(app)
	pdb := PodDisruptionBudget(app)
	if svc == nil || pdb == nil {
		t.Fatalf("Service = %v, PodDisruptionBudget = %v: want both", svc, pdb)
	}
	if hpa := HorizontalPodAutoscaler(app, workloadKind(app)); hpa != nil {
		t.Errorf("HorizontalPodAutoscaler = %v, want none without spec.autoscaling", hpa)
	}
	golden(t, "nginx.golden.yaml", documents(t, deploy, svc, pdb))
}

// The Cassandra sample becomes a StatefulSet with its claim, the headless Service that gives
// the pods their stable names, a client Service and a PodDisruptionBudget.
func TestGoldenCassandra(t *testing.T) {
	app := loadApp(t, "cassandra.app.yaml")
	opts := Options{ClusterDomain: DefaultClusterDomain}
	sts := StatefulSet(app, PodTemplate(app, opts), app.Spec.Partition())
	headless := HeadlessService(app)
	client := Service(app)
	pdb := PodDisruptionBudget(app)
	if client == nil || pdb == nil {
		t.Fatalf("client Service = %v, PodDisruptionBudget = %v: want both", client, pdb)
	}
	if hpa := HorizontalPodAutoscaler(app, workloadKind(app)); hpa != nil {
		t.Errorf("HorizontalPodAutoscaler = %v, want none without spec.autoscaling", hpa)
	}
	golden(t, "cassandra.golden.yaml", documents(t, sts, headless, client, pdb))
}

// The weave-net sample becomes a DaemonSet that updates one node at a time (a host-network
// agent cannot run twice on a node), and nothing else: its containers declare no ports (so no
// Service) and a Daemon gets no PodDisruptionBudget.
func TestGoldenWeaveNet(t *testing.T) {
	app := loadApp(t, "weave-net.app.yaml")
	ds := DaemonSet(app, PodTemplate(app, Options{}))
	if svc := DaemonService(app); svc != nil {
		t.Errorf("Service = %v, want none: the containers declare no ports", svc)
	}
	if len(ds.Spec.Template.Spec.TopologySpreadConstraints) != 0 {
		t.Errorf("topology spread = %v, want none: a DaemonSet places one pod per node", ds.Spec.Template.Spec.TopologySpreadConstraints)
	}
	golden(t, "weave-net.golden.yaml", documents(t, ds))
}

// The pi sample becomes run 1, a Job named pi-1 with the deadline and restartPolicy Never it
// asks for, and no Service.
func TestGoldenPi(t *testing.T) {
	app := loadApp(t, "pi.app.yaml")
	job := Job(app, PodTemplate(app, Options{}), 1)
	golden(t, "pi.golden.yaml", documents(t, job))
}
