#!/bin/bash
# make prof ROW=io: where the hypervisor's instructions go in one make bench row, by function.
# Boots the benchmark program with only=ROW (rows: enosys hvinfo cpuid io io-gprs io-phys io-noregs mmio mmio-gprs mmio-phys child-cpuid create-2m create-256m create-1g)
# under QEMU's -d in_asm,exec,nochain limited to the hypervisor's addresses, and again with
# only=none (the boot alone), and charges each executed block to its function (scripts/prof.py).
set -eu
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
. tests/icount.sh
ROW=${ROW:-io}
dir=$B/prof
mkdir -p "$dir"
boot() {   # $1 = row, $2 = log
	rm -rf "$dir/esp" && mkdir -p "$dir/esp/EFI/BOOT"
	cp "$B/bvmm.efi" "$dir/esp/EFI/BOOT/BOOTX64.EFI"
	cp "$B/scenarios/bin/bench.efi" "$dir/esp/EFI/BOOT/control.efi"
	printf 'control_args=only=%s\n' "$1" > "$dir/esp/EFI/BOOT/bvmm.conf"
	ICOUNT_TIMEOUT=600 icount_boot "$dir" 2G "$dir/com1-$1.log" "$dir/com2-$1.log" \
		-singlestep -d in_asm,exec,nochain -dfilter 0xffffffff80000000+0x40000000 -D "$2" || true
}
[ -s "$dir/none.log" ] && [ "$dir/none.log" -nt "$B/bvmm.efi" ] &&
	[ "$dir/none.log" -nt "$B/scenarios/bin/bench.efi" ] || boot none "$dir/none.log"
boot "$ROW" "$dir/$ROW.log"
line=$(tr -d '\r' < "$dir/com1-$ROW.log" | grep -a '^PROF ' || true)
[ -n "$line" ] || { echo "prof: no PROF line for $ROW (see $dir/com1-$ROW.log)"; exit 1; }
set -- $line
echo "row $ROW: $3 instructions per operation in all (control guest, hypervisor, child)"
scripts/prof.py "$B/hv.elf" "$dir/$ROW.log" "$2" "$dir/none.log" ${LINES:+--lines}
