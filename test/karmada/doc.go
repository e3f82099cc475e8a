// Package karmada tests config/karmada, the ResourceInterpreterCustomization that tells Karmada what a
// HighlyAvailableApp means, through Karmada's own declarative interpreter (v1.18.2): every operation
// runs on app objects as Karmada would hand them over, and on member statuses that the operator's own
// status computation (internal/status) produces. The aggregated status is then read the way its
// users read it: validated against the CRD's structural schema, by kstatus (Flux, kubectl wait), by
// the Argo CD health script of config/argocd, and by internal/status.PhaseOf.
//
// It is a Go module of its own so that the main module's go.mod stays free of Karmada; it reaches the
// main module's internal packages through a replace directive (make test-karmada-interpreter).
package karmada
