/*
 * tests/unit/rotation/test_schedule.c — rotation arithmetic across DST, year ends and version
 * changes; overrides; next/backup chains. All instants are fixed: no clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rotation/schedule.h"
#include "rotation/tz.h"

#define H  3600
#define D  86400
#define SP "America/Sao_Paulo"
#define NY "America/New_York"

static const int64_t m1[] = {1};
static const int64_t m12[] = {1, 2};
static const int64_t m123[] = {1, 2, 3};
static const int64_t m121[] = {1, 2, 1};

/* An absolute ISO instant ("...-03:00"). */
static int64_t T(const char *iso)
{
	int64_t t = 0;

	assert_int_equal(tz_parse_instant(NULL, iso, &t), RC_OK);
	return t;
}

static struct schedule_version ver(int64_t id, const char *effective, int hours, const char *handoff, const char *tz,
                                   const int64_t *members, size_t n)
{
	struct schedule_version v = {id, T(effective), hours, handoff, tz, members, n};

	return v;
}

static struct schedule one(const struct schedule_version *v)
{
	struct schedule s = {v, 1, NULL, 0};

	return s;
}

static size_t get(const struct schedule *s, const char *from, const char *to, struct schedule_shift **out)
{
	size_t n = 0;

	assert_int_equal(schedule_shifts(s, T(from), T(to), out, &n), RC_OK);
	return n;
}

static void is_shift(const struct schedule_shift *x, const char *start, const char *end, int64_t person)
{
	assert_int_equal(x->start, T(start));
	assert_int_equal(x->end, T(end));
	assert_int_equal(x->person_id, person);
}

static void local_is(const char *tz, int64_t t, const char *want)
{
	char s[40];

	assert_int_equal(tz_format_iso(tz, t, s, sizeof(s)), RC_OK);
	assert_string_equal(s, want);
}

static int64_t oncall_person(const struct schedule *s, const char *at)
{
	struct schedule_shift x;

	assert_int_equal(schedule_oncall(s, T(at), &x), RC_OK);
	return x.person_id;
}

/* ---- rotation arithmetic ---- */

static void test_weekly_sao_paulo(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x, y;
	size_t n;

	(void)state;
	n = get(&s, "2026-01-05T09:00:00-03:00", "2026-01-26T09:00:00-03:00", &x);
	assert_int_equal(n, 3);
	is_shift(&x[0], "2026-01-05T09:00:00-03:00", "2026-01-12T09:00:00-03:00", 1);
	is_shift(&x[1], "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	is_shift(&x[2], "2026-01-19T09:00:00-03:00", "2026-01-26T09:00:00-03:00", 3);
	assert_false(x[0].is_override);
	assert_int_equal(x[0].override_id, 0);
	assert_int_equal(x[1].version_id, 1);
	free(x);

	assert_int_equal(oncall_person(&s, "2026-01-12T08:59:59-03:00"), 1);
	assert_int_equal(oncall_person(&s, "2026-01-12T09:00:00-03:00"), 2);
	/* 26 weeks later: shift 26, 26 mod 3 = 2 */
	assert_int_equal(schedule_oncall(&s, T("2026-07-08T15:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-07-06T09:00:00-03:00", "2026-07-13T09:00:00-03:00", 3);

	/* a window inside one shift still reports the shift's true extent */
	n = get(&s, "2026-01-14T00:00:00-03:00", "2026-01-14T00:00:01-03:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	free(x);
}

/* The version is in force before its first handoff: shift numbers run negative. */
static void test_before_handoff(void **state)
{
	struct schedule_version v = ver(1, "2025-12-20T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x, y;
	size_t n;

	(void)state;
	/* k = -1 -> members[2], k = -2 -> members[1], k = -3 -> members[0] (clipped) */
	assert_int_equal(schedule_oncall(&s, T("2026-01-01T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2025-12-29T09:00:00-03:00", "2026-01-05T09:00:00-03:00", 3);
	assert_int_equal(schedule_oncall(&s, T("2025-12-25T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2025-12-22T09:00:00-03:00", "2025-12-29T09:00:00-03:00", 2);
	assert_int_equal(schedule_oncall(&s, T("2025-12-21T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2025-12-20T00:00:00-03:00", "2025-12-22T09:00:00-03:00", 1);
	/* before the first version nobody is on call */
	assert_int_equal(schedule_oncall(&s, T("2025-12-19T23:59:59-03:00"), &y), RC_NOT_FOUND);

	n = get(&s, "2025-12-01T00:00:00-03:00", "2026-01-12T09:00:00-03:00", &x);
	assert_int_equal(n, 4);
	is_shift(&x[0], "2025-12-20T00:00:00-03:00", "2025-12-22T09:00:00-03:00", 1);
	is_shift(&x[3], "2026-01-05T09:00:00-03:00", "2026-01-12T09:00:00-03:00", 1);
	free(x);

	/* far before the handoff, k = -104 -> ((-104 mod 3) + 3) mod 3 = 1 */
	v.effective_at = T("2020-01-01T00:00:00-03:00");
	assert_int_equal(schedule_oncall(&s, T("2024-01-10T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2024-01-08T09:00:00-03:00", "2024-01-15T09:00:00-03:00", 2);
}

/* Brazil had DST until 2019: weekly shifts last 167 h in November, 169 h in February. */
static void test_sao_paulo_2018_dst(void **state)
{
	struct schedule_version v = ver(1, "2018-10-01T00:00:00-03:00", 168, "2018-10-29T09:00", SP, m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2018-10-29T09:00:00-03:00", "2018-11-12T09:00:00-02:00", &x);
	assert_int_equal(n, 2);
	is_shift(&x[0], "2018-10-29T09:00:00-03:00", "2018-11-05T09:00:00-02:00", 1);
	assert_int_equal(x[0].end - x[0].start, 167 * H);
	assert_int_equal(x[1].end - x[1].start, 168 * H);
	assert_int_equal(x[1].person_id, 2);
	free(x);
	/* 15 weeks on: Feb 11 2019, shift 15 -> member 0 */
	n = get(&s, "2019-02-11T09:00:00-02:00", "2019-02-18T09:00:00-03:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2019-02-11T09:00:00-02:00", "2019-02-18T09:00:00-03:00", 1);
	assert_int_equal(x[0].end - x[0].start, 169 * H);
	free(x);
}

/* A daily midnight hand-off when midnight did not exist (2018-11-04) and 23:30 twice. */
static void test_sao_paulo_gap_and_fold_handoff(void **state)
{
	struct schedule_version v = ver(1, "2018-10-01T00:00:00-03:00", 24, "2018-10-01T00:00", SP, m12, 2);
	struct schedule_version w = ver(1, "2019-02-01T00:00:00-02:00", 24, "2019-02-01T23:30", SP, m12, 2);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2018-11-03T00:00:00-03:00", "2018-11-05T00:00:00-02:00", &x);
	assert_int_equal(n, 2);
	/* Nov 4 starts when the gap ends, 01:00 -02:00 */
	is_shift(&x[0], "2018-11-03T00:00:00-03:00", "2018-11-04T01:00:00-02:00", 2);
	is_shift(&x[1], "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00", 1);
	assert_int_equal(x[0].end - x[0].start, 24 * H);
	assert_int_equal(x[1].end - x[1].start, 23 * H);
	free(x);

	s = one(&w);
	n = get(&s, "2019-02-15T23:30:00-02:00", "2019-02-17T23:30:00-03:00", &x);
	assert_int_equal(n, 2);
	/* 2019-02-16 23:30 happened twice: the shift starts at the first */
	is_shift(&x[0], "2019-02-15T23:30:00-02:00", "2019-02-16T23:30:00-02:00", 1);
	is_shift(&x[1], "2019-02-16T23:30:00-02:00", "2019-02-17T23:30:00-03:00", 2);
	assert_int_equal(x[1].end - x[1].start, 25 * H);
	free(x);
}

static void test_new_york_dst(void **state)
{
	struct schedule_version v = ver(7, "2026-01-01T00:00:00-05:00", 168, "2026-01-05T09:00", NY, m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n, i;

	(void)state;
	n = get(&s, "2026-03-02T09:00:00-05:00", "2026-03-16T09:00:00-04:00", &x);
	assert_int_equal(n, 2);
	is_shift(&x[0], "2026-03-02T09:00:00-05:00", "2026-03-09T09:00:00-04:00", 3);
	assert_int_equal(x[0].end - x[0].start, 167 * H);
	assert_int_equal(x[1].end - x[1].start, 168 * H);
	assert_int_equal(x[0].version_id, 7);
	free(x);

	n = get(&s, "2026-10-26T09:00:00-04:00", "2026-11-09T09:00:00-05:00", &x);
	assert_int_equal(n, 2);
	is_shift(&x[0], "2026-10-26T09:00:00-04:00", "2026-11-02T09:00:00-05:00", 1);
	assert_int_equal(x[0].end - x[0].start, 169 * H);
	assert_int_equal(x[1].end - x[1].start, 168 * H);
	free(x);

	/* every start of the year is Monday 09:00 local, members in turn */
	n = get(&s, "2026-01-05T09:00:00-05:00", "2027-01-04T09:00:00-05:00", &x);
	assert_int_equal(n, 52);
	for (i = 0; i < n; i++) {
		struct tm tm;

		assert_int_equal(tz_utc_to_local(NY, x[i].start, &tm), RC_OK);
		assert_int_equal(tm.tm_wday, 1);
		assert_int_equal(tm.tm_hour, 9);
		assert_int_equal(tm.tm_min, 0);
		assert_int_equal(x[i].person_id, m123[i % 3]);
		if (i > 0)
			assert_int_equal(x[i].start, x[i - 1].end);
	}
	free(x);
}

static void test_london(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00Z", 168, "2026-01-05T09:00", "Europe/London", m12, 2);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2026-03-23T09:00:00Z", "2026-03-30T09:00:00+01:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2026-03-23T09:00:00+00:00", "2026-03-30T09:00:00+01:00", 2);
	assert_int_equal(x[0].end - x[0].start, 167 * H);
	free(x);
	n = get(&s, "2026-10-19T09:00:00+01:00", "2026-10-26T09:00:00Z", &x);
	assert_int_equal(n, 1);
	assert_int_equal(x[0].end - x[0].start, 169 * H);
	local_is("Europe/London", x[0].end, "2026-10-26T09:00:00+00:00");
	free(x);
}

/* Lord Howe Island's DST is 30 minutes: a weekly shift lasts 167.5 h. */
static void test_lord_howe(void **state)
{
	struct schedule_version v =
	        ver(1, "2026-01-01T00:00:00Z", 168, "2026-01-05T09:00", "Australia/Lord_Howe", m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2026-09-28T09:00:00+10:30", "2026-10-05T09:00:00+11:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2026-09-28T09:00:00+10:30", "2026-10-05T09:00:00+11:00", 3);
	assert_int_equal(x[0].end - x[0].start, 167 * H + 1800);
	free(x);
}

/* 12-hour shifts keep 09:00 / 21:00 on the clock: 11 h and 13 h on change days. */
static void test_twelve_hours_dst(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-05:00", 12, "2026-03-07T09:00", NY, m12, 2);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2026-03-07T09:00:00-05:00", "2026-03-09T09:00:00-04:00", &x);
	assert_int_equal(n, 4);
	is_shift(&x[0], "2026-03-07T09:00:00-05:00", "2026-03-07T21:00:00-05:00", 1);
	is_shift(&x[1], "2026-03-07T21:00:00-05:00", "2026-03-08T09:00:00-04:00", 2);
	is_shift(&x[2], "2026-03-08T09:00:00-04:00", "2026-03-08T21:00:00-04:00", 1);
	is_shift(&x[3], "2026-03-08T21:00:00-04:00", "2026-03-09T09:00:00-04:00", 2);
	assert_int_equal(x[1].end - x[1].start, 11 * H);
	free(x);
	n = get(&s, "2026-10-31T21:00:00-04:00", "2026-11-01T09:00:00-05:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2026-10-31T21:00:00-04:00", "2026-11-01T09:00:00-05:00", 2);
	assert_int_equal(x[0].end - x[0].start, 13 * H);
	free(x);
}

/*
 * 2026 has 53 ISO weeks: Monday 2026-12-28 is week 53, 2027-01-04 week 1. Counting shifts
 * from the handoff keeps the cycle going; week numbers would not.
 */
static void test_year_end(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	struct schedule_version w = ver(1, "2020-01-01T00:00:00-03:00", 168, "2020-01-06T09:00", SP, m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x;
	size_t n, i;

	(void)state;
	n = get(&s, "2026-12-21T09:00:00-03:00", "2027-01-18T09:00:00-03:00", &x);
	assert_int_equal(n, 4);
	/* shifts 50, 51, 52, 53 */
	is_shift(&x[0], "2026-12-21T09:00:00-03:00", "2026-12-28T09:00:00-03:00", 3);
	is_shift(&x[1], "2026-12-28T09:00:00-03:00", "2027-01-04T09:00:00-03:00", 1);
	is_shift(&x[2], "2027-01-04T09:00:00-03:00", "2027-01-11T09:00:00-03:00", 2);
	is_shift(&x[3], "2027-01-11T09:00:00-03:00", "2027-01-18T09:00:00-03:00", 3);
	free(x);

	/* 2020 (53 ISO weeks) through 2021 and 2022: the cycle never skips or repeats */
	s = one(&w);
	n = get(&s, "2020-01-06T09:00:00-03:00", "2023-01-02T09:00:00-03:00", &x);
	assert_int_equal(n, 156);
	for (i = 0; i < n; i++) {
		assert_int_equal(x[i].person_id, m123[i % 3]);
		assert_int_equal(x[i].end - x[i].start, 168 * H);
	}
	is_shift(&x[51], "2020-12-28T09:00:00-03:00", "2021-01-04T09:00:00-03:00", 1);
	free(x);

	/* a daily rotation across Dec 31 -> Jan 1 in a leap year end */
	w = ver(1, "2028-12-01T00:00:00Z", 24, "2028-12-01T08:00", "UTC", m123, 3);
	s = one(&w);
	n = get(&s, "2028-12-31T08:00:00Z", "2029-01-02T08:00:00Z", &x);
	assert_int_equal(n, 2);
	is_shift(&x[0], "2028-12-31T08:00:00Z", "2029-01-01T08:00:00Z", m123[30 % 3]);
	is_shift(&x[1], "2029-01-01T08:00:00Z", "2029-01-02T08:00:00Z", m123[31 % 3]);
	free(x);
}

/* ---- versions ---- */

static void test_version_change_mid_shift(void **state)
{
	static const int64_t m45[] = {4, 5};
	struct schedule_version vs[2] = {
	        ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3),
	        ver(2, "2026-01-14T12:00:00-03:00", 24, "2026-01-14T09:00", SP, m45, 2),
	};
	struct schedule s1 = {vs, 1, NULL, 0}, s2 = {vs, 2, NULL, 0};
	struct schedule_shift *a, *b, y;
	size_t na, nb;

	(void)state;
	nb = get(&s2, "2026-01-12T09:00:00-03:00", "2026-01-16T09:00:00-03:00", &b);
	assert_int_equal(nb, 3);
	/* the old shift is cut at the change, the new one starts there */
	is_shift(&b[0], "2026-01-12T09:00:00-03:00", "2026-01-14T12:00:00-03:00", 2);
	assert_int_equal(b[0].version_id, 1);
	is_shift(&b[1], "2026-01-14T12:00:00-03:00", "2026-01-15T09:00:00-03:00", 4);
	assert_int_equal(b[1].version_id, 2);
	is_shift(&b[2], "2026-01-15T09:00:00-03:00", "2026-01-16T09:00:00-03:00", 5);
	free(b);

	/* the past is the same with or without the new version */
	na = get(&s1, "2026-01-01T00:00:00-03:00", "2026-01-14T12:00:00-03:00", &a);
	nb = get(&s2, "2026-01-01T00:00:00-03:00", "2026-01-14T12:00:00-03:00", &b);
	assert_int_equal(na, 3);
	assert_int_equal(nb, 3);
	assert_memory_equal(a, b, 2 * sizeof(*a));
	assert_int_equal(a[2].start, b[2].start);
	assert_int_equal(a[2].person_id, b[2].person_id);
	assert_int_equal(b[2].end, T("2026-01-14T12:00:00-03:00"));
	free(a);
	free(b);

	assert_int_equal(schedule_oncall(&s2, T("2026-01-14T11:59:59-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-12T09:00:00-03:00", "2026-01-14T12:00:00-03:00", 2);
	assert_int_equal(schedule_oncall(&s2, T("2026-01-14T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-14T12:00:00-03:00", "2026-01-15T09:00:00-03:00", 4);
}

static void test_versions_edge_cases(void **state)
{
	static const int64_t m9[] = {9};
	struct schedule_version vs[3] = {
	        ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3),
	        ver(2, "2026-01-20T00:00:00-03:00", 168, "2026-01-05T09:00", SP, NULL, 0),
	        ver(3, "2026-01-20T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m9, 1),
	};
	struct schedule_override o = {1, 7, T("2026-01-21T00:00:00-03:00"), T("2026-01-22T00:00:00-03:00")};
	struct schedule s = {vs, 3, NULL, 0};
	struct schedule_shift y, *x;
	size_t n;

	(void)state;
	/* two versions at the same instant: the later one wins */
	assert_int_equal(oncall_person(&s, "2026-01-20T00:00:00-03:00"), 9);
	/* a version without members: nobody, unless an override */
	s.n_versions = 2;
	assert_int_equal(schedule_oncall(&s, T("2026-01-20T00:00:00-03:00"), &y), RC_NOT_FOUND);
	n = get(&s, "2026-01-19T09:00:00-03:00", "2026-02-01T00:00:00-03:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2026-01-19T09:00:00-03:00", "2026-01-20T00:00:00-03:00", 3);
	free(x);
	s.overrides = &o;
	s.n_overrides = 1;
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_OK);
	assert_int_equal(y.person_id, 7);
	assert_true(y.is_override);
	assert_int_equal(y.version_id, 2);

	/* versions out of order, bad fields */
	vs[1].effective_at = T("2025-12-01T00:00:00-03:00");
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_INVALID);
	vs[1].effective_at = T("2026-01-20T00:00:00-03:00");
	vs[0].timezone = "Mars/Base";
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_INVALID);
	vs[0].timezone = SP;
	vs[0].handoff = "2026-01-05";
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_INVALID);
	vs[0].handoff = "2026-01-05T09:00:00";
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_OK);
	vs[0].shift_hours = 0;
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_INVALID);
	vs[0].shift_hours = SCHEDULE_MAX_SHIFT_HOURS + 1;
	assert_int_equal(schedule_oncall(&s, T("2026-01-21T12:00:00-03:00"), &y), RC_INVALID);
}

/* ---- overrides ---- */

static void test_override_splits_shift(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	struct schedule_override o = {10, 9, T("2026-01-13T00:00:00-03:00"), T("2026-01-14T00:00:00-03:00")};
	struct schedule s = {&v, 1, &o, 1};
	struct schedule_shift *x, y;
	size_t n;

	(void)state;
	n = get(&s, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", &x);
	assert_int_equal(n, 3);
	is_shift(&x[0], "2026-01-12T09:00:00-03:00", "2026-01-13T00:00:00-03:00", 2);
	assert_false(x[0].is_override);
	is_shift(&x[1], "2026-01-13T00:00:00-03:00", "2026-01-14T00:00:00-03:00", 9);
	assert_true(x[1].is_override);
	assert_int_equal(x[1].override_id, 10);
	assert_int_equal(x[1].version_id, 1);
	is_shift(&x[2], "2026-01-14T00:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	assert_false(x[2].is_override);
	free(x);

	assert_int_equal(schedule_oncall(&s, T("2026-01-13T23:59:59-03:00"), &y), RC_OK);
	assert_int_equal(y.person_id, 9);
	assert_int_equal(schedule_oncall(&s, T("2026-01-14T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-14T00:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);

	/* an override across a hand-off is one piece; the next shift resumes after it */
	o.start = T("2026-01-18T00:00:00-03:00");
	o.end = T("2026-01-20T00:00:00-03:00");
	n = get(&s, "2026-01-17T00:00:00-03:00", "2026-01-21T00:00:00-03:00", &x);
	assert_int_equal(n, 3);
	is_shift(&x[0], "2026-01-12T09:00:00-03:00", "2026-01-18T00:00:00-03:00", 2);
	is_shift(&x[1], "2026-01-18T00:00:00-03:00", "2026-01-20T00:00:00-03:00", 9);
	is_shift(&x[2], "2026-01-20T00:00:00-03:00", "2026-01-26T09:00:00-03:00", 3);
	free(x);

	/* an override by the person already on call is kept distinct, not merged */
	o.person_id = 2;
	o.start = T("2026-01-12T09:00:00-03:00");
	o.end = T("2026-01-13T09:00:00-03:00");
	n = get(&s, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", &x);
	assert_int_equal(n, 2);
	is_shift(&x[0], "2026-01-12T09:00:00-03:00", "2026-01-13T09:00:00-03:00", 2);
	assert_true(x[0].is_override);
	is_shift(&x[1], "2026-01-13T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	assert_false(x[1].is_override);
	free(x);

	/* overrides with start >= end are refused */
	o.end = o.start;
	assert_int_equal(schedule_oncall(&s, T("2026-01-12T10:00:00-03:00"), &y), RC_INVALID);
}

static void test_overlapping_overrides(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	/* given in no particular order; the highest id wins where they overlap */
	struct schedule_override o[3] = {
	        {11, 8, T("2026-01-13T12:00:00-03:00"), T("2026-01-15T00:00:00-03:00")},
	        {5, 7, T("2026-01-13T06:00:00-03:00"), T("2026-01-13T18:00:00-03:00")},
	        {10, 9, T("2026-01-13T00:00:00-03:00"), T("2026-01-14T00:00:00-03:00")},
	};
	struct schedule s = {&v, 1, o, 3};
	struct schedule_shift *x;
	size_t n;

	(void)state;
	n = get(&s, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", &x);
	assert_int_equal(n, 4);
	is_shift(&x[0], "2026-01-12T09:00:00-03:00", "2026-01-13T00:00:00-03:00", 2);
	is_shift(&x[1], "2026-01-13T00:00:00-03:00", "2026-01-13T12:00:00-03:00", 9);
	assert_int_equal(x[1].override_id, 10);
	is_shift(&x[2], "2026-01-13T12:00:00-03:00", "2026-01-15T00:00:00-03:00", 8);
	assert_int_equal(x[2].override_id, 11);
	is_shift(&x[3], "2026-01-15T00:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	free(x);

	/* a newer override inside an older one cuts it in two pieces */
	o[0].start = T("2026-01-13T04:00:00-03:00");
	o[0].end = T("2026-01-13T05:00:00-03:00");
	n = get(&s, "2026-01-13T00:00:00-03:00", "2026-01-14T00:00:01-03:00", &x);
	assert_int_equal(n, 4);
	is_shift(&x[0], "2026-01-13T00:00:00-03:00", "2026-01-13T04:00:00-03:00", 9);
	is_shift(&x[1], "2026-01-13T04:00:00-03:00", "2026-01-13T05:00:00-03:00", 8);
	is_shift(&x[2], "2026-01-13T05:00:00-03:00", "2026-01-14T00:00:00-03:00", 9);
	assert_int_equal(x[0].override_id, 10);
	assert_int_equal(x[2].override_id, 10);
	/* the rotation piece after the override keeps its true end */
	is_shift(&x[3], "2026-01-14T00:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	free(x);

	/* an override with no rotation at all (before the first version) */
	o[2].start = T("2025-12-01T00:00:00-03:00");
	o[2].end = T("2025-12-02T00:00:00-03:00");
	n = get(&s, "2025-11-01T00:00:00-03:00", "2025-12-31T00:00:00-03:00", &x);
	assert_int_equal(n, 1);
	is_shift(&x[0], "2025-12-01T00:00:00-03:00", "2025-12-02T00:00:00-03:00", 9);
	assert_int_equal(x[0].version_id, 0);
	free(x);
}

/* ---- next and backups ---- */

static void chain_is(const struct schedule *s, const char *at, const int64_t *want, size_t n)
{
	int64_t got[8];
	size_t k = 0;

	assert_int_equal(schedule_backups(s, T(at), got, 8, &k), RC_OK);
	assert_int_equal(k, n);
	assert_memory_equal(got, want, n * sizeof(*want));
}

static void test_next_and_backups(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m1, 1);
	struct schedule s = one(&v);
	struct schedule_shift y;
	int64_t two[2];
	size_t k;

	(void)state;
	/* one member: nobody else */
	assert_int_equal(schedule_next(&s, T("2026-01-06T00:00:00-03:00"), &y), RC_NOT_FOUND);
	chain_is(&s, "2026-01-06T00:00:00-03:00", (const int64_t[]){1}, 1);

	/* two members */
	v.members = m12;
	v.n_members = 2;
	assert_int_equal(schedule_next(&s, T("2026-01-06T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	assert_false(y.is_override);
	assert_int_equal(y.version_id, 1);
	assert_int_equal(schedule_next(&s, T("2026-01-13T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-19T09:00:00-03:00", "2026-01-26T09:00:00-03:00", 1);
	chain_is(&s, "2026-01-06T00:00:00-03:00", (const int64_t[]){1, 2}, 2);
	chain_is(&s, "2026-01-13T00:00:00-03:00", (const int64_t[]){2, 1}, 2);

	/* three members */
	v.members = m123;
	v.n_members = 3;
	assert_int_equal(schedule_next(&s, T("2026-01-20T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-26T09:00:00-03:00", "2026-02-02T09:00:00-03:00", 1);
	chain_is(&s, "2026-01-06T00:00:00-03:00", (const int64_t[]){1, 2, 3}, 3);
	chain_is(&s, "2026-01-20T00:00:00-03:00", (const int64_t[]){3, 1, 2}, 3);
	assert_int_equal(schedule_backups(&s, T("2026-01-06T00:00:00-03:00"), two, 2, &k), RC_OK);
	assert_int_equal(k, 2);
	assert_int_equal(two[1], 2);

	/* the same person twice: {1, 2, 1}, shift 2 (Jan 19) and 3 (Jan 26) are both 1's */
	v.members = m121;
	assert_int_equal(schedule_next(&s, T("2026-01-20T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-02-02T09:00:00-03:00", "2026-02-09T09:00:00-03:00", 2);
	assert_int_equal(schedule_next(&s, T("2026-01-06T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	chain_is(&s, "2026-01-20T00:00:00-03:00", (const int64_t[]){1, 2}, 2);
	chain_is(&s, "2026-01-13T00:00:00-03:00", (const int64_t[]){2, 1}, 2);
}

static void test_next_and_backups_with_override(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m123, 3);
	struct schedule_override o = {1, 9, T("2026-01-06T00:00:00-03:00"), T("2026-01-07T00:00:00-03:00")};
	struct schedule s = {&v, 1, &o, 1};
	struct schedule_shift y;

	(void)state;
	/* someone outside the rotation covers: they come first, then the rotation order
	 * from the next shift, ending with the displaced member */
	chain_is(&s, "2026-01-06T12:00:00-03:00", (const int64_t[]){9, 2, 3, 1}, 4);
	assert_int_equal(schedule_next(&s, T("2026-01-06T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-12T09:00:00-03:00", "2026-01-19T09:00:00-03:00", 2);
	/* the next member covers today: next skips their own shift */
	o.person_id = 2;
	chain_is(&s, "2026-01-06T12:00:00-03:00", (const int64_t[]){2, 3, 1}, 3);
	assert_int_equal(schedule_next(&s, T("2026-01-06T12:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-19T09:00:00-03:00", "2026-01-26T09:00:00-03:00", 3);
}

static void test_next_across_versions(void **state)
{
	struct schedule_version vs[2] = {
	        ver(1, "2026-01-01T00:00:00-03:00", 168, "2026-01-05T09:00", SP, m12, 2),
	        ver(2, "2026-01-14T12:00:00-03:00", 24, "2026-01-14T09:00", SP, m1, 1),
	};
	struct schedule s = {vs, 2, NULL, 0};
	struct schedule empty = {NULL, 0, NULL, 0};
	struct schedule_shift y;
	int64_t p[4];
	size_t k = 7;

	(void)state;
	/* person 2 until the change, then only person 1: the new version's first shift */
	assert_int_equal(schedule_next(&s, T("2026-01-13T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-14T12:00:00-03:00", "2026-01-15T09:00:00-03:00", 1);
	assert_int_equal(y.version_id, 2);
	/* person 1 from then on, nobody else within a year */
	assert_int_equal(schedule_next(&s, T("2026-01-15T00:00:00-03:00"), &y), RC_NOT_FOUND);

	/* nothing at all */
	assert_int_equal(schedule_oncall(&empty, T("2026-01-15T00:00:00-03:00"), &y), RC_NOT_FOUND);
	assert_int_equal(schedule_next(&empty, T("2026-01-15T00:00:00-03:00"), &y), RC_NOT_FOUND);
	assert_int_equal(schedule_backups(&empty, T("2026-01-15T00:00:00-03:00"), p, 4, &k), RC_NOT_FOUND);
	assert_int_equal(k, 0);
	/* before the rotation starts, next is its first shift */
	assert_int_equal(schedule_next(&s, T("2025-12-15T00:00:00-03:00"), &y), RC_OK);
	is_shift(&y, "2026-01-01T00:00:00-03:00", "2026-01-05T09:00:00-03:00", 2);
}

/* ---- long overrides (issue 11: the cost of a look-up must not depend on their length) ---- */

static void test_long_override_short_shifts(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00Z", 1, "2026-01-01T00:00", "UTC", m12, 2);
	struct schedule_override o[2] = {
	        {7, 9, T("2026-03-01T00:00:00Z"), T("2099-12-31T23:59:00Z")},
	        {8, 5, T("2050-01-01T00:00:00Z"), T("2050-01-02T00:00:00Z")},
	};
	struct schedule s = {&v, 1, o, 2};
	struct schedule_shift y, *x;
	int64_t p[4];
	size_t n, k;
	int hours;

	(void)state;
	for (hours = 1; hours <= 12; hours += 11) {
		v.shift_hours = hours;
		assert_int_equal(schedule_oncall(&s, T("2026-03-02T10:30:00Z"), &y), RC_OK);
		is_shift(&y, "2026-03-01T00:00:00Z", "2050-01-01T00:00:00Z", 9);
		assert_true(y.is_override);
		assert_int_equal(y.override_id, 7);
		assert_int_equal(y.version_id, 1);
		assert_int_equal(schedule_oncall(&s, T("2050-01-01T12:00:00Z"), &y), RC_OK);
		is_shift(&y, "2050-01-01T00:00:00Z", "2050-01-02T00:00:00Z", 5);
		assert_int_equal(schedule_oncall(&s, T("2080-07-01T00:00:00Z"), &y), RC_OK);
		is_shift(&y, "2050-01-02T00:00:00Z", "2099-12-31T23:59:00Z", 9);
		/* after the override: the rotation, its first piece cut at the override's end */
		assert_int_equal(schedule_oncall(&s, T("2099-12-31T23:59:30Z"), &y), RC_OK);
		assert_false(y.is_override);
		assert_int_equal(y.start, T("2099-12-31T23:59:00Z"));
		assert_int_equal(y.end, T("2100-01-01T00:00:00Z"));

		/* a one-day window inside the override: one piece with its true extent */
		n = get(&s, "2027-05-01T00:00:00Z", "2027-05-02T00:00:00Z", &x);
		assert_int_equal(n, 1);
		is_shift(&x[0], "2026-03-01T00:00:00Z", "2050-01-01T00:00:00Z", 9);
		free(x);
		/* the override's end and the rotation after it */
		n = get(&s, "2099-12-31T12:00:00Z", "2100-01-01T12:00:00Z", &x);
		assert_int_equal(n, 1 + 1 + 12 / (size_t)hours);
		is_shift(&x[0], "2050-01-02T00:00:00Z", "2099-12-31T23:59:00Z", 9);
		assert_int_equal(x[1].start, T("2099-12-31T23:59:00Z"));
		assert_int_equal(x[1].end, T("2100-01-01T00:00:00Z"));
		assert_int_equal(x[n - 1].end, T("2100-01-01T12:00:00Z"));
		free(x);
		/* a window across the whole override: its pieces, the rotation on both sides */
		n = get(&s, "2026-02-28T23:00:00Z", "2100-01-01T00:00:00Z", &x);
		assert_int_equal(n, 5);
		is_shift(&x[1], "2026-03-01T00:00:00Z", "2050-01-01T00:00:00Z", 9);
		is_shift(&x[2], "2050-01-01T00:00:00Z", "2050-01-02T00:00:00Z", 5);
		is_shift(&x[3], "2050-01-02T00:00:00Z", "2099-12-31T23:59:00Z", 9);
		free(x);

		/* next: the first rotation shift after this one with someone else; the chain */
		assert_int_equal(schedule_next(&s, T("2027-05-01T00:30:00Z"), &y), RC_OK);
		assert_false(y.is_override);
		assert_int_equal(y.start, T("2027-05-01T00:00:00Z") + hours * H);
		assert_int_equal(schedule_backups(&s, T("2027-05-01T00:30:00Z"), p, 4, &k), RC_OK);
		assert_int_equal(k, 3);
		assert_int_equal(p[0], 9);
	}

	/* an override over the whole range of instants */
	o[0].start = TZ_MIN_SECONDS;
	o[0].end = TZ_MAX_SECONDS;
	assert_int_equal(schedule_oncall(&s, T("2030-01-01T00:00:00Z"), &y), RC_OK);
	assert_int_equal(y.person_id, 9);
	assert_int_equal(y.start, TZ_MIN_SECONDS);
	assert_int_equal(y.end, T("2050-01-01T00:00:00Z"));
}

/* A tiny deterministic generator: the property test below is the same on every run. */
static uint64_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return *s >> 33;
}

/* schedule_oncall() answers from the overrides and one shift; schedule_shifts() sweeps a
 * window: both must give the same piece, extent included, for any schedule. */
static void test_oncall_agrees_with_shifts(void **state)
{
	static const int64_t people[] = {1, 2, 3, 4};
	const int64_t base = T("2026-03-01T00:00:00-03:00");
	struct schedule_version vs[3];
	struct schedule_override o[8];
	struct schedule s;
	uint64_t seed = 42;
	int round, i;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t nv = 1 + rnd(&seed) % 3, no = rnd(&seed) % 9, j;
		static const int hours[] = {1, 5, 12, 24, 168};

		for (j = 0; j < nv; j++) {
			vs[j] = ver((int64_t)j + 1, "2026-03-01T00:00:00-03:00", hours[rnd(&seed) % 5],
			            "2026-02-27T07:00", rnd(&seed) % 2 ? SP : NY, people, 1 + rnd(&seed) % 4);
			vs[j].effective_at = base + (int64_t)j * (int64_t)(rnd(&seed) % (20 * D));
			if (j && vs[j].effective_at < vs[j - 1].effective_at)
				vs[j].effective_at = vs[j - 1].effective_at;
		}
		for (j = 0; j < no; j++) {
			o[j].id = (int64_t)j + 1 + 10 * (int64_t)(rnd(&seed) % 5); /* distinct, in any order */
			o[j].person_id = 10 + (int64_t)j;
			o[j].start = base - 5 * D + (int64_t)(rnd(&seed) % (40 * D));
			o[j].end =
			        o[j].start + 1 + (int64_t)(rnd(&seed) % (rnd(&seed) % 4 ? 3 * D : 40000 * (int64_t)D));
		}
		s.versions = vs;
		s.n_versions = nv;
		s.overrides = o;
		s.n_overrides = no;
		for (i = 0; i < 20; i++) {
			int64_t t = base - 6 * D + (int64_t)(rnd(&seed) % (45 * D));
			struct schedule_shift y, *x = NULL;
			size_t n = 0, k;
			enum rc a = schedule_oncall(&s, t, &y);

			assert_int_equal(schedule_shifts(&s, t - 2 * D, t + 2 * D, &x, &n), RC_OK);
			for (k = 0; k < n && !(x[k].start <= t && t < x[k].end); k++)
				;
			if (k == n) {
				assert_int_equal(a, RC_NOT_FOUND);
			} else {
				assert_int_equal(a, RC_OK);
				assert_int_equal(y.start, x[k].start);
				assert_int_equal(y.end, x[k].end);
				assert_int_equal(y.person_id, x[k].person_id);
				assert_int_equal(y.is_override, x[k].is_override);
				assert_int_equal(y.override_id, x[k].override_id);
				assert_int_equal(y.version_id, x[k].version_id);
			}
			free(x);
		}
	}
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	struct schedule_version v = ver(1, "2026-01-01T00:00:00Z", 1, "2026-01-01T00:00", "UTC", m123, 3);
	struct schedule s = one(&v);
	struct schedule_shift *x = NULL;
	int64_t from = T("2026-01-01T00:00:00Z");
	size_t n = 5;

	(void)state;
	assert_int_equal(schedule_shifts(&s, from, from, &x, &n), RC_INVALID);
	assert_int_equal(schedule_shifts(&s, from + 10, from, &x, &n), RC_INVALID);
	assert_int_equal(schedule_shifts(&s, from, from + SCHEDULE_MAX_SHIFTS * (int64_t)H, &x, &n), RC_OK);
	assert_int_equal(n, SCHEDULE_MAX_SHIFTS);
	assert_int_equal(x[SCHEDULE_MAX_SHIFTS - 1].person_id, m123[(SCHEDULE_MAX_SHIFTS - 1) % 3]);
	free(x);
	assert_int_equal(schedule_shifts(&s, from, from + (SCHEDULE_MAX_SHIFTS + 1) * (int64_t)H, &x, &n), RC_TOO_BIG);
	assert_null(x);
	assert_int_equal(n, 0);
	/* a window with nobody: RC_OK, no array */
	assert_int_equal(schedule_shifts(&s, from - 10 * D, from - D, &x, &n), RC_OK);
	assert_int_equal(n, 0);
	assert_null(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_weekly_sao_paulo),
	        cmocka_unit_test(test_before_handoff),
	        cmocka_unit_test(test_sao_paulo_2018_dst),
	        cmocka_unit_test(test_sao_paulo_gap_and_fold_handoff),
	        cmocka_unit_test(test_new_york_dst),
	        cmocka_unit_test(test_london),
	        cmocka_unit_test(test_lord_howe),
	        cmocka_unit_test(test_twelve_hours_dst),
	        cmocka_unit_test(test_year_end),
	        cmocka_unit_test(test_version_change_mid_shift),
	        cmocka_unit_test(test_versions_edge_cases),
	        cmocka_unit_test(test_override_splits_shift),
	        cmocka_unit_test(test_overlapping_overrides),
	        cmocka_unit_test(test_next_and_backups),
	        cmocka_unit_test(test_next_and_backups_with_override),
	        cmocka_unit_test(test_next_across_versions),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_long_override_short_shifts),
	        cmocka_unit_test(test_oncall_agrees_with_shifts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
