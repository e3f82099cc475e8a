#!/usr/bin/env bash
# traffic.sh runs the traffic scenarios (test/traffic) on a local cluster of its own with real nodes
# (CLUSTER_NAME=traffic, ports from 19400, CLUSTER_REAL_NODES=2). It starts the cluster, runs the
# scenarios (which build and import the test app's images and run the operator as a local process),
# stops everything whatever the outcome, checks that nothing is left, and prints the side-by-side
# table; when a scenario fails, the cluster's logs and then the failures come before the table.
# `make test-traffic` builds what is missing and installs the packages first. Needs root.
#
# Settings (environment): TRAFFIC_LABELS (Ginkgo label filter, default "traffic": every scenario;
# e.g. "traffic && !node-loss"); TRAFFIC_TIMEOUT (go test -timeout, default 30m); MANAGER_BIN (the
# operator binary, default bin/manager); KEEP_CLUSTER=1 leaves the cluster running afterwards.
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
# The table outlives the teardown, which keeps only logs/.
export TRAFFIC_TABLE=$CLUSTER_DIR/logs/traffic-table.md
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
	echo "traffic scenarios: exit $rc after $((SECONDS - started))s" >&2
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

mkdir -p "$CLUSTER_DIR/logs"
rm -f "$TRAFFIC_TABLE"
"$CLUSTER" up >/dev/null
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
cd "$ROOT"
go test -tags traffic ./test/traffic -count=1 -v -timeout "${TRAFFIC_TIMEOUT:-30m}" \
	-args -ginkgo.v -ginkgo.no-color "-ginkgo.label-filter=${TRAFFIC_LABELS:-traffic}" 2>&1 | tee "$OUTPUT"
