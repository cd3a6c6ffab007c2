/*
 * server/api/api_escalation.c — the escalation policy's API (api_escalation.h): GET and PUT
 * /api/escalation. The policy itself (its rules, storage and audit) is server/pager/escalation.c's
 * and db/escalation.c's; this file reads and checks the request by the API's rules (unknown query
 * parameters a 400, unknown body fields a 422 naming them, wrong values a 422 with the field) and
 * answers the policy with its time in ISO 8601.
 */
#include "api/api_escalation.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_list.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/escalation.h"
#include "db/people.h"
#include "pager/escalation.h"
#include "rotation/tz.h"

/* What a PUT may carry: what GET answers, so a policy read can be sent back edited. */
static const char *const policy_fields[] = {"steps",      "rounds",          "call_min_severity",
                                            "updated_at", "updated_at_unix", NULL};
static const char *const step_fields[] = {"target", "person_id", "timeout_s", "name", NULL};

static bool field_known(const char *const *names, const char *key)
{
	for (; *names; names++)
		if (!strcmp(*names, key))
			return true;
	return false;
}

/* A 422 unknown_field naming the first key of obj not in names (http_fail_code called). */
static enum rc known_fields(struct http_req *req, json_t *obj, const char *const *names, const char *prefix)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (!field_known(names, key))
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key, "%s%.40s: unknown field",
			                      prefix, key);
	}
	return RC_OK;
}

static json_t *policy_json(struct db *db, const struct escalation_policy *p)
{
	json_t *steps = json_array();
	size_t i;

	for (i = 0; i < p->n_steps; i++) {
		const struct escalation_step *e = &p->steps[i];
		json_t *s;

		if (e->target == ESCALATION_PERSON) {
			char name[PEOPLE_NAME_BYTES] = "";

			s = json_pack("{s:I,s:i}", "target", (json_int_t)e->person_id, "timeout_s", e->timeout_s);
			people_name(db, e->person_id, name, sizeof name);
			if (s && name[0])
				json_object_set_new(s, "name", json_string(name));
		} else {
			s = json_pack("{s:s,s:i}", "target", e->target == ESCALATION_ONCALL ? "oncall" : "next",
			              "timeout_s", e->timeout_s);
		}
		json_array_append_new(steps, s);
	}
	return json_pack("{s:o,s:i,s:s,s:I}", "steps", steps, "rounds", p->rounds, "call_min_severity",
	                 escalation_severity_name(p->call_min), "updated_at", (json_int_t)p->updated_at);
}

/* The policy as the API answers it: updated_at in ISO 8601 with the team's offset, the epoch in
 * updated_at_unix. */
static enum rc reply_policy(struct http_req *req, const struct escalation_policy *p)
{
	static const char *const times[] = {"updated_at", NULL};
	char zone[TZ_NAME_MAX + 1];
	json_t *o = policy_json(req->db, p);

	api_list_zone(req, zone, sizeof zone);
	api_list_iso_object(o, zone, times);
	return http_reply_json(req, 200, o);
}

enum rc api_escalation_get(struct http_req *req)
{
	struct escalation_policy p;
	enum rc rc = api_list_no_params(req);

	if (rc != RC_OK)
		return rc;
	rc = escalation_load(req->db, &p);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the escalation policy");
	return reply_policy(req, &p);
}

/* Parses and checks one step; on error fills msg and returns RC_UNPROCESSABLE. */
static enum rc parse_step(struct db *db, json_t *js, size_t i, struct escalation_step *e, char *msg, size_t len)
{
	json_t *target = json_object_get(js, "target"), *timeout = json_object_get(js, "timeout_s");
	struct person who;

	if (!json_is_object(js)) {
		snprintf(msg, len, "steps[%zu]: expected an object", i);
		return RC_UNPROCESSABLE;
	}
	if (json_is_string(target) && strcmp(json_string_value(target), "oncall") == 0) {
		e->target = ESCALATION_ONCALL;
	} else if (json_is_string(target) && strcmp(json_string_value(target), "next") == 0) {
		e->target = ESCALATION_NEXT;
	} else if (json_is_integer(target) ||
	           (json_is_string(target) && strcmp(json_string_value(target), "person") == 0 &&
	            json_is_integer(json_object_get(js, "person_id")))) {
		enum rc rc;

		e->target = ESCALATION_PERSON;
		e->person_id = json_integer_value(json_is_integer(target) ? target : json_object_get(js, "person_id"));
		rc = e->person_id > 0 ? people_get(db, e->person_id, &who) : RC_NOT_FOUND;
		if (rc == RC_NOT_FOUND) {
			snprintf(msg, len, "steps[%zu].target: no person with id %lld", i, (long long)e->person_id);
			return RC_UNPROCESSABLE;
		}
		if (rc != RC_OK) {
			snprintf(msg, len, "cannot check steps[%zu].target", i);
			return rc;
		}
	} else {
		snprintf(msg, len, "steps[%zu].target: expected \"oncall\", \"next\" or a person id", i);
		return RC_UNPROCESSABLE;
	}
	e->timeout_s = ESCALATION_DEFAULT_TIMEOUT;
	if (timeout && !json_is_null(timeout)) {
		json_int_t v = json_is_integer(timeout) ? json_integer_value(timeout) : -1;

		if (v < ESCALATION_MIN_TIMEOUT || v > ESCALATION_MAX_TIMEOUT) {
			snprintf(msg, len, "steps[%zu].timeout_s: expected an integer from %d to %d", i,
			         ESCALATION_MIN_TIMEOUT, ESCALATION_MAX_TIMEOUT);
			return RC_UNPROCESSABLE;
		}
		e->timeout_s = (int)v;
	}
	return RC_OK;
}

enum rc api_escalation_put(struct http_req *req)
{
	struct escalation_policy old, p;
	json_t *body, *steps, *rounds, *call_min, *detail = NULL, *fresh = NULL;
	char msg[160];
	enum rc rc;
	size_t i;

	rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object with steps and rounds");
	rc = known_fields(req, body, policy_fields, "");
	if (rc != RC_OK)
		return rc;
	memset(&p, 0, sizeof p);
	steps = json_object_get(body, "steps");
	rounds = json_object_get(body, "rounds");
	call_min = json_object_get(body, "call_min_severity");
	if (!json_is_array(steps) || json_array_size(steps) == 0)
		return http_fail(req, RC_UNPROCESSABLE, "steps: expected a non-empty array");
	if (json_array_size(steps) > ESCALATION_MAX_STEPS)
		return http_fail(req, RC_UNPROCESSABLE, "steps: at most %d steps", ESCALATION_MAX_STEPS);
	p.rounds = ESCALATION_DEFAULT_ROUNDS;
	if (rounds && !json_is_null(rounds)) {
		json_int_t v = json_is_integer(rounds) ? json_integer_value(rounds) : -1;

		if (v < 1 || v > ESCALATION_MAX_ROUNDS)
			return http_fail(req, RC_UNPROCESSABLE, "rounds: expected an integer from 1 to %d",
			                 ESCALATION_MAX_ROUNDS);
		p.rounds = (int)v;
	}
	for (i = 0; i < json_array_size(steps); i++) {
		const char *key;
		json_t *val;
		char name[96];

		json_object_foreach(json_array_get(steps, i), key, val)
		{
			if (!field_known(step_fields, key)) {
				snprintf(name, sizeof name, "steps[%zu].%.40s", i, key);
				return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", name, "%s: unknown field",
				                      name);
			}
		}
		rc = parse_step(req->db, json_array_get(steps, i), i, &p.steps[i], msg, sizeof msg);
		if (rc != RC_OK)
			return http_fail(req, rc, "%s", msg);
	}
	p.n_steps = json_array_size(steps);
	rc = escalation_load(req->db, &old);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the escalation policy");
	p.call_min = old.call_min; /* absent: unchanged */
	if (call_min && !json_is_null(call_min) &&
	    !escalation_severity_parse(json_is_string(call_min) ? json_string_value(call_min) : NULL, &p.call_min))
		return http_fail(req, RC_UNPROCESSABLE,
		                 "call_min_severity: expected \"critical\", \"warning\" or \"info\"");
	fresh = policy_json(req->db, &p);
	json_object_del(fresh, "updated_at");
	detail = json_pack("{s:o,s:O}", "old", policy_json(req->db, &old), "new", fresh);
	if (!detail) {
		rc = http_fail(req, RC_INTERNAL, "out of memory");
		goto out;
	}
	rc = escalation_save(req->db, &p, req->actor, detail, clock_now());
	if (rc == RC_CONFLICT) {
		rc = http_fail(req, RC_UNPROCESSABLE, "a person of the policy no longer exists");
		goto out;
	}
	if (rc != RC_OK) {
		rc = http_fail(req, rc, "cannot save the escalation policy");
		goto out;
	}
	log_info("escalation policy updated by %s: %zu steps, %d rounds, calls from severity %s", req->actor, p.n_steps,
	         p.rounds, escalation_severity_name(p.call_min));
	rc = escalation_load(req->db, &p);
	if (rc == RC_OK)
		rc = reply_policy(req, &p);
out:
	json_decref(fresh);
	json_decref(detail);
	return rc;
}
