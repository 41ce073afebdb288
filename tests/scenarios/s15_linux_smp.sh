# 15. Debian's Linux as the control guest on 4 CPUs: every CPU under bvmm, and /dev/vmm used
#     from all of them at once by control/linux/vmmsmp.c (a VM per CPU, one VM with 4 vCPUs,
#     EBUSY for a running vCPU, TERM and MPROTECT_EPT while a vCPU runs elsewhere, a file
#     closed under a RUN, TERM from another process, TERM racing CREATE, a stress loop, a CPU
#     offline and back).
#     Single-threaded TCG (the 4 CPUs interleaved on one host thread): under multi-threaded
#     TCG, QEMU 7.2 and 10.0 now and then hand a guest the host's registers after a VMRUN of a
#     VMCB that was checked correct just before it (README, "SMP"; S15_ACCEL=tcg,thread=multi
#     shows it, about once per 25,000 stress cycles).
#     S15_CPUS=N boots N CPUs (1: the checks that need two print SKIP; S15_FORCE=1 runs them
#     anyway), S15_CYCLES the stress cycles, S15_ONLY=check,... only those vmmsmp checks,
#     S15_REPEAT=N each N times, S15_KARGS more kernel arguments, S15_ACCEL the -accel value.
s15() {
	local BOOT_ACCEL=${S15_ACCEL:-tcg,thread=single} n=${S15_CPUS:-4} c1 want made gone
	need s15 "$B/bvmm.efi" "$B/linux/vmlinuz" "$B/linux/initrd.img" || return
	new_esp s15
	cp "$B/linux/vmlinuz" "$B/linux/initrd.img" "$OUT/s15/esp/EFI/BOOT/"
	# vmmsmp=... and vmmsmp_force=1 are not kernel parameters: init gets them as variables.
	printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img console=ttyS0 panic=-1 quiet nokaslr%s vmmsmp=%s%s%s%s\n' \
		"${S15_KARGS:+ $S15_KARGS}" "${S15_CYCLES:-400}" "${S15_FORCE:+ vmmsmp_force=1}" "${S15_ONLY:+ vmmsmp_only=$S15_ONLY}" \
		"${S15_REPEAT:+ vmmsmp_repeat=$S15_REPEAT}" > "$OUT/s15/esp/EFI/BOOT/bvmm.conf"
	boot s15 max "${S15_TIMEOUT:-360}" -smp "$n"
	judge s15 "BVMM-LINUX-INIT done"
	c1=$OUT/s15/com1.txt
	want=0
	[ "$n" -gt 1 ] && want=0-$((n - 1))
	grep -a -q -x "cpus online: $want" "$c1"
	check s15/linux-cpus-online $? "$(grep -a 'cpus online' "$c1" || echo 'no "cpus online" line'), expected $want"
	grep -a -q -E '^vmmsmp: [0-9]+ passed, 0 failed' "$c1"
	check s15/vmmsmp-finished $? "$(grep -a -E '^vmmsmp: [0-9]+ passed' "$c1" || echo 'vmmsmp did not finish')"
	# On several CPUs nothing may be skipped (on one, the two-CPU checks are).
	[ "$n" = 1 ] || ! grep -a -q '^SKIP ' "$c1"
	check s15/nothing-skipped $? "$(grep -a '^SKIP ' "$c1" | head -3)"
	# bvmm.ko's hotplug callback: a CPU brought (back) online without bvmm under it.
	! grep -a -q -E 'bvmm: CPU [0-9]+ came online without' "$c1"
	check s15/hotplug-cpus-under-bvmm $? "$(grep -a 'came online without' "$c1" | head -2)"
	# Every VM created was terminated (by TERM, a close, another process's TERM).
	made=$(grep -a -c -E 'bvmm: cpu[0-9]*: info: vm [0-9]+ ".*" created' "$OUT/s15/com2.txt")
	gone=$(grep -a -c -E 'bvmm: cpu[0-9]*: info: vm [0-9]+ ".*" terminated' "$OUT/s15/com2.txt")
	[ "$made" -gt 0 ] && [ "$made" = "$gone" ]
	check s15/every-vm-terminated $? "$made VMs created, $gone terminated"
	! grep -a -q -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s15/com2.txt"
	check s15/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s15/com2.txt" | head -3)"
}
