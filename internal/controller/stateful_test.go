package controller

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func envValue(c corev1.Container, name string) corev1.EnvVar {
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	return corev1.EnvVar{}
}

func peers(key client.ObjectKey) []string {
	v := envValue(statefulSet(key).Spec.Template.Spec.Containers[0], "HA_PEERS")
	return strings.Split(v.Value, ",")
}

func storageClass(name string, expand bool) {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: "example.com/fake",
		AllowVolumeExpansion: new(expand)}
	if err := k8sClient.Create(ctx, sc); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// claimFor creates the claim of the app's first storage entry that the StatefulSet controller would
// create for an ordinal, bound.
func claimFor(app *appsv1alpha1.HighlyAvailableApp, ordinal int) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s-%d", app.Spec.Storage[0].Name, app.Name, ordinal), Namespace: app.Namespace,
			Labels: map[string]string{appsv1alpha1.LabelName: app.Name, appsv1alpha1.LabelInstance: app.Name,
				appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue}},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: app.Spec.Storage[0].StorageClassName,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resourceMust("1Gi")}}},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, pvc)).To(Succeed())
	// Only a bound claim may grow: play the volume controller and bind it.
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound,
		Capacity: corev1.ResourceList{corev1.ResourceStorage: resourceMust("1Gi")}}
	ExpectWithOffset(1, k8sClient.Status().Update(ctx, pvc)).To(Succeed())
	return pvc
}

var _ = Describe("A Stateful HighlyAvailableApp", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("becomes a StatefulSet with claims, a headless Service, a client Service and peer discovery", func() {
		app := cassandra(ns, "cassandra")
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		app = getApp(key)
		sts := statefulSet(key)

		By("naming the headless Service as the StatefulSet's service and making claims per ordinal")
		Expect(metav1.IsControlledBy(sts, app)).To(BeTrue())
		Expect(sts.Spec.ServiceName).To(Equal("cassandra"))
		Expect(sts.Spec.PodManagementPolicy).To(Equal(appsv1.OrderedReadyPodManagement))
		Expect(sts.Spec.VolumeClaimTemplates).To(HaveLen(1))
		claim := sts.Spec.VolumeClaimTemplates[0]
		Expect(claim.Name).To(Equal("cassandra-data"))
		Expect(claim.Spec.AccessModes).To(Equal([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}))
		Expect(claim.Spec.Resources.Requests.Storage().String()).To(Equal("1Gi"))
		Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted).To(Equal(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
		Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled).To(Equal(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
		c := sts.Spec.Template.Spec.Containers[0]
		Expect(c.VolumeMounts).To(ContainElement(corev1.VolumeMount{Name: "cassandra-data", MountPath: "/cassandra_data"}))

		headless := &corev1.Service{}
		Eventually(func() error { return k8sClient.Get(ctx, key, headless) }, timeout, poll).Should(Succeed())
		Expect(headless.Spec.ClusterIP).To(Equal(corev1.ClusterIPNone))
		Expect(headless.Spec.PublishNotReadyAddresses).To(BeTrue())
		Expect(metav1.IsControlledBy(headless, app)).To(BeTrue())
		clientSvc := &corev1.Service{}
		Eventually(func() error {
			return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cassandra-client"}, clientSvc)
		}, timeout, poll).Should(Succeed())
		ports := make([]int32, 0, len(clientSvc.Spec.Ports))
		for _, p := range clientSvc.Spec.Ports {
			ports = append(ports, p.Port)
		}
		Expect(ports).To(Equal([]int32{7000, 7001, 7199, 9042}))
		Eventually(func() string { return getApp(key).Status.Service }, timeout, poll).Should(Equal("cassandra-client"))

		By("giving every container its identity and its peers, keeping what the user set")
		name := envValue(c, "POD_NAME")
		Expect(name.ValueFrom.FieldRef.FieldPath).To(Equal("metadata.name"))
		namespace := envValue(c, "POD_NAMESPACE")
		Expect(namespace.ValueFrom.FieldRef.FieldPath).To(Equal("metadata.namespace"))
		podIP := envValue(c, "POD_IP")
		Expect(podIP.Value).To(Equal("set-by-user"))
		Expect(peers(key)).To(Equal([]string{
			"cassandra-0.cassandra." + ns + ".svc.cluster.local",
			"cassandra-1.cassandra." + ns + ".svc.cluster.local",
			"cassandra-2.cassandra." + ns + ".svc.cluster.local",
		}))

		By("scaling without a new revision: the template, and so HA_PEERS, stays, and no pod restarts")
		template := statefulSet(key).Spec.Template
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](5) })
		Eventually(func() int32 { return *statefulSet(key).Spec.Replicas }, timeout, poll).Should(Equal(int32(5)))
		Expect(statefulSet(key).Spec.Template).To(Equal(template))
		Expect(peers(key)).To(HaveLen(3))

		By("deleting nothing itself when the app goes: the garbage collector follows owner references, claims are retained")
		pvc := claimFor(app, 0)
		before := writesSettle(ns)
		Expect(k8sClient.Delete(ctx, getApp(key))).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key, &appsv1alpha1.HighlyAvailableApp{})) },
			timeout, poll).Should(BeTrue())
		Consistently(func() int64 { return writes.in(ns) }, 2*time.Second, 100*time.Millisecond).Should(Equal(before))
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
		Expect(pvc.DeletionTimestamp.IsZero()).To(BeTrue())
		Expect(pvc.OwnerReferences).To(BeEmpty())
	})

	It("uses the parallel pod management policy and the retention the app asks for", func() {
		app := cassandra(ns, "kv")
		policy := appsv1alpha1.PodManagementPolicy("Parallel")
		app.Spec.PodManagementPolicy = &policy
		app.Spec.VolumeClaimRetention = &appsv1alpha1.VolumeClaimRetention{WhenDeleted: appsv1alpha1.DeleteClaims}
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](2)}
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		sts := statefulSet(client.ObjectKeyFromObject(app))
		Expect(sts.Spec.PodManagementPolicy).To(Equal(appsv1.ParallelPodManagement))
		Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted).To(Equal(appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
		Expect(sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled).To(Equal(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
		Expect(*sts.Spec.UpdateStrategy.RollingUpdate.Partition).To(Equal(int32(2)))
	})

	It("waits for a StorageClass that does not exist, and says so", func() {
		app := cassandra(ns, "missing")
		app.Spec.Storage[0].StorageClassName = new("no-such-class")
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		Eventually(func(g Gomega) {
			a := getApp(key)
			ready := condition(a, appsv1alpha1.ConditionReady)
			g.Expect(ready.Reason).To(Equal(appsv1alpha1.ReasonStorageClassNotFound))
			g.Expect(ready.Message).To(ContainSubstring(`StorageClass "no-such-class" does not exist`))
		}, timeout, poll).Should(Succeed())
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &appsv1.StatefulSet{}))).To(BeTrue())

		storageClass("no-such-class", false)
		// A class appearing sends no event to the operator; the next change of the app does.
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Annotations = map[string]string{"class": "created"} })
		statefulSet(key)
	})

	It("refuses storage changes the StatefulSet cannot take, keeping the app as it runs", func() {
		storageClass("fixed-size", false)
		app := cassandra(ns, "store")
		app.Spec.Storage[0].StorageClassName = new("fixed-size")
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		statefulSet(key)

		cases := []struct {
			change  func(*appsv1alpha1.HighlyAvailableApp)
			message string
		}{
			{func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Storage[0].Size = resourceMust("2Gi") },
				`does not allow volume expansion`},
			{func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Storage[0].Size = resourceMust("500Mi") },
				`volumes cannot shrink`},
			{func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Storage[0].StorageClassName = new("other") },
				`the StorageClass of existing claims cannot change`},
			{func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "other-data", MountPath: "/other", Size: resourceMust("1Gi")}}
			}, `storage "cassandra-data" was removed from the spec`},
		}
		storageClass("other", true)
		for _, tc := range cases {
			original := getApp(key).Spec.Storage
			updateApp(key, tc.change)
			Eventually(func(g Gomega) {
				a := getApp(key)
				stalled := condition(a, appsv1alpha1.ConditionStalled)
				g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonStorageChangeRefused))
				g.Expect(stalled.Message).To(ContainSubstring(tc.message))
			}, timeout, poll).Should(Succeed())
			sts := statefulSet(key)
			Expect(sts.DeletionTimestamp.IsZero()).To(BeTrue())
			Expect(sts.Spec.VolumeClaimTemplates[0].Name).To(Equal("cassandra-data"))
			Expect(sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String()).To(Equal("1Gi"))
			updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Storage = original })
			Eventually(func() metav1.ConditionStatus {
				return condition(getApp(key), appsv1alpha1.ConditionStalled).Status
			}, timeout, poll).Should(Equal(metav1.ConditionFalse))
		}
		Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonStorageChangeRefused))
	})

	It("grows claims on a class that expands, re-creating the StatefulSet with its pods and claims kept", func() {
		storageClass("expandable", true)
		app := cassandra(ns, "grow")
		app.Spec.Storage[0].StorageClassName = new("expandable")
		key := client.ObjectKeyFromObject(app)
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		app = getApp(key)
		old := statefulSet(key)
		claims := []*corev1.PersistentVolumeClaim{
			claimFor(app, 0), claimFor(app, 1), claimFor(app, 2),
		}

		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Storage[0].Size = resourceMust("2Gi") })
		for _, pvc := range claims {
			Eventually(func() string {
				got := &corev1.PersistentVolumeClaim{}
				Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pvc), got)).To(Succeed())
				return got.Spec.Resources.Requests.Storage().String()
			}, timeout, poll).Should(Equal("2Gi"))
		}
		By("deleting the StatefulSet with its dependents orphaned")
		Eventually(func(g Gomega) {
			s := &appsv1.StatefulSet{}
			g.Expect(k8sClient.Get(ctx, key, s)).To(Succeed())
			g.Expect(s.DeletionTimestamp.IsZero()).To(BeFalse())
			g.Expect(s.Finalizers).To(ContainElement(metav1.FinalizerOrphanDependents))
		}, timeout, poll).Should(Succeed())
		// envtest has no garbage collector: play its part and let the orphaned StatefulSet go.
		Eventually(func() error {
			s := &appsv1.StatefulSet{}
			if err := k8sClient.Get(ctx, key, s); err != nil {
				return err
			}
			s.Finalizers = nil
			return k8sClient.Update(ctx, s)
		}, timeout, poll).Should(Succeed())

		By("creating it again with the new claim size")
		Eventually(func(g Gomega) {
			s := &appsv1.StatefulSet{}
			g.Expect(k8sClient.Get(ctx, key, s)).To(Succeed())
			g.Expect(s.UID).NotTo(Equal(old.UID))
			g.Expect(s.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String()).To(Equal("2Gi"))
		}, timeout, poll).Should(Succeed())
		for _, pvc := range claims {
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pvc), pvc)).To(Succeed())
			Expect(pvc.DeletionTimestamp.IsZero()).To(BeTrue())
		}
		Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonStorageChanged))
	})
})
