#!/usr/bin/env bash
# demo.sh brings up the multi-cluster demo: Karmada and two member clusters running the operator
# (multicluster.sh, MC_NAME=mcdemo), and the samples of config/samples on Karmada with the
# PropagationPolicies of config/karmada/samples (nginx divided between the members, cassandra whole
# in member1, pi and weave-net in both), Ready. `make demo-multicluster` runs "demo.sh up" after
# building bin/manager and Karmada; `make demo-multicluster-down` runs "demo.sh down".
#
# Usage: hack/multicluster/demo.sh up|down
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MC_NAME=${MC_NAME:-mcdemo}
MULTICLUSTER=$ROOT/hack/multicluster/multicluster.sh
KUBECTL=${KUBECTL:-kubectl}
READY_TIMEOUT=${READY_TIMEOUT:-180s}

up() {
	"$MULTICLUSTER" up >/dev/null
	eval "$("$MULTICLUSTER" env)"
	export KUBECONFIG MEMBER1_KUBECONFIG MEMBER2_KUBECONFIG
	echo "Applying config/samples and their PropagationPolicies (config/karmada/samples) on Karmada..."
	"$KUBECTL" apply -k "$ROOT/config/samples"
	"$KUBECTL" apply -k "$ROOT/config/karmada/samples"
	echo "Waiting for the samples to be Ready on Karmada (up to $READY_TIMEOUT)..."
	if ! "$KUBECTL" wait --for condition=Ready --timeout "$READY_TIMEOUT" haapp/nginx haapp/cassandra haapp/pi haapp/weave-net; then
		"$KUBECTL" get haapp -o yaml
		echo "The samples did not become Ready; the logs: $MULTICLUSTER logs" >&2
		exit 1
	fi
	echo
	"$KUBECTL" get clusters
	echo
	"$KUBECTL" get haapp,propagationpolicy
	for member in member1 member2; do
		echo
		echo "In $member:"
		"$KUBECTL" --kubeconfig "$ROOT/.cluster/$MC_NAME-$member/kubeconfig" get haapp -o wide
	done
	cat <<EOF

The multi-cluster demo is running: Karmada (no pods: its processes run on this machine) and two
member clusters, member1 (zones zone-a, zone-b) and member2 (zone-c, zone-d), each running the
operator. The samples are applied to Karmada: nginx's replicas are divided between the members,
cassandra runs whole in member1 (never moved), pi and weave-net run in both. Karmada writes their
aggregated status back on them. Try:

  eval "\$($MULTICLUSTER env)"     # KUBECONFIG (Karmada), MEMBER1_KUBECONFIG, MEMBER2_KUBECONFIG
  kubectl get haapp -w            # in a second terminal: the aggregates
  kubectl get haapp nginx -o jsonpath='{.status.clusters} {.status.clusterLoss}{"\n"}'
  kubectl --kubeconfig \$MEMBER1_KUBECONFIG get haapp,pods    # member1's share

  # An update, then a bad image: each member's operator rolls it back; the aggregate says so.
  kubectl patch haapp nginx --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.9.1"}]'
  kubectl patch haapp nginx --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.91"}]'

  # A member cluster lost: in about 7 s Karmada marks it not Ready and taints it; nginx's replicas
  # move to member2, and the aggregate says one cluster (clusters: 1, clusterLoss not tolerated).
  # cassandra stays in member1 (down with it); pi and weave-net keep running in member2.
  $MULTICLUSTER member-down member1
  kubectl get clusters
  $MULTICLUSTER member-up member1    # its stale copy of nginx is removed once it answers again

  # Divide nginx again between both members (Karmada does not do it by itself):
  kubectl create -f - <<'YAML'
apiVersion: apps.karmada.io/v1alpha1
kind: WorkloadRebalancer
metadata: {generateName: nginx-}
spec:
  workloads: [{apiVersion: apps.haoperator.dev/v1alpha1, kind: HighlyAvailableApp, namespace: default, name: nginx}]
YAML

  make demo-multicluster-down        # stops everything
EOF
}

down() {
	"$MULTICLUSTER" down
	echo "The multi-cluster demo is stopped: no process of $ROOT/.cluster/$MC_NAME-* is left."
}

case ${1:-} in
up) up ;;
down) down ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac
