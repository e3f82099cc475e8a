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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// evict asks the Eviction API to evict the pod, as `kubectl drain` does.
func evict(pod *corev1.Pod) error {
	return k8s.SubResource("eviction").Create(ctx, pod, &policyv1.Eviction{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name},
	})
}

// setUnschedulable cordons or uncordons a node.
func setUnschedulable(name string, unschedulable bool) {
	GinkgoHelper()
	node := &corev1.Node{}
	Expect(k8s.Get(ctx, types.NamespacedName{Name: name}, node)).To(Succeed())
	base := node.DeepCopy()
	node.Spec.Unschedulable = unschedulable
	Expect(k8s.Patch(ctx, node, client.MergeFrom(base))).To(Succeed())
}

var _ = Describe("Disruptions", func() {
	var key types.NamespacedName

	It("drains nodes through the Eviction API no faster than the PodDisruptionBudget allows",
		Label("drain"), func() {
			key = types.NamespacedName{Namespace: testNamespace("drain"), Name: "web"}
			app := statelessApp(key.Namespace, key.Name, imageV2, 3)
			// The budget of maxUnavailable 1 paces the drain: no replacement is surged first (the
			// zones suite covers the surge).
			app.Spec.Availability = &appsv1alpha1.AvailabilitySpec{SurgeOnDrain: new(false)}
			createApp(app)

			pdb := &policyv1.PodDisruptionBudget{}
			Eventually(func(g Gomega) {
				g.Expect(k8s.Get(ctx, key, pdb)).To(Succeed())
				g.Expect(pdb.Status.ObservedGeneration).To(Equal(pdb.Generation))
				g.Expect(pdb.Status.DisruptionsAllowed).To(BeEquivalentTo(1), "3 healthy pods, at most 1 unavailable")
			}).Should(Succeed())

			pods, err := servingPods(ctx, key)
			Expect(err).NotTo(HaveOccurred())
			Expect(pods).To(HaveLen(3))
			drained := []string{pods[0].Spec.NodeName, pods[1].Spec.NodeName}
			By(fmt.Sprintf("draining %v: cordon, then evict their pods", drained))
			for _, node := range drained {
				setUnschedulable(node, true)
				DeferCleanup(setUnschedulable, node, false)
			}
			ready := startSampling(100*time.Millisecond, sampleServing(key))

			Expect(evict(&pods[0])).To(Succeed())
			// The first eviction used the budget's only disruption: the second is refused until the
			// replacement is Ready, as `kubectl drain` sees it (HTTP 429, retried).
			err = evict(&pods[1])
			Expect(apierrors.IsTooManyRequests(err)).To(BeTrue(), "second eviction: %v", err)
			Eventually(func() error { return evict(&pods[1]) }).Should(Succeed())

			Eventually(func(g Gomega) {
				serving, err := servingPods(ctx, key)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(serving).To(HaveLen(3))
				for _, p := range serving {
					g.Expect(drained).NotTo(ContainElement(p.Spec.NodeName), "pod %s on a drained node", p.Name)
				}
			}).Should(Succeed())
			minimum, samples, lowest := ready.stop()
			Expect(samples).To(BeNumerically(">=", 5))
			Expect(minimum).To(BeNumerically(">=", 2), "below the budget's minimum of 2, %s", lowest)
		})

	It("stays Available through a zone outage and moves the zone's pods to the other zones",
		Label("zone-outage"), Serial, func() {
			key = types.NamespacedName{Namespace: testNamespace("zone"), Name: "web"}
			app := createApp(statelessApp(key.Namespace, key.Name, imageV2, 3))
			Expect(app.Status.Zones).To(BeEquivalentTo(3))

			zones := nodeZones()
			pods, err := servingPods(ctx, key)
			Expect(err).NotTo(HaveOccurred())
			down := zones[pods[0].Spec.NodeName]

			available := startSampling(250*time.Millisecond, func(ctx context.Context) (int, string, error) {
				app := &appsv1alpha1.HighlyAvailableApp{}
				if err := k8s.Get(ctx, key, app); err != nil {
					return 0, "", err
				}
				if conditionStatus(app, appsv1alpha1.ConditionAvailable) == metav1.ConditionTrue {
					return 1, "", nil
				}
				return 0, fmt.Sprintf("at %s: %+v", time.Now().Format(time.StampMilli), app.Status.Conditions), nil
			})

			By("stopping the kubelets of " + down + ": its nodes stop renewing their leases")
			zoneDown(down)
			DeferCleanup(clusterSh, "zone-up", down)

			By("waiting for the node lifecycle controller to mark the zone's nodes NotReady and taint them")
			Eventually(func(g Gomega) {
				nodes := &corev1.NodeList{}
				g.Expect(k8s.List(ctx, nodes, client.MatchingLabels{zoneLabel: down})).To(Succeed())
				g.Expect(nodes.Items).NotTo(BeEmpty())
				for _, n := range nodes.Items {
					g.Expect(nodeReady(&n)).To(BeFalse(), "node %s still Ready", n.Name)
					g.Expect(slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
						return t.Key == corev1.TaintNodeUnreachable && t.Effect == corev1.TaintEffectNoExecute
					})).To(BeTrue(), "node %s not tainted unreachable:NoExecute", n.Name)
				}
			}).WithTimeout(2 * time.Minute).Should(Succeed())

			By("waiting for the pods to be replaced in the other zones and the status to say so")
			Eventually(func(g Gomega) {
				serving, err := servingPods(ctx, key)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(serving).To(HaveLen(3))
				for _, p := range serving {
					g.Expect(zones[p.Spec.NodeName]).NotTo(Equal(down), "pod %s in the zone that is down", p.Name)
				}
				app := getApp(key)
				g.Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(3))
				g.Expect(app.Status.Zones).To(BeEquivalentTo(2))
				// 2 + 1 pods in two zones: losing the zone with 2 would leave 1, below the budget's 2.
				g.Expect(app.Status.Resilience).To(Equal(appsv1alpha1.NodeRedundant))
				g.Expect(app.Status.ZoneLoss).NotTo(BeNil())
				g.Expect(app.Status.ZoneLoss.Tolerated).To(BeFalse())
				g.Expect(conditionStatus(app, appsv1alpha1.ConditionAvailable)).To(Equal(metav1.ConditionTrue))
			}).WithTimeout(2 * time.Minute).Should(Succeed())

			minimum, samples, lowest := available.stop()
			Expect(samples).To(BeNumerically(">=", 20))
			Expect(minimum).To(Equal(1), "the app was not Available during the outage, %s", lowest)
		})
})

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
