package workload

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
)

// ServiceTypeField is the field ServiceTypeCheck names when it refuses an app.
const ServiceTypeField = "spec.service.type"

// DefaultAllowedServiceTypes are the Service types an app may ask for unless the cluster's
// administrator restricts them: every type the API offers.
var DefaultAllowedServiceTypes = []corev1.ServiceType{
	corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer,
}

// ServiceType is the type of the app's client Service: spec.service.type, ClusterIP when unset.
func ServiceType(app *appsv1alpha1.HighlyAvailableApp) corev1.ServiceType {
	if app.Spec.Service == nil || app.Spec.Service.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return app.Spec.Service.Type
}

// ServiceTypeCheck fails an app that asks for a Service type the cluster does not allow. A NodePort
// or LoadBalancer Service opens the app to outside the cluster and costs the cluster's owner (a node
// port for every node, a cloud load balancer), so an administrator may allow fewer types than the API
// offers. An empty list allows every type. A failure has reason InvalidSpec and a message that names
// spec.service.type, for the app's status.
func ServiceTypeCheck(opts Options) check.Func[*appsv1alpha1.HighlyAvailableApp] {
	return func(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
		if len(opts.AllowedServiceTypes) == 0 {
			return "", "", false
		}
		t := ServiceType(app)
		if slices.Contains(opts.AllowedServiceTypes, t) {
			return "", "", false
		}
		return appsv1alpha1.ReasonInvalidSpec, fmt.Sprintf("%s: Service type %s is not allowed in this cluster (allowed: %s)",
			ServiceTypeField, t, joinTypes(opts.AllowedServiceTypes)), true
	}
}

// ParseServiceTypes reads a comma-separated list of Service types, such as the manager's
// --allowed-service-types flag: ClusterIP, NodePort and LoadBalancer, each at most once. ExternalName
// is not a type an app can have.
func ParseServiceTypes(list string) ([]corev1.ServiceType, error) {
	var out []corev1.ServiceType
	for item := range strings.SplitSeq(list, ",") {
		t := corev1.ServiceType(strings.TrimSpace(item))
		if !slices.Contains(DefaultAllowedServiceTypes, t) {
			return nil, fmt.Errorf("service type %q: must be one of %s", t, joinTypes(DefaultAllowedServiceTypes))
		}
		if slices.Contains(out, t) {
			return nil, fmt.Errorf("service type %s is listed twice", t)
		}
		out = append(out, t)
	}
	return out, nil
}

func joinTypes(types []corev1.ServiceType) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
