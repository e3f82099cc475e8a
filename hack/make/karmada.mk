##@ Karmada interpreter customization

## test/karmada runs config/karmada's ResourceInterpreterCustomization through Karmada's own
## interpreter (github.com/karmada-io/karmada v1.18.2). It is a Go module of its own, so that the
## project's go.mod stays free of Karmada; it reaches internal/ through a replace directive.
## Compiling it took 18 minutes from an empty build cache and 7 with the main module's packages
## already built (2 cores, shared with other builds); later runs start in seconds.
KARMADA_TEST_DIR = test/karmada

.PHONY: test-karmada-interpreter
test-karmada-interpreter: manifests ## Run the Karmada interpreter customization's tests (test/karmada, through Karmada's own Lua interpreter).
	cd $(KARMADA_TEST_DIR) && go test ./... -count=1

.PHONY: lint-karmada-interpreter
lint-karmada-interpreter: golangci-lint ## Run golangci-lint on test/karmada (a module of its own, which the main run does not reach).
	cd $(KARMADA_TEST_DIR) && "$(GOLANGCI_LINT)" run --config "$(CURDIR)/.golangci.yml"
