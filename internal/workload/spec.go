package workload

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
)

// SpecChecks find what would make the generated objects invalid but that the CRD cannot refuse: the
// API server's CEL cost budget rules out comparing each entry of a pod template's unbounded lists with
// each entry of another (docs/admission.md). A failure has reason InvalidSpec and a message that
// begins with the field.
var SpecChecks = check.Chain[*appsv1alpha1.HighlyAvailableApp]{
	checkContainerNames, checkTemplateLabels, checkServicePortNames, checkStorageContainers, checkStorageMountPaths,
}

// invalid is a failed spec check on the field.
func invalid(field, format string, args ...any) (string, string, bool) {
	return appsv1alpha1.ReasonInvalidSpec, field + ": " + fmt.Sprintf(format, args...), true
}

// checkContainerNames: every container and init container is named with a DNS label, and no name is
// used twice (across both lists, as the API server requires).
func checkContainerNames(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	seen := map[string]bool{}
	for _, list := range []struct {
		path       string
		containers []corev1.Container
	}{
		{"spec.template.spec.initContainers", app.Spec.Template.Spec.InitContainers},
		{"spec.template.spec.containers", app.Spec.Template.Spec.Containers},
	} {
		for i, c := range list.containers {
			field := fmt.Sprintf("%s[%d].name", list.path, i)
			if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
				return invalid(field, "%q: %s", c.Name, strings.Join(errs, "; "))
			}
			if seen[c.Name] {
				return invalid(field, "%q is the name of another container", c.Name)
			}
			seen[c.Name] = true
		}
	}
	return "", "", false
}

// checkTemplateLabels: keys are qualified names and values label values; the pods and the
// workload's template carry them.
func checkTemplateLabels(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	const field = "spec.template.metadata.labels"
	keys := make([]string, 0, len(app.Spec.Template.Labels))
	for k := range app.Spec.Template.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return invalid(field, "key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(app.Spec.Template.Labels[k]); len(errs) > 0 {
			return invalid(field, "value of %q: %s", k, strings.Join(errs, "; "))
		}
	}
	return "", "", false
}

// checkServicePortNames: the Service's port names are DNS labels and unique.
func checkServicePortNames(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	if app.Spec.Service == nil {
		return "", "", false
	}
	seen := map[string]bool{}
	for i, p := range app.Spec.Service.Ports {
		if p.Name == "" {
			continue
		}
		field := fmt.Sprintf("spec.service.ports[%d].name", i)
		if errs := validation.IsDNS1123Label(p.Name); len(errs) > 0 {
			return invalid(field, "%q: %s", p.Name, strings.Join(errs, "; "))
		}
		if seen[p.Name] {
			return invalid(field, "%q is the name of another port", p.Name)
		}
		seen[p.Name] = true
	}
	return "", "", false
}

// checkStorageContainers: a storage entry names only containers of the template; a name that matches
// none would leave the data in the container's writable layer.
func checkStorageContainers(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	for i, st := range app.Spec.Storage {
		for j, name := range st.Containers {
			if !slices.ContainsFunc(app.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
				return invalid(fmt.Sprintf("spec.storage[%d].containers[%d]", i, j),
					"%q is not a container of spec.template.spec.containers", name)
			}
		}
	}
	return "", "", false
}

// checkStorageMountPaths: no container that mounts a storage entry already mounts another volume at
// its mountPath.
func checkStorageMountPaths(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	for i, st := range app.Spec.Storage {
		for _, c := range app.Spec.Template.Spec.Containers {
			if len(st.Containers) > 0 && !slices.Contains(st.Containers, c.Name) {
				continue
			}
			for _, m := range c.VolumeMounts {
				if m.MountPath == st.MountPath && m.Name != st.Name {
					return invalid(fmt.Sprintf("spec.storage[%d].mountPath", i),
						"%s is already where container %s mounts volume %s", st.MountPath, c.Name, m.Name)
				}
			}
		}
	}
	return "", "", false
}
