#!/bin/bash
# Boots each scenario under QEMU (OVMF -> bvmm -> a scenario control program or Linux), keeps
# COM1 (control guest) and COM2 (hypervisor log) under build/scenarios/<name>/, and judges
# them: one "PASS <scenario>/<check>" or "FAIL <scenario>/<check>" line per check.
# Usage: run.sh [scenario...]   (default: all)
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
OUT=$B/scenarios
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; }
check() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "${3:-}"; fi; }

# need NAME FILE...: every file exists, else the scenario fails at once (no boot to time out).
need() {
	local name=$1 f
	shift
	for f in "$@"; do
		[ -f "$f" ] || { fail "$name/setup" "$f is missing (make test builds it)"; return 1; }
	done
}

# new_esp NAME: a fresh ESP with bvmm as the removable-media boot file.
new_esp() {
	rm -rf "$OUT/$1"
	mkdir -p "$OUT/$1/esp/EFI/BOOT"
	cp "$B/bvmm.efi" "$OUT/$1/esp/EFI/BOOT/BOOTX64.EFI"
	printf 'bvmm scenario data 0123456789\n' > "$OUT/$1/esp/sc_data.txt"
}

# boot NAME CPU TIMEOUT [qemu args...]: run QEMU on $OUT/NAME/esp; sets $rc. The caller may
# set BOOT_ACCEL (e.g. "local BOOT_ACCEL=tcg,thread=multi"), else single-threaded TCG (QEMU's
# default for x86 on x86 with -smp > 1 is multi-threaded, under which nested SVM is not
# reliable: README, "What does not work yet"). BOOT_EXTRA: more
# QEMU arguments for a debugging run (e.g. "-monitor unix:/tmp/mon,server,nowait").
boot() {
	local name=$1 cpu=$2 t=$3 dir=$OUT/$1
	shift 3
	cp "$OVMF_VARS" "$dir/vars.fd"
	local start=$SECONDS
	# The boot disk: the scenario's ESP folder as a virtual FAT disk, or $dir/disk.img.
	local disk="file=fat:rw:$dir/esp,format=raw,media=disk"
	[ -f "$dir/disk.img" ] && disk="file=$dir/disk.img,format=raw,media=disk"
	timeout "$t" qemu-system-x86_64 -machine q35 -accel "${BOOT_ACCEL:-tcg,thread=single}" -cpu "$cpu" -smp 1 -m 512M \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE \
		-drive if=pflash,format=raw,unit=1,file="$dir/vars.fd" \
		-drive "$disk" "$@" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-display none -vga none -net none -no-reboot -monitor none ${BOOT_EXTRA:-} \
		-serial file:"$dir/com1.log" -serial file:"$dir/com2.log" >"$dir/qemu.log" 2>&1
	rc=$?
	tr -d '\r' < "$dir/com1.log" > "$dir/com1.txt"
	tr -d '\r' < "$dir/com2.log" > "$dir/com2.txt"
	echo "# $name: QEMU exited with $rc after $((SECONDS - start)) s" >&2
}

# boot_until NAME CPU TIMEOUT MARKER [qemu args...]: like boot, but ends QEMU as soon as the
# hypervisor log (COM2) shows MARKER (for runs that end in a halted CPU, not a power-off).
boot_until() {
	local name=$1 cpu=$2 t=$3 marker=$4 dir=$OUT/$1
	shift 4
	boot "$name" "$cpu" "$t" "$@" &
	local pid=$! waited=0
	while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((t * 2)) ]; do
		if grep -a -q -- "$marker" "$dir/com2.log" 2>/dev/null; then
			sleep 0.5   # let the rest of the report reach the log
			pkill -f -- "-serial file:$dir/com1.log" 2>/dev/null
			break
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
	wait "$pid"
	tr -d '\r' < "$dir/com1.log" > "$dir/com1.txt"
	tr -d '\r' < "$dir/com2.log" > "$dir/com2.txt"
}

# judge NAME MARKER: the check lines the guest printed, and whether it finished.
judge() {
	local name=$1 marker=$2 dir=$OUT/$1
	grep -a -E '^(PASS|FAIL) ' "$dir/com1.txt" | sed -E "s#^(PASS|FAIL) #\1 $name/#"
	if [ "$rc" = 124 ]; then
		fail "$name/finished" "timed out"
	else
		grep -a -q -- "$marker" "$dir/com1.txt"
		check "$name/finished" $? "no '$marker' in COM1 (QEMU status $rc)"
	fi
	if grep -a -q '^FAIL' "$dir/com1.txt" || ! grep -a -q -- "$marker" "$dir/com1.txt"; then
		# Indented, so that the logs' own PASS/FAIL lines are not counted again.
		echo "---- $name: tail of COM1 ($dir/com1.txt)"
		tail -n 25 "$dir/com1.txt" | sed 's/^/  | /'
		echo "---- $name: tail of COM2, the hypervisor log ($dir/com2.txt)"
		tail -n 25 "$dir/com2.txt" | sed 's/^/  | /'
		echo "----"
	fi
}

# hvlog NAME CHECK REGEX: the hypervisor log of NAME contains REGEX.
hvlog() {
	grep -a -q -E -- "$3" "$OUT/$1/com2.txt"
	check "$1/$2" $? "hypervisor log lacks /$3/"
}

# 1. The firmware as control guest, and the hypervisor log of the launch and its events.
s1() {
	need s1 "$B/bvmm.efi" "$B/scenarios/bin/s1_control.efi" || return
	new_esp s1
	cp "$B/scenarios/bin/s1_control.efi" "$OUT/s1/esp/EFI/BOOT/"
	printf '# scenario 1\ncontrol = s1_control.efi\ncontrol_args = %s\npool=32M\nlog=com2\n' \
		"${S1_ARGS:-sc-args 42}" > "$OUT/s1/esp/EFI/BOOT/bvmm.conf"
	boot s1 max "${S1_TIMEOUT:-90}"
	judge s1 "DONE s1-control"
	hvlog s1 log-launch-pool 'bvmm: cpu[0-9]*: info: launch: pool [0-9a-f]+-[0-9a-f]+ \(32768 KiB\)'
	hvlog s1 log-launch-npt 'launch: nested page tables map \[0, [0-9a-f]+\) minus the pool, 1 GiB pages, [0-9]+ table pages'
	hvlog s1 log-launch-vendor 'launch: vendor AMD SVM'
	hvlog s1 log-guest-running 'launch: control guest running'
	hvlog s1 log-pool-access 'bvmm: cpu[0-9]*: warn: control guest access to [0-9a-f]+ \(hypervisor pool\).*#GP\(0\) injected'
	hvlog s1 log-pool-write 'bvmm: cpu[0-9]*: warn: control guest write to [0-9a-f]+ \(hypervisor pool\)'
	hvlog s1 log-svm-insn-ud 'control guest SVM instruction \(exit 80\).*#UD'
	hvlog s1 log-msr-refused 'control guest write of MSR c0010117 refused: #GP'
	hvlog s1 log-apic-base-refused 'control guest write of MSR 1b refused: #GP'
	hvlog s1 log-ecam-read-only 'launch: PCI ECAM b0000000-bfffffff \(buses 0-255\) read-only'
	hvlog s1 log-rcba-refused 'control guest PCI config write 00:1f.0\+0f0 \(4 bytes, [0-9a-f]+\) refused'
	hvlog s1 log-iorr-refused 'control guest write of MSR c0010016 refused: #GP'
	hvlog s1 log-cr0-paging-off-refused 'control guest CR0 write [0-9a-f]+ at rip [0-9a-f]+ refused: #GP'
	grep -a -q 'bvmm: launch cost [0-9]* TSC ticks' "$OUT/s1/com1.txt"
	check s1/log-launch-cost $? "no launch cost line"
}

# 2. No SVM: bvmm explains and returns; the firmware boots the next option (a second disk).
s2() {
	need s2 "$B/bvmm.efi" "$B/scenarios/bin/fallback.efi" || return
	new_esp s2
	mkdir -p "$OUT/s2/next/EFI/BOOT"
	cp "$B/scenarios/bin/fallback.efi" "$OUT/s2/next/EFI/BOOT/BOOTX64.EFI"
	boot s2 qemu64,-svm 90 -drive file=fat:rw:"$OUT/s2/next",format=raw,media=disk
	judge s2 "DONE fallback"
	grep -a -q 'bvmm: not starting: this CPU has neither AMD SVM nor Intel VMX. Returning to the firmware.' "$OUT/s2/com1.txt"
	check s2/bvmm-says-why $? "no explanation on the console"
}

# 3. Debian's Linux (EFI stub + busybox initramfs) as the control guest.
s3() {
	need s3 "$B/bvmm.efi" "$B/linux/vmlinuz" "$B/linux/initrd.img" || return
	new_esp s3
	cp "$B/linux/vmlinuz" "$B/linux/initrd.img" "$OUT/s3/esp/EFI/BOOT/"
	# "-cpu max" has LA57: the kernel runs with 5-level paging, which bvmm walks. nokaslr: the
	# direct map at its documented base (vmmtest's kernel-address check relies on it).
	printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img console=ttyS0 panic=-1 quiet nokaslr\n' \
		> "$OUT/s3/esp/EFI/BOOT/bvmm.conf"
	boot s3 max 180
	judge s3 "BVMM-LINUX-INIT done"
	hvlog s3 log-guest-running 'launch: control guest running'
	# The child VMs vmmtest creates through /dev/vmm; the second ends when its file closes.
	hvlog s3 log-linux-vm-created 'bvmm: cpu[0-9]*: info: vm [0-9]+ "linux-child" created: 1 MiB in 1 ranges, 1 vCPUs'
	hvlog s3 log-linux-vm-terminated 'bvmm: cpu[0-9]*: info: vm [0-9]+ "linux-child" terminated'
	hvlog s3 log-linux-vm-released 'bvmm: cpu[0-9]*: info: vm [0-9]+ "linux-child-2" terminated'
	! grep -a -q -E 'bvmm: cpu[0-9]*: (error|warn)' "$OUT/s3/com2.txt"
	check s3/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: (error|warn)' "$OUT/s3/com2.txt" | head -3)"
}

# 4. The vmm(4) operations with real child VMs.
s4() {
	need s4 "$B/bvmm.efi" "$B/scenarios/bin/s4_vmm.efi" || return
	new_esp s4
	cp "$B/scenarios/bin/s4_vmm.efi" "$OUT/s4/esp/EFI/BOOT/control.efi"
	printf 'pool=4M\n' > "$OUT/s4/esp/EFI/BOOT/bvmm.conf"
	boot s4 max 120
	judge s4 "DONE s4-vmm"
	grep -a '^METRIC' "$OUT/s4/com1.txt" >&2
	hvlog s4 log-vm-created 'bvmm: cpu[0-9]*: info: vm [0-9]+ "solo5-like" created: 4 MiB in 1 ranges, 1 vCPUs'
	hvlog s4 log-vm-terminated 'bvmm: cpu[0-9]*: info: vm [0-9]+ "solo5-like" terminated'
	! grep -a -q -E 'bvmm: cpu[0-9]*: error' "$OUT/s4/com2.txt"
	check s4/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: error' "$OUT/s4/com2.txt" | head -3)"
}

# 5. What `make run` shows: no bvmm.conf (the defaults), the default control program, its
#    demo child VM, the power-off.
s5() {
	need s5 "$B/bvmm.efi" "$B/control/hello.efi" || return
	new_esp s5
	cp "$B/control/hello.efi" "$OUT/s5/esp/EFI/BOOT/control.efi"
	boot s5 max 90
	local c1=$OUT/s5/com1.txt
	grep -a -q 'control: bvmm ABI version 1, vendor AMD SVM, pool 65536 KiB' "$c1"
	check s5/default-pool-64m $? "$(grep -a 'control:' "$c1" | head -3)"
	grep -a -q '^child: Hello from a child VM' "$c1"
	check s5/demo-child-output $? "no greeting from the child"
	grep -a -q 'control: TERM errno 0, pool free [0-9]* KiB (as before CREATE)' "$c1"
	check s5/demo-pool-returned $? "$(grep -a 'TERM' "$c1")"
	[ "$rc" = 0 ]
	check s5/powered-off $? "QEMU status $rc (expected 0: ACPI power-off)"
	grep -a -q 'log com2' "$c1"
	check s5/default-log-com2 $? ""
	grep -a -q '^bvmm: 1 CPU virtualized' "$c1"
	check s5/one-cpu-virtualized $? "$(grep -a 'virtualized' "$c1")"
	# The same boot with two CPUs: both are virtualized, the demo runs as before.
	boot s5 max 90 -smp 2
	grep -a -q '^bvmm: 2 CPUs virtualized' "$OUT/s5/com1.txt"
	check s5/two-cpus-virtualized $? "$(grep -a 'bvmm:' "$OUT/s5/com1.txt" | tail -3)"
	grep -a -q 'bvmm: cpu1: info: launch: control guest running' "$OUT/s5/com2.txt"
	check s5/second-cpu-in-guest-mode $? ""
	grep -a -q 'control: TERM errno 0, pool free [0-9]* KiB (as before CREATE)' "$OUT/s5/com1.txt"
	check s5/demo-with-two-cpus $? "$(grep -a 'control:' "$OUT/s5/com1.txt" | tail -2)"
}

# 7. vmmctl, as a user would run a guest image from bvmm.conf: info, run (its COM1 on our
#    console), info again (no VM left), poweroff.
s7() {
	need s7 "$B/bvmm.efi" "$B/control/vmmctl.efi" "$B/control/demo16.bin" "$B/control/timer16.bin" \
		"$B/control/hello64.elf" "$B/control/mb_test.elf" || return
	new_esp s7
	cp "$B/control/vmmctl.efi" "$OUT/s7/esp/EFI/BOOT/"
	cp "$B/control/demo16.bin" "$B/control/timer16.bin" "$B/control/hello64.elf" "$B/control/mb_test.elf" "$OUT/s7/esp/"
	printf 'control=vmmctl.efi\ncontrol_args=info run \\demo16.bin mem=2 load=0x7c00 name=demo run \\timer16.bin name=timer run \\hello64.elf mem=2 name=hello64 start -m 4 \\mb_test.elf info poweroff\n' \
		> "$OUT/s7/esp/EFI/BOOT/bvmm.conf"
	boot s7 max 90
	local c1=$OUT/s7/com1.txt
	grep -a -q '^vmmctl: bvmm ABI 1, AMD SVM, pool 65536 KiB' "$c1"
	check s7/info $? "$(grep -a 'vmmctl' "$c1" | head -3)"
	grep -a -q '^vmmctl: VM 1 "demo": 2 MiB, raw image \\demo16.bin at 7c00, entry 7c00' "$c1"
	check s7/run-created $? "$(grep -a 'vmmctl: VM' "$c1" | head -2)"
	grep -a -q '^demo: Hello from a child VM' "$c1"
	check s7/guest-console $? "no guest output"
	grep -a -q -E '^vmmctl: demo: halted \(status 0\) after .* exits: [0-9]+ I/O' "$c1"
	check s7/guest-halted $? "$(grep -a 'halted\|errno' "$c1" | tail -2)"
	# A guest on timer interrupts: PIC and PIT models, INTR, injection, HLT waits.
	[ "$(grep -a -c '^timer: tick [1-5]0$' "$c1")" = 5 ] && grep -a -q '^timer: 50 timer interrupts taken: done' "$c1"
	check s7/timer-guest-50-interrupts $? "$(grep -a '^timer\|vmmctl: timer' "$c1" | tail -3)"
	grep -a -q -E '^vmmctl: timer: halted \(status 0\) .*; (5[0-9]|[6-9][0-9]) interrupts injected' "$c1"
	check s7/timer-interrupts-injected $? "$(grep -a 'vmmctl: timer' "$c1")"
	# A 64-bit ELF: segments loaded and protected per their flags (as Solo5's hvt does); the
	# guest's data write goes through, its write to its own text stops it.
	grep -a -q '^vmmctl: VM 3 "hello64": 2 MiB, ELF64 \\hello64.elf, 2 segments, entry 100000' "$c1" &&
		grep -a -q '^vmmctl:   segment 100000-101000 r-x (MPROTECT_EPT errno 0)' "$c1" &&
		grep -a -q '^vmmctl:   segment 101000-102000 rw- (MPROTECT_EPT errno 0)' "$c1"
	check s7/elf-loaded-and-protected $? "$(grep -a 'hello64\|segment' "$c1" | head -4)"
	grep -a -q '^hello64: Hello from a 64-bit ELF guest' "$c1"
	check s7/elf-guest-console $? "no hello64 output"
	grep -a -q '^vmmctl: hello64: access against MPROTECT_EPT at rip 1000[0-9a-f][0-9a-f]$' "$c1"
	check s7/elf-text-write-stopped $? "$(grep -a 'vmmctl: hello64' "$c1" | tail -2)"
	# vmmctl's start in EFI: a Multiboot kernel (xAPIC timer through MMIO exits, port 0xf4).
	grep -a -q -E '^mb_test: mb: PASS apic-timer ticks=[1-9][0-9]+$' "$c1" &&
		grep -a -q -E '^vmmctl: mb_test: exit through port 0xf4 \(status 1\) after .* [1-9][0-9]* MMIO' "$c1"
	check s7/multiboot-kernel $? "$(grep -a '^mb_test\|vmmctl: mb_test' "$c1" | tail -4)"
	[ "$(grep -a -c '^vmmctl: 0 VMs' "$c1")" = 2 ]
	check s7/no-vm-left $? "$(grep -a 'VMs' "$c1")"
	[ "$rc" = 0 ]
	check s7/powered-off $? "QEMU status $rc"
}

# 8. From the UEFI shell: bvmm.efi with load options (which override bvmm.conf), the log on
#    the debug console at debug level, vmmctl as the control image.
s8() {
	need s8 "$B/bvmm.efi" "$B/control/vmmctl.efi" "$B/control/demo16.bin" || return
	rm -rf "$OUT/s8" && mkdir -p "$OUT/s8/esp"
	cp "$B/bvmm.efi" "$B/control/vmmctl.efi" "$B/control/demo16.bin" "$OUT/s8/esp/"
	printf 'pool=4M\nlog=com1\n' > "$OUT/s8/esp/bvmm.conf"   # overridden below
	printf 'fs0:\r\n\\bvmm.efi pool=8M log=debugcon log_level=debug control=\\vmmctl.efi "control_args=info run \\demo16.bin name=shelldemo poweroff"\r\n' \
		> "$OUT/s8/esp/startup.nsh"
	boot s8 max 90 -debugcon file:"$OUT/s8/debugcon.log" -global isa-debugcon.iobase=0xe9
	tr -d '\r' < "$OUT/s8/debugcon.log" > "$OUT/s8/debugcon.txt" 2>/dev/null
	local c1=$OUT/s8/com1.txt dc=$OUT/s8/debugcon.txt
	grep -a -q '^vmmctl: bvmm ABI 1, AMD SVM, pool 8192 KiB' "$c1"
	check s8/load-options-override-conf $? "$(grep -a 'bvmm: pool\|vmmctl: bvmm' "$c1" | head -2)"
	grep -a -q '^shelldemo: Hello from a child VM' "$c1"
	check s8/quoted-control-args $? "$(grep -a 'vmmctl' "$c1" | head -3)"
	grep -a -q '^bvmm: cpu[0-9]*: info: launch: pool' "$dc"
	check s8/log-on-debugcon $? "no launch lines on the debug console"
	grep -a -q -E '^bvmm: cpu[0-9]*: debug: hypercall (2|12): errno 5' "$dc"
	check s8/log-level-debug $? "no debug line for RUN's (or RUN_PHYS's) EIO"
	! grep -a -q 'bvmm: cpu[0-9]*: info:' "$OUT/s8/com2.txt" "$c1"
	check s8/log-only-on-debugcon $? "hypervisor lines on a serial port"
	[ "$rc" = 0 ]
	check s8/powered-off $? "QEMU status $rc"
}

# 9. The USB-stick image `make image` writes (GPT, FAT32 ESP), booted as a disk.
s9() {
	need s9 "$B/bvmm.img" || return
	rm -rf "$OUT/s9" && mkdir -p "$OUT/s9"
	cp "$B/bvmm.img" "$OUT/s9/disk.img"
	sgdisk -v "$OUT/s9/disk.img" >/dev/null 2>&1 &&
		sgdisk -i 1 "$OUT/s9/disk.img" 2>/dev/null | grep -q 'EFI system partition'
	check s9/gpt-with-esp $? "$(sgdisk -p "$OUT/s9/disk.img" 2>&1 | tail -3)"
	boot s9 max 90
	grep -a -q '^child: Hello from a child VM' "$OUT/s9/com1.txt"
	check s9/boots-bvmm-and-demo $? "$(grep -a 'bvmm\|control' "$OUT/s9/com1.txt" | head -3)"
	[ "$rc" = 0 ]
	check s9/powered-off $? "QEMU status $rc"
}

# 6. Failure paths, with bvmm-test.efi (test hooks compiled in).
s6() {
	need s6 "$B/bvmm-test.efi" "$B/scenarios/bin/fallback.efi" "$B/scenarios/bin/s6_hooks.efi" || return
	# 6a. The first VMRUN is refused: the firmware resumes without bvmm and boots on.
	rm -rf "$OUT/s6a" && mkdir -p "$OUT/s6a/esp/EFI/BOOT" "$OUT/s6a/next/EFI/BOOT"
	cp "$B/bvmm-test.efi" "$OUT/s6a/esp/EFI/BOOT/BOOTX64.EFI"
	printf 'test=vmrun-fail\n' > "$OUT/s6a/esp/EFI/BOOT/bvmm.conf"
	cp "$B/scenarios/bin/fallback.efi" "$OUT/s6a/next/EFI/BOOT/BOOTX64.EFI"
	boot s6a max 90 -drive file=fat:rw:"$OUT/s6a/next",format=raw,media=disk
	judge s6a "DONE fallback"
	hvlog s6a vmrun-refused-logged 'first VMRUN failed \(VMEXIT_INVALID\)'
	grep -a -q 'bvmm: launch failed (errno 5): the firmware continues without bvmm' "$OUT/s6a/com1.txt"
	check s6a/firmware-resumed-and-told $? "no 'launch failed' on the console"
	# 6b. An unexpected child exit, then a host-mode exception: a panic report, then halt. On
	#     2 CPUs: the panicking CPU stops the other with an NMI before it reports.
	rm -rf "$OUT/s6b" && mkdir -p "$OUT/s6b/esp/EFI/BOOT"
	cp "$B/bvmm-test.efi" "$OUT/s6b/esp/EFI/BOOT/BOOTX64.EFI"
	cp "$B/scenarios/bin/s6_hooks.efi" "$OUT/s6b/esp/EFI/BOOT/control.efi"
	boot_until s6b max 90 'bvmm: cpu[0-9]*: error: halted' -smp 2
	grep -a -E '^(PASS|FAIL) ' "$OUT/s6b/com1.txt" | sed -E "s#^(PASS|FAIL) #\1 s6b/#"
	hvlog s6b unexpected-exit-logged 'vm 1 vcpu 0: unexpected exit 46, stopped'
	hvlog s6b panic-names-exception 'PANIC: host-mode exception #UD \(vector 6\)'
	hvlog s6b panic-shows-registers 'rax [0-9a-f]{16} rbx [0-9a-f]{16} rcx [0-9a-f]{16} rdx'
	hvlog s6b panic-shows-control-registers 'cr0 [0-9a-f]{16} cr2 [0-9a-f]{16} cr3'
	hvlog s6b panic-dumps-stack '\[ffffffff801[0-9a-f]{5}\] [0-9a-f]{16} [0-9a-f]{16}'
	hvlog s6b panic-halts 'bvmm: cpu[0-9]*: error: halted'
	# The report is one CPU's: no other CPU's line between PANIC and halted.
	sed -n '/PANIC/,/halted/p' "$OUT/s6b/com2.txt" | grep -a -o 'bvmm: cpu[0-9]*' | sort -u | wc -l | grep -q -x 1
	check s6b/panic-report-one-cpu $? "$(sed -n '/PANIC/,/halted/p' "$OUT/s6b/com2.txt" | grep -a -o 'bvmm: cpu[0-9]*' | sort -u | tr '\n' ' ')"
	! grep -a -q 'panic-did-not-stop' "$OUT/s6b/com1.txt"
	check s6b/host-stopped-after-panic $? "the control guest ran on after the panic"
}

# 14. Every CPU virtualized: -smp 4 on multi-threaded TCG (one host thread per CPU).
#     a: s14_smp.efi, through the firmware's MP services, checks each CPU in turn (signature,
#        SVM hidden, HVINFO with the BSP's pool, the pool #GP, the MSR rules, its own APIC ID)
#        and then all at once (HVINFO and CPUID from every CPU together);
#     b: bvmm-test.efi with test=ap-launch-fail (the last AP's first VMRUN refused): the launch
#        fails as a whole, bvmm starts no control image, the firmware boots the next disk,
#        where s14_smp.efi (no load options) finds no CPU left virtualized.
s14() {
	local BOOT_ACCEL=${S14_ACCEL:-tcg,thread=multi} n=${S14_CPUS:-4}
	need s14 "$B/bvmm.efi" "$B/bvmm-test.efi" "$B/scenarios/bin/s14_smp.efi" || return
	rm -rf "$OUT/s14a" && mkdir -p "$OUT/s14a/esp/EFI/BOOT"
	cp "$B/bvmm.efi" "$OUT/s14a/esp/EFI/BOOT/BOOTX64.EFI"
	cp "$B/scenarios/bin/s14_smp.efi" "$OUT/s14a/esp/EFI/BOOT/"
	printf 'control=s14_smp.efi\ncontrol_args=expect=bvmm cpus=%d\npool=32M\n' "$n" \
		> "$OUT/s14a/esp/EFI/BOOT/bvmm.conf"
	boot s14a max "${S14_TIMEOUT:-180}" -smp "$n"
	judge s14a "DONE s14-smp"
	local c c1 c2=$OUT/s14a/com2.txt missing
	grep -a -q "^bvmm: $n CPUs virtualized" "$OUT/s14a/com1.txt"
	check s14a/cpus-virtualized-told $? "$(grep -a '^bvmm: .*CPU' "$OUT/s14a/com1.txt" | tail -2)"
	# Each CPU entered guest mode, and its read of the pool was a #GP of its own, logged.
	missing=
	for c in $(seq 0 $((n - 1))); do
		grep -a -q "bvmm: cpu$c: info: launch: control guest running" "$c2" || missing="$missing cpu$c"
	done
	[ -z "$missing" ]
	check s14a/log-guest-running-every-cpu $? "not logged for$missing"
	missing=
	for c in $(seq 0 $((n - 1))); do
		grep -a -q "bvmm: cpu$c: warn: control guest access to [0-9a-f]* (hypervisor pool)" "$c2" ||
			missing="$missing cpu$c"
	done
	[ -z "$missing" ]
	check s14a/log-pool-access-every-cpu $? "not logged for$missing"
	! grep -a -q -E 'bvmm: cpu[0-9]*: error' "$OUT/s14a/com2.txt"
	check s14a/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: error' "$OUT/s14a/com2.txt" | head -3)"

	rm -rf "$OUT/s14b" && mkdir -p "$OUT/s14b/esp/EFI/BOOT" "$OUT/s14b/next/EFI/BOOT"
	cp "$B/bvmm-test.efi" "$OUT/s14b/esp/EFI/BOOT/BOOTX64.EFI"
	cp "$B/scenarios/bin/s14_smp.efi" "$OUT/s14b/esp/EFI/BOOT/control.efi"
	printf 'test=ap-launch-fail\ncontrol_args=expect=bvmm cpus=%d\n' "$n" > "$OUT/s14b/esp/EFI/BOOT/bvmm.conf"
	cp "$B/scenarios/bin/s14_smp.efi" "$OUT/s14b/next/EFI/BOOT/BOOTX64.EFI"
	boot s14b max "${S14_TIMEOUT:-180}" -smp "$n" -drive file=fat:rw:"$OUT/s14b/next",format=raw,media=disk
	judge s14b "DONE s14-smp"
	c1=$OUT/s14b/com1.txt
	! grep -a -q 'bvmm: config' "$c1" && ! grep -a -q -i 'test= must' "$c1"
	check s14b/test-key-accepted $? "$(grep -a -i 'test=' "$c1" | head -2)"
	grep -a -q "^bvmm: CPU $((n - 1)) failed to launch" "$c1" &&
		grep -a -q '^bvmm: launch failed.*the firmware continues without bvmm' "$c1"
	check s14b/launch-failed-and-told $? "$(grep -a '^bvmm: .*\(fail\|launch\)' "$c1" | tail -3)"
	hvlog s14b log-last-ap-vmrun-refused "bvmm: cpu$((n - 1)): error: first VMRUN failed"
	# Every CPU that had entered guest mode left it again.
	missing=
	for c in $(seq 0 $((n - 2))); do
		grep -a -q "bvmm: cpu$c: info: launch undone" "$OUT/s14b/com2.txt" || missing="$missing cpu$c"
	done
	[ -z "$missing" ]
	check s14b/log-launch-undone-every-cpu $? "not logged for$missing"
	! grep -a -q -E 'expecting bvmm on every CPU|bvmm: launch cost' "$c1"
	check s14b/control-image-not-started $? "$(grep -a -E 'launch cost|expecting' "$c1" | head -2)"
	[ "$(grep -a -c -E '^PASS cpu[0-9]+/no-bvmm-signature$' "$c1")" = "$n" ]
	check s14b/every-cpu-unvirtualized $? "$(grep -a -c -E '^PASS cpu[0-9]+/no-bvmm-signature$' "$c1") of $n CPUs without bvmm"
}

# Scenarios kept in files of their own (each defines a function named as the scenario).
. tests/scenarios/bochs.sh   # bochs_boot: scenarios under Bochs (Intel VMX)
for f in tests/scenarios/s[0-9]*.sh; do [ -f "$f" ] && . "$f"; done

mkdir -p "$OUT"
for s in "${@:-s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16}"; do
	for one in $s; do "$one"; done
done
