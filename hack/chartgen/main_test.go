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
	files, err := generate([]object{parse(t, deploymentYAML)}, nil, nil, "1.2.3")
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
			_, err := generate([]object{parse(t, in)}, nil, nil, "0.1.0")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := generate(nil, nil, nil, "0.1.0"); err == nil || !strings.Contains(err.Error(), "no Deployment") {
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
	files, err := generate([]object{parse(t, deploymentYAML)}, []object{rule}, nil, "0.1.0")
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

const crdYAML = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: highlyavailableapps.apps.haoperator.dev
  annotations: {controller-gen.kubebuilder.io/version: v0.22.0}
spec:
  group: apps.haoperator.dev
`

const customizationYAML = `
apiVersion: config.karmada.io/v1alpha1
kind: ResourceInterpreterCustomization
metadata:
  name: highlyavailableapps.apps.haoperator.dev
  labels: {app.kubernetes.io/name: ha-operator, app.kubernetes.io/component: karmada-interpreter}
spec:
  target: {apiVersion: apps.haoperator.dev/v1alpha1, kind: HighlyAvailableApp}
  customizations:
    statusAggregation:
      luaScript: |
        function AggregateStatus(desiredObj, statusItems)
          local nested = {{}}
          return desiredObj
        end
`

// The chart installs the CRD and, on their own switches, the operator and the Karmada customization:
// operator.enabled=false with karmada.interpreter.enabled=true is what a Karmada control plane takes.
func TestGenerateKarmadaInterpreter(t *testing.T) {
	files, err := generate([]object{parse(t, crdYAML), parse(t, deploymentYAML)}, nil,
		[]object{parse(t, customizationYAML)}, "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	customization := files["templates/resourceinterpretercustomization-highlyavailableapps-apps-haoperator-dev.yaml"]
	for _, want := range []string{
		"{{- if .Values.karmada.interpreter.enabled }}\n",
		// Cluster-scoped, with the name Karmada's users look for: not the release's.
		"  name: highlyavailableapps.apps.haoperator.dev\n",
		"app.kubernetes.io/component: karmada-interpreter",
		`{{- include "ha-operator.labels" . | nindent 4 }}`,
		"function AggregateStatus(desiredObj, statusItems)",
		// Lua's braces are not Helm's.
		`local nested = {{ "{{" }}{{ "}}" }}`,
	} {
		if !strings.Contains(customization, want) {
			t.Errorf("the customization's template lacks %q:\n%s", want, customization)
		}
	}
	if strings.Contains(customization, ".Values.operator.enabled") {
		t.Errorf("the customization depends on operator.enabled: a Karmada control plane runs no operator:\n%s",
			customization)
	}
	crd := files["templates/customresourcedefinition-highlyavailableapps-apps-haoperator-dev.yaml"]
	if !strings.HasPrefix(crd, "{{- if .Values.crds.install }}\n") || strings.Contains(crd, ".Values.operator.enabled") {
		t.Errorf("the CRD should depend on crds.install alone:\n%s", crd)
	}
	if deployment := files["templates/deployment-controller-manager.yaml"]; !strings.HasPrefix(deployment,
		"{{- if .Values.operator.enabled }}\n") {
		t.Errorf("the Deployment does not depend on operator.enabled:\n%s", deployment)
	}
	values := files["values.yaml"]
	for _, want := range []string{
		"operator:\n  # ", "  enabled: true\n\nkarmada:\n  interpreter:\n", "    enabled: false\n",
	} {
		if !strings.Contains(values, want) {
			t.Errorf("values.yaml lacks %q:\n%s", want, values)
		}
	}
	const karmadaInstall = "--set operator.enabled=false --set karmada.interpreter.enabled=true"
	if readme := files["README.md"]; !strings.Contains(readme, karmadaInstall) {
		t.Errorf("README.md does not say how to install on a Karmada control plane:\n%s", readme)
	}
}

func TestGenerateOperatorToggle(t *testing.T) {
	rule := parse(t, `
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: controller-manager-alerts, namespace: system}
spec: {groups: []}
`)
	files, err := generate([]object{parse(t, crdYAML), parse(t, deploymentYAML)}, []object{rule}, nil, "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if !strings.HasPrefix(name, "templates/") || !strings.HasSuffix(name, ".yaml") ||
			strings.Contains(name, "customresourcedefinition") {
			continue
		}
		if !strings.HasPrefix(text, "{{- if .Values.operator.enabled }}\n") || !strings.HasSuffix(text, "{{- end }}\n") {
			t.Errorf("%s is not installed with operator.enabled alone:\n%s", name, text)
		}
	}
	if rule := files["templates/prometheusrule-controller-manager-alerts.yaml"]; !strings.Contains(rule,
		"{{- if .Values.operator.enabled }}\n{{- if .Values.prometheusRule.enabled }}\n") {
		t.Errorf("the PrometheusRule needs both operator.enabled and prometheusRule.enabled:\n%s", rule)
	}
}

func TestGenerateRefusesOtherKarmadaObjects(t *testing.T) {
	policy := parse(t, `
apiVersion: policy.karmada.io/v1alpha1
kind: PropagationPolicy
metadata: {name: web}
`)
	_, err := generate([]object{parse(t, deploymentYAML)}, nil, []object{policy}, "0.1.0")
	if err == nil || !strings.Contains(err.Error(), "config/karmada: unexpected PropagationPolicy web") {
		t.Errorf("error %v, want one naming the PropagationPolicy", err)
	}
}
