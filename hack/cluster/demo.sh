#!/usr/bin/env bash
# demo.sh brings up the demo: the local cluster (cluster.sh), the CRD, the operator running as a
# local process against the cluster, and the samples of config/samples, Ready. `make demo` runs
# "demo.sh up" after building bin/manager; `make demo-down` runs "demo.sh down".
#
# Usage: hack/cluster/demo.sh up|down
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CLUSTER_NAME=${CLUSTER_NAME:-demo}
CLUSTER=$ROOT/hack/cluster/cluster.sh
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster/$CLUSTER_NAME}
export CLUSTER_DIR
KUBECTL=${KUBECTL:-kubectl}
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
READY_TIMEOUT=${READY_TIMEOUT:-180s}

up() {
	"$CLUSTER" up >/dev/null
	echo "Installing the CRD..."
	# Server-side: the CRD (a whole pod template) is too large for client-side apply's annotation.
	"$KUBECTL" apply --server-side --force-conflicts -f "$ROOT/config/crd/bases" >/dev/null
	local i
	for ((i = 0; i < 150; i++)); do
		[[ $("$KUBECTL" get crd highlyavailableapps.apps.haoperator.dev \
			-o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null) == True ]] && break
		sleep 0.2
	done
	# A new bin/manager replaces the one a previous `make demo` left running.
	"$CLUSTER" operator-stop 2>/dev/null
	"$CLUSTER" operator-start
	echo "Applying config/samples..."
	"$KUBECTL" apply -k "$ROOT/config/samples"
	echo "Waiting for the samples to be Ready (up to $READY_TIMEOUT)..."
	if ! "$KUBECTL" wait --for condition=Ready --timeout "$READY_TIMEOUT" haapp/nginx haapp/cassandra haapp/pi haapp/weave-net; then
		"$KUBECTL" get haapp,pods -o wide
		echo "The samples did not become Ready; the operator's log: $CLUSTER_DIR/logs/operator.log" >&2
		exit 1
	fi
	echo
	"$KUBECTL" get haapp
	echo
	"$KUBECTL" get pods -o wide -L topology.kubernetes.io/zone
	cat <<EOF

The demo is running: a local cluster of $("$KUBECTL" get nodes --no-headers | wc -l) kwok nodes in 3 zones, and the operator
(log: $CLUSTER_DIR/logs/operator.log). Try:

  export KUBECONFIG=$KUBECONFIG
  kubectl get haapp -w         # in a second terminal

  # An update: capacity never drops below 3 ready pods.
  kubectl patch haapp nginx --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.9.1"}]'

  # A bad image (the tag 1.91 does not exist): rolled back by itself, the app Stalled, its spec untouched.
  kubectl patch haapp nginx --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.91"}]'
  kubectl describe haapp nginx

  # A zone outage: zone-b's nodes stop heartbeating; pods move to the other zones.
  hack/cluster/cluster.sh zone-down zone-b     # and later: hack/cluster/cluster.sh zone-up zone-b

  make demo-down               # stops everything
EOF
}

down() {
	"$CLUSTER" down
	# Nothing of the demo may survive it.
	local left
	left=$(pgrep -af -- "$CLUSTER_DIR" || true)
	if [[ -n $left ]]; then
		echo "still running after demo-down:" >&2
		echo "$left" >&2
		exit 1
	fi
	echo "The demo is stopped: no process of $CLUSTER_DIR is left."
}

case ${1:-} in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
