/*
 * server/api/api_monitors.h — GET/POST /api/monitors, GET/PATCH/DELETE /api/monitors/{id},
 * GET /api/monitors/{id}/pings (issue 15). Reads need HTTP_PERM_READ, edits HTTP_PERM_EDIT;
 * every edit is audited (monitors.create, monitors.update, monitors.delete) in its transaction.
 *
 * A heartbeat is {"kind":"heartbeat","name":…,"period_s":N | "schedule":"cron","grace_s":N,
 * "severity":"critical|warning|info","tz":"Zone","paused":bool}. period_s and grace_s are whole
 * seconds from 1 to API_MONITORS_MAX_SECONDS; grace_s defaults to the period up to an hour (an
 * hour with a schedule); tz defaults to the rotation's zone (else PLANTAO_TZ). The answer
 * carries the monitor's state (new, up, late, down, or paused), ping_url (PLANTAO_PUBLIC_URL +
 * /ping/<secret>), its last ping, and due_at (when the next success is expected). Fields not
 * listed are a 422 naming them (code unknown_field); a wrong value a 422 with its field and code
 * invalid_value or required.
 *
 * Every time is ISO 8601 with the team's offset, its epoch seconds as <name>_unix (*_ms fields are
 * durations). The list (newest first) and a monitor's pings page with ?limit= and ?before=<id>
 * ("next_before" in the answer); the list filters by ?kind= and ?state= (new up late down
 * paused). Unknown query parameters are a 400 naming them.
 */
#ifndef PLANTAO_API_MONITORS_H
#define PLANTAO_API_MONITORS_H

#include "http/http.h"

#define API_MONITORS_MAX_SECONDS (366 * 86400)
/* GET /api/monitors: monitors per page by default and at most (?limit=). */
#define API_MONITORS_DEFAULT_LIMIT 100
#define API_MONITORS_MAX_LIMIT     1000

enum rc api_monitors_list(struct http_req *req);
enum rc api_monitors_create(struct http_req *req);
enum rc api_monitors_get(struct http_req *req);
enum rc api_monitors_update(struct http_req *req);
enum rc api_monitors_delete(struct http_req *req);
enum rc api_monitors_pings(struct http_req *req);

#endif
