/*
 * server/rotation/handoff.h — the hand-off notice: when a shift begins, the person now on call and
 * the one leaving get an SMS (engine job, server/outbox/engine.c jobs[]).
 *
 * Once only: the job looks at the piece of the schedule running now (server/rotation/schedule.h)
 * and at the notices already made (handoff_notices, keyed by (boundary, person), in order). A
 * piece whose (start, person) was never announced gets a row and its texts (outbox keys
 * "handoff:{boundary}:{person}" and "…:{person}:off" for the one leaving) in one transaction,
 * so a restart never sends a notice twice. The one leaving is whoever was told last that they
 * were on call: replacing an override by another with the same start tells the new person and
 * the replaced one; deleting or cutting an override gives the shift back with texts "since
 * now" to both. After a downtime only the piece in force now is notified (once, late, worded
 * "since …"), never a backlog. Cuts made by a rotation edit (a piece starting at the version's
 * effective time) are not hand-offs: whoever edits the rotation knows. A boundary where the
 * same person stays on call is recorded without texts. People who texted STOP
 * (people.sms_opt_out) are skipped.
 */
#ifndef PLANTAO_HANDOFF_H
#define PLANTAO_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

struct app;
struct db;

/* How often the job looks at the schedule (it also looks when the clock jumps back). */
#define HANDOFF_CHECK_MS 1000

enum rc handoff_start(struct app *app, struct db *db, void **state);
enum rc handoff_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void handoff_stop(void *state);

/*
 * Short local time for texts, "seg 30/11 09:00" (pt-BR) or "Mon 11/30 09:00" (en), of t in
 * zone tz. Always NUL-terminates out (an ISO-like fallback when the zone fails).
 */
void handoff_when(const char *tz, bool en, int64_t t, char *out, size_t len);

#endif
