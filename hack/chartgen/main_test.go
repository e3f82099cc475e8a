package main

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const deploymentYAML = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ha-operator-controller-manager
  namespace: ha-operator-system
  labels: {app.kubernetes.io/name: ha-operator, app.kubernetes.io/managed-by: kustomize}
spec:
  replicas: 1
  template:
    metadata:
      labels: {app.kubernetes.io/name: ha-operator}
    spec:
      serviceAccountName: ha-operator-controller-manager
      containers:
      - name: manager
        image: controller:latest
        args: [--metrics-bind-address=:8443, --leader-elect, --health-probe-bind-address=:8081]
        resources: {limits: {memory: 256Mi}}
`

func parse(t *testing.T, text string) object {
	t.Helper()
	var o object
	if err := yaml.Unmarshal([]byte(text), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestGenerateDeployment(t *testing.T) {
	files, err := generate([]object{parse(t, deploymentYAML)}, nil, "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	deployment := files["templates/deployment-controller-manager.yaml"]
	for _, want := range []string{
		`name: {{ include "ha-operator.fullname" . }}-controller-manager`,
		`namespace: {{ .Release.Namespace }}`,
		`serviceAccountName: {{ include "ha-operator.fullname" . }}-controller-manager`,
		`replicas: {{ .Values.replicas }}`,
		`image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"`,
		"- --health-probe-bind-address=:8081",
		"{{- if .Values.leaderElection.enabled }}",
		"{{- toYaml .Values.resources | nindent 10 }}",
	} {
		if !strings.Contains(deployment, want) {
			t.Errorf("the Deployment's template lacks %q:\n%s", want, deployment)
		}
	}
	if strings.Contains(deployment, "kustomize") || strings.Contains(deployment, "ha-operator-system") {
		t.Errorf("the Deployment's template keeps config/default's namespace or managed-by:\n%s", deployment)
	}
	values := files["values.yaml"]
	for _, want := range []string{
		"repository: controller\n", "tag: latest\n", "replicas: 1\n", "memory: 256Mi", "port: 8443\n",
	} {
		if !strings.Contains(values, want) {
			t.Errorf("values.yaml lacks %q:\n%s", want, values)
		}
	}
	if !strings.Contains(files["Chart.yaml"], "version: 1.2.3") {
		t.Errorf("Chart.yaml:\n%s", files["Chart.yaml"])
	}
}

func TestGenerateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"an image without a tag", "image: controller:latest", "image: controller", "has no tag"},
		{"no metrics endpoint", "--metrics-bind-address=:8443, ", "", "serves no metrics"},
		{"no manager container", "name: manager", "name: other", "no container named manager"},
		{"a metrics port that is not a number", ":8443", ":https", "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(deploymentYAML, tc.from, tc.to, 1)
			_, err := generate([]object{parse(t, in)}, nil, "0.1.0")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := generate(nil, nil, "0.1.0"); err == nil || !strings.Contains(err.Error(), "no Deployment") {
		t.Errorf("without a Deployment: error %v", err)
	}
}

func TestPrometheusTemplatesAreEscaped(t *testing.T) {
	rule := parse(t, `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: controller-manager-alerts, namespace: system}
spec:
  groups:
  - name: g
    rules:
    - alert: A
      expr: up == 0
      annotations: {summary: '{{ $labels.namespace }} is down'}
`)
	files, err := generate([]object{parse(t, deploymentYAML)}, []object{rule}, "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	got := files["templates/prometheusrule-controller-manager-alerts.yaml"]
	for _, want := range []string{
		"{{- if .Values.prometheusRule.enabled }}",
		`{{ "{{" }} $labels.namespace {{ "}}" }} is down`,
		`name: {{ include "ha-operator.fullname" . }}-controller-manager-alerts`,
		"namespace: {{ .Release.Namespace }}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the PrometheusRule's template lacks %q:\n%s", want, got)
		}
	}
}
