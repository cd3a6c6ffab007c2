/*
 * server/api/api_rotation.c — rotation, on-call, schedule and overrides handlers (routes in
 * api_rotation.h; the iCalendar feed is api_feed.c's, the audit list api_audit.c's). The arithmetic is
 * server/rotation/schedule.c's; the loading, versioning and transactions are db/rotation.c's; this file validates input
 * and shapes JSON.
 *
 */
#include "api/api_rotation.h"
#include "api/api_auth.h"
#include "api/api_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/people.h"
#include "db/rotation.h"
#include "core/app.h"
#include "core/clock.h"
#include "rotation/tz.h"

#define DAY     INT64_C(86400)
#define ISO_LEN 40

/* ---------------------------------------------------------------- helpers */

/*
 * An instant from query parameter name (absent: *present = false, RC_OK). A '+' of an offset
 * sent unescaped arrives as a space: put it back before giving up.
 */
static enum rc query_instant(struct http_req *req, const char *name, const char *tz, int64_t *out, bool *present)
{
	const char *v = http_query(req, name);
	char fixed[64];
	char *sp;

	*present = v != NULL;
	if (!v)
		return RC_OK;
	if (tz_parse_instant(tz, v, out) == RC_OK)
		return RC_OK;
	snprintf(fixed, sizeof fixed, "%s", v);
	sp = strrchr(fixed, ' ');
	if (strlen(v) < sizeof fixed && sp && sp - fixed > 10) {
		*sp = '+';
		if (tz_parse_instant(tz, fixed, out) == RC_OK)
			return RC_OK;
	}
	return http_fail(req, RC_INVALID,
	                 "%s: cannot parse '%.40s' as a date (ISO 8601 such as 2026-01-05T09:00-03:00)", name, v);
}

static json_t *iso(const char *tz, int64_t t)
{
	char s[ISO_LEN];

	if (tz_format_iso(tz, t, s, sizeof s) != RC_OK)
		return json_null();
	return json_string(s);
}

/* Names of people met while answering one request (archived people keep their names). */
struct names {
	struct db *db;
	struct {
		int64_t id;
		char name[PEOPLE_NAME_BYTES];
	} * a;
	size_t n;
};

static const char *name_of(void *ctx, int64_t id)
{
	struct names *c = ctx;
	size_t i;
	void *grown;

	for (i = 0; i < c->n; i++)
		if (c->a[i].id == id)
			return c->a[i].name[0] ? c->a[i].name : NULL;
	grown = realloc(c->a, (c->n + 1) * sizeof *c->a);
	if (!grown)
		return NULL;
	c->a = grown;
	c->a[c->n].id = id;
	people_name(c->db, id, c->a[c->n].name, sizeof c->a[c->n].name);
	c->n++;
	return c->a[c->n - 1].name[0] ? c->a[c->n - 1].name : NULL;
}

static json_t *person_brief(struct names *names, int64_t id)
{
	const char *n = name_of(names, id);

	return json_pack("{s:I,s:s?}", "id", (json_int_t)id, "name", n);
}

static json_t *shift_json(struct names *names, const struct rotation_snapshot *snap, const char *fallback,
                          const struct schedule_shift *s)
{
	const char *tz = rotation_zone_at(snap, s->start, fallback);

	return json_pack("{s:o,s:o,s:o,s:b,s:o}", "start", iso(tz, s->start), "end", iso(tz, s->end), "person",
	                 person_brief(names, s->person_id), "by_override", s->is_override, "override_id",
	                 s->is_override ? json_integer(s->override_id) : json_null());
}

/* ---------------------------------------------------------------- rotation */

static json_t *rotation_json(struct http_req *req, const struct rotation_current *cur, bool have)
{
	struct names names = {req->db, NULL, 0};
	json_t *members = json_array(), *people = json_array();
	json_t *o;
	size_t i;

	for (i = 0; have && i < cur->n_members; i++) {
		json_array_append_new(members, json_integer(cur->members[i]));
		json_array_append_new(people, person_brief(&names, cur->members[i]));
	}
	if (!have)
		o = json_pack("{s:n,s:n,s:o,s:o,s:i,s:n,s:s}", "version_id", "effective_at", "members", members,
		              "people", people, "shift_hours", 168, "handoff", "timezone", req->app->cfg->tz);
	else
		o = json_pack("{s:I,s:o,s:o,s:o,s:i,s:s,s:s}", "version_id", (json_int_t)cur->id, "effective_at",
		              iso(cur->timezone, cur->effective_at), "members", members, "people", people,
		              "shift_hours", cur->shift_hours, "handoff", cur->handoff, "timezone", cur->timezone);
	free(names.a);
	return o;
}

enum rc api_rotation_get(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	struct rotation_current *cur;
	enum rc rc = api_list_params(req, allowed);
	json_t *o;

	if (rc != RC_OK)
		return rc;
	cur = malloc(sizeof *cur);
	if (!cur)
		return RC_INTERNAL;
	rc = rotation_latest(req->db, cur);
	if (rc != RC_OK && rc != RC_NOT_FOUND) {
		free(cur);
		return rc;
	}
	o = rotation_json(req, cur, rc == RC_OK);
	free(cur);
	return http_reply_json(req, 200, o);
}

/* The latest Monday 09:00 (local) at or before now: the first hand-off by default, so the first
 * member is on call from the start. */
static enum rc default_handoff(const char *tz, int64_t now, char *out, size_t len)
{
	int64_t wall, day, monday;
	struct tm tm;
	time_t t;
	enum rc rc = tz_utc_to_wall(tz, now, &wall, NULL);

	if (rc != RC_OK)
		return rc;
	day = wall >= 0 ? wall / DAY : -((-wall + DAY - 1) / DAY);
	/* 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays. */
	monday = day - (((day + 3) % 7) + 7) % 7;
	if (monday * DAY + 9 * 3600 > wall) /* before 09:00 on a Monday: the shift began last week */
		monday -= 7;
	t = (time_t)(monday * DAY);
	if (!gmtime_r(&t, &tm))
		return RC_INVALID;
	/* The moduli only tell the compiler the ranges (tz.c keeps years within 1..9999). */
	snprintf(out, len, "%04d-%02d-%02dT09:00", (tm.tm_year + 1900) % 10000, tm.tm_mon % 12 + 1, tm.tm_mday % 32);
	return RC_OK;
}

enum rc api_rotation_put(struct http_req *req)
{
	struct rotation_current *prev = calloc(1, sizeof *prev); /* the answer */
	struct rotation_input in = {0};
	int64_t members[ROTATION_MAX_MEMBERS], wall, vid;
	char handoff[ROTATION_HANDOFF_MAX], zone[TZ_NAME_MAX + 1], err[160];
	json_t *body, *v, *o;
	const char *key;
	size_t i;
	enum rc rc;

	if (!prev)
		return RC_INTERNAL;
	rc = api_list_no_params(req);
	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		goto out;
	if (!json_is_object(body)) {
		rc = http_fail(req, RC_INVALID, "expected a JSON object");
		goto out;
	}
	/* Fields left out keep the latest version's values: rotation_put() reads them inside its
	 * transaction, so two partial edits at once both land. The values below are the defaults
	 * for a first version. */
	rc = RC_UNPROCESSABLE;
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "members") && strcmp(key, "shift_hours") && strcmp(key, "handoff") &&
		    strcmp(key, "timezone") && strcmp(key, "version_id") && strcmp(key, "effective_at") &&
		    strcmp(key, "people")) {
			http_fail_code(req, rc, "unknown_field", key,
			               "%.40s: unknown field (members, shift_hours, handoff, timezone)", key);
			goto out;
		}
	}
	v = json_object_get(body, "members");
	if (!json_is_array(v)) {
		http_fail_code(req, rc, v ? "invalid_value" : "required", "members",
		               "members: required, an array of person ids in rotation order");
		goto out;
	}
	if (json_array_size(v) > ROTATION_MAX_MEMBERS) {
		http_fail_code(req, rc, "invalid_value", "members", "members: at most %d", ROTATION_MAX_MEMBERS);
		goto out;
	}
	for (i = 0; i < json_array_size(v); i++) {
		json_t *m = json_array_get(v, i);

		if (!json_is_integer(m) || json_integer_value(m) <= 0) {
			http_fail_code(req, rc, "invalid_value", "members",
			               "members: expected person ids (positive integers)");
			goto out;
		}
		members[i] = json_integer_value(m);
	}
	in.members = members;
	in.n_members = json_array_size(v);

	v = json_object_get(body, "shift_hours");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > SCHEDULE_MAX_SHIFT_HOURS) {
			http_fail_code(req, rc, "invalid_value", "shift_hours",
			               "shift_hours: expected a whole number of hours from 1 to %d",
			               SCHEDULE_MAX_SHIFT_HOURS);
			goto out;
		}
		in.shift_hours = (int)json_integer_value(v);
	} else {
		in.shift_hours = 168;
		in.keep_shift_hours = true;
	}

	v = json_object_get(body, "timezone");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !tz_is_valid(json_string_value(v))) {
			http_fail_code(req, rc, "invalid_value", "timezone",
			               "timezone: expected an IANA zone such as America/Sao_Paulo");
			goto out;
		}
		snprintf(zone, sizeof zone, "%s", json_string_value(v));
	} else {
		snprintf(zone, sizeof zone, "%s", req->app->cfg->tz);
		in.keep_timezone = true;
	}
	in.timezone = zone;

	v = json_object_get(body, "handoff");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof handoff ||
		    tz_parse_local(json_string_value(v), &wall) != RC_OK) {
			http_fail_code(req, rc, "invalid_value", "handoff",
			               "handoff: cannot parse as a local date-time such as 2026-01-05T09:00");
			goto out;
		}
		snprintf(handoff, sizeof handoff, "%s", json_string_value(v));
	} else if (default_handoff(zone, clock_now(), handoff, sizeof handoff) != RC_OK) {
		rc = RC_INTERNAL;
		goto out;
	} else {
		in.keep_handoff = true;
	}
	in.handoff = handoff;

	rc = rotation_put(req->db, &in, clock_now(), req->actor, &vid, err, sizeof err);
	if (rc != RC_OK) {
		if (err[0])
			http_fail(req, rc, "%s", err);
		goto out;
	}
	rc = rotation_version(req->db, vid, prev); /* the version written, not a later one */
	if (rc != RC_OK)
		goto out;
	o = rotation_json(req, prev, true);
	free(prev);
	return http_reply_json(req, 200, o);
out:
	free(prev);
	return rc;
}

/* ---------------------------------------------------------------- on call and schedule */

enum rc api_oncall(struct http_req *req)
{
	struct names names = {req->db, NULL, 0};
	struct rotation_snapshot snap;
	struct schedule_shift cur, nxt;
	char zone[TZ_NAME_MAX + 1];
	const char *tz;
	int64_t at = clock_now(), t;
	bool given, found_next = false;
	json_t *o = NULL;
	enum rc rc;
	int i;
	static const char *const allowed[] = {"at", NULL};

	rc = api_list_params(req, allowed);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	rc = query_instant(req, "at", zone, &at, &given);
	if (rc != RC_OK)
		return rc;
	rc = rotation_load(req->db, at, at + SCHEDULE_LOOKAHEAD, &snap);
	if (rc != RC_OK)
		goto out;
	tz = rotation_zone_at(&snap, at, zone);
	rc = schedule_oncall(&snap.sched, at, &cur);
	if (rc == RC_NOT_FOUND) {
		o = json_pack("{s:o,s:s,s:n,s:n,s:n,s:b,s:n,s:n}", "at", iso(tz, at), "timezone", tz, "person", "start",
		              "end", "by_override", 0, "override_id", "next");
		rc = RC_OK;
		goto out;
	}
	if (rc != RC_OK)
		goto out;
	/* "Next": the first piece after this one with someone else (a same-person piece, e.g. an
	 * override that ends at the shift boundary, is looked through). */
	t = cur.end;
	for (i = 0; i < 64 && !found_next; i++) {
		/* loaded around t: an override may end far beyond the snapshot's window */
		if (rotation_oncall(req->db, t, &nxt) != RC_OK)
			break;
		if (nxt.person_id != cur.person_id)
			found_next = true;
		else
			t = nxt.end;
	}
	{
		struct person p;
		json_t *person;

		if (people_get(req->db, cur.person_id, &p) == RC_OK) {
			person = people_to_json(&p);
			rc = person ? api_auth_annotate_person(req, person)
			            : RC_INTERNAL; /* the shape of /api/people */
			if (rc != RC_OK) {
				json_decref(person);
				goto out;
			}
		} else {
			person = person_brief(&names, cur.person_id);
		}
		o = json_pack("{s:o,s:s,s:o,s:o,s:o,s:b,s:o}", "at", iso(tz, at), "timezone", tz, "person", person,
		              "start", iso(rotation_zone_at(&snap, cur.start, zone), cur.start), "end",
		              iso(rotation_zone_at(&snap, cur.end, zone), cur.end), "by_override", cur.is_override,
		              "override_id", cur.is_override ? json_integer(cur.override_id) : json_null());
		json_object_set_new(o, "next",
		                    found_next ? json_pack("{s:o,s:o}", "person", person_brief(&names, nxt.person_id),
		                                           "start",
		                                           iso(rotation_zone_at(&snap, nxt.start, zone), nxt.start))
		                               : json_null());
	}
out:
	rotation_release(&snap);
	free(names.a);
	if (rc != RC_OK) {
		json_decref(o);
		return rc;
	}
	return http_reply_json(req, 200, o);
}

/* from/to of a schedule request with defaults; RC_INVALID / RC_UNPROCESSABLE after http_fail. */
static enum rc window(struct http_req *req, const char *zone, int64_t def_from, int64_t def_to, int64_t *from,
                      int64_t *to)
{
	bool has_from, has_to;
	enum rc rc;

	*from = def_from;
	rc = query_instant(req, "from", zone, from, &has_from);
	if (rc != RC_OK)
		return rc;
	*to = has_from ? *from + (def_to - def_from) : def_to;
	rc = query_instant(req, "to", zone, to, &has_to);
	if (rc != RC_OK)
		return rc;
	if (*to <= *from)
		return http_fail(req, RC_UNPROCESSABLE, "to: must be after from");
	if (*to - *from > API_SCHEDULE_MAX_DAYS * DAY)
		return http_fail(req, RC_UNPROCESSABLE, "to: the window is limited to %d days", API_SCHEDULE_MAX_DAYS);
	return RC_OK;
}

enum rc api_schedule(struct http_req *req)
{
	struct names names = {req->db, NULL, 0};
	struct rotation_snapshot snap;
	struct schedule_shift *shifts = NULL;
	char zone[TZ_NAME_MAX + 1];
	int64_t from, to, now = clock_now();
	size_t n = 0, i;
	json_t *a = NULL, *o;
	enum rc rc;

	static const char *const allowed[] = {"from", "to", NULL};

	rc = api_list_params(req, allowed);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	rc = window(req, zone, now, now + API_SCHEDULE_DEFAULT_DAYS * DAY, &from, &to);
	if (rc != RC_OK)
		return rc;
	rc = rotation_load(req->db, from, to, &snap);
	if (rc == RC_OK)
		rc = schedule_shifts(&snap.sched, from, to, &shifts, &n);
	if (rc == RC_TOO_BIG) /* the window is valid, its answer too long: the client must ask less */
		rc = http_fail(req, RC_UNPROCESSABLE,
		               "to: more than %d shifts between from and to; ask for a shorter window",
		               SCHEDULE_MAX_SHIFTS);
	if (rc != RC_OK)
		goto out;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, shift_json(&names, &snap, zone, &shifts[i]));
	o = json_pack("{s:o,s:o,s:s,s:o}", "from", iso(zone, from), "to", iso(zone, to), "timezone", zone, "shifts", a);
	a = NULL;
	rc = http_reply_json(req, 200, o);
out:
	json_decref(a);
	free(shifts);
	free(names.a);
	rotation_release(&snap);
	return rc;
}

/* ---------------------------------------------------------------- overrides */

/* start and end of an override in ISO 8601; start_at, end_at and created_at too, the epoch kept
 * as <name>_unix. */
static void override_iso(json_t *row, const char *zone)
{
	static const char *const times[] = {"start_at", "end_at", "created_at", NULL};
	json_t *s = json_object_get(row, "start_at"), *e = json_object_get(row, "end_at");

	if (json_is_integer(s))
		json_object_set_new(row, "start", iso(zone, json_integer_value(s)));
	if (json_is_integer(e))
		json_object_set_new(row, "end", iso(zone, json_integer_value(e)));
	api_list_iso_object(row, zone, times);
}

enum rc api_overrides_list(struct http_req *req)
{
	char zone[TZ_NAME_MAX + 1];
	int64_t from = clock_now(), to = 0;
	bool has;
	json_t *a, *row;
	size_t i;
	enum rc rc;

	static const char *const allowed[] = {"from", "to", NULL};

	rc = api_list_params(req, allowed);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	rc = query_instant(req, "from", zone, &from, &has);
	if (rc == RC_OK)
		rc = query_instant(req, "to", zone, &to, &has);
	if (rc == RC_OK)
		rc = rotation_override_list(req->db, from, to, &a);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(a, i, row) override_iso(row, zone);
	return http_reply_json(req, 200, json_pack("{s:o}", "overrides", a));
}

static enum rc body_instant(struct http_req *req, json_t *body, const char *name, const char *zone, int64_t *out)
{
	json_t *v = json_object_get(body, name);

	if (!v)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", name,
		                      "%s: required (ISO 8601 such as 2026-01-05T09:00-03:00)", name);
	if (!json_is_string(v) || tz_parse_instant(zone, json_string_value(v), out) != RC_OK)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", name,
		                      "%s: cannot parse as a date (ISO 8601 such as 2026-01-05T09:00-03:00)", name);
	return RC_OK;
}

/*
 * 409 {"code": "override_overlap", "field": "start", "conflict_id": N, "conflict_ids": [...]}:
 * the console offers to replace them (the same request with ?replace=true).
 */
static enum rc override_conflict(struct http_req *req, const struct rotation_override_input *in, const char *err)
{
	json_t *a = NULL, *ids = json_array(), *row;
	size_t i;

	if (rotation_override_list(req->db, in->start, in->end, &a) == RC_OK) {
		json_array_foreach(a, i, row)
		{
			json_array_append(ids, json_object_get(row, "id"));
		}
	}
	json_decref(a);
	if (json_array_size(ids))
		http_fail_extra(req, "conflict_id", json_incref(json_array_get(ids, 0)));
	http_fail_extra(req, "conflict_ids", ids);
	return http_fail_code(req, RC_CONFLICT, "override_overlap", "start", "%s", err);
}

enum rc api_overrides_create(struct http_req *req)
{
	struct rotation_override_input in = {0};
	char zone[TZ_NAME_MAX + 1], err[300];
	const char *replace = http_query(req, "replace"), *key;
	json_t *body, *v, *a, *row;
	int64_t id;
	size_t i;
	static const char *const allowed[] = {"replace", NULL};
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_INVALID, "expected a JSON object");
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "person_id") && strcmp(key, "start") && strcmp(key, "end") && strcmp(key, "reason"))
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
			                      "%.40s: unknown field (person_id, start, end, reason)", key);
	}
	api_list_zone(req, zone, sizeof zone);
	v = json_object_get(body, "person_id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return http_fail_code(req, RC_UNPROCESSABLE, v ? "invalid_value" : "required", "person_id",
		                      "person_id: required, a person id");
	in.person_id = json_integer_value(v);
	rc = body_instant(req, body, "start", zone, &in.start);
	if (rc == RC_OK)
		rc = body_instant(req, body, "end", zone, &in.end);
	if (rc != RC_OK)
		return rc;
	if (in.end <= in.start)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "end", "end: must be after start");
	v = json_object_get(body, "reason");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || strlen(json_string_value(v)) > ROTATION_REASON_MAX)
			return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "reason",
			                      "reason: expected a text of at most %d bytes", ROTATION_REASON_MAX);
		in.reason = json_string_value(v);
	}
	if (replace && strcmp(replace, "true") && strcmp(replace, "false") && strcmp(replace, "1") &&
	    strcmp(replace, "0"))
		return http_fail(req, RC_INVALID, "replace: expected true or false");
	rc = rotation_override_add(req->db, &in, replace && (!strcmp(replace, "true") || !strcmp(replace, "1")),
	                           req->actor, &id, err, sizeof err);
	if (rc == RC_CONFLICT)
		return override_conflict(req, &in, err);
	if (rc != RC_OK)
		return err[0] ? http_fail(req, rc, "%s", err) : rc;
	rc = rotation_override_list(req->db, in.start, in.end, &a);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(a, i, row)
	{
		if (json_integer_value(json_object_get(row, "id")) == id) {
			json_incref(row);
			json_decref(a);
			override_iso(row, zone);
			return http_reply_json(req, 201, row);
		}
	}
	json_decref(a);
	return http_reply_json(req, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

enum rc api_overrides_delete(struct http_req *req)
{
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = rotation_override_delete(req->db, id, req->actor);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no override with id %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1));
}
