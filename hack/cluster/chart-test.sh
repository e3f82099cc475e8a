#!/usr/bin/env bash
# chart-test.sh tests the Helm chart charts/ha-operator: helm lint (and refusals of bad values), then
# on a local cluster of its own (CLUSTER_NAME=chart by default): the rendered chart passes the API
# server's server-side dry run, helm install runs the manager on a kwok node under the "restricted"
# Pod Security Standard with the CRD established, and helm uninstall leaves the apps and their claims;
# with operator.enabled=false and karmada.interpreter.enabled=true it renders the CRD and the Karmada
# customization alone (what a Karmada control plane takes).
# `make test-chart` generates the chart, builds helm, bin/manager and the cluster's binaries, then
# runs this.
#
# Settings (environment): HELM (the helm binary, required); KEEP_CLUSTER=1 leaves the cluster running.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CLUSTER_NAME=${CLUSTER_NAME:-chart}
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster/$CLUSTER_NAME}
CLUSTER=$ROOT/hack/cluster/cluster.sh
HELM=${HELM:?HELM must name the helm binary (make test-chart builds it)}
CHART=$ROOT/charts/ha-operator
RELEASE=ha-operator
NAMESPACE=ha-operator-system
APPS=chart-test
CRD=highlyavailableapps.apps.haoperator.dev

step() { printf '\n=== %s\n' "$*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)) && [[ -e $CLUSTER_DIR/kubeconfig ]]; then
		echo "===== the chart test failed (exit $rc): logs of the operator and of the cluster =====" >&2
		"$CLUSTER" logs 80 >&2 || true
	fi
	if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
		echo "KEEP_CLUSTER=1: the cluster is left running ($CLUSTER down stops it)" >&2
	else
		"$CLUSTER" down >/dev/null || true
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

step "helm lint"
"$HELM" lint --strict "$CHART"
"$HELM" lint --strict "$CHART" --set replicas=2 --set metrics.secure=false \
	--set metrics.serviceMonitor.enabled=true --set prometheusRule.enabled=true \
	--set 'manager.extraArgs={--zap-log-level=debug}'

step "bad values are refused, naming the value"
refused() {
	local want=$1
	shift
	local out
	if out=$("$HELM" template "$RELEASE" "$CHART" "$@" 2>&1); then
		fail "helm template $* succeeded"
	fi
	grep -qF -- "$want" <<<"$out" || fail "helm template $*: the error does not name $want: $out"
}
refused leaderElection.enabled --set replicas=2 --set leaderElection.enabled=false
refused metrics.enabled --set metrics.enabled=false --set metrics.serviceMonitor.enabled=true

step "the rendered chart: values reach the manager"
rendered=$("$HELM" template "$RELEASE" "$CHART" -n "$NAMESPACE" --set image.repository=registry.example/ha-operator \
	--set image.tag=v9 --set replicas=2 --set metrics.secure=false --set 'manager.extraArgs={--zap-log-level=debug}' \
	--set metrics.serviceMonitor.enabled=true --set prometheusRule.enabled=true --set crds.install=false)
# shellcheck disable=SC2016 # Prometheus's template, not the shell's
for want in 'image: "registry.example/ha-operator:v9"' 'replicas: 2' '- --leader-elect' '- --metrics-secure=false' \
	'- "--zap-log-level=debug"' 'kind: ServiceMonitor' 'kind: PrometheusRule' '{{ $value }} HighlyAvailableApp(s)'; do
	grep -qF -- "$want" <<<"$rendered" || fail "helm template lacks: $want"
done
if grep -q 'kind: CustomResourceDefinition' <<<"$rendered"; then
	fail "crds.install=false still renders the CRD"
fi
if grep -q 'kind: ResourceInterpreterCustomization' <<<"$rendered"; then
	fail "the Karmada customization is rendered without karmada.interpreter.enabled"
fi

step "for a Karmada control plane: the CRD and the interpreter customization, nothing else"
"$HELM" lint --strict "$CHART" --set operator.enabled=false --set karmada.interpreter.enabled=true
karmada=$("$HELM" template "$RELEASE" "$CHART" -n "$NAMESPACE" --set operator.enabled=false \
	--set karmada.interpreter.enabled=true --set metrics.serviceMonitor.enabled=true --set prometheusRule.enabled=true)
kinds=$(sed -n 's/^kind: //p' <<<"$karmada" | sort | paste -sd' ')
[[ $kinds == "CustomResourceDefinition ResourceInterpreterCustomization" ]] ||
	fail "operator.enabled=false karmada.interpreter.enabled=true renders: $kinds"
grep -qF 'function AggregateStatus(desiredObj, statusItems)' <<<"$karmada" || fail "the customization lost its Lua scripts"

step "start the cluster"
"$CLUSTER" up >/dev/null
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
# The namespace enforces the "restricted" Pod Security Standard, as config/manager's does: the
# manager's pod must meet it or it is not created.
kubectl create namespace "$NAMESPACE"
kubectl label namespace "$NAMESPACE" pod-security.kubernetes.io/enforce=restricted

step "server-side dry run of the rendered chart"
"$HELM" template "$RELEASE" "$CHART" -n "$NAMESPACE" | kubectl apply --server-side --dry-run=server -f -
"$HELM" template "$RELEASE" "$CHART" -n "$NAMESPACE" --set metrics.enabled=false --set replicas=1 --set leaderElection.enabled=false |
	kubectl apply --server-side --dry-run=server -f -

step "helm install"
"$HELM" install "$RELEASE" "$CHART" -n "$NAMESPACE" --wait --timeout 2m
kubectl wait --for=condition=Established "crd/$CRD" --timeout=60s
node=$(kubectl -n "$NAMESPACE" get pods -l control-plane=controller-manager -o jsonpath='{.items[0].spec.nodeName}')
[[ -n $node ]] || fail "the manager's pod is not scheduled"
[[ $(kubectl get node "$node" -o jsonpath='{.metadata.annotations.kwok\.x-k8s\.io/node}') == fake ]] ||
	fail "the manager's pod runs on $node, not a kwok node"
echo "the manager's pod runs on kwok node $node"

step "a Stateful app with storage, reconciled by the operator"
# The manager pod on a kwok node runs no container: the operator runs as a local process instead.
"$CLUSTER" operator-start >/dev/null
kubectl create namespace "$APPS"
kubectl apply -n "$APPS" -f - <<'EOF'
apiVersion: apps.haoperator.dev/v1alpha1
kind: HighlyAvailableApp
metadata:
  name: db
spec:
  type: Stateful
  replicas: 3
  template:
    spec:
      containers:
      - name: db
        image: postgres:17
  storage:
  - name: data
    mountPath: /var/lib/postgresql/data
    size: 1Gi
EOF
kubectl wait -n "$APPS" --for=condition=Ready haapp/db --timeout=120s
kubectl wait -n "$APPS" --for=jsonpath='{.status.phase}'=Bound pvc --all --timeout=60s
claims=$(kubectl get pvc -n "$APPS" -o name | sort)
[[ $(wc -l <<<"$claims") == 3 ]] || fail "want 3 claims, got: $claims"

step "helm uninstall keeps the CRD, the apps and their claims"
"$HELM" uninstall "$RELEASE" -n "$NAMESPACE" --wait --timeout 2m
if kubectl -n "$NAMESPACE" get deployment -l control-plane=controller-manager -o name | grep -q .; then
	fail "the manager's Deployment survived helm uninstall"
fi
kubectl get "crd/$CRD" >/dev/null || fail "helm uninstall deleted the CRD"
kubectl get -n "$APPS" haapp/db >/dev/null || fail "helm uninstall deleted the app"
# A claim being deleted still lists, with its deletionTimestamp after the name.
after=$(kubectl get pvc -n "$APPS" \
	-o jsonpath='{range .items[*]}persistentvolumeclaim/{.metadata.name} {.metadata.deletionTimestamp}{"\n"}{end}' |
	sed 's/ *$//' | sort)
[[ $after == "$claims" ]] || fail "claims before helm uninstall:
$claims
and after (with the time of their deletion, if any):
$after"
echo "every claim survived helm uninstall:"
echo "$claims"
