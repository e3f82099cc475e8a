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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The drills of the operator's own availability and of tenant safety: each breaks something on
// purpose (the operator killed at the worst moment, the API server gone, two operators at once, a
// burst of edits, objects in the way) and asserts what must hold, reporting the figure it measures
// (AddReportEntry). They restart processes of the cluster, so most run alone (Serial).
var _ = Describe("Drills", Label("chaos"), func() {
	It("finishes a stateful rollback when the operator is killed right after marking the revision failed",
		Serial, func() {
			key := types.NamespacedName{Namespace: testNamespace("chaos-kill"), Name: "db"}
			app := createApp(statefulApp(key.Namespace, key.Name, databaseImage, databaseReplicas))
			claims := boundClaims(key)
			goodHash := appRevisions(key)[0].Hash

			setImage(key, brokenDatabaseImage)
			By("killing the operator as soon as the revision is marked failed")
			Eventually(func(g Gomega) {
				revisions := &appsv1.ControllerRevisionList{}
				g.Expect(k8s.List(ctx, revisions, client.InNamespace(key.Namespace))).To(Succeed())
				failed := 0
				for i := range revisions.Items {
					r := &revisions.Items[i]
					if metav1.IsControlledBy(r, app) && r.Annotations[annotationOutcome] == "Failed" {
						failed++
					}
				}
				g.Expect(failed).To(Equal(1))
			}).WithTimeout(3 * time.Minute).WithPolling(20 * time.Millisecond).Should(Succeed())
			clusterSh("operator-stop", "--kill")
			DeferCleanup(clusterSh, "operator-start")

			good := map[string]types.UID{}
			pods, err := servingPods(ctx, key)
			Expect(err).NotTo(HaveOccurred())
			for _, p := range pods {
				if p.Labels[labelRevisionHash] == goodHash {
					good[p.Name] = p.UID
				}
			}
			Expect(good).NotTo(BeEmpty(), "no ready pod of the good revision when the operator was killed")
			_, _ = fmt.Fprintf(GinkgoWriter, "ready pods of the good revision at the kill: %v\n", good)

			By("restarting the operator: the rollback completes within 30 s")
			clusterSh("operator-start")
			restarted := time.Now()
			Eventually(func(g Gomega) {
				app := getApp(key)
				g.Expect(app.Status.CurrentRevision).To(BeEquivalentTo(1))
				g.Expect(app.Status.LastFailedRevision).To(BeEquivalentTo(2))
				g.Expect(hasReason(app, appsv1alpha1.ReasonRolledBack)).To(BeTrue(), "Stalled RolledBack")
				pods, err := appPods(ctx, key)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(images(pods)).To(Equal([]string{databaseImage}))
				g.Expect(countServing(ctx, key)).To(Equal(databaseReplicas))
			}).WithTimeout(2 * time.Minute).Should(Succeed())
			elapsed := time.Since(restarted)
			AddReportEntry("rollback completed after the operator's restart", elapsed.Round(100*time.Millisecond).String())
			Expect(elapsed).To(BeNumerically("<=", 30*time.Second), "the rollback took %s after the restart", elapsed)

			By("checking that no pod of the good revision was deleted and that the claims are untouched")
			for name, uid := range good {
				pod := &corev1.Pod{}
				Expect(k8s.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: name}, pod)).To(Succeed())
				Expect(pod.UID).To(Equal(uid), "pod %s of the good revision was replaced", name)
			}
			Expect(boundClaims(key)).To(Equal(claims))
			expectPodsUseClaims(key)
			expectUniqueRevisions(key)
		})

	// After the outage, cluster.sh apiserver-start restarts the controller-manager, the scheduler
	// and the kwoks, as the kubelet restarts leader-elected controllers that lost their lease: the
	// rollout can go on as soon as the API server is back, and the operator must not count the
	// outage against its deadline.
	It("rides out an API server outage of 60 s during a rollout", Serial, func() {
		ns := testNamespace("chaos-apiserver")
		key := types.NamespacedName{Namespace: ns, Name: "web"}
		web := statelessApp(ns, key.Name, imageV1, 6)
		// One pod at a time, each ready for 5 s before the next: the rollout outlasts the moment the
		// API server goes. The deadline is shorter than the outage: it counts time without progress,
		// and none is possible while the API server is gone. It leaves the cluster's own controllers
		// 45 s after the operator is back to move the rollout on: restarted with the API server on
		// two loaded cores, they once left a pod created just before the outage untouched for 38 s.
		web.Spec.Rollout = &appsv1alpha1.RolloutSpec{
			MaxSurge:                new(intstr.FromInt32(1)),
			MaxUnavailable:          new(intstr.FromInt32(0)),
			MinReadySeconds:         new(int32(5)),
			ProgressDeadlineSeconds: new(int32(45)),
		}
		createApp(web)
		probe := types.NamespacedName{Namespace: ns, Name: "probe"}
		createApp(statelessApp(ns, probe.Name, imageV1, 1))
		// The operator runs as it is deployed, with leader election: a leader that cannot renew its
		// lease steps down and exits, and its supervisor (here the drill, as the kubelet would)
		// starts it again once.
		clusterSh("operator-stop")
		DeferCleanup(func() {
			clusterSh("operator-stop")
			clusterSh("operator-start")
		})
		previous, _, err := lease()
		if err != nil {
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "reading the lease: %v", err)
		}
		clusterSh("operator-start", "--leader-elect")
		waitLeader(previous, leaseDuration+30*time.Second)
		pid := operatorPid()
		Expect(pid).NotTo(BeZero(), "the operator is not running")

		setImage(key, imageV2)
		Eventually(func(g Gomega) {
			deployment := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
			g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
		}).WithPolling(20 * time.Millisecond).Should(Succeed())
		By("stopping kube-apiserver for 60 s, the rollout under way")
		clusterSh("apiserver-stop")
		DeferCleanup(clusterSh, "apiserver-start")
		time.Sleep(60 * time.Second) // the outage itself
		clusterSh("apiserver-start")
		returned := time.Now()

		restarts := 0
		if operatorPid() != pid {
			// cluster.sh does not restart the operator: the drill does, once, as a supervisor would.
			restarts++
			_, _ = fmt.Fprintf(GinkgoWriter, "the operator exited during the outage:\n%s\n", operatorLogTail(30))
			clusterSh("operator-start", "--leader-elect")
		}
		deadline := startSampling(250*time.Millisecond, func(ctx context.Context) (int, string, error) {
			app := &appsv1alpha1.HighlyAvailableApp{}
			if err := k8s.Get(ctx, key, app); err != nil {
				return 0, "", err
			}
			if hasReason(app, appsv1alpha1.ReasonProgressDeadlineExceeded) || app.Status.LastFailedRevision != 0 {
				return 0, fmt.Sprintf("at %s: lastFailedRevision %d, conditions %v",
					time.Now().Format(time.StampMilli), app.Status.LastFailedRevision, app.Status.Conditions), nil
			}
			return 1, "", nil
		})

		By("checking that reconciling resumes within 30 s of the API server's return")
		scaled := updateApp(probe, func(app *appsv1alpha1.HighlyAvailableApp) { app.Spec.Replicas = new(int32(2)) })
		Eventually(func(g Gomega) {
			g.Expect(getApp(probe).Status.ObservedGeneration).To(Equal(scaled.Generation))
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		resumed := time.Since(returned)
		AddReportEntry("reconciling resumed after the API server's return", resumed.Round(100*time.Millisecond).String())

		app := waitSettled(key)
		converged := time.Since(returned)
		minimum, samples, violation := deadline.stop()
		AddReportEntry("rollout completed after the API server's return", converged.Round(100*time.Millisecond).String())
		AddReportEntry("operator restarts", restarts)
		Expect(resumed).To(BeNumerically("<=", 30*time.Second), "reconciling resumed %s after the API server", resumed)
		Expect(restarts).To(BeNumerically("<=", 1))
		Expect(operatorPid()).NotTo(BeZero(), "the operator is not running")
		Expect(samples).To(BeNumerically(">", 0))
		Expect(minimum).To(Equal(1), "false ProgressDeadlineExceeded: %s", violation)
		Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2))
		Expect(app.Status.LastFailedRevision).To(BeZero())
		Expect(expectUniqueRevisions(key)).To(HaveLen(2))
		Eventually(func(g Gomega) {
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV2}))
		}).Should(Succeed())
	})

	It("hands over to a new leader within the lease duration when the leader is killed during 20 rollouts",
		Serial, func() {
			By("running two operators with leader election")
			clusterSh("operator-stop")
			DeferCleanup(func() {
				clusterSh("operator-stop", "--replica", "2")
				clusterSh("operator-stop")
				clusterSh("operator-start")
			})
			previous, _, err := lease()
			if err != nil {
				Expect(apierrors.IsNotFound(err)).To(BeTrue(), "reading the lease: %v", err)
			}
			clusterSh("operator-start", "--leader-elect")
			// A previous holder that released the lease, or whose lease ran out, is not the new one.
			leader := waitLeader(previous, leaseDuration+30*time.Second)
			clusterSh("operator-start", "--replica", "2", "--leader-elect")
			holder, _, err := lease()
			Expect(err).NotTo(HaveOccurred())
			Expect(holder).To(Equal(leader), "replica 2 started as a standby")

			ns := testNamespace("chaos-leader")
			const apps = 20
			keys := make([]types.NamespacedName, apps)
			for i := range keys {
				keys[i] = types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("web-%02d", i)}
				Expect(k8s.Create(ctx, statelessApp(ns, keys[i].Name, imageV1, 2))).To(Succeed())
			}
			for _, key := range keys {
				waitSettled(key)
			}

			By("starting 20 rollouts and killing the leader while they run")
			for _, key := range keys {
				setImage(key, imageV2)
			}
			Eventually(func(g Gomega) {
				deployment := &appsv1.Deployment{}
				g.Expect(k8s.Get(ctx, keys[0], deployment)).To(Succeed())
				g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
			}).WithPolling(20 * time.Millisecond).Should(Succeed())
			inFlight := 0
			for _, key := range keys {
				if !settled(getApp(key)) {
					inFlight++
				}
			}
			killed := time.Now()
			clusterSh("operator-stop", "--kill")
			_, lastRenewal, err := lease()
			Expect(err).NotTo(HaveOccurred())
			newLeader := waitLeader(leader, 2*time.Minute)
			failover := time.Since(killed)
			AddReportEntry("rollouts in flight at the kill", fmt.Sprintf("%d of %d", inFlight, apps))
			AddReportEntry("new leader after the kill", failover.Round(100*time.Millisecond).String())
			AddReportEntry("new leader after the old leader's last renewal",
				time.Since(lastRenewal).Round(100*time.Millisecond).String())
			Expect(newLeader).NotTo(Equal(leader))
			Expect(failover).To(BeNumerically("<=", leaseDuration+3*time.Second),
				"the new leader took %s (lease %s)", failover, leaseDuration)

			By("checking that every app converges on its new revision, revision numbers unique")
			for _, key := range keys {
				app := waitSettled(key)
				Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2), "app %s", key.Name)
				Expect(expectUniqueRevisions(key)).To(HaveLen(2), "app %s", key.Name)
			}
			AddReportEntry("every app converged after the kill", time.Since(killed).Round(100*time.Millisecond).String())
		})

	It("keeps one of everything with two managers active at once for 2 minutes", Serial, func() {
		// The window is the issue's: 2 minutes of both managers reconciling the same apps.
		const window = 2 * time.Minute
		By("running a second manager with leader election next to the one without")
		previous, _, err := lease()
		if err != nil {
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "reading the lease: %v", err)
		}
		clusterSh("operator-start", "--replica", "2", "--leader-elect")
		DeferCleanup(clusterSh, "operator-stop", "--replica", "2")
		waitLeader(previous, leaseDuration+30*time.Second)
		Expect(operatorPid()).NotTo(BeZero(), "the manager without leader election runs")
		start := time.Now()

		ns := testNamespace("chaos-two")
		web := types.NamespacedName{Namespace: ns, Name: "web"}
		db := types.NamespacedName{Namespace: ns, Name: "db"}
		Expect(k8s.Create(ctx, statelessApp(ns, web.Name, imageV1, 3))).To(Succeed())
		Expect(k8s.Create(ctx, statefulApp(ns, db.Name, databaseImage, databaseReplicas))).To(Succeed())
		waitSettled(web)
		waitSettled(db)
		claims := boundClaims(db)

		By("rolling the stateful app to a broken image: rolled back, its stuck pod replaced")
		history := followPods(db)
		setImage(db, brokenDatabaseImage)
		Eventually(func(g Gomega) {
			app := getApp(db)
			g.Expect(app.Status.LastFailedRevision).To(BeEquivalentTo(2))
			g.Expect(app.Status.CurrentRevision).To(BeEquivalentTo(1))
			pods, err := appPods(ctx, db)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{databaseImage}))
			g.Expect(countServing(ctx, db)).To(Equal(databaseReplicas))
		}).WithTimeout(3 * time.Minute).Should(Succeed())

		By("changing the stateless app again and again until the window ends")
		changes := 0
		for time.Since(start) < window {
			image, replicas := imageV2, int32(4)
			if changes%2 == 1 {
				image, replicas = imageV1, 3
			}
			updateApp(web, func(app *appsv1alpha1.HighlyAvailableApp) {
				app.Spec.Template.Spec.Containers[0].Image = image
				app.Spec.Replicas = new(replicas)
			})
			changes++
			waitSettled(web)
		}
		uids, seen := history.stop()
		AddReportEntry("both managers active", time.Since(start).Round(time.Second).String())
		AddReportEntry("changes of the stateless app in the window", changes)

		By("checking that nothing was created twice")
		for _, key := range []types.NamespacedName{web, db} {
			app := getApp(key)
			deployments := &appsv1.DeploymentList{}
			Expect(k8s.List(ctx, deployments, client.InNamespace(ns))).To(Succeed())
			sets := &appsv1.StatefulSetList{}
			Expect(k8s.List(ctx, sets, client.InNamespace(ns))).To(Succeed())
			services := &corev1.ServiceList{}
			Expect(k8s.List(ctx, services, client.InNamespace(ns))).To(Succeed())
			budgets := &policyv1.PodDisruptionBudgetList{}
			Expect(k8s.List(ctx, budgets, client.InNamespace(ns))).To(Succeed())
			workloads := append(ownedBy(app, pointers(deployments.Items)), ownedBy(app, pointers(sets.Items))...)
			Expect(workloads).To(Equal([]string{key.Name}), "app %s: workloads", key.Name)
			wantServices := []string{key.Name}
			if key == db {
				wantServices = []string{key.Name, key.Name + "-client"}
			}
			Expect(ownedBy(app, pointers(services.Items))).To(Equal(wantServices), "app %s: Services", key.Name)
			Expect(ownedBy(app, pointers(budgets.Items))).To(Equal([]string{key.Name}), "app %s: PDBs", key.Name)
			expectUniqueRevisions(key)
		}

		By("checking that each stuck pod was deleted once and came back once")
		stuck := 0
		for uid, pod := range seen {
			// A pod of the broken image that never showed the pull failing was not stuck: kwok
			// completes the deletion of a terminating pod by its name alone, and once deleted the
			// StatefulSet's next pod of that name 3 ms after it was created, before any status.
			if pod.Image != brokenDatabaseImage || (pod.Waiting != "ErrImagePull" && pod.Waiting != "ImagePullBackOff") {
				continue
			}
			stuck++
			Expect(pod.Serving).To(BeFalse(), "pod %s of the broken image was ready", pod.Name)
			after := uids[pod.Name][slices.Index(uids[pod.Name], uid)+1:]
			Expect(after).To(HaveLen(1), "pod %s: after the stuck %s came %v; its pods:%s",
				pod.Name, uid, after, story(pod.Name, uids, seen))
			current := &corev1.Pod{}
			Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: pod.Name}, current)).To(Succeed())
			Expect(current.UID).To(Equal(after[0]), "pod %s was replaced again", pod.Name)
			Expect(current.Spec.Containers[0].Image).To(Equal(databaseImage))
		}
		AddReportEntry("stuck pods (each deleted once, back once)", stuck)
		Expect(stuck).To(BeNumerically(">=", 1), "no pod got stuck on the broken image: %v", uids)
		Expect(boundClaims(db)).To(Equal(claims))
	})

	It("issues unique revisions through 50 pairs of spec changes 50 ms apart", Serial, func() {
		key := types.NamespacedName{Namespace: testNamespace("chaos-burst"), Name: "web"}
		app := createApp(statelessApp(key.Namespace, key.Name, imageV1, 3))
		mark := markLog("operator")

		By("patching the image a→b then b→a, 50 times, 50 ms apart")
		for range 50 {
			Expect(mergePatchImage(app, imageV2)).To(Succeed())
			time.Sleep(50 * time.Millisecond) // the pace of the burst is the scenario
			Expect(mergePatchImage(app, imageV1)).To(Succeed())
			time.Sleep(50 * time.Millisecond)
		}
		last := time.Now()
		settledApp := waitSettled(key)
		AddReportEntry("settled after the last patch", time.Since(last).Round(100*time.Millisecond).String())
		pods, err := appPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		Expect(settledApp.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV1))
		Eventually(func(g Gomega) {
			pods, err = appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV1}))
		}).Should(Succeed())
		revisions := expectUniqueRevisions(key)
		AddReportEntry("revisions after the burst", fmt.Sprint(revisions))

		errorsLogged := mark.linesSince("Reconciler error", key.Namespace)
		AddReportEntry("reconciler errors in the burst", len(errorsLogged))
		for _, line := range errorsLogged {
			for _, bad := range []string{"AlreadyExists", "already exists", "Conflict", "the object has been modified"} {
				Expect(line).NotTo(ContainSubstring(bad), "a reconciler error the operator should not make")
			}
		}
	})

	It("goes on by itself once its StorageClass exists and once a conflicting Service is gone", func() {
		ns := testNamespace("chaos-late")
		const class = "late"
		deleteClass := func() {
			late := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}}
			Expect(client.IgnoreNotFound(k8s.Delete(ctx, late))).To(Succeed())
		}
		deleteClass()
		DeferCleanup(deleteClass)

		db := types.NamespacedName{Namespace: ns, Name: "db"}
		stateful := statefulApp(ns, db.Name, databaseImage, 2)
		stateful.Spec.Storage[0].StorageClassName = new(class)
		Expect(k8s.Create(ctx, stateful)).To(Succeed())

		web := types.NamespacedName{Namespace: ns, Name: "web"}
		squatter := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: web.Name},
			Spec: corev1.ServiceSpec{
				Selector: map[string]string{"app": "someone-else"},
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
			},
		}
		Expect(k8s.Create(ctx, squatter)).To(Succeed())
		Expect(k8s.Create(ctx, statelessApp(ns, web.Name, imageV1, 2))).To(Succeed())

		By("waiting for the app to report the missing class, and the other the Service in its way")
		Eventually(func(g Gomega) {
			waiting := getApp(db)
			g.Expect(hasReason(waiting, appsv1alpha1.ReasonStorageClassNotFound)).To(BeTrue(),
				"db: %v", waiting.Status.Conditions)
			conflict := conditionWithReason(getApp(web), appsv1alpha1.ReasonConflict)
			g.Expect(conflict).NotTo(BeNil(), "web: %v", getApp(web).Status.Conditions)
			g.Expect(conflict.Message).To(ContainSubstring("Service"))
		}).Should(Succeed())

		By("creating the class and deleting the Service: both apps become Ready within 60 s")
		Expect(k8s.Create(ctx, &storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: class},
			Provisioner:          "kwok.x-k8s.io/volume",
			ReclaimPolicy:        new(corev1.PersistentVolumeReclaimDelete),
			VolumeBindingMode:    new(storagev1.VolumeBindingImmediate),
			AllowVolumeExpansion: new(true),
		})).To(Succeed())
		Expect(k8s.Delete(ctx, squatter)).To(Succeed())
		fixed := time.Now()
		readyAfter := map[string]time.Duration{}
		Eventually(func(g Gomega) {
			for _, key := range []types.NamespacedName{db, web} {
				if _, done := readyAfter[key.Name]; !done && settled(getApp(key)) {
					readyAfter[key.Name] = time.Since(fixed)
				}
			}
			g.Expect(readyAfter).To(HaveLen(2))
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		for name, after := range readyAfter {
			AddReportEntry("Ready after the fix: "+name, after.Round(100*time.Millisecond).String())
		}
		Expect(readyAfter["db"]).To(BeNumerically("<=", 60*time.Second), "the app waiting for its class")
		Expect(readyAfter["web"]).To(BeNumerically("<=", 60*time.Second), "the app whose Service was in the way")
		service := &corev1.Service{}
		Expect(k8s.Get(ctx, web, service)).To(Succeed())
		Expect(metav1.IsControlledBy(service, getApp(web))).To(BeTrue(), "the app's own Service")
	})

	It("refuses a claim another app uses, leaving that app's claim alone", func() {
		ns := testNamespace("chaos-claims")
		first := statefulApp(ns, "a", databaseImage, 1)
		first.Spec.Storage[0].Name = "b-c"
		createApp(first)
		const claimName = "b-c-a-0"
		claim := &corev1.PersistentVolumeClaim{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: claimName}, claim)).To(Succeed())
			g.Expect(claim.Status.Phase).To(Equal(corev1.ClaimBound))
		}).Should(Succeed())
		owner := &corev1.Pod{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "a-0"}, owner)).To(Succeed())

		By("creating app c-a with storage b: it would claim b-c-a-0 too")
		second := statefulApp(ns, "c-a", databaseImage, 1)
		second.Spec.Storage[0].Name = "b"
		Expect(k8s.Create(ctx, second)).To(Succeed())
		Eventually(func(g Gomega) {
			app := getApp(client.ObjectKeyFromObject(second))
			conflict := conditionWithReason(app, appsv1alpha1.ReasonConflict)
			g.Expect(conflict).NotTo(BeNil(), "c-a: %v", app.Status.Conditions)
			g.Expect(conflict.Type).To(Equal(appsv1alpha1.ConditionStalled))
			g.Expect(conflict.Message).To(ContainSubstring(claimName))
		}).Should(Succeed())

		By("checking that the first app's claim and pod are untouched")
		Consistently(func(g Gomega) {
			now := &corev1.PersistentVolumeClaim{}
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: claimName}, now)).To(Succeed())
			g.Expect(now.UID).To(Equal(claim.UID))
			g.Expect(now.Spec.VolumeName).To(Equal(claim.Spec.VolumeName))
			g.Expect(now.DeletionTimestamp).To(BeNil())
			pod := &corev1.Pod{}
			g.Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "a-0"}, pod)).To(Succeed())
			g.Expect(pod.UID).To(Equal(owner.UID))
			g.Expect(pod.Spec.Volumes).To(ContainElement(HaveField("VolumeSource.PersistentVolumeClaim.ClaimName", claimName)))
			err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "c-a-0"}, &corev1.Pod{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a pod of c-a exists: %v", err)
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(settled(getApp(client.ObjectKeyFromObject(first)))).To(BeTrue(), "app a stays Ready")
	})

	It("leaves a failing look-alike pod alone and does not roll back because of it", func() {
		ns := testNamespace("chaos-lookalike")
		web := types.NamespacedName{Namespace: ns, Name: "web"}
		db := types.NamespacedName{Namespace: ns, Name: "db"}
		createApp(statelessApp(ns, web.Name, imageV1, 3))
		createApp(statefulApp(ns, db.Name, databaseImage, 2))

		By("creating, for each app, a pod nobody owns with the app's labels and an image that cannot be pulled")
		fakes := map[types.NamespacedName]*corev1.Pod{}
		for _, key := range []types.NamespacedName{web, db} {
			pods, err := servingPods(ctx, key)
			Expect(err).NotTo(HaveOccurred())
			Expect(pods).NotTo(BeEmpty())
			fake := lookAlike(&pods[0], key.Name+"-lookalike", missingImage)
			Expect(k8s.Create(ctx, fake)).To(Succeed())
			fakes[key] = fake
		}
		for _, fake := range fakes {
			Eventually(func(g Gomega) {
				pod := &corev1.Pod{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(fake), pod)).To(Succeed())
				g.Expect(pod.Status.ContainerStatuses).NotTo(BeEmpty())
				g.Expect(pod.Status.ContainerStatuses[0].State.Waiting).NotTo(BeNil())
				g.Expect(pod.Status.ContainerStatuses[0].State.Waiting.Reason).To(BeElementOf("ErrImagePull", "ImagePullBackOff"))
			}).Should(Succeed())
		}

		By("rolling both apps out to a good image: the rollouts complete, nothing rolls back")
		setImage(web, imageV2)
		setImage(db, "cassandra:4.1.5")
		for _, key := range []types.NamespacedName{web, db} {
			app := waitSettled(key)
			Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2), "app %s", key.Name)
			Expect(app.Status.LastFailedRevision).To(BeZero(), "app %s", key.Name)
		}
		Consistently(func(g Gomega) {
			for key, fake := range fakes {
				app := getApp(key)
				g.Expect(app.Status.LastFailedRevision).To(BeZero(), "app %s", key.Name)
				g.Expect(hasReason(app, appsv1alpha1.ReasonRolledBack)).To(BeFalse(), "app %s", key.Name)
				pod := &corev1.Pod{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(fake), pod)).To(Succeed())
				g.Expect(pod.UID).To(Equal(fake.UID))
				g.Expect(pod.DeletionTimestamp).To(BeNil(), "the look-alike %s is being deleted", pod.Name)
			}
		}).WithTimeout(10 * time.Second).Should(Succeed())
	})
})
