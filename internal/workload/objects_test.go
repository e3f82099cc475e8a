package workload

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestNames(t *testing.T) {
	web, db := webApp(), dbApp()
	for _, c := range []struct{ what, got, want string }{
		{"Stateless workload", WorkloadName(web), webName},
		{"Stateless client Service", ServiceName(web), webName},
		{"Stateful workload", WorkloadName(db), "db"},
		{"Stateful headless Service", HeadlessServiceName(db), "db"},
		{"Stateful client Service", ServiceName(db), "db-client"},
		{"claim of ordinal 2", ClaimName(db, volData, 2), "data-db-2"},
		{"selector", SelectorString(web), "app.kubernetes.io/instance=web,app.kubernetes.io/name=web"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestDeployment(t *testing.T) {
	cases := []struct {
		name           string
		app            *appsv1alpha1.HighlyAvailableApp
		replicas       *int32
		maxSurge       intstr.IntOrString
		maxUnavailable intstr.IntOrString
		minReady       int32
		deadline       int32
		history        int32
		paused         bool
	}{
		{
			name:     "defaults: 3 replicas, surge 25%, never below the desired count",
			app:      webApp(),
			replicas: ptr.To[int32](3), maxSurge: intstr.FromString("25%"), maxUnavailable: intstr.FromInt32(0),
			deadline: 600, history: 10,
		},
		{
			name: "the rollout the app asks for",
			app: webApp(withReplicas(5), withRollout(appsv1alpha1.RolloutSpec{
				MaxSurge: intOrString("1"), MaxUnavailable: intOrString("20%"), MinReadySeconds: ptr.To[int32](10),
				ProgressDeadlineSeconds: ptr.To[int32](120), RevisionHistoryLimit: ptr.To[int32](3), Paused: true,
			})),
			replicas: ptr.To[int32](5), maxSurge: intstr.FromInt32(1), maxUnavailable: intstr.FromString("20%"),
			minReady: 10, deadline: 120, history: 3, paused: true,
		},
		{
			name:     "autoscaling leaves replicas to the autoscaler",
			app:      webApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 10})),
			replicas: nil, maxSurge: intstr.FromString("25%"), maxUnavailable: intstr.FromInt32(0),
			deadline: 600, history: 10,
		},
		{
			name:     "zero replicas are kept as zero, not dropped",
			app:      webApp(withReplicas(0)),
			replicas: ptr.To[int32](0), maxSurge: intstr.FromString("25%"), maxUnavailable: intstr.FromInt32(0),
			deadline: 600, history: 10,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := PodTemplate(tc.app, Options{})
			d := Deployment(tc.app, tpl)
			want := appsv1.DeploymentSpec{
				Replicas: tc.replicas,
				Selector: selector(tc.app),
				Template: tpl,
				Strategy: appsv1.DeploymentStrategy{
					Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{
						MaxSurge: &tc.maxSurge, MaxUnavailable: &tc.maxUnavailable,
					},
				},
				MinReadySeconds:         tc.minReady,
				ProgressDeadlineSeconds: new(tc.deadline),
				RevisionHistoryLimit:    new(tc.history),
				Paused:                  tc.paused,
			}
			assertEqual(t, "Deployment spec", d.Spec, want)
			if d.Name != webName || d.Namespace != "shop" || d.Kind != kindDeployment || d.APIVersion != appsV1 {
				t.Errorf("Deployment is %s %s %s/%s, want apps/v1 Deployment shop/web", d.APIVersion, d.Kind, d.Namespace, d.Name)
			}
			assertEqual(t, "Deployment labels", d.Labels, Labels(tc.app))
		})
	}
}

func TestStatefulSet(t *testing.T) {
	parallel := appsv1alpha1.PodManagementPolicy("Parallel")
	retain, del := appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	cases := []struct {
		name           string
		app            *appsv1alpha1.HighlyAvailableApp
		partition      int32
		replicas       *int32
		maxUnavailable *intstr.IntOrString
		policy         appsv1.PodManagementPolicyType
		whenDeleted    appsv1.PersistentVolumeClaimRetentionPolicyType
		whenScaled     appsv1.PersistentVolumeClaimRetentionPolicyType
	}{
		{
			name:     "defaults: ordered, claims retained, one pod at a time",
			app:      dbApp(),
			replicas: ptr.To[int32](3), policy: appsv1.OrderedReadyPodManagement, whenDeleted: retain, whenScaled: retain,
		},
		{
			name:      "the partition given is the one set; maxUnavailable only when asked for",
			app:       dbApp(withRollout(appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](1), MaxUnavailable: intOrString("2")})),
			partition: 2, // the controller may hold it higher than the spec's while paused
			replicas:  ptr.To[int32](3), maxUnavailable: intOrString("2"),
			policy: appsv1.OrderedReadyPodManagement, whenDeleted: retain, whenScaled: retain,
		},
		{
			name: "Parallel pod management and the retention the app asks for",
			app: dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.PodManagementPolicy = &parallel
				a.Spec.VolumeClaimRetention = &appsv1alpha1.VolumeClaimRetention{WhenDeleted: appsv1alpha1.DeleteClaims}
			}),
			replicas: ptr.To[int32](3), policy: appsv1.ParallelPodManagement, whenDeleted: del, whenScaled: retain,
		},
		{
			name: "whenScaled alone",
			app: dbApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.VolumeClaimRetention = &appsv1alpha1.VolumeClaimRetention{WhenScaled: appsv1alpha1.DeleteClaims}
			}),
			replicas: ptr.To[int32](3), policy: appsv1.OrderedReadyPodManagement, whenDeleted: retain, whenScaled: del,
		},
		{
			name:   "autoscaling leaves replicas to the autoscaler",
			app:    dbApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 5})),
			policy: appsv1.OrderedReadyPodManagement, whenDeleted: retain, whenScaled: retain,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl := PodTemplate(tc.app, Options{})
			s := StatefulSet(tc.app, tpl, tc.partition)
			want := appsv1.StatefulSetSpec{
				Replicas:             tc.replicas,
				Selector:             selector(tc.app),
				Template:             tpl,
				ServiceName:          "db",
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{ClaimTemplate(tc.app, tc.app.Spec.Storage[0])},
				PodManagementPolicy:  tc.policy,
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
					Type: appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{
						Partition: new(tc.partition), MaxUnavailable: tc.maxUnavailable,
					},
				},
				RevisionHistoryLimit: ptr.To[int32](10),
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: tc.whenDeleted, WhenScaled: tc.whenScaled,
				},
			}
			assertEqual(t, "StatefulSet spec", s.Spec, want)
			if s.Name != "db" || s.Namespace != volData || s.Kind != "StatefulSet" || s.APIVersion != appsV1 {
				t.Errorf("StatefulSet is %s %s %s/%s, want apps/v1 StatefulSet data/db", s.APIVersion, s.Kind, s.Namespace, s.Name)
			}
		})
	}
}

func TestClaimTemplate(t *testing.T) {
	app := dbApp()
	fast := "fast"
	cases := []struct {
		name    string
		storage appsv1alpha1.StorageSpec
		modes   []corev1.PersistentVolumeAccessMode
		class   *string
	}{
		{
			name:    "ReadWriteOnce and the cluster's default class unless given",
			storage: appsv1alpha1.StorageSpec{Name: volData, MountPath: "/d", Size: resource.MustParse("1Gi")},
			modes:   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		},
		{
			name: "the modes and class the entry asks for",
			storage: appsv1alpha1.StorageSpec{Name: volData, MountPath: "/d", Size: resource.MustParse("500Mi"),
				StorageClassName: &fast, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}},
			modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
			class: &fast,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ClaimTemplate(app, tc.storage)
			want := corev1.PersistentVolumeClaimSpec{
				AccessModes:      tc.modes,
				StorageClassName: tc.class,
				Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: tc.storage.Size},
				},
			}
			assertEqual(t, "claim spec", got.Spec, want)
			if got.Name != volData {
				t.Errorf("claim template name = %q, want %q", got.Name, volData)
			}
			assertEqual(t, "claim labels", got.Labels, Labels(app))
			if size := StorageSize(&got); size.Cmp(tc.storage.Size) != 0 {
				t.Errorf("StorageSize = %s, want %s", size.String(), tc.storage.Size.String())
			}
		})
	}
}

func TestServicePorts(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(name string, n int32, protocol corev1.Protocol) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: n, TargetPort: intstr.FromInt32(n), Protocol: protocol}
	}
	containers := func(cs ...[]corev1.ContainerPort) func(*appsv1alpha1.HighlyAvailableApp) {
		return func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers = nil
			for i, ports := range cs {
				a.Spec.Template.Spec.Containers = append(a.Spec.Template.Spec.Containers,
					corev1.Container{Name: string(rune('a' + i)), Image: "img", Ports: ports})
			}
		}
	}
	given := func(ports ...corev1.ServicePort) func(*appsv1alpha1.HighlyAvailableApp) {
		return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: ports} }
	}
	cases := []struct {
		name string
		app  *appsv1alpha1.HighlyAvailableApp
		want []corev1.ServicePort
	}{
		{
			name: "a named port keeps its name",
			app:  webApp(),
			want: []corev1.ServicePort{port(portHTTP, 80, tcp)},
		},
		{
			name: "an unnamed port is named after protocol and number",
			app:  webApp(containers([]corev1.ContainerPort{{ContainerPort: 8080}})),
			want: []corev1.ServicePort{port("tcp-8080", 8080, tcp)},
		},
		{
			name: "UDP ports keep their protocol",
			app:  webApp(containers([]corev1.ContainerPort{{ContainerPort: 53, Protocol: udp}, {Name: "dns-tcp", ContainerPort: 53}})),
			want: []corev1.ServicePort{port("udp-53", 53, udp), port("dns-tcp", 53, tcp)},
		},
		{
			name: "every container's ports, in order; a port number seen before is skipped",
			app: webApp(containers(
				[]corev1.ContainerPort{{Name: portHTTP, ContainerPort: 80}, {Name: "admin", ContainerPort: 9000}},
				[]corev1.ContainerPort{{Name: "proxy", ContainerPort: 80}, {Name: containerMetrics, ContainerPort: 9090}},
			)),
			want: []corev1.ServicePort{port(portHTTP, 80, tcp), port("admin", 9000, tcp), port(containerMetrics, 9090, tcp)},
		},
		{
			name: "a name seen before falls back to protocol and number",
			app: webApp(containers(
				[]corev1.ContainerPort{{Name: portHTTP, ContainerPort: 80}},
				[]corev1.ContainerPort{{Name: portHTTP, ContainerPort: 8080}},
			)),
			want: []corev1.ServicePort{port(portHTTP, 80, tcp), port("tcp-8080", 8080, tcp)},
		},
		{
			name: "a fallback name that a named port already took gets a unique one",
			app: webApp(containers(
				[]corev1.ContainerPort{{Name: "tcp-8080", ContainerPort: 80}, {ContainerPort: 8080}},
			)),
			want: []corev1.ServicePort{port("tcp-8080", 80, tcp), port("tcp-8080-2", 8080, tcp)},
		},
		{
			name: "no ports: none",
			app:  webApp(containers(nil)),
			want: nil,
		},
		{
			name: "given ports are used as they are, with TCP and the port as defaults",
			app: webApp(given(
				corev1.ServicePort{Name: webName, Port: 443, TargetPort: intstr.FromString(portHTTP)},
				corev1.ServicePort{Name: "alt", Port: 8443},
				corev1.ServicePort{Name: "syslog", Port: 514, TargetPort: intstr.FromInt32(5140), Protocol: udp, NodePort: 30514},
			)),
			want: []corev1.ServicePort{
				{Name: webName, Port: 443, TargetPort: intstr.FromString(portHTTP), Protocol: tcp},
				{Name: "alt", Port: 8443, TargetPort: intstr.FromInt32(8443), Protocol: tcp},
				{Name: "syslog", Port: 514, TargetPort: intstr.FromInt32(5140), Protocol: udp, NodePort: 30514},
			},
		},
		{
			name: "an empty list of given ports derives them",
			app:  webApp(given()),
			want: []corev1.ServicePort{port(portHTTP, 80, tcp)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertEqual(t, "ports", ServicePorts(tc.app), tc.want)
		})
	}
}

func TestService(t *testing.T) {
	cases := []struct {
		name    string
		app     *appsv1alpha1.HighlyAvailableApp
		svcName string
		svcType corev1.ServiceType
		nilSvc  bool
	}{
		{name: "Stateless: ClusterIP named after the app", app: webApp(), svcName: webName, svcType: corev1.ServiceTypeClusterIP},
		{
			name: "the type the app asks for",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}
			}),
			svcName: webName, svcType: corev1.ServiceTypeLoadBalancer,
		},
		{name: "Stateful: the client Service", app: dbApp(), svcName: "db-client", svcType: corev1.ServiceTypeClusterIP},
		{
			name: "no ports: no Service",
			app: webApp(func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.Containers[0].Ports = nil
			}),
			nilSvc: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := Service(tc.app)
			if tc.nilSvc {
				if svc != nil {
					t.Fatalf("Service = %+v, want none", svc)
				}
				return
			}
			if svc == nil {
				t.Fatal("Service = nil")
			}
			want := corev1.ServiceSpec{Type: tc.svcType, Selector: SelectorLabels(tc.app), Ports: ServicePorts(tc.app)}
			assertEqual(t, "Service spec", svc.Spec, want)
			if svc.Name != tc.svcName || svc.Namespace != tc.app.Namespace {
				t.Errorf("Service %s/%s, want %s/%s", svc.Namespace, svc.Name, tc.app.Namespace, tc.svcName)
			}
			assertEqual(t, "Service labels", svc.Labels, Labels(tc.app))
		})
	}
}

func TestHeadlessService(t *testing.T) {
	// A headless Service needs no port to give pods their names: it is made even without one.
	for _, app := range []*appsv1alpha1.HighlyAvailableApp{
		dbApp(),
		dbApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Ports = nil }),
	} {
		svc := HeadlessService(app)
		want := corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone, PublishNotReadyAddresses: true,
			Selector: SelectorLabels(app), Ports: ServicePorts(app),
		}
		assertEqual(t, "headless Service spec", svc.Spec, want)
		if svc.Name != "db" {
			t.Errorf("headless Service name = %q, want db", svc.Name)
		}
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	one, two := intstr.FromInt32(1), intstr.FromInt32(2)
	half := intstr.FromString("50%")
	cases := []struct {
		name           string
		app            *appsv1alpha1.HighlyAvailableApp
		none           bool
		minAvailable   *intstr.IntOrString
		maxUnavailable *intstr.IntOrString
	}{
		{name: "default 3 replicas: maxUnavailable 1", app: webApp(), maxUnavailable: &one},
		{name: "2 replicas still get one", app: webApp(withReplicas(2)), maxUnavailable: &one},
		{name: "1 replica: none", app: webApp(withReplicas(1)), none: true},
		{name: "0 replicas: none", app: webApp(withReplicas(0)), none: true},
		{
			name:         "minAvailable when asked for",
			app:          webApp(withAvailability(appsv1alpha1.AvailabilitySpec{MinAvailable: &half})),
			minAvailable: &half,
		},
		{
			name:           "maxUnavailable when asked for",
			app:            webApp(withReplicas(5), withAvailability(appsv1alpha1.AvailabilitySpec{MaxUnavailable: &two})),
			maxUnavailable: &two,
		},
		{
			name: "autoscaling: the autoscaler's minimum decides (1: none)",
			app:  webApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](1), MaxReplicas: 5})),
			none: true,
		},
		{
			name:           "autoscaling: the autoscaler's minimum decides (2: one)",
			app:            webApp(withReplicas(1), withAutoscaling(appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](2), MaxReplicas: 5})),
			maxUnavailable: &one,
		},
		{
			name:           "autoscaling without a minimum: replicas are the minimum",
			app:            webApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 5})),
			maxUnavailable: &one,
		},
		{name: "Stateful apps get one too", app: dbApp(), maxUnavailable: &one},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pdb := PodDisruptionBudget(tc.app)
			if tc.none {
				if pdb != nil {
					t.Fatalf("PodDisruptionBudget = %+v, want none", pdb.Spec)
				}
				return
			}
			if pdb == nil {
				t.Fatal("PodDisruptionBudget = nil")
			}
			always := policyv1.AlwaysAllow
			want := policyv1.PodDisruptionBudgetSpec{
				Selector: selector(tc.app), MinAvailable: tc.minAvailable, MaxUnavailable: tc.maxUnavailable,
				UnhealthyPodEvictionPolicy: &always,
			}
			assertEqual(t, "PodDisruptionBudget spec", pdb.Spec, want)
			if pdb.Name != tc.app.Name || pdb.Namespace != tc.app.Namespace {
				t.Errorf("PodDisruptionBudget %s/%s, want %s/%s", pdb.Namespace, pdb.Name, tc.app.Namespace, tc.app.Name)
			}
		})
	}
}

func TestMinAvailablePods(t *testing.T) {
	cases := []struct {
		name    string
		av      *appsv1alpha1.AvailabilitySpec
		desired int32
		want    int32
	}{
		{"default maxUnavailable 1 of 3", nil, 3, 2},
		{"default maxUnavailable 1 of 1", nil, 1, 0},
		{"default of 0", nil, 0, 0},
		{"maxUnavailable 2 of 5", &appsv1alpha1.AvailabilitySpec{MaxUnavailable: intOrString("2")}, 5, 3},
		{"maxUnavailable larger than desired", &appsv1alpha1.AvailabilitySpec{MaxUnavailable: intOrString("4")}, 3, 0},
		{"maxUnavailable 25% of 5 rounds up to 2", &appsv1alpha1.AvailabilitySpec{MaxUnavailable: intOrString("25%")}, 5, 3},
		{"minAvailable 2", &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("2")}, 3, 2},
		{"minAvailable above desired is capped", &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("5")}, 3, 3},
		{"minAvailable 50% of 3 rounds up to 2", &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("50%")}, 3, 2},
		{"minAvailable 100%", &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("100%")}, 4, 4},
		{"minAvailable 0", &appsv1alpha1.AvailabilitySpec{MinAvailable: intOrString("0")}, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := webApp(func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Availability = tc.av })
			if got := MinAvailablePods(app, tc.desired); got != tc.want {
				t.Errorf("MinAvailablePods(%d) = %d, want %d", tc.desired, got, tc.want)
			}
		})
	}
}

func TestHorizontalPodAutoscaler(t *testing.T) {
	cases := []struct {
		name   string
		app    *appsv1alpha1.HighlyAvailableApp
		none   bool
		kind   string
		min    int32
		max    int32
		target int32
	}{
		{name: "none without spec.autoscaling", app: webApp(), none: true},
		{
			name: "defaults: the minimum is spec.replicas, the target 80%",
			app:  webApp(withReplicas(4), withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 10})),
			kind: kindDeployment, min: 4, max: 10, target: 80,
		},
		{
			name: "the minimum and target the app asks for",
			app: webApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{
				MinReplicas: ptr.To[int32](2), MaxReplicas: 6, TargetCPUUtilizationPercentage: ptr.To[int32](70),
			})),
			kind: kindDeployment, min: 2, max: 6, target: 70,
		},
		{
			name: "0 replicas: an autoscaler's minimum is at least 1",
			app:  webApp(withReplicas(0), withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 3})),
			kind: kindDeployment, min: 1, max: 3, target: 80,
		},
		{
			name: "Stateful: it scales the StatefulSet",
			app:  dbApp(withAutoscaling(appsv1alpha1.AutoscalingSpec{MaxReplicas: 5})),
			kind: "StatefulSet", min: 3, max: 5, target: 80,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hpa := HorizontalPodAutoscaler(tc.app, workloadKind(tc.app))
			if tc.none {
				if hpa != nil {
					t.Fatalf("HorizontalPodAutoscaler = %+v, want none", hpa.Spec)
				}
				return
			}
			if hpa == nil {
				t.Fatal("HorizontalPodAutoscaler = nil")
			}
			want := autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: appsV1, Kind: tc.kind, Name: tc.app.Name},
				MinReplicas:    new(tc.min),
				MaxReplicas:    tc.max,
				Metrics: []autoscalingv2.MetricSpec{{
					Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{
						Name: corev1.ResourceCPU,
						Target: autoscalingv2.MetricTarget{
							Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(tc.target),
						},
					},
				}},
			}
			assertEqual(t, "HorizontalPodAutoscaler spec", hpa.Spec, want)
			if hpa.Name != tc.app.Name || hpa.Kind != "HorizontalPodAutoscaler" || hpa.APIVersion != "autoscaling/v2" {
				t.Errorf("HorizontalPodAutoscaler is %s %s %s", hpa.APIVersion, hpa.Kind, hpa.Name)
			}
		})
	}
}
