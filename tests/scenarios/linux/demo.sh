#!/bin/sh
# demo.sh - what `make run` shows (as /guests/demo.sh, run by /init with vmmctl_demo=1):
# Debian's Linux is bvmm's control domain; vmmctl starts one guest of each kind from it.
# Scenario 16 runs it too and checks each step's exit status.
LINUX_ARGS="console=ttyS0 acpi=off pci=off nolapic noapic mce=off io_delay=none i8042.noaux i8042.nokbd tsc=reliable panic=-1 reboot=t quiet"

mkdir -p /tmp
step() { echo; echo "=== $*"; }
done_() { echo "demo: $1 exit status $2"; }

step "bvmm is the hypervisor, this Linux its control domain; vmmctl status:"
vmmctl status

step "vmmctl start -m 256 -i child-initrd.img child-vmlinuz: Debian's kernel as a child VM"
vmmctl start -m 256 -n linux-child -i /guests/child-initrd.img /guests/child-vmlinuz -- $LINUX_ARGS
done_ linux-child $?

step "vmmctl start --block:storage=disk.img --net:service0=tap0 hvt_test.elf: a Solo5 hvt unikernel"
dd if=/dev/zero of=/tmp/demo-disk.img bs=1024 count=64 2>/dev/null
printf 'BVMM-BLOCK-SECTOR0' | dd of=/tmp/demo-disk.img conv=notrunc 2>/dev/null
[ -c /dev/net/tun ] || insmod /tun.ko 2>/dev/null
vmmctl start -m 16 --block:storage=/tmp/demo-disk.img --net:service0=tap0 /guests/hvt_test.elf -- hello from the demo
done_ hvt-unikernel $?

step "vmmctl start mb_test.elf: a Multiboot kernel counting xAPIC timer interrupts"
vmmctl start -m 32 /guests/mb_test.elf
done_ multiboot-kernel $?

step "vmmctl status: every VM gone"
vmmctl status
echo "BVMM-DEMO done"
