/* server/api/api_calls.c — the support-line call history (see api_calls.h). Reads only. */
#include "api/api_calls.h"

#include <string.h>

#include "api/api_list.h"
#include "db/history.h"
#include "rotation/tz.h"

enum rc api_calls_list(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", "status", "person", "from", "to", NULL};
	static const char *const statuses[] = {"ringing", "answered", "voicemail", "abandoned", NULL};
	static const char *const times[] = {"accepted_at", "created_at", "ended_at", NULL};
	struct history_filter f;
	struct api_list_query q;
	json_t *rows = NULL, *row;
	size_t i, k;
	enum rc rc;

	memset(&f, 0, sizeof f);
	rc = api_list_query(req, allowed, HISTORY_LIST_DEFAULT, HISTORY_LIST_MAX, &q);
	if (rc != RC_OK)
		return rc;
	f.limit = (int)q.limit;
	f.before_id = q.before;
	f.person_id = q.person;
	f.from = q.from;
	f.to = q.to;
	f.status = http_query(req, "status");
	for (k = 0; f.status && statuses[k] && strcmp(statuses[k], f.status) != 0; k++)
		;
	if (f.status && !statuses[k])
		return http_fail(req, RC_INVALID, "status: expected ringing, answered, voicemail or abandoned");
	rc = history_calls(req->db, &f, &rows);
	if (rc != RC_OK)
		return http_fail(req, rc, "could not read the calls");
	api_list_iso_fields(rows, q.zone, times);
	json_array_foreach(rows, i, row)
	{
		static const char *const leg_times[] = {"created_at", NULL};
		json_t *vm = json_object_get(row, "voicemail");

		api_list_iso_fields(json_object_get(row, "legs"), q.zone, leg_times);
		if (json_is_object(vm)) {
			json_t *one = json_array();

			json_array_append(one, vm);
			api_list_iso_fields(one, q.zone, leg_times);
			json_decref(one);
		}
	}
	return http_reply_json(req, 200, api_list_page("calls", rows, q.limit));
}
