//go:build tools

// Package kwok only records the kwok command, so that `go mod tidy` keeps its dependencies.
package kwok

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
