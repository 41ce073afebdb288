# Sourced by tests/bench.sh and tests/prof.sh: the one QEMU command line their counts come from.
# icount_boot DIR MEM COM1 COM2 [QEMU ARGS...]: OVMF (fresh variables in DIR/vars.fd) booting the
# ESP DIR/esp on one CPU under -icount shift=5,sleep=off (32 TSC ticks per emulated
# instruction), MEM of RAM, COM1 and COM2 to files; ICOUNT_TIMEOUT seconds at most (300).
icount_boot() {
	local dir=$1 mem=$2 com1=$3 com2=$4
	shift 4
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$dir/vars.fd"
	timeout "${ICOUNT_TIMEOUT:-300}" qemu-system-x86_64 -machine q35 -accel tcg \
		-icount shift=5,sleep=off -cpu max -smp 1 -m "$mem" \
		-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,unit=1,file="$dir/vars.fd" \
		-drive file=fat:rw:"$dir/esp",format=raw,media=disk \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none -vga none -net none \
		-no-reboot -monitor none -serial file:"$com1" -serial file:"$com2" "$@"
}
