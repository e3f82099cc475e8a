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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

const (
	databaseImage       = "cassandra:4.1"
	brokenDatabaseImage = "cassandra:does-not-exist"
	// databaseReplicas is the size of the stateful app of these drills.
	databaseReplicas = 3
)

// claimIdentity is what makes a claim the same claim: its UID and the volume bound to it.
type claimIdentity struct {
	UID    types.UID
	Volume string
}

// boundClaims waits until the app's claims data-NAME-0..2 are Bound and returns their identity.
func boundClaims(key types.NamespacedName) map[string]claimIdentity {
	GinkgoHelper()
	claims := map[string]claimIdentity{}
	Eventually(func(g Gomega) {
		for i := range databaseReplicas {
			name := fmt.Sprintf("data-%s-%d", key.Name, i)
			pvc := &corev1.PersistentVolumeClaim{}
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: name}, pvc)).To(Succeed())
			g.Expect(pvc.DeletionTimestamp).To(BeNil(), "claim %s is being deleted", name)
			g.Expect(pvc.Status.Phase).To(Equal(corev1.ClaimBound), "claim %s", name)
			claims[name] = claimIdentity{UID: pvc.UID, Volume: pvc.Spec.VolumeName}
		}
	}).Should(Succeed())
	return claims
}

// expectPodsUseClaims checks that pod NAME-i mounts the claim data-NAME-i.
func expectPodsUseClaims(key types.NamespacedName) {
	GinkgoHelper()
	for i := range databaseReplicas {
		pod := &corev1.Pod{}
		name := fmt.Sprintf("%s-%d", key.Name, i)
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: name}, pod)).To(Succeed())
		Expect(pod.Spec.Volumes).To(ContainElement(HaveField("VolumeSource.PersistentVolumeClaim.ClaimName",
			fmt.Sprintf("data-%s-%d", key.Name, i))), "pod %s", name)
	}
}

// sampleOrderedStart checks every snapshot of the pods: pod N exists only if pod N-1 is Ready.
func sampleOrderedStart(key types.NamespacedName) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		pods, err := appPods(ctx, key)
		if err != nil {
			return 0, "", err
		}
		byName := map[string]*corev1.Pod{}
		for i := range pods {
			byName[pods[i].Name] = &pods[i]
		}
		for i := 1; i < databaseReplicas; i++ {
			if _, exists := byName[fmt.Sprintf("%s-%d", key.Name, i)]; !exists {
				continue
			}
			previous := byName[fmt.Sprintf("%s-%d", key.Name, i-1)]
			if previous == nil || !serving(previous) {
				return 0, fmt.Sprintf("%s-%d exists while %s-%d is not Ready", key.Name, i, key.Name, i-1), nil
			}
		}
		return 1, "", nil
	}
}

var _ = Describe("A stateful app", Label("stateful"), func() {
	var key types.NamespacedName

	BeforeEach(func() {
		key = types.NamespacedName{Namespace: testNamespace("db"), Name: "db"}
	})

	It("starts its pods in order with bound claims, and keeps the claims when deleted and re-created", func() {
		ordered := startSampling(100*time.Millisecond, sampleOrderedStart(key))
		app := createApp(statefulApp(key.Namespace, key.Name, databaseImage, databaseReplicas))
		minimum, samples, violation := ordered.stop()
		Expect(samples).To(BeNumerically(">=", 5))
		Expect(minimum).To(Equal(1), "start-up out of order: %s", violation)

		claims := boundClaims(key)
		expectPodsUseClaims(key)
		sts := &appsv1.StatefulSet{}
		Expect(k8s.Get(ctx, key, sts)).To(Succeed())
		Expect(metav1.IsControlledBy(sts, app)).To(BeTrue(), "the StatefulSet is owned by the app")
		headless := &corev1.Service{}
		Expect(k8s.Get(ctx, key, headless)).To(Succeed())
		Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))

		By("deleting the app: the garbage collector removes the StatefulSet, its pods and the Services")
		Expect(k8s.Delete(ctx, app)).To(Succeed())
		// The garbage collector learns of a newly installed CRD at its next discovery sync (every
		// 30 s): when this spec runs first, the StatefulSet may outlive the app by that long.
		Eventually(func(g Gomega) {
			g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key, &appsv1alpha1.HighlyAvailableApp{}))).To(BeTrue(), "app")
			g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key, &appsv1.StatefulSet{}))).To(BeTrue(), "StatefulSet")
			g.Expect(apierrors.IsNotFound(k8s.Get(ctx, key, &corev1.Service{}))).To(BeTrue(), "headless Service")
			client := types.NamespacedName{Namespace: key.Namespace, Name: key.Name + "-client"}
			g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client, &corev1.Service{}))).To(BeTrue(), "client Service")
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(pods).To(BeEmpty())
		}).Should(Succeed())
		Expect(boundClaims(key)).To(Equal(claims), "the claims outlive the app")

		By("re-creating the app: its pods get the same claims")
		createApp(statefulApp(key.Namespace, key.Name, databaseImage, databaseReplicas))
		Expect(boundClaims(key)).To(Equal(claims))
		expectPodsUseClaims(key)
	})

	It("rolls a broken image back and replaces the stuck pod, claims intact", func() {
		createApp(statefulApp(key.Namespace, key.Name, databaseImage, databaseReplicas))
		claims := boundClaims(key)

		broken := setImage(key, brokenDatabaseImage)
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.ObservedGeneration).To(Equal(broken.Generation))
			stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
			g.Expect(app.Status.CurrentRevision).To(BeEquivalentTo(1))
			g.Expect(app.Status.LastFailedRevision).To(BeEquivalentTo(2))
		}).Should(Succeed())

		By("waiting for the stuck pod to be replaced by one of revision 1")
		Eventually(func(g Gomega) {
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{databaseImage}))
			g.Expect(countServing(ctx, key)).To(Equal(3))
		}).Should(Succeed())
		Expect(getApp(key).Spec.Template.Spec.Containers[0].Image).To(Equal(brokenDatabaseImage),
			"the spec still asks for the failed revision")
		Expect(boundClaims(key)).To(Equal(claims), "the claims are untouched")
	})
})
