//go:build tools

// Package promtool records the promtool command, which unit-tests the alerts of
// config/prometheus; the module pins its version.
package promtool

import _ "github.com/prometheus/prometheus/cmd/promtool"
