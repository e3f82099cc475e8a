#!/usr/bin/env bash
# test.sh runs the multi-cluster suite (test/multicluster) on a local multi-cluster of its own
# (multicluster.sh, MC_NAME=mc by default: Karmada and two member clusters running the operator). It
# starts everything, runs the suite, stops everything whatever the outcome, and prints the suite's
# table of measurements last; when the suite fails, the logs of Karmada, the members and the operators
# are printed before it, then the failed specs. `make test-multicluster` builds the operator and the
# binaries, then runs this.
#
# Settings (environment): MC_TIMEOUT (go test -timeout, default 20m); MC_GINKGO_ARGS (extra Ginkgo
# flags); KEEP_CLUSTER=1 leaves everything running afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MC_NAME=${MC_NAME:-mc}
MULTICLUSTER=$ROOT/hack/multicluster/multicluster.sh
# shellcheck source=hack/cluster/failures.sh
source "$ROOT/hack/cluster/failures.sh"

finish() {
	local rc=$?
	trap - EXIT INT TERM
	if ((rc != 0)); then
		echo "===== the multi-cluster suite failed (exit $rc): logs of Karmada, the members and the operators =====" >&2
		"$MULTICLUSTER" logs 150 >&2 || true
		print_failures "$OUTPUT" >&2 || true
	else
		rm -f "$OUTPUT"
	fi
	if [[ ${KEEP_CLUSTER:-} == 1 ]]; then
		echo "KEEP_CLUSTER=1: everything is left running ($MULTICLUSTER down stops it)" >&2
	else
		"$MULTICLUSTER" down || rc=1
	fi
	if [[ -s $REPORT ]]; then
		cat "$REPORT"
	fi
	rm -f "$REPORT"
	echo "make test-multicluster: $((SECONDS / 60))m$((SECONDS % 60))s, exit $rc"
	exit "$rc"
}
OUTPUT=$(mktemp "${TMPDIR:-/tmp}/multicluster-output.XXXXXX")
# The suite writes its table of measurements there.
REPORT=$(mktemp "${TMPDIR:-/tmp}/multicluster-report.XXXXXX")
export MC_REPORT=$REPORT
trap finish EXIT
trap 'exit 130' INT TERM

"$MULTICLUSTER" up >/dev/null
cd "$ROOT"
# shellcheck disable=SC2086
go test -tags multicluster ./test/multicluster -count=1 -v -timeout "${MC_TIMEOUT:-20m}" \
	-args -ginkgo.v -ginkgo.no-color ${MC_GINKGO_ARGS:-} 2>&1 | tee "$OUTPUT"
