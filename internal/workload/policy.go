package workload

import (
	"fmt"
	"slices"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// ServiceTypeAllowed tells whether the Service type the app asks for is one the cluster's operator
// allows (Options.AllowedServiceTypes; an empty list allows every type). When it is not, it returns
// the field and a message for the app's status.
func ServiceTypeAllowed(app *appsv1alpha1.HighlyAvailableApp, opts Options) (field, message string, ok bool) {
	if len(opts.AllowedServiceTypes) == 0 || app.Spec.Service == nil || app.Spec.Service.Type == "" {
		return "", "", true
	}
	t := app.Spec.Service.Type
	if slices.Contains(opts.AllowedServiceTypes, t) {
		return "", "", true
	}
	return "spec.service.type", fmt.Sprintf("Service type %s is not allowed on this cluster (allowed: %v)", t, opts.AllowedServiceTypes), false
}
