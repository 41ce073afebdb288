#!/bin/sh
# mkinitrd.sh OUTDIR - builds OUTDIR/hvcheck, OUTDIR/vmmtest, OUTDIR/bvmm.ko (the /dev/vmm
# module, control/linux/, against the headers of the kernel copied) and OUTDIR/initrd.img
# (gzip newc cpio), and copies the newest Debian kernel to OUTDIR/vmlinuz.
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

# The /dev/vmm module, built out of tree in a copy (the source tree stays clean) against
# the headers of exactly that kernel (linux-headers-amd64).
ver=${kernel#/boot/vmlinuz-}
kdir=/usr/src/linux-headers-$ver
[ -f "$kdir/Makefile" ] || { echo "$0: $kdir missing (install linux-headers-$ver)" >&2; exit 1; }
mod="$out/bvmm-module"
rm -rf "$mod" "$out/bvmm.ko"
mkdir -p "$mod/abi"
cp -r "$top/control/linux/bvmm.c" "$top/control/linux/Kbuild" "$top/control/linux/shim" "$mod/"
cp "$top/abi/bvmm.h" "$mod/abi/"
make -s -C "$kdir" M="$mod" modules >"$mod/build.log" 2>&1 || {
    cat "$mod/build.log" >&2
    echo "$0: bvmm.ko did not build (log: $mod/build.log)" >&2
    exit 1
}
grep -i -E 'warning|error' "$mod/build.log" | grep -v 'Skipping BTF' >&2 || true
strip --strip-debug -o "$out/bvmm.ko" "$mod/bvmm.ko"

# The /dev/vmm test program: freestanding and static, like hvcheck.
gcc -static -nostdlib -ffreestanding -fno-builtin -fno-pic -no-pie -O2 -fno-stack-protector \
    -fno-asynchronous-unwind-tables -Wall -Wextra -s \
    -o "$out/vmmtest" "$top/control/linux/vmmtest.c"

# Stage the initramfs tree.
root=$(mktemp -d "$out/initrd-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$bb" "$root/bin/busybox"
cp "$out/hvcheck" "$root/bin/hvcheck"
cp "$out/vmmtest" "$root/bin/vmmtest"
cp "$out/bvmm.ko" "$root/bvmm.ko"
cp "$here/init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/hvcheck" "$root/bin/vmmtest"
chmod 644 "$root/bvmm.ko"
for a in sh mount cat grep poweroff echo insmod stat; do
    ln -s busybox "$root/bin/$a"
done
# No /dev/console node needed: the kernel's built-in initramfs provides one, and init
# mounts devtmpfs on /dev.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    | gzip -9 -n > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
