# Bochs backend for the scenarios (sourced by run.sh): Bochs 2.7 emulates Intel VMX with EPT,
# which QEMU's TCG does not, and boots OVMF. Not named s[0-9]*.sh: it defines no scenario.
#
# What a Bochs boot looks like (measured, Bochs 2.7 + Debian's OVMF.fd):
# - OVMF's boot manager starts \EFI\BOOT\BOOTX64.EFI of the vvfat disk itself (Boot0001), ~9 s
#   after Bochs starts. Only if that returns does it start the UEFI shell (Boot0002), which runs
#   \startup.nsh after a "Press ESC in 5 seconds" countdown (emulated seconds: ~0.3 s of wall
#   time, as Bochs skips idle HLT time). So the startup script is NOT the way bvmm starts: it is
#   what runs after the boot file returned (bvmm declined, or the control image exited).
#   bochs_boot writes a default \startup.nsh that powers the machine off at once (the run ends
#   instead of waiting at the Shell> prompt for the timeout); a scenario that wants more writes
#   its own first, e.g. with bochs_nsh.
# - COM1 and COM2 are files; OVMF mirrors its console on both (as under QEMU), so COM2 holds the
#   firmware console plus bvmm's log (log=com2, bvmm's default), like QEMU's com2.log. Port 0xE9
#   (port_e9_hack) is enabled too: a scenario with log=debugcon finds that output in
#   $OUT/NAME/bochs.out, mixed with Bochs' own messages.
# - The guest ends the run by writing "Shutdown" to port 0x8900 (sc_finish does) or by an ACPI
#   power-off (RT->ResetSystem(EfiResetShutdown), the shell's `reset -s`); Bochs then exits 1
#   either way. A triple fault stops Bochs too (reset_on_triple_fault=0) instead of rebooting.
# - Bochs drops COM1 bytes still in the UART at shutdown: wait for LSR.TEMT first (sc_finish).

BOCHS_ROM=${BOCHS_ROM:-/usr/share/ovmf/OVMF.fd}
BOCHS_VGAROM=${BOCHS_VGAROM:-/usr/share/vgabios/vgabios.bin}

# bochs_rc FILE MODEL ESPDIR COM1 COM2 LOG: a bochsrc for an unattended OVMF boot.
bochs_rc() {
	cat > "$1" <<-EOF
	# written by tests/scenarios/bochs.sh
	romimage: file=$BOCHS_ROM
	vgaromimage: file=$BOCHS_VGAROM
	megs: 512
	cpu: model=$2, count=1, reset_on_triple_fault=0
	ata0-master: type=disk, path=$3, mode=vvfat
	com1: enabled=1, mode=file, dev=$4
	com2: enabled=1, mode=file, dev=$5
	port_e9_hack: enabled=1
	speaker: enabled=0
	sound: driver=dummy
	display_library: rfb, options="timeout=0"
	log: $6
	debug: action=ignore
	info: action=ignore
	error: action=report
	panic: action=fatal
	EOF
}

# bochs_nsh NAME LINE...: \startup.nsh in NAME's ESP running LINE... (on fs0:, the ESP), then
# powering off (so the run ends even if the last command returns).
bochs_nsh() {
	local f=$OUT/$1/esp/startup.nsh l
	shift
	printf 'fs0:\r\n' > "$f"
	for l in "$@"; do printf '%s\r\n' "$l" >> "$f"; done
	printf 'echo "bochs.sh: startup.nsh done, powering off"\r\nreset -s\r\n' >> "$f"
}

bochs_secs() { printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000)); }

# bochs_boot NAME MODEL TIMEOUT MARKER: boot $OUT/NAME/esp under Bochs with CPU MODEL (e.g.
# corei7_skylake_x); end it as soon as COM1 shows MARKER (after 0.5 s more for the rest of the
# output), when the guest shuts Bochs down, or after TIMEOUT seconds. Sets $rc: 0 if MARKER is in
# COM1, 124 on timeout, else Bochs' exit status (1 after the guest's shutdown or power-off); and
# $bochs_end: "marker", "timeout", or Bochs' exit message (e.g. "[ACPI  ] ACPI control: soft
# power off", "[UNMAP ] Shutdown port: shutdown requested"). Writes com1.txt/com2.txt (CRs
# stripped), bochs.out (Bochs' stdout: port 0xE9, exit message) and bochs.log (its log).
bochs_boot() {
	local name=$1 model=$2 t=$3 marker=$4 dir=$OUT/$1
	rc=1
	bochs_end="not run"
	if ! command -v bochs-bin >/dev/null; then
		fail "$name/setup" "bochs-bin is missing (scripts/deps.sh installs bochs)"
		: > "$dir/com1.txt"; : > "$dir/com2.txt"
		return
	fi
	[ -f "$dir/esp/startup.nsh" ] || bochs_nsh "$name"
	rm -f "$dir/com1.log" "$dir/com2.log" "$dir/bochs.log"
	: > "$dir/com1.log"
	bochs_rc "$dir/bochsrc" "$model" "$dir/esp" "$dir/com1.log" "$dir/com2.log" "$dir/bochs.log"
	printf 'continue\nquit\n' > "$dir/dbg.rc"
	local start=${EPOCHREALTIME//[.,]/} now pid ended="" seen=""
	bochs-bin -q -f "$dir/bochsrc" -rc "$dir/dbg.rc" </dev/null >"$dir/bochs.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ -n "$marker" ] && grep -a -q -- "$marker" "$dir/com1.log"; then
			seen=${EPOCHREALTIME//[.,]/}
			sleep 0.5   # let the rest of the output reach the log
			ended=marker
			break
		fi
		now=${EPOCHREALTIME//[.,]/}
		if [ $((now - start)) -ge $((t * 1000000)) ]; then
			ended=timeout
			break
		fi
		sleep 0.2
	done
	[ -n "$ended" ] && kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	now=${EPOCHREALTIME//[.,]/}
	tr -d '\r' < "$dir/com1.log" > "$dir/com1.txt"
	tr -d '\r' < "$dir/com2.log" > "$dir/com2.txt" 2>/dev/null || : > "$dir/com2.txt"
	if [ "$ended" = timeout ]; then
		rc=124
		bochs_end=timeout
	else
		bochs_end=${ended:-$(grep -a -A1 'Bochs is exiting with the following message' \
			"$dir/bochs.out" | sed -n 2p)}
		[ -n "$marker" ] && grep -a -q -- "$marker" "$dir/com1.txt" && rc=0
	fi
	echo "# $name: Bochs ($model)${seen:+ showed the marker after $(bochs_secs $((seen - start))) s,}" \
		"ended after $(bochs_secs $((now - start))) s: ${bochs_end:-exit $rc} (rc $rc)" >&2
}
