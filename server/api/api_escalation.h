/*
 * server/api/api_escalation.h — the escalation policy's API: GET and PUT /api/escalation by the
 * API's rules (unknown query parameters a 400, unknown body fields a 422, both naming them;
 * updated_at in ISO 8601 with the team's offset, the epoch in updated_at_unix). The policy's
 * rules and storage are server/pager/escalation.c's and db/escalation.c's.
 */
#ifndef PLANTAO_API_ESCALATION_H
#define PLANTAO_API_ESCALATION_H

#include "http/http.h"

/* GET /api/escalation */
enum rc api_escalation_get(struct http_req *req);
/* PUT /api/escalation */
enum rc api_escalation_put(struct http_req *req);

#endif
