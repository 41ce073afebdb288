# 11. hcfuzz (control/fuzz): a seeded hypercall fuzzer as the control program. It checks
#     every call against bvmm.4 and its model of the hypervisor and ends with one "done" line;
#     the pool is small (ENOMEM and ENOSPC happen). HCFUZZ_SEED / HCFUZZ_CALLS / HCFUZZ_POOL
#     override the defaults (make fuzz-hc sets them); the timeout grows with the calls.
s11() {
	local seed=${HCFUZZ_SEED:-20261125} calls=${HCFUZZ_CALLS:-100000} pool=${HCFUZZ_POOL:-6M}
	local t=$((150 + calls / 500)) c1=$OUT/s11/com1.txt
	need s11 "$B/bvmm.efi" "$B/control/hcfuzz.efi" || return
	new_esp s11
	cp "$B/control/hcfuzz.efi" "$OUT/s11/esp/EFI/BOOT/"
	printf 'control=hcfuzz.efi\ncontrol_args=seed=%s calls=%s%s\npool=%s\n' "$seed" "$calls" "${HCFUZZ_ARGS:+ $HCFUZZ_ARGS}" "$pool" \
		> "$OUT/s11/esp/EFI/BOOT/bvmm.conf"
	boot s11 max "$t"
	grep -a '^hcfuzz: \(VIOLATION\|  params\|done\|[0-9]* ms\)' "$c1" | head -40 >&2
	local done_line
	done_line=$(grep -a '^hcfuzz: done ' "$c1" | tail -1)
	[ -n "$done_line" ]
	check s11/finished $? "no 'hcfuzz: done' line (QEMU status $rc); tail: $(tail -n 3 "$c1" | tr '\n' ' ')"
	[[ $done_line =~ calls=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$calls" ]
	check s11/all-calls-made $? "$done_line"
	[[ $done_line =~ violations=0( |$) ]]
	check s11/no-violations $? "$done_line (seed $seed: see $c1)"
	! grep -a -q -E 'bvmm: error|PANIC' "$OUT/s11/com2.txt"
	check s11/no-hypervisor-errors $? "$(grep -a -E 'bvmm: error|PANIC' "$OUT/s11/com2.txt" | head -3)"
	[ "$rc" = 0 ]
	check s11/powered-off $? "QEMU status $rc"
}
