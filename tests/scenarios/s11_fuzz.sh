# 11. hcfuzz (control/fuzz, doc/hcfuzz.md): a seeded hypercall fuzzer as the control program.
#     It checks every call against bvmm.4 and its model of the hypervisor and ends with one
#     "hcfuzz: done" line and a power-off. Two boots: 100000 calls with a 4 MiB pool (ENOMEM
#     happens), then 30000 with 8 MiB (512 vCPUs fit: ENOSPC happens). HCFUZZ_SEED,
#     HCFUZZ_CALLS, HCFUZZ_POOL, HCFUZZ_ARGS (e.g. "verbose trace=N") change the first boot
#     and skip the second (make fuzz-hc); the timeout grows with the calls.

# s11_boot NAME SEED CALLS POOL: one fuzzing boot, judged.
s11_boot() {
	local name=$1 seed=$2 calls=$3 pool=$4 c1=$OUT/$1/com1.txt done_line
	new_esp "$name"
	cp "$B/control/hcfuzz.efi" "$OUT/$name/esp/EFI/BOOT/"
	printf 'control=hcfuzz.efi\ncontrol_args=seed=%s calls=%s%s\npool=%s\n' "$seed" "$calls" \
		"${HCFUZZ_ARGS:+ $HCFUZZ_ARGS}" "$pool" > "$OUT/$name/esp/EFI/BOOT/bvmm.conf"
	boot "$name" max $((120 + calls / 500))
	grep -a '^hcfuzz: \(VIOLATION\|  params\|done\|[0-9]* ms\)' "$c1" | head -40 >&2
	done_line=$(grep -a '^hcfuzz: done ' "$c1" | tail -1)
	[ -n "$done_line" ]
	check "$name/finished" $? "no 'hcfuzz: done' line (QEMU status $rc); tail: $(tail -n 3 "$c1" | tr '\n' ' ')"
	[[ $done_line =~ calls=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$calls" ]
	check "$name/all-calls-made" $? "$done_line"
	[[ $done_line =~ violations=0( |$) ]]
	check "$name/no-violations" $? "$done_line (seed $seed: see $c1)"
	! grep -a -q -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/$name/com2.txt"
	check "$name/no-hypervisor-errors" $? "$(grep -a -E 'bvmm: cpu[0-9]*: error|PANIC' "$OUT/$name/com2.txt" | head -3)"
	[ "$rc" = 0 ]
	check "$name/powered-off" $? "QEMU status $rc"
}

s11() {
	need s11 "$B/bvmm.efi" "$B/control/hcfuzz.efi" || return
	s11_boot s11 "${HCFUZZ_SEED:-20261125}" "${HCFUZZ_CALLS:-100000}" "${HCFUZZ_POOL:-4M}"
	[ -n "${HCFUZZ_SEED:-}${HCFUZZ_CALLS:-}${HCFUZZ_POOL:-}" ] && return
	s11_boot s11b 20261126 30000 8M
	grep -a -q '^hcfuzz: done .*ENOSPC:' "$OUT/s11b/com1.txt" && grep -a -q '^hcfuzz: done .*ENOMEM:' "$OUT/s11/com1.txt"
	check s11/enomem-and-enospc-reached $? "$(grep -a -h '^hcfuzz: done' "$OUT/s11/com1.txt" "$OUT/s11b/com1.txt")"
}
