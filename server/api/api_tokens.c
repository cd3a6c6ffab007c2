/* server/api/api_tokens.c — token administration over the API. */
#include "api/api_tokens.h"
#include "api/api_list.h"

#include <stdlib.h>
#include <string.h>

#include "db/tokens.h"

enum rc api_tokens_list(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	json_t *list = NULL;
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = tokens_list(req->db, &list);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:o}", "tokens", list));
}

enum rc api_tokens_create(struct http_req *req)
{
	json_t *body, *out;
	const char *name, *role;
	char *secret = NULL;
	int64_t id = 0;
	enum rc rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
	name = json_string_value(json_object_get(body, "name"));
	role = json_string_value(json_object_get(body, "role"));
	if (!name || !*name || strlen(name) > 40)
		return http_fail(req, RC_UNPROCESSABLE, "name: expected a label of 1 to 40 characters");
	if (!tokens_is_role(role))
		return http_fail(req, RC_UNPROCESSABLE, "role: expected admin, editor, viewer or alerts");
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

	if (rc != RC_OK)
		return rc;
	rc = tokens_revoke(req->db, id);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no active token %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}
