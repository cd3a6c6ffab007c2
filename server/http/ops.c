/* server/http/ops.c — /healthz and /metrics. */
#include "http/ops.h"

#include "db/db.h"
#include "db/outbox.h"
#include "core/app.h"
#include "http/metrics.h"
#include "core/version.h"

enum rc ops_healthz(struct http_req *req)
{
	enum rc rc = db_ping(req->db);
	int v = 0;

	if (rc == RC_OK)
		rc = db_version(req->db, &v);
	if (rc != RC_OK)
		return http_reply_json(req, 503,
		                       json_pack("{s:s,s:s}", "status", "unavailable", "database", rc_str(rc)));
	return http_reply_json(req, 200,
	                       json_pack("{s:s,s:s,s:i,s:s}", "status", "ok", "database", "ok", "schema", v, "version",
	                                 PLANTAO_VERSION));
}

static void depth_line(void *ctx, const char *status, int64_t n)
{
	buf_printf(ctx, "plantao_outbox_messages{status=\"%s\"} %lld\n", status, (long long)n);
}

enum rc ops_metrics(struct http_req *req)
{
	struct buf b;
	enum rc rc;

	buf_init(&b, 4 * HTTP_MIB);
	rc = metrics_render(req->app->metrics, &b);
	if (rc == RC_OK)
		rc = buf_puts(&b, "# HELP plantao_outbox_messages Outbox rows by status (pending is the queue depth).\n"
		                  "# TYPE plantao_outbox_messages gauge\n");
	if (rc == RC_OK)
		rc = outbox_depth(req->db, depth_line, &b);
	if (rc == RC_OK)
		rc = http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
	buf_release(&b);
	return rc;
}
