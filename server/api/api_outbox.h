/*
 * server/api/api_outbox.h — GET /api/outbox?status=&limit=&before= (perm READ): what plantao has
 * sent or is trying to send, newest first, with Twilio SIDs and statuses, retries, error
 * codes, dead letters, SMS encoding and parts, and call durations.
 */
#ifndef PLANTAO_API_OUTBOX_H
#define PLANTAO_API_OUTBOX_H

#include "http/http.h"

#define API_OUTBOX_DEFAULT_LIMIT 100
#define API_OUTBOX_MAX_LIMIT     1000

/*
 * Answers {"outbox": [rows]}. status: pending, retry, sending, sent, queued, delivered, …, or
 * "dead" for dead letters; before: a row id to page from. 400 on a malformed limit or before.
 */
enum rc api_outbox_list(struct http_req *req);

#endif
