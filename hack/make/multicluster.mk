##@ Multi-cluster (Karmada)

## Karmada's control plane, built from the module that hack/karmada/go.mod pins, at Karmada's own
## Kubernetes libraries (not the project's). One go build makes the five binaries, so that they share
## their compilation; they are rebuilt only when one is missing or when that go.mod changes. Karmada's
## CRDs and webhook configuration are read from the same module (hack/multicluster/karmada.sh).
KARMADA_VERSION := $(shell awk '$$1 == "require" && $$2 == "github.com/karmada-io/karmada" {print $$3}' hack/karmada/go.mod)
KARMADA_COMMANDS = aggregated-apiserver controller-manager scheduler webhook
KARMADA_BINARIES = $(addprefix $(LOCALBIN)/karmada-,$(KARMADA_COMMANDS)) $(LOCALBIN)/karmadactl
# What Karmada's hack/build.sh stamps (util::version_ldflags), but the commit and the build date: a
# module has no git checkout, and a date would make every build differ.
KARMADA_LDFLAGS = -s -w -X github.com/karmada-io/karmada/pkg/version.gitVersion=$(KARMADA_VERSION) \
  -X github.com/karmada-io/karmada/pkg/version.gitTreeState=clean

.PHONY: karmada
karmada: $(KARMADA_BINARIES) ## Build Karmada's aggregated API server, controller manager, scheduler, webhook and karmadactl into bin/ (16.5 CPU-minutes from an empty build cache: about 10 minutes on 2 idle cores).

# A grouped target: one recipe makes them all. go build names each binary after its package's
# directory, so they are built into a directory of their own and renamed as Karmada names them.
$(KARMADA_BINARIES) &: hack/karmada/go.mod | $(LOCALBIN)
	@echo "Building Karmada $(KARMADA_VERSION) from source (karmada-aggregated-apiserver, karmada-controller-manager, karmada-scheduler, karmada-webhook, karmadactl)..."
	@tmp="$$(mktemp -d "$(LOCALBIN)/.karmada-build.XXXXXX")" && trap 'rm -rf "$$tmp"' EXIT && \
	cd hack/karmada && go build -trimpath -ldflags "$(KARMADA_LDFLAGS)" -o "$$tmp/" \
		$(addprefix github.com/karmada-io/karmada/cmd/,$(KARMADA_COMMANDS) karmadactl) && \
	for c in $(KARMADA_COMMANDS); do mv "$$tmp/$$c" "$(LOCALBIN)/karmada-$$c"; done && \
	mv "$$tmp/karmadactl" "$(LOCALBIN)/karmadactl"

## The local multi-cluster: a Karmada control plane without pods and two member clusters that run the
## operator (hack/multicluster/multicluster.sh; state, logs and kubeconfigs in .cluster/MC_NAME-*).
.PHONY: test-multicluster
test-multicluster: manifests controlplane $(LOCALBIN)/kwok karmada ## Run the multi-cluster suite (test/multicluster): Karmada and two member clusters, a member lost; prints the failover table.
	go build -o "$(MANAGER_BIN)" ./cmd
	MC_NAME=$${MC_NAME:-mc} MANAGER_BIN="$(MANAGER_BIN)" "$(CURDIR)/hack/multicluster/test.sh"

.PHONY: demo-multicluster
demo-multicluster: manifests controlplane $(LOCALBIN)/kwok karmada ## Start Karmada and two member clusters running the operator, apply a sample app divided between them.
	go build -o "$(MANAGER_BIN)" ./cmd
	MC_NAME=mcdemo MANAGER_BIN="$(MANAGER_BIN)" "$(CURDIR)/hack/multicluster/demo.sh" up

.PHONY: demo-multicluster-down
demo-multicluster-down: ## Stop everything that make demo-multicluster started.
	MC_NAME=mcdemo "$(CURDIR)/hack/multicluster/demo.sh" down

# The suite's files carry the build tag multicluster, which the main golangci-lint run leaves out.
.PHONY: lint-multicluster
lint-multicluster: golangci-lint ## Run golangci-lint on test/multicluster (build tag multicluster).
	"$(GOLANGCI_LINT)" run --build-tags multicluster ./test/multicluster/...
