package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
)

// setCordon cordons or uncordons a node, as kubectl cordon does.
func setCordon(name string, cordoned bool) {
	n := &corev1.Node{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
	before := n.DeepCopy()
	n.Spec.Unschedulable = cordoned
	ExpectWithOffset(1, k8sClient.Patch(ctx, n, client.MergeFrom(before))).To(Succeed())
}

// readyNode creates a node in a zone that takes pods: without the not-ready taint the API server puts
// on a new node (the node lifecycle controller, which envtest does not run, would remove it).
func readyNode(name, zone string) {
	node(name, zone)
	n := &corev1.Node{}
	ExpectWithOffset(1, k8sClient.Get(ctx, client.ObjectKey{Name: name}, n)).To(Succeed())
	if len(n.Spec.Taints) > 0 {
		before := n.DeepCopy()
		n.Spec.Taints = nil
		ExpectWithOffset(1, k8sClient.Patch(ctx, n, client.MergeFrom(before))).To(Succeed())
	}
}

var _ = Describe("Zones", func() {
	var (
		ns  string
		app *appsv1alpha1.HighlyAvailableApp
		key client.ObjectKey
	)
	BeforeEach(func() {
		ns = newNamespace()
		app = nginx(ns, "web")
		key = client.ObjectKeyFromObject(app)
		for name, zone := range map[string]string{"zones-node-a": "zone-a", "zones-node-b": "zone-b", "zones-node-c": "zone-c"} {
			readyNode(name, zone)
		}
	})

	It("surges a replica when a node of the app is cordoned, and ends the surge with the uncordon", func() {
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		hash := templateHash(deployment(key).Spec.Template)
		pod(app, "web-a", hash, "zones-node-a", true, "")
		pod(app, "web-b", hash, "zones-node-b", true, "")
		pod(app, "web-c", hash, "zones-node-c", true, "")
		settleDeployment(key)

		By("watching the node: a cordon raises the Deployment to 4, the budget stays at 3")
		setCordon("zones-node-a", true)
		DeferCleanup(setCordon, "zones-node-a", false)
		Eventually(func() int32 { return ptr.Deref(deployment(key).Spec.Replicas, 0) }, timeout, poll).Should(Equal(int32(4)))
		Eventually(func() []string { return eventReasons(ns) }, timeout, poll).Should(ContainElement(appsv1alpha1.ReasonDrainSurge))

		By("returning to 3 replicas once the node takes pods again")
		setCordon("zones-node-a", false)
		Eventually(func() int32 { return ptr.Deref(deployment(key).Spec.Replicas, 0) }, timeout, poll).Should(Equal(int32(3)))
	})

	It("marks the pods of the most crowded zone before a scale-in, and reports the zone loss", func() {
		app.Spec.Replicas = ptr.To[int32](5)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		hash := templateHash(deployment(key).Spec.Template)
		pod(app, "web-a", hash, "zones-node-a", true, "")
		pod(app, "web-b", hash, "zones-node-b", true, "")
		for _, name := range []string{"web-c1", "web-c2", "web-c3"} {
			pod(app, name, hash, "zones-node-c", true, "")
		}
		settleDeployment(key)

		By("reporting that losing zone-c would leave fewer than the budget's 4")
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(a.Status.ZoneLoss).To(Equal(&appsv1alpha1.ZoneLoss{Tolerated: false, WorstZone: "zone-c", RemainingReady: 2, MinimumReady: 4}))
			g.Expect(condition(a, appsv1alpha1.ConditionHighlyAvailable).Reason).To(Equal(appsv1alpha1.ReasonZoneSkewed), condition(a, appsv1alpha1.ConditionHighlyAvailable).Message)
			g.Expect(a.Status.Resilience).To(Equal(appsv1alpha1.NodeRedundant))
		}, timeout, poll).Should(Succeed())

		By("scaling to 3: zone-c's pods get the lowest deletion cost, then the Deployment goes down")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](3) })
		Eventually(func() int32 { return ptr.Deref(deployment(key).Spec.Replicas, 0) }, timeout, poll).Should(Equal(int32(3)))
		var marked []string
		for _, name := range []string{"web-a", "web-b", "web-c1", "web-c2", "web-c3"} {
			p := &corev1.Pod{}
			Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p)).To(Succeed())
			if p.Annotations[decide.AnnotationDeletionCost] == "-1" {
				marked = append(marked, name)
			}
		}
		Expect(marked).To(HaveLen(2))
		Expect(marked).To(HaveEach(HavePrefix("web-c")), "the pods removed first are zone-c's")
	})
})
