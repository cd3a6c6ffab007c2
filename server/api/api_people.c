/*
 * server/api/api_people.c — the people API. Validation lives in db/people.c
 * (people_input_parse) so the rules are the same wherever a person is written; this file
 * maps results to HTTP: 201 + the person on create, 404 for unknown ids, 409 for a phone
 * that is taken or a person still needed, 422 naming the field.
 */
#include "api/api_people.h"

#include "api/api_auth.h"
#include "db/people.h"

enum rc api_people_list(struct http_req *req)
{
	json_t *a;
	enum rc rc = people_list(req->db, &a);

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

	if (rc != RC_OK)
		return rc;
	rc = people_input_parse(body, false, &in, err, sizeof err);
	if (rc == RC_OK)
		rc = people_create(req->db, &in, req->actor, &id, err, sizeof err);
	if (rc != RC_OK)
		return err[0] ? http_fail(req, rc, "%s", err) : rc;
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
	if (rc != RC_OK)
		return rc;
	rc = people_input_parse(body, true, &in, err, sizeof err);
	if (rc == RC_OK)
		rc = people_update(req->db, id, &in, req->actor, err, sizeof err);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no person with id %lld", (long long)id);
	if (rc != RC_OK)
		return err[0] ? http_fail(req, rc, "%s", err) : rc;
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
		return err[0] ? http_fail(req, rc, "%s", err) : rc;
	return http_reply_json(req, 200,
	                       json_pack("{s:I,s:b,s:b}", "id", (json_int_t)id, "deleted", 1, "archived", archived));
}
