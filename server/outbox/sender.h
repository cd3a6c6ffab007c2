/*
 * server/outbox/sender.h — the engine job that sends the outbox (a row of jobs[] in server/outbox/engine.c).
 *
 * Each tick (every ENGINE_TICK_MS or when a handler wakes the engine) it:
 *   1. looks up rows left in 'sending' whose request has no recorded answer (after a crash, or
 *      when the answer was lost) and settles them with Twilio before anything is resent;
 *   2. ends, through the REST API, calls whose alert was acknowledged or resolved while they
 *      were queued or ringing (outbox_cancel_pages, POST Calls/{sid}.json Status=completed);
 *   3. picks due rows (pending/retry, next_at_ms <= now) in strict order — pages (critical
 *      alerts' first), then acknowledgment/resolve notices, the support line's texts, hand-off
 *      and sales notices (outbox_due) — per channel, subject to pacing per sender number (a
 *      token bucket per From and channel: PLANTAO_SMS_RATE for messages, PLANTAO_CALL_RATE for
 *      calls; 0 means no pacing) and, for class 'alert' only, to per-destination limits
 *      (PLANTAO_DEST_PER_MINUTE and PLANTAO_DEST_PER_15MIN, counted separately for texts and
 *      calls from the outbox table itself over pages only, so notices never use up what pages
 *      need, and they survive restarts; 0 means no limit; for page texts the per-minute limit
 *      is one text per SENDER_PAGE_TEXT_GAP_MS, the waiting text gathering the alerts that
 *      arrive meanwhile). A row held back by a destination
 *      limit gets its next_at_ms pushed; one held back by pacing simply waits for a token;
 *   4. marks each row 'sending' (tries + 1) in a committed transaction BEFORE its request, then
 *      creates it at Twilio through curl multi (up to TWILIO_MAX_PARALLEL at once). A page is
 *      re-checked in that same transaction: one whose alert was acknowledged or resolved is
 *      cancelled instead (its call attempt ends as canceled);
 *   5. records each answer: messages accepted -> 'sent', calls accepted -> 'queued' (Twilio's
 *      own later statuses come through server/twilio/status.c), with accepted_at_ms; a call
 *      accepted for an alert closed meanwhile is ended (step 2). 429/503/network failures ->
 *      'retry' with exponential back-off and jitter, never sooner than Retry-After; other 4xx
 *      (21211, 21610 …) -> 'failed' with Twilio's code and message; no usable answer -> stays
 *      'sending' and is looked up (step 1). After PLANTAO_MAX_TRIES attempts a notice is a
 *      dead letter: 'failed', error "dead letter after N tries: …", a log line and
 *      plantao_outbox_dead_letters_total. A page is never dead-lettered while its alert is
 *      open: network failures, 429/5xx and wrong credentials (20003/20005) are retried, at
 *      most SENDER_PAGE_BACKOFF_MAX_MS apart, until it goes out or its alert is acknowledged
 *      or resolved (then it is cancelled).
 * Every answer other than a success counts in plantao_twilio_errors_total{code} (a fixed table
 * of codes, "network", "other") and the latest of each kind is kept in table twilio_results
 * for /healthz (outbox_twilio_note).
 * A tick spends at most SENDER_BUDGET_MS driving transfers; work left over wakes the next tick.
 *
 * Crash reconciliation, and why it sends nothing twice: a row is committed as 'sending' before
 * its request leaves, and its SID is committed as soon as Twilio's answer is read. A row found
 * in 'sending' without a SID therefore had a request that either never reached Twilio or did
 * and created the resource. Which one is settled by asking Twilio, never by guessing, and never
 * before the request's own deadline: SENDER_LOOKUP_DELAY_MS after the attempt (the create's
 * client timeout plus a margin), Twilio has finished with any request it received, even a slow
 * one whose client died. With a SID: GET the resource. Without: every look-alike row (same
 * kind, To and From, 'sending' without a SID, attempted within 2 × SENDER_SKEW_S) is settled
 * by one rule, and only when none of them can still be answered (all past their deadline, none
 * in flight): list Messages (or Calls) To+From, newest first; keep the resources created around
 * the attempts (SENDER_SKEW_S) that no row carries (a SID already on a row is never matched)
 * and, for messages, that carry the row's body; the oldest row takes the oldest resource.
 * Fewer resources than rows: interchangeable rows (same body, same call URL) take what there
 * is in order and the rest were never created; rows that are not (calls of different alerts —
 * the list has no TwiML URL to compare) cannot be told apart and become 'undecided', with a
 * log line at error level and plantao_outbox_undecided_total, rather than a guess. Found: the
 * SID and status are recorded, nothing is sent. Not found: the request never reached Twilio,
 * so sending again is safe (a page whose alert was closed meanwhile is cancelled instead). If
 * Twilio cannot be asked, the row stays 'sending' and is looked up again later.
 * DateSent/StartTime filters are not used: a message still queued at Twilio has no date_sent,
 * nor a call that has not started a start_time, and those are exactly the ones a crash leaves
 * behind.
 *
 * Calls whose status has not moved for SENDER_CALL_REFRESH_S (their callbacks may have been lost
 * while plantao was down) are fetched from Twilio and their status applied like a callback's,
 * so the alert pager and the call's duration still learn how they ended.
 *
 * Demo mode (no Twilio credentials): nothing is sent, rows stay 'pending', one log line says why.
 */
#ifndef PLANTAO_SENDER_H
#define PLANTAO_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"
#include "twilio/twilio.h"

struct app;
struct db;

/* Page texts to one phone: at most one per this gap when PLANTAO_DEST_PER_MINUTE is on (see
 * dest_hold() in sender.c); alerts arriving meanwhile join the waiting text. */
#define SENDER_PAGE_TEXT_GAP_MS 10000
#define SENDER_BUDGET_MS        250
/* Past the create request's own deadline (its client timeout) plus a margin: a row 'sending'
 * this long after its attempt without an answer is looked up, never sooner. */
#define SENDER_LOOKUP_MARGIN_MS    2000
#define SENDER_LOOKUP_DELAY_MS     (TWILIO_CREATE_TIMEOUT_MS + SENDER_LOOKUP_MARGIN_MS)
#define SENDER_LOOKUP_RETRY_MS     10000 /* Twilio could not be asked: ask again after this */
#define SENDER_LOOKUP_PER_TICK     8
#define SENDER_LOOKUP_PAGES        10  /* list pages read per look-up */
#define SENDER_CALL_REFRESH_S      120 /* a live call row silent this long is fetched */
#define SENDER_SKEW_S              300 /* clock difference tolerated between us and Twilio */
#define SENDER_BACKOFF_BASE_MS     1000
#define SENDER_BACKOFF_MAX_MS      (15 * 60 * 1000)
#define SENDER_PAGE_BACKOFF_MAX_MS (60 * 1000)      /* a page waits at most this long between two tries */
#define SENDER_HANGUP_RETRY_MS     5000             /* a call that could not be ended is tried again after this */
#define SENDER_SIBLINGS_MAX        32               /* look-alike rows settled together by one look-up */
#define SENDER_EARLY_KEEP_MS       (60 * 60 * 1000) /* early status callbacks kept this long */

/*
 * Delay before attempt tries + 1, after tries failed attempts (tries >= 1): exponential
 * (SENDER_BACKOFF_BASE_MS doubling, capped at SENDER_BACKOFF_MAX_MS) with "equal jitter" (a
 * uniform point in the upper half, drawn from rnd), and never below retry_after_s seconds
 * (-1: no Retry-After). Pure.
 */
int64_t sender_backoff_ms(int tries, int retry_after_s, uint32_t rnd);

/* A token bucket pacing one sender: rate tokens a second, holding at most max(1, rate). */
struct sender_bucket {
	double tokens;
	int64_t last_ms; /* 0: new (full) */
};

/*
 * Refills b up to now_ms and reports whether a token is there (rate <= 0: always, no pacing).
 * Taking it is sender_bucket_take(); a clock that moved backwards refills nothing.
 */
bool sender_bucket_ready(struct sender_bucket *b, double rate, int64_t now_ms);
void sender_bucket_take(struct sender_bucket *b, double rate);

/* The engine job. */
enum rc sender_start(struct app *app, struct db *db, void **state);
enum rc sender_run(struct app *app, struct db *db, void *state, int64_t now_ms);
/* Waits briefly for requests in flight to be answered and recorded, then frees the state. */
void sender_stop(void *state);

#endif
