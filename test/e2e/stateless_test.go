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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var _ = Describe("A stateless app, the nginx sample", Label("stateless"), func() {
	var key types.NamespacedName

	BeforeEach(func() {
		key = types.NamespacedName{Namespace: testNamespace("nginx"), Name: "nginx"}
	})

	It("runs 3 ready pods in 3 zones behind a Service on port 80, with a PodDisruptionBudget", func() {
		app := createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))

		Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(3))
		Expect(app.Status.Resilience).To(Equal(appsv1alpha1.ZoneRedundant))
		Expect(app.Status.Zones).To(BeEquivalentTo(3))
		Expect(app.Status.CurrentRevision).To(BeEquivalentTo(1))
		Expect(conditionStatus(app, appsv1alpha1.ConditionAvailable)).To(Equal(metav1.ConditionTrue))
		Expect(conditionStatus(app, appsv1alpha1.ConditionHighlyAvailable)).To(Equal(metav1.ConditionTrue))

		zones := nodeZones()
		pods, err := servingPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		Expect(pods).To(HaveLen(3))
		seen := map[string]bool{}
		for _, p := range pods {
			seen[zones[p.Spec.NodeName]] = true
		}
		Expect(seen).To(HaveLen(3), "one pod per zone")

		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, key, svc)).To(Succeed())
		Expect(svc.Spec.Ports).To(ContainElement(HaveField("Port", BeEquivalentTo(80))))
		Expect(metav1.IsControlledBy(svc, app)).To(BeTrue(), "the Service is owned by the app")
		pdb := &policyv1.PodDisruptionBudget{}
		Expect(k8s.Get(ctx, key, pdb)).To(Succeed())
		Expect(metav1.IsControlledBy(pdb, app)).To(BeTrue(), "the PodDisruptionBudget is owned by the app")
	})

	It("keeps at least 3 pods ready throughout an update (1.7.9 to 1.9.1)", func() {
		createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))

		ready := startSampling(100*time.Millisecond, sampleServing(key))
		setImage(key, imageV2)
		app := waitSettled(key)
		Eventually(func(g Gomega) {
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV2}), "every pod runs the new image")
			g.Expect(countServing(ctx, key)).To(Equal(3))
		}).Should(Succeed())
		minimum, samples, lowest := ready.stop()

		Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2), "revision 2 serves")
		Expect(samples).To(BeNumerically(">=", 10), "the update was sampled")
		Expect(minimum).To(BeNumerically(">=", 3), "ready pods dropped below 3, %s", lowest)
	})

	DescribeTable("rolls a failed update back by itself, leaving the spec as written",
		func(breakUpdate func(*appsv1alpha1.HighlyAvailableApp), reasons []string) {
			createApp(statelessApp(key.Namespace, key.Name, imageV2, 3))

			ready := startSampling(100*time.Millisecond, sampleServing(key))
			broken := updateApp(key, breakUpdate)
			updated := time.Now()
			written := broken.Spec.DeepCopy()

			By("waiting for the rollback: Stalled with the failing pod's reason, revision 1 serving again")
			var app *appsv1alpha1.HighlyAvailableApp
			Eventually(func(g Gomega) {
				app = getApp(key)
				g.Expect(app.Status.ObservedGeneration).To(Equal(broken.Generation))
				stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
				g.Expect(stalled).NotTo(BeNil())
				g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
				g.Expect(stalled.Message).To(SatisfyAny(
					ContainSubstring(reasons[0]), ContainSubstring(reasons[len(reasons)-1])))
				g.Expect(conditionStatus(app, appsv1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
				g.Expect(app.Status.UpdateRevision).To(BeEquivalentTo(2))
				g.Expect(app.Status.LastFailedRevision).To(BeEquivalentTo(2))
				g.Expect(app.Status.CurrentRevision).To(BeEquivalentTo(1))
			}).Should(Succeed())
			// For the record (not a pass mark): how long the update took to be seen failing and undone.
			AddReportEntry("from the update to the rollback", time.Since(updated).Round(100*time.Millisecond).String())

			By("checking that the workload and its pods are back on revision 1")
			deployment := &appsv1.Deployment{}
			Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
			Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
			Expect(deployment.Spec.Template.Annotations).NotTo(HaveKey(crashLoopAnnotation))
			Eventually(func(g Gomega) {
				pods, err := appPods(ctx, key)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(pods).To(HaveLen(3), "the failed revision's pods are gone")
				for _, p := range pods {
					g.Expect(p.Annotations).NotTo(HaveKey(crashLoopAnnotation))
					g.Expect(p.Spec.Containers[0].Image).To(Equal(imageV2))
				}
				g.Expect(countServing(ctx, key)).To(Equal(3))
			}).Should(Succeed())

			By("checking that the operator did not write the spec")
			app = getApp(key)
			Expect(app.Generation).To(Equal(broken.Generation))
			Expect(equality.Semantic.DeepEqual(app.Spec, *written)).To(BeTrue(), "the spec still asks for the failed revision")

			By("checking that the failed revision is not retried while the spec stays the same")
			Consistently(func(g Gomega) {
				g.Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
				g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
				g.Expect(deployment.Spec.Template.Annotations).NotTo(HaveKey(crashLoopAnnotation))
				g.Expect(conditionStatus(getApp(key), appsv1alpha1.ConditionStalled)).To(Equal(metav1.ConditionTrue))
			}).WithTimeout(5 * time.Second).Should(Succeed())

			minimum, samples, lowest := ready.stop()
			Expect(samples).To(BeNumerically(">=", 10))
			Expect(minimum).To(BeNumerically(">=", 3), "ready pods dropped below 3, %s", lowest)
		},
		Entry("an image that does not exist (nginx:1.91, a typo of 1.9.1)",
			func(app *appsv1alpha1.HighlyAvailableApp) {
				app.Spec.Template.Spec.Containers[0].Image = missingImage
			},
			[]string{"ErrImagePull", "ImagePullBackOff"}),
		Entry("a container that crash-loops",
			func(app *appsv1alpha1.HighlyAvailableApp) {
				if app.Spec.Template.Annotations == nil {
					app.Spec.Template.Annotations = map[string]string{}
				}
				app.Spec.Template.Annotations[crashLoopAnnotation] = "true"
			},
			[]string{"CrashLoopBackOff"}),
	)
})
