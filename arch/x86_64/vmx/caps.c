/* VMX facts that need no hardware: control values from capability MSRs, exit-qualification
 * decoding, VM-instruction error names (see vmx.h). Pure; unit-tested. */
#include "vmx.h"

int vmx_ctl(uint64_t cap, uint32_t need, uint32_t want, uint32_t *out, uint32_t *missing)
{
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);
	*missing = need & ~may;
	*out = (must | need | want) & may;
	*out |= must;   /* a must-be-one bit the allowed-1 half denies: the MSR is broken, keep it */
	return *missing ? -1 : 0;
}

/* x86 register numbers (rax rcx rdx rbx rsp rbp rsi rdi r8..r15) -> vcpu_reg_state order */
static const uint8_t to_vrs[16] = { 0, 2, 3, 1, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };

void vmx_decode_io(uint64_t q, struct vmx_io *io)
{
	io->size = (unsigned)(q & 7) + 1;   /* 0, 1, 3: 1, 2, 4 bytes */
	io->in = !!(q & (1u << 3));
	io->string = !!(q & (1u << 4));
	io->rep = !!(q & (1u << 5));
	io->port = (uint16_t)(q >> 16);
}

void vmx_decode_cr(uint64_t q, struct vmx_cr *c)
{
	c->cr = (unsigned)(q & 0xf);
	c->type = (unsigned)(q >> 4) & 3;
	c->gpr = to_vrs[(q >> 8) & 0xf];
	c->lmsw = (uint16_t)(q >> 16);
}

const char *vmx_insn_error_name(uint32_t err)
{
	static const char *const names[] = {
		[1] = "VMCALL in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	return err < sizeof names / sizeof names[0] && names[err] ? names[err] : "unknown error";
}
