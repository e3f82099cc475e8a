##@ Verify

## What the generators write, all of it tracked: make verify regenerates it and fails on any
## difference, so that a changed type, marker, health script or config/ cannot land without its
## generated files.
GENERATED_PATHS = api config docs charts

# The deep copies carry the year they were first generated in; regenerate with that year, not today's.
GENERATED_YEAR = $(shell sed -n 's/^Copyright \([0-9]\{4\}\)\.$$/\1/p' api/v1alpha1/zz_generated.deepcopy.go)

.PHONY: verify
verify: ## Regenerate the CRD, RBAC, deep copies, docs/api.md, the Argo CD patch and the chart; fail if anything changed.
	$(MAKE) --no-print-directory manifests generate docs argocd-patch chart YEAR=$(GENERATED_YEAR)
	@if ! git --no-pager diff --exit-code -- $(GENERATED_PATHS); then \
		echo "make verify: generated files are out of date (diff above): run make manifests generate docs argocd-patch chart and commit the result" >&2; \
		exit 1; \
	fi
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED_PATHS)); \
	if [ -n "$$untracked" ]; then \
		echo "make verify: generated files are not tracked (git add them):" >&2; \
		echo "$$untracked" >&2; \
		exit 1; \
	fi
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then \
		echo "make verify: not gofmt-ed: $$unformatted" >&2; \
		exit 1; \
	fi
	go mod tidy -diff
	cd $(KARMADA_TEST_DIR) && go mod tidy -diff

.PHONY: argocd-patch
argocd-patch: ## Regenerate config/argocd/argocd-cm-patch.yaml from config/argocd/health.lua.
	go test ./test/gitops -run '^TestArgoCDConfigMapPatch$$' -count=1 -update

SHELL_SCRIPTS = $(shell find hack .ci -type f \( -name '*.sh' -o -path .ci/run \) | sort)

.PHONY: shellcheck
shellcheck: ## Run shellcheck on the scripts in hack/ and .ci/ (Debian package shellcheck).
	@command -v shellcheck >/dev/null || { echo "shellcheck is missing: apt-get install shellcheck" >&2; exit 1; }
	shellcheck --external-sources $(SHELL_SCRIPTS)
