/* tests/unit/rotation/test_sobreaviso.c — on-call hours of a month split into weekday, weekend and
 * holiday hours: whole months, shifts crossing midnight and weekends, holidays on Sundays, DST
 * days of 23 and 25 hours, time with nobody on call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rotation/sobreaviso.h"
#include "rotation/tz.h"

#define H 3600

static int64_t at(const char *zone, const char *local)
{
	int64_t t;

	assert_int_equal(tz_local_to_utc(zone, local, &t), RC_OK);
	return t;
}

static const struct sobreaviso_row *row(const struct sobreaviso_report *r, int64_t person)
{
	size_t i;

	for (i = 0; i < r->n_rows; i++)
		if (r->rows[i].person_id == person)
			return &r->rows[i];
	fail_msg("no row for person %lld", (long long)person);
	return NULL;
}

static void test_whole_month_november_2026(void **state)
{
	const char *z = "America/Sao_Paulo";
	struct schedule_shift sh[] = {{at(z, "2026-10-01T00:00"), at(z, "2027-01-01T00:00"), 7, false, 0, 1}};
	struct sobreaviso_report r;
	const struct sobreaviso_row *a;

	(void)state;
	assert_int_equal(sobreaviso_compute(sh, 1, z, "BR", 2026, 11, &r), RC_OK);
	assert_int_equal(r.from, at(z, "2026-11-01T00:00"));
	assert_int_equal(r.to, at(z, "2026-12-01T00:00"));
	/* 30 days: 2, 15 (a Sunday) and 20 are holidays; 8 other Saturdays and Sundays */
	assert_int_equal(r.days[SOBREAVISO_HOLIDAY], 3);
	assert_int_equal(r.days[SOBREAVISO_WEEKEND], 8);
	assert_int_equal(r.days[SOBREAVISO_WEEKDAY], 19);
	assert_int_equal(r.n_rows, 1);
	a = row(&r, 7);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKDAY], 19 * 24 * H);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKEND], 8 * 24 * H);
	assert_int_equal(a->seconds[SOBREAVISO_HOLIDAY], 3 * 24 * H);
	assert_int_equal(r.uncovered[0] + r.uncovered[1] + r.uncovered[2], 0);
	sobreaviso_release(&r);
}

static void test_shifts_split_at_midnight_and_gaps(void **state)
{
	const char *z = "America/Sao_Paulo";
	/* Ana from Friday 13 18:00 to Monday 16 09:00 (Sunday 15 is Proclamação da República), then
	 * Bruno until Wednesday 18 09:00; an override of Ana's on Tuesday 17 12:00-14:00 cuts it */
	struct schedule_shift sh[] = {
	        {at(z, "2026-11-13T18:00"), at(z, "2026-11-16T09:00"), 1, false, 0, 1},
	        {at(z, "2026-11-16T09:00"), at(z, "2026-11-17T12:00"), 2, false, 0, 1},
	        {at(z, "2026-11-17T12:00"), at(z, "2026-11-17T14:00"), 1, true, 5, 1},
	        {at(z, "2026-11-17T14:00"), at(z, "2026-11-18T09:00"), 2, false, 0, 1},
	};
	struct sobreaviso_report r;
	const struct sobreaviso_row *ana, *bruno;
	int64_t month = 30 * 24 * H, covered;

	(void)state;
	assert_int_equal(sobreaviso_compute(sh, 4, z, "BR", 2026, 11, &r), RC_OK);
	assert_int_equal(r.n_rows, 2);
	assert_int_equal(r.rows[0].person_id, 1); /* in order of first shift */
	ana = row(&r, 1);
	bruno = row(&r, 2);
	assert_int_equal(ana->seconds[SOBREAVISO_WEEKDAY], (6 + 9 + 2) * H);
	assert_int_equal(ana->seconds[SOBREAVISO_WEEKEND], 24 * H);
	assert_int_equal(ana->seconds[SOBREAVISO_HOLIDAY], 24 * H);
	assert_int_equal(bruno->seconds[SOBREAVISO_WEEKDAY], (15 + 22 + 9) * H);
	assert_int_equal(bruno->seconds[SOBREAVISO_WEEKEND] + bruno->seconds[SOBREAVISO_HOLIDAY], 0);
	covered = (17 + 48) * H + 46 * H;
	assert_int_equal(r.uncovered[0] + r.uncovered[1] + r.uncovered[2], month - covered);
	assert_int_equal(r.uncovered[SOBREAVISO_HOLIDAY], 2 * 24 * H); /* 2 and 20 Nov nobody */
	sobreaviso_release(&r);
}

static void test_dst_day_of_23_hours_sao_paulo_2018(void **state)
{
	/* Brazil's last DST began on Sunday 4 November 2018: midnight became 01:00 */
	const char *z = "America/Sao_Paulo";
	struct schedule_shift sh[] = {{at(z, "2018-10-29T09:00"), at(z, "2018-12-03T09:00"), 3, false, 0, 1}};
	struct sobreaviso_report r;
	const struct sobreaviso_row *a;

	(void)state;
	assert_int_equal(sobreaviso_compute(sh, 1, z, "BR", 2018, 11, &r), RC_OK);
	a = row(&r, 3);
	/* 2 and 15 Nov are holidays; 20 Nov was not yet a national holiday */
	assert_int_equal(r.days[SOBREAVISO_HOLIDAY], 2);
	assert_int_equal(a->seconds[SOBREAVISO_HOLIDAY], 48 * H);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKEND], 8 * 24 * H - H);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKDAY], 20 * 24 * H);
	assert_int_equal(r.to - r.from, 30 * 24 * H - H);
	sobreaviso_release(&r);
}

static void test_dst_day_of_25_hours_new_york_no_calendar(void **state)
{
	/* clocks went back on Sunday 1 November 2026 in New York; "US" has no built-in holidays */
	const char *z = "America/New_York";
	struct schedule_shift sh[] = {{at(z, "2026-10-26T09:00"), at(z, "2026-12-07T09:00"), 4, false, 0, 1}};
	struct sobreaviso_report r;
	const struct sobreaviso_row *a;

	(void)state;
	assert_int_equal(sobreaviso_compute(sh, 1, z, "US", 2026, 11, &r), RC_OK);
	a = row(&r, 4);
	assert_int_equal(r.days[SOBREAVISO_HOLIDAY], 0);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKEND], 9 * 24 * H + H);
	assert_int_equal(a->seconds[SOBREAVISO_WEEKDAY], 21 * 24 * H);
	sobreaviso_release(&r);
}

static void test_bad_input(void **state)
{
	struct sobreaviso_report r;

	(void)state;
	assert_int_equal(sobreaviso_compute(NULL, 0, "America/Sao_Paulo", "BR", 2026, 13, &r), RC_INVALID);
	assert_int_equal(sobreaviso_compute(NULL, 0, "Nowhere/City", "BR", 2026, 11, &r), RC_INVALID);
	/* no shifts at all: everything uncovered */
	assert_int_equal(sobreaviso_compute(NULL, 0, "America/Sao_Paulo", "BR", 2026, 2, &r), RC_OK);
	assert_int_equal(r.n_rows, 0);
	assert_int_equal(r.uncovered[SOBREAVISO_HOLIDAY], 2 * 24 * H); /* Carnaval 16-17 Feb */
	assert_int_equal(r.uncovered[0] + r.uncovered[1] + r.uncovered[2], 28 * 24 * H);
	sobreaviso_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_whole_month_november_2026),
	        cmocka_unit_test(test_shifts_split_at_midnight_and_gaps),
	        cmocka_unit_test(test_dst_day_of_23_hours_sao_paulo_2018),
	        cmocka_unit_test(test_dst_day_of_25_hours_new_york_no_calendar),
	        cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
