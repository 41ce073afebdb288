#!/bin/sh
# Installs the Debian packages bvmm's build, run and tests need, if any is missing.
set -eu
PKGS="gcc make binutils libc6-dev gnu-efi ovmf qemu-system-x86 libcmocka-dev busybox-static
cpio mandoc procps linux-image-amd64 linux-headers-amd64 gdisk mtools clang libclang-rt-14-dev
bochs bochsbios vgabios"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
