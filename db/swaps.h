/*
 * db/swaps.h — the shift_swaps table ("trocar turno"): a person asks a colleague to take part of
 * their on-call time; both confirm; the time then becomes the colleague's override
 * (db/rotation.h rotation_override_add). Every change is audited (swaps.create, swaps.confirm,
 * swaps.decline, swaps.cancel) in the transaction that makes it.
 */
#ifndef PLANTAO_SWAPS_H
#define PLANTAO_SWAPS_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

struct swap {
	int64_t id, from_person, to_person, start, end;
	char status[16];
	int64_t from_confirmed_at, to_confirmed_at, override_id; /* 0: not yet */
};

/* A pending swap, confirmed by from_person when confirmed_by_from. *id: the new row. */
enum rc swaps_create(struct db *db, const struct swap *in, bool confirmed_by_from, const char *actor, int64_t now,
                     int64_t *id);

/* RC_NOT_FOUND. */
enum rc swaps_get(struct db *db, int64_t id, struct swap *out);

/*
 * person_id confirms (their side: from or to), or declines (either side; the one who asked
 * declining is a cancel). RC_CONFLICT when the swap is not pending, RC_FORBIDDEN when person_id
 * is neither side. *out: the row after the change.
 */
enum rc swaps_confirm(struct db *db, int64_t id, int64_t person_id, const char *actor, int64_t now, struct swap *out);
enum rc swaps_decline(struct db *db, int64_t id, int64_t person_id, const char *actor, int64_t now, struct swap *out);

/* Marks a confirmed swap accepted with the override that carries it out (audited). */
enum rc swaps_accept(struct db *db, int64_t id, int64_t override_id, const char *actor, int64_t now);

/* Newest first: person (either side, 0: all), status (NULL: all), at most limit, id < before (0: none). */
enum rc swaps_list(struct db *db, int64_t person_id, const char *status, int limit, int64_t before, json_t **out);

#endif
