/*
 * server/api/api_outbox.h — GET /api/outbox (perm ADMIN: the outbox holds the texts of sign-in
 * codes): the deliveries page — every text and call plantao has sent or is trying to send, newest
 * first, with Twilio SIDs and statuses, retries, error codes and their meaning in words, dead
 * letters, SMS encoding and billed parts, call durations, and the person each went to.
 */
#ifndef PLANTAO_API_OUTBOX_H
#define PLANTAO_API_OUTBOX_H

#include "http/http.h"

#define API_OUTBOX_DEFAULT_LIMIT 100
#define API_OUTBOX_MAX_LIMIT     1000

/*
 * Answers {"outbox": [rows], "next_before"}. Filters: status (pending, retry, sending, sent,
 * queued, delivered, …, or "dead" for dead letters), kind (sms, whatsapp, call), person (id),
 * from/to (ISO 8601; created_at); limit and before (a row id: the next page). Times are ISO 8601
 * with the team's offset (created_at_unix… keep the numbers). 400 naming an unknown or
 * malformed parameter.
 */
enum rc api_outbox_list(struct http_req *req);

#endif
