/* bvmm's configuration: bvmm.conf beside the image, overridden by the load options.
 * Pure parsing over ASCII text; no EFI calls here, so unit tests drive it directly. */
#ifndef BOOT_CONFIG_H
#define BOOT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum log_target { LOG_NONE = 0, LOG_COM1, LOG_COM2, LOG_DEBUGCON };
enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG };

#define CONFIG_PATH_MAX 256
#define CONFIG_ARGS_MAX 1024
#define CONFIG_ERR_MAX  128

#define CONFIG_POOL_DEFAULT (64ull << 20)
#define CONFIG_POOL_MIN     (4ull << 20)
#define CONFIG_POOL_MAX     (16ull << 30)

struct bvmm_config {
	char control[CONFIG_PATH_MAX];      /* control image path; relative = beside bvmm */
	char control_args[CONFIG_ARGS_MAX]; /* load options given to the control image */
	uint64_t pool_size;                 /* bytes, page multiple */
	enum log_target log;
	enum log_level log_level;
	uint32_t test_flags;                /* "test=" (BVMM_TEST_HOOKS builds only) */
	char error[CONFIG_ERR_MAX];         /* first problem found, "" if none */
};

void config_defaults(struct bvmm_config *c);

/* bvmm.conf: one key=value per line, '#' starts a comment line, the value is the rest of the
 * line (surrounding blanks and one pair of double quotes removed). Returns the number of
 * problems (unknown key, bad value); each bad line is skipped, the first is described in
 * c->error. */
int config_parse_file(struct bvmm_config *c, const char *text, size_t len);

/* Load options: blank-separated key=value words; double quotes group blanks and are removed
 * wherever they stand in a word. Words without '=' (the image name the shell passes first)
 * are ignored. */
int config_parse_options(struct bvmm_config *c, const char *text, size_t len);

/* "64M", "64MiB", "1G", "4096K", "67108864": bytes, or 0 if malformed. */
uint64_t config_parse_size(const char *s, size_t len);

const char *config_log_name(enum log_target t);

#endif
