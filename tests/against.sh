#!/bin/bash
# Runs issue 6's attack scenarios (today's s1 and s10 programs) against the hypervisor of an
# older commit, to show that each attack breaks it: tests/against.sh [COMMIT] (default: the
# commit before the hostile-input fixes, 3825158). Builds that commit's bvmm.efi in a git
# worktree; prints, per attack, the checks that failed or the boot that hung.
set -u
cd "$(dirname "$0")/.." || exit 1
commit=${1:-3825158}
old=build-against
wt=$(mktemp -d /tmp/bvmm-old.XXXXXX)
git worktree add --detach "$wt" "$commit" >/dev/null 2>&1 || { echo "no commit $commit"; exit 1; }
make -C "$wt" B="$wt/build" "$wt/build/bvmm.efi" >/dev/null 2>&1 || { echo "old build failed"; exit 1; }
make build/scenarios/bin/s1_control.efi build/scenarios/bin/s10_hostile.efi >/dev/null || exit 1
rm -rf "$old" && mkdir -p "$old/scenarios/bin"
cp "$wt/build/bvmm.efi" "$old/"
cp build/scenarios/bin/s1_control.efi build/scenarios/bin/s10_hostile.efi "$old/scenarios/bin/"
git worktree remove --force "$wt"
report() {   # ATTACK OUTFILE: the checks that failed, and how the boot ended
	local out=$old/$2
	local n
	n=$(grep -c '^FAIL' "$out")
	echo "attack $1 against $commit: $n failed checks; $(sed -n -E 's/^# (s[0-9]+): QEMU exited with ([0-9]+) after ([0-9]+) s/QEMU status \2 after \3 s/p' "$out" | tail -1)$(grep -q 'timed out' "$out" && echo ' (hung: timeout)')$(grep -q 'Segmentation fault' "$out" && echo ' (QEMU crashed)')"
	grep '^FAIL' "$out" | grep -v 'finished\|no-hypervisor-errors' | head -6 | sed 's/^/    /'
}
for g in msr cr0 pci; do
	B=$old S1_ARGS="only=$g" S1_TIMEOUT=60 tests/scenarios/run.sh s1 > "$old/s1-$g.out" 2>&1
	report "$g (s1)" "s1-$g.out"
done
for g in lme dbloop; do
	B=$old S10_ONLY=$g S10_TIMEOUT=60 tests/scenarios/run.sh s10 > "$old/s10-$g.out" 2>&1
	report "$g (s10)" "s10-$g.out"
done
