##@ kubectl plugin release

## The plugin's archives for krew (dist/kubectl-haapp_<os>_<arch>.tar.gz: the binary and LICENSE) and
## the krew manifest that names them with their sha256 (plugins/haapp.yaml). The archives are
## reproducible (no VCS stamp, no paths, fixed owners, times and order), so one source and one Go give
## the same sha256 anywhere. The sha256 follows every change to the plugin's code or dependencies: a
## release runs make build and commits plugins/haapp.yaml with the archives it publishes.
## PLUGIN_PLATFORMS="linux/amd64 darwin/arm64 ..." builds and lists more platforms.
PLUGIN_VERSION ?= v0.1.0
PLUGIN_PLATFORMS ?= linux/amd64
PLUGIN_DIST = dist

.PHONY: plugin-archives
plugin-archives: ## Build the kubectl plugin's archives for $(PLUGIN_PLATFORMS) into dist/.
	@set -e; for platform in $(PLUGIN_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; \
		dir="$(PLUGIN_DIST)/kubectl-haapp_$${os}_$${arch}"; \
		rm -rf "$$dir"; mkdir -p "$$dir"; \
		echo "building kubectl-haapp for $$platform"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -buildvcs=false -ldflags "-s -w" \
			-o "$$dir/kubectl-haapp$$([ "$$os" = windows ] && echo .exe)" ./cmd/kubectl-haapp; \
		cp LICENSE "$$dir/"; \
		chmod 0755 "$$dir"/kubectl-haapp*; chmod 0644 "$$dir/LICENSE"; \
		tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$$dir" -cf - $$(ls "$$dir") | \
			gzip -n -9 > "$$dir.tar.gz"; \
		rm -rf "$$dir"; \
	done

.PHONY: plugin-manifest
plugin-manifest: plugin-archives ## Write plugins/haapp.yaml, the krew manifest, with the sha256 of the archives just built.
	go run ./hack/krew-manifest -version $(PLUGIN_VERSION) -dist $(PLUGIN_DIST) -out plugins/haapp.yaml $(PLUGIN_PLATFORMS)
