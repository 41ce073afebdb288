#!/bin/sh
# mkinitrd.sh OUTDIR - builds OUTDIR/hvcheck, OUTDIR/initrd.img (gzip newc cpio) and copies the newest Debian kernel to OUTDIR/vmlinuz.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
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

# Stage the initramfs tree.
root=$(mktemp -d "$out/initrd-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$bb" "$root/bin/busybox"
cp "$out/hvcheck" "$root/bin/hvcheck"
cp "$here/init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/hvcheck"
for a in sh mount cat grep poweroff echo; do
    ln -s busybox "$root/bin/$a"
done
# No /dev/console node needed: the kernel's built-in initramfs provides one, and init
# mounts devtmpfs on /dev.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    | gzip -9 -n > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
