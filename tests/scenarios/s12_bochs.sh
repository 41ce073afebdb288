# 12. Under Bochs (tests/scenarios/bochs.sh), on Intel CPU models with VMX and EPT:
#  a. bvmm as the boot file, no control image: what it says on an Intel CPU;
#  b. the same boot, then the firmware survives bvmm's return: the shell's startup script runs
#     fallback.efi ("DONE fallback", then it shuts Bochs down through port 0x8900).
# Not in run.sh's default list; run it with `tests/scenarios/run.sh s12`.
s12() {
	# What bvmm prints on COM1 on an Intel CPU (change this when the VMX backend lands).
	local says='bvmm: not starting: this CPU has Intel VMX; bvmm'"'"'s VMX backend is not built yet (AMD SVM only). Returning to the firmware.'
	local models=${S12_MODELS:-corei7_skylake_x corei7_haswell_4770} t=${S12_TIMEOUT:-120} model tag
	need s12 "$B/bvmm.efi" "$B/scenarios/bin/fallback.efi" || return
	for model in $models; do
		tag=${model#corei7_}
		# a. bvmm's own words, the run ended as soon as they appear.
		new_esp "s12a-$tag"
		bochs_boot "s12a-$tag" "$model" "$t" "$says"
		grep -a -q -F -- "$says" "$OUT/s12a-$tag/com1.txt"
		check "s12a-$tag/bvmm-says" $? "$(grep -a 'bvmm' "$OUT/s12a-$tag/com1.txt" | head -3)"
		# b. The firmware boots on after bvmm returned: fallback.efi from startup.nsh.
		new_esp "s12b-$tag"
		cp "$B/scenarios/bin/fallback.efi" "$OUT/s12b-$tag/esp/"
		bochs_nsh "s12b-$tag" '\fallback.efi'
		# No marker: the run must end by sc_finish's "Shutdown" on port 0x8900.
		bochs_boot "s12b-$tag" "$model" "$t" ""
		judge "s12b-$tag" "DONE fallback"
		case $bochs_end in *"Shutdown port"*) true ;; *) false ;; esac
		check "s12b-$tag/shutdown-port" $? "the run ended by: $bochs_end"
		grep -a -q -F -- "$says" "$OUT/s12b-$tag/com1.txt"
		check "s12b-$tag/bvmm-returned" $? "$(grep -a 'bvmm' "$OUT/s12b-$tag/com1.txt" | head -3)"
	done
}
