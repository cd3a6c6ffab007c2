/*
 * server/api/api_audit.c — the audit log as the lead's audit page reads it (api_audit.h).
 * Reads only; rows are written by whoever makes a change (db/audit.h).
 */
#include "api/api_audit.h"

#include <string.h>

#include "api/api_list.h"
#include "db/audit.h"
#include "rotation/tz.h"

enum rc api_audit_query(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", "action", "entity_id", "person",
	                                      "actor", "from",   "to",     NULL};
	static const char *const times[] = {"at", NULL};
	struct audit_filter f;
	struct api_list_query q;
	json_t *rows;
	enum rc rc;

	memset(&f, 0, sizeof f);
	rc = api_list_query(req, allowed, AUDIT_LIST_DEFAULT, AUDIT_LIST_MAX, &q);
	if (rc == RC_OK)
		rc = api_list_int(req, "entity_id", 0, 1, INT64_MAX, &f.entity_id);
	if (rc != RC_OK)
		return rc;
	f.limit = (int)q.limit;
	f.before_id = q.before;
	f.person_id = q.person;
	f.from = q.from;
	f.to = q.to;
	f.action = http_query(req, "action");
	if (f.action && (!*f.action || strlen(f.action) > 48 ||
	                 strspn(f.action, "abcdefghijklmnopqrstuvwxyz_.") != strlen(f.action)))
		return http_fail(req, RC_INVALID,
		                 "action: expected an action (alert.ack) or a group ending in a dot (alert.)");
	f.actor = http_query(req, "actor");
	if (f.actor && (!*f.actor || strlen(f.actor) > 128))
		return http_fail(req, RC_INVALID, "actor: expected an actor as the audit shows it (token:ops)");
	if (f.from && f.to && f.to <= f.from)
		return http_fail(req, RC_UNPROCESSABLE, "to: must be after from");
	rc = audit_query(req->db, &f, &rows);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the audit log");
	api_list_iso_fields(rows, q.zone, times);
	return http_reply_json(req, 200, api_list_page("audit", rows, q.limit));
}
