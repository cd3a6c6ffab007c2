/*
 * server/rotation/chain_memo.h — the support line's chain (who a new call dials, in order) at an
 * instant, answered from memory while the rotation is unchanged. Every change that can move who
 * is on call moves rotation_generation (migration 0370's triggers, db/rotation.h); the memo
 * holds the rotation as read at one generation, for the hour after the instant it was read at,
 * and the numbers of the people it has dialled, so a stream of new calls reads the database
 * for none of it. One memo per process, behind a mutex: what it copies out is a few ids and
 * numbers.
 */
#ifndef PLANTAO_CHAIN_MEMO_H
#define PLANTAO_CHAIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/calls.h"
#include "db/db.h"

/*
 * The chain at `at` into out (up to ROTATION_CHAIN_MAX): the person on call first, then the
 * rotation in order, people without a usable record left out (*n 0: nobody). `generation` is
 * rotation_generation() read before, in the same transaction as this call or an earlier one;
 * the database is read (in the caller's transaction) only when the memo is of another
 * generation, another hour, or lacks someone's number.
 */
enum rc chain_memo_read(struct db *db, int64_t generation, int64_t at, struct calls_link *out, size_t *n);

/* Forgets the memo (a test that opens another database in the same process). */
void chain_memo_forget(void);

#endif
