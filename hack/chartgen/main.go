// Command chartgen writes the Helm chart charts/ha-operator from config/, so that kustomize's
// config/default stays the one source of truth for what the operator installs. It reads the
// rendered config/default (the CRD, RBAC, the manager Deployment and its metrics Service),
// config/prometheus (the ServiceMonitor and the PrometheusRule), config/karmada (the
// ResourceInterpreterCustomization for a Karmada control plane), and turns the parts a Helm user
// sets into values: the image, replicas, resources, leader election, metrics (secure or not, a
// ServiceMonitor), the manager's extra flags, whether the CRDs are installed and kept, whether the
// operator is installed at all, and whether the Karmada customization is.
//
// Usage: go run ./hack/chartgen -default default.yaml -prometheus prometheus.yaml -karmada karmada.yaml
// -out charts/ha-operator, where the inputs are `kustomize build config/default`, `kustomize build
// config/prometheus` and `kustomize build config/karmada` (`make chart` runs it).
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const (
	chartName = "ha-operator"
	// namePrefix and namespace are what config/default/kustomization.yaml sets; the chart replaces
	// them with the release's full name and namespace.
	namePrefix = chartName + "-"
	namespace  = chartName + "-system"

	fullnameToken  = "__FULLNAME__"
	namespaceToken = "__NAMESPACE__"
	blockToken     = "__BLOCK__"
)

// The manager flags the chart sets from values; every other flag in config/ is kept as it is.
const (
	flagLeaderElect = "--leader-elect"
	flagMetricsAddr = "--metrics-bind-address"
	flagMetricsSec  = "--metrics-secure"
)

// The toggles of what the chart installs besides the CRD.
const (
	operatorToggle = "{{- if .Values.operator.enabled }}"
	karmadaToggle  = "{{- if .Values.karmada.interpreter.enabled }}"
)

// readme is the chart's README.md.
//
//go:embed chart-readme.md
var readme string

func main() {
	defaultPath := flag.String("default", "", "kustomize build config/default")
	prometheusPath := flag.String("prometheus", "", "kustomize build config/prometheus")
	karmadaPath := flag.String("karmada", "", "kustomize build config/karmada")
	out := flag.String("out", "", "the chart's directory, rewritten")
	version := flag.String("version", "0.1.0", "the chart's version and appVersion")
	flag.Parse()
	if *defaultPath == "" || *prometheusPath == "" || *karmadaPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "chartgen: -default, -prometheus, -karmada and -out are required")
		os.Exit(2)
	}
	if err := run(*defaultPath, *prometheusPath, *karmadaPath, *out, *version); err != nil {
		fmt.Fprintf(os.Stderr, "chartgen: %v\n", err)
		os.Exit(1)
	}
}

func run(defaultPath, prometheusPath, karmadaPath, out, version string) error {
	objs, err := readObjects(defaultPath)
	if err != nil {
		return err
	}
	monitoring, err := readObjects(prometheusPath)
	if err != nil {
		return err
	}
	karmada, err := readObjects(karmadaPath)
	if err != nil {
		return err
	}
	files, err := generate(objs, monitoring, karmada, version)
	if err != nil {
		return err
	}
	// The chart is rewritten whole, so that a file whose object left config/ does not linger.
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for _, name := range sortedKeys(files) {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// object is one Kubernetes object as generic YAML.
type object map[string]any

func (o object) kind() string { return str(o["kind"]) }

func (o object) name() string { return str(mapAt(o, "metadata")["name"]) }

func readObjects(path string) ([]object, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []object
	for {
		var o object
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
}

// addKarmada adds config/karmada's customization, installed only with karmada.interpreter.enabled.
func addKarmada(files map[string]string, karmada []object, names map[string]bool) error {
	for _, o := range karmada {
		if o.kind() != "ResourceInterpreterCustomization" {
			return fmt.Errorf("config/karmada: unexpected %s %s", o.kind(), o.name())
		}
		text, err := template(o, names)
		if err != nil {
			return err
		}
		files[fileName(o)] = wrap(karmadaToggle, text)
	}
	return nil
}

// generate returns the chart's files by path. Everything but the CRD belongs to the operator and is
// installed with operator.enabled; the Karmada customization only with karmada.interpreter.enabled.
func generate(objs, monitoring, karmada []object, version string) (map[string]string, error) {
	// Every name that config/default prefixed is a name the chart derives from the release.
	names := map[string]bool{}
	for _, o := range append(slices.Clone(objs), monitoring...) {
		if strings.HasPrefix(o.name(), namePrefix) {
			names[o.name()] = true
		}
	}
	files := map[string]string{
		"Chart.yaml":             chartYAML(version),
		"templates/_helpers.tpl": helpers,
		"templates/NOTES.txt":    notes,
		"README.md":              readme,
	}
	var deployment object
	for _, o := range objs {
		switch o.kind() {
		case "Namespace":
			// Helm installs into the release's namespace (helm install --create-namespace).
			continue
		case "Deployment":
			deployment = o
		}
	}
	if deployment == nil {
		return nil, errors.New("config/default renders no Deployment")
	}
	values, err := deploymentValues(deployment)
	if err != nil {
		return nil, err
	}
	files["values.yaml"] = values.yaml()

	for _, o := range objs {
		if o.kind() == "Namespace" {
			continue
		}
		file := fileName(o)
		text, err := template(o, names)
		if err != nil {
			return nil, err
		}
		switch {
		case o.kind() == "CustomResourceDefinition":
			files[file] = wrap("{{- if .Values.crds.install }}", text)
			continue
		case o.kind() == "Service" && strings.HasSuffix(o.name(), "metrics-service"):
			text = wrap("{{- if .Values.metrics.enabled }}", text)
		case strings.Contains(o.name(), "leader-election"):
			text = wrap("{{- if .Values.leaderElection.enabled }}", text)
		}
		files[file] = wrap(operatorToggle, text)
	}
	for _, o := range monitoring {
		var toggle string
		switch o.kind() {
		case "ServiceMonitor":
			toggle = "{{- if .Values.metrics.serviceMonitor.enabled }}"
		case "PrometheusRule":
			toggle = "{{- if .Values.prometheusRule.enabled }}"
		default:
			return nil, fmt.Errorf("config/prometheus: unexpected %s %s", o.kind(), o.name())
		}
		// config/prometheus is not prefixed: its objects take the release's name too.
		meta := mapAt(o, "metadata")
		meta["name"] = namePrefix + o.name()
		meta["namespace"] = namespace
		names[meta["name"].(string)] = true
		file := fileName(o)
		text, err := template(o, names)
		if err != nil {
			return nil, err
		}
		files[file] = wrap(operatorToggle, wrap(toggle, text))
	}
	if err := addKarmada(files, karmada, names); err != nil {
		return nil, err
	}
	return files, nil
}

func fileName(o object) string {
	name := strings.TrimPrefix(o.name(), namePrefix)
	return "templates/" + strings.ToLower(o.kind()) + "-" + strings.ReplaceAll(name, ".", "-") + ".yaml"
}

func wrap(open, text string) string {
	return open + "\n" + text + "{{- end }}\n"
}

// values are the chart's defaults, as config/ sets them.
type values struct {
	repository, tag, pullPolicy string
	replicas                    int64
	resources                   any
	leaderElection              bool
	metricsEnabled              bool
	metricsPort                 int
	metricsSecure               bool
}

func deploymentValues(d object) (values, error) {
	v := values{replicas: 1, pullPolicy: "IfNotPresent", metricsSecure: true}
	if r, ok := mapAt(d, "spec")["replicas"].(float64); ok {
		v.replicas = int64(r)
	}
	c, err := managerContainer(d)
	if err != nil {
		return v, err
	}
	image := str(c["image"])
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return v, fmt.Errorf("manager image %q has no tag", image)
	}
	v.repository, v.tag = image[:i], image[i+1:]
	if p := str(c["imagePullPolicy"]); p != "" {
		v.pullPolicy = p
	}
	v.resources = c["resources"]
	for _, a := range stringList(c["args"]) {
		flagName, value, _ := strings.Cut(a, "=")
		switch flagName {
		case flagLeaderElect:
			v.leaderElection = value == "" || value == "true"
		case flagMetricsAddr:
			_, port, ok := strings.Cut(value, ":")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(port)
			if err != nil {
				return v, fmt.Errorf("manager arg %s: port %q: %w", a, port, err)
			}
			v.metricsEnabled, v.metricsPort = true, n
		case flagMetricsSec:
			v.metricsSecure = value != "false"
		}
	}
	if !v.metricsEnabled {
		return v, fmt.Errorf("the manager in config/default serves no metrics (%s=:PORT)", flagMetricsAddr)
	}
	return v, nil
}

func (v values) yaml() string {
	resources, err := yaml.Marshal(v.resources)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(`# Default values for the ha-operator chart. Generated from config/ by hack/chartgen (make chart):
# change config/ or hack/chartgen, not this file.

# nameOverride replaces the chart's name in the objects' names; fullnameOverride replaces the whole
# prefix (by default the release's name, with "-ha-operator" unless it already contains it).
nameOverride: ""
fullnameOverride: ""

image:
  repository: %s
  # tag defaults to the chart's appVersion when empty.
  tag: %s
  pullPolicy: %s

# replicas of the manager. More than one needs leaderElection.enabled: the others are standbys.
replicas: %d

# resources of the manager's container. Memory holds the informer caches of the apps and of the kinds
# they own: raise the limit for clusters with thousands of apps.
resources:
%s
leaderElection:
  # enabled passes --leader-elect: one replica works, the others wait for its lease.
  enabled: %t

metrics:
  # enabled serves the metrics (internal/metrics and controller-runtime's) on port, behind a Service.
  enabled: %t
  port: %d
  # secure serves HTTPS behind Kubernetes authentication and authorization (--metrics-secure); the
  # scraper needs a token allowed to get /metrics (the ClusterRole <fullname>-metrics-reader).
  secure: %t
  serviceMonitor:
    # enabled creates a ServiceMonitor (needs the Prometheus Operator's CRDs).
    enabled: false

prometheusRule:
  # enabled creates the PrometheusRule of config/prometheus: the alerts of docs/troubleshooting.md
  # (needs the Prometheus Operator's CRDs).
  enabled: false

manager:
  # extraArgs are passed to the manager after the flags the chart sets, e.g.
  # ["--cluster-domain=cluster.example", "--zap-log-level=debug"] (run the manager with --help for all).
  extraArgs: []

crds:
  # install installs the HighlyAvailableApp CRD with the chart.
  install: true
  # keep leaves the CRD in place on helm uninstall. Deleting the CRD deletes every app; keep it unless
  # that is what you want.
  keep: true

operator:
  # enabled installs the operator: its Deployment, ServiceAccount, RBAC, metrics Service and, when
  # enabled above, the ServiceMonitor and PrometheusRule. false installs only the CRD (crds.install)
  # and what karmada.interpreter.enabled adds: what a Karmada control plane needs, where the apps are
  # templates that Karmada propagates to member clusters and no operator runs.
  enabled: true

karmada:
  interpreter:
    # enabled installs the ResourceInterpreterCustomization of config/karmada, which tells Karmada how
    # to divide an app between member clusters, what each member keeps, how their statuses add up and
    # when a member's copy is healthy (docs/multicluster-interpreter.md). Install it on the Karmada
    # control plane (its API server serves config.karmada.io), with operator.enabled=false.
    enabled: false
`, v.repository, v.tag, v.pullPolicy, v.replicas, indent(string(resources), "  "),
		v.leaderElection, v.metricsEnabled, v.metricsPort, v.metricsSecure)
}

func managerContainer(d object) (map[string]any, error) {
	containers, _ := mapAt(d, "spec", "template", "spec")["containers"].([]any)
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == "manager" {
			return m, nil
		}
	}
	return nil, errors.New("the Deployment has no container named manager")
}

// template turns one object into a Helm template: names and namespace from the release, the labels
// Helm sets, and for the manager Deployment and the metrics Service and ServiceMonitor the fields
// the values set.
func template(o object, names map[string]bool) (string, error) {
	blocks := map[string]string{}
	meta := mapAt(o, "metadata")
	if labels, ok := meta["labels"].(map[string]any); ok {
		delete(labels, "app.kubernetes.io/managed-by")
		meta["labels"] = blockToken + "labels"
		blocks["labels"] = labelsBlock(labels)
	}
	switch o.kind() {
	case "CustomResourceDefinition":
		annotations, _ := meta["annotations"].(map[string]any)
		meta["annotations"] = blockToken + "crd-annotations"
		blocks["crd-annotations"] = crdAnnotationsBlock(annotations)
	case "Deployment":
		if err := templateDeployment(o, blocks); err != nil {
			return "", err
		}
	case "Service":
		if strings.HasSuffix(o.name(), "metrics-service") {
			ports, _ := mapAt(o, "spec")["ports"].([]any)
			if len(ports) != 1 {
				return "", fmt.Errorf("service %s: want one port, got %d", o.name(), len(ports))
			}
			mapAt(o, "spec")["ports"] = blockToken + "metrics-ports"
			blocks["metrics-ports"] = metricsPortsBlock
		}
	case "ServiceMonitor":
		endpoints, _ := mapAt(o, "spec")["endpoints"].([]any)
		if len(endpoints) != 1 {
			return "", fmt.Errorf("servicemonitor %s: want one endpoint, got %d", o.name(), len(endpoints))
		}
		mapAt(o, "spec")["endpoints"] = blockToken + "monitor-endpoints"
		blocks["monitor-endpoints"] = monitorEndpointsBlock
	}
	replaceStrings(o, names)
	data, err := yaml.Marshal(map[string]any(o))
	if err != nil {
		return "", err
	}
	// Helm would read the braces of Prometheus's own templates ({{ $value }}) as its own.
	text := strings.NewReplacer("{{", "\x00open", "}}", "\x00close").Replace(string(data))
	text = strings.NewReplacer("\x00open", `{{ "{{" }}`, "\x00close", `{{ "}}" }}`).Replace(text)
	text = strings.ReplaceAll(text, fullnameToken, `{{ include "ha-operator.fullname" . }}`)
	text = strings.ReplaceAll(text, namespaceToken, "{{ .Release.Namespace }}")
	return expandBlocks(text, blocks)
}

func templateDeployment(d object, blocks map[string]string) error {
	spec := mapAt(d, "spec")
	spec["replicas"] = blockToken + "replicas"
	blocks["replicas"] = "{{ .Values.replicas }}"
	podMeta := mapAt(spec, "template", "metadata")
	if labels, ok := podMeta["labels"].(map[string]any); ok {
		delete(labels, "app.kubernetes.io/managed-by")
		podMeta["labels"] = blockToken + "pod-labels"
		blocks["pod-labels"] = labelsBlock(labels)
	}
	c, err := managerContainer(d)
	if err != nil {
		return err
	}
	c["image"] = blockToken + "image"
	blocks["image"] = `"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"`
	c["imagePullPolicy"] = blockToken + "pull-policy"
	blocks["pull-policy"] = "{{ .Values.image.pullPolicy }}"
	c["resources"] = blockToken + "resources"
	blocks["resources"] = "\n{{- toYaml .Values.resources | nindent INDENT }}"

	var fixed []string
	for _, a := range stringList(c["args"]) {
		flagName, _, _ := strings.Cut(a, "=")
		if flagName != flagLeaderElect && flagName != flagMetricsAddr && flagName != flagMetricsSec {
			fixed = append(fixed, a)
		}
	}
	c["args"] = blockToken + "args"
	blocks["args"] = argsBlock(fixed)
	if ports, ok := c["ports"].([]any); ok {
		c["ports"] = blockToken + "container-ports"
		blocks["container-ports"] = containerPortsBlock(ports)
	}
	return nil
}

// replaceStrings walks the object and replaces config/default's prefixed names and namespace with
// tokens for the release's.
func replaceStrings(v any, names map[string]bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = replaceStrings(e, names)
		}
		return t
	case object:
		for k, e := range t {
			t[k] = replaceStrings(e, names)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = replaceStrings(e, names)
		}
		return t
	case string:
		if t == namespace {
			return namespaceToken
		}
		if names[t] {
			return fullnameToken + "-" + strings.TrimPrefix(t, namePrefix)
		}
		return t
	}
	return v
}

var blockLine = regexp.MustCompile(`(?m)^( *)(- )?([A-Za-z]+): ` + blockToken + `([a-z-]+)$`)

// expandBlocks replaces each "key: __BLOCK__name" line with the block's template, indented to
// the key's depth.
func expandBlocks(text string, blocks map[string]string) (string, error) {
	var missing []string
	text = blockLine.ReplaceAllStringFunc(text, func(line string) string {
		m := blockLine.FindStringSubmatch(line)
		indent, dash, key, name := m[1], m[2], m[3], m[4]
		block, ok := blocks[name]
		if !ok {
			missing = append(missing, name)
			return line
		}
		depth := len(indent) + len(dash) + 2
		head := indent + dash + key + ":"
		if !strings.Contains(block, "\n") {
			return head + " " + block
		}
		block = strings.ReplaceAll(block, "INDENT", strconv.Itoa(depth))
		var b strings.Builder
		b.WriteString(head)
		for l := range strings.SplitSeq(block, "\n") {
			if l == "" {
				continue
			}
			b.WriteString("\n")
			if strings.HasPrefix(l, "{{") {
				b.WriteString(l)
			} else {
				b.WriteString(strings.Repeat(" ", depth) + l)
			}
		}
		return b.String()
	})
	if strings.Contains(text, blockToken) || len(missing) > 0 {
		return "", fmt.Errorf("unexpanded template blocks %v in:\n%s", missing, text)
	}
	return text, nil
}

func labelsBlock(labels map[string]any) string {
	var b strings.Builder
	b.WriteString("\n")
	for _, k := range sortedKeys(labels) {
		fmt.Fprintf(&b, "%s: %s\n", k, str(labels[k]))
	}
	b.WriteString(`{{- include "ha-operator.labels" . | nindent INDENT }}` + "\n")
	return b.String()
}

func crdAnnotationsBlock(annotations map[string]any) string {
	var b strings.Builder
	b.WriteString("\n")
	for _, k := range sortedKeys(annotations) {
		fmt.Fprintf(&b, "%s: %s\n", k, strconv.Quote(str(annotations[k])))
	}
	b.WriteString("{{- if .Values.crds.keep }}\n")
	b.WriteString("helm.sh/resource-policy: keep\n")
	b.WriteString("{{- end }}\n")
	return b.String()
}

func argsBlock(fixed []string) string {
	var b strings.Builder
	b.WriteString("\n")
	b.WriteString("{{- if .Values.leaderElection.enabled }}\n- " + flagLeaderElect + "\n{{- end }}\n")
	for _, a := range fixed {
		fmt.Fprintf(&b, "- %s\n", a)
	}
	b.WriteString("{{- if .Values.metrics.enabled }}\n")
	b.WriteString("- " + flagMetricsAddr + "=:{{ .Values.metrics.port }}\n")
	b.WriteString("- " + flagMetricsSec + "={{ .Values.metrics.secure }}\n")
	b.WriteString("{{- else }}\n- " + flagMetricsAddr + "=0\n{{- end }}\n")
	b.WriteString("{{- range .Values.manager.extraArgs }}\n- {{ . | quote }}\n{{- end }}\n")
	return b.String()
}

// containerPortsBlock keeps config/'s ports (the health probes) and adds the metrics port.
func containerPortsBlock(ports []any) string {
	data, err := yaml.Marshal(ports)
	if err != nil {
		panic(err)
	}
	return "\n" + string(data) + `{{- if .Values.metrics.enabled }}
- containerPort: {{ .Values.metrics.port }}
  name: metrics
  protocol: TCP
{{- end }}
`
}

const metricsPortsBlock = `
- name: {{ ternary "https" "http" .Values.metrics.secure }}
  port: {{ .Values.metrics.port }}
  protocol: TCP
  targetPort: {{ .Values.metrics.port }}
`

const monitorEndpointsBlock = `
{{- if not .Values.metrics.enabled }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled: true" }}
{{- end }}
- path: /metrics
  port: {{ ternary "https" "http" .Values.metrics.secure }}
  scheme: {{ ternary "https" "http" .Values.metrics.secure }}
{{- if .Values.metrics.secure }}
  bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  tlsConfig:
    # The manager serves a self-signed certificate unless given one (--metrics-cert-path).
    insecureSkipVerify: true
{{- end }}
`

func chartYAML(version string) string {
	return fmt.Sprintf(`# Generated from config/ by hack/chartgen (make chart): change config/ or hack/chartgen,
# not this file.
apiVersion: v2
name: %s
description: >-
  ha-operator turns one HighlyAvailableApp into a highly available workload, rolls failed updates
  back by itself and reports how available the app really is.
type: application
version: %s
appVersion: %q
`, chartName, version, version)
}

const helpers = `{{/* Generated from config/ by hack/chartgen (make chart). */}}

{{/* ha-operator.name is the chart's name, or nameOverride. */}}
{{- define "ha-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
ha-operator.fullname prefixes every object's name: fullnameOverride, else the release's name when it
contains the chart's name, else both. It is cut at 40 characters so that the longest suffix
(-controller-manager-metrics-service) still fits in the 63 of a Service's name.
*/}}
{{- define "ha-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := include "ha-operator.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* ha-operator.labels are the labels Helm adds to every object. */}}
{{- define "ha-operator.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 needs leaderElection.enabled: true (the replicas would reconcile the same apps at once)" }}
{{- end }}
{{- end }}
`

const notes = `{{/* Generated from config/ by hack/chartgen (make chart). */}}
{{- if .Values.operator.enabled }}
ha-operator is installed in namespace {{ .Release.Namespace }}.

Check it:
  kubectl -n {{ .Release.Namespace }} get deployment {{ include "ha-operator.fullname" . }}-controller-manager
  kubectl get crd highlyavailableapps.apps.haoperator.dev

Create an app: see config/samples in the project, then
  kubectl get haapp -A
{{- else }}
The operator is not installed (operator.enabled=false).
{{- end }}
{{- if .Values.karmada.interpreter.enabled }}

Karmada's ResourceInterpreterCustomization for HighlyAvailableApp is installed. Propagate apps to the
member clusters with a PropagationPolicy (samples in config/karmada/samples of the project), then
  kubectl haapp get <app>     # each member cluster's share
{{- end }}
{{- if .Values.crds.keep }}

helm uninstall leaves the CRD, and so every app and its claims, in place.
{{- end }}
`

func mapAt(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	return cur
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, str(e))
	}
	return out
}

func indent(text, prefix string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
