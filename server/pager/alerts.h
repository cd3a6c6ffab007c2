/*
 * server/pager/alerts.h — the alert pager: intake, escalation, acknowledgment.
 * Other modules reach alerts only through these functions:
 *   - the IMAP poller and the API create alerts with alerts_trigger();
 *   - the call status callback (server/twilio/status.c) reports outbound alert calls;
 *   - the SMS webhook (server/twilio/sms.c) hands text commands to alerts_sms_command() first.
 */
#ifndef PLANTAO_ALERTS_H
#define PLANTAO_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/rc.h"

struct app;
struct db;

struct alert_input {
	const char *summary;   /* required, one line */
	const char *details;   /* may be NULL */
	const char *severity;  /* may be NULL ("critical", "warning", …) */
	const char *source;    /* may be NULL ("alertmanager", "imap", "api", …) */
	const char *dedup_key; /* may be NULL: an open alert with this key absorbs the trigger */
};

/*
 * Creates an alert (or folds the trigger into the open alert with the same dedup_key) in one
 * transaction and wakes the engine, which pages. *id gets the alert id; *deduped (may be
 * NULL) tells whether an open alert absorbed it. RC_UNPROCESSABLE without a summary.
 */
enum rc alerts_trigger(struct app *app, struct db *db, const struct alert_input *in, int64_t *id, bool *deduped);

/*
 * Status callback of an outbound call owned by call attempt attempt_id, called inside the
 * callback's transaction: call_status is Twilio's CallStatus, answered_by its AnsweredBy
 * (NULL when absent). Moves the escalation on when the call ended without an acknowledgment.
 */
enum rc alerts_call_status(struct app *app, struct db *db, int64_t attempt_id, const char *call_status,
                           const char *answered_by);

/*
 * An SMS from person_id (0 when the number is unknown) with text. If it is an alert command
 * (ack N, ok N, resolver N; a bare ack or ok takes every open alert paged to that person, …) it is
 * carried out and *handled is set, with the reply
 * text appended to reply; otherwise nothing changes and *handled is false.
 */
enum rc alerts_sms_command(struct app *app, struct db *db, int64_t person_id, const char *text, struct buf *reply,
                           bool *handled);

/* ---- used by the alert API, the alert calls and webhooks that carry several alerts ---- */

/* alerts_trigger inside the caller's transaction (no commit, no wake-up). */
enum rc alerts_trigger_tx(struct db *db, const struct alert_input *in, int64_t now, int64_t *id, bool *deduped);

/*
 * Acknowledges alert id (triggered or exhausted) for person_id (0: nobody in particular) via
 * "call", "sms" or "api", inside the caller's transaction: calls not placed yet are cancelled
 * and everyone texted is told who took it. *changed (may be NULL) is false when it was
 * acknowledged already (nothing changes). RC_NOT_FOUND: no such alert; RC_CONFLICT: resolved.
 */
enum rc alerts_ack_tx(struct app *app, struct db *db, int64_t id, int64_t person_id, const char *via, int64_t now,
                      bool *changed);
/*
 * Resolves alert id inside the caller's transaction: calls not placed yet are cancelled and
 * everyone texted is told. *changed (may be NULL) is false when it was resolved already.
 * RC_NOT_FOUND: no such alert.
 */
enum rc alerts_resolve_tx(struct app *app, struct db *db, int64_t id, const char *via, int64_t now, bool *changed);

/* What plantao_alerts_total{event=...} counts; call after the change committed. */
enum alerts_event { ALERTS_TRIGGERED, ALERTS_DEDUPED, ALERTS_ACKNOWLEDGED, ALERTS_RESOLVED };
void alerts_count(struct app *app, enum alerts_event e);

/* alerts_ack_tx / alerts_resolve_tx in their own transaction, waking the engine after. */
enum rc alerts_ack(struct app *app, struct db *db, int64_t id, int64_t person_id, const char *via, bool *changed);
enum rc alerts_resolve(struct app *app, struct db *db, int64_t id, const char *via, bool *changed);

/*
 * The API's and the console's acknowledgment (ack) or resolve of alert id, by actor ("person:3
 * Ana", "token:ops"), for person_id (0: nobody named; an ack is theirs, a resolve only names
 * them in the audit), via "api", in its own transaction with the audit row ("alert.ack" or
 * "alert.resolve": via, before, after, person_id) and the engine woken when it changed.
 * RC_NOT_FOUND: no such alert; RC_CONFLICT: acknowledging a resolved alert.
 */
enum rc alerts_close_as(struct app *app, struct db *db, int64_t id, int64_t person_id, bool ack, const char *actor,
                        bool *changed);

#endif
