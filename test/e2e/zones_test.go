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
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// cordonZones cordons (or uncordons) every node of the zones.
func cordonZones(cordoned bool, zones ...string) {
	GinkgoHelper()
	for node, zone := range nodeZones() {
		if slices.Contains(zones, zone) {
			setUnschedulable(node, cordoned)
		}
	}
}

// servingByZone counts the app's serving pods per zone.
func servingByZone(key types.NamespacedName) map[string]int {
	GinkgoHelper()
	pods, err := servingPods(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	zones := nodeZones()
	out := map[string]int{}
	for _, p := range pods {
		out[zones[p.Spec.NodeName]]++
	}
	return out
}

// scaleApp sets spec.replicas and waits until the app is Ready at that count.
func scaleApp(key types.NamespacedName, replicas int32) {
	GinkgoHelper()
	updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = new(replicas) })
	Eventually(func(g Gomega) {
		pods, err := appPods(ctx, key)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods).To(HaveLen(int(replicas)), "pods, terminating ones included")
	}).Should(Succeed())
	waitSettled(key)
}

// replacements records, for each pod name, when a pod of that name with a UID other than its first
// was seen: a StatefulSet pod deleted and created again.
type replacements struct {
	mu    sync.Mutex
	first map[string]types.UID
	at    map[string]time.Time
	zones []string // status.updatingZone values, in the order seen
}

func (r *replacements) sample(key types.NamespacedName) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		pods, err := appPods(ctx, key)
		if err != nil {
			return 0, "", err
		}
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := k8s.Get(ctx, key, app); err != nil {
			return 0, "", err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range pods {
			if _, seen := r.at[p.Name]; !seen && p.UID != r.first[p.Name] {
				r.at[p.Name] = time.Now()
			}
		}
		if z := app.Status.UpdatingZone; z != "" && (len(r.zones) == 0 || r.zones[len(r.zones)-1] != z) {
			r.zones = append(r.zones, z)
		}
		return len(pods), "", nil
	}
}

var _ = Describe("Zones", Label("zones"), Serial, func() {
	It("predicts that losing the crowded zone breaks the budget, and the outage matches the prediction", func() {
		key := types.NamespacedName{Namespace: testNamespace("zoneloss"), Name: "skewed"}
		By("placing 3 pods in zone-a while zone-b and zone-c are cordoned, then a fourth once zone-b is back")
		cordonZones(true, "zone-b", "zone-c")
		DeferCleanup(cordonZones, false, "zone-b", "zone-c")
		createApp(statelessApp(key.Namespace, key.Name, imageV2, 3))
		cordonZones(false, "zone-b")
		scaleApp(key, 4)
		Expect(servingByZone(key)).To(HaveKeyWithValue("zone-a", BeNumerically(">=", 3)))

		By("reading the prediction: losing zone-a leaves fewer than the budget's 3 ready pods")
		var predicted *appsv1alpha1.ZoneLoss
		Eventually(func(g Gomega) {
			app := getApp(key)
			predicted = app.Status.ZoneLoss
			g.Expect(predicted).NotTo(BeNil())
			g.Expect(predicted.WorstZone).To(Equal("zone-a"))
			g.Expect(predicted.Tolerated).To(BeFalse())
			g.Expect(predicted.MinimumReady).To(BeEquivalentTo(3))
			g.Expect(app.Status.Resilience).NotTo(Equal(appsv1alpha1.ZoneRedundant))
			ha := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionHighlyAvailable)
			g.Expect(ha).NotTo(BeNil())
			g.Expect(ha.Reason).To(Equal(appsv1alpha1.ReasonZoneSkewed), ha.Message)
		}).Should(Succeed())

		By("stopping zone-a: the ready pods fall to the predicted count, below the budget, until replaced")
		ready := startSampling(100*time.Millisecond, sampleServing(key))
		zoneDown("zone-a")
		DeferCleanup(clusterSh, "zone-up", "zone-a")
		Eventually(func(g Gomega) {
			byZone := servingByZone(key)
			g.Expect(byZone).NotTo(HaveKey("zone-a"))
			g.Expect(byZone["zone-b"]).To(Equal(4))
		}).WithTimeout(3 * time.Minute).Should(Succeed())
		minimum, samples, lowest := ready.stop()
		Expect(samples).To(BeNumerically(">=", 50))
		Expect(minimum).To(BeEquivalentTo(predicted.RemainingReady), "the outage left %s", lowest)
		Expect(minimum).To(BeNumerically("<", predicted.MinimumReady))
	})

	It("surges a replacement before a drain evicts a pod: the ready pods never fall below replicas", func() {
		key := types.NamespacedName{Namespace: testNamespace("drain-surge"), Name: "drained"}
		createApp(statelessApp(key.Namespace, key.Name, imageV2, 3))
		pods, err := servingPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		node := pods[0].Spec.NodeName

		ready := startSampling(100*time.Millisecond, sampleServing(key))
		DeferCleanup(setUnschedulable, node, false)
		By("kubectl drain " + node + ": the budget refuses the eviction until the surge pod is ready")
		out, err := kubectlOutput("drain", node, "--pod-selector", "app.kubernetes.io/instance="+key.Name,
			"--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s")
		Expect(err).NotTo(HaveOccurred(), out)

		By("returning to 3 replicas once no pod is left on the drained node")
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, key, d)).To(Succeed())
			g.Expect(*d.Spec.Replicas).To(BeEquivalentTo(3))
			serving, err := servingPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(serving).To(HaveLen(3))
			for _, p := range serving {
				g.Expect(p.Spec.NodeName).NotTo(Equal(node))
			}
		}).Should(Succeed())
		minimum, samples, lowest := ready.stop()
		Expect(samples).To(BeNumerically(">=", 20))
		Expect(minimum).To(BeNumerically(">=", 3), "below replicas during the drain, %s", lowest)
	})

	It("scales in from the most crowded zone first", func() {
		key := types.NamespacedName{Namespace: testNamespace("scale-in"), Name: "shrink"}
		By("placing 4 pods in zone-a, then 2 more in the other zones")
		cordonZones(true, "zone-b", "zone-c")
		DeferCleanup(cordonZones, false, "zone-b", "zone-c")
		createApp(statelessApp(key.Namespace, key.Name, imageV2, 4))
		cordonZones(false, "zone-b", "zone-c")
		scaleApp(key, 6)
		before := map[string]string{}
		zones := nodeZones()
		pods, err := servingPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		for _, p := range pods {
			before[p.Name] = zones[p.Spec.NodeName]
		}
		Expect(servingByZone(key)).To(HaveKeyWithValue("zone-a", 4))

		By("scaling 6 → 3: the three pods removed are zone-a's")
		scaleApp(key, 3)
		pods, err = servingPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		kept := map[string]bool{}
		for _, p := range pods {
			kept[p.Name] = true
		}
		var removed []string
		for name, zone := range before {
			if !kept[name] {
				removed = append(removed, name+" in "+zone)
				Expect(zone).To(Equal("zone-a"), "removed %s", removed)
			}
		}
		Expect(removed).To(HaveLen(3))
		Expect(servingByZone(key)).To(Equal(map[string]int{"zone-a": 1, "zone-b": 1, "zone-c": 1}))
	})

	It("updates a Cassandra-like app zone by zone, and stops a bad image at the first zone", func() {
		key := types.NamespacedName{Namespace: testNamespace("zone-by-zone"), Name: "cassandra"}
		app := statefulApp(key.Namespace, key.Name, "cassandra:3.11", 6)
		parallel := appsv1alpha1.PodManagementPolicy("Parallel")
		two := intstr.FromInt32(2)
		app.Spec.PodManagementPolicy = &parallel
		app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: &two}
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Strategy: appsv1alpha1.ZoneByZone}
		createApp(app)
		sts := &appsv1.StatefulSet{}
		Expect(k8s.Get(ctx, key, sts)).To(Succeed())
		Expect(sts.Spec.UpdateStrategy.Type).To(Equal(appsv1.OnDeleteStatefulSetStrategyType))

		zoneOf := map[string]string{}
		watch := func() *replacements {
			GinkgoHelper()
			r := &replacements{first: map[string]types.UID{}, at: map[string]time.Time{}}
			pods, err := appPods(ctx, key)
			Expect(err).NotTo(HaveOccurred())
			zones := nodeZones()
			for _, p := range pods {
				r.first[p.Name], zoneOf[p.Name] = p.UID, zones[p.Spec.NodeName]
			}
			return r
		}
		r := watch()
		Expect(zoneOf).To(HaveLen(6))

		By("cassandra:3.11 → 4.0: the pods of zone-a, then zone-b, then zone-c")
		sampler := startSampling(100*time.Millisecond, r.sample(key))
		setImage(key, "cassandra:4.0")
		Eventually(func(g Gomega) {
			app := waitSettled(key)
			g.Expect(app.Status.UpdatingZone).To(BeEmpty())
			pods, err := servingPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{"cassandra:4.0"}))
		}).WithTimeout(3 * time.Minute).Should(Succeed())
		sampler.stop()
		r.mu.Lock()
		Expect(r.at).To(HaveLen(6), "every pod replaced")
		Expect(r.zones).To(Equal([]string{"zone-a", "zone-b", "zone-c"}), "status.updatingZone")
		last := map[string]time.Time{}
		firstIn := map[string]time.Time{}
		for name, at := range r.at {
			z := zoneOf[name]
			if at.After(last[z]) {
				last[z] = at
			}
			if f, ok := firstIn[z]; !ok || at.Before(f) {
				firstIn[z] = at
			}
		}
		r.mu.Unlock()
		Expect(last["zone-a"]).To(BeTemporally("<", firstIn["zone-b"]), "zone-a's pods all replaced before zone-b's")
		Expect(last["zone-b"]).To(BeTemporally("<", firstIn["zone-c"]), "zone-b's pods all replaced before zone-c's")
		Expect(last["zone-a"].Sub(firstIn["zone-a"])).To(BeNumerically("<", time.Second), "zone-a's pods replaced together")

		By("a bad image: zone-a fails, the update stops there and is rolled back")
		r = watch()
		sampler = startSampling(100*time.Millisecond, r.sample(key))
		setImage(key, "cassandra:does-not-exist")
		Eventually(func(g Gomega) {
			app := getApp(key)
			stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
			g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(6))
			pods, err := servingPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods).To(HaveLen(6))
			g.Expect(images(pods)).To(Equal([]string{"cassandra:4.0"}))
		}).WithTimeout(3 * time.Minute).Should(Succeed())
		sampler.stop()
		r.mu.Lock()
		defer r.mu.Unlock()
		touched := make([]string, 0, len(r.at))
		for name := range r.at {
			touched = append(touched, fmt.Sprintf("%s (%s)", name, zoneOf[name]))
			Expect(zoneOf[name]).To(Equal("zone-a"), "replaced %v", touched)
		}
		Expect(touched).To(HaveLen(2), "zone-a's two pods, and only them")
		Expect(r.zones).To(Equal([]string{"zone-a"}))
	})

	It("rebalances the zones after a zone comes back, never below the budget", func() {
		key := types.NamespacedName{Namespace: testNamespace("rebalance"), Name: "spread"}
		app := statelessApp(key.Namespace, key.Name, imageV2, 6)
		app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Rebalance: new(true)}
		createApp(app)
		Expect(servingByZone(key)).To(Equal(map[string]int{"zone-a": 2, "zone-b": 2, "zone-c": 2}))

		By("stopping zone-c: its pods move to zone-a and zone-b")
		zoneDown("zone-c")
		DeferCleanup(clusterSh, "zone-up", "zone-c")
		Eventually(func(g Gomega) {
			g.Expect(servingByZone(key)).To(Equal(map[string]int{"zone-a": 3, "zone-b": 3}))
		}).WithTimeout(3 * time.Minute).Should(Succeed())

		By("starting zone-c again: pods move back one at a time until each zone has 2")
		ready := startSampling(100*time.Millisecond, sampleServing(key))
		clusterSh("zone-up", "zone-c")
		Eventually(func(g Gomega) {
			g.Expect(servingByZone(key)).To(Equal(map[string]int{"zone-a": 2, "zone-b": 2, "zone-c": 2}))
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods).To(HaveLen(6))
		}).WithTimeout(3 * time.Minute).Should(Succeed())
		minimum, samples, lowest := ready.stop()
		Expect(samples).To(BeNumerically(">=", 50))
		Expect(minimum).To(BeNumerically(">=", 5), "below the budget's minimum of 5, %s", lowest)
		out, err := kubectlOutput("get", "events", "-n", key.Namespace, "--field-selector", "reason=Rebalanced", "-o", "name")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).NotTo(BeEmpty(), "no Rebalanced event")
	})
})
