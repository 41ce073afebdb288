#!/bin/sh
# Runs the libFuzzer harnesses built in $B/fuzz (tests/fuzz/fuzz.mk): `host` for a time each
# on a growing copy of its seeds, `smoke` for a fixed number of runs with a fixed seed.
# Prints one line per target; exits 1 if any failed. A crashing input stays in $B/fuzz/.
# usage: run.sh host B SECONDS TARGET...   |   run.sh smoke B RUNS TARGET...
set -u
mode=$1 B=$2 amount=$3
shift 3
failed=0

# fuzz_one TARGET DIR ARGS...: run, then report from the log.
fuzz_one() {
	t=$1 dir=$2
	shift 2
	bin=$B/fuzz/$t log=$B/fuzz/$t.$mode.log
	rm -rf "$dir" && mkdir -p "$dir" && cp tests/fuzz/corpus/"$t"/* "$dir"/
	rm -f "$B/fuzz/$t-"crash-* "$B/fuzz/$t-"timeout-* "$B/fuzz/$t-"oom-* "$B/fuzz/$t-"leak-*
	"$bin" -artifact_prefix="$B/fuzz/$t-" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"$@" "$dir" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	if [ "$rc" = 0 ] && [ -n "$runs" ]; then
		[ "$mode" = smoke ] && echo "PASS fuzz/$t" ||
			echo "PASS fuzz/$t: $runs runs, corpus $(ls "$dir" | wc -l) inputs"
		return
	fi
	failed=1
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	why=$(grep -m 1 -E 'ERROR: |runtime error|fuzz oracle failed' "$log" | cut -c 1-160)
	if [ -n "$input" ]; then
		echo "FAIL fuzz/$t: ${why:-exit $rc}; input $input; reproduce: $bin $input (log $log)"
	else
		echo "FAIL fuzz/$t: ${why:-exit $rc, no run count} (log $log)"
	fi
}

for t in "$@"; do
	if [ ! -x "$B/fuzz/$t" ]; then
		echo "FAIL fuzz/$t: harness not built ($B/fuzz/$t)"
		failed=1
	elif [ "$mode" = host ]; then
		fuzz_one "$t" "$B/fuzz/corpus/$t" -max_total_time="$amount"
	else
		fuzz_one "$t" "$B/fuzz/smoke/$t" -runs="$amount" -seed=1
	fi
done
exit $failed
