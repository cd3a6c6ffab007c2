/*
 * db/fallback_store.h — the twilio_fallback table: the support line's fallback TwiML as of its
 * last refresh (one row). Written by the engine's fallback job and `plantao twilio fallback`,
 * read by GET /twilio/fallback.xml (server/twilio/fallback.c).
 */
#ifndef PLANTAO_DB_FALLBACK_STORE_H
#define PLANTAO_DB_FALLBACK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/db.h"

/*
 * The stored document: *twiml and *chain are new strings (free()); *updated_at in Unix seconds.
 * Any out-parameter may be NULL. RC_NOT_FOUND when none was stored yet.
 */
enum rc fallback_store_get(struct db *db, char **twiml, char **chain, int64_t *updated_at);

/*
 * Stores twiml and chain (borrowed) at now in a short transaction of its own, when they differ
 * from what is stored; *changed tells whether they did. RC_BUSY when the writer is busy.
 */
enum rc fallback_store_put(struct db *db, const char *chain, const char *twiml, int64_t now, bool *changed);

#endif
