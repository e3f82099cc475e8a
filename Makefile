# Image URL to use all building/pushing image targets
IMG ?= controller:latest
# YEAR defines the year value used for substituting the YEAR placeholder in the boilerplate header.
YEAR ?= $(shell date +%Y)

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
# Be aware that the target commands are only tested with Docker which is
# scaffolded by default. However, you might want to replace it to use other
# tools. (i.e. podman)
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'. The awk command is responsible for reading the
# entire set of makefiles included in this invocation, looking for lines of the
# file as xyz: ## something, and then pretty-format the target and help. Then,
# if there's a line with ##@ something, that gets pretty-printed as a category.
# More info on the usage of ANSI control characters for terminal formatting:
# https://en.wikipedia.org/wiki/ANSI_escape_code#SGR_parameters
# More info on the awk command:
# http://linuxcommand.org/lc3_adv_awk.php

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate WebhookConfiguration, ClusterRole and CustomResourceDefinition objects.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd:generateEmbeddedObjectMeta=true paths="./api/...;./internal/..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate code containing DeepCopy, DeepCopyInto, and DeepCopyObject method implementations.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt",year=$(YEAR) paths="./api/..."

.PHONY: docs
docs: manifests ## Generate the API reference docs/api.md from the CRD.
	go run ./hack/crd-docs -crd config/crd/bases/apps.haoperator.dev_highlyavailableapps.yaml -out docs/api.md

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: test
test: test-unit test-karmada-interpreter fuzz test-rules test-chart test-e2e test-traffic test-multicluster ## Run every test: unit and envtest suites, the Karmada interpreter customization, the fuzz targets briefly, the alerts, the Helm chart, the end-to-end suite on a local cluster, the traffic scenarios on real nodes, the multi-cluster suite (Karmada and two member clusters).

.PHONY: test-unit
test-unit: manifests generate fmt vet envtest-assets ## Run the unit and envtest suites (a real kube-apiserver and etcd, built from source).
	KUBEBUILDER_ASSETS="$(LOCALBIN)" go test $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out

# Each fuzz target of these packages runs for FUZZTIME (a count of inputs: a duration can end while an
# input runs, which go test reports as a failure); FUZZFLAGS adds go test flags (-parallel 1).
FUZZ_PACKAGES ?= ./internal/workload ./internal/decide ./internal/advice
FUZZTIME ?= 1000x
FUZZFLAGS ?=

.PHONY: fuzz
fuzz: ## Run each fuzz target (func FuzzXxx) of FUZZ_PACKAGES for FUZZTIME (1000 inputs); a failing input is saved under the package's testdata/fuzz.
	@for pkg in $(FUZZ_PACKAGES); do \
		targets=$$(go test -list '^Fuzz' "$$pkg" | grep '^Fuzz') || { echo "no fuzz target in $$pkg" >&2; exit 1; }; \
		for target in $$targets; do \
			echo "fuzzing $$pkg $$target for $(FUZZTIME)"; \
			go test "$$pkg" -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) || exit 1; \
		done; \
	done

.PHONY: lint
lint: golangci-lint shellcheck lint-karmada-interpreter lint-multicluster ## Run golangci-lint (on test/karmada and test/multicluster too), and shellcheck on hack/ and .ci/
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration
	"$(GOLANGCI_LINT)" config verify

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager and the kubectl plugin (bin/), the plugin's krew archives (dist/) and manifest (plugins/haapp.yaml).
	go build -o bin/manager ./cmd
	go build -o bin/kubectl-haapp ./cmd/kubectl-haapp
	$(MAKE) --no-print-directory plugin-manifest

.PHONY: run
run: manifests generate fmt vet ## Run the operator from your host against the current kubeconfig's cluster.
	go run ./cmd

# If you wish to build the manager image targeting other platforms you can use the --platform flag.
# (i.e. docker build --platform linux/arm64). However, you must enable docker buildKit for it.
# More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# Override BASE_IMAGE to build from another registry, e.g.
# make docker-build IMG=<img> BASE_IMAGE=docker.io/library/golang:1.26
.PHONY: docker-build
docker-build: ## Build docker image with the manager.
	$(CONTAINER_TOOL) build $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

# PLATFORMS defines the target platforms for the manager image be built to provide support to multiple
# architectures. (i.e. make docker-buildx IMG=myregistry/mypoperator:0.0.1). To use this option you need to:
# - be able to use docker buildx. More info: https://docs.docker.com/build/buildx/
# - have enabled BuildKit. More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# - be able to push the image to your registry (i.e. if you do not set a valid value via IMG=<myregistry/image:<tag>> then the export will fail)
# To adequately provide solutions that are compatible with multiple platforms, you should consider using this option.
PLATFORMS ?= linux/arm64,linux/amd64,linux/s390x,linux/ppc64le
.PHONY: docker-buildx
docker-buildx: ## Build and push docker image for the manager for cross-platform support
	# copy existing Dockerfile and insert --platform=${BUILDPLATFORM} into Dockerfile.cross, and preserve the original Dockerfile
	sed -e '1 s/\(^FROM\)/FROM --platform=\$$\{BUILDPLATFORM\}/; t' -e ' 1,// s//FROM --platform=\$$\{BUILDPLATFORM\}/' Dockerfile > Dockerfile.cross
	- $(CONTAINER_TOOL) buildx create --name ha-operator-builder
	$(CONTAINER_TOOL) buildx use ha-operator-builder
	- $(CONTAINER_TOOL) buildx build --push --platform=$(PLATFORMS) $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) --tag ${IMG} -f Dockerfile.cross .
	- $(CONTAINER_TOOL) buildx rm ha-operator-builder
	rm Dockerfile.cross

# render-default prints config/default (CRD, RBAC, manager, metrics Service) with the manager image set
# to $(IMG). It edits a copy of config/, so building an installer leaves no tracked file changed.
define render-default
tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
cp -R config "$$tmp/config"; \
(cd "$$tmp/config/manager" && "$(KUSTOMIZE)" edit set image controller=$(IMG)); \
"$(KUSTOMIZE)" build "$$tmp/config/default"
endef

.PHONY: build-installer
build-installer: manifests generate kustomize ## Write dist/install.yaml, one file that installs the CRD and the operator (IMG=<image>).
	mkdir -p dist
	$(render-default) > dist/install.yaml
	@echo "Wrote dist/install.yaml for image $(IMG); install it with: kubectl apply --server-side -f dist/install.yaml"

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

# Server-side apply: the CRD is too large for client-side apply, whose last-applied-configuration
# annotation would exceed the 256 KiB limit on annotations. --force-conflicts lets this apply take over
# fields last set by an earlier client-side apply of the same manifests.
APPLY = "$(KUBECTL)" apply --server-side --force-conflicts

.PHONY: install
install: manifests kustomize ## Install the CRD into the cluster of the current kubeconfig.
	"$(KUSTOMIZE)" build config/crd | $(APPLY) -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall the CRD (and so every HighlyAvailableApp) from the cluster. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build config/crd | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the CRD and the operator (image IMG=<image>) to the cluster of the current kubeconfig.
	$(render-default) | $(APPLY) -f -

.PHONY: undeploy
undeploy: kustomize ## Undeploy the operator and the CRD from the cluster. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build config/default | "$(KUBECTL)" delete --ignore-not-found=$(ignore-not-found) -f -

##@ Local cluster

## A simulated 3-zone cluster on loopback, without containers: etcd and the control plane built from
## source, kwok playing the nodes (hack/cluster/cluster.sh; state, logs and kubeconfig in .cluster/NAME).
CLUSTER_SH = $(CURDIR)/hack/cluster/cluster.sh
# Targets are expanded when read, before the Dependencies section sets LOCALBIN the same way.
LOCALBIN ?= $(shell pwd)/bin

$(LOCALBIN)/kwok: hack/kwok/go.mod | $(LOCALBIN)
	@echo "Building kwok from source..."
	cd hack/kwok && go build -trimpath -ldflags "-s -w" -o "$@" sigs.k8s.io/kwok/cmd/kwok

.PHONY: cluster-up
cluster-up: controlplane $(LOCALBIN)/kwok ## Start the local cluster: 6 kwok nodes in 3 zones (CLUSTER_NAME=demo by default).
	"$(CLUSTER_SH)" up

.PHONY: cluster-down
cluster-down: ## Stop the local cluster (CLUSTER_NAME=demo by default) and the operator running against it.
	"$(CLUSTER_SH)" down

# The manager binary the local cluster runs; MANAGER_BIN=<path> builds and runs another copy.
MANAGER_BIN ?= $(LOCALBIN)/manager

.PHONY: demo
demo: ## Start the local cluster, install the CRD, run the operator, apply config/samples and wait for them.
	@"$(CURDIR)/hack/build-progress.sh" \
		"$(CONTROLLER_GEN)|controller-gen (the CRD's generator)|2" \
		"$(LOCALBIN)/kube-apiserver|kube-apiserver, kube-controller-manager and kube-scheduler (one build)|14" \
		"$(LOCALBIN)/etcd|etcd|1" \
		"$(LOCALBIN)/kwok|kwok|2"
	@$(MAKE) --no-print-directory -s manifests
	@echo "building the operator (bin/manager)..."
	@go build -o "$(MANAGER_BIN)" ./cmd
	CLUSTER_NAME=demo MANAGER_BIN="$(MANAGER_BIN)" "$(CURDIR)/hack/cluster/demo.sh" up

.PHONY: demo-down
demo-down: ## Stop everything that make demo started.
	CLUSTER_NAME=demo "$(CURDIR)/hack/cluster/demo.sh" down

## The operator's previous release, which the e2e scenario operator-upgrade replaces with this one over
## running apps: built from the repository's history (git archive) at PREVIOUS_RELEASE.
PREVIOUS_RELEASE ?= e3dca3d
PREVIOUS_MANAGER_BIN ?= $(LOCALBIN)/manager-$(PREVIOUS_RELEASE)
$(LOCALBIN)/manager-%: | $(LOCALBIN)
	@echo "Building the operator of $* (the previous release) from the repository's history..."
	@git cat-file -e "$*^{commit}" 2>/dev/null || { echo "commit $* is not in this clone's history (a shallow clone? git fetch --unshallow)" >&2; exit 1; }
	tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	git archive --format=tar "$*" | tar -x -C "$$tmp" && \
	cd "$$tmp" && go build -o "$@" ./cmd

.PHONY: test-e2e
test-e2e: manifests controlplane $(LOCALBIN)/kwok $(PREVIOUS_MANAGER_BIN) ## Run the end-to-end suite (test/e2e) on its own local cluster, started and stopped around it.
	go build -o "$(MANAGER_BIN)" ./cmd
	CLUSTER_NAME=$${CLUSTER_NAME:-e2e} MANAGER_BIN="$(MANAGER_BIN)" PREVIOUS_MANAGER_BIN="$(PREVIOUS_MANAGER_BIN)" "$(CURDIR)/hack/cluster/e2e.sh"

# The drills alone (label chaos: the operator killed, the API server stopped, two operators at once...);
# test-e2e runs them with the rest.
.PHONY: test-e2e-chaos
test-e2e-chaos: manifests controlplane $(LOCALBIN)/kwok ## Run the drills of the end-to-end suite (label chaos) on a local cluster of their own.
	go build -o "$(MANAGER_BIN)" ./cmd
	CLUSTER_NAME=$${CLUSTER_NAME:-chaos} MANAGER_BIN="$(MANAGER_BIN)" E2E_LABEL_FILTER=chaos "$(CURDIR)/hack/cluster/e2e.sh"

# make bench N=200: the apps; BENCH_MANAGER: the operator binary to measure (default bin/manager, built
# here); BENCH_ARGS: more flags (go run ./test/bench -h). The figures go to bench.json.
# ARGO_ROLLOUTS_BIN=bin/rollouts-controller adds the Argo Rollouts column (built here when it names that
# binary); the bench takes the Rollout CRD from the module that hack/argo-rollouts pins.
# BENCH_ARGS="-phases soak" runs the soak alone (30 minutes of churn; -soak-duration, -soak-rate).
N ?= 200
BENCH_MANAGER ?=
BENCH_ARGS ?=
ARGO_ROLLOUTS_BIN ?=

.PHONY: bench
bench: manifests controlplane $(LOCALBIN)/kwok ## Measure the operator against the floor, each phase on a fresh local cluster (N=200 apps; ARGO_ROLLOUTS_BIN=bin/rollouts-controller adds Argo Rollouts).
ifeq ($(BENCH_MANAGER),)
	go build -o "$(LOCALBIN)/manager" ./cmd
endif
ifneq ($(filter bin/rollouts-controller $(LOCALBIN)/rollouts-controller,$(ARGO_ROLLOUTS_BIN)),)
	$(MAKE) --no-print-directory argo-rollouts
endif
	ARGO_ROLLOUTS_BIN="$(ARGO_ROLLOUTS_BIN)" go run ./test/bench -n $(N) \
		-manager "$(or $(BENCH_MANAGER),$(LOCALBIN)/manager)" -out bench.json $(BENCH_ARGS)

## Argo Rollouts' controller, built from the module that hack/argo-rollouts/go.mod pins, for the
## benchmark's Argo Rollouts column; rebuilt only when missing or when that go.mod changes.
ARGO_ROLLOUTS_VERSION := $(shell awk '$$1 == "require" && $$2 == "github.com/argoproj/argo-rollouts" {print $$3}' hack/argo-rollouts/go.mod)

.PHONY: argo-rollouts
argo-rollouts: $(LOCALBIN)/rollouts-controller ## Build Argo Rollouts' rollouts-controller into bin/ (about 4 minutes on 2 cores from a cold build cache).
$(LOCALBIN)/rollouts-controller: hack/argo-rollouts/go.mod | $(LOCALBIN)
	@echo "Building rollouts-controller $(ARGO_ROLLOUTS_VERSION) from source..."
	cd hack/argo-rollouts && go build -trimpath \
		-ldflags "-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=$(ARGO_ROLLOUTS_VERSION:v%=%)" \
		-o "$@" github.com/argoproj/argo-rollouts/cmd/rollouts-controller

## The traffic scenarios need real nodes: bin/kubelet and bin/kube-proxy, and Debian's containerd, runc,
## CNI plugins and iptables (installed when missing). MANAGER_BIN is the operator binary they run.
MANAGER_BIN ?= $(LOCALBIN)/manager
TRAFFIC_LABELS ?= traffic

.PHONY: test-traffic
test-traffic: manifests controlplane $(LOCALBIN)/kwok $(LOCALBIN)/kubelet $(LOCALBIN)/kube-proxy ## Run the traffic scenarios on a local cluster with real nodes and print the side-by-side table (root).
	"$(CURDIR)/hack/realnodes/install-packages.sh"
	go build -o "$(MANAGER_BIN)" ./cmd
	MANAGER_BIN="$(MANAGER_BIN)" TRAFFIC_LABELS="$(TRAFFIC_LABELS)" "$(CURDIR)/hack/cluster/traffic.sh"

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
# MANAGER_BIN is where demo and test-e2e build the operator that the local cluster runs.
MANAGER_BIN ?= $(LOCALBIN)/manager
KUBECTL ?= kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.1
CONTROLLER_TOOLS_VERSION ?= v0.22.0

GOLANGCI_LINT_VERSION ?= v2.15.0
.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

## The control plane, built from source: setup-envtest cannot download here, and the same binaries run
## the local cluster. Each is rebuilt only when missing or when its pinning go.mod changes.
KUBE_VERSION = $(shell cd hack/controlplane && go list -m -f '{{.Version}}' k8s.io/kubernetes)
KUBE_LDFLAGS = -s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))) \
  -X k8s.io/component-base/version.gitTreeState=clean

.PHONY: envtest-assets
envtest-assets: $(LOCALBIN)/kube-apiserver $(LOCALBIN)/etcd ## Build kube-apiserver and etcd for envtest (KUBEBUILDER_ASSETS=bin).

.PHONY: controlplane
controlplane: $(LOCALBIN)/kube-apiserver $(LOCALBIN)/kube-controller-manager $(LOCALBIN)/kube-scheduler $(LOCALBIN)/etcd ## Build every control-plane binary.

# One go build for the three: they share most of their packages, which are then compiled once.
CONTROLPLANE_COMMANDS = kube-apiserver kube-controller-manager kube-scheduler
$(addprefix $(LOCALBIN)/,$(CONTROLPLANE_COMMANDS)) &: hack/controlplane/go.mod | $(LOCALBIN)
	@echo "Building kube-apiserver, kube-controller-manager and kube-scheduler $(KUBE_VERSION) from source..."
	@tmp="$$(mktemp -d "$(LOCALBIN)/.controlplane-build.XXXXXX")" && trap 'rm -rf "$$tmp"' EXIT && \
	cd hack/controlplane && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o "$$tmp/" \
		$(addprefix k8s.io/kubernetes/cmd/,$(CONTROLPLANE_COMMANDS)) && \
	for c in $(CONTROLPLANE_COMMANDS); do mv "$$tmp/$$c" "$(LOCALBIN)/$$c"; done

# kubectl is on the machines the project targets; this builds the pinned one where it is missing.
$(LOCALBIN)/kubectl: hack/controlplane/go.mod | $(LOCALBIN)
	cd hack/controlplane && go build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o "$@" k8s.io/kubernetes/cmd/kubectl

## The node binaries of the local cluster's real nodes, from the same pinned Kubernetes. The control
## plane's go.mod does not list the packages only they import (netlink, ipvs, nftables...), so they are
## built against a copy of it that `go get` completes (-modfile); hack/controlplane/go.mod is untouched.
$(LOCALBIN)/kubelet $(LOCALBIN)/kube-proxy: $(LOCALBIN)/%: hack/controlplane/go.mod | $(LOCALBIN)
	@echo "Building $* $(KUBE_VERSION) from source (a few minutes on 2 cores with a cold build cache)..."
	cd hack/controlplane && tmp="$$(mktemp -d)" && trap 'rm -rf "$$tmp"' EXIT && \
	cp go.mod "$$tmp/node.mod" && cp go.sum "$$tmp/node.sum" && \
	go get -modfile="$$tmp/node.mod" k8s.io/kubernetes/cmd/$*@$(KUBE_VERSION) && \
	go build -modfile="$$tmp/node.mod" -trimpath -ldflags "$(KUBE_LDFLAGS)" -o "$@.tmp" k8s.io/kubernetes/cmd/$* && \
	mv "$@.tmp" "$@"

.PHONY: node-binaries
node-binaries: $(LOCALBIN)/kubelet $(LOCALBIN)/kube-proxy ## Build kubelet and kube-proxy for the local cluster's real nodes.

$(LOCALBIN)/etcd: hack/etcd/go.mod | $(LOCALBIN)
	@echo "Building etcd from source..."
	cd hack/etcd && go build -trimpath -ldflags "-s -w" -o "$@" go.etcd.io/etcd/server/v3

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef

# Tools pinned by a Go module under hack/, make verify, the Helm chart and the alerts' tests, the
# kubectl plugin's krew archives, Karmada (the interpreter's tests, the control plane) and the local
# multi-cluster.
include hack/make/tools.mk hack/make/verify.mk hack/make/chart.mk hack/make/plugin.mk hack/make/karmada.mk \
	hack/make/multicluster.mk
