/*
 * server/api/api_swaps.h — "trocar turno" (perm EDIT to write, READ to list): a person gives part
 * of their on-call time to a colleague; both confirm; then it is the colleague's override.
 *   POST /api/swaps {"to_person_id", "start", "end"[, "from_person_id"]} — through a session the
 *     signed-in person asks (their side confirmed at once); an admin token names from_person_id
 *     (then both sides still confirm). A start in the past means from now on. 422 (field) unless
 *     [start, end) is all the giver's on-call time and ends in the future. Each side that has not
 *     confirmed is texted how to answer by SMS (server/rotation/swap_flow.c); the swap waits until
 *     expires_at (SWAP_TTL after it was asked, or its end if sooner).
 *   POST /api/swaps/{id}/confirm, POST /api/swaps/{id}/decline — by the person of that side (a
 *     session), or an admin token naming {"person_id"}. The second confirmation re-checks that
 *     the time is still the giver's (else the swap is canceled: 409), adds the override (replacing
 *     overlapping ones for that span) and answers status "accepted" with override_id. 409 once
 *     answered or expired.
 *   GET /api/swaps?person=&status=&limit=&before= — newest first; status also "expired".
 */
#ifndef PLANTAO_API_SWAPS_H
#define PLANTAO_API_SWAPS_H

#include "http/http.h"

enum rc api_swaps_create(struct http_req *req);
enum rc api_swaps_confirm(struct http_req *req);
enum rc api_swaps_decline(struct http_req *req);
enum rc api_swaps_list(struct http_req *req);

#endif
