# Host fuzzing of bvmm's pure code with libFuzzer (clang, ASan, UBSan): one harness per target
# in tests/fuzz/fuzz_<target>.c, seeds in tests/fuzz/corpus/<target>/, builds in $(B)/fuzz/.
#   make fuzz-host [FUZZ_SECONDS=60]   each harness for FUZZ_SECONDS on a copy of its seeds
#   make fuzz-smoke                    fixed runs and seed, one PASS/FAIL line per target
FUZZ_SECONDS ?= 60
FUZZ_CC := clang-14
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -DBVMM_HOST_TEST \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := decode validate gmem config elf devices pci cpurules msr apic \
	vmmctl_load vmmctl_mmio vmmctl_devices
FUZZ_SRCS_decode := arch/x86_64/svm/decode.c
FUZZ_SRCS_validate := hv/validate.c
FUZZ_SRCS_gmem := hv/gmem.c
FUZZ_SRCS_config := boot/config.c
FUZZ_SRCS_elf := control/vmmctl/elf.c
FUZZ_SRCS_devices := control/vmmctl/devices.c
FUZZ_SRCS_pci := arch/x86_64/pci.c
FUZZ_SRCS_cpurules :=
FUZZ_SRCS_msr := arch/x86_64/msr.c
FUZZ_SRCS_apic := arch/x86_64/apic.c
FUZZ_SRCS_vmmctl_load := control/vmmctl/hvt.c control/vmmctl/multiboot.c \
	control/vmmctl/bzimage.c control/vmmctl/elf.c hv/fmt.c
FUZZ_SRCS_vmmctl_mmio := control/vmmctl/mmio.c hv/fmt.c
FUZZ_SRCS_vmmctl_devices := control/vmmctl/uart.c control/vmmctl/rtc.c control/vmmctl/devices.c \
	control/vmmctl/xapic.c control/vmmctl/hvt.c hv/fmt.c

define fuzz_target
$(B)/fuzz/$(1): tests/fuzz/fuzz_$(1).c tests/fuzz/fuzz_input.h $(FUZZ_SRCS_$(1)) $(HEADERS)
	@mkdir -p $$(dir $$@)
	@echo "  FUZZCC  $$@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $$< $(FUZZ_SRCS_$(1)) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

.PHONY: fuzz-build fuzz-host fuzz-smoke
fuzz-build: $(FUZZ_TARGETS:%=$(B)/fuzz/%)

fuzz-host: deps fuzz-build
	@tests/fuzz/run.sh host $(B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: deps
	@B=$(B) tests/fuzz/smoke.sh
