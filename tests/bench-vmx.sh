#!/bin/bash
# The benchmark program on Intel VMX under Bochs (corei7_skylake_x). Bochs has no -icount: its
# TSC advances one tick per emulated instruction at the default 4 MIPS (not counting HLT
# time), so the rows are instructions as Bochs counts them, comparable across Bochs runs but
# not exactly with QEMU's (a VM exit or entry is one instruction in each, but the two emulate
# CPUID, RDTSC and the world switch differently).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
OUT=$B/bench-vmx
. tests/scenarios/bochs.sh
check() { :; }
fail() { echo "FAIL $1${2:+: $2}"; }
rm -rf "$OUT" && mkdir -p "$OUT/vmx/esp/EFI/BOOT"
cp "$B/bvmm.efi" "$OUT/vmx/esp/EFI/BOOT/BOOTX64.EFI"
cp "$B/scenarios/bin/bench.efi" "$OUT/vmx/esp/EFI/BOOT/control.efi"
printf 'control_args=ticks=1\n' > "$OUT/vmx/esp/EFI/BOOT/bvmm.conf"
bochs_boot vmx corei7_skylake_x 300 "DONE bench"
echo "bench on VMX under Bochs (instructions by Bochs' TSC; loop overhead subtracted):"
grep -a '^BENCH ' "$OUT/vmx/com1.txt" | sed 's/^BENCH /  /'
grep -a -q '^DONE bench' "$OUT/vmx/com1.txt"
