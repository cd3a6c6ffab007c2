/*
 * server/api/api_calls.h — GET /api/calls (perm READ): the support line's calls, newest first —
 * who called, whom plantao dialled and in what order, who answered, how long they talked, the
 * voicemail with its recording link and transcription.
 */
#ifndef PLANTAO_API_CALLS_H
#define PLANTAO_API_CALLS_H

#include "http/http.h"

/*
 * {"calls": [...], "next_before"} (db/history.h history_calls; times ISO 8601 with the team's
 * offset, the numbers kept as *_unix). Filters: person (dialled, answered or had the
 * voicemail), status (ringing, answered, voicemail, abandoned), from/to (ISO 8601), limit
 * (1..1000, default 50), before (next page). 400 naming an unknown or malformed parameter.
 */
enum rc api_calls_list(struct http_req *req);

#endif
