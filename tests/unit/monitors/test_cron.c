/*
 * tests/unit/monitors/test_cron.c — cron expressions of heartbeat schedules (server/monitors/cron.c):
 * the syntax of crontab(5), the error messages, and next firings in a zone across DST gaps and
 * folds, month ends, leap days and the day-of-month / day-of-week "or" rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "monitors/cron.h"
#include "rotation/tz.h"

static int64_t at(const char *tz, const char *iso)
{
	int64_t t = 0;

	assert_int_equal(tz_local_to_utc(tz, iso, &t), RC_OK);
	return t;
}

/* The next firing of expr after local time `after` in tz, as local ISO text with offset. */
static void next_is(const char *expr, const char *tz, const char *after, const char *want)
{
	struct cron c;
	char err[160], got[40];
	int64_t n;

	assert_int_equal(cron_parse(expr, &c, err, sizeof err), RC_OK);
	assert_int_equal(cron_next(&c, tz, at(tz, after), &n), RC_OK);
	assert_int_equal(tz_format_iso(tz, n, got, sizeof got), RC_OK);
	if (strcmp(got, want) != 0)
		fail_msg("'%s' after %s in %s: got %s, want %s", expr, after, tz, got, want);
}

static void bad(const char *expr, const char *word)
{
	struct cron c;
	char err[160];

	assert_int_equal(cron_parse(expr, &c, err, sizeof err), RC_INVALID);
	if (!strstr(err, word))
		fail_msg("'%s': error '%s' lacks '%s'", expr, err, word);
}

static void test_syntax(void **state)
{
	struct cron c;
	char err[160];

	(void)state;
	assert_int_equal(cron_parse("*/15 6-18/2 1,15 jan-mar,DEC mon-fri", &c, err, sizeof err), RC_OK);
	assert_true(c.minutes == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
	assert_int_equal(c.hours,
	                 (1u << 6) | (1u << 8) | (1u << 10) | (1u << 12) | (1u << 14) | (1u << 16) | (1u << 18));
	assert_int_equal(c.mdays, (1u << 1) | (1u << 15));
	assert_int_equal(c.months, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 12));
	assert_int_equal(c.wdays, 0x3e);
	assert_false(c.mday_star);
	assert_int_equal(cron_parse("0 0 * * 7", &c, err, sizeof err), RC_OK);
	assert_int_equal(c.wdays, 1); /* 7 is Sunday */
	assert_int_equal(cron_parse("@daily", &c, err, sizeof err), RC_OK);
	assert_int_equal(c.hours, 1);
	assert_int_equal(cron_parse("5/20 * * * *", &c, err, sizeof err), RC_OK);
	assert_true(c.minutes == ((1ull << 5) | (1ull << 25) | (1ull << 45)));
	bad("0 6 * *", "five fields");
	bad("0 6 * * * *", "five fields");
	bad("60 * * * *", "minute");
	bad("0 24 * * *", "hour");
	bad("0 0 0 * *", "day of month");
	bad("0 0 * 13 *", "month");
	bad("0 0 * * 8", "day of week");
	bad("0 0 * * fry", "day of week");
	bad("5-1 * * * *", "backwards");
	bad("*/0 * * * *", "minute");
	bad("1,,2 * * * *", "minute");
	bad("", "five fields");
}

static void test_next_simple(void **state)
{
	(void)state;
	next_is("0 6 * * *", "America/Sao_Paulo", "2026-03-10T05:59", "2026-03-10T06:00:00-03:00");
	next_is("0 6 * * *", "America/Sao_Paulo", "2026-03-10T06:00", "2026-03-11T06:00:00-03:00"); /* strictly after */
	next_is("0 6 * * 1-5", "America/Sao_Paulo", "2026-03-13T07:00", "2026-03-16T06:00:00-03:00"); /* Fri -> Mon */
	next_is("*/10 * * * *", "UTC", "2026-03-10T23:55", "2026-03-11T00:00:00+00:00");
	next_is("0 0 31 * *", "UTC", "2026-04-01T00:00", "2026-05-31T00:00:00+00:00");    /* April has no 31st */
	next_is("0 12 29 2 *", "UTC", "2026-03-01T00:00", "2028-02-29T12:00:00+00:00");   /* leap day */
	next_is("0 9 1 * mon", "UTC", "2026-06-01T10:00", "2026-06-08T09:00:00+00:00");   /* 1st or a Monday */
	next_is("30 23 31 12 *", "UTC", "2026-12-31T23:31", "2027-12-31T23:30:00+00:00"); /* year end */
}

static void test_next_across_dst(void **state)
{
	(void)state;
	/* New York springs forward on 2026-03-08 at 02:00: 06:00 is 11:00Z before, 10:00Z after */
	next_is("0 6 * * *", "America/New_York", "2026-03-07T06:05", "2026-03-08T06:00:00-04:00");
	/* 02:30 does not exist that day: fired when the gap ends, 03:00 EDT */
	next_is("30 2 * * *", "America/New_York", "2026-03-08T01:00", "2026-03-08T03:00:00-04:00");
	/* falls back on 2026-11-01: 01:30 happens twice, fired once, at the first */
	next_is("30 1 * * *", "America/New_York", "2026-11-01T01:00", "2026-11-01T01:30:00-04:00");
	{
		struct cron c;
		char err[80];
		int64_t n, first = at("America/New_York", "2026-11-01T01:30-04:00");

		assert_int_equal(cron_parse("30 1 * * *", &c, err, sizeof err), RC_OK);
		assert_int_equal(cron_next(&c, "America/New_York", first, &n), RC_OK);
		assert_int_equal(n, at("America/New_York", "2026-11-02T01:30")); /* not the second 01:30 */
		/* hourly through the fold: 01:00 EDT, 01:00 EST is the same wall time, fired once */
		assert_int_equal(cron_parse("0 * * * *", &c, err, sizeof err), RC_OK);
		assert_int_equal(cron_next(&c, "America/New_York", at("UTC", "2026-11-01T05:00Z"), &n), RC_OK);
		assert_int_equal(n, at("UTC", "2026-11-01T07:00Z")); /* 02:00 EST */
	}
}

static void test_never(void **state)
{
	struct cron c;
	char err[80];
	int64_t n;

	(void)state;
	assert_int_equal(cron_parse("0 0 30 2 *", &c, err, sizeof err), RC_OK);
	assert_int_equal(cron_next(&c, "UTC", at("UTC", "2026-01-01T00:00Z"), &n), RC_NOT_FOUND);
	assert_int_equal(cron_parse("0 0 * * *", &c, err, sizeof err), RC_OK);
	assert_int_equal(cron_next(&c, "Not/AZone", 0, &n), RC_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_syntax),
	        cmocka_unit_test(test_next_simple),
	        cmocka_unit_test(test_next_across_dst),
	        cmocka_unit_test(test_never),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
