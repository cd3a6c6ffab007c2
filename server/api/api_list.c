/*
 * server/api/api_list.c — the list query rules of the lead's pages (see api_list.h). Only
 * parameter *names* are read from the raw query here (to refuse unknown ones); values always
 * come decoded from http_query().
 */
#include "api/api_list.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/rotation.h"
#include "rotation/tz.h"
#include "core/app.h"
#include "core/cfg.h"

enum rc api_list_params(struct http_req *req, const char *const *allowed)
{
	const char *q = req->uri ? strchr(req->uri, '?') : NULL;

	while (q && *q) {
		const char *name = q + 1, *end = name + strcspn(name, "=&");
		size_t n = (size_t)(end - name), i;
		bool ok = n == 0;

		for (i = 0; !ok && allowed[i]; i++)
			ok = strlen(allowed[i]) == n && memcmp(allowed[i], name, n) == 0;
		if (!ok)
			return http_fail(req, RC_INVALID, "%.*s: unknown query parameter", (int)(n > 64 ? 64 : n),
			                 name);
		q = strchr(end, '&');
	}
	return RC_OK;
}

enum rc api_list_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
	const char *v = http_query(req, name);
	char *end;
	long long n;

	*out = def;
	if (!v)
		return RC_OK;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (!*v || errno || *end || n < min || n > max)
		return http_fail(req, RC_INVALID, "%s: expected a whole number from %lld to %lld", name, (long long)min,
		                 (long long)max);
	*out = n;
	return RC_OK;
}

enum rc api_list_instant(struct http_req *req, const char *name, const char *zone, int64_t *out)
{
	const char *v = http_query(req, name);
	char fixed[64];
	char *sp;

	*out = 0;
	if (!v)
		return RC_OK;
	if (tz_parse_instant(zone, v, out) == RC_OK)
		return RC_OK;
	/* a '+' of an offset sent unescaped arrives as a space */
	snprintf(fixed, sizeof fixed, "%s", v);
	sp = strrchr(fixed, ' ');
	if (sp && sp > fixed + 10) {
		*sp = '+';
		if (tz_parse_instant(zone, fixed, out) == RC_OK)
			return RC_OK;
	}
	return http_fail(req, RC_INVALID, "%s: expected an ISO 8601 date or time (2026-11-01, 2026-11-01T09:00-03:00)",
	                 name);
}

void api_list_zone(struct http_req *req, char *out, size_t len)
{
	struct rotation_current cur;

	if (rotation_latest(req->db, &cur) == RC_OK && cur.timezone[0])
		snprintf(out, len, "%s", cur.timezone);
	else
		snprintf(out, len, "%s", req->app->cfg->tz);
}

void api_list_iso_fields(json_t *rows, const char *zone, const char *const *names)
{
	size_t i, k;
	json_t *row;

	json_array_foreach(rows, i, row)
	{
		for (k = 0; names[k]; k++) {
			json_t *v = json_object_get(row, names[k]);
			char key[64], text[40];

			if (!json_is_integer(v))
				continue;
			snprintf(key, sizeof key, "%s_unix", names[k]);
			json_object_set(row, key, v);
			if (tz_format_iso(zone, json_integer_value(v), text, sizeof text) == RC_OK)
				json_object_set_new(row, names[k], json_string(text));
		}
	}
}

json_t *api_list_page(const char *key, json_t *rows, int64_t limit)
{
	size_t n = json_array_size(rows);
	json_t *last = n ? json_object_get(json_array_get(rows, n - 1), "id") : NULL;

	return json_pack("{s:o, s:o}", key, rows, "next_before",
	                 (int64_t)n >= limit && json_is_integer(last) ? json_integer(json_integer_value(last))
	                                                              : json_null());
}

enum rc api_list_query(struct http_req *req, const char *const *allowed, int64_t def, int64_t max,
                       struct api_list_query *q)
{
	enum rc rc;

	memset(q, 0, sizeof *q);
	api_list_zone(req, q->zone, sizeof q->zone);
	rc = api_list_params(req, allowed);
	if (rc == RC_OK)
		rc = api_list_int(req, "limit", def, 1, max, &q->limit);
	if (rc == RC_OK)
		rc = api_list_int(req, "before", 0, 1, INT64_MAX, &q->before);
	if (rc == RC_OK)
		rc = api_list_int(req, "person", 0, 1, INT64_MAX, &q->person);
	if (rc == RC_OK)
		rc = api_list_instant(req, "from", q->zone, &q->from);
	if (rc == RC_OK)
		rc = api_list_instant(req, "to", q->zone, &q->to);
	return rc;
}

void api_list_iso_object(json_t *obj, const char *zone, const char *const *names)
{
	json_t *one = json_array();

	if (!one || !json_is_object(obj))
		goto out;
	json_array_append(one, obj);
	api_list_iso_fields(one, zone, names);
out:
	json_decref(one);
}

enum rc api_list_no_params(struct http_req *req)
{
	static const char *const none[] = {NULL};

	return api_list_params(req, none);
}
