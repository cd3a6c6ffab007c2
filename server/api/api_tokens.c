/*
 * server/api/api_tokens.c — token administration over the API: times in ISO 8601 with the
 * team's offset (the epoch as <name>_unix), body errors 422 with a code and the field.
 */
#include "api/api_tokens.h"
#include "api/api_list.h"

#include <stdlib.h>
#include <string.h>

#include "db/tokens.h"
#include "rotation/tz.h"

enum rc api_tokens_list(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	static const char *const times[] = {"created_at", "last_used_at", "revoked_at", NULL};
	char zone[TZ_NAME_MAX + 1];
	json_t *list = NULL;
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = tokens_list(req->db, &list);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	api_list_iso_fields(list, zone, times);
	return http_reply_json(req, 200, json_pack("{s:o}", "tokens", list));
}

enum rc api_tokens_create(struct http_req *req)
{
	json_t *body, *out, *v;
	const char *name, *role, *key;
	char *secret = NULL;
	int64_t id = 0;
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_INVALID, "expected a JSON object {\"name\", \"role\"}");
	json_object_foreach(body, key, v)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "role") != 0)
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
			                      "%.40s: unknown field (name, role)", key);
	}
	name = json_string_value(json_object_get(body, "name"));
	role = json_string_value(json_object_get(body, "role"));
	if (!json_object_get(body, "name") || !json_object_get(body, "role"))
		return http_fail_code(req, RC_UNPROCESSABLE, "required",
		                      json_object_get(body, "name") ? "role" : "name", "%s: required",
		                      json_object_get(body, "name") ? "role" : "name");
	if (!name || !*name || strlen(name) > 40)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "name",
		                      "name: expected a label of 1 to 40 characters");
	if (!tokens_is_role(role))
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "role",
		                      "role: expected admin, editor, viewer or alerts");
	rc = tokens_create(req->db, name, role, &secret, &id);
	if (rc != RC_OK)
		return rc;
	out = json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "role", role, "token", secret,
	                "note", "shown only this once: store it now");
	free(secret);
	return http_reply_json(req, 201, out);
}

enum rc api_tokens_revoke(struct http_req *req)
{
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	rc = tokens_revoke(req->db, id);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no active token %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}
