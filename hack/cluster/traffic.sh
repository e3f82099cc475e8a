#!/usr/bin/env bash
# traffic.sh runs the traffic scenarios (test/traffic) on a local cluster of its own with real nodes
# (CLUSTER_NAME=traffic, ports from 19400, CLUSTER_REAL_NODES=2). It starts the cluster, runs the
# scenarios (which build and import the test app's images and run the operator as a local process),
# stops everything whatever the outcome, checks that nothing is left, and prints the side-by-side
# table; when a scenario fails, the cluster's logs and then the failures come before the table.
# `make test-traffic` builds what is missing and installs the packages first. Needs root.
#
# The node-loss scenarios run twice: on the cluster of the other scenarios (node Leases of 20 s, the
# node lifecycle controller's grace period 20 s), then on a second cluster with a real cluster's
# defaults (Leases of 40 s, grace period 50 s).
#
# Settings (environment): TRAFFIC_LABELS (Ginkgo label filter, default "traffic": every scenario;
# e.g. "traffic && !node-loss"); TRAFFIC_DEFAULT_LEASES=0 skips the second cluster; TRAFFIC_TIMEOUT
# (go test -timeout, default 30m); MANAGER_BIN (the operator binary, default bin/manager);
# KEEP_CLUSTER=1 leaves the (last) cluster running afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CLUSTER_NAME=${CLUSTER_NAME:-traffic}
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster/$CLUSTER_NAME}
export CLUSTER_PORT_BASE=${CLUSTER_PORT_BASE:-19400}
export CLUSTER_REAL_NODES=${CLUSTER_REAL_NODES:-2}
export MANAGER_BIN=${MANAGER_BIN:-$ROOT/bin/manager}
CLUSTER=$ROOT/hack/cluster/cluster.sh
# shellcheck source=hack/cluster/failures.sh
source "$ROOT/hack/cluster/failures.sh"
OUTPUT=$(mktemp "${TMPDIR:-/tmp}/traffic-output.XXXXXX")
# What `up` printed, kept so that a cluster that did not come up says why at the end, where a
# truncated CI log still shows it (the logs of the cluster come first, and are long).
UP_LOG=$(mktemp "${TMPDIR:-/tmp}/traffic-up.XXXXXX")
up_failed=0
# The table outlives the teardowns: it is kept beside the state dir, which each `up` starts afresh.
export TRAFFIC_TABLE=${CLUSTER_DIR%/}-table.md
started=$SECONDS

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)); then
		echo "===== the traffic scenarios failed (exit $rc): logs of the cluster =====" >&2
		"$CLUSTER" logs 60 >&2 || true
		print_failures "$OUTPUT" >&2 || true
	else
		# Kept only when the suite failed: its path is printed with the failures.
		rm -f "$OUTPUT"
	fi
	if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
		echo "KEEP_CLUSTER=1: the cluster is left running ($CLUSTER down stops it)" >&2
	else
		"$CLUSTER" down || rc=1
		if pgrep -af -- "$CLUSTER_DIR" >&2; then
			echo "processes of $CLUSTER_DIR survived the teardown (listed above)" >&2
			rc=1
		fi
	fi
	if [[ -s $TRAFFIC_TABLE ]]; then
		printf '\nRequests through the ClusterIP, side by side:\n\n' >&2
		cat "$TRAFFIC_TABLE" >&2
	fi
	if ((up_failed)); then
		echo "the cluster did not come up; the end of what '$CLUSTER up' printed:" >&2
		tail -n 5 "$UP_LOG" >&2
	fi
	rm -f "$UP_LOG"
	echo "traffic scenarios: exit $rc after $((SECONDS - started))s" >&2
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# run_scenarios starts the cluster with node Leases of $1 seconds and a grace period of $2, and runs
# the scenarios of label filter $3 on it; the table of each run is appended to TRAFFIC_TABLE.
run_scenarios() {
	export CLUSTER_NODE_LEASE_SECONDS=$1 CLUSTER_NODE_MONITOR_GRACE=$2
	if ! "$CLUSTER" up >/dev/null 2>"$UP_LOG"; then
		cat "$UP_LOG" >&2
		up_failed=1
		exit 1
	fi
	cat "$UP_LOG" >&2
	go test -tags traffic ./test/traffic -count=1 -v -timeout "${TRAFFIC_TIMEOUT:-30m}" \
		-args -ginkgo.v -ginkgo.no-color "-ginkgo.label-filter=$3" 2>&1 | tee -a "$OUTPUT"
}

rm -f "$TRAFFIC_TABLE"
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
cd "$ROOT"
labels=${TRAFFIC_LABELS:-traffic}
run_scenarios 20 20s "$labels"
if [[ ${TRAFFIC_DEFAULT_LEASES:-1} != 0 ]]; then
	"$CLUSTER" down
	run_scenarios 40 50s "($labels) && node-loss"
fi
