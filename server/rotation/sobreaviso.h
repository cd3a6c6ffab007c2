/*
 * server/rotation/sobreaviso.h — the monthly on-call ("sobreaviso") hours per person, split into
 * weekday, weekend and holiday hours, as Brazilian on-call pay needs them. Pure: the caller
 * gives the schedule's shifts (rotation and overrides applied, server/rotation/schedule.h), the
 * team's zone and country.
 *
 * Rules: a month is its local calendar days in the zone, midnight to midnight; a day's hours
 * are real elapsed seconds (a day when clocks go forward has 23 hours, back 25), so the total of
 * a month equals the instants between its first and last midnight. Each day is one class:
 * holiday (server/rotation/holidays.h) before weekend (Saturday, Sunday) before weekday — a
 * holiday on a Sunday counts as a holiday. A shift crossing midnight is split at midnight.
 * Time with nobody on call is counted as uncovered, per class too.
 */
#ifndef PLANTAO_SOBREAVISO_H
#define PLANTAO_SOBREAVISO_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "rotation/schedule.h"

enum sobreaviso_class { SOBREAVISO_WEEKDAY, SOBREAVISO_WEEKEND, SOBREAVISO_HOLIDAY, SOBREAVISO_CLASSES };

struct sobreaviso_row {
	int64_t person_id;
	int64_t seconds[SOBREAVISO_CLASSES];
};

struct sobreaviso_report {
	int64_t from, to;            /* the month's first and next month's first local midnight (instants) */
	struct sobreaviso_row *rows; /* one per person on call in the month, in order of first shift */
	size_t n_rows;
	int64_t uncovered[SOBREAVISO_CLASSES];
	int days[SOBREAVISO_CLASSES]; /* how many days of each class the month has */
};

/* The instants of the month's first local midnight and the next month's (the window to load
 * shifts for). RC_INVALID for a bad zone or month. */
enum rc sobreaviso_window(const char *zone, int year, int month, int64_t *from, int64_t *to);

/*
 * Fills *out (release with sobreaviso_release) for year-month from shifts (borrowed; pieces must
 * not overlap, as schedule_shifts gives them; they need not be clipped to the month).
 * RC_INVALID for a bad zone or month, RC_INTERNAL when out of memory.
 */
enum rc sobreaviso_compute(const struct schedule_shift *shifts, size_t n, const char *zone, const char *country,
                           int year, int month, struct sobreaviso_report *out);

void sobreaviso_release(struct sobreaviso_report *r);

#endif
