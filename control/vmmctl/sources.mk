# vmmctl's shared sources (paths from the project's root), included by the top Makefile (the
# EFI build) and control/linux/Makefile (the Linux build); each adds its plat_*.c.
VMMCTL_CORE := control/vmmctl/vmmctl.c control/vmmctl/machine.c control/vmmctl/devices.c \
	control/vmmctl/elf.c control/vmmctl/hvt.c control/vmmctl/multiboot.c control/vmmctl/bzimage.c \
	control/vmmctl/uart.c control/vmmctl/rtc.c control/vmmctl/xapic.c control/vmmctl/mmio.c hv/fmt.c
