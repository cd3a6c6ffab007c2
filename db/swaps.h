/*
 * db/swaps.h — the shift_swaps table ("trocar turno"): a person asks a colleague to take part of
 * their on-call time; both confirm (in the console or by SMS) before expires_at; the time then
 * becomes the colleague's override (db/rotation.h rotation_override_add). Every change is audited
 * (swaps.create, swaps.confirm, swaps.decline, swaps.cancel, swaps.accept) in the transaction
 * that makes it. The flow around these statements is server/rotation/swap_flow.c.
 */
#ifndef PLANTAO_SWAPS_H
#define PLANTAO_SWAPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* How long a swap waits for its answers, in seconds (never past its end). */
#define SWAP_TTL 86400

struct swap {
	int64_t id, from_person, to_person, start, end;
	char status[16]; /* pending accepted declined canceled, or "expired": pending past expires_at */
	int64_t from_confirmed_at, to_confirmed_at, override_id; /* 0: not yet */
	int64_t expires_at;                                      /* 0: no limit (asked before 0321) */
};

/*
 * A pending swap, confirmed by from_person when confirmed_by_from, answerable until
 * min(now + SWAP_TTL, in->end). Inside the caller's transaction. *id: the new row.
 */
enum rc swaps_create_tx(struct db *db, const struct swap *in, bool confirmed_by_from, const char *actor, int64_t now,
                        int64_t *id);

/* RC_NOT_FOUND. The status reads "expired" for a pending swap whose expires_at <= now. */
enum rc swaps_get(struct db *db, int64_t id, int64_t now, struct swap *out);

/*
 * person_id confirms (their side: from or to), or declines (either side; the one who asked
 * declining is a cancel), inside the caller's transaction. RC_CONFLICT when the swap is not
 * pending (or expired: out->status says which), RC_FORBIDDEN when person_id is neither side.
 * *changed: false when that side had confirmed already (nothing written). *out: the row after.
 */
enum rc swaps_answer_tx(struct db *db, int64_t id, int64_t person_id, bool yes, const char *actor, int64_t now,
                        struct swap *out, bool *changed);

/*
 * Marks a confirmed, pending swap accepted with the override that carries it out (audited),
 * inside the caller's transaction. RC_CONFLICT when it is not pending any more.
 */
enum rc swaps_accept_tx(struct db *db, int64_t id, int64_t override_id, const char *actor, int64_t now);

/*
 * Closes a pending swap as canceled because it cannot be carried out (why: the audit detail's
 * "reason"), inside the caller's transaction. RC_CONFLICT when it is not pending.
 */
enum rc swaps_void_tx(struct db *db, int64_t id, const char *why, const char *actor, int64_t now);

/*
 * Newest first: person (either side, 0: all), status (NULL: all; "expired" and "pending" as
 * swaps_get reads them at now), at most limit, id < before (0: none).
 */
enum rc swaps_list(struct db *db, int64_t person_id, const char *status, int limit, int64_t before, int64_t now,
                   json_t **out);

#endif
