/*
 * server/api/api_audit.h — GET /api/audit (perm READ): who changed what and when, newest first.
 * Filters: person (their own acts: session, SMS, keypad; and changes to them), actor (exact,
 * "token:ops"), action ("alert.ack", or a group "alert."), entity_id, from/to (ISO 8601, in
 * the team's zone when without offset); limit (1..1000, default 100) and before (next page).
 */
#ifndef PLANTAO_API_AUDIT_H
#define PLANTAO_API_AUDIT_H

#include "http/http.h"

/* {"audit": [{id, at (ISO), at_unix, actor, actor_info, action, entity_id, detail}], "next_before"}. */
enum rc api_audit_query(struct http_req *req);

#endif
