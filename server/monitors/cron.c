/*
 * server/monitors/cron.c — parsing cron expressions and finding their next firing in a time
 * zone (see cron.h). The search walks local wall-clock time: a month, day or hour that cannot
 * match is skipped whole, so a year is a few hundred steps at most; each candidate is turned
 * into an instant with tz_wall_to_utc (gap: end of the gap; fold: first occurrence).
 */
#include "monitors/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rotation/tz.h"

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] is lo + i; may be NULL */
	int n_names;
};

static const struct field fields[5] = {
        {"minute", 0, 59, NULL, 0},           {"hour", 0, 23, NULL, 0},
        {"day of month", 1, 31, NULL, 0},     {"month", 1, 12, month_names, 12},
        {"day of week", 0, 7, wday_names, 7},
};

/* A number or a name of f at *p; advances *p. */
static bool value(const struct field *f, const char **p, int *out)
{
	const char *s = *p;
	int i;

	if (isdigit((unsigned char)*s)) {
		long v = 0;

		while (isdigit((unsigned char)*s) && v < 1000)
			v = v * 10 + (*s++ - '0');
		*out = (int)v;
		*p = s;
		return true;
	}
	for (i = 0; i < f->n_names; i++)
		if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
			*out = f->lo + i;
			*p = s + 3;
			return true;
		}
	return false;
}

/* One field (a comma list) into bits. */
static enum rc parse_field(const struct field *f, int idx, const char *s, uint64_t *bits, bool *star, char *err,
                           size_t errlen)
{
	*bits = 0;
	*star = strcmp(s, "*") == 0;
	for (;;) {
		int a = f->lo, b = f->hi, step = 1, v;
		bool range = false;

		if (*s == '*') {
			s++;
			range = true;
		} else {
			if (!value(f, &s, &a))
				goto bad;
			b = a;
			if (*s == '-') {
				s++;
				if (!value(f, &s, &b))
					goto bad;
				range = true;
			}
		}
		if (*s == '/') {
			s++;
			if (!isdigit((unsigned char)*s) || !value(f, &s, &step) || step < 1 || step > f->hi)
				goto bad;
			if (!range)
				b = f->hi; /* "5/15" means 5-max/15, as in Vixie cron */
		}
		if (a < f->lo || a > f->hi || b < f->lo || b > f->hi) {
			snprintf(err, errlen, "field %d (%s): %d is out of %d-%d", idx + 1, f->name,
			         a < f->lo || a > f->hi ? a : b, f->lo, f->hi);
			return RC_INVALID;
		}
		if (a > b) {
			snprintf(err, errlen, "field %d (%s): range %d-%d is backwards", idx + 1, f->name, a, b);
			return RC_INVALID;
		}
		for (v = a; v <= b; v += step)
			*bits |= UINT64_C(1) << v;
		if (*s == '\0')
			return RC_OK;
		if (*s != ',')
			goto bad;
		s++;
	}
bad:
	snprintf(err, errlen, "field %d (%s): cannot read '%.20s'", idx + 1, f->name, s);
	return RC_INVALID;
}

enum rc cron_parse(const char *text, struct cron *out, char *err, size_t errlen)
{
	static const struct {
		const char *macro, *expansion;
	} macros[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
	              {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
	              {"@hourly", "0 * * * *"}};
	char copy[128], *parts[6], *save = NULL, *tok;
	uint64_t bits[5];
	bool stars[5];
	size_t i, n = 0;

	memset(out, 0, sizeof *out);
	if (err && errlen)
		err[0] = '\0';
	if (!text || strlen(text) >= sizeof copy) {
		snprintf(err, errlen, "expected five fields such as '0 6 * * 1-5'");
		return RC_INVALID;
	}
	for (i = 0; i < sizeof macros / sizeof macros[0]; i++)
		if (strcasecmp(text, macros[i].macro) == 0)
			text = macros[i].expansion;
	snprintf(copy, sizeof copy, "%s", text);
	for (tok = strtok_r(copy, " \t", &save); tok && n < 6; tok = strtok_r(NULL, " \t", &save))
		parts[n++] = tok;
	if (n != 5) {
		snprintf(err, errlen, "expected five fields (minute hour day-of-month month day-of-week), got %zu", n);
		return RC_INVALID;
	}
	for (i = 0; i < 5; i++)
		if (parse_field(&fields[i], (int)i, parts[i], &bits[i], &stars[i], err, errlen) != RC_OK)
			return RC_INVALID;
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->mdays = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	out->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
	out->mday_star = stars[2];
	out->wday_star = stars[4];
	return RC_OK;
}

static bool day_matches(const struct cron *c, const struct tm *t)
{
	bool md = (c->mdays >> t->tm_mday) & 1, wd = (c->wdays >> t->tm_wday) & 1;

	if (c->mday_star || c->wday_star)
		return (c->mday_star || md) && (c->wday_star || wd);
	return md || wd;
}

enum rc cron_next(const struct cron *c, const char *tz, int64_t after, int64_t *next)
{
	int64_t wall, limit;
	enum rc rc = tz_utc_to_wall(tz, after, &wall, NULL);

	*next = 0;
	if (rc != RC_OK)
		return rc;
	wall = wall - (wall % 60 + 60) % 60 + 60; /* the next whole minute */
	limit = wall + INT64_C(8) * 366 * 86400;
	while (wall < limit) {
		time_t tt = (time_t)wall;
		struct tm t;
		int64_t day = wall - (wall % 86400 + 86400) % 86400, at;

		if (!gmtime_r(&tt, &t)) /* wall time is a calendar count of seconds: UTC arithmetic */
			return RC_INVALID;
		if (!((c->months >> (t.tm_mon + 1)) & 1)) {
			wall = tz_wall_from_civil(t.tm_year + 1900 + (t.tm_mon == 11),
			                          t.tm_mon == 11 ? 1 : t.tm_mon + 2, 1, 0, 0, 0);
			continue;
		}
		if (!day_matches(c, &t)) {
			wall = day + 86400;
			continue;
		}
		if (!((c->hours >> t.tm_hour) & 1)) {
			wall = wall - wall % 3600 + 3600;
			continue;
		}
		if (!((c->minutes >> t.tm_min) & 1)) {
			wall += 60;
			continue;
		}
		rc = tz_wall_to_utc(tz, wall, &at);
		if (rc != RC_OK)
			return rc;
		if (at > after) {
			*next = at;
			return RC_OK;
		}
		wall += 60; /* the second pass of a repeated hour: already fired at its first */
	}
	return RC_NOT_FOUND;
}
