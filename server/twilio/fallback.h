/*
 * server/twilio/fallback.h — the support line when plantao cannot answer: static TwiML that
 * dials the on-call chain as of its last refresh, for the number's voice fallback URL.
 *
 * Twilio requests the voice fallback URL when the voice URL fails (an error status, a timeout
 * after 15 s, a host that does not answer). A fallback served by plantao only helps while this
 * machine is up; the document is meant to be published on a static host elsewhere
 * (`plantao twilio fallback --file PATH`, PLANTAO_FALLBACK_URL), so it asks nothing of plantao:
 * no callbacks, no action URLs, no recording (a <Record> would post to a host that is down).
 *
 * The document: a <Say> in the team's language, then one <Dial timeout=PLANTAO_DIAL_TIMEOUT>
 * per person of the chain (the person on call, then the rotation in order; FALLBACK_MAX_DIALS at
 * most), a short <Say> before each dial after the first, and an apology and <Hangup/>. Static
 * TwiML cannot tell an answered dial from an unanswered one: when a person answers and then
 * hangs up first, the caller goes on to the next dial ("trying someone else"), and can hang up.
 *
 * It is stored (db/fallback_store.h) and served as stored, so it answers even when the
 * rotation cannot be computed; the engine's fallback job rebuilds it every
 * FALLBACK_REFRESH_S of the clock, so a hand-off, an override or a new phone number shows
 * within that time. A rebuild that fails or finds nobody on call keeps the last document.
 */
#ifndef PLANTAO_TWILIO_FALLBACK_H
#define PLANTAO_TWILIO_FALLBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/app.h"
#include "core/cfg.h"
#include "core/rc.h"
#include "db/db.h"
#include "http/http.h"

#define FALLBACK_PATH      "/twilio/fallback.xml"
#define FALLBACK_MAX_DIALS 5  /* people dialled at most: 5 x 20 s is as long as a caller waits */
#define FALLBACK_REFRESH_S 30 /* seconds of the clock between two rebuilds by the engine */

/*
 * Builds the document for the chain at `now` (Unix seconds): *twiml and *chain (the numbers
 * dialled, space-separated) are new strings, free() them. RC_NOT_FOUND when nobody is on call
 * (no rotation, everyone archived); RC_DB and others from the rotation.
 */
enum rc fallback_build(struct db *db, const struct cfg *c, int64_t now, char **twiml, char **chain);

/*
 * Rebuilds and stores the document when it changed (*changed; logged at INFO with the chain).
 * A chain that cannot be built keeps what is stored: RC_OK when something is stored, else the
 * build's rc.
 */
enum rc fallback_refresh(struct db *db, const struct cfg *c, int64_t now, bool *changed);

/* GET /twilio/fallback.xml: the stored document (built now when none is stored yet). */
enum rc fallback_get(struct http_req *req);

/* Engine job (singleton): fallback_refresh every FALLBACK_REFRESH_S of the clock. */
enum rc fallback_start(struct app *app, struct db *db, void **state);
enum rc fallback_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void fallback_stop(void *state);

/*
 * `plantao twilio fallback --file PATH`: refreshes the stored document from the database
 * PLANTAO_DB names and writes it to path (a temporary file renamed over it, so a static host
 * never serves half a file). Exit status 0, or 1 with the reason on stderr.
 */
int fallback_command_file(const char *path);

#endif
