package workload

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestServiceTypeCheck(t *testing.T) {
	withService := func(st corev1.ServiceType) func(*appsv1alpha1.HighlyAvailableApp) {
		return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Service = &appsv1alpha1.ServiceSpec{Type: st} }
	}
	internal := []corev1.ServiceType{corev1.ServiceTypeClusterIP}
	tests := []struct {
		name    string
		app     *appsv1alpha1.HighlyAvailableApp
		allowed []corev1.ServiceType
		ok      bool
		message string
	}{
		{name: "no restriction allows a LoadBalancer", app: webApp(withService(corev1.ServiceTypeLoadBalancer)), ok: true},
		{name: "the default list allows a LoadBalancer", app: webApp(withService(corev1.ServiceTypeLoadBalancer)),
			allowed: DefaultAllowedServiceTypes, ok: true},
		{name: "no service section is a ClusterIP", app: webApp(), allowed: internal, ok: true},
		{name: "an empty type is a ClusterIP", app: webApp(withService("")), allowed: internal, ok: true},
		{name: "a Stateful app's client Service is checked", app: dbApp(withService(corev1.ServiceTypeNodePort)), allowed: internal,
			message: "spec.service.type: Service type NodePort is not allowed in this cluster (allowed: ClusterIP)"},
		{name: "a LoadBalancer refused", app: webApp(withService(corev1.ServiceTypeLoadBalancer)),
			allowed: []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort},
			message: "spec.service.type: Service type LoadBalancer is not allowed in this cluster (allowed: ClusterIP, NodePort)"},
		{name: "a ClusterIP refused where only LoadBalancers are allowed", app: webApp(),
			allowed: []corev1.ServiceType{corev1.ServiceTypeLoadBalancer},
			message: "spec.service.type: Service type ClusterIP is not allowed in this cluster (allowed: LoadBalancer)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, message, failed := ServiceTypeCheck(Options{AllowedServiceTypes: tc.allowed})(tc.app)
			assertEqual(t, "failed", failed, !tc.ok)
			assertEqual(t, "message", message, tc.message)
			wantReason := ""
			if !tc.ok {
				wantReason = appsv1alpha1.ReasonInvalidSpec
			}
			assertEqual(t, "reason", reason, wantReason)
		})
	}
}

func TestParseServiceTypes(t *testing.T) {
	tests := []struct {
		in      string
		want    []corev1.ServiceType
		wantErr string
	}{
		{in: "ClusterIP,NodePort,LoadBalancer", want: DefaultAllowedServiceTypes},
		{in: "ClusterIP", want: []corev1.ServiceType{corev1.ServiceTypeClusterIP}},
		{in: " ClusterIP , LoadBalancer ", want: []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeLoadBalancer}},
		{in: "", wantErr: `service type "": must be one of ClusterIP, NodePort, LoadBalancer`},
		{in: "ClusterIP,", wantErr: `service type "": must be one of`},
		{in: "clusterip", wantErr: `service type "clusterip": must be one of`},
		{in: "ExternalName", wantErr: `service type "ExternalName": must be one of`},
		{in: "NodePort,NodePort", wantErr: "service type NodePort is listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseServiceTypes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseServiceTypes(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseServiceTypes(%q): %v", tc.in, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ParseServiceTypes(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
