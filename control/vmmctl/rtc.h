/* vmmctl's MC146818 real-time clock and CMOS RAM (ports 0x70 index, 0x71 data), the clock
 * read from the caller's wall-clock time (UTC). A pure state machine: the core passes
 * plat_wall_ns() to each access.
 *
 * Modelled: the time registers in BCD or binary and 12- or 24-hour format as register B says,
 * the century at 0x32, setting the clock (with or without B.SET, which freezes it while set),
 * registers A (UIP always 0: the update cycle is instantaneous; the divider and rate bits
 * read back as written but the clock runs regardless), B, C (always 0) and D (VRT: battery
 * good), and CMOS RAM 0x0e-0x7f with the PC BIOS memory sizes and their checksum.
 * Not modelled: periodic, alarm and update-ended interrupts (IRQ 8 never fires; the alarm
 * registers 1, 3 and 5 are plain storage), daylight saving (B.DSE is stored, ignored), the
 * NMI mask (bit 7 of the index is kept in nmi_masked for the core, nothing else).
 * Years 1970-9999; a written date before 1970 sets 1970-01-01. Day of week is derived from
 * the date, so writes to register 6 are ignored. */
#ifndef VMMCTL_RTC_H
#define VMMCTL_RTC_H

#include <stdint.h>

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA  0x71

struct rtc {
	uint8_t index;          /* selected register, 0-0x7f */
	uint8_t nmi_masked;     /* bit 7 of the last index write */
	uint8_t reg_a, reg_b;
	uint8_t ram[128];       /* CMOS RAM 0x0e-0x7f, the alarms at 1, 3, 5 */
	int64_t offset_s;       /* guest clock minus wall clock, seconds (0 until the guest sets it) */
	uint64_t frozen_s;      /* the guest clock while B.SET holds updates */
};

/* Power-on state: 24-hour BCD (what PC firmware leaves and Linux on x86 assumes: it reads
 * the time as BCD whatever B.DM says), clock = wall clock, memory sizes from mem_size. */
void rtc_init(struct rtc *r, uint64_t mem_size);
/* One byte access: 1 if port is 0x70 or 0x71, else 0 and nothing changes. wall_ns: the wall
 * clock (ns since 1970-01-01 UTC) at the access. Reads of 0x70 return 0xff (write-only). */
int rtc_io(struct rtc *r, uint16_t port, int in, uint32_t *data, uint64_t wall_ns);

/* Calendar conversion, exposed for the tests: seconds since the epoch <-> UTC fields.
 * wday 0 = Sunday; mon 1-12; mday 1-31. */
struct rtc_tm { uint32_t year; uint8_t mon, mday, hour, min, sec, wday; };
void rtc_secs_to_tm(uint64_t secs, struct rtc_tm *t);
uint64_t rtc_tm_to_secs(const struct rtc_tm *t);

#endif
