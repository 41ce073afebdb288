#!/bin/bash
# repeat-run.sh N [TIMEOUT]: boot what `make run` last prepared ($B/run/esp: Debian's Linux as
# the control domain on 2 CPUs, the vmmctl demo) N times, TIMEOUT seconds each (default 100),
# and keep COM1 and the hypervisor log of the first run that does not reach "BVMM-DEMO done"
# as $B/run/stalled-com1.log and $B/run/stalled-com2.log, with what QEMU's monitor says of
# that machine once nothing has reached either port for 20 s (every CPU's registers, its local
# APIC, the 8259s) in $B/run/stalled-monitor.txt: whether a CPU spins in the hypervisor (CS 8,
# RIP in 0xffffffff8...), both sit in the control guest's HLT, or an interrupt is stuck. For
# chasing the stall README names. Run `make run` once first. Under flock /tmp/bvmm-emu.lock if
# anything else uses the emulator.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
n=${1:?usage: $0 N [TIMEOUT]} t=${2:-100}
[ -d "$B/run/esp/EFI/BOOT" ] || { echo "$0: no $B/run/esp: run make run first" >&2; exit 2; }
mon=$B/run/monitor.sock
monitor() {   # the monitor's answers to "$@", one command each
	python3 - "$mon" "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
def drain():
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    return out.decode(errors="replace")
drain()
for c in sys.argv[2:]:
    s.sendall((c + "\n").encode())
    time.sleep(0.5)
    print("==== " + c)
    print(drain())
PY
}
size() { cat "$B/run/loop-com1.log" "$B/run/loop-com2.log" 2>/dev/null | wc -c; }
for i in $(seq 1 "$n"); do
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$B/run/vars.fd"
	rm -f "$mon" "$B/run/loop-com1.log" "$B/run/loop-com2.log"
	qemu-system-x86_64 -machine q35 -accel tcg,thread=single -cpu max -smp 2 -m 1G \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$B/run/vars.fd" \
		-drive file=fat:rw:"$B/run/esp",format=raw,media=disk \
		-display none -vga none -net none -no-reboot -monitor unix:"$mon",server,nowait \
		-serial file:"$B/run/loop-com1.log" -serial file:"$B/run/loop-com2.log" >/dev/null 2>&1 &
	pid=$! start=$SECONDS last=0 quiet=$SECONDS stalled=""
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		grep -a -q 'BVMM-DEMO done' "$B/run/loop-com1.log" 2>/dev/null && break
		cur=$(size)
		[ "$cur" != "$last" ] && { last=$cur; quiet=$SECONDS; }
		if [ $((SECONDS - quiet)) -ge 20 ] || [ $((SECONDS - start)) -ge "$t" ]; then
			stalled=1
			break
		fi
	done
	if [ -z "$stalled" ] && grep -a -q 'BVMM-DEMO done' "$B/run/loop-com1.log"; then
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
		echo "run $i: finished"
		continue
	fi
	monitor "info registers -a" "info lapic 0" "info lapic 1" "info pic" > "$B/run/stalled-monitor.txt" 2>&1
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	echo "run $i: did not finish ($((SECONDS - quiet)) s without output); logs in $B/run/stalled-com1.log," \
		"stalled-com2.log, the machine's state in stalled-monitor.txt"
	cp "$B/run/loop-com1.log" "$B/run/stalled-com1.log"
	cp "$B/run/loop-com2.log" "$B/run/stalled-com2.log"
	exit 1
done
