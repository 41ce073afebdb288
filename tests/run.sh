#!/bin/bash
# make test: host unit tests, then the QEMU scenarios; every check is one PASS/FAIL line and
# the run ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
log=$B/test-results.txt
mkdir -p "$B"
: > "$log"

for t in "$B"/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed -n -E "s/^ok [0-9]+ - (.*)/PASS unit\/$name\/\1/p; s/^not ok [0-9]+ - (.*)/FAIL unit\/$name\/\1/p" | tee -a "$log"
	if [ $rc != 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "FAIL unit/$name: exited $rc" | tee -a "$log"
		printf '%s\n' "$out" | tail -n 20
	elif [ $rc != 0 ]; then
		printf '%s\n' "$out" | grep -v '^ok' | tail -n 30
	fi
done

# The pure code under libFuzzer: a fixed number of runs and seed per target (make fuzz-host
# runs them as long as asked).
tests/fuzz/smoke.sh 2>&1 | grep -E '^(PASS|FAIL) ' | tee -a "$log"

# The manual pages must be clean mdoc.
for page in doc/bvmm.4 doc/vmmctl.8; do
	lint=$(mandoc -Tlint "$page" 2>&1)
	if [ -z "$lint" ]; then echo "PASS $page-mandoc-lint"; else echo "FAIL $page-mandoc-lint: $lint"; fi
done | tee -a "$log"

tests/scenarios/run.sh 2>&1 | tee -a "$log"

# make bench must keep working: every row present (the numbers are reported, not judged).
if out=$(tests/bench.sh 2>&1) && [ "$(printf '%s\n' "$out" | grep -c -E '^  [a-z0-9-]+ [0-9]+\.[0-9]$')" = 26 ]; then
	echo "PASS bench/all-rows"
else
	echo "FAIL bench/all-rows: $(printf '%s\n' "$out" | tail -5)"
fi | tee -a "$log"

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
