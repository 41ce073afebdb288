#!/bin/bash
# make bench: boot OVMF -> bvmm -> the benchmark program under -icount shift=5,sleep=off and
# print instructions per operation (exact: 32 TSC ticks per emulated instruction).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
. tests/icount.sh
dir=$B/bench
rm -rf "$dir" && mkdir -p "$dir/esp/EFI/BOOT"
cp "$B/bvmm.efi" "$dir/esp/EFI/BOOT/BOOTX64.EFI"
cp "$B/scenarios/bin/bench.efi" "$dir/esp/EFI/BOOT/control.efi"
icount_boot "$dir" 2G "$dir/com1.log" "$dir/com2.log"
tr -d '\r' < "$dir/com1.log" > "$dir/com1.txt"
# Then the same round trip from Linux user space: OVMF -> bvmm -> Debian's kernel as the control
# guest, whose init (vmmbench=1) runs control/linux/vmmbench through /dev/vmm and powers off.
# BENCH_LINUX=0 skips it (make bench-phases).
ldir=$B/bench-linux
lfail=""
rm -rf "$ldir"   # no rows of an earlier run
if [ "${BENCH_LINUX:-1}" = 1 ]; then
	mkdir -p "$ldir/esp/EFI/BOOT"
	if cp "$B/bvmm.efi" "$ldir/esp/EFI/BOOT/BOOTX64.EFI" &&
		cp "$B/linux/vmlinuz" "$B/linux/initrd.img" "$ldir/esp/EFI/BOOT/"; then
		printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img console=ttyS0 panic=-1 quiet nokaslr vmmbench=1\n' \
			> "$ldir/esp/EFI/BOOT/bvmm.conf"
		lstart=$SECONDS
		icount_boot "$ldir" 512M "$ldir/com1.log" "$ldir/com2.log"
		lrc=$?
		tr -d '\r' < "$ldir/com1.log" > "$ldir/com1.txt"
		echo "linux boot for the /dev/vmm rows: QEMU exited with $lrc after $((SECONDS - lstart)) s" > "$ldir/time.txt"
		grep -a -q '^BVMM-LINUX-INIT bench done' "$ldir/com1.txt" ||
			lfail="boot did not reach vmmbench's end (QEMU exit $lrc after $((SECONDS - lstart)) s; see $ldir)"
		[ -z "$lfail" ] && [ "$(grep -a -c '^BENCH linux-' "$ldir/com1.txt")" != 5 ] &&
			lfail="vmmbench printed no rows or not all (see $ldir/com1.txt)"
	else
		lfail="$B/bvmm.efi, $B/linux/vmlinuz or $B/linux/initrd.img missing (make $B/linux/initrd.img)"
	fi
fi
mkdir -p "$ldir" && : > "$ldir/rows.txt"
[ -f "$ldir/com1.txt" ] && grep -a -E '^(BENCH |BENCH-FAILED |vmmbench: )' "$ldir/com1.txt" > "$ldir/rows.txt"
[ -n "$lfail" ] && echo "BENCH-FAILED linux $lfail" >> "$ldir/rows.txt"
ticks=$(sed -n -E 's/^bvmm: launch cost ([0-9]+) TSC ticks.*/\1/p' "$dir/com1.txt")
echo "bench (instructions per operation, -icount shift=5; loop overhead subtracted):"
grep -a '^BENCH ' "$dir/com1.txt" | sed 's/^BENCH /  /'
# The Linux rows: loop overhead subtracted too; the vmmbench: lines say how often a host
# interrupt came back through RUN and the fastest single round trip (no interrupt in it).
grep -a '^BENCH ' "$ldir/rows.txt" | sed 's/^BENCH /  /'
grep -a '^vmmbench: ' "$ldir/rows.txt" | sed 's/^/  /'
[ -f "$ldir/time.txt" ] && sed 's/^/  (/; s/$/)/' "$ldir/time.txt"
grep -a '^BENCH-FAILED ' "$ldir/rows.txt"
[ -n "$ticks" ] && echo "  launch efi_main->control-image $((ticks / 32)) instructions (incl. firmware calls, a 10 ms TSC calibration)"
inst=$(sed -n -E 's/^bvmm: launch instant ([0-9]+) TSC ticks.*/\1/p' "$dir/com1.txt")
[ -n "$inst" ] && echo "  launch instant (host setup, NPT build, first VMRUN) $((inst / 32)) instructions"
# $B/bench.txt: one "name value" row per line, the emulator's version and the date first.
{
	echo "# bvmm make bench: instructions per operation under QEMU -icount shift=5,sleep=off"
	echo "# $(qemu-system-x86_64 --version | head -n 1); $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	grep -a '^BENCH ' "$dir/com1.txt" | sed 's/^BENCH //'
	grep -a '^BENCH ' "$ldir/rows.txt" | sed 's/^BENCH //'
	grep -a '^vmmbench: ' "$ldir/rows.txt" | sed 's/^/# /'
	[ -n "$ticks" ] && echo "launch-efi-main-to-control-image $((ticks / 32))"
	[ -n "$inst" ] && echo "launch-instant $((inst / 32))"
} > "$B/bench.txt"
echo "  (also in $B/bench.txt)"
grep -a -q '^DONE bench' "$dir/com1.txt" || { echo "bench did not finish; see $dir"; exit 1; }
! grep -a '^BENCH-FAILED' "$dir/com1.txt" || exit 1
[ -z "$lfail" ] && ! grep -a -q '^BENCH-FAILED' "$ldir/rows.txt" || exit 1
