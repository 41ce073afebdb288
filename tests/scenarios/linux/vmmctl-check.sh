#!/bin/sh
# vmmctl-check.sh - scenario 16, run by /init in the Linux control domain (as /guests/check.sh):
# vmmctl over /dev/vmm as a user runs it, each command's exit status and messages checked.
# Prints PASS/FAIL lines; the guests are the other files of /guests.
mkdir -p /tmp
o=/tmp/vmmctl.out

# v EXPECTED-STATUS CMD...: runs vmmctl, output to the console (indented) and to $o; st is
# its exit status, and "bad" is set when it is not the one expected.
v() {
    want=$1
    shift
    vmmctl "$@" >"$o" 2>&1
    st=$?
    while IFS= read -r line; do echo "  | $line"; done <"$o"
    bad=""
    [ "$st" = "$want" ] || bad="exit status $st, expected $want"
}
# c NAME PATTERN...: PASS if the last v had the expected status and its output has every
# PATTERN (grep -E).
c() {
    name=$1
    shift
    why=$bad
    for p in "$@"; do
        [ -n "$why" ] && break
        grep -q -E -- "$p" "$o" || why="no /$p/ in the output"
    done
    if [ -z "$why" ]; then echo "PASS vmmctl-$name"; else echo "FAIL vmmctl-$name: $why"; fi
}

v 2
c usage 'usage: vmmctl start'
v 0 status
c status-empty '^vmmctl: bvmm ABI 1, AMD SVM, pool [0-9]+ KiB, [0-9]+ KiB free$' '^vmmctl: 0 VMs$'
v 1 start /guests/nope.elf
c missing-file '^vmmctl: /guests/nope.elf: cannot read it \(errno 2\)$'
v 1 start /guests/check.sh
c unknown-format '^vmmctl: /guests/check.sh: unknown format'
v 2 start -m 0 /guests/hello64.elf
c bad-memory-size 'bad memory size "0"'
v 2 start -q /guests/hello64.elf
c unknown-option 'unknown option or missing value: -q'
v 2 start
c no-kernel 'start: no KERNEL given'
v 1 start -m 1 /guests/hello64.elf
c too-little-memory '^vmmctl: /guests/hello64.elf: malformed ELF, or it does not fit 1 MiB$'

# An ELF64 guest: segments protected, its COM1 line prefixed with its name, stopped by its
# write to its own text.
v 1 start -m 2 /guests/hello64.elf
c elf-guest '^vmmctl: VM [0-9]+ "hello64": 2 MiB, ELF64 /guests/hello64.elf, 2 segments, entry 100000$' \
    '^vmmctl:   segment 100000-101000 r-x \(MPROTECT_EPT errno 0\)$' \
    '^hello64: Hello from a 64-bit ELF guest' \
    '^vmmctl: hello64: access against MPROTECT_EPT at rip 1000[0-9a-f]+$' \
    '^vmmctl: hello64: protection fault \(status 1\) after' '^vmmctl: VM [0-9]+ terminated \(errno 0\)$'

# status while a guest runs (its vCPU is "running" only inside a RUN, and on one CPU this
# shell runs between two: either state), stop by name from another process, the runner's end.
vmmctl start -n sleeper /guests/spin64.elf >/tmp/sleeper.out 2>&1 &
pid=$!
n=0
while [ $n -lt 40 ]; do
    vmmctl status >"$o" 2>&1
    grep -q -E ' (running|stopped) +[0-9-]+  sleeper$' "$o" && break
    sleep 0.25
    n=$((n + 1))
done
v 0 status
c status-running '^vmmctl: 1 VMs$' '^vmmctl: +[0-9]+ +1 +64 MiB +(running|stopped) +[0-9-]+  sleeper$'
v 0 stop sleeper
c stop-by-name '^vmmctl: VM [0-9]+ "sleeper" stopped$'
wait $pid
st=$?
while IFS= read -r line; do echo "  | $line"; done </tmp/sleeper.out
if [ "$st" = 1 ] && grep -q '^sleeper: spinning until stopped' /tmp/sleeper.out &&
    grep -q -E '^vmmctl: sleeper: terminated from outside \(status 1\)' /tmp/sleeper.out; then
    echo "PASS vmmctl-stopped-runner-ends"
else
    echo "FAIL vmmctl-stopped-runner-ends: status $st"
fi
v 1 stop sleeper
c stop-unknown 'stop sleeper: no VM with that id or name'
v 0 status
c status-empty-after '^vmmctl: 0 VMs$'
echo "vmmctl-check done"
