/*
 * server/api/api_swaps.c — the shift swap routes (api_swaps.h): they read and check the request;
 * the flow itself (texts asking each side, answers, the override) is server/rotation/swap_flow.c,
 * shared with the SMS replies.
 */
#include "api/api_swaps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_list.h"
#include "rotation/swap_flow.h"
#include "auth/session.h"
#include "core/clock.h"
#include "db/people.h"
#include "db/swaps.h"
#include "rotation/tz.h"

#define SWAPS_LIST_DEFAULT 50
#define SWAPS_LIST_MAX     500

static json_t *swap_json(const struct swap *s, const char *zone)
{
	char a[40] = "", b[40] = "", x[40] = "";

	tz_format_iso(zone, s->start, a, sizeof a);
	tz_format_iso(zone, s->end, b, sizeof b);
	if (s->expires_at)
		tz_format_iso(zone, s->expires_at, x, sizeof x);
	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:s, s:b, s:b, s:o, s:o, s:o}", "id", (json_int_t)s->id,
	                 "from_person", (json_int_t)s->from_person, "to_person", (json_int_t)s->to_person, "start", a,
	                 "end", b, "start_unix", (json_int_t)s->start, "end_unix", (json_int_t)s->end, "status",
	                 s->status, "from_confirmed", s->from_confirmed_at > 0, "to_confirmed", s->to_confirmed_at > 0,
	                 "override_id", s->override_id ? json_integer(s->override_id) : json_null(), "expires_at",
	                 s->expires_at ? json_string(x) : json_null(), "expires_at_unix",
	                 s->expires_at ? json_integer(s->expires_at) : json_null());
}

static enum rc body_id(struct http_req *req, json_t *body, const char *name, int64_t *out)
{
	json_t *v = json_object_get(body, name);

	*out = 0;
	if (!v || json_is_null(v))
		return RC_OK;
	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", name, "%s: expected a person id", name);
	*out = json_integer_value(v);
	return RC_OK;
}

enum rc api_swaps_create(struct http_req *req)
{
	static const char *const fields[] = {"to_person_id", "from_person_id", "start", "end", NULL};
	char zone[TZ_NAME_MAX + 1];
	struct swap s;
	struct person who;
	int64_t me = 0, id, now = clock_now();
	const char *key, *a, *b;
	json_t *body, *v;
	bool theirs;
	size_t k;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object");
	json_object_foreach(body, key, v)
	{
		for (k = 0; fields[k] && strcmp(fields[k], key) != 0; k++)
			;
		if (!fields[k])
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key, "%.40s: unknown field", key);
	}
	memset(&s, 0, sizeof s);
	api_list_zone(req, zone, sizeof zone);
	(void)session_actor_person(req->actor, &me);
	rc = body_id(req, body, "to_person_id", &s.to_person);
	if (rc == RC_OK)
		rc = body_id(req, body, "from_person_id", &s.from_person);
	if (rc != RC_OK)
		return rc;
	if (!s.from_person)
		s.from_person = me;
	if (!s.from_person)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "from_person_id",
		                      "from_person_id: required with a token (whose shift is it?)");
	if (s.from_person != me && req->role != HTTP_ROLE_ADMIN)
		return http_fail(req, RC_FORBIDDEN, "from_person_id: only an admin may offer someone else's shift");
	if (!s.to_person)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "to_person_id",
		                      "to_person_id: required (who takes the shift?)");
	if (s.to_person == s.from_person)
		return http_fail(req, RC_UNPROCESSABLE, "to_person_id: a colleague, not the person giving the shift");
	if (people_get(req->db, s.to_person, &who) != RC_OK)
		return http_fail(req, RC_UNPROCESSABLE, "to_person_id: no person with id %lld", (long long)s.to_person);
	if (people_get(req->db, s.from_person, &who) != RC_OK)
		return http_fail(req, RC_UNPROCESSABLE, "from_person_id: no person with id %lld",
		                 (long long)s.from_person);
	a = json_string_value(json_object_get(body, "start"));
	b = json_string_value(json_object_get(body, "end"));
	if (!a || tz_parse_instant(zone, a, &s.start) != RC_OK)
		return http_fail_code(req, RC_UNPROCESSABLE, a ? "invalid_value" : "required", "start",
		                      "start: expected an ISO 8601 time (2026-11-20T09:00)");
	if (!b || tz_parse_instant(zone, b, &s.end) != RC_OK)
		return http_fail_code(req, RC_UNPROCESSABLE, b ? "invalid_value" : "required", "end",
		                      "end: expected an ISO 8601 time (2026-11-21T09:00)");
	if (s.end <= s.start)
		return http_fail(req, RC_UNPROCESSABLE, "end: must be after start");
	if (s.end <= now)
		return http_fail(req, RC_UNPROCESSABLE, "end: this time is over already");
	if (s.start < now) /* the rest of a shift running now: from now on */
		s.start = now;
	if (s.end - s.start > INT64_C(366) * 86400)
		return http_fail(req, RC_UNPROCESSABLE, "end: a swap is limited to 366 days");
	rc = swap_flow_is_their_time(req->db, s.from_person, s.start, s.end, &theirs);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the schedule");
	if (!theirs)
		return http_fail(req, RC_UNPROCESSABLE, "start: %s is not on call for all of this time", who.name);
	rc = swap_flow_ask(req->app, req->db, &s, s.from_person == me, req->actor, now, &id);
	if (rc == RC_OK)
		rc = swaps_get(req->db, id, now, &s);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot record the swap");
	return http_reply_json(req, 201, swap_json(&s, zone));
}

static enum rc answer(struct http_req *req, bool yes)
{
	char zone[TZ_NAME_MAX + 1];
	int64_t id, person = 0, now = clock_now();
	struct swap_answer ans;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	if (req->body.len) {
		const char *key;
		json_t *body, *v;

		rc = http_json_body(req, &body);
		if (rc == RC_OK && !json_is_object(body))
			rc = http_fail(req, RC_UNPROCESSABLE, "expected a JSON object");
		if (rc == RC_OK)
			json_object_foreach(body, key, v)
			{
				if (strcmp(key, "person_id"))
					return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
					                      "%.40s: unknown field", key);
			}
		if (rc == RC_OK)
			rc = body_id(req, body, "person_id", &person);
		if (rc != RC_OK)
			return rc;
	}
	if (person && req->role != HTTP_ROLE_ADMIN)
		return http_fail(req, RC_FORBIDDEN, "person_id: only an admin may answer for someone else");
	if (!person)
		(void)session_actor_person(req->actor, &person);
	if (!person)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "person_id",
		                      "person_id: required with a token (who answers?)");
	rc = swap_flow_answer(req->app, req->db, id, person, yes, req->actor, now, &ans);
	if (rc != RC_OK)
		return http_fail(req, rc, "%s", ans.err[0] ? ans.err : "cannot record the answer");
	return http_reply_json(req, 200, swap_json(&ans.s, zone));
}

enum rc api_swaps_confirm(struct http_req *req)
{
	return answer(req, true);
}

enum rc api_swaps_decline(struct http_req *req)
{
	return answer(req, false);
}

enum rc api_swaps_list(struct http_req *req)
{
	static const char *const allowed[] = {"person", "status", "limit", "before", NULL};
	static const char *const times[] = {"start_at",   "end_at",    "from_confirmed_at", "to_confirmed_at",
	                                    "created_at", "closed_at", "expires_at",        NULL};
	char zone[TZ_NAME_MAX + 1];
	int64_t person, limit, before;
	const char *status = http_query(req, "status");
	json_t *rows;
	enum rc rc;

	api_list_zone(req, zone, sizeof zone);
	rc = api_list_params(req, allowed);
	if (rc == RC_OK)
		rc = api_list_int(req, "person", 0, 1, INT64_MAX, &person);
	if (rc == RC_OK)
		rc = api_list_int(req, "limit", SWAPS_LIST_DEFAULT, 1, SWAPS_LIST_MAX, &limit);
	if (rc == RC_OK)
		rc = api_list_int(req, "before", 0, 1, INT64_MAX, &before);
	if (rc != RC_OK)
		return rc;
	if (status && strcmp(status, "pending") && strcmp(status, "accepted") && strcmp(status, "declined") &&
	    strcmp(status, "canceled") && strcmp(status, "expired"))
		return http_fail(req, RC_INVALID, "status: expected pending, accepted, declined, canceled or expired");
	rc = swaps_list(req->db, person, status, (int)limit, before, clock_now(), &rows);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot list the swaps");
	api_list_iso_fields(rows, zone, times);
	return http_reply_json(req, 200, api_list_page("swaps", rows, limit));
}
