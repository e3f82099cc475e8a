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

package traffic

import (
	"fmt"
	"math"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/test/traffic/load"
)

// The scenarios, in the order of the report.
const (
	scenarioRollout  = "three rolling updates"
	scenarioRollback = "a bad image, rolled back"
	scenarioDrain    = "a drain of a node that hosts the app"
	scenarioNodeLoss = "a node lost"
)

// trafficOptions: four clients, each sending a request every 20 ms at most, on a new connection;
// bounded in all by MaxRequests.
var trafficOptions = load.Options{
	Clients:     4,
	Interval:    20 * time.Millisecond,
	Timeout:     2 * time.Second,
	Slow:        time.Second,
	MaxRequests: 200_000,
}

// startTraffic starts the clients on the app's ClusterIP; they are stopped when the spec ends, if
// the spec has not stopped them.
func startTraffic(ns, name string) *load.Run {
	GinkgoHelper()
	opts := trafficOptions
	url, clusterIP := serviceURL(ns, name)
	opts.URL = url
	// kube-proxy programs a new Service within a second or so. Until it has, a packet to the
	// ClusterIP would follow the host's default route off this machine: no request is sent before
	// the Service's rule is there, and the scenario starts once the Service answers.
	Eventually(func() (string, error) {
		out, err := exec.Command("iptables-save", "-t", "nat").Output()
		return string(out), err
	}).Should(ContainSubstring("-d "+clusterIP+"/32"), "kube-proxy's rule for the Service")
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	Eventually(func() (int, error) {
		resp, err := probe.Get(opts.URL)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode, nil
	}).Should(Equal(http.StatusOK), "the Service answers on its ClusterIP")
	By("sending traffic to " + opts.URL)
	run := load.Start(ctx, opts)
	DeferCleanup(func() { run.Stop() })
	return run
}

// setUp gives the spec a namespace and the app on v1, serving; both go when the spec ends.
func setUp(kind appKind, prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "traffic-" + prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() {
			out, _ := kubectlOutput("-n", ns.Name, "get", "haapp,deploy,rs,pods,svc,pdb,events", "-o", "wide")
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== namespace %s =====\n%s\n", ns.Name, out)
			out, _ = kubectlOutput("get", "nodes", "-o", "wide")
			_, _ = fmt.Fprintf(GinkgoWriter, "\n===== nodes =====\n%s\n", out)
		}
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, ns))).To(Succeed())
		waitGone(ns.Name)
	})
	Eventually(func() error {
		return k8s.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
	}).Should(Succeed())
	By("creating the app (" + kind.title + ") on " + imageTags[0])
	kind.create(ns.Name, imageTags[0])
	return ns.Name
}

// finish stops the traffic, records the report and checks that traffic flowed at all.
func finish(run *load.Run, scenario string, kind appKind, recovery time.Duration) load.Report {
	GinkgoHelper()
	report := run.Stop()
	record(scenario, kind, report, recovery)
	AddReportEntry(kind.title, report.String())
	_, _ = fmt.Fprintf(GinkgoWriter, "%s, %s: %s; errors %v; versions %v\n",
		scenario, kind.title, report, report.Errors, report.Versions)
	Expect(report.Sent).To(BeNumerically(">=", 100), "too little traffic to tell anything: %s", report)
	return report
}

// expectNoFailure is the HighlyAvailableApp's promise; the plain Deployment's failures are the baseline.
func expectNoFailure(kind appKind, report load.Report) {
	GinkgoHelper()
	if kind.title == highlyAvailableApp.title {
		Expect(report.Failed).To(BeZero(), "failed requests: %v", report.Errors)
	}
}

var kinds = []appKind{plainDeployment, highlyAvailableApp}

var _ = Describe("Traffic", Label("traffic"), func() {
	for _, kind := range kinds {
		It(scenarioRollout+": "+kind.title, Label("rollout"), func() {
			ns := setUp(kind, "rollout")
			run := startTraffic(ns, kind.name)
			for _, tag := range imageTags[1:] {
				By("rolling out " + tag)
				kind.update(ns, tag)
			}
			// The rollout is over once every pod runs the last version, but the Service's
			// endpoints and the node's rules follow a moment later: traffic goes on until the
			// last version has answered.
			last := imageTags[len(imageTags)-1]
			Eventually(func(g Gomega) {
				g.Expect(run.Snapshot().Versions).To(HaveKey(last), "the last version answered")
			}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
			report := finish(run, scenarioRollout, kind, 0)
			expectNoFailure(kind, report)
		})

		It(scenarioRollback+": "+kind.title, Label("rollback"), func() {
			ns := setUp(kind, "rollback")
			run := startTraffic(ns, kind.name)
			kind.breakAndRecover(ns, imageTags[0])
			report := finish(run, scenarioRollback, kind, 0)
			expectNoFailure(kind, report)
		})

		It(scenarioDrain+": "+kind.title, Label("drain"), func() {
			ns := setUp(kind, "drain")
			node := busiestNode(ns, kind.name)
			run := startTraffic(ns, kind.name)
			// A moment of traffic before the drain, so that the report covers the steady state too.
			time.Sleep(2 * time.Second)
			By("draining " + node)
			DeferCleanup(func() { kubectl("uncordon", node) })
			kubectl("drain", node, "--pod-selector", "app="+kind.name, "--ignore-daemonsets",
				"--delete-emptydir-data", "--timeout", "3m")
			waitPods(ns, kind.name, imageTags[0])
			Expect(podsPerNode(ns, kind.name)).NotTo(HaveKey(node), "no pod is left on the drained node")
			report := finish(run, scenarioDrain, kind, 0)
			expectNoFailure(kind, report)
		})

		It(scenarioNodeLoss+": "+kind.title, Label("node-loss"), func() {
			ns := setUp(kind, "nodeloss")
			node := busiestNode(ns, kind.name)
			run := startTraffic(ns, kind.name)
			time.Sleep(2 * time.Second)
			By("losing " + node + ": its kubelet, runtime and containers freeze, as in a power or network failure")
			lost := time.Now()
			onLost := podsOn(ns, kind.name, node)
			DeferCleanup(func() { clusterSh("node-up", node) })
			clusterSh("node-down", node)
			if kind.title == highlyAvailableApp.title {
				By("the operator marks the lost node's pods not ready, before the node lifecycle controller")
				Eventually(func(g Gomega) {
					for _, name := range onLost {
						pod := &corev1.Pod{}
						g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod)).To(Succeed())
						g.Expect(readyReason(pod)).To(Equal(appsv1alpha1.ReasonNodeSilent), "pod %s", name)
					}
				}).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(Succeed())
			}

			By("waiting until the app serves again from the other nodes, with no failure for 10s")
			Eventually(func(g Gomega) {
				pods := podsPerNode(ns, kind.name)
				g.Expect(pods).NotTo(HaveKey(node))
				g.Expect(sum(pods)).To(Equal(replicas), "serving pods: %v", pods)
				report := run.Snapshot()
				g.Expect(time.Since(report.LastFailure)).To(BeNumerically(">=", 10*time.Second), "recent failures: %s", report)
			}).WithTimeout(4 * time.Minute).WithPolling(time.Second).Should(Succeed())
			snapshot := run.Snapshot()
			recovery := time.Duration(0)
			if !snapshot.LastFailure.IsZero() {
				recovery = snapshot.LastFailure.Sub(lost)
			}
			finish(run, scenarioNodeLoss, kind, recovery)
		})
	}
})

// podsOn are the names of the app's pods on the node.
func podsOn(ns, app, node string) []string {
	GinkgoHelper()
	pods := &corev1.PodList{}
	Expect(k8s.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": app})).To(Succeed())
	var out []string
	for _, p := range pods.Items {
		if p.Spec.NodeName == node && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	Expect(out).NotTo(BeEmpty(), "no pod of %s on %s", app, node)
	return out
}

// readyReason is the reason of the pod's Ready condition when it is not True.
func readyReason(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
			return c.Reason
		}
	}
	return ""
}

// leaseSettings are the cluster's node Lease duration and the node lifecycle controller's grace
// period, as traffic.sh starts the cluster.
func leaseSettings() string {
	return fmt.Sprintf("Leases of %s s, grace period %s", envOr("CLUSTER_NODE_LEASE_SECONDS", "20"),
		envOr("CLUSTER_NODE_MONITOR_GRACE", "20s"))
}

// nodeLossSeconds is the least availability.nodeLossSeconds the operator allows on this cluster: one
// and a half renew intervals of its nodes' Leases (a quarter of their duration each).
func nodeLossSeconds() int32 {
	lease, err := strconv.Atoi(envOr("CLUSTER_NODE_LEASE_SECONDS", "20"))
	Expect(err).NotTo(HaveOccurred())
	return int32(math.Ceil(1.5 * float64(lease) / 4))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// result is one scenario's outcome for one kind of app.
type result struct {
	scenario string
	kind     string
	report   load.Report
	recovery time.Duration
}

var results []result

func record(scenario string, kind appKind, report load.Report, recovery time.Duration) {
	results = append(results, result{scenario: scenario, kind: kind.title, report: report, recovery: recovery})
}

// resultsTable is the side-by-side table: one row per scenario, a column per kind of app; with its
// header when header is true.
func resultsTable(header bool) string {
	var b strings.Builder
	if header {
		fmt.Fprintf(&b, "| scenario | %s | %s |\n| --- | --- | --- |\n", plainDeployment.title, highlyAvailableApp.title)
	}
	for _, scenario := range []string{scenarioRollout, scenarioRollback, scenarioDrain, scenarioNodeLoss} {
		cells := map[string]string{}
		byKind := map[string]result{}
		for _, r := range results {
			if r.scenario == scenario {
				cells[r.kind] = cell(r)
				byKind[r.kind] = r
			}
		}
		if len(cells) == 0 {
			continue
		}
		title := scenario
		if scenario == scenarioNodeLoss {
			title += " (" + leaseSettings() + ")"
			plain, okPlain := byKind[plainDeployment.title]
			app, okApp := byKind[highlyAvailableApp.title]
			if okPlain && okApp {
				cells[highlyAvailableApp.title] += nodeLossRatios(plain, app)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n",
			title, orDash(cells[plainDeployment.title]), orDash(cells[highlyAvailableApp.title]))
	}
	return b.String()
}

func cell(r result) string {
	rep := r.report
	text := fmt.Sprintf("**%d failed** of %d, %d slow, p50 %s, p99 %s", rep.Failed, rep.Sent, rep.Slow,
		rep.P50.Round(100*time.Microsecond), rep.P99.Round(100*time.Microsecond))
	if r.scenario == scenarioNodeLoss {
		if rep.Failed == 0 {
			text += ", no failure to recover from"
		} else {
			text += fmt.Sprintf(", recovered %s after the loss", r.recovery.Round(100*time.Millisecond))
		}
	}
	return text
}

// nodeLossRatios sets the app's node loss beside the targets: at most a third of the plain
// Deployment's failed requests, and recovered within half the node lifecycle controller's grace
// period.
func nodeLossRatios(plain, app result) string {
	text := ""
	if plain.report.Failed > 0 {
		text += fmt.Sprintf("; **%.2f×** the plain Deployment's failures (target at most 0.33×)",
			float64(app.report.Failed)/float64(plain.report.Failed))
	}
	if grace, err := time.ParseDuration(envOr("CLUSTER_NODE_MONITOR_GRACE", "20s")); err == nil && grace > 0 {
		text += fmt.Sprintf("; recovered in **%.2f×** the grace period (target at most 0.5×)",
			app.recovery.Seconds()/grace.Seconds())
	}
	return text
}

func orDash(s string) string {
	if s == "" {
		return "not run"
	}
	return s
}
