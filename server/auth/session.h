/*
 * server/auth/session.h — sign-in sessions: the plantao_session cookie (issue 16).
 *
 * A session secret is 32 random bytes (OpenSSL RAND_bytes) shown only in the cookie; the
 * database keeps its SHA-256. It lasts PLANTAO_SESSION_DAYS (default 30) after its last use:
 * each use at least SESSION_TOUCH_S after the previous one moves the expiry and re-sends the
 * cookie. The cookie is HttpOnly, SameSite=Strict, Path=/, Secure when PLANTAO_PUBLIC_URL is
 * https. A session acts with its person's role of the moment (a role taken away, or the person
 * archived, ends it) and is named "person:<id> <name>" wherever actors are recorded.
 *
 * Unsafe methods (not GET/HEAD) authorized by a cookie also need proof that the request comes
 * from the console (CSRF): an Origin header equal to PLANTAO_PUBLIC_URL's origin, or the header
 * X-Plantao-CSRF: 1, which a page of another site cannot send without a CORS preflight that
 * plantao never grants.
 *
 * Pure helpers and thin wrappers over db/auth.h; server/http/http.c calls
 * session_authenticate() and session_csrf_ok() next to the bearer-token check, and
 * server/api/api_auth.c starts and ends sessions.
 */
#ifndef PLANTAO_AUTH_SESSION_H
#define PLANTAO_AUTH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/auth.h"

struct app;
struct db;

#define SESSION_COOKIE     "plantao_session"
#define SESSION_SECRET_LEN (5 + 64) /* "plts_" + 64 hex */
#define SESSION_HEADER_MAX 256      /* a Set-Cookie value */
#define SESSION_TOUCH_S    60
#define SESSION_ACTOR_MAX  64

/*
 * Starts a session for person_id, audited "auth.signin" by actor (the person, as session_actor
 * names them) in the same transaction: *secret (SESSION_SECRET_LEN + 1 bytes) receives the
 * cookie's value, *id its row. The caller sends session_set_cookie().
 */
enum rc session_start(struct app *app, struct db *db, int64_t person_id, const char *actor, const char *user_agent,
                      char secret[SESSION_SECRET_LEN + 1], int64_t *id);

/* Ends session id, audited as action ("auth.signout", "auth.session_end") by actor, in one
 * transaction. RC_NOT_FOUND when no such open session. */
enum rc session_end(struct db *db, int64_t id, const char *actor, const char *action);

/*
 * The session of secret at now: RC_OK with *out filled (the expiry slid forward and *refreshed
 * set when it was last touched SESSION_TOUCH_S or more ago); RC_AUTH when unknown, ended,
 * expired or its person may no longer sign in (no role).
 */
enum rc session_authenticate(struct app *app, struct db *db, const char *secret, struct auth_session *out,
                             bool *refreshed);

/* Set-Cookie value carrying secret for the configured lifetime; secret NULL: one that deletes it. */
void session_set_cookie(const struct app *app, const char *secret, char out[SESSION_HEADER_MAX]);

/* The actor string of a session's person ("person:12 Ana Souza", cut on a UTF-8 boundary). */
void session_actor(const struct auth_session *s, char *out, size_t len);
/* The person id of an actor string made by session_actor; false for any other actor. */
bool session_actor_person(const char *actor, int64_t *person_id);

/* Whether a cookie-authorized request may do method (see above). origin and csrf may be NULL. */
bool session_csrf_ok(const char *public_url, const char *method, const char *origin, const char *csrf);

/* The value of cookie name in a Cookie request header, into out; false when absent or too long. */
bool session_cookie_value(const char *cookie_header, const char *name, char *out, size_t len);

#endif
