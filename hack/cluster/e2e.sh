#!/usr/bin/env bash
# e2e.sh runs the end-to-end suite (test/e2e) on a local cluster of its own (CLUSTER_NAME=e2e: its
# own state dir and ports, so a running demo is left alone). It starts the cluster, runs the suite
# (which installs the CRD and runs the operator, MANAGER_BIN or bin/manager, as a local process),
# and stops everything whatever the outcome; when the suite fails, the logs of the operator and of
# the cluster are printed, then, last, the failed specs with their failure messages (a CI log is
# often read from its end). `make test-e2e` builds the operator (MANAGER_BIN, default bin/manager)
# and the cluster's binaries, then runs this.
#
# Settings (environment): E2E_TIMEOUT (go test -timeout, default 25m); E2E_LABEL_FILTER (the
# scenarios to run by label, default all; `make test-e2e-chaos` sets "chaos", the drills);
# E2E_GINKGO_ARGS (extra Ginkgo flags, e.g. "-ginkgo.focus=zone", or a -ginkgo.label-filter that
# overrides E2E_LABEL_FILTER); KEEP_CLUSTER=1 leaves the cluster running afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CLUSTER_NAME=${CLUSTER_NAME:-e2e}
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster/$CLUSTER_NAME}
CLUSTER=$ROOT/hack/cluster/cluster.sh
# shellcheck source=hack/cluster/failures.sh
source "$ROOT/hack/cluster/failures.sh"

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)); then
		echo "===== the e2e suite failed (exit $rc): logs of the operator and of the cluster =====" >&2
		"$CLUSTER" logs 150 >&2 || true
		print_failures "$OUTPUT" >&2 || true
	else
		# Kept only when the suite failed: its path is printed with the failures.
		rm -f "$OUTPUT"
	fi
	if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
		echo "KEEP_CLUSTER=1: the cluster is left running ($CLUSTER down stops it)" >&2
	else
		"$CLUSTER" down || true
		if pgrep -af -- "$CLUSTER_DIR" >&2; then
			echo "processes of $CLUSTER_DIR survived the teardown (listed above)" >&2
			rc=1
		fi
	fi
	exit "$rc"
}
OUTPUT=$(mktemp "${TMPDIR:-/tmp}/e2e-output.XXXXXX")
trap finish EXIT
trap 'exit 130' INT TERM

"$CLUSTER" up >/dev/null
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
cd "$ROOT"
# shellcheck disable=SC2086
go test -tags e2e ./test/e2e -count=1 -v -timeout "${E2E_TIMEOUT:-25m}" \
	-args -ginkgo.v -ginkgo.no-color "-ginkgo.label-filter=${E2E_LABEL_FILTER:-}" ${E2E_GINKGO_ARGS:-} 2>&1 |
	tee "$OUTPUT"
