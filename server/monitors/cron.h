/*
 * server/monitors/cron.h — cron expressions for heartbeat schedules ("every weekday at 06:00"),
 * read in a time zone. The syntax is Vixie cron's five fields (crontab(5)):
 *   minute 0-59, hour 0-23, day of month 1-31, month 1-12 or jan-dec, day of week 0-7 or sun-sat
 *   (0 and 7 are Sunday); each field is "*", a number, a range "a-b", a step "*\/n" or "a-b/n",
 *   or a comma list of those; names are case-insensitive. The macros @yearly (@annually),
 *   @monthly, @weekly, @daily (@midnight) and @hourly are accepted. As in cron, when both day
 *   fields are restricted a day matches if either matches.
 * Times are wall-clock times in the zone (server/rotation/tz.c): a time that does not exist
 * (clocks spring forward) fires when the gap ends, a time that happens twice fires once, at its
 * first occurrence. Pure; thread-safe.
 */
#ifndef PLANTAO_CRON_H
#define PLANTAO_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

struct cron {
	uint64_t minutes; /* bit m: minute m */
	uint32_t hours;
	uint32_t mdays;  /* bits 1..31 */
	uint16_t months; /* bits 1..12 */
	uint8_t wdays;   /* bits 0..6, Sunday 0 */
	bool mday_star, wday_star;
};

/* Parses text; RC_INVALID with a short reason in err (e.g. "field 2 (hour): 24 is out of 0-23"). */
enum rc cron_parse(const char *text, struct cron *out, char *err, size_t errlen);

/*
 * The first instant strictly after `after` (Unix seconds) at which c fires in zone tz, into
 * *next. RC_NOT_FOUND when it never fires within 8 years (e.g. "0 0 30 2 *"), RC_INVALID for a
 * bad zone.
 */
enum rc cron_next(const struct cron *c, const char *tz, int64_t after, int64_t *next);

#endif
