#!/usr/bin/env bash
# build-progress.sh builds, with make, the binaries a command needs that are missing or out of date,
# and says first what it will build: one line per component, with how many are left and about how
# long each takes from an empty Go build cache on 2 cores (measured; a warm cache takes seconds).
#
# Usage: hack/build-progress.sh "TARGET|WHAT|MINUTES" ...
set -euo pipefail

todo=()
for entry in "$@"; do
	target=${entry%%|*}
	if ! make --no-print-directory -q "$target" 2>/dev/null; then
		todo+=("$entry")
	fi
done
n=${#todo[@]}
((n > 0)) || exit 0
i=0
for entry in "${todo[@]}"; do
	i=$((i + 1))
	IFS='|' read -r target what minutes <<<"$entry"
	left=$((n - i))
	printf '[%d/%d] building %s (about %s min from an empty Go build cache; %d left after this)\n' \
		"$i" "$n" "$what" "$minutes" "$left"
	start=$SECONDS
	log=$(mktemp)
	# go's own lines (module downloads) go to the log, shown only when the build fails.
	if ! make --no-print-directory -s "$target" >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		rm -f "$log"
		echo "building $what failed (above)" >&2
		exit 1
	fi
	rm -f "$log"
	printf '[%d/%d] %s built in %ds\n' "$i" "$n" "$what" "$((SECONDS - start))"
done
