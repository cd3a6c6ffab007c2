/*
 * server/rotation/tz.h — time zones and local (wall-clock) time, through the system tz database.
 *
 * Every conversion between an instant and a local time in plantao MUST go through this
 * module. tz.c reads each zone file once (the first time the zone is named) and keeps it
 * parsed for the life of the process, so a later change of the file on disk is seen after a
 * restart. It never touches TZ or tzset(); the C library's process-wide local time is not
 * used anywhere in plantao. Code that only needs UTC (logging, HTTP dates, iCalendar) uses
 * gmtime_r(); nothing else may call localtime*() or mktime(). All functions are thread-safe.
 *
 * Vocabulary:
 *   instant  Unix seconds (int64_t), what SQLite stores.
 *   wall     a local calendar time counted as seconds since 1970-01-01T00:00 *on the local
 *            calendar* (as if the zone were UTC). Adding 86400 to a wall time adds one
 *            calendar day, adding 3600 one hour on the clock face, whatever DST does.
 *
 * Local to instant (tz_wall_to_utc): a wall time in a DST gap (does not exist) gives the
 * instant the gap ends (the first instant after it); an ambiguous wall time (clocks went
 * back) gives its first occurrence. The rule is implemented explicitly on the zone's offsets,
 * so it does not depend on what mktime() would do with tm_isdst = -1.
 *
 * Accepted text (ISO 8601 / RFC 3339 subset):
 *   local    "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" ('T' or one space; optional
 *            fraction ".123" which is truncated)
 *   instant  a local form followed by "Z" or an offset "+HH:MM", "-HH:MM", "+HHMM", "+HH"
 *   date     "YYYY-MM-DD" (tz_parse_instant only: local midnight)
 */
#ifndef PLANTAO_TZ_H
#define PLANTAO_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/rc.h"

/* Instants and wall times outside years 0001..9999 are refused (RC_INVALID). */
#define TZ_MIN_SECONDS INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TZ_MAX_SECONDS INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
/* Longest zone name accepted. */
#define TZ_NAME_MAX 64

/* Kept for callers of the earlier design: nothing to prepare any more (zones load on use). */
void tz_init(void);

/*
 * True when name is an IANA zone with a compiled zone file ("TZif", without leap-second
 * records: the "right/" zones are refused) under $TZDIR or /usr/share/zoneinfo; the file is
 * parsed and kept on the first call. Refuses NULL, "", absolute paths, "." and ".." components, empty
 * components and characters outside [A-Za-z0-9/_+-].
 */
bool tz_is_valid(const char *name);

/*
 * Parses a local date-time (no offset, no zone) into a wall time.
 * RC_INVALID on any other text or an impossible date ("2026-02-30", hour 24).
 */
enum rc tz_parse_local(const char *iso_local, int64_t *wall);

/* Wall time of the calendar fields (month 1..12, day 1..31); no validation. */
int64_t tz_wall_from_civil(int year, int month, int day, int hour, int min, int sec);

/* The instant of wall time `wall` in zone tz (gap and fold rules above). RC_INVALID for an
 * invalid zone or a wall time out of range. */
enum rc tz_wall_to_utc(const char *tz, int64_t wall, int64_t *out);

/* Batch form of tz_wall_to_utc: out[i] for walls[i], one zone switch for all. */
enum rc tz_walls_to_utc(const char *tz, const int64_t *walls, size_t n, int64_t *out);

/* The wall time of instant t in zone tz; *gmtoff (may be NULL) receives the UTC offset. */
enum rc tz_utc_to_wall(const char *tz, int64_t t, int64_t *wall, long *gmtoff);

/*
 * Local ISO text to an instant. Without an offset the text is a local time in tz; with "Z"
 * or an offset it is absolute and tz is ignored (may then be NULL).
 */
enum rc tz_local_to_utc(const char *tz, const char *iso_local, int64_t *out);

/*
 * Broken-down local time of t in tz (tm_isdst, tm_gmtoff, tm_wday and tm_yday set, as
 * glibc's localtime_r() would). tm_zone is set to NULL: abbreviations are not kept.
 */
enum rc tz_utc_to_local(const char *tz, int64_t t, struct tm *out);

/*
 * Writes t as local time with its offset, "2026-03-08T09:00:00-03:00", NUL-terminated.
 * (An offset that is not whole minutes, only seen in pre-1970 local mean time, is written
 * as UTC "...Z" instead.) RC_TOO_BIG when len is too small (26 bytes always suffice).
 */
enum rc tz_format_iso(const char *tz, int64_t t, char *out, size_t len);

/*
 * An instant from an API query parameter: ISO with "Z" or offset (tz ignored), a local
 * date-time in tz, or a date "2026-01-05" meaning local midnight in tz (if midnight falls
 * in a DST gap: the end of the gap). RC_INVALID otherwise.
 */
enum rc tz_parse_instant(const char *tz, const char *text, int64_t *out);

/*
 * Calendar arithmetic: the instant of local time iso_local + hours, where whole days are
 * added as calendar days and the remaining hours on the clock face (a weekly handoff at
 * Monday 09:00 stays at 09:00 across DST). hours may be negative.
 */
enum rc tz_local_add_hours(const char *tz, const char *iso_local, int64_t hours, int64_t *out);

#endif
