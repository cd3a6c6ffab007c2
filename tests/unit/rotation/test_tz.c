/*
 * tests/unit/rotation/test_tz.c — zone names, ISO parsing, local <-> UTC with DST gaps and folds,
 * and tz.c's own reading of zone files checked against glibc's localtime_r() (the reference,
 * called only here) over many instants and every transition of zones with odd histories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "rotation/tz.h"

static int64_t local(const char *tz, const char *iso)
{
	int64_t t = 0;

	assert_int_equal(tz_local_to_utc(tz, iso, &t), RC_OK);
	return t;
}

static void fmt_is(const char *tz, int64_t t, const char *want)
{
	char s[40];

	assert_int_equal(tz_format_iso(tz, t, s, sizeof(s)), RC_OK);
	assert_string_equal(s, want);
}

static void test_is_valid(void **state)
{
	(void)state;
	assert_true(tz_is_valid("America/Sao_Paulo"));
	assert_true(tz_is_valid("America/New_York"));
	assert_true(tz_is_valid("Australia/Lord_Howe"));
	assert_true(tz_is_valid("UTC"));
	assert_true(tz_is_valid("Etc/GMT+3"));
	assert_true(tz_is_valid("America/Argentina/Buenos_Aires"));
	/* twice: the second answer comes from the cache */
	assert_true(tz_is_valid("America/Sao_Paulo"));

	assert_false(tz_is_valid("../../etc/passwd"));
	assert_false(tz_is_valid("America/../../../etc/passwd"));
	assert_false(tz_is_valid("/etc/passwd"));
	assert_false(tz_is_valid("/usr/share/zoneinfo/UTC"));
	assert_false(tz_is_valid("Mars/Base"));
	assert_false(tz_is_valid(""));
	assert_false(tz_is_valid(NULL));
	assert_false(tz_is_valid("America//Sao_Paulo"));
	assert_false(tz_is_valid("America/"));
	assert_false(tz_is_valid("America")); /* a directory */
	assert_false(tz_is_valid("./UTC"));
	assert_false(tz_is_valid("zone.tab")); /* not a zone file */
	assert_false(tz_is_valid("America/Sao Paulo"));
	assert_false(tz_is_valid("EST5EDT,M3.2.0,M11.1.0")); /* POSIX TZ strings are not names */
	assert_false(tz_is_valid("America/Sao_Paulo\n"));
	assert_false(tz_is_valid("America/Sao_Paulo_America/Sao_Paulo_America/Sao_Paulo_America/Sao"));
}

static void test_parse_local(void **state)
{
	int64_t w = 0;

	(void)state;
	assert_int_equal(tz_parse_local("2026-01-05T09:00", &w), RC_OK);
	assert_int_equal(w, 1767603600); /* 2026-01-05T09:00 read as UTC */
	assert_int_equal(tz_parse_local("2026-01-05T09:00:30", &w), RC_OK);
	assert_int_equal(w, 1767603630);
	assert_int_equal(tz_parse_local("2026-01-05 09:00", &w), RC_OK);
	assert_int_equal(w, 1767603600);
	assert_int_equal(tz_parse_local("1969-12-31T23:00", &w), RC_OK);
	assert_int_equal(w, -3600);
	assert_int_equal(tz_parse_local("2028-02-29T00:00", &w), RC_OK);
	assert_int_equal(tz_parse_local("2000-02-29T00:00", &w), RC_OK);

	assert_int_equal(tz_parse_local("2026-02-29T00:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2100-02-29T00:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-04-31T00:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T24:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T09:60", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T09:00:60", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T09:00Z", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T09:00-03:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T09", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("2026-01-05T9:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local("0000-01-05T09:00", &w), RC_INVALID);
	assert_int_equal(tz_parse_local(NULL, &w), RC_INVALID);
}

static void test_local_to_utc(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(local("America/Sao_Paulo", "2026-01-05T09:00"), 1767614400);
	assert_int_equal(local("America/Sao_Paulo", "2026-01-05T09:00:00"), 1767614400);
	assert_int_equal(local("UTC", "2026-01-05T09:00"), 1767603600);
	/* an offset makes the text absolute: the zone is ignored, even NULL or invalid */
	assert_int_equal(local(NULL, "2026-01-05T09:00:00Z"), 1767603600);
	assert_int_equal(local("Mars/Base", "2026-01-05T12:00:00+03:00"), 1767603600);
	assert_int_equal(local("America/Sao_Paulo", "2026-01-05T09:00:00-03:00"), 1767614400);
	assert_int_equal(local("Asia/Tokyo", "2026-01-05T09:00:00-03:00"), 1767614400);

	assert_int_equal(tz_local_to_utc("Mars/Base", "2026-01-05T09:00", &t), RC_INVALID);
	assert_int_equal(tz_local_to_utc("America/Sao_Paulo", "2026-01-05", &t), RC_INVALID);
	assert_int_equal(tz_local_to_utc("America/Sao_Paulo", "junk", &t), RC_INVALID);
}

/* New York: 2026-03-08 02:00-03:00 does not exist, 2026-11-01 01:00-02:00 happens twice. */
static void test_gap_and_fold_new_york(void **state)
{
	(void)state;
	/* in the gap: the instant the gap ends, 03:00 EDT */
	assert_int_equal(local("America/New_York", "2026-03-08T02:00"), 1772953200);
	assert_int_equal(local("America/New_York", "2026-03-08T02:30"), 1772953200);
	assert_int_equal(local("America/New_York", "2026-03-08T02:59:59"), 1772953200);
	assert_int_equal(local("America/New_York", "2026-03-08T03:00"), 1772953200);
	assert_int_equal(local("America/New_York", "2026-03-08T01:59:59"), 1772953199);
	/* in the fold: the first occurrence, EDT */
	assert_int_equal(local("America/New_York", "2026-11-01T01:30"), 1793511000);
	assert_int_equal(local("America/New_York", "2026-11-01T01:00"), 1793509200);
	/* 02:00 exists once (EST), an hour and a half after the first 01:30 + 1 h */
	assert_int_equal(local("America/New_York", "2026-11-01T02:00"), 1793516400);
	fmt_is("America/New_York", 1793511000, "2026-11-01T01:30:00-04:00");
	fmt_is("America/New_York", 1793511000 + 3600, "2026-11-01T01:30:00-05:00");
}

/* Brazil had DST until 2019: 2018-11-04 00:00 did not exist, 2019-02-16 23:xx twice. */
static void test_gap_and_fold_sao_paulo_2018(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(local("America/Sao_Paulo", "2018-11-04T00:00"), 1541300400);
	assert_int_equal(local("America/Sao_Paulo", "2018-11-04T00:30"), 1541300400);
	fmt_is("America/Sao_Paulo", 1541300400, "2018-11-04T01:00:00-02:00");
	assert_int_equal(local("America/Sao_Paulo", "2019-02-16T23:30"), 1550367000);
	fmt_is("America/Sao_Paulo", 1550367000, "2019-02-16T23:30:00-02:00");
	/* a date whose midnight is in the gap is that gap's end */
	assert_int_equal(tz_parse_instant("America/Sao_Paulo", "2018-11-04", &t), RC_OK);
	assert_int_equal(t, 1541300400);
	/* and since 2019 no DST: -03:00 all year */
	fmt_is("America/Sao_Paulo", local("America/Sao_Paulo", "2026-01-05T09:00"), "2026-01-05T09:00:00-03:00");
	fmt_is("America/Sao_Paulo", local("America/Sao_Paulo", "2026-07-06T09:00"), "2026-07-06T09:00:00-03:00");
}

/* Lord Howe Island moves its clocks by 30 minutes. */
static void test_lord_howe(void **state)
{
	(void)state;
	/* 2026-10-04 02:00 -> 02:30 (+10:30 -> +11:00) */
	assert_int_equal(local("Australia/Lord_Howe", "2026-10-04T02:15"), 1791041400);
	assert_int_equal(local("Australia/Lord_Howe", "2026-10-04T02:30"), 1791041400);
	fmt_is("Australia/Lord_Howe", 1791041400, "2026-10-04T02:30:00+11:00");
	fmt_is("Australia/Lord_Howe", 1791041399, "2026-10-04T01:59:59+10:30");
	/* 2026-04-05 02:00 -> 01:30: 01:45 happens twice, the first is +11:00 */
	assert_int_equal(local("Australia/Lord_Howe", "2026-04-05T01:45"), 1775313900);
	fmt_is("Australia/Lord_Howe", 1775313900 + 1800, "2026-04-05T01:45:00+10:30");
}

static void test_format_iso(void **state)
{
	char s[26];

	(void)state;
	fmt_is("America/Sao_Paulo", 1772982000, "2026-03-08T12:00:00-03:00");
	fmt_is("UTC", 1772982000, "2026-03-08T15:00:00+00:00");
	fmt_is("Asia/Kolkata", 1772982000, "2026-03-08T20:30:00+05:30");
	fmt_is("America/St_Johns", 1767614400, "2026-01-05T08:30:00-03:30");
	fmt_is("America/St_Johns", 1772982000, "2026-03-08T12:30:00-02:30");
	fmt_is("America/New_York", 0, "1969-12-31T19:00:00-05:00");
	assert_int_equal(tz_format_iso("UTC", 1772982000, s, sizeof(s)), RC_OK);
	assert_int_equal(tz_format_iso("UTC", 1772982000, s, 25), RC_TOO_BIG);
	assert_int_equal(tz_format_iso("Mars/Base", 1772982000, s, sizeof(s)), RC_INVALID);
	assert_int_equal(tz_format_iso("UTC", TZ_MAX_SECONDS + 1, s, sizeof(s)), RC_INVALID);
}

static void test_utc_to_local(void **state)
{
	struct tm tm;
	int64_t wall = 0;
	long off = 0;

	(void)state;
	assert_int_equal(tz_utc_to_local("America/New_York", 1773061200, &tm), RC_OK);
	assert_int_equal(tm.tm_year, 126);
	assert_int_equal(tm.tm_mon, 2);
	assert_int_equal(tm.tm_mday, 9);
	assert_int_equal(tm.tm_hour, 9);
	assert_int_equal(tm.tm_wday, 1);
	assert_int_equal(tm.tm_isdst, 1);
	assert_int_equal(tm.tm_gmtoff, -4 * 3600);
	assert_null(tm.tm_zone);
	assert_int_equal(tz_utc_to_wall("America/New_York", 1773061200, &wall, &off), RC_OK);
	assert_int_equal(wall, tz_wall_from_civil(2026, 3, 9, 9, 0, 0));
	assert_int_equal(off, -4 * 3600);
	assert_int_equal(tz_utc_to_local("Mars/Base", 0, &tm), RC_INVALID);
}

static void test_parse_instant(void **state)
{
	const char *sp = "America/Sao_Paulo";
	int64_t t = 0;

	(void)state;
	assert_int_equal(tz_parse_instant(sp, "2026-01-05", &t), RC_OK);
	assert_int_equal(t, 1767582000); /* local midnight, 03:00Z */
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T12:00:00Z", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T12:00:00.000Z", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05t12:00:00.999z", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T17:30:00+05:30", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00-0300", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00-03", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05 09:00", &t), RC_OK);
	assert_int_equal(t, 1767614400);
	/* absolute text needs no zone */
	assert_int_equal(tz_parse_instant(NULL, "2026-01-05T12:00:00Z", &t), RC_OK);
	assert_int_equal(t, 1767614400);

	t = 42;
	assert_int_equal(tz_parse_instant(sp, "2026-13-01", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-00-10", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-02-30", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "garbage", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, NULL, &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-1-5", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, " 2026-01-05", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00.", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00Zjunk", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00+25:00", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00+03:0", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "2026-01-05T09:00:00 UTC", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(sp, "1767614400", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant("Mars/Base", "2026-01-05", &t), RC_INVALID);
	assert_int_equal(tz_parse_instant(NULL, "2026-01-05T09:00", &t), RC_INVALID);
	assert_int_equal(t, 42); /* untouched on error */
}

/* Calendar arithmetic: days are calendar days, the hand-off keeps its clock time. */
static void test_add_hours(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(tz_local_add_hours("America/New_York", "2026-03-02T09:00", 168, &t), RC_OK);
	assert_int_equal(t, 1773061200); /* 2026-03-09T09:00-04:00 */
	assert_int_equal(t - 1772460000, 167 * 3600);
	assert_int_equal(tz_local_add_hours("America/New_York", "2026-11-02T09:00", -168, &t), RC_OK);
	assert_int_equal(t, 1793019600); /* 2026-10-26T09:00-04:00 */
	/* 12 h after 21:00 the day before the change is 09:00, 11 real hours */
	assert_int_equal(tz_local_add_hours("America/New_York", "2026-03-07T21:00", 12, &t), RC_OK);
	fmt_is("America/New_York", t, "2026-03-08T09:00:00-04:00");
	/* 26 h: a calendar day plus 2 hours on the clock, landing in the gap */
	assert_int_equal(tz_local_add_hours("America/New_York", "2026-03-07T00:30", 26, &t), RC_OK);
	fmt_is("America/New_York", t, "2026-03-08T03:00:00-04:00");
	/* across the year end and leap day */
	assert_int_equal(tz_local_add_hours("UTC", "2027-12-28T09:00", 24 * 63, &t), RC_OK);
	fmt_is("UTC", t, "2028-02-29T09:00:00+00:00");
	assert_int_equal(tz_local_add_hours("UTC", "2026-01-05T09:00", INT64_C(1) << 50, &t), RC_INVALID);
	assert_int_equal(tz_local_add_hours("UTC", "9999-12-31T09:00", 24, &t), RC_INVALID);
}

/* The process TZ is put back after each conversion. */
static void test_restores_tz(void **state)
{
	struct tm tm;
	time_t t = 0;
	int64_t x;

	(void)state;
	setenv("TZ", ":Asia/Tokyo", 1);
	tzset();
	x = local("America/New_York", "2026-03-02T09:00");
	assert_int_equal(x, 1772460000);
	assert_string_equal(getenv("TZ"), ":Asia/Tokyo");
	localtime_r(&t, &tm);
	assert_int_equal(tm.tm_gmtoff, 9 * 3600);
	unsetenv("TZ");
	tzset();
}

struct worker {
	const char *tz;
	const char *iso;
	int64_t want;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	int64_t t;
	int i;

	for (i = 0; i < 2000; i++)
		if (tz_local_to_utc(w->tz, w->iso, &t) != RC_OK || t != w->want)
			w->bad++;
	return NULL;
}

/* Two threads converting in different zones never see each other's zone. */
static void test_threads(void **state)
{
	struct worker a = {"America/Sao_Paulo", "2026-01-05T09:00", 1767614400, 0};
	struct worker b = {"Asia/Tokyo", "2026-01-05T09:00", 1767571200, 0};
	pthread_t ta, tb;

	(void)state;
	tz_init();
	assert_int_equal(pthread_create(&ta, NULL, work, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, work, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
}

static void test_batch(void **state)
{
	int64_t walls[3], out[3];

	(void)state;
	walls[0] = tz_wall_from_civil(2026, 3, 2, 9, 0, 0);
	walls[1] = tz_wall_from_civil(2026, 3, 8, 2, 30, 0);
	walls[2] = tz_wall_from_civil(2026, 3, 9, 9, 0, 0);
	assert_int_equal(tz_walls_to_utc("America/New_York", walls, 3, out), RC_OK);
	assert_int_equal(out[0], 1772460000);
	assert_int_equal(out[1], 1772953200);
	assert_int_equal(out[2], 1773061200);
	walls[1] = TZ_MAX_SECONDS + 1;
	assert_int_equal(tz_walls_to_utc("America/New_York", walls, 3, out), RC_INVALID);
}

/* ---- against glibc ---- */

static const char *const glibc_zones[] = {
        "America/Sao_Paulo", "Europe/Lisbon",       "America/New_York", "Europe/London",
        "Europe/Dublin",     "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Apia",
        "Pacific/Chatham",   "Africa/Casablanca",   "America/Santiago", "Asia/Tehran",
        "Antarctica/Troll",  "America/St_Johns",    "Asia/Kolkata",     "UTC",
        "Etc/GMT+3",         "America/Noronha",     "America/Manaus",   "Pacific/Kiritimati",
        "America/Nuuk",      "Asia/Jerusalem",      "Europe/Moscow",    "America/Asuncion",
        "Asia/Tokyo",
};

static void glibc_zone(const char *name)
{
	char v[128];

	snprintf(v, sizeof(v), ":%s", name);
	setenv("TZ", v, 1);
	tzset();
}

static long glibc_off(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return tm.tm_gmtoff;
}

/* Fails with the zone and instant, so a difference can be looked up. */
static void same_as_glibc(const char *zone, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm want, got;
	int64_t wall, back;

	assert_non_null(localtime_r(&tt, &want));
	assert_int_equal(tz_utc_to_local(zone, t, &got), RC_OK);
	if (got.tm_gmtoff != want.tm_gmtoff || got.tm_isdst != want.tm_isdst || got.tm_year != want.tm_year ||
	    got.tm_mon != want.tm_mon || got.tm_mday != want.tm_mday || got.tm_hour != want.tm_hour ||
	    got.tm_min != want.tm_min || got.tm_sec != want.tm_sec || got.tm_wday != want.tm_wday ||
	    got.tm_yday != want.tm_yday)
		fail_msg("%s at %lld: tz.c %04d-%02d-%02d %02d:%02d:%02d off %ld dst %d wday %d yday %d, glibc "
		         "%04d-%02d-%02d %02d:%02d:%02d off %ld dst %d wday %d yday %d",
		         zone, (long long)t, got.tm_year + 1900, got.tm_mon + 1, got.tm_mday, got.tm_hour, got.tm_min,
		         got.tm_sec, got.tm_gmtoff, got.tm_isdst, got.tm_wday, got.tm_yday, want.tm_year + 1900,
		         want.tm_mon + 1, want.tm_mday, want.tm_hour, want.tm_min, want.tm_sec, want.tm_gmtoff,
		         want.tm_isdst, want.tm_wday, want.tm_yday);
	/* and back: the wall time gives t, or an earlier instant with the same wall time (a fold) */
	assert_int_equal(tz_utc_to_wall(zone, t, &wall, NULL), RC_OK);
	if (wall < TZ_MIN_SECONDS || wall > TZ_MAX_SECONDS)
		return; /* the year 0 or 10000 on this zone's calendar */
	assert_int_equal(tz_wall_to_utc(zone, wall, &back), RC_OK);
	if (back != t) {
		int64_t wall2;

		assert_true(back < t);
		assert_int_equal(tz_utc_to_wall(zone, back, &wall2, NULL), RC_OK);
		assert_int_equal(wall2, wall);
	}
}

/*
 * Every zone above from 1850 to 2200 (past 2037 the zone files' POSIX footer decides),
 * sampled every 3 days and 1 h 7 s, and each transition found in glibc's answers, to the
 * second, checked one second before, at and after it.
 */
static void test_same_as_glibc(void **state)
{
	const int64_t from = -3786825600, to = 7258118400, step = 3 * 86400 + 3607;
	size_t zi;

	(void)state;
	for (zi = 0; zi < sizeof(glibc_zones) / sizeof(glibc_zones[0]); zi++) {
		const char *zone = glibc_zones[zi];
		long prev_off;
		int64_t t, transitions = 0;

		glibc_zone(zone);
		prev_off = glibc_off(from);
		for (t = from; t < to; t += step) {
			long off = glibc_off(t);

			same_as_glibc(zone, t);
			if (off != prev_off) {
				int64_t lo = t - step, hi = t, mid;

				while (hi - lo > 1) {
					mid = lo + (hi - lo) / 2;
					if (glibc_off(mid) == prev_off)
						lo = mid;
					else
						hi = mid;
				}
				same_as_glibc(zone, hi - 1);
				same_as_glibc(zone, hi);
				same_as_glibc(zone, hi + 1);
				transitions++;
			}
			prev_off = off;
		}
		/* far future and far past: footer rules and the type before the first transition */
		same_as_glibc(zone, INT64_C(253402300799) - 86400 * 200);
		same_as_glibc(zone, INT64_C(253402300799));
		same_as_glibc(zone, INT64_C(-62135596800) + 86400);
		if (strcmp(zone, "UTC") != 0 && strcmp(zone, "Etc/GMT+3") != 0 && strcmp(zone, "Asia/Tokyo") != 0)
			assert_true(transitions > 2);
	}
	unsetenv("TZ");
	tzset();
}

/* Conversions never touch the process environment: TZ stays unset. */
static void test_environment_untouched(void **state)
{
	(void)state;
	unsetenv("TZ");
	assert_int_equal(local("Europe/Lisbon", "2026-07-06T09:00"), 1783324800);
	fmt_is("Australia/Lord_Howe", 1791041400, "2026-10-04T02:30:00+11:00");
	assert_null(getenv("TZ"));
}

/* A zone file is read once: removing it after the first use changes no answer. */
static void test_zone_read_once(void **state)
{
	char dir[] = "/tmp/plantao-tzdir-XXXXXX", sub[128], path[160], cmd[400];
	const char *old = getenv("TZDIR");
	char *saved = old ? strdup(old) : NULL;
	int64_t t = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/Plantao", dir);
	snprintf(path, sizeof(path), "%s/Test_Zone", sub);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp /usr/share/zoneinfo/America/New_York %s", sub, path);
	assert_int_equal(system(cmd), 0);
	setenv("TZDIR", dir, 1);
	assert_true(tz_is_valid("Plantao/Test_Zone"));
	assert_int_equal(tz_local_to_utc("Plantao/Test_Zone", "2026-03-02T09:00", &t), RC_OK);
	assert_int_equal(t, 1772460000);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(tz_local_to_utc("Plantao/Test_Zone", "2026-11-01T01:30", &t), RC_OK);
	assert_int_equal(t, 1793511000);
	fmt_is("Plantao/Test_Zone", 1793511000 + 3600, "2026-11-01T01:30:00-05:00");
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_is_valid),
	        cmocka_unit_test(test_parse_local),
	        cmocka_unit_test(test_local_to_utc),
	        cmocka_unit_test(test_gap_and_fold_new_york),
	        cmocka_unit_test(test_gap_and_fold_sao_paulo_2018),
	        cmocka_unit_test(test_lord_howe),
	        cmocka_unit_test(test_format_iso),
	        cmocka_unit_test(test_utc_to_local),
	        cmocka_unit_test(test_parse_instant),
	        cmocka_unit_test(test_add_hours),
	        cmocka_unit_test(test_restores_tz),
	        cmocka_unit_test(test_threads),
	        cmocka_unit_test(test_batch),
	        cmocka_unit_test(test_same_as_glibc),
	        cmocka_unit_test(test_environment_untouched),
	        cmocka_unit_test(test_zone_read_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
