# 16. vmmctl in a Linux control domain: Debian's Linux under bvmm (one CPU), /dev/vmm, and
#     vmmctl running guests as a user would (tests/scenarios/linux/vmmctl-check.sh, from a
#     second initramfs of guests): its errors, status, stop, and each kind of guest.
s16() {
	need s16 "$B/bvmm.efi" "$B/linux/vmlinuz" "$B/linux/initrd.img" "$B/linux/guests.img" || return
	new_esp s16
	cp "$B/linux/vmlinuz" "$B/linux/initrd.img" "$B/linux/guests.img" "$OUT/s16/esp/EFI/BOOT/"
	printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img initrd=\\EFI\\BOOT\\guests.img console=ttyS0 panic=-1 quiet nokaslr vmmctl_check=1\n' \
		> "$OUT/s16/esp/EFI/BOOT/bvmm.conf"
	boot s16 max "${S16_TIMEOUT:-300}"
	judge s16 "BVMM-LINUX-INIT done"
	grep -a -q '^vmmctl-check done' "$OUT/s16/com1.txt"
	check s16/vmmctl-check-finished $? "$(grep -a 'vmmctl' "$OUT/s16/com1.txt" | tail -2)"
	made=$(grep -a -c -E 'bvmm: cpu[0-9]*: info: vm [0-9]+ ".*" created' "$OUT/s16/com2.txt")
	gone=$(grep -a -c -E 'bvmm: cpu[0-9]*: info: vm [0-9]+ ".*" terminated' "$OUT/s16/com2.txt")
	[ "$made" -gt 0 ] && [ "$made" = "$gone" ]
	check s16/every-vm-terminated $? "$made VMs created, $gone terminated"
	! grep -a -q -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s16/com2.txt"
	check s16/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s16/com2.txt" | head -3)"
}
