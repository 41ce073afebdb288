#!/bin/sh
# The short, deterministic fuzz run of `make test`: builds the host harnesses (make
# fuzz-build), runs each for a fixed number of inputs with seed 1, and prints exactly one line
# per target: "PASS fuzz/<target>" or "FAIL fuzz/<target>: <why>". Exits 1 if any failed.
# Environment: B (build directory, default build), FUZZ_RUNS (default 50000).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
TARGETS="decode validate gmem config elf devices pci cpurules msr apic vmmctl_load vmmctl_mmio vmmctl_devices"
mkdir -p "$B/fuzz"
make --no-print-directory -s B="$B" -k fuzz-build >"$B/fuzz/build.log" 2>&1
built="" failed=0
for t in $TARGETS; do
	if make --no-print-directory -s -q B="$B" "$B/fuzz/$t" 2>/dev/null; then
		built="$built $t"   # built now, or up to date
	else
		echo "FAIL fuzz/$t: build failed (see $B/fuzz/build.log)"
		failed=1
	fi
done
[ -z "$built" ] && exit 1
# shellcheck disable=SC2086
tests/fuzz/run.sh smoke "$B" "${FUZZ_RUNS:-50000}" $built || failed=1
exit $failed
