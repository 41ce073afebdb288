/* Unit tests of boot/config.c: bvmm.conf, the load options and sizes. Every rejection must
 * leave the previous value in place and describe the problem in c->error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../boot/config.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static int parse_file(struct bvmm_config *c, const char *text)
{
	return config_parse_file(c, text, strlen(text));
}

static int parse_opts(struct bvmm_config *c, const char *text)
{
	return config_parse_options(c, text, strlen(text));
}

static uint64_t size_of(const char *s)
{
	return config_parse_size(s, strlen(s));
}

/* A config with every field set away from the defaults, so "unchanged" is meaningful. */
static void non_default(struct bvmm_config *c)
{
	config_defaults(c);
	assert_int_equal(parse_file(c, "control=prev.efi\ncontrol_args=prev args\npool=128M\n"
				       "log=debugcon\nlog_level=debug\n"), 0);
	assert_string_equal(c->error, "");
}

static void assert_unchanged(const struct bvmm_config *c)
{
	assert_string_equal(c->control, "prev.efi");
	assert_string_equal(c->control_args, "prev args");
	assert_int_equal(c->pool_size, 128 * MiB);
	assert_int_equal(c->log, LOG_DEBUGCON);
	assert_int_equal(c->log_level, LOGL_DEBUG);
}

/* ---- defaults and names ---- */

static void test_defaults(void **state)
{
	(void)state;
	struct bvmm_config c;
	memset(&c, 0xa5, sizeof c);
	config_defaults(&c);
	assert_string_equal(c.control, "control.efi");
	assert_string_equal(c.control_args, "");
	assert_int_equal(c.pool_size, 64 * MiB);
	assert_int_equal(c.pool_size, CONFIG_POOL_DEFAULT);
	assert_int_equal(c.log, LOG_COM2);
	assert_int_equal(c.log_level, LOGL_INFO);
	assert_string_equal(c.error, "");
}

static void test_log_names(void **state)
{
	(void)state;
	assert_string_equal(config_log_name(LOG_NONE), "none");
	assert_string_equal(config_log_name(LOG_COM1), "com1");
	assert_string_equal(config_log_name(LOG_COM2), "com2");
	assert_string_equal(config_log_name(LOG_DEBUGCON), "debugcon");
}

static void test_empty_input(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(config_parse_file(&c, "", 0), 0);
	assert_int_equal(config_parse_options(&c, "", 0), 0);
	assert_int_equal(parse_file(&c, "\n\n   \n\t\n"), 0);
	assert_int_equal(parse_opts(&c, "   \t  "), 0);
	assert_string_equal(c.control, "control.efi");
	assert_int_equal(c.pool_size, 64 * MiB);
	assert_string_equal(c.error, "");
}

/* ---- each key ---- */

static void test_key_control(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "control=EFI\\Linux\\vmlinuz.efi\n"), 0);
	assert_string_equal(c.control, "EFI\\Linux\\vmlinuz.efi");
	assert_int_equal(parse_file(&c, "control=shell.efi"), 0);
	assert_string_equal(c.control, "shell.efi");
	assert_string_equal(c.error, "");
}

static void test_key_control_args(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "control_args=console=ttyS0 root=/dev/sda1\n"), 0);
	assert_string_equal(c.control_args, "console=ttyS0 root=/dev/sda1");
	/* an empty value clears it */
	assert_int_equal(parse_file(&c, "control_args=\n"), 0);
	assert_string_equal(c.control_args, "");
	assert_string_equal(c.error, "");
}

static void test_key_pool(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	struct { const char *line; uint64_t bytes; } cases[] = {
		{ "pool=128M", 128 * MiB },
		{ "pool=128MiB", 128 * MiB },
		{ "pool=1G", 1 * GiB },
		{ "pool=4096K", 4 * MiB },
		{ "pool=4M", 4 * MiB },                 /* the minimum itself */
		{ "pool=16G", 16 * GiB },               /* the maximum itself */
		{ "pool=16384M", 16 * GiB },
		{ "pool=67108864", 64 * MiB },
		{ "pool=4194305", 4 * MiB + 4096 },     /* rounded up to a page */
		{ "pool=8388607", 8 * MiB },
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(parse_file(&c, cases[i].line), 0);
		assert_int_equal(c.pool_size, cases[i].bytes);
		assert_int_equal(c.pool_size % 4096, 0);
	}
	assert_string_equal(c.error, "");
}

static void test_key_log(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "log=com1"), 0);
	assert_int_equal(c.log, LOG_COM1);
	assert_int_equal(parse_file(&c, "log=debugcon"), 0);
	assert_int_equal(c.log, LOG_DEBUGCON);
	assert_int_equal(parse_file(&c, "log=none"), 0);
	assert_int_equal(c.log, LOG_NONE);
	assert_int_equal(parse_file(&c, "log=com2"), 0);
	assert_int_equal(c.log, LOG_COM2);
	assert_string_equal(c.error, "");
}

static void test_key_log_level(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "log_level=error"), 0);
	assert_int_equal(c.log_level, LOGL_ERROR);
	assert_int_equal(parse_file(&c, "log_level=warn"), 0);
	assert_int_equal(c.log_level, LOGL_WARN);
	assert_int_equal(parse_file(&c, "log_level=debug"), 0);
	assert_int_equal(c.log_level, LOGL_DEBUG);
	assert_int_equal(parse_file(&c, "log_level=info"), 0);
	assert_int_equal(c.log_level, LOGL_INFO);
	assert_string_equal(c.error, "");
}

/* ---- the file format ---- */

static void test_file_full(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	const char *text =
		"# bvmm configuration\n"
		"\n"
		"   # an indented comment: pool=4G\n"
		"control = vmmctl.efi\n"
		"\t\n"
		"pool\t=\t256M\t\n"
		"log   =   com1\n"
		"log_level=warn\n"
		"control_args =   -v   --keep  blanks  \n";
	assert_int_equal(parse_file(&c, text), 0);
	assert_string_equal(c.error, "");
	assert_string_equal(c.control, "vmmctl.efi");
	assert_int_equal(c.pool_size, 256 * MiB);
	assert_int_equal(c.log, LOG_COM1);
	assert_int_equal(c.log_level, LOGL_WARN);
	/* the rest of the line, inner blanks kept, outer ones trimmed */
	assert_string_equal(c.control_args, "-v   --keep  blanks");
}

static void test_file_crlf_and_no_final_newline(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "control=a.efi\r\nlog=none\r\n# x\r\n\r\npool=32M"), 0);
	assert_string_equal(c.control, "a.efi");
	assert_int_equal(c.log, LOG_NONE);
	assert_int_equal(c.pool_size, 32 * MiB);
	assert_string_equal(c.error, "");
}

static void test_file_quoted_values(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "control = \"EFI\\my dir\\ctl.efi\"\n"
					"control_args=\"  padded  args \"\n"
					"pool=\"32M\"\nlog=\"com1\"\nlog_level=\"debug\"\n"), 0);
	assert_string_equal(c.control, "EFI\\my dir\\ctl.efi");
	assert_string_equal(c.control_args, "  padded  args ");   /* blanks inside quotes kept */
	assert_int_equal(c.pool_size, 32 * MiB);
	assert_int_equal(c.log, LOG_COM1);
	assert_int_equal(c.log_level, LOGL_DEBUG);
	/* only one pair of quotes is removed */
	assert_int_equal(parse_file(&c, "control_args=\"\"x\"\"\n"), 0);
	assert_string_equal(c.control_args, "\"x\"");
	/* a quote on one side only is part of the value */
	assert_int_equal(parse_file(&c, "control_args=\"half\n"), 0);
	assert_string_equal(c.control_args, "\"half");
	/* "" is an empty value */
	assert_int_equal(parse_file(&c, "control_args=\"\"\n"), 0);
	assert_string_equal(c.control_args, "");
	assert_string_equal(c.error, "");
}

static void test_file_value_keeps_equals_and_hash(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	/* split at the first '=' only; '#' inside a value is not a comment */
	assert_int_equal(parse_file(&c, "control_args=a=b c==d #not a comment\n"), 0);
	assert_string_equal(c.control_args, "a=b c==d #not a comment");
	assert_string_equal(c.error, "");
}

static void test_file_respects_len(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	const char *text = "pool=32M\nlog=none\n";
	/* only "pool=32M\nlog=no" is given: the log line is then bad */
	assert_int_equal(config_parse_file(&c, text, 15), 1);
	assert_int_equal(c.pool_size, 32 * MiB);
	assert_int_equal(c.log, LOG_COM2);
	/* "pool=3" */
	config_defaults(&c);
	assert_int_equal(config_parse_file(&c, text, 6), 1);
	assert_int_equal(c.pool_size, 64 * MiB);
}

static void test_file_later_line_overrides(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "pool=8M\nlog=com1\npool=16M\nlog=none\n"), 0);
	assert_int_equal(c.pool_size, 16 * MiB);
	assert_int_equal(c.log, LOG_NONE);
}

/* ---- load options ---- */

static void test_options_basic(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	/* the shell passes the image name first: a word without '=' */
	assert_int_equal(parse_opts(&c, "bvmm.efi pool=32M log=com1 log_level=debug control=x.efi"),
			 0);
	assert_int_equal(c.pool_size, 32 * MiB);
	assert_int_equal(c.log, LOG_COM1);
	assert_int_equal(c.log_level, LOGL_DEBUG);
	assert_string_equal(c.control, "x.efi");
	assert_string_equal(c.error, "");
}

static void test_options_words_without_equals_ignored(void **state)
{
	(void)state;
	struct bvmm_config c;
	non_default(&c);
	assert_int_equal(parse_opts(&c, "\\EFI\\BOOT\\BOOTX64.EFI verbose control -- pool"), 0);
	assert_unchanged(&c);
	assert_string_equal(c.error, "");
}

static void test_options_blanks(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_opts(&c, "  \t pool=8M\t\tlog=none \r\n log_level=warn  "), 0);
	assert_int_equal(c.pool_size, 8 * MiB);
	assert_int_equal(c.log, LOG_NONE);
	assert_int_equal(c.log_level, LOGL_WARN);
}

static void test_options_quoted(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_opts(&c, "bvmm.efi control_args=\"console=ttyS0  quiet\" "
					"control=\"my dir\\c.efi\" log=com1"), 0);
	assert_string_equal(c.control_args, "console=ttyS0  quiet");
	assert_string_equal(c.control, "my dir\\c.efi");
	assert_int_equal(c.log, LOG_COM1);
	/* a quoted empty value */
	assert_int_equal(parse_opts(&c, "control_args=\"\""), 0);
	assert_string_equal(c.control_args, "");
	assert_string_equal(c.error, "");
	/* the whole word quoted, as UEFI shell users write it; and quotes inside a value */
	assert_int_equal(parse_opts(&c, "\"control_args=info run \\g.bin\" \"pool=16M\""), 0);
	assert_string_equal(c.control_args, "info run \\g.bin");
	assert_int_equal(c.pool_size, 16 * MiB);
	assert_int_equal(parse_opts(&c, "control=a\"b c\"d"), 0);
	assert_string_equal(c.control, "ab cd");
}

static void test_options_later_override(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "pool=256M\nlog=com1\n"), 0);
	assert_int_equal(parse_opts(&c, "pool=8M pool=16M log=none log=debugcon"), 0);
	assert_int_equal(c.pool_size, 16 * MiB);
	assert_int_equal(c.log, LOG_DEBUGCON);
}

static void test_options_respect_len(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	const char *text = "pool=16M log=none";
	assert_int_equal(config_parse_options(&c, text, 8), 0);   /* "pool=16M" */
	assert_int_equal(c.pool_size, 16 * MiB);
	assert_int_equal(c.log, LOG_COM2);
}

/* ---- rejections ---- */

/* Parse one bad line (file) and one bad word (options): each must be refused, counted,
 * described, and change nothing. */
static void reject(const char *line, const char *what, const char *subject)
{
	struct bvmm_config c;
	non_default(&c);
	assert_int_equal(parse_file(&c, line), 1);
	assert_unchanged(&c);
	assert_true(c.error[0] != 0);
	assert_true(strlen(c.error) < CONFIG_ERR_MAX);
	if (!strstr(c.error, what))
		fail_msg("error \"%s\" for \"%s\" does not say \"%s\"", c.error, line, what);
	if (subject && !strstr(c.error, subject))
		fail_msg("error \"%s\" for \"%s\" does not name \"%s\"", c.error, line, subject);

	non_default(&c);
	assert_int_equal(parse_opts(&c, line), 1);
	assert_unchanged(&c);
	if (!strstr(c.error, what))
		fail_msg("error \"%s\" for option \"%s\" does not say \"%s\"", c.error, line, what);
}

static void test_reject_unknown_key(void **state)
{
	(void)state;
	reject("colour=blue", "unknown key", "colour");
	reject("Pool=32M", "unknown key", "Pool");         /* keys are case-sensitive */
	reject("log_levels=info", "unknown key", "log_levels");
}

static void test_reject_bad_pool(void **state)
{
	(void)state;
	reject("pool=lots", "pool=", "lots");
	reject("pool=", "pool=", NULL);
	reject("pool=0", "pool=", NULL);
	reject("pool=32X", "pool=", "32X");
	reject("pool=32Mb", "pool=", NULL);
	reject("pool=-64M", "pool=", NULL);
	reject("pool=0x4000000", "pool=", NULL);
}

static void test_reject_pool_range(void **state)
{
	(void)state;
	reject("pool=4095K", "pool=", "4095K");      /* 4M - 1K */
	reject("pool=4194303", "pool=", NULL);       /* 4M - 1 */
	reject("pool=2M", "pool=", NULL);
	reject("pool=16385M", "pool=", NULL);        /* 16G + 1M */
	reject("pool=17179869185", "pool=", NULL);   /* 16G + 1 */
	reject("pool=1024G", "pool=", NULL);
	reject("pool=99999999999999999999", "pool=", NULL);   /* overflows */
}

static void test_reject_bad_log(void **state)
{
	(void)state;
	reject("log=com3", "log=", "com3");
	reject("log=", "log=", NULL);
	reject("log=serial", "log=", NULL);
	reject("log=com", "log=", NULL);
	reject("log=com12", "log=", NULL);
	reject("log=debugconsole", "log=", NULL);
}

static void test_reject_bad_log_level(void **state)
{
	(void)state;
	reject("log_level=verbose", "log_level=", "verbose");
	reject("log_level=", "log_level=", NULL);
	reject("log_level=warning", "log_level=", NULL);
	reject("log_level=3", "log_level=", NULL);
}

static void test_reject_control_path(void **state)
{
	(void)state;
	char line[16 + CONFIG_PATH_MAX + 8];
	/* 255 characters fit (plus the NUL) */
	strcpy(line, "control=");
	memset(line + 8, 'p', CONFIG_PATH_MAX - 1);
	line[8 + CONFIG_PATH_MAX - 1] = 0;
	struct bvmm_config c;
	non_default(&c);
	assert_int_equal(parse_file(&c, line), 0);
	assert_int_equal(strlen(c.control), CONFIG_PATH_MAX - 1);
	assert_string_equal(c.error, "");
	/* 256 do not */
	memset(line + 8, 'q', CONFIG_PATH_MAX);
	line[8 + CONFIG_PATH_MAX] = 0;
	reject(line, "control=", NULL);
	/* nor does an empty path */
	reject("control=", "control=", NULL);
	reject("control=\"\"", "control=", NULL);
}

static void test_reject_control_args_too_long(void **state)
{
	(void)state;
	char *line = malloc(32 + CONFIG_ARGS_MAX);
	assert_non_null(line);
	strcpy(line, "control_args=");
	memset(line + 13, 'a', CONFIG_ARGS_MAX - 1);
	line[13 + CONFIG_ARGS_MAX - 1] = 0;
	struct bvmm_config c;
	non_default(&c);
	assert_int_equal(parse_file(&c, line), 0);
	assert_int_equal(strlen(c.control_args), CONFIG_ARGS_MAX - 1);
	memset(line + 13, 'b', CONFIG_ARGS_MAX);
	line[13 + CONFIG_ARGS_MAX] = 0;
	reject(line, "control_args=", NULL);
	free(line);
}

static void test_reject_line_without_equals(void **state)
{
	(void)state;
	struct bvmm_config c;
	non_default(&c);
	assert_int_equal(parse_file(&c, "pool 32M\n"), 1);
	assert_unchanged(&c);
	assert_true(c.error[0] != 0);
	non_default(&c);
	assert_int_equal(parse_file(&c, "=32M\n"), 1);
	assert_unchanged(&c);
	assert_true(c.error[0] != 0);
}

static void test_bad_lines_skipped_good_applied(void **state)
{
	(void)state;
	struct bvmm_config c;
	config_defaults(&c);
	assert_int_equal(parse_file(&c, "colour=red\npool=32M\nlog=com9\nlog_level=error\n"
					"pool=1T\n"), 3);
	assert_int_equal(c.pool_size, 32 * MiB);
	assert_int_equal(c.log, LOG_COM2);
	assert_int_equal(c.log_level, LOGL_ERROR);
	/* the first problem is the one described */
	assert_non_null(strstr(c.error, "unknown key"));
	assert_non_null(strstr(c.error, "colour"));
	assert_null(strstr(c.error, "com9"));
	/* and it stays across calls */
	assert_int_equal(parse_opts(&c, "log=bad pool=8M"), 1);
	assert_non_null(strstr(c.error, "colour"));
	assert_int_equal(c.pool_size, 8 * MiB);
}

static void test_error_long_key_bounded(void **state)
{
	(void)state;
	char line[600];
	memset(line, 'k', 500);
	strcpy(line + 500, "=1");
	struct bvmm_config c;
	non_default(&c);
	memset(c.error + 1, 'E', sizeof c.error - 1);   /* catch a missing terminator */
	c.error[0] = 0;
	assert_int_equal(parse_file(&c, line), 1);
	assert_true(strnlen(c.error, sizeof c.error) < sizeof c.error);
	assert_non_null(strstr(c.error, "unknown key"));
	assert_unchanged(&c);
}

/* ---- config_parse_size ---- */

static void test_size_plain_and_suffixes(void **state)
{
	(void)state;
	assert_int_equal(size_of("67108864"), 64 * MiB);
	assert_int_equal(size_of("1"), 1);
	assert_int_equal(size_of("64M"), 64 * MiB);
	assert_int_equal(size_of("64MiB"), 64 * MiB);
	assert_int_equal(size_of("64MB"), 64 * MiB);
	assert_int_equal(size_of("64m"), 64 * MiB);
	assert_int_equal(size_of("1G"), GiB);
	assert_int_equal(size_of("1GiB"), GiB);
	assert_int_equal(size_of("1g"), GiB);
	assert_int_equal(size_of("4096K"), 4 * MiB);
	assert_int_equal(size_of("4096KiB"), 4 * MiB);
	assert_int_equal(size_of("3k"), 3072);
	assert_int_equal(size_of("007M"), 7 * MiB);
}

static void test_size_garbage(void **state)
{
	(void)state;
	const char *bad[] = { "", "M", "G", "K", "iB", "x", "64X", "64T", "64Mi", "64MiBs", "64MiB ",
			      " 64M", "64 M", "6 4M", "-64M", "+64M", "0x40", "64.5M", "64M64",
			      "64MM", "64iB", "64Bi", "1e6" };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (size_of(bad[i]) != 0)
			fail_msg("config_parse_size(\"%s\") = %llu, expected 0 (malformed)", bad[i],
				 (unsigned long long)size_of(bad[i]));
}

static void test_size_respects_len(void **state)
{
	(void)state;
	assert_int_equal(config_parse_size("64Mjunk", 3), 64 * MiB);
	assert_int_equal(config_parse_size("64MiBjunk", 5), 64 * MiB);
	assert_int_equal(config_parse_size("123456", 2), 12);
	assert_int_equal(config_parse_size("64M", 0), 0);
}

static void test_size_overflow(void **state)
{
	(void)state;
	/* 2^64 and beyond in plain digits */
	assert_int_equal(size_of("18446744073709551616"), 0);
	assert_int_equal(size_of("99999999999999999999"), 0);
	assert_int_equal(size_of("184467440737095516150"), 0);
	/* suffix overflow: the largest K/M/G values that still fit, and one more */
	assert_int_equal(size_of("18014398509481983K"), 0xfffffffffffffc00ull);
	assert_int_equal(size_of("18014398509481984K"), 0);
	assert_int_equal(size_of("17592186044415M"), 0xfffffffffff00000ull);
	assert_int_equal(size_of("17592186044416M"), 0);
	assert_int_equal(size_of("17179869183G"), 0xffffffffc0000000ull);
	assert_int_equal(size_of("17179869184G"), 0);
	assert_int_equal(size_of("99999999999G"), 0);
	/* large values that fit */
	assert_int_equal(size_of("18446744073709551609"), 18446744073709551609ull);
}

/* The largest representable byte counts are not overflows and must parse. */
static void test_size_accepts_values_up_to_uint64_max(void **state)
{
	(void)state;
	assert_int_equal(size_of("18446744073709551610"), 18446744073709551610ull);
	assert_int_equal(size_of("18446744073709551615"), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_log_names),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_key_control),
		cmocka_unit_test(test_key_control_args),
		cmocka_unit_test(test_key_pool),
		cmocka_unit_test(test_key_log),
		cmocka_unit_test(test_key_log_level),
		cmocka_unit_test(test_file_full),
		cmocka_unit_test(test_file_crlf_and_no_final_newline),
		cmocka_unit_test(test_file_quoted_values),
		cmocka_unit_test(test_file_value_keeps_equals_and_hash),
		cmocka_unit_test(test_file_respects_len),
		cmocka_unit_test(test_file_later_line_overrides),
		cmocka_unit_test(test_options_basic),
		cmocka_unit_test(test_options_words_without_equals_ignored),
		cmocka_unit_test(test_options_blanks),
		cmocka_unit_test(test_options_quoted),
		cmocka_unit_test(test_options_later_override),
		cmocka_unit_test(test_options_respect_len),
		cmocka_unit_test(test_reject_unknown_key),
		cmocka_unit_test(test_reject_bad_pool),
		cmocka_unit_test(test_reject_pool_range),
		cmocka_unit_test(test_reject_bad_log),
		cmocka_unit_test(test_reject_bad_log_level),
		cmocka_unit_test(test_reject_control_path),
		cmocka_unit_test(test_reject_control_args_too_long),
		cmocka_unit_test(test_reject_line_without_equals),
		cmocka_unit_test(test_bad_lines_skipped_good_applied),
		cmocka_unit_test(test_error_long_key_bounded),
		cmocka_unit_test(test_size_plain_and_suffixes),
		cmocka_unit_test(test_size_garbage),
		cmocka_unit_test(test_size_respects_len),
		cmocka_unit_test(test_size_overflow),
		cmocka_unit_test(test_size_accepts_values_up_to_uint64_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
