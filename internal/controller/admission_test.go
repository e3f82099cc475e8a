package controller

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The admission table: every spec that the API server must refuse because the objects generated from
// it could never be created or would never work, with the field its error must name. The rules are
// CEL and OpenAPI in the CRD, so they hold on any cluster the CRD is installed on; docs/admission.md
// lists the same cases for users. Creates are dry runs: nothing reaches the operator.
var _ = Describe("Admission", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("installs the CRD with its validation rules within the API server's CEL cost budget", func() {
		scheme := runtime.NewScheme()
		Expect(apiextensionsv1.AddToScheme(scheme)).To(Succeed())
		c, err := client.New(testEnv.Config, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(c.Get(ctx, client.ObjectKey{Name: "highlyavailableapps.apps.haoperator.dev"}, crd)).To(Succeed())
		established := false
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		Expect(established).To(BeTrue(), "the CRD is not Established")
		Expect(crd.Spec.Versions[0].Schema.OpenAPIV3Schema.XValidations).NotTo(BeEmpty())
	})

	stateful := func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Type = appsv1alpha1.Stateful
	}
	name := func(n int) string { return "a" + strings.Repeat("b", n-1) }
	fromString := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	fromInt := func(i int32) *intstr.IntOrString { v := intstr.FromInt32(i); return &v }
	port := func(p, nodePort int32, name string) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, NodePort: nodePort, Protocol: corev1.ProtocolTCP}
	}

	DescribeTable("refuses a bad spec with an error that names the field",
		func(change func(*appsv1alpha1.HighlyAvailableApp), field, message string) {
			app := nginx(ns, "bad")
			change(app)
			err := k8sClient.Create(ctx, app, client.DryRunAll)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		// Names: every generated object is named after the app, Services included (DNS-1035 labels).
		Entry("a name with dots", func(a *appsv1alpha1.HighlyAvailableApp) { a.Name = "web.v2" },
			"metadata.name", "no dots"),
		Entry("a name that starts with a digit", func(a *appsv1alpha1.HighlyAvailableApp) { a.Name = "1web" },
			"metadata.name", "must start with a lower-case letter"),
		Entry("a name of 64 characters", func(a *appsv1alpha1.HighlyAvailableApp) { a.Name = name(64) },
			"metadata.name", "at most 63 characters"),
		Entry("a Stateful name of 53 characters", func(a *appsv1alpha1.HighlyAvailableApp) { stateful(a); a.Name = name(53) },
			"metadata.name", "at most 52 characters when type is Stateful"),

		// The pod template.
		Entry("an empty container name", func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Name = "" },
			"spec.template.spec.containers", "name must not be empty"),
		Entry("an empty image", func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = "" },
			"spec.template.spec.containers", "image must not be empty"),
		Entry("an init container without an image", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "init"}}
		}, "spec.template.spec.initContainers", "image must not be empty"),
		Entry("restartPolicy Never on a Stateless app", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		}, "spec.template.spec.restartPolicy", "must be Always"),
		Entry("restartPolicy OnFailure on a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		}, "spec.template.spec.restartPolicy", "must be Always"),
		Entry("a template label key with a space", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Labels = map[string]string{"my tier": "frontend"}
		}, "spec.template.metadata.labels", "keys must be qualified names"),
		Entry("a template label key with two slashes", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Labels = map[string]string{"example.com/tier/x": "frontend"}
		}, "spec.template.metadata.labels", "keys must be qualified names"),

		// Rollout.
		Entry("maxSurge 0 with maxUnavailable left at its default of 0", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: fromInt(0)}
		}, "spec.rollout.maxSurge", "cannot both be 0"),
		Entry("maxSurge 0% with maxUnavailable 0", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: fromString("0%"), MaxUnavailable: fromInt(0)}
		}, "spec.rollout.maxSurge", "cannot both be 0"),
		Entry("maxSurge over 100%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: fromString("150%")}
		}, "spec.rollout.maxSurge", "at most 100%"),
		Entry("rollout maxUnavailable over 100%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxUnavailable: fromString("101%")}
		}, "spec.rollout.maxUnavailable", "at most 100%"),
		Entry("a partition above replicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](4)}
		}, "spec.rollout.partition", "must not be greater than spec.replicas"),
		Entry("a partition above autoscaling.maxReplicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 5}
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](6)}
		}, "spec.rollout.partition", "must not be greater than spec.replicas"),

		// Replica counts.
		Entry("more than 1000 replicas", func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](1001) },
			"spec.replicas", "less than or equal to 1000"),
		Entry("more than 100 replicas of a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Replicas = ptr.To[int32](101)
		}, "spec.replicas", "at most 100 when type is Stateful"),
		Entry("autoscaling.maxReplicas above 1000", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 1001}
		}, "spec.autoscaling.maxReplicas", "less than or equal to 1000"),
		Entry("autoscaling.maxReplicas above 100 on a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 101}
		}, "spec.autoscaling.maxReplicas", "at most 100 when type is Stateful"),

		// The disruption budget: one that lets no pod go blocks every node drain.
		Entry("availability maxUnavailable 0", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: fromInt(0)}
		}, "spec.availability.maxUnavailable", "must be at least 1"),
		Entry("availability maxUnavailable 0%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: fromString("0%")}
		}, "spec.availability.maxUnavailable", "must be at least 1"),
		Entry("availability maxUnavailable over 100%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: fromString("200%")}
		}, "spec.availability.maxUnavailable", "at most 100%"),
		Entry("minAvailable equal to replicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromInt(3)}
		}, "spec.availability.minAvailable", "must be less than spec.replicas"),
		Entry("minAvailable equal to autoscaling.minReplicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](4), MaxReplicas: 10}
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromInt(4)}
		}, "spec.availability.minAvailable", "must be less than spec.replicas"),
		Entry("a minAvailable percentage that rounds up to every replica", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromString("67%")}
		}, "spec.availability.minAvailable", "rounded up, keeps every pod"),
		Entry("autoscaling.maxReplicas below replicas without minReplicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 2}
		}, "spec.autoscaling.maxReplicas", "must not be below spec.replicas"),
		Entry("minAvailable 100%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromString("100%")}
		}, "spec.availability.minAvailable", "must be below 100%"),
		Entry("a termination grace period that would overflow with the preStop delay", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{TerminationGracePeriodSeconds: ptr.To[int64](1<<63 - 1)}
		}, "spec.availability.terminationGracePeriodSeconds", "less than or equal to 86400"),

		// The Service.
		Entry("the same port twice", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: []corev1.ServicePort{port(80, 0, "http"), port(80, 0, "web")}}
		}, "spec.service.ports", "port must be unique for each protocol"),
		Entry("the same nodePort twice", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
				Ports: []corev1.ServicePort{port(80, 30080, "http"), port(81, 30080, "web")}}
		}, "spec.service.ports", "nodePort must be unique for each protocol"),
		Entry("a nodePort out of range", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{port(80, 70000, "")}}
		}, "spec.service.ports", "nodePort must be between 1 and 65535"),
		Entry("a nodePort on a ClusterIP Service", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{port(80, 30080, "")}}
		}, "spec.service.ports", "only allowed when spec.service.type is NodePort or LoadBalancer"),
		Entry("port 0", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: []corev1.ServicePort{port(0, 0, "")}}
		}, "spec.service.ports", "port must be between 1 and 65535"),
		Entry("two ports without names", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: []corev1.ServicePort{port(80, 0, ""), port(443, 0, "")}}
		}, "spec.service.ports", "name is required when there is more than one port"),
		Entry("more than 100 ports", func(a *appsv1alpha1.HighlyAvailableApp) {
			ports := make([]corev1.ServicePort, 101)
			for i := range ports {
				ports[i] = port(int32(1000+i), 0, "p"+strings.Repeat("x", i%5)+string(rune('a'+i%26)))
			}
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: ports}
		}, "spec.service.ports", "must have at most 100 items"),

		// Storage.
		Entry("two storage entries at the same mountPath", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Storage = []appsv1alpha1.StorageSpec{
				{Name: "data", MountPath: "/data", Size: resourceMust("1Gi")},
				{Name: "logs", MountPath: "/data", Size: resourceMust("1Gi")},
			}
		}, "spec.storage", "mountPath must be unique"),
	)

	// The limits are exact: the largest accepted value sits right next to the smallest refused one.
	DescribeTable("accepts a spec at the limits",
		func(change func(*appsv1alpha1.HighlyAvailableApp)) {
			app := nginx(ns, "good")
			change(app)
			Expect(k8sClient.Create(ctx, app, client.DryRunAll)).To(Succeed())
		},
		Entry("the unchanged app", func(*appsv1alpha1.HighlyAvailableApp) {}),
		Entry("a name of 63 characters", func(a *appsv1alpha1.HighlyAvailableApp) { a.Name = name(63) }),
		Entry("a Stateful name of 52 characters", func(a *appsv1alpha1.HighlyAvailableApp) { stateful(a); a.Name = name(52) }),
		Entry("1000 replicas", func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](1000) }),
		Entry("100 replicas of a Stateful app", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Replicas = ptr.To[int32](100)
			a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 100}
		}),
		Entry("maxSurge 100% and maxUnavailable 0", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: fromString("100%"), MaxUnavailable: fromInt(0)}
		}),
		Entry("maxSurge 0 with maxUnavailable 1", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: fromInt(0), MaxUnavailable: fromInt(1)}
		}),
		Entry("a partition equal to replicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			stateful(a)
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](3)}
		}),
		Entry("minAvailable one below replicas", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromInt(2)}
		}),
		Entry("a minAvailable percentage that leaves one of three replicas free", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromString("66%")}
		}),
		Entry("minAvailable 1 on a single replica, which gets no budget", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Replicas = ptr.To[int32](1)
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MinAvailable: fromInt(1)}
		}),
		Entry("availability maxUnavailable 1% and 100%", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{MaxUnavailable: fromString("1%")}
			a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxUnavailable: fromString("100%")}
		}),
		Entry("a prefixed label key", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Labels = map[string]string{"example.com/tier": "frontend"}
		}),
		Entry("a NodePort Service with two named ports, the same number over TCP and UDP", func(a *appsv1alpha1.HighlyAvailableApp) {
			udp := port(53, 30053, "dns-udp")
			udp.Protocol = corev1.ProtocolUDP
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{port(53, 30053, "dns-tcp"), udp}}
		}),
		Entry("a termination grace period of a day", func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Availability = &appsv1alpha1.AvailabilitySpec{TerminationGracePeriodSeconds: ptr.To[int64](86400)}
		}),
	)
})
