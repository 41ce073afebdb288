# The Multiboot v1 test kernel (tests/guests/mb): an ELF32 file linked at 1 MiB.
# Included from the top Makefile, which defines B, Q and WARN.
MB_CFLAGS := -m32 -std=gnu11 -O2 $(WARN) -ffreestanding -fno-builtin -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only -nostdlib
MB_OBJS := $(B)/guests/mb/entry.o $(B)/guests/mb/main.o

$(B)/guests/mb/%.o: tests/guests/mb/%.c
	@mkdir -p $(dir $@)
	$(Q)gcc $(MB_CFLAGS) -c $< -o $@
$(B)/guests/mb/%.o: tests/guests/mb/%.S
	@mkdir -p $(dir $@)
	$(Q)gcc -m32 -fno-pic -c $< -o $@
$(B)/control/mb_test.elf: $(MB_OBJS) tests/guests/mb/mb.ld
	@mkdir -p $(dir $@)
	$(Q)ld -m elf_i386 -static -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
		-T tests/guests/mb/mb.ld -o $@ $(MB_OBJS)
