#!/bin/sh
# mkguests.sh IMAGE CHECK GUEST... - a gzip newc cpio holding /guests/check.sh (CHECK) and
# each GUEST file under /guests/ by its own name: the second initramfs of scenario 16, which
# the EFI stub loads after initrd.img (the kernel unpacks both into one root).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 IMAGE CHECK [GUEST...]" >&2; exit 2; }
img=$1 check=$2
shift 2
root=$(mktemp -d "${TMPDIR:-/tmp}/bvmm-guests.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/guests"
cp "$check" "$root/guests/check.sh"
chmod 755 "$root/guests/check.sh"
for g in "$@"; do
    cp "$g" "$root/guests/"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n > "$img.tmp"
mv "$img.tmp" "$img"
