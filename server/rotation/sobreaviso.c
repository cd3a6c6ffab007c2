/*
 * server/rotation/sobreaviso.c — on-call hours of a month split by day class (sobreaviso.h).
 * Walks the month day by day: each local day's [midnight, next midnight) comes from tz.c, so
 * DST days have their true length, and each shift adds its overlap with that day.
 */
#include "rotation/sobreaviso.h"

#include <stdlib.h>
#include <string.h>

#include "rotation/holidays.h"
#include "rotation/tz.h"

enum rc sobreaviso_window(const char *zone, int year, int month, int64_t *from, int64_t *to)
{
	int ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;
	enum rc rc;

	if (year < 1970 || year > 9998 || month < 1 || month > 12)
		return RC_INVALID;
	rc = tz_wall_to_utc(zone, tz_wall_from_civil(year, month, 1, 0, 0, 0), from);
	if (rc == RC_OK)
		rc = tz_wall_to_utc(zone, tz_wall_from_civil(ny, nm, 1, 0, 0, 0), to);
	return rc;
}

static struct sobreaviso_row *row_of(struct sobreaviso_report *r, int64_t person_id, size_t cap)
{
	size_t i;

	for (i = 0; i < r->n_rows; i++)
		if (r->rows[i].person_id == person_id)
			return &r->rows[i];
	if (r->n_rows == cap)
		return NULL;
	r->rows[r->n_rows].person_id = person_id;
	return &r->rows[r->n_rows++];
}

enum rc sobreaviso_compute(const struct schedule_shift *shifts, size_t n, const char *zone, const char *country,
                           int year, int month, struct sobreaviso_report *out)
{
	int days, d;
	size_t i;
	enum rc rc;

	memset(out, 0, sizeof *out);
	rc = sobreaviso_window(zone, year, month, &out->from, &out->to);
	if (rc != RC_OK)
		return rc;
	out->rows = calloc(n ? n : 1, sizeof *out->rows); /* at most one row per shift */
	if (!out->rows)
		return RC_INTERNAL;
	days = holidays_month_days(year, month);
	for (d = 1; d <= days; d++) {
		int64_t start, end, covered = 0;
		enum sobreaviso_class cls;
		int wd = holidays_weekday(year, month, d);

		end = out->to;
		rc = tz_wall_to_utc(zone, tz_wall_from_civil(year, month, d, 0, 0, 0), &start);
		if (rc == RC_OK && d < days)
			rc = tz_wall_to_utc(zone, tz_wall_from_civil(year, month, d + 1, 0, 0, 0), &end);
		if (rc != RC_OK)
			goto fail;
		if (holidays_is_holiday(country, year, month, d, NULL))
			cls = SOBREAVISO_HOLIDAY;
		else if (wd == 0 || wd == 6)
			cls = SOBREAVISO_WEEKEND;
		else
			cls = SOBREAVISO_WEEKDAY;
		out->days[cls]++;
		for (i = 0; i < n; i++) {
			int64_t a = shifts[i].start > start ? shifts[i].start : start;
			int64_t b = shifts[i].end < end ? shifts[i].end : end;
			struct sobreaviso_row *row;

			if (b <= a || shifts[i].person_id <= 0)
				continue;
			row = row_of(out, shifts[i].person_id, n);
			if (!row) {
				rc = RC_INTERNAL;
				goto fail;
			}
			row->seconds[cls] += b - a;
			covered += b - a;
		}
		if (end - start > covered)
			out->uncovered[cls] += end - start - covered;
	}
	return RC_OK;
fail:
	sobreaviso_release(out);
	return rc;
}

void sobreaviso_release(struct sobreaviso_report *r)
{
	if (!r)
		return;
	free(r->rows);
	r->rows = NULL;
	r->n_rows = 0;
}
