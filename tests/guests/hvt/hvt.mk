# The Solo5 hvt test unikernel (tests/guests/hvt), included by the top Makefile. Built the way
# Solo5's hvt toolchain builds one: freestanding, static, not PIE, no red zone (interrupts and
# the tender share the stack's neighbourhood), linked by hvt_test.ld.
Q ?= @
HVT_TEST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -static \
	-fno-pic -no-pie -mno-red-zone -fno-stack-protector -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fcf-protection=none -fno-builtin
HVT_TEST_LDFLAGS := -Wl,-T,tests/guests/hvt/hvt_test.ld -Wl,-z,max-page-size=4096 \
	-Wl,-z,noexecstack -Wl,--build-id=none

$(B)/control/hvt_test.elf: tests/guests/hvt/hvt_test.c tests/guests/hvt/hvt_test.ld
	@mkdir -p $(dir $@)
	$(Q)gcc $(HVT_TEST_CFLAGS) $(HVT_TEST_LDFLAGS) -o $@ tests/guests/hvt/hvt_test.c
