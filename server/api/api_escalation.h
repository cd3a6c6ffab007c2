/*
 * server/api/api_escalation.h — GET /api/escalation as the API's rules want it: the policy is
 * server/pager/escalation.c's (escalation_api_get shapes it); this route refuses a query
 * parameter it does not know (400 "unknown_parameter" naming it) before answering it.
 */
#ifndef PLANTAO_API_ESCALATION_H
#define PLANTAO_API_ESCALATION_H

#include "http/http.h"

enum rc api_escalation_get(struct http_req *req);

#endif
