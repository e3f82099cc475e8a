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
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// throttledAnnotation on a pod makes the local cluster refuse its first pull with 429 and serve the
// image a few seconds later.
const throttledAnnotation = "simulate.haoperator.dev/pull-throttled"

// podUIDs maps the app's pods that are not terminating to their UIDs.
func podUIDs(key types.NamespacedName) map[string]types.UID {
	GinkgoHelper()
	pods, err := appPods(ctx, key)
	Expect(err).NotTo(HaveOccurred())
	out := map[string]types.UID{}
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			out[p.Name] = p.UID
		}
	}
	return out
}

// neverFailed checks that the app has no failed revision.
func neverFailed(key types.NamespacedName) {
	GinkgoHelper()
	app := getApp(key)
	Expect(app.Status.LastFailedRevision).To(BeZero(), "a revision failed: %v", app.Status.Conditions)
}

var _ = Describe("The decision core, on the local cluster", Label("decide"), func() {
	var key types.NamespacedName

	BeforeEach(func() {
		key = types.NamespacedName{Namespace: testNamespace("decide"), Name: "web"}
	})

	It("hands the live replica count over to an autoscaler without deleting a pod (problem 1)", func() {
		createApp(statelessApp(key.Namespace, key.Name, imageV2, 5))
		before := podUIDs(key)
		Expect(before).To(HaveLen(5))

		lowest := startSampling(100*time.Millisecond, func(ctx context.Context) (int, string, error) {
			d := &appsv1.Deployment{}
			if err := k8s.Get(ctx, key, d); err != nil {
				return 0, "", err
			}
			return int(*d.Spec.Replicas), "", nil
		})
		updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) {
			app.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: new(int32(2)), MaxReplicas: 10}
		})
		Eventually(func(g Gomega) {
			g.Expect(getApp(key).Status.ObservedGeneration).To(Equal(getApp(key).Generation))
		}).Should(Succeed())
		Consistently(func() map[string]types.UID { return podUIDs(key) }).WithTimeout(10 * time.Second).Should(Equal(before))
		minimum, samples, _ := lowest.stop()
		Expect(samples).To(BeNumerically(">=", 10))
		Expect(minimum).To(Equal(5), "the Deployment's replicas dipped below the live 5")
	})

	It("lets a slow, healthy rollout finish although it takes longer than the deadline (problem 2)", func() {
		app := statelessApp(key.Namespace, key.Name, imageV1, 4)
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: new(intstr.FromInt32(1)),
			MinReadySeconds: new(int32(8)), ProgressDeadlineSeconds: new(int32(20))}
		createApp(app)
		started := time.Now()
		setImage(key, imageV2)
		settled := waitSettled(key)
		neverFailed(key)
		Expect(settled.Status.CurrentRevision).To(BeEquivalentTo(2))
		AddReportEntry("slow rollout took", time.Since(started).Round(time.Second).String())
		Expect(time.Since(started)).To(BeNumerically(">", 20*time.Second), "the rollout did outlast the deadline")
	})

	It("does not count a pause against the deadline (problem 3)", func() {
		app := statelessApp(key.Namespace, key.Name, imageV1, 3)
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(10))}
		createApp(app)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = imageV2
			a.Spec.Rollout.Paused = true
		})
		time.Sleep(15 * time.Second) // a pause longer than the deadline: the pause itself is the scenario
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Rollout.Paused = false })
		waitSettled(key)
		neverFailed(key)
	})

	It("holds a healthy partition canary past the deadline without failing it (problem 4)", func() {
		app := statefulApp(key.Namespace, key.Name, databaseImage, 3)
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: new(int32(2)), ProgressDeadlineSeconds: new(int32(10))}
		createApp(app)
		setImage(key, "cassandra:4.1.1")
		Eventually(func(g Gomega) {
			canary := &corev1.Pod{}
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name + "-2"}, canary)).To(Succeed())
			g.Expect(canary.Spec.Containers[0].Image).To(Equal("cassandra:4.1.1"))
			g.Expect(serving(canary)).To(BeTrue())
		}).Should(Succeed())
		Consistently(func() int64 { return getApp(key).Status.LastFailedRevision }).WithTimeout(15 * time.Second).Should(BeZero())
	})

	It("tolerates a pull refused once with 429, and still rolls nginx:1.91 back within 10 s (problem 5)", func() {
		createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = imageV2
			a.Spec.Template.Annotations = map[string]string{throttledAnnotation: "true"}
		})
		settled := waitSettled(key)
		neverFailed(key)
		Expect(settled.Status.CurrentRevision).To(BeEquivalentTo(2))

		updated := time.Now()
		broken := updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = missingImage
			a.Spec.Template.Annotations = nil
		})
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.ObservedGeneration).To(Equal(broken.Generation))
			stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		AddReportEntry("nginx:1.91 rolled back after", time.Since(updated).Round(100*time.Millisecond).String())
		Expect(getApp(key).Spec.Template.Spec.Containers[0].Image).To(Equal(missingImage), "the spec is untouched")
	})

	It("reports a generated object the API server refuses as Stalled/ApplyFailed, generation observed (problem 6)", func() {
		createApp(statefulApp(key.Namespace, key.Name, databaseImage, 3))
		changed := updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.PodManagementPolicy = new(appsv1alpha1.PodManagementPolicy(appsv1.ParallelPodManagement))
		})
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.ObservedGeneration).To(Equal(changed.Generation))
			stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonApplyFailed))
			g.Expect(stalled.Message).To(ContainSubstring("spec"))
		}).Should(Succeed())
	})

	It("scales a Stateful app without restarting a pod (problem 7)", func() {
		createApp(statefulApp(key.Namespace, key.Name, databaseImage, 3))
		before := podUIDs(key)
		sts := &appsv1.StatefulSet{}
		Expect(k8s.Get(ctx, key, sts)).To(Succeed())
		template := sts.Spec.Template.DeepCopy()
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = new(int32(4)) })
		app := waitSettled(key)
		Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(4))
		Expect(app.Status.UpdateRevision).To(BeEquivalentTo(1), "a scale is not a revision")
		after := podUIDs(key)
		for name, uid := range before {
			Expect(after[name]).To(Equal(uid), "pod %s was restarted", name)
		}
		Expect(k8s.Get(ctx, key, sts)).To(Succeed())
		Expect(sts.Spec.Template).To(Equal(*template))
	})

	It("never counts or deletes a look-alike pod, and clears a Conflict by itself (problem 8)", func() {
		By("a Service of the app's name that the app does not own")
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
		Expect(k8s.Create(ctx, svc)).To(Succeed())
		Expect(k8s.Create(ctx, statelessApp(key.Namespace, key.Name, imageV2, 3))).To(Succeed())
		Eventually(func() string {
			c := meta.FindStatusCondition(getApp(key).Status.Conditions, appsv1alpha1.ConditionStalled)
			if c == nil {
				return ""
			}
			return c.Reason
		}).Should(Equal(appsv1alpha1.ReasonConflict))
		Expect(k8s.Delete(ctx, svc)).To(Succeed())
		waitSettled(key)

		By("a pod with the app's labels that no workload of the app controls, failing")
		lookalike := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: "lookalike",
			Labels: map[string]string{appsv1alpha1.LabelName: key.Name, appsv1alpha1.LabelInstance: key.Name,
				appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: missingImage}}}}
		Expect(k8s.Create(ctx, lookalike)).To(Succeed())
		setImage(key, imageV1)
		waitSettled(key)
		neverFailed(key)
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(lookalike), lookalike)).To(Succeed())
		Expect(lookalike.DeletionTimestamp).To(BeNil())
	})

	It("reports a Deployment that cannot create pods at once (problem 8: ReplicaFailure)", func() {
		quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: "two-pods"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2")}}}
		Expect(k8s.Create(ctx, quota)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(quota), quota)).To(Succeed())
			g.Expect(quota.Status.Hard).NotTo(BeEmpty())
		}).Should(Succeed())
		Expect(k8s.Create(ctx, statelessApp(key.Namespace, key.Name, imageV2, 3))).To(Succeed())
		Eventually(func(g Gomega) {
			ready := meta.FindStatusCondition(getApp(key).Status.Conditions, appsv1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(appsv1alpha1.ReasonReplicaFailure), "%s", ready.Message)
			g.Expect(ready.Message).To(ContainSubstring("exceeded quota"))
		}).Should(Succeed())
		AddReportEntry("ReplicaFailure", fmt.Sprintf("reported on %s", key))
	})
})
