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
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The previous release of the operator (PREVIOUS_MANAGER_BIN, built by make test-e2e from the
// repository's history) runs the apps; it is replaced by this one, which adds a default (a readiness
// probe): no running pod restarts until the app's template changes.
var _ = Describe("An operator upgrade", Label("operator-upgrade"), Serial, func() {
	It("restarts no running pod; a new default reaches the pods with the app's next revision", func() {
		previous := os.Getenv("PREVIOUS_MANAGER_BIN")
		Expect(previous).NotTo(BeEmpty(), "PREVIOUS_MANAGER_BIN names the previous release's manager (make test-e2e builds it)")
		By("running the apps with the previous release")
		clusterSh("operator-stop")
		DeferCleanup(func() {
			clusterSh("operator-stop")
			clusterSh("operator-start")
		})
		clusterShEnv([]string{"MANAGER_BIN=" + previous}, "operator-start")
		ns := testNamespace("upgrade")
		web := types.NamespacedName{Namespace: ns, Name: "web"}
		db := types.NamespacedName{Namespace: ns, Name: "db"}
		createApp(statelessApp(ns, web.Name, imageV1, 3))
		createApp(statefulApp(ns, db.Name, imageV1, 3))
		before := map[types.NamespacedName]map[string]types.UID{web: podUIDs(web), db: podUIDs(db)}
		revision := map[types.NamespacedName]int64{web: getApp(web).Status.UpdateRevision, db: getApp(db).Status.UpdateRevision}

		By("upgrading the operator to this release")
		clusterSh("operator-stop")
		clusterSh("operator-start")
		By("waking the apps with a change that asks nothing of their pods")
		for _, key := range []types.NamespacedName{web, db} {
			updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) {
				app.Annotations = map[string]string{"team": "checkout"}
			})
			// This release writes the phase, which the previous one did not: it has reconciled the app.
			Eventually(func() appsv1alpha1.Phase { return getApp(key).Status.Phase }).Should(Equal(appsv1alpha1.PhaseReady))
		}
		Consistently(func(g Gomega) {
			for _, key := range []types.NamespacedName{web, db} {
				g.Expect(podUIDs(key)).To(Equal(before[key]), "%s: a pod was restarted", key.Name)
				app := getApp(key)
				g.Expect(app.Status.UpdateRevision).To(Equal(revision[key]), "%s: a new revision", key.Name)
				g.Expect(app.Status.Phase).To(Equal(appsv1alpha1.PhaseReady))
			}
		}).WithTimeout(15 * time.Second).WithPolling(time.Second).Should(Succeed())
		deployment := &appsv1.Deployment{}
		Expect(k8s.Get(ctx, web, deployment)).To(Succeed())
		Expect(deployment.Spec.Template.Spec.Containers[0].ReadinessProbe).To(BeNil(), "the running revision changed")

		By("changing the template: the next revision has the new default")
		setImage(web, imageV2)
		waitSettled(web)
		Expect(k8s.Get(ctx, web, deployment)).To(Succeed())
		probe := deployment.Spec.Template.Spec.Containers[0].ReadinessProbe
		Expect(probe).NotTo(BeNil())
		Expect(probe.TCPSocket).NotTo(BeNil())
		Expect(probe.TCPSocket.Port.IntValue()).To(Equal(80))
	})
})
