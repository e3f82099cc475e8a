package controller

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The API server itself refuses what can never work, with a message that names the field: the rules
// live in the CRD (OpenAPI and CEL), so no webhook is needed.
var _ = Describe("Bad HighlyAvailableApps", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	DescribeTable("are refused by the API server, naming the field",
		func(change func(*appsv1alpha1.HighlyAvailableApp), field, message string) {
			app := nginx(ns, "bad")
			change(app)
			err := k8sClient.Create(ctx, app)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("no containers", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers = []corev1.Container{}
		}, "spec.template.spec.containers", "at least one container is required"),
		Entry("a negative replica count", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Replicas = ptr.To[int32](-1)
		}, "spec.replicas", "greater than or equal to 0"),
		Entry("storage on a Stateless app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resourceMust("1Gi")}}
		}, "spec.storage", "storage is only allowed when type is Stateful"),
		Entry("minAvailable with maxUnavailable", func(a *appsv1alpha1.HighlyAvailableApp) {
			one := intstr.FromInt32(1)
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: &one, MaxUnavailable: &one}
		}, "spec.availability.minAvailable", "set either minAvailable or maxUnavailable, not both"),
		Entry("ZoneByZone on a Stateless app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Strategy: appsv1alpha1.ZoneByZone}
		}, "spec.rollout.strategy", "strategy ZoneByZone is only allowed when type is Stateful"),
		Entry("ZoneByZone with a partition", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Strategy: appsv1alpha1.ZoneByZone, Partition: ptr.To[int32](1)}
		}, "spec.rollout.partition", "partition cannot be set with strategy ZoneByZone"),
		Entry("rebalance on a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Rebalance: new(true)}
		}, "spec.availability.rebalance", "rebalance is only allowed when type is Stateless"),
		Entry("surgeOnDrain on a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{SurgeOnDrain: new(true)}
		}, "spec.availability.surgeOnDrain", "surgeOnDrain is only allowed when type is Stateless"),
		Entry("maxReplicas below minReplicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](5), MaxReplicas: 3}
		}, "spec.autoscaling.maxReplicas", "maxReplicas must be greater than or equal to minReplicas"),
		Entry("duplicate storage names", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			a.Spec.Storage = []appsv1alpha1.StorageSpec{
				{Name: "data", MountPath: "/a", Size: resourceMust("1Gi")},
				{Name: "data", MountPath: "/b", Size: resourceMust("2Gi")},
			}
		}, "spec.storage[1]", "Duplicate value"),
		Entry("an unknown type", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = "Batch"
		}, "spec.type", "Unsupported value"),
		Entry("an unknown spread", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{Spread: "Rack"}
		}, "spec.availability.spread", "Unsupported value"),
		Entry("an ExternalName service", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeExternalName}
		}, "spec.service.type", "Unsupported value"),
		Entry("a maxUnavailable that is neither a number nor a percentage", func(a *appsv1alpha1.HighlyAvailableApp) {
			bad := intstr.FromString("half")
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: &bad}
		}, "spec.availability.maxUnavailable", "must be a non-negative integer or a percentage"),
		Entry("a partition on a Stateless app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](1)}
		}, "spec.rollout.partition", "partition is only allowed when type is Stateful"),
		Entry("maxSurge on a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			surge := intstr.FromInt32(1)
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: &surge}
		}, "spec.rollout.maxSurge", "maxSurge is only allowed when type is Stateless"),
		Entry("a progress deadline shorter than minReadySeconds", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MinReadySeconds: ptr.To[int32](60), ProgressDeadlineSeconds: ptr.To[int32](30)}
		}, "spec.rollout.progressDeadlineSeconds", "progressDeadlineSeconds must be greater than minReadySeconds"),
		Entry("a relative mount path", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Type = appsv1alpha1.Stateful
			a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "data", Size: resourceMust("1Gi")}}
		}, "spec.storage[0].mountPath", "should match '^/'"),
		Entry("a negative preStop delay", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{PreStopDelaySeconds: ptr.To[int32](-5)}
		}, "spec.availability.preStopDelaySeconds", "greater than or equal to 0"),
	)

	It("refuses a size that does not parse, naming the field", func() {
		app := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps.haoperator.dev/v1alpha1", "kind": "HighlyAvailableApp",
			"metadata": map[string]any{"name": "bad-size", "namespace": ns},
			"spec": map[string]any{
				"type":     "Stateful",
				"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}}},
				"storage":  []any{map[string]any{"name": "data", "mountPath": "/data", "size": "one gigabyte"}},
			},
		}}
		err := k8sClient.Create(ctx, app)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.storage[0].size"))
	})

	It("reports a size of zero, which the schema cannot refuse cheaply, as a condition", func() {
		app := cassandra(ns, "zero")
		app.Spec.Storage[0].Size = resourceMust("0")
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)
		Eventually(func(g Gomega) {
			stalled := condition(getApp(key), appsv1alpha1.ConditionStalled)
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonInvalidStorage))
			g.Expect(stalled.Message).To(ContainSubstring(`storage "cassandra-data": size 0 must be greater than zero`))
		}, timeout, poll).Should(Succeed())
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &appsv1.StatefulSet{}))).To(BeTrue())
	})

	It("refuses a change of type, naming the field", func() {
		app := nginx(ns, "fixed")
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		var err error
		Eventually(func() bool {
			fresh := &appsv1alpha1.HighlyAvailableApp{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(app), fresh)).To(Succeed())
			fresh.Spec.Type = appsv1alpha1.Stateful
			fresh.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resourceMust("1Gi")}}
			err = k8sClient.Update(ctx, fresh)
			return err != nil && !isConflict(err)
		}, timeout, poll).Should(BeTrue())
		Expect(err.Error()).To(ContainSubstring("spec.type"))
		Expect(err.Error()).To(ContainSubstring("type is immutable"))
	})
})
