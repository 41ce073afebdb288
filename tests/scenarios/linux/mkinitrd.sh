#!/bin/sh
# mkinitrd.sh OUTDIR - builds OUTDIR/hvcheck, OUTDIR/vmmtest, OUTDIR/vmmsmp, OUTDIR/vmmctl, OUTDIR/vmmbench, OUTDIR/bvmm.ko
# (the /dev/vmm module, control/linux/, against the headers of the kernel copied) and
# OUTDIR/initrd.img (gzip newc cpio), and copies the newest Debian kernel to OUTDIR/vmlinuz.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
bb=/bin/busybox   # from busybox-static (dpkg -L busybox-static)
[ -x "$bb" ] || { echo "$0: $bb missing (install busybox-static)" >&2; exit 1; }

# Freestanding static checker (no libc).
gcc -static -nostdlib -ffreestanding -fno-pic -no-pie -O2 -fno-stack-protector \
    -fno-asynchronous-unwind-tables -Wall -Wextra -s \
    -o "$out/hvcheck" "$here/hvcheck.c"

# Newest kernel by version order.
kernel=$(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -V | tail -n 1)
[ -f "$kernel" ] || { echo "$0: no /boot/vmlinuz-*-amd64" >&2; exit 1; }
cp "$kernel" "$out/vmlinuz"

# The /dev/vmm module against the headers of exactly that kernel (linux-headers-amd64), and
# its test programs.
ver=${kernel#/boot/vmlinuz-}
kdir=/usr/src/linux-headers-$ver
[ -f "$kdir/Makefile" ] || { echo "$0: $kdir missing (install linux-headers-$ver)" >&2; exit 1; }
# control/linux/Makefile builds them all (the module in a copy, so the source tree stays clean).
rm -rf "$out/control-linux" "$out/bvmm.ko"
make -s -C "$top/control/linux" KDIR="$kdir" OUT="$out/control-linux" >"$out/control-linux.log" 2>&1 || {
    cat "$out/control-linux.log" >&2
    echo "$0: bvmm.ko, vmmtest or vmmsmp did not build (log: $out/control-linux.log)" >&2
    exit 1
}
grep -i -E 'warning|error' "$out/control-linux.log" | grep -v 'Skipping BTF' >&2 || true
strip --strip-debug -o "$out/bvmm.ko" "$out/control-linux/bvmm.ko"
cp "$out/control-linux/vmmtest" "$out/vmmtest"
cp "$out/control-linux/vmmsmp" "$out/vmmsmp"
cp "$out/control-linux/vmmctl" "$out/vmmctl"
cp "$out/control-linux/vmmbench" "$out/vmmbench"

# Stage the initramfs tree.
root=$(mktemp -d "$out/initrd-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$bb" "$root/bin/busybox"
cp "$out/hvcheck" "$root/bin/hvcheck"
cp "$out/vmmtest" "$root/bin/vmmtest"
cp "$out/vmmsmp" "$root/bin/vmmsmp"
cp "$out/vmmctl" "$root/bin/vmmctl"
cp "$out/vmmbench" "$root/bin/vmmbench"
cp "$out/bvmm.ko" "$root/bvmm.ko"
cp "$here/init" "$root/init"
# TAP interfaces for vmmctl's Solo5 net devices (scenario 16): Debian builds tun as a module.
tun=/lib/modules/$ver/kernel/drivers/net/tun.ko
if [ -f "$tun" ]; then cp "$tun" "$root/tun.ko"; chmod 644 "$root/tun.ko"; fi
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/hvcheck" "$root/bin/vmmtest" "$root/bin/vmmsmp" "$root/bin/vmmctl" "$root/bin/vmmbench"
chmod 644 "$root/bvmm.ko"
for a in sh mount cat grep poweroff echo insmod stat sleep printf dd cmp ip ping; do
    ln -s busybox "$root/bin/$a"
done
# No /dev/console node needed: the kernel's built-in initramfs provides one, and init
# mounts devtmpfs on /dev.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    | gzip -9 -n > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
