//go:build multicluster

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

// Package multicluster holds the multi-cluster drills: one app on a Karmada control plane, divided
// between two member clusters that each run the operator, one of them lost and brought back. They run
// on the local multi-cluster (hack/multicluster/multicluster.sh: Karmada without pods, two local
// clusters with kwok nodes in two zones each); `make test-multicluster` starts and stops it. Karmada's
// own objects are read and written as unstructured objects, so that the project's module does not
// depend on Karmada.
package multicluster

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

// The member clusters, as multicluster.sh names and joins them.
const (
	member1 = "member1"
	member2 = "member2"
)

var (
	// repoRoot is the repository, two levels above this package.
	repoRoot string
	// mcName names the multi-cluster (MC_NAME, default mc): its state dirs are .cluster/MC_NAME-*.
	mcName string
	// karmada is a client of Karmada's API server, members one of each member's.
	karmada client.Client
	members = map[string]client.Client{}
	// ctx is the suite's context.
	ctx = context.Background()
	// measured collects the figures printed in the table after the suite.
	measured = &report{}
)

func TestMultiCluster(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultConsistentlyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "Multi-cluster suite (Karmada and two local clusters)")
}

var _ = BeforeSuite(func() {
	var err error
	repoRoot, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	mcName = os.Getenv("MC_NAME")
	if mcName == "" {
		mcName = "mc"
	}
	By("checking the multi-cluster " + mcName)
	multicluster("status")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	karmada = newClient(scheme, filepath.Join(repoRoot, ".cluster", mcName+"-karmada", "kubeconfig"))
	for _, name := range []string{member1, member2} {
		members[name] = newClient(scheme, filepath.Join(repoRoot, ".cluster", mcName+"-"+name, "kubeconfig"))
	}
})

var _ = AfterSuite(func() {
	if path := os.Getenv("MC_REPORT"); path != "" {
		Expect(os.WriteFile(path, []byte(measured.render(karmadaFlags())), 0o644)).To(Succeed())
	}
})

func newClient(scheme *runtime.Scheme, kubeconfig string) client.Client {
	GinkgoHelper()
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred(), "no multi-cluster: start one with `make test-multicluster` "+
		"or hack/multicluster/multicluster.sh up")
	config.QPS, config.Burst = 100, 200
	// A lost member's API server does not answer: fail fast rather than hang a sample.
	config.Timeout = 5 * time.Second
	c, err := client.New(config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// multicluster runs hack/multicluster/multicluster.sh on the suite's multi-cluster and fails the spec
// if it fails.
func multicluster(args ...string) {
	GinkgoHelper()
	out, err := multiclusterOutput(args...)
	Expect(err).NotTo(HaveOccurred(), "multicluster.sh %s: %s", strings.Join(args, " "), out)
	_, _ = fmt.Fprintf(GinkgoWriter, "multicluster.sh %s: %s", strings.Join(args, " "), out)
}

func multiclusterOutput(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "multicluster", "multicluster.sh"), args...)
	cmd.Env = append(os.Environ(), "MC_NAME="+mcName)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// karmadaFlags lists the flags of karmada-controller-manager that set how fast a lost member is
// found and its workloads moved (karmada.sh flags).
func karmadaFlags() []string {
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "multicluster", "karmada.sh"), "flags")
	cmd.Env = append(os.Environ(), "KARMADA_NAME="+mcName+"-karmada")
	out, err := cmd.Output()
	if err != nil {
		return []string{"(karmada.sh flags: " + err.Error() + ")"}
	}
	return strings.Fields(string(out))
}
