// Package gitops holds the tests that prove what GitOps tools read from a HighlyAvailableApp: the Argo
// CD health script shipped in config/argocd, run in the Lua interpreter Argo CD embeds, and kstatus,
// the library Flux uses, run on the objects the operator writes.
package gitops
