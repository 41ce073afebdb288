# 10. Issue 6's attacks as regression tests, hostile children, endurance (s10_hostile.c).
s10() {
	need s10 "$B/bvmm.efi" "$B/scenarios/bin/s10_hostile.efi" || return
	new_esp s10
	cp "$B/scenarios/bin/s10_hostile.efi" "$OUT/s10/esp/EFI/BOOT/control.efi"
	# S10_ONLY=lme|sweep|battery|endurance|drs|dbloop runs one group (tests/against.sh)
	[ -n "${S10_ONLY:-}" ] && printf 'control_args=only=%s\n' "$S10_ONLY" > "$OUT/s10/esp/EFI/BOOT/bvmm.conf"
	boot s10 max "${S10_TIMEOUT:-240}"
	judge s10 "DONE s10-hostile"
	! grep -a -q -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/s10/com2.txt"
	check s10/no-hypervisor-errors $? "$(grep -a -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/s10/com2.txt" | head -3)"
}
