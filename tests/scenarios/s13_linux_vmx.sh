# 13. Debian's Linux as the control guest on Intel VMX under Bochs (corei7_haswell_4770:
#     skylake_x's XSAVE size quirk makes Linux turn XSAVE off, PLATFORM.md): s3's kernel and
#     initramfs, the /dev/vmm module and vmmtest's child VM through it. ~3 min of Bochs.
s13() {
	need s13 "$B/bvmm.efi" "$B/linux/vmlinuz" "$B/linux/initrd.img" || return
	new_esp s13
	cp "$B/linux/vmlinuz" "$B/linux/initrd.img" "$OUT/s13/esp/EFI/BOOT/"
	printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img console=ttyS0 panic=-1 quiet nokaslr\n' \
		> "$OUT/s13/esp/EFI/BOOT/bvmm.conf"
	bochs_boot s13 corei7_haswell_4770 "${S13_TIMEOUT:-600}" "BVMM-LINUX-INIT done"
	judge s13 "BVMM-LINUX-INIT done"
	hvlog s13 log-vendor-vmx 'launch: vendor Intel VMX'
	hvlog s13 log-linux-vm-created 'bvmm: cpu[0-9]*: info: vm [0-9]+ "linux-child" created: 1 MiB in 1 ranges, 1 vCPUs'
	hvlog s13 log-linux-vm-terminated 'bvmm: cpu[0-9]*: info: vm [0-9]+ "linux-child" terminated'
	! grep -a -q -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s13/com2.txt"
	check s13/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: (error|warn)|PANIC' "$OUT/s13/com2.txt" | head -3)"
}
