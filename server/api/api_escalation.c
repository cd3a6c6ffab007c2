/*
 * server/api/api_escalation.c — GET /api/escalation (api_escalation.h): the query rules of every
 * GET, then the policy as server/pager/escalation.c answers it.
 */
#include "api/api_escalation.h"

#include "api/api_list.h"
#include "pager/escalation.h"

enum rc api_escalation_get(struct http_req *req)
{
	enum rc rc = api_list_no_params(req);

	if (rc != RC_OK)
		return rc;
	return escalation_api_get(req);
}
