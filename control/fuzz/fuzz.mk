# hcfuzz (control/fuzz): the hypercall fuzzer, an EFI control program run under bvmm in QEMU.
# `make fuzz-hc FUZZ_CALLS=1000000 FUZZ_SEED=42` boots it once (scenario s11's boot, with
# these numbers); `make test` runs s11 with its own fixed seed and 100000 calls.
FUZZ_CALLS ?= 1000000
FUZZ_SEED ?= $(shell date +%Y%m%d%H%M)
HCFUZZ_SRCS := control/fuzz/hcfuzz.c control/fuzz/call.c control/fuzz/ops.c control/fuzz/ops_vm.c \
	control/fuzz/ops_run.c control/fuzz/model.c control/fuzz/regs.c control/fuzz/child.c
HCFUZZ_OBJS := $(HCFUZZ_SRCS:%.c=$(B)/efi-obj/%.o) $(B)/efi-obj/control/fuzz/hcall.o
$(HCFUZZ_OBJS): control/fuzz/hcfuzz.h control/fuzz/call.h

$(B)/control/hcfuzz.efi: $(HCFUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(call efi_link,$@,$^)

.PHONY: fuzz-hc
fuzz-hc: deps $(B)/bvmm.efi $(B)/control/hcfuzz.efi
	B=$(B) HCFUZZ_SEED=$(FUZZ_SEED) HCFUZZ_CALLS=$(FUZZ_CALLS) tests/scenarios/run.sh s11
