#!/usr/bin/env bash
# multicluster.sh runs a local multi-cluster: a Karmada control plane without pods (karmada.sh) and two
# member clusters (hack/cluster/cluster.sh: a real control plane and kwok nodes in two zones each), each
# running the operator as its ServiceAccount, joined to Karmada in Push mode (karmadactl join, with a
# region and zones). The project's CRD is installed on the three API servers and the interpreter
# customization (config/karmada) on Karmada's. Everything listens on 127.0.0.1.
#
# Usage: hack/multicluster/multicluster.sh COMMAND [ARGS]
#   up                start Karmada and the members, join them, install the CRD, start the operators
#   down              stop everything (no process is left) and delete the data (logs are kept)
#   status            check Karmada, each member and its operator, and the members' Ready condition
#   member-down NAME  lose the member NAME: its kwoks killed (its nodes stop) and its API server killed
#   member-up NAME    bring it back: its API server, controllers and kwoks started, its nodes Ready
#   env               print the export lines of the kubeconfigs (KUBECONFIG is Karmada's)
#   logs [LINES]      print the last LINES (default 100) of every log
#
# Settings (environment):
#   MC_NAME        default mc: the state dirs .cluster/MC_NAME-karmada, .cluster/MC_NAME-member1...
#   MC_PORT_BASE   first port (default 19700 for mcdemo, 19000 otherwise): Karmada uses the first
#                  hundred, member1 the next, member2 the next
#   MANAGER_BIN    the operator binary, default bin/manager
#   The failover flags of karmada.sh (CLUSTER_STATUS_UPDATE_FREQUENCY...) pass through.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/hack/multicluster
BIN_DIR=${BIN_DIR:-$ROOT/bin}
KUBECTL=${KUBECTL:-kubectl}
CLUSTER_SH=$ROOT/hack/cluster/cluster.sh
KARMADA_SH=$HERE/karmada.sh

MC_NAME=${MC_NAME:-mc}
case $MC_NAME in
mcdemo) default_port_base=19700 ;;
*) default_port_base=19000 ;;
esac
MC_PORT_BASE=${MC_PORT_BASE:-$default_port_base}

export KARMADA_NAME=$MC_NAME-karmada
export KARMADA_DIR=$ROOT/.cluster/$KARMADA_NAME
export KARMADA_PORT_BASE=$MC_PORT_BASE
KARMADA_KUBECONFIG=$KARMADA_DIR/kubeconfig

# The members: name in Karmada, region, zones (the zones of its nodes too).
MEMBERS=(member1 member2)
declare -A REGION=([member1]=region-1 [member2]=region-2)
declare -A ZONES=([member1]="zone-a zone-b" [member2]="zone-c zone-d")

log() { printf '[multicluster %s] %s\n' "$MC_NAME" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2s until it succeeds.
wait_for() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

member_index() {
	local i
	for i in "${!MEMBERS[@]}"; do
		if [[ ${MEMBERS[$i]} == "$1" ]]; then
			echo $((i + 1))
			return 0
		fi
	done
	return 1
}

member_dir() { echo "$ROOT/.cluster/$MC_NAME-$1"; }
member_kubeconfig() { echo "$(member_dir "$1")/kubeconfig"; }

# member NAME ARGS...: cluster.sh on the member NAME.
member() {
	local name=$1 index
	shift
	index=$(member_index "$name") || die "unknown member $name (members: ${MEMBERS[*]})"
	CLUSTER_NAME=$MC_NAME-$name CLUSTER_DIR=$(member_dir "$name") \
		CLUSTER_PORT_BASE=$((MC_PORT_BASE + 100 * index)) CLUSTER_ZONES=${ZONES[$name]} \
		"$CLUSTER_SH" "$@"
}

karmada() { "$KARMADA_SH" "$@"; }
karmada_kubectl() { "$KUBECTL" --kubeconfig "$KARMADA_KUBECONFIG" "$@"; }

# install_crd KUBECONFIG: the project's CRD, server-side (it is too large for client-side apply).
install_crd() {
	"$KUBECTL" --kubeconfig "$1" apply --server-side --force-conflicts -f "$ROOT/config/crd/bases" >/dev/null
	wait_for 30 "the CRD to be established" crd_established "$1"
}

crd_established() {
	[[ $("$KUBECTL" --kubeconfig "$1" get crd highlyavailableapps.apps.haoperator.dev \
		-o jsonpath='{.status.conditions[?(@.type=="Established")].status}') == True ]]
}

member_ready() {
	[[ $(karmada_kubectl get cluster "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

# join NAME: the member joins Karmada in Push mode. karmadactl creates, in the member, a ServiceAccount
# with the rights Karmada needs and, in Karmada, the Cluster with its region and zones and a Secret
# with that ServiceAccount's token.
join() {
	local name=$1 zones
	zones=${ZONES[$name]}
	"$BIN_DIR/karmadactl" join "$name" \
		--kubeconfig "$KARMADA_KUBECONFIG" \
		--cluster-kubeconfig "$(member_kubeconfig "$name")" \
		--cluster-region "${REGION[$name]}" \
		--cluster-zones "${zones// /,}" >/dev/null
}

cmd_up() {
	[[ -x $BIN_DIR/karmadactl ]] || die "missing $BIN_DIR/karmadactl: run 'make karmada'"
	local started_at name
	started_at=$(date +%s.%N)
	karmada up >/dev/null
	for name in "${MEMBERS[@]}"; do
		member "$name" up >/dev/null
		install_crd "$(member_kubeconfig "$name")"
		member "$name" operator-stop >/dev/null 2>&1
		member "$name" operator-start
		log "joining $name (region ${REGION[$name]}, zones ${ZONES[$name]})..."
		join "$name"
	done
	install_crd "$KARMADA_KUBECONFIG"
	# The interpreter customization: what Karmada needs to divide the app's replicas, revise them per
	# member, reflect and aggregate its status and judge its health.
	karmada_kubectl apply -k "$ROOT/config/karmada" >/dev/null
	for name in "${MEMBERS[@]}"; do
		wait_for 60 "member $name to be Ready in Karmada" member_ready "$name" || {
			karmada_kubectl get cluster "$name" -o yaml >&2
			exit 1
		}
	done
	karmada_kubectl get clusters >&2
	log "up in $(awk -v a="$started_at" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
	cmd_env
}

cmd_down() {
	local name rc=0
	# Karmada first: a member's API server that still serves Karmada's watches takes longer to stop.
	karmada down || rc=1
	for name in "${MEMBERS[@]}"; do
		member "$name" down || rc=1
	done
	local left
	left=$(pgrep -af -- "$ROOT/.cluster/$MC_NAME-" || true)
	if [[ -n $left ]]; then
		log "still running after down:"
		echo "$left" >&2
		rc=1
	fi
	return "$rc"
}

cmd_status() {
	local name failed=0
	karmada status || failed=1
	for name in "${MEMBERS[@]}"; do
		member "$name" status || failed=1
		member_ready "$name" || {
			log "member $name is not Ready in Karmada"
			failed=1
		}
	done
	return "$failed"
}

cmd_member_down() {
	local name=${1:?usage: member-down NAME} zone
	member_index "$name" >/dev/null || die "unknown member $name (members: ${MEMBERS[*]})"
	# The nodes first (SIGKILL: their kubelets vanish), then the API server: the whole cluster is gone
	# at once, as in a region outage. Its operator stays, unable to reach its API server.
	for zone in ${ZONES[$name]}; do
		member "$name" zone-down "$zone" >/dev/null
	done
	member "$name" apiserver-stop >/dev/null
	log "member $name is down: its API server and its nodes are gone"
}

cmd_member_up() {
	local name=${1:?usage: member-up NAME} zone
	member_index "$name" >/dev/null || die "unknown member $name (members: ${MEMBERS[*]})"
	member "$name" apiserver-start >/dev/null
	for zone in ${ZONES[$name]}; do
		member "$name" zone-up "$zone" >/dev/null
	done
	log "member $name is up: its API server answers and its nodes are Ready"
}

cmd_env() {
	local name
	echo "export KUBECONFIG=$KARMADA_KUBECONFIG"
	for name in "${MEMBERS[@]}"; do
		echo "export ${name^^}_KUBECONFIG=$(member_kubeconfig "$name")"
	done
}

cmd_logs() {
	local name
	karmada logs "${1:-100}"
	for name in "${MEMBERS[@]}"; do
		member "$name" logs "${1:-100}"
	done
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
member-down) cmd_member_down "${2:-}" ;;
member-up) cmd_member_up "${2:-}" ;;
env) cmd_env ;;
logs) cmd_logs "${2:-100}" ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
