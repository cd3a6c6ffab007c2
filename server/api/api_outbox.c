/* server/api/api_outbox.c — the deliveries listing (see api_outbox.h). Reads only. */
#include "api/api_outbox.h"

#include <string.h>

#include "api/api_list.h"
#include "db/history.h"
#include "rotation/tz.h"
#include "twilio/status.h"

enum rc api_outbox_list(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", "status", "kind", "person", "from", "to", NULL};
	static const char *const times[] = {"created_at", "sent_at", "updated_at", "twilio_status_at", NULL};
	struct history_filter f;
	struct api_list_query q;
	json_t *rows = NULL, *row;
	size_t i;
	enum rc rc;

	memset(&f, 0, sizeof f);
	rc = api_list_query(req, allowed, API_OUTBOX_DEFAULT_LIMIT, API_OUTBOX_MAX_LIMIT, &q);
	if (rc != RC_OK)
		return rc;
	f.limit = (int)q.limit;
	f.before_id = q.before;
	f.person_id = q.person;
	f.from = q.from;
	f.to = q.to;
	f.status = http_query(req, "status");
	if (f.status && (!*f.status || strlen(f.status) > 32))
		return http_fail(req, RC_INVALID, "status: expected an outbox status or 'dead'");
	f.kind = http_query(req, "kind");
	if (f.kind && strcmp(f.kind, "sms") != 0 && strcmp(f.kind, "whatsapp") != 0 && strcmp(f.kind, "call") != 0 &&
	    strcmp(f.kind, "email") != 0)
		return http_fail(req, RC_INVALID, "kind: expected sms, whatsapp, call or email");
	rc = history_deliveries(req->db, &f, &rows);
	if (rc != RC_OK)
		return http_fail(req, rc, "could not read the outbox");
	json_array_foreach(rows, i, row)
	{
		json_t *code = json_object_get(row, "error_code");
		const char *words = json_is_integer(code) ? status_error_words((int)json_integer_value(code)) : NULL;

		json_object_set_new(row, "error_words", words ? json_string(words) : json_null());
		json_object_set_new(row, "dead_letter",
		                    json_boolean(json_is_true(json_object_get(row, "dead_letter")) ||
		                                 json_integer_value(json_object_get(row, "dead_letter"))));
	}
	api_list_iso_fields(rows, q.zone, times);
	return http_reply_json(req, 200, api_list_page("outbox", rows, q.limit));
}
