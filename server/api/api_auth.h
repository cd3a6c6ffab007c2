/*
 * server/api/api_auth.h — sign-in with one-time codes, sessions and contact verification
 * (issue 16). Rules of codes: server/auth/otp.h; of sessions and the cookie: server/auth/session.h.
 *
 *   POST /api/auth/code     public. {"phone"} (as typed; "channel": "sms" default or "voice").
 *                           Always 202 with the same body, whether or not the phone is a person's
 *                           (no account discovery); a code goes out only to a person with a role.
 *   POST /api/auth/verify   public. {"phone", "code"} -> 200 {person, role} and the cookie;
 *                           401 wrong/expired code; 429 + Retry-After when locked.
 *   POST /api/auth/logout   ends the cookie's session and deletes the cookie.
 *   GET  /api/me            who is asking: the signed-in person and session, or the token.
 *   GET  /api/auth/sessions[?person_id=], DELETE /api/auth/sessions/{id}: admin.
 *   PUT  /api/people/{id}/role {"role": "admin"|"editor"|"viewer"|null}: admin.
 *   POST /api/people/{id}/verify {"channel"}, POST /api/people/{id}/verify/confirm {"code"}:
 *                           the person themself (signed in) or an admin.
 */
#ifndef PLANTAO_API_AUTH_H
#define PLANTAO_API_AUTH_H

#include "http/http.h"

enum rc api_auth_code(struct http_req *req);
enum rc api_auth_verify(struct http_req *req);
enum rc api_auth_logout(struct http_req *req);
enum rc api_auth_me(struct http_req *req);
enum rc api_auth_sessions_list(struct http_req *req);
enum rc api_auth_sessions_end(struct http_req *req);
enum rc api_auth_role_put(struct http_req *req);
enum rc api_auth_verify_start(struct http_req *req);
enum rc api_auth_verify_confirm(struct http_req *req);

/* Adds "role", "phone_verified" and "phone_verified_at" to a person object of the API (person),
 * or to each of an array of them (people), and writes its times (sms_opt_out_at,
 * whatsapp_inbound_at, phone_verified_at) in ISO 8601 with the team's offset, the epoch kept
 * as <name>_unix. */
enum rc api_auth_annotate_person(struct http_req *req, json_t *person);
enum rc api_auth_annotate_people(struct http_req *req, json_t *people);

#endif
