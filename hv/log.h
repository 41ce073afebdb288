/* The hypervisor's log: leveled lines "bvmm: <level>: ..." on one port (COM1, COM2, the 0xE9
 * debug console, or none). Used from host mode only; never blocks forever on a dead UART. */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdint.h>

enum { HV_LOG_ERROR = 0, HV_LOG_WARN, HV_LOG_INFO, HV_LOG_DEBUG };

#define LOG_PORT_COM1     0x3f8
#define LOG_PORT_COM2     0x2f8
#define LOG_PORT_DEBUGCON 0xe9

void log_init(uint16_t port, int level);
void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_write(HV_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_write(HV_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_write(HV_LOG_INFO, __VA_ARGS__)
/* Debug lines are asked for on hot paths (every failed hypercall): the level is tested
 * before the call, which otherwise costs its variadic frame every time. */
extern int hv_log_level;
#define log_debug(...) do { if (hv_log_level >= HV_LOG_DEBUG) \
	log_write(HV_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
