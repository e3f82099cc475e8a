package workload

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// DefaultTargetCPUUtilization is the autoscaler's target when the app sets none.
const DefaultTargetCPUUtilization int32 = 80

// WorkloadName is the name of the Deployment or StatefulSet: the app's.
func WorkloadName(app *appsv1alpha1.HighlyAvailableApp) string { return app.Name }

// HeadlessServiceName is the name of a Stateful app's headless Service: the app's, so that pods get
// the stable names <app>-<ordinal>.<app>.<namespace>.svc.
func HeadlessServiceName(app *appsv1alpha1.HighlyAvailableApp) string { return app.Name }

// ServiceName is the name of the Service clients use: the app's for a Stateless app, <app>-client
// for a Stateful one (whose own name is taken by the headless Service).
func ServiceName(app *appsv1alpha1.HighlyAvailableApp) string {
	if app.Spec.AppType() == appsv1alpha1.Stateful {
		return app.Name + "-client"
	}
	return app.Name
}

// ClaimName is the name the StatefulSet gives the claim of one storage entry for one ordinal.
func ClaimName(app *appsv1alpha1.HighlyAvailableApp, storage string, ordinal int32) string {
	return fmt.Sprintf("%s-%s-%d", storage, app.Name, ordinal)
}

func objectMeta(app *appsv1alpha1.HighlyAvailableApp, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: app.Namespace, Labels: Labels(app)}
}

func selector(app *appsv1alpha1.HighlyAvailableApp) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: SelectorLabels(app)}
}

// replicas is the replica count the operator sets on the workload: none while an autoscaler owns it.
func replicas(app *appsv1alpha1.HighlyAvailableApp) *int32 {
	if app.Spec.Autoscaling != nil {
		return nil
	}
	return new(app.Spec.DesiredReplicas())
}

// Deployment runs a Stateless app's pods with the given template (see PodTemplate), rolling updates
// that by default never drop below the desired number of ready pods.
func Deployment(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec) *appsv1.Deployment {
	spec := &app.Spec
	maxSurge, maxUnavailable := spec.RolloutMaxSurge(), spec.RolloutMaxUnavailable()
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment"},
		ObjectMeta: objectMeta(app, WorkloadName(app)),
		Spec: appsv1.DeploymentSpec{
			Replicas: replicas(app),
			Selector: selector(app),
			Template: template,
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &maxSurge, MaxUnavailable: &maxUnavailable},
			},
			MinReadySeconds:         spec.MinReadySeconds(),
			ProgressDeadlineSeconds: new(spec.ProgressDeadlineSeconds()),
			RevisionHistoryLimit:    new(spec.RevisionHistoryLimit()),
			Paused:                  spec.Paused(),
		},
	}
}

// StatefulSet runs a Stateful app's pods with the given template and partition: stable names through
// the headless Service, one claim per storage entry and ordinal, and claims retained unless the app
// says otherwise.
func StatefulSet(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec, partition int32) *appsv1.StatefulSet {
	spec := &app.Spec
	whenDeleted, whenScaled := spec.ClaimRetention()
	policy := appsv1.OrderedReadyPodManagement
	if spec.PodManagementPolicy != nil {
		policy = appsv1.PodManagementPolicyType(*spec.PodManagementPolicy)
	}
	rolling := &appsv1.RollingUpdateStatefulSetStrategy{Partition: new(partition)}
	if spec.Rollout != nil && spec.Rollout.MaxUnavailable != nil {
		// Set only when asked for: clusters without the MaxUnavailableStatefulSet feature drop the
		// field, and the default of one pod at a time is what it would say anyway.
		rolling.MaxUnavailable = new(spec.RolloutMaxUnavailable())
	}
	claims := make([]corev1.PersistentVolumeClaim, 0, len(spec.Storage))
	for _, st := range spec.Storage {
		claims = append(claims, ClaimTemplate(app, st))
	}
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "StatefulSet"},
		ObjectMeta: objectMeta(app, WorkloadName(app)),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             replicas(app),
			Selector:             selector(app),
			Template:             template,
			ServiceName:          HeadlessServiceName(app),
			VolumeClaimTemplates: claims,
			PodManagementPolicy:  policy,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{
				Type:          appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: rolling,
			},
			MinReadySeconds:      spec.MinReadySeconds(),
			RevisionHistoryLimit: new(spec.RevisionHistoryLimit()),
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenDeleted: appsv1.PersistentVolumeClaimRetentionPolicyType(whenDeleted),
				WhenScaled:  appsv1.PersistentVolumeClaimRetentionPolicyType(whenScaled),
			},
		},
	}
}

// ClaimTemplate is the volume claim template of one storage entry.
func ClaimTemplate(app *appsv1alpha1.HighlyAvailableApp, st appsv1alpha1.StorageSpec) corev1.PersistentVolumeClaim {
	// Copies, so that whoever changes the claim template does not change the app's spec with it.
	modes := slices.Clone(st.AccessModes)
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	var class *string
	if st.StorageClassName != nil {
		class = new(*st.StorageClassName)
	}
	return corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: st.Name, Labels: Labels(app)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      modes,
			StorageClassName: class,
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: st.Size.DeepCopy()},
			},
		},
	}
}

// Service is the Service clients use: named after the app (Stateless) or <app>-client (Stateful),
// of the type the app asks for. It is nil when the app has no ports to serve.
func Service(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	ports := ServicePorts(app)
	if len(ports) == 0 {
		return nil
	}
	svcType := corev1.ServiceTypeClusterIP
	if app.Spec.Service != nil && app.Spec.Service.Type != "" {
		svcType = app.Spec.Service.Type
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(app, ServiceName(app)),
		Spec: corev1.ServiceSpec{
			Type:     svcType,
			Selector: SelectorLabels(app),
			Ports:    ports,
		},
	}
}

// HeadlessService gives a Stateful app's pods their stable DNS names. It publishes pods before they
// are ready, so that peers find each other while they start (a cluster forming needs that).
func HeadlessService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: objectMeta(app, HeadlessServiceName(app)),
		Spec: corev1.ServiceSpec{
			Type:                     corev1.ServiceTypeClusterIP,
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 SelectorLabels(app),
			Ports:                    ServicePorts(app),
		},
	}
}

// ServicePorts are the app's service ports: spec.service.ports when given, otherwise one port per
// container port of every container (the first of each port number and protocol), named after the
// container port or, when that has no name or its name is taken, after its protocol and number
// (with a counter when even that is taken).
func ServicePorts(app *appsv1alpha1.HighlyAvailableApp) []corev1.ServicePort {
	if app.Spec.Service != nil && len(app.Spec.Service.Ports) > 0 {
		out := make([]corev1.ServicePort, len(app.Spec.Service.Ports))
		for i, p := range app.Spec.Service.Ports {
			out[i] = *p.DeepCopy()
			if out[i].Protocol == "" {
				out[i].Protocol = corev1.ProtocolTCP
			}
			if out[i].TargetPort.Type == intstr.Int && out[i].TargetPort.IntVal == 0 {
				out[i].TargetPort = intstr.FromInt32(p.Port)
			}
		}
		return out
	}
	type key struct {
		port     int32
		protocol corev1.Protocol
	}
	seen := map[key]bool{}
	names := map[string]bool{}
	var out []corev1.ServicePort
	for _, c := range app.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			protocol := p.Protocol
			if protocol == "" {
				protocol = corev1.ProtocolTCP
			}
			k := key{p.ContainerPort, protocol}
			if seen[k] {
				continue
			}
			seen[k] = true
			name := p.Name
			if name == "" || names[name] {
				name = fmt.Sprintf("%s-%d", strings.ToLower(string(protocol)), p.ContainerPort)
			}
			// A container port may itself be named like a fallback ("tcp-8080"); the API server
			// refuses a Service whose port names repeat, so count up until the name is free.
			for base, n := name, 2; names[name]; n++ {
				name = fmt.Sprintf("%s-%d", base, n)
			}
			names[name] = true
			out = append(out, corev1.ServicePort{
				Name:       name,
				Port:       p.ContainerPort,
				TargetPort: intstr.FromInt32(p.ContainerPort),
				Protocol:   protocol,
			})
		}
	}
	return out
}

// PodDisruptionBudget keeps voluntary disruptions (drains, evictions) within the app's budget. It is
// nil below two replicas, where any budget would either block every drain or protect nothing. Pods
// that are not ready may always be evicted, so a broken rollout never blocks a drain.
func PodDisruptionBudget(app *appsv1alpha1.HighlyAvailableApp) *policyv1.PodDisruptionBudget {
	if MinimumReplicas(app) < 2 {
		return nil
	}
	minAvailable, maxUnavailable := app.Spec.DisruptionBudget()
	// DisruptionBudget returns the app's own values: copy them, so that whoever changes the budget
	// does not change the app's spec with it.
	if minAvailable != nil {
		minAvailable = new(*minAvailable)
	}
	if maxUnavailable != nil {
		maxUnavailable = new(*maxUnavailable)
	}
	policy := policyv1.AlwaysAllow
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: policyv1.SchemeGroupVersion.String(), Kind: "PodDisruptionBudget"},
		ObjectMeta: objectMeta(app, WorkloadName(app)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:                   selector(app),
			MinAvailable:               minAvailable,
			MaxUnavailable:             maxUnavailable,
			UnhealthyPodEvictionPolicy: &policy,
		},
	}
}

// MinimumReplicas is the fewest replicas the app asks for: its replicas, or the autoscaler's minimum.
func MinimumReplicas(app *appsv1alpha1.HighlyAvailableApp) int32 {
	if as := app.Spec.Autoscaling; as != nil {
		return autoscalerMin(app)
	}
	return app.Spec.DesiredReplicas()
}

func autoscalerMin(app *appsv1alpha1.HighlyAvailableApp) int32 {
	if as := app.Spec.Autoscaling; as != nil && as.MinReplicas != nil {
		return *as.MinReplicas
	}
	return max(app.Spec.DesiredReplicas(), 1)
}

// MinAvailablePods is how many of the desired pods the disruption budget keeps up.
func MinAvailablePods(app *appsv1alpha1.HighlyAvailableApp, desired int32) int32 {
	minAvailable, maxUnavailable := app.Spec.DisruptionBudget()
	if minAvailable != nil {
		v, err := intstr.GetScaledValueFromIntOrPercent(minAvailable, int(desired), true)
		if err != nil {
			return desired
		}
		return min(int32(v), desired)
	}
	v, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, int(desired), true)
	if err != nil {
		return desired
	}
	return max(desired-int32(v), 0)
}

// HorizontalPodAutoscaler scales the app's workload, of the given kind (Deployment or StatefulSet),
// on CPU utilization; nil unless the app asks for it.
func HorizontalPodAutoscaler(app *appsv1alpha1.HighlyAvailableApp, kind string) *autoscalingv2.HorizontalPodAutoscaler {
	as := app.Spec.Autoscaling
	if as == nil {
		return nil
	}
	target := DefaultTargetCPUUtilization
	if as.TargetCPUUtilizationPercentage != nil {
		target = *as.TargetCPUUtilizationPercentage
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: objectMeta(app, WorkloadName(app)),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: appsv1.SchemeGroupVersion.String(), Kind: kind, Name: WorkloadName(app),
			},
			MinReplicas: new(autoscalerMin(app)),
			MaxReplicas: as.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
				},
			}},
		},
	}
}

// StorageSize returns the requested size of a claim template.
func StorageSize(pvc *corev1.PersistentVolumeClaim) resource.Quantity {
	return pvc.Spec.Resources.Requests[corev1.ResourceStorage]
}
