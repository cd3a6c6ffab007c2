/*
 * db/outbox.h — the outbox table: every SMS, WhatsApp message and call plantao makes.
 * Handlers and engine jobs only insert rows (outbox_enqueue) inside their own transaction;
 * the engine's sender (server/outbox/sender.c) sends them with the statements below, and the status
 * callbacks (server/twilio/status.c) move them on. The idempotency key makes an insert happen once:
 * enqueueing a key that exists already is a no-op that returns the existing row id.
 *
 * Row life (status column): pending -> sending -> sent (messages accepted by Twilio) or queued
 * (calls accepted) -> Twilio's later statuses; sending -> retry -> sending … on 429/5xx/network
 * errors; failed on a permanent error or, for notices, after cfg max_tries ("dead letter after
 * N tries"); canceled for a page whose alert was acknowledged or resolved before Twilio
 * accepted it; undecided for a row whose look-up after a crash cannot tell it from look-alikes.
 * A row is 'sending' from just before its request until the answer is recorded; a row found
 * in 'sending' later (crash, lost answer) is reconciled with Twilio before anything is resent.
 */
#ifndef PLANTAO_OUTBOX_H
#define PLANTAO_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* OUTBOX_EMAIL rows (db/mail.h) are sent by server/outbox/mailer.c, never by the Twilio sender. */
enum outbox_kind { OUTBOX_SMS, OUTBOX_WHATSAPP, OUTBOX_CALL, OUTBOX_EMAIL };

/* Send order: lower first. */
enum outbox_priority { OUTBOX_PRIO_ALERT = 0, OUTBOX_PRIO_SUPPORT = 1, OUTBOX_PRIO_SALES = 2 };

struct outbox_msg {
	enum outbox_kind kind;
	const char *class_; /* "alert" (rate-limited per destination), "ack" (exempt), "support",
	                     * "handoff", "sales", "reply" */
	enum outbox_priority priority;
	const char *to;         /* E.164 (the "whatsapp:" prefix is added when sending) */
	const char *body;       /* messages */
	const char *url;        /* calls: absolute TwiML URL */
	bool machine_detection; /* calls */
	int ring_timeout_s;     /* calls: seconds to ring (Twilio's Timeout); 0: PLANTAO_DIAL_TIMEOUT */
	const char *idem_key;   /* unique per intended send, e.g. "alert:12:sms:+5511…" */
	const char *owner_type; /* "call_attempt", "alert", "voicemail", "sales", "handoff", … */
	int64_t owner_id;
	int64_t not_before_ms; /* 0: now */
};

/*
 * Inserts m as pending; *id (may be NULL) gets the row id (new or existing for the same key).
 * SMS rows get their encoding and number of parts (server/twilio/sms_cost.h) on insert.
 */
enum rc outbox_enqueue(struct db *db, const struct outbox_msg *m, int64_t *id);

/* ---- the sending side (engine thread) ---- */

#define OUTBOX_TEXT_MAX 64

/* One row as the engine sees it. Storage is the caller's; release with outbox_row_release(). */
struct outbox_row {
	int64_t id;
	enum outbox_kind kind;
	char class_[OUTBOX_TEXT_MAX];
	int priority;
	char to[OUTBOX_TEXT_MAX];
	char from[OUTBOX_TEXT_MAX]; /* "" until the row was first sent */
	char *body;                 /* owned, NULL for calls */
	char *url;                  /* owned, NULL for messages */
	bool machine_detection;
	char status[OUTBOX_TEXT_MAX];
	int tries;
	int64_t next_at_ms;
	int64_t attempt_at_ms;     /* 0: never attempted */
	char sid[OUTBOX_TEXT_MAX]; /* "" when unknown */
	int status_seq;
	char owner_type[OUTBOX_TEXT_MAX];
	int64_t owner_id;
	int segments; /* SMS parts, 0 unknown */
	char encoding[16];
	int ring_timeout_s;          /* calls: 0 = PLANTAO_DIAL_TIMEOUT */
	int64_t accepted_at_ms;      /* when Twilio accepted it (plantao's clock), 0: not (yet) */
	int64_t cancel_requested_ms; /* its alert was acknowledged/resolved while it was being sent, 0: not */
	int send_rank;               /* outbox_due() only: lower goes first (see there), then priority, id */
};

void outbox_row_release(struct outbox_row *r);
/* Releases rows[0..n). */
void outbox_rows_release(struct outbox_row *rows, size_t n);

/*
 * Due rows of one kind (status pending or retry, next_at_ms <= now_ms) in strict order: pages
 * (class 'alert', those of critical alerts first), acknowledgment/resolve notices ('ack'), the
 * support line's texts, hand-off notices, sales notices; then priority and age (each row's
 * place in that order is its send_rank). At most max of them into rows; *n gets the count.
 * Release each with outbox_row_release().
 */
enum rc outbox_due(struct db *db, enum outbox_kind kind, int64_t now_ms, size_t max, struct outbox_row *rows,
                   size_t *n);

/*
 * Whether outbox_due locks the rows it returns (PostgreSQL: FOR UPDATE SKIP LOCKED, so two
 * instances never pick the same due row): then call it inside the transaction that claims
 * them. On SQLite it does not (the single writer makes claims exclusive) and may run before.
 */
bool outbox_due_locks(struct db *db);

/*
 * Whether any text, WhatsApp message or call is due (status pending or retry, next_at_ms <=
 * now_ms): one read, no lock and no transaction. The sender asks it before opening the claim
 * transaction that outbox_due_locks needs, so an idle tick on PostgreSQL opens none.
 */
enum rc outbox_any_due(struct db *db, int64_t now_ms, bool *any);

/*
 * Leases (several instances on PostgreSQL). A claim (outbox_mark_sending) records this
 * instance (db/instance.h) and a lease of OUTBOX_LEASE_MS; the holder renews the leases of its
 * rows being sent (outbox_lease_renew) once less than OUTBOX_LEASE_RENEW_MS is left, so a live
 * instance's send is never looked up by another one; only when a lease has expired (its holder
 * died, or lost the database for that long) does another instance take the row over and
 * reconcile it (outbox_stuck) with the same exactly-once rules as after a restart. So a dead
 * instance's row is looked up at most OUTBOX_LEASE_MS (of plantao's clock) after its death, and
 * not before its own look-up time (next_at_ms). On SQLite the lease is recorded but not
 * enforced: one instance per file.
 */
#define OUTBOX_LEASE_MS       20000
#define OUTBOX_LEASE_RENEW_MS 15000

/* Renews this instance's leases that have less than OUTBOX_LEASE_RENEW_MS left (a read when
 * none has); *renewed (may be NULL) gets how many. No-op on SQLite. The engine calls it each
 * tick. */
enum rc outbox_lease_renew(struct db *db, int64_t now_ms, int *renewed);

/*
 * On PostgreSQL: rows being sent (up to max) whose look-up time has come (next_at_ms <= now_ms)
 * and whose holder's lease expired become this instance's, with a fresh lease (a warning says
 * how many); email: e-mails (for mail_stuck, db/mail.h), else Twilio's kinds (outbox_stuck).
 * Only a read when there is none.
 */
enum rc outbox_adopt_expired(struct db *db, int64_t now_ms, size_t max, bool email);

/*
 * Rows left in 'sending' whose look-up time has come (next_at_ms <= now_ms), oldest first: the
 * crash-recovery and lost-answer cases (Twilio's kinds only: e-mails are db/mail.h's mail_stuck).
 * Same ownership as outbox_due(). On PostgreSQL only this instance's rows: rows whose holder's
 * lease expired are first taken over (logged as a warning); those of live instances are left
 * to them.
 */
enum rc outbox_stuck(struct db *db, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n);

/*
 * Calls Twilio accepted whose status has not moved since before updated_before (Unix seconds)
 * and is not final: their callbacks may have been lost while plantao was down. Oldest first.
 */
enum rc outbox_stale_calls(struct db *db, int64_t updated_before, size_t max, struct outbox_row *rows, size_t *n);

/*
 * Claims a due row for sending: status 'sending', tries + 1, from_number = from, attempt_at_ms
 * = now_ms, next_at_ms = lookup_at_ms (when to reconcile if no answer is ever recorded),
 * claimed_by = this instance, lease_until_ms = now_ms + OUTBOX_LEASE_MS.
 * RC_CONFLICT when the row is no longer pending/retry. Commit before making the request.
 */
enum rc outbox_mark_sending(struct db *db, int64_t id, const char *from, int64_t now_ms, int64_t lookup_at_ms);
/* outbox_mark_sending() that also records an SMS's cost (encoding, segments) when the row has
 * none yet (encoding NULL: nothing to record), in the same single UPDATE. */
enum rc outbox_claim(struct db *db, int64_t id, const char *from, int64_t now_ms, int64_t lookup_at_ms,
                     const char *encoding, int segments);

/* Records the SMS encoding and parts of row id when it has none yet (rows not queued by outbox_enqueue). */
enum rc outbox_set_cost(struct db *db, int64_t id, const char *encoding, int segments);

/* Twilio accepted the row: sid and status recorded, error cleared, sent_at set. RC_CONFLICT
 * when the row is not 'sending' any more or sid is on another row already. */
enum rc outbox_mark_sent(struct db *db, int64_t id, const char *sid, const char *status, int64_t now_ms);

/* Back to 'retry' from 'sending', not before next_at_ms, keeping the last error (code 0: none). */
enum rc outbox_mark_retry(struct db *db, int64_t id, int64_t next_at_ms, int error_code, const char *message,
                          int64_t now_ms);

/* Final failure of a row that Twilio never accepted (code 0: none). */
enum rc outbox_mark_failed(struct db *db, int64_t id, int error_code, const char *message, int64_t now_ms);

/* The outcome of the last request is unknown: the row stays 'sending' and is looked up at lookup_at_ms. */
enum rc outbox_mark_unknown(struct db *db, int64_t id, int64_t lookup_at_ms, const char *message, int64_t now_ms);

/* A due row that may not go yet (per-destination limit): next_at_ms pushed, nothing else changes. */
enum rc outbox_defer(struct db *db, int64_t id, int64_t next_at_ms);

/*
 * Recent alert rows to one phone that count against its limits: class 'alert', calls when
 * calls is true else messages, attempted at or after since_ms and accepted by Twilio or still
 * being sent. *count gets how many, *oldest_ms the earliest attempt among them (0 if none).
 */
enum rc outbox_dest_recent(struct db *db, const char *to, bool calls, int64_t since_ms, int64_t *count,
                           int64_t *oldest_ms);

/*
 * When Twilio accepted row id (a call's create answered with a SID, or the row found at Twilio
 * by crash reconciliation), in ms of plantao's clock: *accepted_at_ms, 0 while it has not been
 * accepted (pending, retry, sending, failed, canceled). RC_NOT_FOUND: no such row. The
 * escalation engine starts a step's deadline from a call's accepted_at_ms (column
 * outbox.accepted_at_ms, usable in a join from call_attempts.outbox_id as well).
 */
enum rc outbox_accepted_at(struct db *db, int64_t id, int64_t *accepted_at_ms);

/* True when some row carries sid already. */
enum rc outbox_sid_known(struct db *db, const char *sid, bool *known);

/* The row carrying sid: RC_NOT_FOUND when none. */
enum rc outbox_by_sid(struct db *db, const char *sid, struct outbox_row *row);

/*
 * Moves row id to Twilio status (already checked to be a step forward): status_seq = seq when
 * seq >= 0, error_code when > 0, duration_s when >= 0.
 */
enum rc outbox_set_status(struct db *db, int64_t id, const char *status, int seq, int error_code, int duration_s,
                          int64_t now_ms);

/* ---- pages of closed alerts, hang-ups, undecided rows (issue 11) ---- */

/* Row id (any status); RC_NOT_FOUND when there is none. Release with outbox_row_release(). */
enum rc outbox_get(struct db *db, int64_t id, struct outbox_row *row);

/*
 * Whether row id is a page (class 'alert') and, if so, whether it may still go out: its alert
 * (its own for texts, its call attempt's for calls) is neither acknowledged nor resolved (an
 * exhausted alert is still open) and no cancel was requested while it was being sent. Rows
 * that are not pages are always live. Meant to be
 * read inside the transaction that claims or settles the row.
 */
enum rc outbox_page_is_live(struct db *db, int64_t id, bool *page, bool *live);

/* pending/retry/sending -> 'canceled' with message; RC_CONFLICT when it was in another state. */
enum rc outbox_mark_canceled(struct db *db, int64_t id, const char *message, int64_t now_ms);

struct outbox_cancel_count {
	int canceled;  /* pending or retry: canceled now */
	int in_flight; /* being sent: never resent; a call that turns out to exist is ended */
	int hangups;   /* calls Twilio has and that have not ended: queued to be ended */
};

/*
 * Inside the caller's transaction, when alert alert_id is acknowledged or resolved: every page
 * of it that Twilio has not accepted is cancelled whatever its state (pending and retry rows
 * now; rows being sent get cancel_requested_ms, and the sender cancels them or ends the call
 * once their outcome is known), and its calls that Twilio has and that are still queued,
 * ringing or in progress are queued to be ended through the REST API (the engine's sender
 * does it) — except those of spare_person_id's attempts (0: none), the person who
 * acknowledged on that very call.
 */
enum rc outbox_cancel_pages(struct db *db, int64_t alert_id, int64_t spare_person_id, int64_t now_ms,
                            struct outbox_cancel_count *n);

/* A call row with a SID to be ended through the REST API from now_ms (no-op when asked already). */
enum rc outbox_request_hangup(struct db *db, int64_t id, int64_t now_ms);

/* Calls whose ending is due (hangup_at_ms <= now_ms), oldest first. Same ownership as outbox_due(). */
enum rc outbox_hangups_due(struct db *db, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n);

/* Records a hang-up's result ("done", "not needed", "failed: …"); next_at_ms > 0 tries again then. */
enum rc outbox_hangup_result(struct db *db, int64_t id, int64_t next_at_ms, const char *result);

/*
 * A row whose outcome cannot be decided after its deadline (look-alike requests outnumber what
 * Twilio has): 'sending' -> 'undecided' with message, reported rather than guessed.
 */
enum rc outbox_mark_undecided(struct db *db, int64_t id, const char *message, int64_t now_ms);

/*
 * Rows that look like r for Twilio's list (status 'sending', or 'undecided' already, without a
 * SID, same kind, To and From) attempted within window_ms of r's attempt, r included, in
 * attempt order. Same
 * ownership as outbox_due().
 */
enum rc outbox_siblings(struct db *db, const struct outbox_row *r, int64_t window_ms, size_t max,
                        struct outbox_row *rows, size_t *n);

/* ---- the last thing Twilio's REST API said to the sender (for /healthz) ---- */

/*
 * Keeps, in table twilio_results, the latest result of one kind: "ok" (a create accepted),
 * "error" (any other refusal or 5xx), "auth" (20003/20005 or HTTP 401: wrong or inactive
 * credentials), "network" (Twilio not reached). /healthz reads them (db/health.c): a kind newer
 * than the last "ok" means pages are not going out.
 */
enum rc outbox_twilio_note(struct db *db, const char *kind, int64_t at_ms, long http_status, int error_code,
                           const char *message);

/*
 * Records a status callback for row id as received (outbox.twilio_status, raw, whatever its
 * place in the order), and error_words (NULL: keep what is there) as the row's error message.
 * In the caller's transaction.
 */
enum rc outbox_note_callback(struct db *db, int64_t id, const char *raw_status, const char *error_words,
                             int64_t now_ms);

/*
 * The alerts text row id carries (page_texts: a page, bundled or not), oldest first, at most
 * max: fn(ctx, alert id, summary) for each (summary borrowed for the call). None for notices.
 */
enum rc outbox_row_alerts(struct db *db, int64_t id, int max,
                          void (*fn)(void *ctx, int64_t alert_id, const char *summary), void *ctx);

/* ---- status callbacks that arrived before their SID was recorded ---- */

struct outbox_early {
	char sid[OUTBOX_TEXT_MAX];
	char status[OUTBOX_TEXT_MAX];
	int seq;
	int error_code;
	int duration_s;
	char answered_by[OUTBOX_TEXT_MAX];
};

#define OUTBOX_EARLY_MAX 10000 /* rows kept at most; more callbacks for unknown SIDs are dropped */

/* Keeps e until its SID is recorded; a no-op past OUTBOX_EARLY_MAX rows (logged). */
enum rc outbox_early_add(struct db *db, const struct outbox_early *e, int64_t now_ms);
/* Removes the early callbacks of sid and hands each to fn in arrival order. */
/* Whether status callbacks for sid wait in outbox_early_status (outbox_early_take would take some). */
enum rc outbox_early_any(struct db *db, const char *sid, bool *any);
enum rc outbox_early_take(struct db *db, const char *sid, enum rc (*fn)(void *ctx, const struct outbox_early *e),
                          void *ctx);
/* Deletes early callbacks received before before_ms. */
enum rc outbox_early_prune(struct db *db, int64_t before_ms);

/* ---- reading (API) ---- */

/*
 * Rows for GET /api/outbox, newest first: status NULL for all, "dead" for dead letters, else
 * that status; before_id > 0 pages (rows with a smaller id). *out: a new JSON array.
 */
enum rc outbox_list_json(struct db *db, const char *status, int64_t before_id, int limit, json_t **out);

/* Counts by status for /metrics: calls fn(ctx, status, count) for each status present. */
enum rc outbox_depth(struct db *db, void (*fn)(void *ctx, const char *status, int64_t n), void *ctx);

#endif
