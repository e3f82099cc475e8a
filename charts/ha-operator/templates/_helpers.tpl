{{/* Generated from config/ by hack/chartgen (make chart). */}}

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
