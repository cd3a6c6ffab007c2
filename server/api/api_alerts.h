/*
 * server/api/api_alerts.h — the alert pager's JSON API: intake (our own format as JSON, form or
 * text/plain; Prometheus Alertmanager and Grafana webhooks), listing with the timeline, and
 * acknowledging/resolving by API. Handlers only write rows in one transaction and wake the
 * engine; the paging happens in the engine (server/pager/escalation.c).
 */
#ifndef PLANTAO_API_ALERTS_H
#define PLANTAO_API_ALERTS_H

#include "http/http.h"

/*
 * POST /api/alerts: JSON {summary, details, severity, dedup_key, source, runbook_url, status,
 * event_action}, the same fields as a form, or text/plain (first line summary, rest details;
 * an open alert with the same first line absorbs it). Unknown fields: 422 naming them. 202
 * with the alert, "deduped" and "paged" (false: "reason" and "reason_message"); status
 * "resolved"/"acknowledged" or event_action "resolve"/"acknowledge" act on the unresolved
 * alert with dedup_key instead (200 with it, or 202 {"action":"ignored"} when there is none).
 */
enum rc api_alerts_post(struct http_req *req);
/* POST /api/alerts/alertmanager: Alertmanager webhook payload, version "4"; one alert per
 * notification group (groupKey). 202 {"alerts": [{fingerprint, status, action, alert_id,
 * paged, reason}]}, one result per alert of the payload, in order. */
enum rc api_alerts_alertmanager(struct http_req *req);
/* POST /api/alerts/grafana: Grafana alerting webhook payload, version "1". */
enum rc api_alerts_grafana(struct http_req *req);
/*
 * GET /api/alerts[?status=&severity=&person=&from=&to=&limit=&before=]: newest first, a page of
 * limit (50, at most ALERTS_LIST_MAX) with "next_before" (the next page's before, null on the
 * last). person: acknowledged by, called for or texted to that person; from/to: created in
 * [from, to), ISO 8601 or a date in the team's zone. Unknown parameters: 400 naming them.
 * Every time of every alert answer is ISO 8601 with the team's offset, the epoch as <name>_unix.
 */
enum rc api_alerts_list(struct http_req *req);
/* GET /api/alerts/{id}: the alert with its attempts and timeline. */
enum rc api_alerts_get(struct http_req *req);
/* POST /api/alerts/{id}/ack, optional JSON {"person_id": n}; any other field is a 422 naming it. */
enum rc api_alerts_ack(struct http_req *req);
/* POST /api/alerts/{id}/resolve, the same body. */
enum rc api_alerts_resolve(struct http_req *req);

#endif
