#!/bin/bash
# make bench: boot OVMF -> bvmm -> the benchmark program under -icount shift=5,sleep=off and
# print instructions per operation (exact: 32 TSC ticks per emulated instruction).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
dir=$B/bench
rm -rf "$dir" && mkdir -p "$dir/esp/EFI/BOOT"
cp "$B/bvmm.efi" "$dir/esp/EFI/BOOT/BOOTX64.EFI"
cp "$B/scenarios/bin/bench.efi" "$dir/esp/EFI/BOOT/control.efi"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$dir/vars.fd"
timeout 300 qemu-system-x86_64 -machine q35 -accel tcg -icount shift=5,sleep=off -cpu max -smp 1 \
	-m 512M -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
	-drive if=pflash,format=raw,unit=1,file="$dir/vars.fd" \
	-drive file=fat:rw:"$dir/esp",format=raw,media=disk \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none -vga none -net none \
	-no-reboot -monitor none -serial file:"$dir/com1.log" -serial file:"$dir/com2.log"
tr -d '\r' < "$dir/com1.log" > "$dir/com1.txt"
ticks=$(sed -n -E 's/^bvmm: launch cost ([0-9]+) TSC ticks.*/\1/p' "$dir/com1.txt")
echo "bench (instructions per operation, -icount shift=5; loop overhead subtracted):"
grep -a '^BENCH ' "$dir/com1.txt" | sed 's/^BENCH /  /'
[ -n "$ticks" ] && echo "  launch efi_main->control-image $((ticks / 32)) instructions (incl. firmware calls, a 10 ms TSC calibration)"
inst=$(sed -n -E 's/^bvmm: launch instant ([0-9]+) TSC ticks.*/\1/p' "$dir/com1.txt")
[ -n "$inst" ] && echo "  launch instant (host setup, NPT build, first VMRUN) $((inst / 32)) instructions"
# $B/bench.txt: one "name value" row per line, the emulator's version and the date first.
{
	echo "# bvmm make bench: instructions per operation under QEMU -icount shift=5,sleep=off"
	echo "# $(qemu-system-x86_64 --version | head -n 1); $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	grep -a '^BENCH ' "$dir/com1.txt" | sed 's/^BENCH //'
	[ -n "$ticks" ] && echo "launch-efi-main-to-control-image $((ticks / 32))"
	[ -n "$inst" ] && echo "launch-instant $((inst / 32))"
} > "$B/bench.txt"
echo "  (also in $B/bench.txt)"
grep -a -q '^DONE bench' "$dir/com1.txt" || { echo "bench did not finish; see $dir"; exit 1; }
! grep -a '^BENCH-FAILED' "$dir/com1.txt" || exit 1
