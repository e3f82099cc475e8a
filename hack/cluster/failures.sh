# shellcheck shell=bash
# failures.sh, sourced by e2e.sh and traffic.sh: print_failures FILE prints, from the output of a
# Ginkgo suite run with -ginkgo.v, each failure as Ginkgo reported it (the spec, where, and the
# message), then Ginkgo's summary of the failed specs, then each failure's place and message on one
# line. The scripts print it last, after the cluster's logs, because a CI log is read from its end
# and may show only its last lines.
print_failures() {
	local output=$1
	[[ -s $output ]] || return 0
	echo "===== the suite's failures (its whole output: $output) ====="
	awk '/^  \[(FAILED|PANICKED|TIMEDOUT|INTERRUPTED)\] / && !/\] in \[/ { print p3; print p2; on = 1; n = 0 }
		on && /^----------/ { on = 0 }
		on && n++ < 40 { print }
		{ p3 = p2; p2 = p1; p1 = $0 }' "$output" | head -n 400
	sed -n '/^Summarizing [0-9]* Failure/,$p' "$output"
	grep -e '^panic: ' "$output" | head -n 5
	echo "===== each failure on one line ====="
	awk '/^  \[(FAILED|PANICKED|TIMEDOUT|INTERRUPTED)\] / && !/\] in \[/ { on = 1; msg = "" }
		on && /^  In \[[A-Za-z]*\] at: / { sub(/^  In \[[A-Za-z]*\] at: /, ""); sub(/ @ .*/, "")
			n = split($0, parts, "/"); print parts[n] ": " substr(msg, 1, 600); on = 0; next }
		on { line = $0; gsub(/^[ \t]+|[ \t]+$/, "", line); msg = msg (msg == "" ? "" : " ") line }' "$output" | head -n 10
}
