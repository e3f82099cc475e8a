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

package multicluster

import (
	"context"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The scenarios share the multi-cluster and run in order: the app divided, updated, rolled back;
// a Stateful app placed whole on member1; member1 lost, then back.
var _ = Describe("One app across two member clusters", Ordered, func() {
	var web, db types.NamespacedName
	both := []string{member1, member2}

	BeforeAll(func() {
		ns := testNamespace("apps")
		web = types.NamespacedName{Namespace: ns, Name: "web"}
		db = types.NamespacedName{Namespace: ns, Name: "db"}
	})

	It("divides a Stateless app of 4 replicas 2/2 between the members; the aggregate: Ready, ClusterRedundant", func() {
		Expect(karmada.Create(ctx, propagationPolicy(web.Namespace, web.Name, both, []int64{1, 1}, false))).To(Succeed())
		Expect(karmada.Create(ctx, statelessApp(web.Namespace, web.Name, imageV1, 4))).To(Succeed())

		Eventually(func(g Gomega) {
			g.Expect(memberReplicas(g, member1, web)).To(BeEquivalentTo(2), "replicas in member1")
			g.Expect(memberReplicas(g, member2, web)).To(BeEquivalentTo(2), "replicas in member2")
		}).Should(Succeed())
		for _, name := range both {
			Eventually(func(g Gomega) {
				app, err := getApp(members[name], web)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(settled(app)).To(BeTrue(), "%s: %s", name, describe(app))
				g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(2), "%s: %s", name, describe(app))
				// On a member the multi-cluster fields stay unset.
				g.Expect(app.Status.Clusters).To(BeZero())
				g.Expect(app.Status.ClusterLoss).To(BeNil())
			}).Should(Succeed())
		}
		expectAggregateRedundant(web)
	})

	It("updates the image in both members; the aggregate is Ready on the new revision", func() {
		probe := probeStatusWrite(web, both,
			func(app *appsv1alpha1.HighlyAvailableApp) bool {
				return settled(app) && app.Spec.Template.Spec.Containers[0].Image == imageV2 &&
					app.Status.UpdatedReplicas == 2 && app.Status.ReadyReplicas == 2 && app.Status.Replicas == 2
			},
			func(app *appsv1alpha1.HighlyAvailableApp) bool {
				return settled(app) && app.Spec.Template.Spec.Containers[0].Image == imageV2 &&
					app.Status.UpdatedReplicas == 4 && app.Status.ReadyReplicas == 4 && app.Status.Replicas == 4
			})
		setImage(web, imageV2)
		Eventually(probe.finished).Should(BeTrue(), func() string { return describe(mustGetApp(karmada, web)) })
		measured.addStatusWrite("an update: Ready on the new revision", probe.latency())

		for _, name := range both {
			n, pods, err := readyPods(ctx, members[name], web)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(2), "%s: %v", name, pods)
			for _, p := range pods {
				Expect(p).To(HaveSuffix("(" + imageV2 + ")"))
			}
		}
		Expect(kstatus(web)).To(Equal(status.CurrentStatus))
	})

	It("rolls a bad image back in both members; the aggregate is Stalled (RolledBack), kstatus Failed", func() {
		// Before the change neither the members nor the aggregate are rolled back.
		probe := probeStatusWrite(web, both, rolledBack, rolledBack)
		setImage(web, missingImage)
		Eventually(probe.finished).WithTimeout(3*time.Minute).Should(BeTrue(),
			func() string { return describe(mustGetApp(karmada, web)) })
		measured.addStatusWrite("a bad image: Stalled, RolledBack", probe.latency())

		aggregate := mustGetApp(karmada, web)
		Expect(condition(aggregate, appsv1alpha1.ConditionStalled).Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
		// InProgress while the good pods come back, as on one cluster; then Failed.
		Eventually(kstatus).WithArguments(web).Should(Equal(status.FailedStatus))
		// The members serve the last good revision all along.
		for _, name := range both {
			n, pods, err := readyPods(ctx, members[name], web)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(Equal(2), "%s: %v", name, pods)
			for _, p := range pods {
				Expect(p).To(HaveSuffix("(" + imageV2 + ")"))
			}
		}

		By("putting the last good image back: Ready again")
		probe = probeStatusWrite(web, both,
			func(app *appsv1alpha1.HighlyAvailableApp) bool {
				return settled(app) && app.Spec.Template.Spec.Containers[0].Image == imageV2
			},
			func(app *appsv1alpha1.HighlyAvailableApp) bool {
				return settled(app) && app.Spec.Template.Spec.Containers[0].Image == imageV2 &&
					app.Status.ReadyReplicas == 4 && app.Status.Replicas == 4
			})
		setImage(web, imageV2)
		Eventually(probe.finished).Should(BeTrue(), func() string { return describe(mustGetApp(karmada, web)) })
		measured.addStatusWrite("the good image back: Ready", probe.latency())
		Expect(kstatus(web)).To(Equal(status.CurrentStatus))
	})

	It("runs a Stateful app whole on the one member its policy names, nothing in the other", func() {
		// Failover off for it: it tolerates the taint of a lost member, so that it is never moved.
		Expect(karmada.Create(ctx, propagationPolicy(db.Namespace, db.Name, []string{member1}, nil, true))).
			To(Succeed())
		Expect(karmada.Create(ctx, statefulApp(db.Namespace, db.Name, imageV1, 3))).To(Succeed())

		Eventually(func(g Gomega) {
			app, err := getApp(members[member1], db)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(app.Spec.Replicas).To(HaveValue(BeEquivalentTo(3)), "the copy keeps every replica")
			g.Expect(settled(app)).To(BeTrue(), describe(app))
			g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(3))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			app, err := getApp(karmada, db)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(settled(app)).To(BeTrue(), describe(app))
			g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(3), describe(app))
			g.Expect(app.Status.Clusters).To(BeEquivalentTo(1), describe(app))
			g.Expect(app.Status.Resilience).NotTo(Equal(appsv1alpha1.ClusterRedundant))
		}).Should(Succeed())

		// Karmada sees no replicas to divide: the binding has none, and places the app on member1 alone.
		rb, err := binding(db)
		Expect(err).NotTo(HaveOccurred())
		replicas, _, _ := unstructured.NestedInt64(rb.Object, "spec", "replicas")
		Expect(replicas).To(BeZero(), "spec.replicas of the ResourceBinding")
		Expect(bindingClusters(rb)).To(Equal(map[string]int64{member1: 0}))
		expectNoCopy(member2, db)
	})

	It("loses member1: member2 runs all 4 replicas without losing a ready pod; the aggregate says one cluster", func() {
		Eventually(func(g Gomega) {
			app, err := getApp(karmada, web)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(settled(app)).To(BeTrue(), describe(app))
			g.Expect(app.Status.Clusters).To(BeEquivalentTo(2), describe(app))
		}).Should(Succeed())
		survivor := startSampling(100*time.Millisecond, 4, sampleReady(members[member2], web))
		aggregate := startTimeline(100*time.Millisecond, aggregateState(web))
		dbElsewhere := startSampling(100*time.Millisecond, 1, func(ctx context.Context) (int, string, error) {
			_, err := getApp(members[member2], db)
			if apierrors.IsNotFound(err) {
				return 1, "", nil
			}
			return 0, "a copy of db in member2", err
		})

		multicluster("member-down", member1)
		lost := time.Now()

		step := func(name, setBy string, check func(Gomega)) {
			GinkgoHelper()
			Eventually(check).WithPolling(100 * time.Millisecond).WithTimeout(4 * time.Minute).Should(Succeed())
			measured.addStep(name, lost, time.Now(), setBy)
		}
		step("member1 Ready=False on Karmada",
			"--cluster-status-update-frequency=2s, --cluster-failure-threshold=6s",
			func(g Gomega) {
				c, err := cluster(member1)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(clusterReady(c)).NotTo(Equal("True"))
			})
		step("member1 tainted NoExecute", "the ClusterTaintPolicy (Ready not True)", func(g Gomega) {
			c, err := cluster(member1)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(clusterTainted(c, notReadyTaint)).To(BeTrue())
		})
		step("the binding places all 4 replicas on member2",
			"--enable-no-execute-taint-eviction, --resource-eviction-rate=0.5, karmada-scheduler",
			func(g Gomega) {
				rb, err := binding(web)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(bindingClusters(rb)).To(Equal(map[string]int64{member2: 4}))
			})
		step("member2's copy asks for 4 replicas", "karmada-controller-manager (execution)", func(g Gomega) {
			g.Expect(memberReplicas(g, member2, web)).To(BeEquivalentTo(4))
		})
		Eventually(survivor.reachedAt).WithTimeout(4 * time.Minute).ShouldNot(BeZero())
		measured.addStep("member2 has every replica ready (4/4)", lost, survivor.reachedAt(),
			"the operator and kube-controller-manager on member2, kwok (pods Ready after 0.5–2 s)")
		// Once member2 is healthy, Karmada ends the graceful eviction: member1's Work is deleted (its
		// finalizer waits for member1) and its last report leaves the aggregate, which is then
		// member2's alone.
		// The aggregate keeps saying that the app, which ran across clusters, now runs in one.
		step("the aggregate Ready again, 4/4 in one cluster, HighlyAvailable=False SingleCluster",
			"the interpreter's health and AggregateStatus; --no-execute-taint-eviction-purge-mode=Gracefully",
			func(g Gomega) {
				app, err := getApp(karmada, web)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(settled(app)).To(BeTrue(), describe(app))
				g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(4), describe(app))
				g.Expect(app.Status.Clusters).To(BeEquivalentTo(1), describe(app))
				g.Expect(app.Status.Resilience).NotTo(Equal(appsv1alpha1.ClusterRedundant), describe(app))
				ha := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionHighlyAvailable)
				g.Expect(ha).NotTo(BeNil(), describe(app))
				g.Expect(ha.Status).To(Equal(metav1.ConditionFalse), describe(app))
				g.Expect(ha.Reason).To(Equal(appsv1alpha1.ReasonSingleCluster), describe(app))
				g.Expect(app.Status.ClusterLoss).NotTo(BeNil(), describe(app))
				g.Expect(app.Status.ClusterLoss.Tolerated).To(BeFalse(), describe(app))
				g.Expect(app.Status.ClusterLoss.RemainingReady).To(BeZero(), describe(app))
			})

		minimum, samples, lowest := survivor.stop()
		// The timeline has recorded the settled aggregate too before it stops.
		Eventually(aggregate.last).Should(HavePrefix("Ready=True"))
		states := aggregate.stop(lost)
		measured.addNote("The aggregate during the failover (from the loss):\n  %s", strings.Join(states, "\n  "))
		Expect(samples).To(BeNumerically(">", 10))
		Expect(minimum).To(BeNumerically(">=", 2), "member2's ready pods dropped below 2: %s", lowest)
		elsewhere, _, detail := dbElsewhere.stop()
		Expect(elsewhere).To(Equal(1), "the Stateful app was moved: %s", detail)
	})

	It("gets member1 back: its stale copy goes (no duplicate pods); a WorkloadRebalancer divides the app 2/2", func() {
		multicluster("member-up", member1)
		back := time.Now()
		Eventually(func(g Gomega) {
			c, err := cluster(member1)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(clusterReady(c)).To(Equal("True"))
			g.Expect(clusterTainted(c, notReadyTaint)).To(BeFalse())
		}).WithPolling(100 * time.Millisecond).Should(Succeed())
		measured.addReturnStep("member1 Ready on Karmada, its taint removed", back, time.Now(),
			"--cluster-success-threshold, the ClusterTaintPolicy")

		Eventually(func(g Gomega) {
			g.Expect(memberReplicas(g, member1, web)).To(BeEquivalentTo(-1), "a copy of web is left in member1")
			pods, err := appPods(ctx, members[member1], web)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods).To(BeEmpty(), "pods of web are left in member1")
		}).WithPolling(100 * time.Millisecond).Should(Succeed())
		measured.addReturnStep("member1's stale copy and its pods removed", back, time.Now(),
			"karmada-controller-manager (execution), garbage collection in member1")
		n, pods, err := readyPods(ctx, members[member2], web)
		Expect(err).NotTo(HaveOccurred())
		Expect(n).To(Equal(4), "member2: %v", pods)

		// Karmada does not divide again by itself: member1 gets nothing back until asked.
		rb, err := binding(web)
		Expect(err).NotTo(HaveOccurred())
		Expect(bindingClusters(rb)).To(Equal(map[string]int64{member2: 4}))

		By("dividing the app afresh with a WorkloadRebalancer")
		total := startSampling(100*time.Millisecond, 4, sampleReadyEverywhere(web))
		started := time.Now()
		rebalance(web)
		Eventually(func(g Gomega) {
			g.Expect(memberReplicas(g, member1, web)).To(BeEquivalentTo(2), "replicas in member1")
			g.Expect(memberReplicas(g, member2, web)).To(BeEquivalentTo(2), "replicas in member2")
		}).Should(Succeed())
		expectAggregateRedundant(web)
		rebalanced := time.Since(started)
		minimum, _, lowest := total.stop()
		measured.addNote("WorkloadRebalancer: divided 2/2 and Ready in %.1f s; the fewest ready pods across the members "+
			"meanwhile: %d (%s).", rebalanced.Seconds(), minimum, lowest)

		// The Stateful app stayed whole on member1 through it all.
		app := mustGetApp(members[member1], db)
		Expect(app.Spec.Replicas).To(HaveValue(BeEquivalentTo(3)))
		Eventually(func(g Gomega) {
			app, err := getApp(members[member1], db)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(settled(app)).To(BeTrue(), describe(app))
			g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(3), describe(app))
		}).Should(Succeed())
		expectNoCopy(member2, db)
	})
})

// expectAggregateRedundant waits until the aggregate on Karmada is Ready with 4 ready pods in 2
// members, ClusterRedundant, and the loss of either member tolerated.
func expectAggregateRedundant(key types.NamespacedName) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		app, err := getApp(karmada, key)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(settled(app)).To(BeTrue(), describe(app))
		g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(4), describe(app))
		g.Expect(app.Status.Clusters).To(BeEquivalentTo(2), describe(app))
		g.Expect(app.Status.Resilience).To(Equal(appsv1alpha1.ClusterRedundant), describe(app))
		g.Expect(condition(app, appsv1alpha1.ConditionHighlyAvailable).Status).To(Equal(metav1.ConditionTrue), describe(app))
		g.Expect(app.Status.ClusterLoss).NotTo(BeNil(), describe(app))
		g.Expect(*app.Status.ClusterLoss).To(Equal(appsv1alpha1.ClusterLoss{
			Tolerated:      true,
			WorstCluster:   member1, // a tie: the first by name
			RemainingReady: 2,
			MinimumReady:   2, // minAvailable 50% of 4
		}), describe(app))
	}).Should(Succeed())
	Expect(kstatus(key)).To(Equal(status.CurrentStatus))
}

// expectNoCopy checks that the member has no copy of the app and none of its pods.
func expectNoCopy(member string, key types.NamespacedName) {
	GinkgoHelper()
	_, err := getApp(members[member], key)
	Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a copy of %s in %s (%v)", key, member, err)
	pods, err := appPods(ctx, members[member], key)
	Expect(err).NotTo(HaveOccurred())
	Expect(pods).To(BeEmpty(), "pods of %s in %s", key, member)
}

// kstatus is what kstatus (Flux, Helm, cli-utils) computes on the app on Karmada.
func kstatus(key types.NamespacedName) (status.Status, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp"))
	if err := karmada.Get(ctx, key, obj); err != nil {
		return "", err
	}
	result, err := status.Compute(obj)
	if err != nil {
		return "", err
	}
	return result.Status, nil
}
