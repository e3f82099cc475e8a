//go:build e2e

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

// Package e2e holds the end-to-end drills: they run against the local simulated cluster
// (hack/cluster/cluster.sh: a real control plane and kwok nodes in three zones), with the operator
// running as a local process, and break things on purpose (bad images, a zone outage, a drain, the
// operator killed mid-rollout). Run them with `make test-e2e`, which starts and stops the cluster.
package e2e

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
	// clusterName, clusterDir and kubeconfig name the local cluster the suite runs on (CLUSTER_NAME,
	// default e2e; its state dir CLUSTER_DIR, default .cluster/NAME).
	clusterName string
	clusterDir  string
	kubeconfig  string
	// k8s reads and writes without a cache: every Get sees the API server's current state.
	k8s client.Client
	// ctx is the suite's context; each call below derives a shorter one where it matters.
	ctx = context.Background()
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	SetDefaultEventuallyTimeout(90 * time.Second)
	SetDefaultConsistentlyPollingInterval(250 * time.Millisecond)
	RunSpecs(t, "End-to-end suite (local simulated cluster)")
}

var _ = BeforeSuite(func() {
	var err error
	repoRoot, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	clusterName = os.Getenv("CLUSTER_NAME")
	if clusterName == "" {
		clusterName = "e2e"
	}
	clusterDir = os.Getenv("CLUSTER_DIR")
	if clusterDir == "" {
		clusterDir = filepath.Join(repoRoot, ".cluster", clusterName)
	}
	kubeconfig = os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		kubeconfig = filepath.Join(clusterDir, "kubeconfig")
	}
	By("connecting to the local cluster " + clusterName + " (" + kubeconfig + ")")
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred(), "no cluster: start one with `make test-e2e` or hack/cluster/cluster.sh up")
	config.QPS, config.Burst = 100, 200
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	k8s, err = client.New(config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	clusterSh("status")

	By("installing the CRD (server-side: it is too large for client-side apply)")
	kubectl("apply", "--server-side", "--force-conflicts", "-f", filepath.Join(repoRoot, "config", "crd", "bases"))
	Eventually(func() (string, error) {
		return kubectlOutput("get", "crd", "highlyavailableapps.apps.haoperator.dev",
			"-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
	}).Should(Equal("True"))

	By("starting the operator (bin/manager) as a local process")
	clusterSh("operator-start")
})

// clusterSh runs hack/cluster/cluster.sh on the suite's cluster and fails the spec if it fails.
func clusterSh(args ...string) {
	GinkgoHelper()
	clusterShEnv(nil, args...)
}

// clusterShEnv is clusterSh with more environment (MANAGER_BIN=... to run another operator binary).
func clusterShEnv(env []string, args ...string) {
	GinkgoHelper()
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "cluster", "cluster.sh"), args...)
	cmd.Env = append(append(os.Environ(), "CLUSTER_NAME="+clusterName, "CLUSTER_DIR="+clusterDir), env...)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "cluster.sh %s: %s", strings.Join(args, " "), out)
	_, _ = fmt.Fprintf(GinkgoWriter, "cluster.sh %s: %s", strings.Join(args, " "), out)
}

// kubectl runs kubectl against the suite's cluster and fails the spec if it fails.
func kubectl(args ...string) {
	GinkgoHelper()
	out, err := kubectlOutput(args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
}

func kubectlOutput(args ...string) (string, error) {
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

// operatorLogTail is the end of the operator's log, attached to a failed spec.
// operatorLogOf is, from the log of each manager of the cluster, the last lines about the namespace
// other than the one each reconcile ends with: the Events each manager sent and its errors, in the
// order it sent them, which the namespace's merged Events do not keep.
func operatorLogOf(ns string, lines int) string {
	files, err := filepath.Glob(filepath.Join(clusterDir, "logs", "operator*.log"))
	if err != nil {
		return "operator logs: " + err.Error()
	}
	var b strings.Builder
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", file, err)
			continue
		}
		var kept []string
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.Contains(line, `"`+ns+`"`) && !strings.Contains(line, "\treconciled\t") {
				kept = append(kept, line)
			}
		}
		if len(kept) > lines {
			kept = kept[len(kept)-lines:]
		}
		fmt.Fprintf(&b, "----- %s: %d lines -----\n%s\n", filepath.Base(file), len(kept), strings.Join(kept, "\n"))
	}
	return b.String()
}

func operatorLogTail(lines int) string {
	data, err := os.ReadFile(filepath.Join(clusterDir, "logs", "operator.log"))
	if err != nil {
		return "operator log: " + err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
