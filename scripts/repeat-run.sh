#!/bin/bash
# repeat-run.sh N [TIMEOUT]: boot what `make run` last prepared ($B/run/esp: Debian's Linux as
# the control domain on 2 CPUs, the vmmctl demo) N times, TIMEOUT seconds each (default 100),
# and keep COM1 and the hypervisor log of the first run that does not reach "BVMM-DEMO done"
# as $B/run/stalled-com1.log and $B/run/stalled-com2.log. For chasing the stall README names
# ("Once in 15 runs of make run"). Run `make run` once first. Under flock /tmp/bvmm-emu.lock
# if anything else uses the emulator.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
n=${1:?usage: $0 N [TIMEOUT]} t=${2:-100}
[ -d "$B/run/esp/EFI/BOOT" ] || { echo "$0: no $B/run/esp: run make run first" >&2; exit 2; }
for i in $(seq 1 "$n"); do
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$B/run/vars.fd"
	timeout "$t" qemu-system-x86_64 -machine q35 -accel tcg,thread=single -cpu max -smp 2 -m 1G \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$B/run/vars.fd" \
		-drive file=fat:rw:"$B/run/esp",format=raw,media=disk \
		-display none -vga none -net none -no-reboot -monitor none \
		-serial file:"$B/run/loop-com1.log" -serial file:"$B/run/loop-com2.log" >/dev/null 2>&1
	rc=$?
	if grep -a -q 'BVMM-DEMO done' "$B/run/loop-com1.log"; then
		echo "run $i: finished"
	else
		echo "run $i: did not finish (QEMU status $rc); logs in $B/run/stalled-com1.log, stalled-com2.log"
		cp "$B/run/loop-com1.log" "$B/run/stalled-com1.log"
		cp "$B/run/loop-com2.log" "$B/run/stalled-com2.log"
		exit 1
	fi
done
