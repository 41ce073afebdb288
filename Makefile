# bvmm: `make` builds build/bvmm.efi; `make run` boots it under QEMU; `make test` runs the
# unit tests and the QEMU scenarios; `make bench` counts instructions under -icount.
B := build
EFIINC := /usr/include/efi
EFILIB := /usr/lib

# `make V=1` shows the commands.
Q := $(if $(V),,@)
WARN := -Wall -Wextra -Werror
# EFI applications (the loader, control programs, scenarios): GNU-EFI, PIC, MS ABI calls.
EFI_CFLAGS := -std=gnu11 -O2 $(WARN) -DGNU_EFI_USE_MS_ABI -fpic -ffreestanding \
	-fno-stack-protector -fno-strict-aliasing -fshort-wchar -mno-red-zone \
	-maccumulate-outgoing-args -I$(EFIINC) -I$(EFIINC)/x86_64
EFI_LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic -T $(EFILIB)/elf_x86_64_efi.lds \
	$(EFILIB)/crt0-efi-x86_64.o
EFI_LIBS := -L$(EFILIB) -lefi -lgnuefi
EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* \
	-j .rela.* -j .reloc

# The hypervisor image: freestanding, no FPU/SSE (the guest owns that state), fixed address.
HV_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fno-common $(HV_DEBUG)

HV_SRCS := hv/main.c hv/hypercall.c hv/vm.c hv/pvclock.c hv/validate.c hv/gmem.c hv/pool.c hv/log.c hv/phase.c \
	hv/fmt.c hv/panic.c hv/string.c arch/x86_64/pt.c arch/x86_64/desc.c arch/x86_64/msr.c \
	arch/x86_64/pci.c arch/x86_64/pcicfg.c arch/x86_64/launch.c arch/x86_64/apic.c arch/x86_64/ipi.c \
	arch/x86_64/lapic.c arch/x86_64/svm/svm.c arch/x86_64/svm/smp.c \
	arch/x86_64/svm/exit.c arch/x86_64/svm/decode.c arch/x86_64/svm/vcpu.c arch/x86_64/vmx/caps.c \
	arch/x86_64/vmx/vmx.c arch/x86_64/vmx/exit.c arch/x86_64/vmx/vcpu.c
HV_ASM := arch/x86_64/entry.S arch/x86_64/svm/run.S arch/x86_64/vmx/run.S
HV_OBJS := $(HV_SRCS:%.c=$(B)/hv-obj/%.o) $(HV_ASM:%.S=$(B)/hv-obj/%.o)

BOOT_SRCS := boot/main.c boot/config.c arch/x86_64/pt.c
BOOT_OBJS := $(BOOT_SRCS:%.c=$(B)/efi-obj/%.o) $(B)/efi-obj/boot/launch.o $(B)/efi-obj/boot/hvimage.o

HEADERS := $(wildcard abi/*.h hv/*.h boot/*.h arch/x86_64/*.h arch/x86_64/svm/*.h arch/x86_64/vmx/*.h control/libvmm/*.h \
	control/vmmctl/*.h)

.PHONY: all deps run run-efi test unit scenarios bench bench-phases prof clean image fuzz
.SECONDARY:
all: $(B)/bvmm.efi $(B)/control/hello.efi $(B)/control/vmmctl.efi $(B)/control/timer16.bin \
	$(B)/control/hello64.elf $(B)/control/spin64.elf

deps:
	@scripts/deps.sh

$(B)/hv-obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)gcc $(HV_CFLAGS) -c $< -o $@
$(B)/hv-obj/%.o: %.S $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)gcc $(HV_CFLAGS) -c $< -o $@

$(B)/hv.elf: $(HV_OBJS) linker.ld
	$(Q)ld -nostdlib -static -z max-page-size=4096 -z noexecstack -T linker.ld $(HV_OBJS) -o $@
$(B)/hv.bin: $(B)/hv.elf
	$(Q)objcopy -O binary $< $@

$(B)/efi-obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)gcc $(EFI_CFLAGS) -c $< -o $@
$(B)/efi-obj/%.o: %.S $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)gcc $(EFI_CFLAGS) -c $< -o $@
$(B)/efi-obj/boot/hvimage.o: boot/hvimage.S $(B)/hv.bin
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -DHV_BIN='"$(B)/hv.bin"' -c $< -o $@

# efi_link(output.efi, objects)
define efi_link
	$(Q)ld $(EFI_LDFLAGS) $(2) -o $(1:.efi=.so) $(EFI_LIBS)
	$(Q)objcopy $(EFI_SECTIONS) --target efi-app-x86_64 --subsystem=10 $(1:.efi=.so) $(1)
endef

$(B)/bvmm.efi: $(BOOT_OBJS)
	$(call efi_link,$@,$^)

# bvmm-test.efi: the same sources with BVMM_TEST_HOOKS (hypercalls and a config key that
# provoke a host panic, an unexpected child exit and a refused first VMRUN). Tests only.
HVT_OBJS := $(HV_SRCS:%.c=$(B)/hvt-obj/%.o) $(HV_ASM:%.S=$(B)/hvt-obj/%.o)
$(B)/hvt-obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (test hooks)"
	$(Q)gcc $(HV_CFLAGS) -DBVMM_TEST_HOOKS -c $< -o $@
$(B)/hvt-obj/%.o: %.S $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(HV_CFLAGS) -DBVMM_TEST_HOOKS -c $< -o $@
$(B)/hv-test.elf: $(HVT_OBJS) linker.ld
	$(Q)ld -nostdlib -static -z max-page-size=4096 -z noexecstack -T linker.ld $(HVT_OBJS) -o $@
$(B)/hv-test.bin: $(B)/hv-test.elf
	$(Q)objcopy -O binary $< $@
$(B)/efit-obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -DBVMM_TEST_HOOKS -c $< -o $@
$(B)/efit-obj/%.o: %.S $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -c $< -o $@
$(B)/efit-obj/boot/hvimage.o: boot/hvimage.S $(B)/hv-test.bin
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -DHV_BIN='"$(B)/hv-test.bin"' -c $< -o $@
$(B)/bvmm-test.efi: $(BOOT_SRCS:%.c=$(B)/efit-obj/%.o) $(B)/efit-obj/boot/launch.o $(B)/efit-obj/boot/hvimage.o
	$(call efi_link,$@,$^)

$(B)/control/demo16.bin: control/hello/demo16.S
	@mkdir -p $(dir $@)
	$(Q)gcc -c $< -o $(@:.bin=.o)
	$(Q)ld -Ttext=0x7c00 -e 0x7c00 --oformat binary -o $@ $(@:.bin=.o)
$(B)/efi-obj/control/hello/demo.o: control/hello/demo.S $(B)/control/demo16.bin
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -Wa,-I$(B)/control -c $< -o $@
$(B)/control/hello.efi: $(B)/efi-obj/control/hello/hello.o $(B)/efi-obj/control/hello/demo.o
	@mkdir -p $(dir $@)
	$(call efi_link,$@,$^)
include control/vmmctl/sources.mk
$(B)/control/vmmctl.efi: $(patsubst %.c,$(B)/efi-obj/%.o,$(VMMCTL_CORE) control/vmmctl/plat_efi.c)
	@mkdir -p $(dir $@)
	$(call efi_link,$@,$^)
$(B)/control/%64.elf: control/vmmctl/%64.S control/vmmctl/hello64.ld
	@mkdir -p $(dir $@)
	$(Q)gcc -c $< -o $(@:.elf=.o)
	$(Q)ld -static -nostdlib -z max-page-size=4096 -z noexecstack -T control/vmmctl/hello64.ld -o $@ $(@:.elf=.o)
$(B)/control/timer16.bin: control/vmmctl/timer16.S
	@mkdir -p $(dir $@)
	$(Q)gcc -c $< -o $(@:.bin=.o)
	$(Q)ld -Ttext=0x7c00 -e 0x7c00 --oformat binary -o $@ $(@:.bin=.o)

# ---- make run: OVMF -> bvmm -> the default control program, on a virtual FAT ESP ----
QEMU := qemu-system-x86_64
OVMF_CODE := /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS := /usr/share/OVMF/OVMF_VARS_4M.fd

# Boot $(B)/run/esp under QEMU with AMD SVM on 2 CPUs, COM1 on the terminal: $(1) the timeout
# in seconds, $(2) the memory. Single-threaded TCG: nested SVM under multi-threaded TCG is not
# reliable (README, SMP).
define qemu_run
cp $(OVMF_VARS) $(B)/run/vars.fd
timeout $(1) $(QEMU) -machine q35 -accel tcg,thread=single -cpu max -smp 2 -m $(2) \
	-drive if=pflash,format=raw,unit=0,readonly=on,file=$(OVMF_CODE) \
	-drive if=pflash,format=raw,unit=1,file=$(B)/run/vars.fd \
	-drive file=fat:rw:$(B)/run/esp,format=raw,media=disk \
	-display none -vga none -net none -no-reboot -monitor none \
	-serial stdio -serial file:$(B)/run/com2.log
@echo "hypervisor log: $(B)/run/com2.log"
endef

# On AMD (QEMU): Debian's Linux as the control domain on 2 CPUs, which runs
# tests/scenarios/linux/demo.sh: vmmctl starts Debian's kernel as a child, a Solo5 unikernel
# and a Multiboot kernel. `make run-efi` (and VENDOR=intel, under Bochs): the EFI demo control
# program and its demo child instead.
ifeq ($(VENDOR),intel)
run: run-efi
else
run: deps all $(B)/linux/initrd.img $(B)/linux/guests.img
	rm -rf $(B)/run && mkdir -p $(B)/run/esp/EFI/BOOT
	cp $(B)/bvmm.efi $(B)/run/esp/EFI/BOOT/BOOTX64.EFI
	cp $(B)/linux/vmlinuz $(B)/linux/initrd.img $(B)/linux/guests.img $(B)/run/esp/EFI/BOOT/
	printf 'control=vmlinuz\ncontrol_args=initrd=\\EFI\\BOOT\\initrd.img initrd=\\EFI\\BOOT\\guests.img console=ttyS0 panic=-1 quiet nokaslr vmmctl_demo=1\n' \
		> $(B)/run/esp/EFI/BOOT/bvmm.conf
	$(call qemu_run,300,1G)
endif

run-efi: deps all
	rm -rf $(B)/run && mkdir -p $(B)/run/esp/EFI/BOOT
	cp $(B)/bvmm.efi $(B)/run/esp/EFI/BOOT/BOOTX64.EFI
	cp $(B)/control/hello.efi $(B)/run/esp/EFI/BOOT/control.efi
ifeq ($(VENDOR),intel)
	@# Intel VMX under Bochs (tests/scenarios/bochs.sh): COM1 on the terminal through fd 3, the
	@# hypervisor log (COM2) and Bochs' own output in files. If bvmm returns to the firmware, the
	@# shell's startup.nsh powers off. Bochs exits 1 after a power-off.
	printf 'reset -s\r\n' > $(B)/run/esp/startup.nsh
	printf 'continue\nquit\n' > $(B)/run/dbg.rc
	bash -c '. tests/scenarios/bochs.sh && bochs_rc "$$@"' - $(B)/run/bochsrc corei7_skylake_x \
		$(B)/run/esp /dev/fd/3 $(B)/run/com2.log $(B)/run/bochs.log
	timeout 600 bochs-bin -q -f $(B)/run/bochsrc -rc $(B)/run/dbg.rc </dev/null 3>&1 \
		>$(B)/run/bochs.out 2>&1; st=$$?; [ $$st = 1 ] || { echo "Bochs status $$st"; exit 1; }
	@echo "hypervisor log: $(B)/run/com2.log; Bochs: $(B)/run/bochs.out, $(B)/run/bochs.log"
else
	$(call qemu_run,120,512M)
endif

# ---- tests ----
# Host unit tests (cmocka) of the pure logic, with ASan/UBSan.
UNIT_SRCS := boot/config.c arch/x86_64/pt.c arch/x86_64/apic.c arch/x86_64/msr.c arch/x86_64/pci.c arch/x86_64/vmx/caps.c arch/x86_64/svm/decode.c \
	hv/gmem.c hv/fmt.c hv/validate.c control/vmmctl/devices.c control/vmmctl/elf.c \
	control/vmmctl/multiboot.c control/vmmctl/xapic.c control/vmmctl/mmio.c \
	control/vmmctl/bzimage.c control/vmmctl/uart.c control/vmmctl/rtc.c
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/test_*.c))
$(B)/unit/%: tests/unit/%.c $(UNIT_SRCS) $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(Q)gcc -std=gnu11 -O1 -g $(WARN) -DBVMM_HOST_TEST -fsanitize=address,undefined \
		-fno-sanitize-recover=all $< $(UNIT_SRCS) -lcmocka -o $@

# hvt.c calls the platform layer (files, clock, console): its test brings its own stubs.
$(B)/unit/test_hvt: tests/unit/test_hvt.c control/vmmctl/hvt.c hv/fmt.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)gcc -std=gnu11 -O1 -g $(WARN) -DBVMM_HOST_TEST -fsanitize=address,undefined \
		-fno-sanitize-recover=all $< control/vmmctl/hvt.c hv/fmt.c -lcmocka -o $@

unit: $(UNIT_TESTS)

# Tiny guests (tests/guests), flat binaries linked at their load address.
GUEST_ADDR_real16 := 0xf0000
GUEST_ADDR_prot32 := 0x2000
GUEST_ADDR_triple := 0x7c00
GUEST_ADDR_long64 := 0x100000
GUEST_ADDR_bench16 := 0x7c00
GUEST_ADDR_hostile16 := 0x7c00
GUEST_ADDR_sweep64 := 0x100000
GUESTS := $(patsubst tests/guests/%.S,$(B)/guests/%.bin,$(wildcard tests/guests/*.S))
$(B)/guests/%.bin: tests/guests/%.S
	@mkdir -p $(dir $@)
	$(Q)gcc -c $< -o $(@:.bin=.o)
	$(Q)ld -Ttext=$(GUEST_ADDR_$*) -e $(GUEST_ADDR_$*) --oformat binary -o $@ $(@:.bin=.o)
$(B)/efi-obj/tests/scenarios/guests.o: tests/scenarios/guests.S $(GUESTS)
	@mkdir -p $(dir $@)
	$(Q)gcc $(EFI_CFLAGS) -Wa,-I$(B)/guests -c $< -o $@

# Scenario control programs (EFI applications run in the control guest).
SC_LIB := $(B)/efi-obj/tests/scenarios/lib/scenario.o $(B)/efi-obj/tests/scenarios/lib/probe.o
SC_NAMES := s1_control fallback bench s4_vmm s6_hooks s10_hostile s14_smp
SC_EFIS := $(SC_NAMES:%=$(B)/scenarios/bin/%.efi)
$(B)/scenarios/bin/%.efi: $(B)/efi-obj/tests/scenarios/%.o $(SC_LIB)
	@mkdir -p $(dir $@)
	$(call efi_link,$@,$^)
$(B)/scenarios/bin/s4_vmm.efi $(B)/scenarios/bin/bench.efi $(B)/scenarios/bin/s6_hooks.efi \
		$(B)/scenarios/bin/s10_hostile.efi: $(B)/scenarios/bin/%.efi: \
		$(B)/efi-obj/tests/scenarios/%.o $(SC_LIB) $(B)/efi-obj/tests/scenarios/guests.o
	@mkdir -p $(dir $@)
	$(call efi_link,$@,$^)
$(B)/efi-obj/tests/scenarios/%.o: tests/scenarios/%.c $(HEADERS) tests/scenarios/lib/scenario.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)gcc $(EFI_CFLAGS) -c $< -o $@

$(B)/linux/initrd.img: tests/scenarios/linux/mkinitrd.sh tests/scenarios/linux/init \
		tests/scenarios/linux/hvcheck.c control/linux/bvmm.c control/linux/Kbuild \
		control/linux/shim/stdint.h control/linux/vmmtest.c control/linux/vmmsmp.c control/linux/vmmbench.c tests/guests/bench16.S \
		control/linux/vmmguest.h control/linux/vmmrt.h control/libvmm/vmm_state.h \
		control/libvmm/vmm_exit.h abi/bvmm.h $(wildcard control/vmmctl/*.[ch]) control/vmmctl/sources.mk
	tests/scenarios/linux/mkinitrd.sh $(B)/linux

# The guests a Linux control domain runs with vmmctl (scenario 16), as a second initramfs
# (the EFI stub concatenates them): /guests/*, and /guests/check.sh, which init runs.
include tests/guests/mb/mb.mk tests/guests/hvt/hvt.mk
VMMCTL_GUESTS := tests/scenarios/linux/demo.sh $(B)/control/hello64.elf $(B)/control/spin64.elf $(B)/control/mb_test.elf \
	$(B)/control/hvt_test.elf $(B)/linux-child/child-vmlinuz $(B)/linux-child/child-initrd.img \
	tests/scenarios/linux/hvt-net-check.sh
# Debian's kernel again, as a child, with a busybox initramfs of its own.
$(B)/linux-child/child-initrd.img: tests/guests/linux-child/mkinitrd.sh
	tests/guests/linux-child/mkinitrd.sh $(B)/linux-child
$(B)/linux-child/child-vmlinuz: $(B)/linux-child/child-initrd.img
$(B)/linux/guests.img: tests/scenarios/linux/mkguests.sh tests/scenarios/linux/vmmctl-check.sh $(VMMCTL_GUESTS)
	tests/scenarios/linux/mkguests.sh $@ tests/scenarios/linux/vmmctl-check.sh $(VMMCTL_GUESTS)

scenarios: deps all $(SC_EFIS) $(B)/linux/initrd.img $(B)/linux/guests.img
	tests/scenarios/run.sh

bench: deps all $(B)/scenarios/bin/bench.efi $(B)/linux/initrd.img
	@tests/bench.sh

# Where the I/O round trip's instructions go: the hypervisor built with -DBVMM_PHASES (hv/phase.h)
# in build-phases, the same benchmark; the phase lines come from the hypervisor log.
bench-phases: deps
	@$(MAKE) --no-print-directory B=build-phases HV_DEBUG=-DBVMM_PHASES all build-phases/scenarios/bin/bench.efi
	@B=build-phases BENCH_LINUX=0 tests/bench.sh
	@echo "phases of the I/O round trip (instructions = ticks / 32):"
	@tr -d '\r' < build-phases/bench/com2.log | sed -n -E 's/^bvmm: cpu0: info: phase (.*)/  \1/p'

# Where one bench row's hypervisor instructions go, by function (ROW=io, io-gprs, mmio, enosys,
# cpuid, create-1g, ...; LINES=1 by source line): QEMU's execution log, tests/prof.sh.
prof: deps all $(B)/scenarios/bin/bench.efi
	@B=$(B) ROW=$(or $(ROW),io-gprs) LINES=$(LINES) tests/prof.sh

test: deps
	@$(MAKE) --no-print-directory all unit $(SC_EFIS) $(B)/bvmm-test.efi $(B)/linux/initrd.img $(B)/linux/guests.img \
		$(B)/bvmm.img $(B)/scenarios/bin/bench.efi fuzz-build $(B)/control/hcfuzz.efi
	@tests/run.sh

# A GPT disk image for a USB stick: `dd if=build/bvmm.img of=/dev/sdX bs=1M`.
image: deps $(B)/bvmm.img
$(B)/bvmm.img: $(B)/bvmm.efi $(B)/control/hello.efi scripts/mkimage.sh
	scripts/mkimage.sh $@ $(B)/bvmm.efi $(B)/control/hello.efi

# Fuzzing: the pure code under libFuzzer on the host (tests/fuzz/fuzz.mk: fuzz-host) and the
# hypercall interface from a control program under QEMU (control/fuzz/fuzz.mk: fuzz-hc).
# `make fuzz FUZZ_SECONDS=600 FUZZ_CALLS=10000000` runs both as long as asked.
-include tests/fuzz/fuzz.mk control/fuzz/fuzz.mk
fuzz: fuzz-host fuzz-hc

clean:
	rm -rf $(B)
