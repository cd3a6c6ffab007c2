/*
 * server/api/api_people.c — the people API. Validation lives in db/people.c
 * (people_input_parse) so the rules are the same wherever a person is written; this file
 * maps results to HTTP: 201 + the person on create, 404 for unknown ids, 409 for a phone
 * that is taken or a person still needed, 422 naming the field; each error with a stable code
 * (phone_invalid, phone_taken, person_in_rotation, …) and the field, both as db/people.c named
 * them. Phones are taken as people type them. The list is paged by name (limit, before: the last
 * person of the previous page) and filtered by role and q (part of the name or phone); times are
 * ISO 8601 in the team's zone, the epoch kept as <name>_unix.
 */
#include "api/api_people.h"

#include <string.h>

#include "api/api_auth.h"
#include "api/api_list.h"
#include "auth/phone.h"
#include "core/app.h"
#include "core/cfg.h"
#include "db/people.h"

/*
 * The phone as people type it — "(11) 98765-4321", "11 98765 4321", "+55 11 98765-4321" — made
 * E.164 with PLANTAO_COUNTRY in the body before the shared validation reads it. A phone that
 * cannot be a number is a 422 "phone_invalid" naming the field.
 */
static enum rc normalize_phone(struct http_req *req, json_t *body)
{
	json_t *v = json_is_object(body) ? json_object_get(body, "phone") : NULL;
	char e164[PHONE_E164_BYTES];

	if (!json_is_string(v))
		return RC_OK;
	if (phone_normalize(json_string_value(v), req->app->cfg->country, e164) != RC_OK)
		return http_fail_code(req, RC_UNPROCESSABLE, "phone_invalid", "phone",
		                      "phone: not a phone number; type it with the area code, such as (11) 98765-4321 "
		                      "or +55 11 98765-4321");
	return json_object_set_new(body, "phone", json_string(e164)) ? RC_INTERNAL : RC_OK;
}

/* A write db/people.c refused: its code and field as it named them. */
static enum rc people_fail(struct http_req *req, enum rc rc, const struct people_err *err)
{
	if (!err->code)
		return rc;
	return http_fail_code(req, rc, err->code, err->field[0] ? err->field : NULL, "%s", err->msg);
}

#define PEOPLE_LIST_DEFAULT 100

enum rc api_people_list(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", "role", "q", NULL};
	static const char *const roles[] = {"admin", "editor", "viewer", "none", NULL};
	struct people_filter f = {0};
	json_t *a = NULL;
	size_t k;
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = api_list_int(req, "limit", PEOPLE_LIST_DEFAULT, 1, PEOPLE_LIST_MAX, &f.limit);
	if (rc == RC_OK)
		rc = api_list_int(req, "before", 0, 1, INT64_MAX, &f.after_id);
	if (rc != RC_OK)
		return rc;
	f.role = http_query(req, "role");
	for (k = 0; f.role && roles[k] && strcmp(roles[k], f.role) != 0; k++)
		;
	if (f.role && !roles[k])
		return http_fail_code(req, RC_INVALID, "invalid_value", "role",
		                      "role: expected admin, editor, viewer or none");
	f.q = http_query(req, "q");
	if (f.q && strlen(f.q) > PEOPLE_NAME_MAX)
		return http_fail_code(req, RC_INVALID, "invalid_value", "q", "q: at most %d characters",
		                      PEOPLE_NAME_MAX);
	rc = people_list(req->db, &f, &a);
	if (rc == RC_OK)
		rc = api_auth_annotate_people(req, a); /* role, phone_verified, times in ISO 8601 */
	if (rc != RC_OK) {
		json_decref(a);
		return rc;
	}
	return http_reply_json(req, 200, api_list_page("people", a, f.limit));
}

static enum rc reply_person(struct http_req *req, int status, int64_t id)
{
	struct person p;
	json_t *o;
	enum rc rc = people_get(req->db, id, &p);

	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	o = people_to_json(&p);
	if (o && api_auth_annotate_person(req, o) != RC_OK) { /* role, phone_verified */
		json_decref(o);
		return RC_DB;
	}
	return http_reply_json(req, status, o);
}

enum rc api_people_get(struct http_req *req)
{
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	return reply_person(req, 200, id);
}

enum rc api_people_create(struct http_req *req)
{
	struct person_input in;
	struct people_err err = {0};
	json_t *body;
	int64_t id;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc == RC_OK)
		rc = normalize_phone(req, body);
	if (rc != RC_OK)
		return rc;
	rc = people_input_check(body, false, &in, &err);
	if (rc == RC_OK)
		rc = people_insert(req->db, &in, req->actor, &id, &err);
	if (rc != RC_OK)
		return people_fail(req, rc, &err);
	return reply_person(req, 201, id);
}

enum rc api_people_update(struct http_req *req)
{
	struct person_input in;
	struct people_err err = {0};
	json_t *body;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = http_json_body(req, &body);
	if (rc == RC_OK)
		rc = normalize_phone(req, body);
	if (rc != RC_OK)
		return rc;
	rc = people_input_check(body, true, &in, &err);
	if (rc == RC_OK)
		rc = people_update(req->db, id, &in, req->actor, &err);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return people_fail(req, rc, &err);
	return reply_person(req, 200, id);
}

enum rc api_people_delete(struct http_req *req)
{
	struct people_err err = {0};
	bool archived;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = people_delete(req->db, id, req->actor, &archived, &err);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return people_fail(req, rc, &err);
	return http_reply_json(req, 200,
	                       json_pack("{s:I,s:b,s:b}", "id", (json_int_t)id, "deleted", 1, "archived", archived));
}
