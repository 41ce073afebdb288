# 12. Intel VMX under Bochs (tests/scenarios/bochs.sh), on corei7_skylake_x and
#     corei7_haswell_4770, each boot judged with the same check lines as under QEMU/SVM:
#   s12-<model>:      OVMF -> bvmm (VMX, EPT) -> s1's control-guest program, the vendor's own
#                     checks where the vendors differ (VMX hidden, FEATURE_CONTROL, i440FX's
#                     PAM/SMRAM instead of q35's decoders);
#   s12vmm-<model>:   s4's operations program: child VMs on VMX (real mode, 32-bit, 64-bit,
#                     I/O, MMIO, MPROTECT_EPT, HLT, triple fault, interrupts, pvclock, errnos);
#   s12demo-<model>:  what `make run VENDOR=intel` boots: the demo control program and child;
#   s12ctl-<model>:   vmmctl with the demo, the timer guest and the Multiboot kernel.
s12_boot() {   # NAME MODEL MARKER TIMEOUT
	bochs_boot "$1" "$2" "$4" "$3"
}

s12() {
	local models=${S12_MODELS:-corei7_skylake_x corei7_haswell_4770} t=${S12_TIMEOUT:-180} model tag n
	need s12 "$B/bvmm.efi" "$B/scenarios/bin/s1_control.efi" "$B/scenarios/bin/s4_vmm.efi" \
		"$B/control/hello.efi" "$B/control/vmmctl.efi" "$B/control/timer16.bin" "$B/control/mb_test.elf" || return
	for model in $models; do
		tag=${model#corei7_}
		n=s12-$tag
		new_esp "$n"
		cp "$B/scenarios/bin/s1_control.efi" "$OUT/$n/esp/EFI/BOOT/"
		printf 'control = s1_control.efi\ncontrol_args = sc-args 42\npool=32M\nlog=com2\n' \
			> "$OUT/$n/esp/EFI/BOOT/bvmm.conf"
		s12_boot "$n" "$model" "DONE s1-control" "$t"
		judge "$n" "DONE s1-control"
		hvlog "$n" log-vendor-vmx 'launch: vendor Intel VMX \(pin [0-9a-f]+ proc [0-9a-f]+ proc2 [0-9a-f]+'
		hvlog "$n" log-ept-without-pool 'launch: EPT maps \[0, [0-9a-f]+\) minus the pool'
		hvlog "$n" log-guest-running 'launch: control guest running \(first exit [0-9]+\)'
		hvlog "$n" log-pool-access 'bvmm: cpu[0-9]*: warn: control guest access to [0-9a-f]+ \(hypervisor pool\).*#GP\(0\) injected'
		hvlog "$n" log-feature-control-refused 'control guest write of MSR 3a refused: #GP'
		hvlog "$n" log-pam-refused 'control guest PCI config write 00:00.0\+059 \(1 bytes, 0\) refused'
		s12_no_errors "$n"

		n=s12vmm-$tag
		new_esp "$n"
		cp "$B/scenarios/bin/s4_vmm.efi" "$OUT/$n/esp/EFI/BOOT/control.efi"
		printf 'pool=4M\n' > "$OUT/$n/esp/EFI/BOOT/bvmm.conf"
		s12_boot "$n" "$model" "DONE s4-vmm" "$t"
		judge "$n" "DONE s4-vmm"
		hvlog "$n" log-vm-created 'bvmm: cpu[0-9]*: info: vm [0-9]+ "solo5-like" created: 4 MiB in 1 ranges, 1 vCPUs'
		s12_no_errors "$n"

		n=s12demo-$tag
		new_esp "$n"
		cp "$B/control/hello.efi" "$OUT/$n/esp/EFI/BOOT/control.efi"
		s12_boot "$n" "$model" "control: TERM errno" "$t"
		grep -a -q '^child: Hello from a child VM' "$OUT/$n/com1.txt"
		check "$n/demo-child-output" $? "no greeting from the child: $(grep -a 'control:' "$OUT/$n/com1.txt" | tail -2)"
		grep -a -q 'control: TERM errno 0, pool free [0-9]* KiB (as before CREATE)' "$OUT/$n/com1.txt"
		check "$n/demo-pool-returned" $? "$(grep -a 'TERM' "$OUT/$n/com1.txt")"
		s12_no_errors "$n"

		n=s12ctl-$tag
		new_esp "$n"
		cp "$B/control/vmmctl.efi" "$OUT/$n/esp/EFI/BOOT/"
		cp "$B/control/demo16.bin" "$B/control/timer16.bin" "$B/control/mb_test.elf" "$OUT/$n/esp/"
		# The one "info" comes last: its "0 VMs" ends the boot.
		printf 'control=vmmctl.efi\ncontrol_args=run \\demo16.bin mem=2 load=0x7c00 name=demo run \\timer16.bin name=timer start -m 4 \\mb_test.elf info poweroff\n' \
			> "$OUT/$n/esp/EFI/BOOT/bvmm.conf"
		s12_boot "$n" "$model" "vmmctl: 0 VMs" "$t"
		grep -a -q '^vmmctl: bvmm ABI 1, Intel VMX, pool 65536 KiB' "$OUT/$n/com1.txt"
		check "$n/info" $? "$(grep -a 'vmmctl' "$OUT/$n/com1.txt" | head -2)"
		grep -a -q '^demo: Hello from a child VM' "$OUT/$n/com1.txt"
		check "$n/guest-console" $? "no guest output"
		grep -a -q '^timer: 50 timer interrupts taken: done' "$OUT/$n/com1.txt"
		check "$n/timer-guest-50-interrupts" $? "$(grep -a '^timer\|vmmctl: timer' "$OUT/$n/com1.txt" | tail -3)"
		# A Multiboot kernel on VMX: its xAPIC's MMIO exits (EPT violations) decoded by vmmctl,
		# 10 or more timer interrupts (more when they come faster than its loop: Bochs), its end through port 0xf4.
		grep -a -q '^mb_test: mb: PASS mmap$' "$OUT/$n/com1.txt" &&
			grep -a -q -E '^mb_test: mb: PASS apic-timer ticks=[1-9][0-9]+$' "$OUT/$n/com1.txt" &&
			grep -a -q -E '^vmmctl: mb_test: exit through port 0xf4 \(status 1\) after .* [1-9][0-9]* MMIO' "$OUT/$n/com1.txt"
		check "$n/multiboot-kernel" $? "$(grep -a '^mb_test\|vmmctl: mb_test' "$OUT/$n/com1.txt" | tail -4)"
		s12_no_errors "$n"
	done
}

s12_no_errors() {
	! grep -a -q -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/$1/com2.txt"
	check "$1/no-hypervisor-errors" $? "$(grep -a -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/$1/com2.txt" | head -3)"
}
