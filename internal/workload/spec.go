package workload

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// CheckSpec finds what would make the generated objects invalid but that the CRD cannot refuse: the
// API server's CEL cost budget rules out comparing each entry of a pod template's unbounded lists with
// each entry of another (docs/admission.md). It returns the first problem found, with the field it is
// in and a message that names it; ok when there is none.
func CheckSpec(app *appsv1alpha1.HighlyAvailableApp) (field, message string, ok bool) {
	for _, check := range []func(*appsv1alpha1.HighlyAvailableApp) (string, string, bool){
		checkContainerNames, checkTemplateLabels, checkServicePortNames, checkStorageContainers, checkStorageMountPaths,
	} {
		if field, message, ok := check(app); !ok {
			return field, message, false
		}
	}
	return "", "", true
}

func problem(field, format string, args ...any) (string, string, bool) {
	return field, field + ": " + fmt.Sprintf(format, args...), false
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
				return problem(field, "%q: %s", c.Name, strings.Join(errs, "; "))
			}
			if seen[c.Name] {
				return problem(field, "%q is the name of another container", c.Name)
			}
			seen[c.Name] = true
		}
	}
	return "", "", true
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
			return problem(field, "key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(app.Spec.Template.Labels[k]); len(errs) > 0 {
			return problem(field, "value of %q: %s", k, strings.Join(errs, "; "))
		}
	}
	return "", "", true
}

// checkServicePortNames: the Service's port names are DNS labels and unique.
func checkServicePortNames(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	if app.Spec.Service == nil {
		return "", "", true
	}
	seen := map[string]bool{}
	for i, p := range app.Spec.Service.Ports {
		if p.Name == "" {
			continue
		}
		field := fmt.Sprintf("spec.service.ports[%d].name", i)
		if errs := validation.IsDNS1123Label(p.Name); len(errs) > 0 {
			return problem(field, "%q: %s", p.Name, strings.Join(errs, "; "))
		}
		if seen[p.Name] {
			return problem(field, "%q is the name of another port", p.Name)
		}
		seen[p.Name] = true
	}
	return "", "", true
}

// checkStorageContainers: a storage entry names only containers of the template; a name that matches
// none would leave the data in the container's writable layer.
func checkStorageContainers(app *appsv1alpha1.HighlyAvailableApp) (string, string, bool) {
	for i, st := range app.Spec.Storage {
		for j, name := range st.Containers {
			if !slices.ContainsFunc(app.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
				return problem(fmt.Sprintf("spec.storage[%d].containers[%d]", i, j),
					"%q is not a container of spec.template.spec.containers", name)
			}
		}
	}
	return "", "", true
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
					return problem(fmt.Sprintf("spec.storage[%d].mountPath", i),
						"%s is already where container %s mounts volume %s", st.MountPath, c.Name, m.Name)
				}
			}
		}
	}
	return "", "", true
}
