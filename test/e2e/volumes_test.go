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

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The local cluster's volumes live in a zone, as on every cloud: the default class makes each in the
// zone of its claim's first pod, the class immediate all in the first zone before any pod is placed.
var _ = Describe("Zonal volumes", Label("volumes"), Serial, func() {
	It("tolerate a zone's loss: the pod whose volume is there waits in its zone, reported at once, and comes back on its data", func() {
		key := types.NamespacedName{Namespace: testNamespace("volumes"), Name: "db"}
		createApp(statefulApp(key.Namespace, key.Name, imageV1, databaseReplicas))
		Eventually(func() map[string]int32 { return getApp(key).Status.VolumeZones }).Should(
			Equal(map[string]int32{"zone-a": 1, "zone-b": 1, "zone-c": 1}))
		claims := boundClaims(key)

		By("losing zone-b, its nodes known to be out of service: the pod of zone-b's volume cannot run elsewhere")
		zoneDown("zone-b", "--out-of-service")
		DeferCleanup(clusterSh, "zone-up", "zone-b")
		Eventually(func(g Gomega) {
			app := getApp(key)
			ha := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionHighlyAvailable)
			g.Expect(ha).NotTo(BeNil())
			g.Expect(ha.Reason).To(Equal(appsv1alpha1.ReasonVolumeZoneUnavailable), ha.Message)
			g.Expect(ha.Message).To(And(ContainSubstring("zone-b"), ContainSubstring("PersistentVolume's node affinity")))
			available := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionAvailable)
			g.Expect(available.Status).To(Equal(metav1.ConditionTrue), available.Message)
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		By("never failing the app for it: the zone is lost, not the update")
		Consistently(func() metav1.ConditionStatus {
			return conditionStatus(getApp(key), appsv1alpha1.ConditionStalled)
		}).WithTimeout(10 * time.Second).WithPolling(time.Second).Should(Equal(metav1.ConditionFalse))

		By("zone-b back: the pod runs there again, on the same claim")
		clusterSh("zone-up", "zone-b")
		waitSettled(key)
		Expect(boundClaims(key)).To(Equal(claims), "a claim or its volume changed")
		expectPodsUseClaims(key)
	})

	It("show the trap of an Immediate class on a zonal provisioner: every volume in one zone, advised and reported", func() {
		key := types.NamespacedName{Namespace: testNamespace("immediate"), Name: "ring"}
		app := statefulApp(key.Namespace, key.Name, imageV1, databaseReplicas)
		app.Spec.Storage[0].StorageClassName = new("immediate")
		Expect(k8s.Create(ctx, app)).To(Succeed())
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.VolumeZones).To(Equal(map[string]int32{"zone-a": databaseReplicas}))
			g.Expect(app.Status.Advice).To(ContainElement(HaveField("Rule", "ImmediateZonalStorage")))
			// Two nodes in zone-a, pods spread strictly over nodes: the third pod has nowhere to go.
			ha := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionHighlyAvailable)
			g.Expect(ha).NotTo(BeNil())
			g.Expect(ha.Reason).To(Equal(appsv1alpha1.ReasonVolumeZoneUnavailable), ha.Message)
			g.Expect(ha.Message).To(ContainSubstring("zone-a"))
			g.Expect(app.Status.Zones).To(BeEquivalentTo(1))
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		Expect(conditionStatus(getApp(key), appsv1alpha1.ConditionStalled)).To(Equal(metav1.ConditionFalse))
	})
})
