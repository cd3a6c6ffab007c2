/*
 * server/rotation/schedule.h — who is on call when: the arithmetic of the rotation, pure (no SQLite,
 * no HTTP, no clock). The db layer loads rotation_versions, rotation_members and overrides
 * into a struct schedule; handlers, the engine and the iCalendar feed ask it questions.
 *
 * Model
 * - The rotation is versioned. A version applies from its effective_at until the next
 *   version's effective_at (versions sorted by effective_at; of two with the same instant
 *   the later one in the array wins). Editing the rotation appends a version effective
 *   "now", so the past never changes. Before the first version there is no rotation.
 * - Shift boundaries are wall-clock times in the version's zone: shift k (any integer;
 *   negative before the handoff) starts at local time handoff + k * shift_hours, whole days
 *   counted as calendar days and the rest on the clock face (server/rotation/tz.h gap/fold rules).
 *   A weekly Monday 09:00 hand-off stays at 09:00 across DST (167 or 169 real hours). No
 *   week numbers anywhere. The person of shift k is members[k mod n] (mathematical mod).
 * - At a version change E the old version's shift containing E is cut at E and the new
 *   version's shift containing E starts at E: both are visible.
 * - Overrides take precedence over rotation shifts; among overlapping overrides the highest
 *   id (the most recently created) wins. Overrides cut rotation shifts into pieces.
 *   Adjacent pieces are never merged: each rotation shift and each override stays distinct.
 *
 * Pieces are reported with their true extent (a piece that overlaps the asked window is not
 * clipped to it), so starts are stable — the iCalendar UIDs and hand-off notices rely on it.
 * For exact extents the caller must pass every override that overlaps the window widened
 * by the longest shift: load overrides with end_at > from - SCHEDULE_MARGIN and
 * start_at < to + SCHEDULE_MARGIN (SCHEDULE_MARGIN covers SCHEDULE_MAX_SHIFT_HOURS).
 */
#ifndef PLANTAO_SCHEDULE_H
#define PLANTAO_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define SCHEDULE_MAX_SHIFTS      10000 /* schedule_shifts() answers at most this many */
#define SCHEDULE_MAX_SHIFT_HOURS 8784  /* 366 days: longer shift_hours are RC_INVALID */
#define SCHEDULE_MARGIN          (INT64_C(8784) * 3600 + 86400)
#define SCHEDULE_LOOKAHEAD       (INT64_C(366) * 86400) /* how far schedule_next() looks */

/* One rotation version (a rotation_versions row with its members). Borrowed pointers. */
struct schedule_version {
	int64_t id;
	int64_t effective_at;   /* Unix seconds */
	int shift_hours;        /* 1..SCHEDULE_MAX_SHIFT_HOURS */
	const char *handoff;    /* local "2026-01-05T09:00" or "2026-01-05T09:00:00": start of shift 0 */
	const char *timezone;   /* IANA name, see tz_is_valid() */
	const int64_t *members; /* person ids in rotation order; may repeat */
	size_t n_members;       /* 0: nobody is on call by rotation under this version */
};

struct schedule_override {
	int64_t id; /* higher id wins where overrides overlap */
	int64_t person_id;
	int64_t start; /* [start, end), Unix seconds, start < end */
	int64_t end;
};

/* A piece of the schedule: a rotation shift (possibly cut) or an override (possibly cut). */
struct schedule_shift {
	int64_t start; /* [start, end) */
	int64_t end;
	int64_t person_id;
	bool is_override;
	int64_t override_id; /* 0 unless is_override */
	int64_t version_id;  /* the rotation version in force at start (0 before the first) */
};

/* The inputs, all borrowed. */
struct schedule {
	const struct schedule_version *versions; /* sorted by effective_at */
	size_t n_versions;
	const struct schedule_override *overrides; /* any order */
	size_t n_overrides;
};

/*
 * The pieces overlapping [from, to), in time order, with their true extents.
 * *out is a new array (free() it; NULL when *n == 0).
 * RC_INVALID: from >= to, instants out of range, unsorted versions, a version with a bad
 * handoff, zone or shift_hours, an override with start >= end. RC_TOO_BIG: more than
 * SCHEDULE_MAX_SHIFTS pieces. RC_INTERNAL: out of memory.
 */
enum rc schedule_shifts(const struct schedule *s, int64_t from, int64_t to, struct schedule_shift **out, size_t *n);

/* The piece containing `at` (who is on call). RC_NOT_FOUND when nobody is; errors as above. */
enum rc schedule_oncall(const struct schedule *s, int64_t at, struct schedule_shift *out);

/*
 * The next rotation shift after the one containing `at` whose person differs from whoever
 * is on call at `at` (override included): the "next"/backup escalation target. Overrides are
 * not applied to that future shift. RC_NOT_FOUND if none starts within SCHEDULE_LOOKAHEAD.
 */
enum rc schedule_next(const struct schedule *s, int64_t at, struct schedule_shift *out);

/*
 * The chain the support line dials: the person on call at `at` (override included) first,
 * then the members of the rotation version in force at `at` in rotation order from the
 * shift after the current one, each person once. Writes up to max ids to people[] and the
 * count to *n. RC_NOT_FOUND when the chain is empty.
 */
enum rc schedule_backups(const struct schedule *s, int64_t at, int64_t *people, size_t max, size_t *n);

#endif
