/*
 * server/rotation/chain_memo.h — the support line's chain (who a new call dials, in order) at an
 * instant, answered from memory while the rotation is unchanged. Every change that can move who
 * is on call gives rotation_generation a new value (migration 0370's triggers, db/rotation.h);
 * the memo holds the rotation as read at one value, for the hour after the instant it was read
 * at, and the numbers of the people it has given, so a stream of new calls reads the database
 * for none of it. One memo per server (struct app's chain_memo, made and freed by
 * server/main.c); its callers are the support line's webhooks (server/twilio/voice.c).
 */
#ifndef PLANTAO_CHAIN_MEMO_H
#define PLANTAO_CHAIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/calls.h"
#include "db/db.h"

struct chain_memo;

/* A new, empty memo: free with chain_memo_free(). NULL when out of memory. */
struct chain_memo *chain_memo_new(void);
void chain_memo_free(struct chain_memo *m);

/*
 * The chain at `at` into out (up to ROTATION_CHAIN_MAX): the person on call first, then the
 * rotation in order, people without a usable record left out (*n 0: nobody).
 *
 * `generation` is rotation_generation() read before, in the caller's transaction or, where
 * reads are not one snapshot (PostgreSQL), before it; ROTATION_GENERATION_UNKNOWN, or m NULL:
 * the database is read and nothing is remembered. The database is read (in the caller's
 * transaction) when the memo is of another value or hour or lacks someone's number, and what
 * was read is remembered: so never call it in a transaction that has changed the rotation, an
 * override or someone's number and may still roll back.
 */
enum rc chain_memo_read(struct chain_memo *m, struct db *db, int64_t generation, int64_t at, struct calls_link *out,
                        size_t *n);

#endif
