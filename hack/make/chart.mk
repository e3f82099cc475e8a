##@ Helm chart and alerts

CHART_DIR = charts/ha-operator
CHART_VERSION ?= 0.1.0

.PHONY: chart
chart: manifests kustomize ## Generate the Helm chart charts/ha-operator from config/ (hack/chartgen).
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	"$(KUSTOMIZE)" build config/default > "$$tmp/default.yaml"; \
	"$(KUSTOMIZE)" build config/prometheus > "$$tmp/prometheus.yaml"; \
	"$(KUSTOMIZE)" build config/karmada > "$$tmp/karmada.yaml"; \
	go run ./hack/chartgen -default "$$tmp/default.yaml" -prometheus "$$tmp/prometheus.yaml" \
		-karmada "$$tmp/karmada.yaml" -version $(CHART_VERSION) -out $(CHART_DIR)

.PHONY: test-chart
test-chart: chart controlplane $(LOCALBIN)/kwok $(HELM) ## Test the chart: helm lint, server-side dry-run, install, uninstall keeping the apps' claims.
	go build -o "$(LOCALBIN)/manager" ./cmd
	HELM="$(HELM)" CLUSTER_NAME=$${CLUSTER_NAME:-chart} "$(CURDIR)/hack/cluster/chart-test.sh"

.PHONY: test-rules
test-rules: $(PROMTOOL) ## Unit-test the alerts of config/prometheus with promtool.
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	go run ./hack/rulefile -in config/prometheus/prometheusrule.yaml -out "$$tmp/rules.yaml"; \
	cp config/prometheus/rules_test.yaml "$$tmp/"; \
	"$(PROMTOOL)" check rules "$$tmp/rules.yaml"; \
	"$(PROMTOOL)" test rules "$$tmp/rules_test.yaml"
