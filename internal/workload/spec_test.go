package workload

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestSpecChecks(t *testing.T) {
	type app = appsv1alpha1.HighlyAvailableApp
	sidecar := corev1.Container{Name: "sidecar", Image: "busybox"}
	tests := []struct {
		name    string
		app     *app
		field   string
		message string
	}{
		{name: "a Stateless app", app: webApp()},
		{name: "a Stateful app", app: dbApp()},
		{name: "a storage entry for a named container that mounts its own volume of that name elsewhere",
			app: dbApp(func(a *app) {
				a.Spec.Storage[0].Containers = []string{"db"}
				a.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: volData, MountPath: "/var/lib/db"}}
			})},
		{name: "a container name that is not a DNS label", app: webApp(func(a *app) { a.Spec.Template.Spec.Containers[0].Name = "Web_1" }),
			field: "spec.template.spec.containers[0].name", message: `spec.template.spec.containers[0].name: "Web_1": a lowercase RFC 1123 label`},
		{name: "two containers of one name", app: webApp(func(a *app) {
			a.Spec.Template.Spec.Containers = append(a.Spec.Template.Spec.Containers, sidecar, sidecar)
		}), field: "spec.template.spec.containers[2].name", message: `"sidecar" is the name of another container`},
		{name: "an init container named like a container", app: webApp(func(a *app) {
			a.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: webName, Image: "busybox"}}
		}), field: "spec.template.spec.containers[0].name", message: `"web" is the name of another container`},
		{name: "a label key too long", app: webApp(func(a *app) { a.Spec.Template.Labels = map[string]string{strings.Repeat("a", 64): "x"} }),
			field: "spec.template.metadata.labels", message: "name part must be no more than 63 bytes"},
		{name: "a label value with a space", app: webApp(func(a *app) { a.Spec.Template.Labels = map[string]string{"tier": "front end"} }),
			field: "spec.template.metadata.labels", message: `spec.template.metadata.labels: value of "tier"`},
		{name: "two Service ports of one name", app: webApp(func(a *app) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "http", Port: 81}}}
		}), field: "spec.service.ports[1].name", message: `spec.service.ports[1].name: "http" is the name of another port`},
		{name: "a Service port name that is not a DNS label", app: webApp(func(a *app) {
			a.Spec.Service = &appsv1alpha1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "HTTP", Port: 80}}}
		}), field: "spec.service.ports[0].name", message: `"HTTP"`},
		{name: "storage for a container that does not exist", app: dbApp(func(a *app) { a.Spec.Storage[0].Containers = []string{"postgres"} }),
			field: "spec.storage[0].containers[0]", message: `spec.storage[0].containers[0]: "postgres" is not a container of spec.template.spec.containers`},
		{name: "storage at a path another volume is mounted at", app: dbApp(func(a *app) {
			a.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "cache", MountPath: "/var/lib/db"}}
		}), field: "spec.storage[0].mountPath", message: "spec.storage[0].mountPath: /var/lib/db is already where container db mounts volume cache"},
		{name: "a clash in a container the storage does not mount into is none", app: dbApp(func(a *app) {
			a.Spec.Template.Spec.Containers = append(a.Spec.Template.Spec.Containers, corev1.Container{
				Name: "backup", Image: "busybox", VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/var/lib/db"}},
			})
			a.Spec.Storage[0].Containers = []string{"db"}
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, message, failed := SpecChecks.First(tc.app)
			assertEqual(t, "failed", failed, tc.field != "")
			if !failed {
				return
			}
			assertEqual(t, "reason", reason, appsv1alpha1.ReasonInvalidSpec)
			if !strings.HasPrefix(message, tc.field+": ") {
				t.Errorf("message %q does not begin with the field %s", message, tc.field)
			}
			if !strings.Contains(message, tc.message) {
				t.Errorf("message %q does not contain %q", message, tc.message)
			}
		})
	}
}
