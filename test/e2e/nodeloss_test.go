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

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// stoppedZones are the zones the suite stopped on purpose: a NodeSilent Event may name their nodes,
// and no other (a healthy node is never taken for a silent one, checked after the suite).
var stoppedZones = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// zoneDown stops a zone's kwok, as zone-down does, and records it.
func zoneDown(zone string, args ...string) {
	GinkgoHelper()
	stoppedZones.Lock()
	stoppedZones.names[zone] = true
	stoppedZones.Unlock()
	clusterSh(append([]string{"zone-down", zone}, args...)...)
}

// silentMarks are the app's pods marked not ready because their node went silent.
func silentMarks(key types.NamespacedName) []string {
	GinkgoHelper()
	pods, err := appPods(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, p := range pods {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && c.Reason == appsv1alpha1.ReasonNodeSilent {
				out = append(out, p.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// expectNoHealthyNodeMarked checks, after the suite, that every pod marked not ready for a silent
// node (a NodeSilent Event that says so) was on a node of a zone the suite stopped: over the whole
// suite, whose healthy nodes run for more than 10 minutes, the operator took no healthy node for a
// silent one. (An API server outage silences every node at once, and marks nothing.)
func expectNoHealthyNodeMarked() {
	GinkgoHelper()
	events := &corev1.EventList{}
	Expect(k8s.List(ctx, events, client.MatchingFields{"reason": appsv1alpha1.ReasonNodeSilent})).To(Succeed())
	zones := nodeZones()
	stoppedZones.Lock()
	defer stoppedZones.Unlock()
	marks := 0
	for _, e := range events.Items {
		if !strings.Contains(e.Message, ": marked pods ") {
			continue
		}
		marks++
		node := strings.Fields(strings.TrimPrefix(e.Message, "node "))[0]
		Expect(stoppedZones.names).To(HaveKey(zones[node]),
			"pods of node %s (zone %s), which the suite never stopped, were marked not ready: %s", node, zones[node], e.Message)
	}
	AddReportEntry("pods marked not ready for a silent node, all in stopped zones (Events)", marks)
}

var _ = AfterSuite(expectNoHealthyNodeMarked)

var _ = Describe("A silent node", Label("node-loss"), Serial, func() {
	It("has its pods marked not ready within the bound, the app serving from the other zones; they are ready again when it returns", func() {
		key := types.NamespacedName{Namespace: testNamespace("silent"), Name: "web"}
		createApp(statelessApp(key.Namespace, key.Name, imageV1, 6))
		byZone := servingByZone(key)
		Expect(byZone).To(HaveLen(3))

		By("stopping zone-a's kwok: its nodes stop renewing their Leases (20 s Leases, renewed every 5 s)")
		serving := startSampling(100*time.Millisecond, sampleServing(key))
		lost := time.Now()
		zoneDown("zone-a")
		DeferCleanup(clusterSh, "zone-up", "zone-a")
		var marked time.Duration
		Eventually(func(g Gomega) {
			g.Expect(silentMarks(key)).To(HaveLen(byZone["zone-a"]))
			marked = time.Since(lost)
		}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
		AddReportEntry("zone-a lost: its pods marked not ready after", marked.Round(100*time.Millisecond).String())
		// Default: 2.5 renew intervals (12.5 s) after the last renewal, which came up to one interval
		// before the loss; the node lifecycle controller's grace period is 20 s.
		Expect(marked).To(BeNumerically("<", 20*time.Second), "not before the node lifecycle controller")
		app := getApp(key)
		Expect(app.Status.SilentNodes).NotTo(BeEmpty())
		for _, n := range app.Status.SilentNodes {
			Expect(nodeZones()[n.Name]).To(Equal("zone-a"))
			Expect(n.Marked).To(BeTrue(), "%+v", n)
		}
		Expect(countServing(ctx, key)).To(Equal(6 - byZone["zone-a"]))

		By("starting zone-a again before any eviction: its pods are ready again")
		clusterSh("zone-up", "zone-a")
		Eventually(func() []string { return silentMarks(key) }).WithTimeout(time.Minute).Should(BeEmpty())
		Eventually(func(g Gomega) {
			g.Expect(countServing(ctx, key)).To(Equal(6))
			g.Expect(getApp(key).Status.SilentNodes).To(BeEmpty())
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		minimum, _, lowest := serving.stop()
		Expect(minimum).To(BeNumerically(">=", 6-byZone["zone-a"]), "the other zones' pods stopped serving: %s", lowest)
	})

	It("marks nothing when every node goes silent at once: the control plane is suspected", func() {
		key := types.NamespacedName{Namespace: testNamespace("allsilent"), Name: "web"}
		createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))
		By("stopping every zone's kwok")
		for _, zone := range []string{"zone-a", "zone-b", "zone-c"} {
			zoneDown(zone)
			DeferCleanup(clusterSh, "zone-up", zone)
		}
		Eventually(func(g Gomega) {
			nodes := getApp(key).Status.SilentNodes
			g.Expect(nodes).NotTo(BeEmpty())
			for _, n := range nodes {
				g.Expect(n.Marked).To(BeFalse(), fmt.Sprintf("%+v", n))
				g.Expect(n.Reason).To(Equal(appsv1alpha1.ReasonClusterSilent))
			}
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(silentMarks(key)).To(BeEmpty())
		for _, zone := range []string{"zone-a", "zone-b", "zone-c"} {
			clusterSh("zone-up", zone)
		}
		waitSettled(key)
	})
})
