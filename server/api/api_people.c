/*
 * server/api/api_people.c — the people API. Validation lives in db/people.c
 * (people_input_parse) so the rules are the same wherever a person is written; this file
 * maps results to HTTP: 201 + the person on create, 404 for unknown ids, 409 for a phone
 * that is taken or a person still needed, 422 naming the field; each error with a stable code
 * (phone_invalid, phone_taken, person_in_rotation, …). Phones are taken as people type them.
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

/* err from db/people.c with a stable code for the console: which rule the request broke. */
static enum rc people_fail(struct http_req *req, enum rc rc, const char *err)
{
	const char *code = NULL;

	if (rc == RC_CONFLICT && !strncmp(err, "phone:", 6))
		code = "phone_taken";
	else if (strstr(err, "is a member of the current rotation"))
		code = "person_in_rotation";
	else if (strstr(err, "has override"))
		code = "person_has_override";
	else if (strstr(err, "of the escalation policy"))
		code = "person_in_escalation";
	else if (strstr(err, ": unknown field"))
		code = "unknown_field";
	else if (strstr(err, ": required"))
		code = "required";
	return http_fail_code(req, rc, code, NULL, "%s", err);
}

enum rc api_people_list(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	json_t *a = NULL;
	enum rc rc = api_list_params(req, allowed);

	if (rc != RC_OK)
		return rc;
	rc = people_list(req->db, &a);
	if (rc == RC_OK)
		rc = api_auth_annotate_people(req, a); /* role, phone_verified */
	if (rc != RC_OK) {
		json_decref(a);
		return rc;
	}
	return http_reply_json(req, 200, json_pack("{s:o}", "people", a));
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

	if (rc != RC_OK)
		return rc;
	return reply_person(req, 200, id);
}

enum rc api_people_create(struct http_req *req)
{
	struct person_input in;
	char err[PEOPLE_ERR_MAX];
	json_t *body;
	int64_t id;
	enum rc rc = http_json_body(req, &body);

	if (rc == RC_OK)
		rc = normalize_phone(req, body);
	if (rc != RC_OK)
		return rc;
	rc = people_input_parse(body, false, &in, err, sizeof err);
	if (rc == RC_OK)
		rc = people_create(req->db, &in, req->actor, &id, err, sizeof err);
	if (rc != RC_OK)
		return err[0] ? people_fail(req, rc, err) : rc;
	return reply_person(req, 201, id);
}

enum rc api_people_update(struct http_req *req)
{
	struct person_input in;
	char err[PEOPLE_ERR_MAX];
	json_t *body;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	rc = http_json_body(req, &body);
	if (rc == RC_OK)
		rc = normalize_phone(req, body);
	if (rc != RC_OK)
		return rc;
	rc = people_input_parse(body, true, &in, err, sizeof err);
	if (rc == RC_OK)
		rc = people_update(req->db, id, &in, req->actor, err, sizeof err);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return err[0] ? people_fail(req, rc, err) : rc;
	return reply_person(req, 200, id);
}

enum rc api_people_delete(struct http_req *req)
{
	char err[PEOPLE_ERR_MAX];
	bool archived;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	rc = people_delete(req->db, id, req->actor, &archived, err, sizeof err);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return err[0] ? people_fail(req, rc, err) : rc;
	return http_reply_json(req, 200,
	                       json_pack("{s:I,s:b,s:b}", "id", (json_int_t)id, "deleted", 1, "archived", archived));
}
