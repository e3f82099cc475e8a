## Tools built from the Go modules that pin them (hack/<tool>/go.mod), each under a versioned name in
## bin/ so that a version change rebuilds it.

# The versions are read from the go.mod files, whose single require line names the tool's module.
HELM_VERSION := $(shell awk '$$1 == "require" && $$2 == "helm.sh/helm/v3" {print $$3}' hack/helm/go.mod)
HELM = $(LOCALBIN)/helm-$(HELM_VERSION)
PROMTOOL_VERSION := $(shell awk '$$1 == "require" && $$2 == "github.com/prometheus/prometheus" {print $$3}' hack/promtool/go.mod)
PROMTOOL = $(LOCALBIN)/promtool-$(PROMTOOL_VERSION)

.PHONY: helm
helm: $(HELM) ## Build helm from hack/helm (about 3 minutes on 2 cores from an empty build cache).
$(HELM): hack/helm/go.mod | $(LOCALBIN)
	cd hack/helm && go build -trimpath -ldflags "-s -w" -o "$@" helm.sh/helm/v3/cmd/helm

# promtool only tests rules here: remove_all_sd leaves out Prometheus's service discovery plugins
# (cloud SDKs, a fifth of its packages) and so a fifth of the build.
.PHONY: promtool
promtool: $(PROMTOOL) ## Build promtool from hack/promtool.
$(PROMTOOL): hack/promtool/go.mod | $(LOCALBIN)
	cd hack/promtool && go build -trimpath -tags remove_all_sd -ldflags "-s -w" -o "$@" \
		github.com/prometheus/prometheus/cmd/promtool
