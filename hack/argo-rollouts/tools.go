//go:build tools

// Package argorollouts only records the Argo Rollouts controller command, so that `go mod tidy` keeps
// its dependencies.
package argorollouts

import (
	_ "github.com/argoproj/argo-rollouts/cmd/rollouts-controller"
)
