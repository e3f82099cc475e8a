//go:build tools

// Package helm records the helm command, which lints, renders and installs the chart in
// charts/ha-operator; the module pins its version.
package helm

import _ "helm.sh/helm/v3/cmd/helm"
