/* The phase marks of a -DBVMM_PHASES build (phase.h). One CPU's worth: make bench runs one. */
#include "phase.h"

#ifdef BVMM_PHASES
#include "log.h"
#include "../arch/x86_64/cpu.h"

static uint64_t last, ticks[PH_COUNT], marks[PH_COUNT];

static const char *const names[PH_COUNT] = {
	"control-guest", "exit-dispatch", "copy-in", "claim", "state-in", "entry", "child",
	"child-exit", "state-out", "record", "deliver", "release", "copy-out", "return",
};

void phase(enum phase_id p)
{
	uint64_t t = rdtsc();
	ticks[p] += t - last;
	marks[p]++;
	last = t;
}

/* Logs ticks per mark for each phase, and the same less a mark's own cost (measured here,
 * after the sums are taken), then starts over. */
void phase_report(void)
{
	uint64_t t[PH_COUNT], m[PH_COUNT];
	for (int p = 0; p < PH_COUNT; p++)
		t[p] = ticks[p], m[p] = marks[p];
	uint64_t t0 = rdtsc();
	for (int i = 0; i < 64; i++)
		phase(PH_RETURN);
	uint64_t cost = (rdtsc() - t0) / 64;
	for (int p = 0; p < PH_COUNT; p++) {
		if (!m[p])
			continue;
		uint64_t per = t[p] / m[p];
		log_info("phase %s: %lu marks, %lu ticks per mark (%lu less a mark's own %lu)", names[p],
			 m[p], per, per > cost ? per - cost : 0, cost);
	}
	for (int p = 0; p < PH_COUNT; p++)
		ticks[p] = marks[p] = 0;
	last = rdtsc();
}
#endif
