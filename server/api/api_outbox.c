/* server/api/api_outbox.c — the outbox listing (see api_outbox.h). Reads only. */
#include "api/api_outbox.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/outbox.h"

/* A whole number in [min, max] from the query, def when absent; RC_INVALID when malformed. */
static enum rc query_int(struct http_req *req, const char *name, long long def, long long min, long long max,
                         long long *out)
{
	const char *v = http_query(req, name);
	char *end;
	long long n;

	*out = def;
	if (!v || !*v)
		return RC_OK;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return RC_INVALID;
	*out = n;
	return RC_OK;
}

enum rc api_outbox_list(struct http_req *req)
{
	const char *status = http_query(req, "status");
	long long limit, before;
	json_t *rows = NULL;
	enum rc rc;

	if (query_int(req, "limit", API_OUTBOX_DEFAULT_LIMIT, 1, API_OUTBOX_MAX_LIMIT, &limit) != RC_OK)
		return http_fail(req, RC_INVALID, "limit: expected a whole number from 1 to %d", API_OUTBOX_MAX_LIMIT);
	if (query_int(req, "before", 0, 1, INT64_MAX, &before) != RC_OK)
		return http_fail(req, RC_INVALID, "before: expected a row id");
	if (status && (!*status || strlen(status) > 32))
		return http_fail(req, RC_INVALID, "status: expected an outbox status or 'dead'");
	rc = outbox_list_json(req->db, status, before, (int)limit, &rows);
	if (rc != RC_OK)
		return http_fail(req, rc, "could not read the outbox");
	return http_reply_json(req, 200, json_pack("{s:o}", "outbox", rows));
}
