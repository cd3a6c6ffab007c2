/*
 * server/api/api_rotation.h — the schedule side of the JSON API (DESIGN.md, "HTTP contract"):
 *   GET/PUT /api/rotation            the rotation in force; PUT appends a version (db/rotation.h)
 *   GET /api/oncall[?at=]            who is on call, until when, by override or not, who is next
 *   GET /api/schedule[?from=&to=]    the pieces of the schedule (default: now to +4 weeks)
 *   GET /api/schedule.ics            the same as an iCalendar feed (api_feed.h)
 *   GET/POST /api/overrides, DELETE /api/overrides/{id}
 * Instants are answered as ISO 8601 with the offset of the rotation's zone; query dates are
 * ISO with an offset or "Z", a local date-time or a date (local midnight) in that zone.
 */
#ifndef PLANTAO_API_ROTATION_H
#define PLANTAO_API_ROTATION_H

#include "http/http.h"

#define API_SCHEDULE_DEFAULT_DAYS 28
#define API_SCHEDULE_MAX_DAYS     366
#define API_ICS_PAST_DAYS         30
#define API_ICS_FUTURE_DAYS       180
#define API_ICS_MAX_BYTES         (4 * HTTP_MIB)

enum rc api_rotation_get(struct http_req *req);
enum rc api_rotation_put(struct http_req *req);
enum rc api_oncall(struct http_req *req);
enum rc api_schedule(struct http_req *req);
enum rc api_overrides_list(struct http_req *req);
enum rc api_overrides_create(struct http_req *req);
enum rc api_overrides_delete(struct http_req *req);

#endif
