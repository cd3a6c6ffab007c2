/*
 * server/pager/escalation.h — the escalation of an alert: who gets texted, who is called at each
 * step of each round, when the chain moves on (the policy's API is server/api/api_escalation.c).
 *
 * State lives only in rows (alerts.step/round/step_deadline, call_attempts, outbox), so every
 * function here can be re-run after a crash: a step's attempt is UNIQUE(alert_id, round,
 * step) and its call's idempotency key is "attempt:{id}:call", so nobody is called twice for
 * the same step. Moving on is compare-and-set: escalation_move_on() only acts when the alert
 * is still at the step the caller saw, so a status callback and the engine's timeout racing
 * for the same step move the chain once.
 *
 * Bundles: an attempt either queues its own call or joins the call its person already has
 * waiting or ringing (call_attempts.outbox_id is then another attempt's row; the row's owner
 * stays the attempt that queued it). A call is "wanted" while one attempt on it has not ended
 * and its alert is triggered (alerts_call_wanted): anything that cancels or hangs up a call
 * because one alert was taken must ask that first. Its end moves every alert on it on.
 * Page texts are listed in page_texts: one waiting text per person takes new alerts in.
 *
 * The engine job escalation_run() runs before the outbox sender in each tick: it starts new
 * alerts (texts, then the first call) and moves on alerts whose step deadline passed, a few
 * alerts per short transaction, each alert in a savepoint of its own.
 */
#ifndef PLANTAO_ESCALATION_H
#define PLANTAO_ESCALATION_H

#include <stdint.h>

#include "http/http.h"
#include "core/rc.h"

struct app;
struct db;

/* Seconds a call may take beyond its ring timeout: the message said twice and the keypad wait. */
#define ESCALATION_CALL_ALLOWANCE_S 60
/* Alerts the engine handles per tick before it yields to the sender (it asks for a new tick). */
#define ESCALATION_BATCH 128
/* Alerts handled per transaction (each in its own savepoint): short, and few lock round trips. */
#define ESCALATION_PER_TXN 16

/* Milliseconds between two sweeps for stalled chains (alerts_stalled). */
#define ESCALATION_SWEEP_MS 5000
/* Longest page text (bytes; Twilio takes up to 1600 characters). */
#define ESCALATION_TEXT_MAX 1400
/* Seconds between two looks at a step whose call Twilio has not accepted yet (its deadline is
 * then set from the acceptance). */
#define ESCALATION_ACCEPT_POLL_S 5
/* Seconds between two looks for somebody to page, for an alert nobody could be paged for. */
#define ESCALATION_RECHECK_S 60
/* Why an info alert pages nobody. */
#define ESCALATION_REASON_INFO "severity info: recorded, nobody paged"

/* Engine job (server/outbox/engine.c jobs[]): starts new alerts, moves on timed-out steps, and every
 * ESCALATION_SWEEP_MS moves on chains whose call died. state: from escalation_start. */
enum rc escalation_start(struct app *app, struct db *db, void **state);
enum rc escalation_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void escalation_stop(void *state);

/*
 * Inside the caller's transaction: brings alert id up to date at `now` — starts it (texts and
 * the first call) if it is new, moves on if its step deadline passed or its current call is
 * over. Does nothing to an alert that is not triggered.
 */
enum rc escalation_tick(struct app *app, struct db *db, int64_t id, int64_t now);

/*
 * Inside the caller's transaction: the current step of alert id ended without an
 * acknowledgment. If the alert is still triggered and at (round, step), the next step's call is
 * queued (or the alert becomes exhausted after the last round, with a last text to everyone
 * texted). Otherwise nothing happens (the chain has moved already).
 */
enum rc escalation_move_on(struct app *app, struct db *db, int64_t id, int round, int step, int64_t now);

/*
 * Inside the caller's transaction: the alert call outbox_id is over for every alert it carried
 * that had not ended (outcome: "pass", "machine", …, kept where one is recorded already); each
 * alert still at that call's step moves on.
 */
enum rc escalation_call_ended(struct app *app, struct db *db, int64_t outbox_id, const char *outcome, int64_t now);

/*
 * Whether a new alert of this severity (NULL: none, which pages as critical) would page
 * somebody now under the escalation policy and the rotation: *reason is NULL when it would,
 * else a static English text ("nobody is on call", ESCALATION_REASON_INFO, …). Read-only,
 * inside or outside a transaction; for POST /api/alerts to answer "paged": false. It counts
 * nothing: the engine counts plantao_pages_unpaged_total once per alert when it marks the
 * alert unpaged (alerts.unpaged_reason, shown by the alert API and the console), and keeps
 * looking for somebody every ESCALATION_RECHECK_S; such an alert is not exhausted.
 */
enum rc escalation_would_page(struct db *db, const char *severity, int64_t now, const char **reason);

/*
 * Inside the caller's transaction: queues body as a text (class "ack") to everyone the page of
 * alert id was texted to, except SMS to people who have opted out since; tag makes the
 * idempotency keys ("alert:{id}:{tag}:{kind}:{to}").
 */
enum rc escalation_notify(struct app *app, struct db *db, int64_t id, const char *tag, const char *body);

#endif
