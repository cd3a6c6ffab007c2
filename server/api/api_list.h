/*
 * server/api/api_list.h — query parameters shared by the lead's list pages (audit, calls,
 * deliveries, reports): every list takes limit and before (a row id: the next page is
 * ?before=<next_before>), filters it can show, and refuses a parameter it does not know (400
 * naming it). Times come in as ISO 8601 (with an offset, or local in the team's zone, or a
 * date meaning local midnight) and go out as ISO 8601 with the offset; epochs only in *_unix.
 */
#ifndef PLANTAO_API_LIST_H
#define PLANTAO_API_LIST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "rotation/tz.h"

/* Every query parameter name of req is in allowed (NULL-terminated); else a 400 naming the first
 * unknown one (http_fail already called). */
enum rc api_list_params(struct http_req *req, const char *const *allowed);

/* A whole number in [min, max] from parameter name, def when absent; 400 naming it otherwise. */
enum rc api_list_int(struct http_req *req, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out);

/* An instant from parameter name read in zone (see tz_parse_instant), 0 when absent; 400 otherwise. */
enum rc api_list_instant(struct http_req *req, const char *name, const char *zone, int64_t *out);

/* The team's zone: the latest rotation version's, else PLANTAO_TZ. */
void api_list_zone(struct http_req *req, char *out, size_t len);

/* The part every lead's list reads the same way: unknown parameters refused, limit (def, at most
 * max), before, person, from and to (in the team's zone, zone filled). A 400 naming the bad
 * parameter otherwise (http_fail already called). */
struct api_list_query {
	int64_t limit, before, person, from, to;
	char zone[TZ_NAME_MAX + 1];
};
enum rc api_list_query(struct http_req *req, const char *const *allowed, int64_t def, int64_t max,
                       struct api_list_query *q);

/* Replaces integer field name of every row of rows by its ISO 8601 text in zone and keeps the
 * number as name_unix. NULLs stay NULL. */
void api_list_iso_fields(json_t *rows, const char *zone, const char *const *names);

/* {"<key>": rows (stolen), "next_before": id of the last row when the page is full, else null}. */
json_t *api_list_page(const char *key, json_t *rows, int64_t limit);

/* api_list_iso_fields for one object (a person, a session). */
void api_list_iso_object(json_t *obj, const char *zone, const char *const *names);

/* A GET that takes no parameter at all (a single resource): 400 naming any (http_fail called). */
enum rc api_list_no_params(struct http_req *req);

#endif
