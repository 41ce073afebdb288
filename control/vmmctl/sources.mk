# vmmctl's shared sources (paths from the project's root), included by the top Makefile (the
# EFI build) and control/linux/Makefile (the Linux build); each adds its plat_*.c.
VMMCTL_CORE := control/vmmctl/vmmctl.c control/vmmctl/machine.c control/vmmctl/devices.c \
	control/vmmctl/elf.c hv/fmt.c
