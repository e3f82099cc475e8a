//go:build traffic

/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package traffic runs the traffic scenarios: real HTTP traffic through a Service's ClusterIP while
// an app is updated, rolled back, drained from a node or loses a node, for a plain
// Deployment + Service and for the same app as a HighlyAvailableApp, side by side. They need a local
// cluster with real nodes (hack/cluster/cluster.sh with CLUSTER_REAL_NODES=2, as root) and run the
// operator as a local process; `make test-traffic` starts and stops everything around them.
package traffic

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var (
	// repoRoot is the repository, two levels above this package.
	repoRoot string
	// clusterName, clusterDir and kubeconfig name the local cluster (CLUSTER_NAME, default traffic;
	// CLUSTER_DIR, default .cluster/NAME; KUBECONFIG, default its kubeconfig).
	clusterName, clusterDir, kubeconfig string
	// k8s reads and writes without a cache.
	k8s client.Client
	ctx = context.Background()
	// realNodes are the names of the cluster's real nodes, in the order of their zones.
	realNodes []string
)

func TestTraffic(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	RunSpecs(t, "Traffic scenarios (local cluster with real nodes)")
}

var _ = BeforeSuite(func() {
	var err error
	repoRoot, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	clusterName = envOr("CLUSTER_NAME", "traffic")
	clusterDir = envOr("CLUSTER_DIR", filepath.Join(repoRoot, ".cluster", clusterName))
	kubeconfig = envOr("KUBECONFIG", filepath.Join(clusterDir, "kubeconfig"))
	By("connecting to the local cluster " + clusterName + " (" + kubeconfig + ")")
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred(), "no cluster: start one with `make test-traffic`")
	config.QPS, config.Burst = 50, 100
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	k8s, err = client.New(config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clusterSh("status")
	realNodes = strings.Fields(kubectl("get", "nodes", "-l", "type=real", "--sort-by", ".metadata.name",
		"-o", "jsonpath={.items[*].metadata.name}"))
	Expect(len(realNodes)).To(BeNumerically(">=", 2), "the scenarios need two real nodes in two zones")

	By("building the test app's images and importing them into every real node")
	buildImages()

	By("installing the CRD and starting the operator as a local process")
	kubectl("apply", "--server-side", "--force-conflicts", "-f", filepath.Join(repoRoot, "config", "crd", "bases"))
	Eventually(func() string {
		out, _ := kubectlOutput("get", "crd", "highlyavailableapps.apps.haoperator.dev",
			"-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
		return out
	}).Should(Equal("True"))
	clusterSh("operator-start")
})

var _ = AfterSuite(func() {
	if len(results) == 0 {
		return
	}
	path := os.Getenv("TRAFFIC_TABLE")
	// Several runs (a cluster each) make one table: the header comes with the first.
	_, err := os.Stat(path)
	table := resultsTable(path == "" || os.IsNotExist(err))
	_, _ = fmt.Fprintf(GinkgoWriter, "\n%s\n", table)
	if path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		Expect(err).NotTo(HaveOccurred())
		_, err = f.WriteString(table)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
	}
})

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// buildImages builds the test server (static) and writes one image per tag, each answering with its
// tag as its version, then imports them into every real node's containerd.
func buildImages() {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	binary := filepath.Join(dir, "app")
	run(repoRoot, []string{"CGO_ENABLED=0"},
		"go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "./test/traffic/app")
	for _, tag := range imageTags {
		archive := filepath.Join(dir, tag+".tar")
		run(repoRoot, nil, "go", "run", "./hack/realnodes/mkimage", "-binary", binary, "-tag", image(tag),
			"-arg", "-version", "-arg", tag, "-o", archive)
		clusterSh("import-image", archive)
	}
}

// run runs a command in dir and fails the spec if it fails.
func run(dir string, env []string, name string, args ...string) string {
	GinkgoHelper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s %s: %s", name, strings.Join(args, " "), out)
	return string(out)
}

// clusterSh runs hack/cluster/cluster.sh on the suite's cluster and fails the spec if it fails.
func clusterSh(args ...string) {
	GinkgoHelper()
	out := run(repoRoot, []string{"CLUSTER_NAME=" + clusterName, "CLUSTER_DIR=" + clusterDir},
		filepath.Join(repoRoot, "hack", "cluster", "cluster.sh"), args...)
	_, _ = fmt.Fprintf(GinkgoWriter, "cluster.sh %s: %s", strings.Join(args, " "), out)
}

// kubectl runs kubectl against the suite's cluster and fails the spec if it fails.
func kubectl(args ...string) string {
	GinkgoHelper()
	out, err := kubectlOutput(args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
	return out
}

func kubectlOutput(args ...string) (string, error) {
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}
