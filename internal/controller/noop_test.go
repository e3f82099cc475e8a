package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
)

// generatedObjects lists the objects of every kind the operator generates (kinds.Generated) in the
// namespace, read from the API server (managed fields included).
func generatedObjects(ns string) []client.Object {
	out := make([]client.Object, 0, 16)
	for _, k := range kinds.Generated() {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.GroupVersion.WithKind(k.Name + "List"))
		ExpectWithOffset(1, k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	}
	return out
}

var _ = Describe("The no-op check", func() {
	It("sends nothing to the objects of every type of app once they carry the spec, and marks none of them", func() {
		ns := newNamespace()
		scaled := nginx(ns, "web")
		scaled.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](3), MaxReplicas: 6}
		scheduled := pi(ns, "nightly")
		scheduled.Spec.Job.Schedule = "0 3 * * *"
		apps := []*appsv1alpha1.HighlyAvailableApp{scaled, cassandra(ns, "db"), agent(ns, "node-agent"), scheduled}
		for _, app := range apps {
			Expect(k8sClient.Create(ctx, app)).To(Succeed())
		}
		By("waiting for the objects of the four apps: a Deployment and its autoscaler, a StatefulSet, a DaemonSet, a CronJob")
		Eventually(func() int { return len(generatedObjects(ns)) }, timeout, poll).Should(Equal(
			// web: Deployment, Service, PDB, HPA; db: StatefulSet, headless and client Services, PDB;
			// node-agent: DaemonSet, Service; nightly: CronJob.
			4 + 4 + 2 + 1))

		wake := func(team string) {
			for _, app := range apps {
				updateApp(client.ObjectKeyFromObject(app), func(a *appsv1alpha1.HighlyAvailableApp) {
					a.Annotations = map[string]string{"team": team}
				})
			}
		}
		By("waking each app once, so that it finishes what it had left (the autoscaler's app hands its replica count over)")
		writesSettle(ns)
		wake("shop")
		By("waking each app again with a change that asks nothing of the operator: nothing is written")
		before := writesSettle(ns)
		wake("checkout")
		Consistently(func() int64 { return writes.in(ns) }, 3*time.Second, 200*time.Millisecond).Should(Equal(before))

		By("finding no mark of the operator's on the objects, only its managed-fields entry")
		for _, obj := range generatedObjects(ns) {
			Expect(obj.GetAnnotations()).NotTo(HaveKey(ContainSubstring("haoperator.dev")), "%s %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
			var applied int
			for _, e := range obj.GetManagedFields() {
				if e.Manager == FieldOwner && e.Operation == metav1.ManagedFieldsOperationApply {
					applied++
				}
			}
			Expect(applied).To(Equal(1), "%s %s: %v", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), obj.GetManagedFields())
		}
	})

	It("removes a field it owns but no longer sets, such as the mark an earlier version left", func() {
		ns := newNamespace()
		app := nginx(ns, "web")
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)
		svc := &corev1.Service{}
		Eventually(func() error { return k8sClient.Get(ctx, key, svc) }, timeout, poll).Should(Succeed())

		By("applying, as the operator's field manager, what it applies plus an annotation it does not set")
		applied, err := corev1ac.ExtractService(svc, FieldOwner)
		Expect(err).NotTo(HaveOccurred())
		applied.WithAnnotations(map[string]string{"example.com/old-mark": "0123456789abcdef"})
		// The operator may remove it at once: the apply's success is what says that it was there.
		Expect(k8sClient.Apply(ctx, applied, client.FieldOwner(FieldOwner), client.ForceOwnership)).To(Succeed())

		By("the operator's next apply leaves it out, and the API server removes it")
		Eventually(func() map[string]string {
			Expect(k8sClient.Get(ctx, key, svc)).To(Succeed())
			return svc.Annotations
		}, timeout, poll).ShouldNot(HaveKey("example.com/old-mark"))
		Expect(svc.Spec.Ports).To(HaveLen(1))
	})
})
