/*
 * server/api/api_sales_periods.c — GET /api/sales (api_sales_periods.h). Reads only.
 */
#include "api/api_sales_periods.h"

#include <ctype.h>
#include <string.h>

#include "api/api_list.h"
#include "db/sales_periods.h"
#include "rotation/tz.h"

#define SALES_PERIODS_DEFAULT 24
#define SALES_PERIODS_MAX     120

static bool is_period(const char *s)
{
	return strlen(s) == 7 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	       isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-' &&
	       ((s[5] == '0' && s[6] >= '1' && s[6] <= '9') || (s[5] == '1' && s[6] >= '0' && s[6] <= '2'));
}

enum rc api_sales_periods(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", NULL};
	static const char *const times[] = {"last_import_at", NULL};
	char zone[TZ_NAME_MAX + 1];
	const char *before = http_query(req, "before");
	json_t *rows = NULL, *page, *last;
	int64_t limit = 0;
	enum rc rc = api_list_params(req, allowed);

	if (rc == RC_OK)
		rc = api_list_int(req, "limit", SALES_PERIODS_DEFAULT, 1, SALES_PERIODS_MAX, &limit);
	if (rc != RC_OK)
		return rc;
	if (before && !is_period(before))
		return http_fail_code(req, RC_INVALID, "invalid_value", "before", "before: expected a month, YYYY-MM");
	rc = sales_periods_list(req->db, before, limit, &rows);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	api_list_iso_fields(rows, zone, times);
	last = json_array_size(rows) == (size_t)limit ? json_array_get(rows, json_array_size(rows) - 1) : NULL;
	page = json_pack("{s:o,s:O}", "periods", rows, "next_before",
	                 last ? json_object_get(last, "period") : json_null());
	return http_reply_json(req, 200, page);
}
