/* hcfuzz's call engine (call.c): one generated hypercall, its prediction and its report. */
#ifndef HCFUZZ_CALL_H
#define HCFUZZ_CALL_H

#include "hcfuzz.h"

struct call {
	uint64_t op;
	unsigned size;        /* bytes of the parameter structure */
	int cls;              /* pointer class of RDI */
	uint64_t rdi;
	uint8_t *p;           /* the structure in our memory (good classes), else NULL */
	uint64_t must, may;   /* errno sets: a rule the input breaks; what the model cannot tell */
	uint64_t e;
	int described;
	void (*describe)(struct call *c);   /* prints the parameters after a violation */
	uint32_t id;          /* the VM id named */
	struct mvm *vm;       /* the VM named, if the model has it */
	uint32_t vcpu;
	int vcpu_ok;          /* VM live and vCPU id below its count */
};

uint64_t call_run(struct call *c, const void *tmpl);
const uint8_t *call_before(void);
void call_clear(void);
void call_enter(struct call *c);   /* name the operation for helper-call reports */
void calls_reset(void);
uint64_t op_docset(uint64_t op);
const char *set_str(uint64_t set);
void vio(const char *what, const CHAR16 *fmt, ...);
extern uint64_t hist[64];

#endif
