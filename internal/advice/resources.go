package advice

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// checkNoResourceRequests: the container requests no CPU or no memory. A limit without a request
// counts as the request (the API server makes the request equal to the limit), and so does a request
// of the pod as a whole (spec.resources, pod-level resources). A request of zero is no request. A
// LimitRange of the namespace may give defaults the manifest does not show: the rule judges the
// template.
func checkNoResourceRequests(in containerInput) (string, string, bool) {
	var missing, fields []string
	pod := in.App.Spec.Template.Spec.Resources
	for _, r := range []struct {
		name corev1.ResourceName
		what string
	}{{corev1.ResourceCPU, "CPU"}, {corev1.ResourceMemory, "memory"}} {
		if requests(in.Container.Resources, r.name) || (pod != nil && requests(*pod, r.name)) {
			continue
		}
		missing = append(missing, r.what)
		fields = append(fields, "resources.requests."+string(r.name))
	}
	if len(missing) == 0 {
		return "", "", false
	}
	return NoResourceRequests, fmt.Sprintf("%s requests no %s: the scheduler places its pods without "+
		"reserving room for them, and they are among the first evicted when a node runs short; set %s to "+
		"what the app uses at its usual load", in.what(), strings.Join(missing, " and no "),
		strings.Join(fields, " and ")), true
}

// requests tells whether the requirements request a non-zero amount of the resource, or limit it
// (a limit without a request is also the request).
func requests(req corev1.ResourceRequirements, name corev1.ResourceName) bool {
	if q, ok := req.Requests[name]; ok {
		return !q.IsZero()
	}
	q, ok := req.Limits[name]
	return ok && !q.IsZero()
}
