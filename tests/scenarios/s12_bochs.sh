# 12. Intel VMX under Bochs (tests/scenarios/bochs.sh), on corei7_skylake_x and
#     corei7_haswell_4770: OVMF -> bvmm (VMX, EPT) -> s1's control-guest program, the same
#     checks as on SVM where the vendors agree (CPUID, HVINFO, MSR allowlist, CR0 emulation,
#     the pool out of reach, firmware services), each vendor's own where they differ (VMX's
#     FEATURE_CONTROL and capability MSRs; i440FX's PAM/SMRAM under Bochs instead of q35's).
#     Children do not run on VMX yet: CREATE answers ENOSYS (checked).
s12() {
	local models=${S12_MODELS:-corei7_skylake_x corei7_haswell_4770} t=${S12_TIMEOUT:-180} model tag n
	need s12 "$B/bvmm.efi" "$B/scenarios/bin/s1_control.efi" || return
	for model in $models; do
		tag=${model#corei7_}
		n=s12-$tag
		new_esp "$n"
		cp "$B/scenarios/bin/s1_control.efi" "$OUT/$n/esp/EFI/BOOT/"
		printf 'control = s1_control.efi\ncontrol_args = sc-args 42\npool=32M\nlog=com2\n' \
			> "$OUT/$n/esp/EFI/BOOT/bvmm.conf"
		bochs_boot "$n" "$model" "$t" "DONE s1-control"
		judge "$n" "DONE s1-control"
		hvlog "$n" log-vendor-vmx 'launch: vendor Intel VMX \(pin [0-9a-f]+ proc [0-9a-f]+ proc2 [0-9a-f]+'
		hvlog "$n" log-ept-without-pool 'launch: EPT maps \[0, [0-9a-f]+\) minus the pool'
		hvlog "$n" log-guest-running 'launch: control guest running \(first exit [0-9]+\)'
		hvlog "$n" log-pool-access 'bvmm: warn: control guest access to [0-9a-f]+ \(hypervisor pool\).*#GP\(0\) injected'
		hvlog "$n" log-feature-control-refused 'control guest write of MSR 3a refused: #GP'
		hvlog "$n" log-pam-refused 'control guest PCI config write 00:00.0\+059 \(1 bytes, 0\) refused'
		! grep -a -q -E 'bvmm: error|PANIC' "$OUT/$n/com2.txt"
		check "$n/no-hypervisor-errors" $? "$(grep -a -E 'bvmm: error|PANIC' "$OUT/$n/com2.txt" | head -3)"
	done
}
