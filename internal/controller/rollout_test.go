package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func revisions(app *appsv1alpha1.HighlyAvailableApp) []appsv1.ControllerRevision {
	list := &appsv1.ControllerRevisionList{}
	ExpectWithOffset(1, k8sClient.List(ctx, list, client.InNamespace(app.Namespace),
		client.MatchingLabels{appsv1alpha1.LabelInstance: app.Name})).To(Succeed())
	return list.Items
}

func eventReasons(ns string) []string {
	events := &corev1.EventList{}
	ExpectWithOffset(1, k8sClient.List(ctx, events, client.InNamespace(ns))).To(Succeed())
	reasons := make([]string, 0, len(events.Items))
	for _, e := range events.Items {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}

// eventMessages lists the messages of the Events with reason about the object named name in ns.
func eventMessages(ns, name, reason string) []string {
	events := &corev1.EventList{}
	ExpectWithOffset(1, k8sClient.List(ctx, events, client.InNamespace(ns))).To(Succeed())
	var messages []string
	for _, e := range events.Items {
		if e.Reason == reason && e.InvolvedObject.Name == name {
			messages = append(messages, e.Message)
		}
	}
	return messages
}

// runRevision1 creates the nginx sample app and settles it on revision 1 with three ready pods.
func runRevision1(ns string) (*appsv1alpha1.HighlyAvailableApp, client.ObjectKey, string) {
	app := nginx(ns, "web")
	key := client.ObjectKeyFromObject(app)
	ExpectWithOffset(1, k8sClient.Create(ctx, app)).To(Succeed())
	app = getApp(key)
	hash1 := templateHash(deployment(key).Spec.Template)
	node("rollout-node-a", "zone-a")
	for _, name := range []string{"web-old-1", "web-old-2", "web-old-3"} {
		pod(app, name, hash1, "rollout-node-a", true, "")
	}
	settleDeployment(key)
	EventuallyWithOffset(1, func(g Gomega) {
		a := getApp(key)
		g.Expect(a.Status.CurrentRevision).To(Equal(int64(1)))
		g.Expect(condition(a, appsv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
	}, timeout, poll).Should(Succeed())
	return app, key, hash1
}

var _ = Describe("Rollouts of a Stateless app", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("rolls a bad image back within seconds, leaves the spec alone and does not retry it", func() {
		app, key, hash1 := runRevision1(ns)

		By("updating to an image that does not exist: revision 2")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = "nginx:1.91" })
		var hash2 string
		Eventually(func(g Gomega) {
			d := deployment(key)
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.91"))
			hash2 = templateHash(d.Spec.Template)
			g.Expect(getApp(key).Status.UpdateRevision).To(Equal(int64(2)))
		}, timeout, poll).Should(Succeed())
		Expect(revisions(app)).To(HaveLen(2))
		startRollout(key)

		By("a pod of revision 2 failing to pull its image")
		pod(app, "web-new-1", hash2, "rollout-node-a", false, "ImagePullBackOff")
		Eventually(func(g Gomega) {
			g.Expect(templateHash(deployment(key).Spec.Template)).To(Equal(hash1))
		}, 5*time.Second, poll).Should(Succeed())
		Expect(deployment(key).Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.7.9"))

		By("reporting the rollback: Stalled, the failed revision, the cause")
		settleDeployment(key)
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(a.Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.91"), "the operator must never write the spec")
			stalled := condition(a, appsv1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
			g.Expect(stalled.Message).To(ContainSubstring("pod web-new-1 container nginx: ImagePullBackOff"))
			g.Expect(condition(a, appsv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(a, appsv1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(a.Status.LastFailedRevision).To(Equal(int64(2)))
			g.Expect(a.Status.UpdateRevision).To(Equal(int64(2)))
			g.Expect(a.Status.CurrentRevision).To(Equal(int64(1)))
			g.Expect(eventReasons(ns)).To(ContainElements(appsv1alpha1.ReasonRolloutFailed, appsv1alpha1.ReasonRolledBack))
		}, timeout, poll).Should(Succeed())

		By("not retrying the same spec")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Annotations = map[string]string{"touched": "yes"} })
		Consistently(func() string { return templateHash(deployment(key).Spec.Template) }, 2*time.Second, 100*time.Millisecond).
			Should(Equal(hash1))

		By("trying a new spec")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1" })
		Eventually(func(g Gomega) {
			d := deployment(key)
			g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.9.1"))
			a := getApp(key)
			g.Expect(a.Status.UpdateRevision).To(Equal(int64(3)))
			g.Expect(condition(a, appsv1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(a, appsv1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
		}, timeout, poll).Should(Succeed())
	})

	It("retries a failed revision when the retry annotation changes", func() {
		app, key, hash1 := runRevision1(ns)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = "nginx:1.91" })
		var hash2 string
		Eventually(func() string {
			hash2 = templateHash(deployment(key).Spec.Template)
			return hash2
		}, timeout, poll).ShouldNot(Equal(hash1))
		startRollout(key)
		pod(app, "web-new-1", hash2, "rollout-node-a", false, "ErrImagePull")
		Eventually(func() string { return templateHash(deployment(key).Spec.Template) }, 5*time.Second, poll).Should(Equal(hash1))

		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Annotations = map[string]string{appsv1alpha1.AnnotationRetry: "2026-11-25T10:00:00Z"}
		})
		// The failing pod is gone by now (the Deployment scaled it away); the retry starts clean.
		Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-new-1", Namespace: ns}})).To(Succeed())
		Eventually(func() string { return templateHash(deployment(key).Spec.Template) }, timeout, poll).Should(Equal(hash2))
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(condition(a, appsv1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonRetrying))
		}, timeout, poll).Should(Succeed())
	})

	It("rolls back when the progress deadline passes", func() {
		_, key, hash1 := runRevision1(ns)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: ptr.To[int32](60)}
		})
		Eventually(func() string { return templateHash(deployment(key).Spec.Template) }, timeout, poll).ShouldNot(Equal(hash1))
		startRollout(key)
		Consistently(func() string { return templateHash(deployment(key).Spec.Template) }, time.Second, 100*time.Millisecond).
			ShouldNot(Equal(hash1))
		advanceClock(2 * time.Minute)
		// Nothing in the cluster changes: the operator looks again on its own when the deadline passes.
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Annotations = map[string]string{"nudge": "1"} })
		Eventually(func() string { return templateHash(deployment(key).Spec.Template) }, timeout, poll).Should(Equal(hash1))
		Eventually(func(g Gomega) {
			stalled := condition(getApp(key), appsv1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Message).To(ContainSubstring("ProgressDeadlineExceeded"))
		}, timeout, poll).Should(Succeed())
	})

	It("leaves a failed update in place when autoRollback is off, and says the deadline passed", func() {
		_, key, hash1 := runRevision1(ns)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: ptr.To[int32](30), AutoRollback: new(false)}
		})
		var hash2 string
		Eventually(func() string {
			hash2 = templateHash(deployment(key).Spec.Template)
			return hash2
		}, timeout, poll).ShouldNot(Equal(hash1))
		startRollout(key)
		advanceClock(time.Minute)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Annotations = map[string]string{"nudge": "1"} })
		Eventually(func(g Gomega) {
			stalled := condition(getApp(key), appsv1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonProgressDeadlineExceeded))
		}, timeout, poll).Should(Succeed())
		Consistently(func() string { return templateHash(deployment(key).Spec.Template) }, time.Second, 100*time.Millisecond).
			Should(Equal(hash2))
	})

	It("reports a first revision that fails as Stalled, with nothing to roll back to", func() {
		app := nginx(ns, "web")
		app.Spec.Template.Spec.Containers[0].Image = "nginx:1.91"
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		app = getApp(key)
		hash := templateHash(deployment(key).Spec.Template)
		node("rollout-node-a", "zone-a")
		pod(app, "web-1", hash, "rollout-node-a", false, "InvalidImageName")
		Eventually(func(g Gomega) {
			a := getApp(key)
			stalled := condition(a, appsv1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolloutFailed))
			g.Expect(stalled.Message).To(ContainSubstring("nothing to roll back to"))
			g.Expect(a.Status.LastFailedRevision).To(Equal(int64(1)))
		}, timeout, poll).Should(Succeed())
		Expect(templateHash(deployment(key).Spec.Template)).To(Equal(hash))
	})

	It("holds an update while paused", func() {
		_, key, hash1 := runRevision1(ns)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Paused: true}
		})
		Eventually(func(g Gomega) {
			d := deployment(key)
			g.Expect(d.Spec.Paused).To(BeTrue())
			g.Expect(templateHash(d.Spec.Template)).NotTo(Equal(hash1))
		}, timeout, poll).Should(Succeed())
		// A paused Deployment does not roll: its pods stay on revision 1.
		settleDeploymentPaused(key)
		Eventually(func(g Gomega) {
			reconciling := condition(getApp(key), appsv1alpha1.ConditionReconciling)
			g.Expect(reconciling.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(reconciling.Reason).To(Equal(appsv1alpha1.ReasonPaused))
		}, timeout, poll).Should(Succeed())

		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Rollout.Paused = false })
		Eventually(func() bool { return deployment(key).Spec.Paused }, timeout, poll).Should(BeFalse())
	})

	It("keeps at most revisionHistoryLimit revisions", func() {
		app, key, _ := runRevision1(ns)
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{RevisionHistoryLimit: ptr.To[int32](2)}
		})
		for _, image := range []string{"nginx:1.9.1", "nginx:1.9.2", "nginx:1.9.3"} {
			updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = image })
			Eventually(func() string { return deployment(key).Spec.Template.Spec.Containers[0].Image }, timeout, poll).Should(Equal(image))
		}
		// Three updates make revisions 2 to 4 (the history limit reaches no pod). Revision 1 still serves
		// (nothing completed since), so it is kept beside the newest.
		Eventually(func(g Gomega) {
			revs := revisions(app)
			numbers := make([]int64, 0, len(revs))
			for _, cr := range revs {
				numbers = append(numbers, cr.Revision)
			}
			g.Expect(numbers).To(ConsistOf(int64(1), int64(4)))
		}, timeout, poll).Should(Succeed())
	})
})

var _ = Describe("Rollouts of a Stateful app", func() {
	It("rolls a broken image back and replaces the stuck pod, never touching claims", func() {
		ns := newNamespace()
		app := cassandra(ns, "db")
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		app = getApp(key)
		sts := statefulSet(key)
		hash1 := templateHash(sts.Spec.Template)
		node("sts-node-a", "zone-a")
		pod(app, "db-0", hash1, "sts-node-a", true, "")
		pod(app, "db-1", hash1, "sts-node-a", true, "")
		settleStatefulSet(key, "r1")
		Eventually(func() int64 { return getApp(key).Status.CurrentRevision }, timeout, poll).Should(Equal(int64(1)))

		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Image = "cassandra:does-not-exist"
		})
		var hash2 string
		Eventually(func() string {
			hash2 = templateHash(statefulSet(key).Spec.Template)
			return hash2
		}, timeout, poll).ShouldNot(Equal(hash1))
		// The StatefulSet replaced db-2 first (highest ordinal) and it cannot pull its image.
		stuck := pod(app, "db-2", hash2, "sts-node-a", false, "ImagePullBackOff")
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "cassandra-data-db-2", Namespace: ns},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceMust("1Gi")}}}}
		Expect(k8sClient.Create(ctx, claim)).To(Succeed())

		Eventually(func() string { return templateHash(statefulSet(key).Spec.Template) }, 5*time.Second, poll).Should(Equal(hash1))
		Consistently(func() error {
			return k8sClient.Get(ctx, client.ObjectKeyFromObject(stuck), &corev1.Pod{})
		}, 2*time.Second, poll).Should(Succeed(), "the stuck pod is deleted before the StatefulSet controller observed the good template")
		observeStatefulSet(key)
		Eventually(func() bool {
			p := &corev1.Pod{}
			err := k8sClient.Get(ctx, client.ObjectKeyFromObject(stuck), p)
			return err != nil || !p.DeletionTimestamp.IsZero()
		}, timeout, poll).Should(BeTrue(), "the stuck pod of the failed revision is deleted")
		for _, name := range []string{"db-0", "db-1"} {
			p := &corev1.Pod{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed())
			Expect(p.DeletionTimestamp.IsZero()).To(BeTrue(), "ready pods of the good revision stay")
		}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(claim), claim)).To(Succeed())
		Expect(claim.DeletionTimestamp.IsZero()).To(BeTrue(), "claims are never touched")
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(condition(a, appsv1alpha1.ConditionStalled).Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
			g.Expect(a.Spec.Template.Spec.Containers[0].Image).To(Equal("cassandra:does-not-exist"))
			g.Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonPodReplaced))
		}, timeout, poll).Should(Succeed())
	})
})

// settleDeploymentPaused plays a paused Deployment controller: it has observed the spec but rolled
// nothing.
func settleDeploymentPaused(key client.ObjectKey) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key, d); err != nil {
			return err
		}
		n := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: 0,
			ReadyReplicas: n, AvailableReplicas: n}
		return k8sClient.Status().Update(ctx, d)
	}, timeout, poll).Should(Succeed())
}

// statefulSet waits for the app's StatefulSet.
func statefulSet(key client.ObjectKey) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{}
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key, s) }, timeout, poll).Should(Succeed())
	return s
}

// settleStatefulSet plays the StatefulSet controller: every replica runs the current template.
// observeStatefulSet plays the StatefulSet controller observing the StatefulSet's latest spec.
func observeStatefulSet(key client.ObjectKey) {
	EventuallyWithOffset(1, func() error {
		s := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key, s); err != nil {
			return err
		}
		s.Status.ObservedGeneration = s.Generation
		return k8sClient.Status().Update(ctx, s)
	}, timeout, poll).Should(Succeed())
}

func settleStatefulSet(key client.ObjectKey, revision string) {
	EventuallyWithOffset(1, func() error {
		s := &appsv1.StatefulSet{}
		if err := k8sClient.Get(ctx, key, s); err != nil {
			return err
		}
		n := ptr.Deref(s.Spec.Replicas, 1)
		s.Status = appsv1.StatefulSetStatus{ObservedGeneration: s.Generation, Replicas: n, UpdatedReplicas: n,
			ReadyReplicas: n, AvailableReplicas: n, CurrentReplicas: n, CurrentRevision: revision, UpdateRevision: revision}
		return k8sClient.Status().Update(ctx, s)
	}, timeout, poll).Should(Succeed())
}
