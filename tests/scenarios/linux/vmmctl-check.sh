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
    # A guest's own failure report ("NAME: ...: FAIL ...") fails the check too.
    [ -z "$why" ] && grep -q -E '^[^ ]+: .*FAIL' "$o" && why="$(grep -E '^[^ ]+: .*FAIL' "$o" | head -1)"
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

# A Multiboot v1 kernel (ELF32, 32-bit entry, EAX/EBX): its memory map, command line and a
# module; the xAPIC vmmctl models (MMIO exits decoded), its timer periodic, 10 interrupts;
# its end through port 0xf4 (status 3 -> 3 << 1 | 1 = 7, as QEMU's isa-debug-exit).
printf 'HELLO-MODULE\n' >/tmp/module.txt
v 7 start -m 32 -i /tmp/module.txt /guests/mb_test.elf -- status=3
c multiboot-kernel '^vmmctl: VM [0-9]+ "mb_test": 32 MiB, Multiboot kernel /guests/mb_test.elf' \
    '^mb_test: mb: cmdline=/guests/mb_test.elf status=3$' '^mb_test: mb: PASS mmap$' \
    '^mb_test: mb: module len=13 bytes=48454c4c4f2d4d4f$' '^mb_test: mb: PASS apic-timer ticks=[1-9][0-9]+$' \
    '^vmmctl: mb_test: exit through port 0xf4 \(status 7\) after .* [1-9][0-9]* MMIO, .*; [1-9][0-9]* interrupts injected$'
v 1 start -i /tmp/module.txt /guests/hello64.elf
c initrd-not-for-elf '-i /tmp/module.txt: an initrd or module is for Multiboot and Linux kernels only'

# A Solo5 hvt unikernel (tests/guests/hvt): its ABI note and manifest, segments protected,
# boot info and command line, walltime, puts, block read/write against a file, poll, the
# TAP it was given, halt with its status.
dd if=/dev/zero of=/tmp/disk.img bs=1024 count=64 2>/dev/null
printf 'BVMM-BLOCK-SECTOR0' | dd of=/tmp/disk.img conv=notrunc 2>/dev/null
if insmod /tun.ko 2>/dev/null || [ -c /dev/net/tun ]; then
    v 7 start -m 16 --block:storage=/tmp/disk.img --net:service0=tap0 /guests/hvt_test.elf -- status=7
    c hvt-unikernel '^vmmctl: VM [0-9]+ "hvt_test": 16 MiB, Solo5 hvt unikernel /guests/hvt_test.elf' \
        '^hvt: hello' '^hvt: PASS walltime' '^hvt: PASS manifest' '^hvt: sector0=BVMM-BLOCK-SECT' \
        '^hvt: PASS block-rw' '^hvt: PASS block-bounds' '^hvt: PASS poll' '^hvt: all checks passed' \
        '^vmmctl: hvt_test: halted by the unikernel \(status 7\)'
else
    echo "FAIL vmmctl-hvt-unikernel: no /tun.ko and no /dev/net/tun for the unikernel's net device"
fi
v 1 start -m 16 --block:storage=/tmp/disk.img /guests/hvt_test.elf
c hvt-unattached-refused 'service0'
v 1 start -m 16 --block:nosuch=/tmp/disk.img /guests/hvt_test.elf
c hvt-undeclared-device 'nosuch'
v 1 start --block:storage=/tmp/disk.img /guests/hello64.elf
c devices-only-for-hvt 'devices are for Solo5 hvt unikernels only'

# Debian's own kernel as a child (Linux boot protocol, 64-bit entry), with a busybox
# initramfs: its console on the UART (interrupts through the PICs), the PIT tick, the RTC; it
# powers off (without ACPI: HLT with interrupts off), vmmctl exits 0.
v 0 start -m 256 -n child -i /guests/child-initrd.img /guests/child-vmlinuz -- \
    console=ttyS0 acpi=off pci=off nolapic noapic mce=off io_delay=none i8042.noaux i8042.nokbd \
    tsc=reliable panic=-1 reboot=t quiet
c linux-child '^vmmctl: VM [0-9]+ "child": 256 MiB, Linux bzImage /guests/child-vmlinuz, entry 1000200$' \
    '^child: BVMM-CHILD-LINUX-INIT up' '^vmmctl: child: halted \(status 0\) after'

# The console both ways (-c): standard input (here a pipe) reaches the child's UART once its
# driver listens, its output comes back raw (no name prefix): Debian's Linux to its shell,
# which computes something (the terminal's echo alone would show "$((6 * 7))") and powers off.
printf 'echo BVMM-CHILD-SHELL $((6 * 7))\npoweroff -f\n' | vmmctl start -c -m 256 -n shell \
    -i /guests/child-initrd.img /guests/child-vmlinuz -- console=ttyS0 acpi=off pci=off nolapic \
    noapic mce=off io_delay=none i8042.noaux i8042.nokbd tsc=reliable panic=-1 reboot=t quiet \
    child_shell=1 >"$o" 2>&1
st=$?
while IFS= read -r line; do echo "  | $line"; done <"$o"
bad=""
[ "$st" = 0 ] || bad="exit status $st, expected 0"
c console-both-ways 'BVMM-CHILD-LINUX-INIT shell' 'BVMM-CHILD-SHELL 42' 'reboot: System halted'

# "~." detaches (-c): the runner's parent returns 0 at once, the VM runs on until stopped.
printf '~.' | vmmctl start -c -n detacher /guests/spin64.elf >"$o" 2>&1
st=$?
while IFS= read -r line; do echo "  | $line"; done <"$o"
bad=""
[ "$st" = 0 ] || bad="exit status $st, expected 0"
c console-detach 'detached: the VM runs on in process [0-9]+'
v 0 status
c detached-vm-listed '  detacher$'
v 0 stop detacher
c detached-vm-stopped '"detacher" stopped'

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
/guests/hvt-net-check.sh
# What `make run` shows: each step's exit status (the Multiboot kernel's 0 through port 0xf4
# is 1).
/guests/demo.sh >"$o" 2>&1
while IFS= read -r line; do echo "  | $line"; done <"$o"
bad=""
c make-run-demo '^demo: linux-child exit status 0$' '^demo: hvt-unikernel exit status 0$' \
    '^demo: multiboot-kernel exit status 1$' '^BVMM-DEMO done$' '^linux-child: BVMM-CHILD-LINUX-INIT up'
echo "vmmctl-check done"
