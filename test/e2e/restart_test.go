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
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// ownedBy keeps the names of the objects controlled by the app.
func ownedBy(app *appsv1alpha1.HighlyAvailableApp, objects []client.Object) []string {
	var names []string
	for _, o := range objects {
		if metav1.IsControlledBy(o, app) {
			names = append(names, o.GetName())
		}
	}
	slices.Sort(names)
	return names
}

func pointers[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, 0, len(items))
	for i := range items {
		out = append(out, PT(&items[i]))
	}
	return out
}

var _ = Describe("The operator", Label("operator-restart"), Serial, func() {
	It("converges after being killed mid-rollout, with no duplicate objects", func() {
		key := types.NamespacedName{Namespace: testNamespace("restart"), Name: "web"}
		createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))

		setImage(key, imageV2)
		By("killing the operator as soon as it has started the rollout")
		Eventually(func(g Gomega) {
			deployment := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
			g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
		}).WithPolling(20 * time.Millisecond).Should(Succeed())
		clusterSh("operator-stop", "--kill")
		DeferCleanup(clusterSh, "operator-start")

		By("scaling the app to 4 while the operator is down")
		scaled := updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) { app.Spec.Replicas = new(int32(4)) })
		deployment := &appsv1.Deployment{}
		Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
		Expect(deployment.Spec.Replicas).To(Equal(new(int32(3))), "nobody applied the scale: the operator is down")

		By("restarting the operator: it finishes the job from what it observes")
		clusterSh("operator-start")
		app := waitSettled(key)
		Expect(app.Generation).To(Equal(scaled.Generation))
		Expect(app.Status.ReadyReplicas).To(BeEquivalentTo(4))
		Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2))
		Eventually(func(g Gomega) {
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV2}))
			g.Expect(countServing(ctx, key)).To(Equal(4))
		}).Should(Succeed())

		By("checking that nothing was created twice")
		deployments := &appsv1.DeploymentList{}
		Expect(k8s.List(ctx, deployments, client.InNamespace(key.Namespace))).To(Succeed())
		Expect(ownedBy(app, pointers(deployments.Items))).To(Equal([]string{key.Name}))
		services := &corev1.ServiceList{}
		Expect(k8s.List(ctx, services, client.InNamespace(key.Namespace))).To(Succeed())
		Expect(ownedBy(app, pointers(services.Items))).To(Equal([]string{key.Name}))
		budgets := &policyv1.PodDisruptionBudgetList{}
		Expect(k8s.List(ctx, budgets, client.InNamespace(key.Namespace))).To(Succeed())
		Expect(ownedBy(app, pointers(budgets.Items))).To(Equal([]string{key.Name}))
		revisions := &appsv1.ControllerRevisionList{}
		Expect(k8s.List(ctx, revisions, client.InNamespace(key.Namespace))).To(Succeed())
		var numbers []int64
		for _, r := range revisions.Items {
			if metav1.IsControlledBy(&r, app) {
				numbers = append(numbers, r.Revision)
			}
		}
		slices.Sort(numbers)
		Expect(numbers).To(Equal([]int64{1, 2}), "one ControllerRevision per revision")
	})
})
