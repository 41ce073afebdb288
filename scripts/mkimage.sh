#!/bin/sh
# mkimage.sh IMAGE BVMM_EFI CONTROL_EFI [FILE...]: a GPT disk image with one FAT32 EFI system
# partition holding EFI/BOOT/BOOTX64.EFI (bvmm) and EFI/BOOT/control.efi, plus FILEs in
# EFI/BOOT/ -- what `dd if=IMAGE of=/dev/sdX` puts on a USB stick. Needs sgdisk and mtools.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 IMAGE BVMM_EFI CONTROL_EFI [FILE...]" >&2; exit 2; }
img=$1 bvmm=$2 control=$3
shift 3
rm -f "$img"
# 72 MiB: FAT32 needs at least 65525 clusters (PLATFORM.md: a smaller mtools image fails).
truncate -s 72M "$img"
sgdisk -o -n 1:2048:0 -t 1:ef00 -c 1:"bvmm ESP" "$img" >/dev/null 2>&1 ||
	{ echo "$0: sgdisk failed" >&2; exit 1; }
# The partition: from sector 2048 to the last usable one (the backup GPT takes the last 33).
sectors=$(( $(stat -c %s "$img") / 512 - 34 - 2048 + 1 ))
esp="$img@@1M"
mformat -i "$esp" -T "$sectors" -h 64 -s 32 -F -v BVMM ::
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$bvmm" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$control" ::/EFI/BOOT/control.efi
for f in "$@"; do
	mcopy -i "$esp" "$f" ::/EFI/BOOT/
done
