/*
 * server/api/api_feed.c — the calendar feed (api_feed.h): loads the window's schedule as
 * /api/schedule computes it, keeps one person's pieces when asked, renders it with ics.c.
 */
#include "api/api_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_list.h"
#include "api/api_rotation.h"
#include "core/buf.h"
#include "core/clock.h"
#include "db/people.h"
#include "db/rotation.h"
#include "rotation/ics.h"
#include "rotation/schedule.h"
#include "rotation/tz.h"

#define DAY INT64_C(86400)

/* Names met while rendering one feed, looked up once each. */
struct names {
	struct db *db;
	int64_t id[64];
	char name[64][PEOPLE_NAME_BYTES];
	size_t n;
};

static const char *name_of(void *ctx, int64_t id)
{
	struct names *c = ctx;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->id[i] == id)
			return c->name[i][0] ? c->name[i] : NULL;
	if (c->n == sizeof c->id / sizeof c->id[0])
		return NULL; /* "#<id>" then: a feed with more than 64 people is not a team's */
	c->id[c->n] = id;
	people_name(c->db, id, c->name[c->n], sizeof c->name[c->n]);
	return c->name[c->n++][0] ? c->name[c->n - 1] : NULL;
}

enum rc api_feed_schedule_ics(struct http_req *req)
{
	static const char *const allowed[] = {"person", "from", "to", "token", NULL};
	struct names *names = calloc(1, sizeof *names);
	struct rotation_snapshot snap;
	struct schedule_shift *shifts = NULL;
	char zone[TZ_NAME_MAX + 1], calname[PEOPLE_NAME_BYTES + 32];
	int64_t from, to, person = 0, now = clock_now();
	size_t n = 0, i, k;
	struct person who;
	struct buf out;
	enum rc rc;

	buf_init(&out, API_ICS_MAX_BYTES);
	memset(&snap, 0, sizeof snap);
	if (!names) {
		rc = http_fail(req, RC_INTERNAL, "out of memory");
		goto out;
	}
	names->db = req->db;
	api_list_zone(req, zone, sizeof zone);
	snprintf(calname, sizeof calname, "Plantão");
	rc = api_list_params(req, allowed);
	if (rc == RC_OK)
		rc = api_list_int(req, "person", 0, 1, INT64_MAX, &person);
	if (rc == RC_OK)
		rc = api_list_instant(req, "from", zone, &from);
	if (rc == RC_OK)
		rc = api_list_instant(req, "to", zone, &to);
	if (rc != RC_OK)
		goto out;
	if (!http_query(req, "from"))
		from = now - API_ICS_PAST_DAYS * DAY;
	if (!http_query(req, "to"))
		to = from + (API_ICS_PAST_DAYS + API_ICS_FUTURE_DAYS) * DAY;
	if (to <= from) {
		rc = http_fail(req, RC_UNPROCESSABLE, "to: must be after from");
		goto out;
	}
	if (to - from > API_SCHEDULE_MAX_DAYS * DAY) {
		rc = http_fail(req, RC_UNPROCESSABLE, "to: the window is limited to %d days", API_SCHEDULE_MAX_DAYS);
		goto out;
	}
	if (person > 0) {
		rc = people_get(req->db, person, &who);
		if (rc == RC_NOT_FOUND)
			rc = http_fail(req, RC_NOT_FOUND, "person: no person with id %lld", (long long)person);
		if (rc != RC_OK)
			goto out;
		snprintf(calname, sizeof calname, "Plantão — %s", who.name);
	}
	rc = rotation_load(req->db, from, to, &snap);
	if (rc == RC_OK)
		rc = schedule_shifts(&snap.sched, from, to, &shifts, &n);
	if (rc == RC_OK && person > 0) {
		for (i = 0, k = 0; i < n; i++)
			if (shifts[i].person_id == person)
				shifts[k++] = shifts[i];
		n = k;
	}
	if (rc == RC_OK)
		rc = ics_render(shifts, n, name_of, names, calname, now, &out);
	if (rc == RC_TOO_BIG)
		rc = http_fail(req, rc, "calendar too large: ask for a shorter window (from, to)");
	else if (rc != RC_OK)
		rc = http_fail(req, rc, "cannot build the calendar");
	if (rc == RC_OK) {
		http_add_header(req, "Content-Disposition", "inline; filename=\"plantao.ics\"");
		rc = http_reply(req, 200, "text/calendar; charset=utf-8", out.data ? out.data : "", out.len);
	}
out:
	buf_release(&out);
	free(shifts);
	free(names);
	rotation_release(&snap);
	return rc;
}
