/*
 * server/twilio/redirect.h — the engine job that gives live calls new TwiML through Twilio's
 * REST API (POST Calls/{sid}.json Url=…), from the call_redirects queue (db/call_redirects.h).
 * Today one use: an alert call whose AsyncAmd callback said an answering machine's greeting
 * ended gets the whole message after the beep (server/twilio/alert_call.h). Handlers never call
 * Twilio (DESIGN.md): they queue a row and wake the engine, this job sends it.
 *
 * A request that fails for a reason that may pass (network, 429, 5xx) is tried again every
 * REDIRECT_RETRY_MS while the row is younger than REDIRECT_MAX_AGE_MS: a message left later
 * than that would land in the middle of a voicemail or after it. Twilio refusing it (21220:
 * the call is no longer in progress, any other 4xx) ends the row as 'failed'; every failure is
 * a warning in the log and counts in plantao_call_redirects_total{result}.
 */
#ifndef PLANTAO_REDIRECT_H
#define PLANTAO_REDIRECT_H

#include <stdint.h>

#include "core/rc.h"

#define REDIRECT_RETRY_MS   1000
#define REDIRECT_MAX_AGE_MS 20000
#define REDIRECT_PER_TICK   8

struct app;
struct db;

/* Engine job (server/outbox/engine.h); state NULL until Twilio credentials are set. */
enum rc redirect_start(struct app *app, struct db *db, void **state);
enum rc redirect_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void redirect_stop(void *state);

#endif
