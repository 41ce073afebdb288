#!/bin/sh
# mkinitrd.sh OUTDIR - builds OUTDIR/child-initrd.img (gzip newc cpio), the initramfs of a
# Linux *child* VM that vmmctl boots under bvmm, and copies the newest Debian kernel to
# OUTDIR/child-vmlinuz. Its /init prints "BVMM-CHILD-LINUX-INIT up", the kernel release,
# the uptime and the clocksource, then powers off (which, without ACPI, halts with
# interrupts off: RUN then fails with EIO and vmmctl ends). See NOTES.md for the command line.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
bb=/bin/busybox   # from busybox-static: must be static, the initramfs has no libc
[ -x "$bb" ] || { echo "$0: $bb missing (install busybox-static)" >&2; exit 1; }
command -v cpio >/dev/null || { echo "$0: cpio missing" >&2; exit 1; }

kernel=$(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -V | tail -n 1)
[ -f "$kernel" ] || { echo "$0: no /boot/vmlinuz-*-amd64 (install linux-image-amd64)" >&2; exit 1; }
cp "$kernel" "$out/child-vmlinuz"

root=$(mktemp -d "$out/child-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$bb" "$root/bin/busybox"
for a in sh mount poweroff; do
    ln -s busybox "$root/bin/$a"
done

# /init uses shell builtins only, apart from mount and poweroff: every fork+exec is slow in a
# child whose every port access is an exit to the control program.
cat >"$root/init" <<'EOF'
#!/bin/sh
# /init of the bvmm Linux child: a marker, a few facts, power off. Never reads input.
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
if [ -c /dev/console ]; then
    command exec >/dev/console 2>&1
fi
[ -c /dev/null ] && command exec </dev/null

echo "BVMM-CHILD-LINUX-INIT up"
rel=""
[ -r /proc/sys/kernel/osrelease ] && read -r rel </proc/sys/kernel/osrelease
echo "kernel: $rel"
up=""
[ -r /proc/uptime ] && read -r up idle </proc/uptime
echo "uptime: $up"
cs=""
f=/sys/devices/system/clocksource/clocksource0/current_clocksource
[ -r "$f" ] && read -r cs <"$f"
echo "clocksource: $cs"
# child_shell=1 on the kernel command line (init's environment): a busybox shell on the
# console (the UART's receive side), until it is told to power off or its input ends.
if [ "${child_shell:-}" = 1 ]; then
    echo "BVMM-CHILD-LINUX-INIT shell"
    sh </dev/console >/dev/console 2>&1
fi
echo "BVMM-CHILD-LINUX-INIT poweroff"
poweroff -f
echo "BVMM-CHILD-LINUX-INIT poweroff failed"
EOF
chmod 755 "$root/init" "$root/bin/busybox"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    | gzip -9 -n >"$out/child-initrd.img.tmp"
mv "$out/child-initrd.img.tmp" "$out/child-initrd.img"
