/*
 * server/rotation/swap_flow.h — the "trocar turno" flow shared by the console's API
 * (server/api/api_swaps.c) and the SMS webhook (server/twilio/sms.c): asking (the row and the
 * texts that ask each side who has not confirmed yet, in one transaction), answering (confirm
 * or decline), and carrying out a swap both confirmed (the giver's time re-checked, the
 * colleague's override, the swap accepted), with a text to the other side of each answer.
 * Texts go through the outbox like every message; the replies they ask for are "ACEITO N" /
 * "RECUSO N" ("ACCEPT N" / "DECLINE N"), words no page and no shift-take uses.
 */
#ifndef PLANTAO_SWAP_FLOW_H
#define PLANTAO_SWAP_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/app.h"
#include "db/db.h"
#include "db/swaps.h"

/* Whether [start, end) is all person's on-call time, as /api/schedule computes it. */
enum rc swap_flow_is_their_time(struct db *db, int64_t person, int64_t start, int64_t end, bool *theirs);

/*
 * Records the swap in (from_person, to_person, start, end) asked by actor at now, confirmed by
 * the giver when confirmed_by_from, and queues the texts asking the colleague (and the giver,
 * when not confirmed) to answer, all in one transaction. *id: the new swap.
 */
enum rc swap_flow_ask(struct app *app, struct db *db, const struct swap *in, bool confirmed_by_from, const char *actor,
                      int64_t now, int64_t *id);

/* What swap_flow_answer did. */
struct swap_answer {
	struct swap s; /* the swap afterwards */
	bool changed;  /* false: that side had said yes already */
	bool voided;   /* both confirmed, but the time is not the giver's any more: canceled */
	char err[256]; /* why, when rc is not RC_OK */
};

/*
 * person_id answers swap id (yes: confirm; no: decline, or cancel for the giver), as actor, at
 * now. When both sides have confirmed, the override is added and the swap accepted. The other
 * side is texted the outcome. RC_NOT_FOUND; RC_FORBIDDEN (person_id is neither side);
 * RC_CONFLICT (answered or expired: out->s.status says which; or out->voided).
 */
enum rc swap_flow_answer(struct app *app, struct db *db, int64_t id, int64_t person_id, bool yes, const char *actor,
                         int64_t now, struct swap_answer *out);

#endif
