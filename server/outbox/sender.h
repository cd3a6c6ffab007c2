/*
 * server/outbox/sender.h — the engine job that sends the outbox (a row of jobs[] in server/outbox/engine.c).
 *
 * Each tick (every ENGINE_TICK_MS or when a handler wakes the engine) it:
 *   1. looks up rows left in 'sending' whose request has no recorded answer (after a crash, or
 *      when the answer was lost) and settles them with Twilio before anything is resent;
 *   2. picks due rows (pending/retry, next_at_ms <= now) by priority then age, per channel,
 *      subject to pacing per sender number (a token bucket per From and channel:
 *      PLANTAO_SMS_RATE for messages, PLANTAO_CALL_RATE for calls; 0 means no pacing) and, for
 *      class 'alert' only, to per-destination limits (PLANTAO_DEST_PER_MINUTE and
 *      PLANTAO_DEST_PER_15MIN, counted separately for texts and calls from the outbox table
 *      itself, so they survive restarts; 0 means no limit). A row held back by a destination
 *      limit gets its next_at_ms pushed; one held back by pacing simply waits for a token;
 *   3. marks each row 'sending' (tries + 1) in a committed transaction BEFORE its request, then
 *      creates it at Twilio through curl multi (up to TWILIO_MAX_PARALLEL at once);
 *   4. records each answer: messages accepted -> 'sent', calls accepted -> 'queued' (Twilio's
 *      own later statuses come through server/twilio/status.c); 429/503/network failures -> 'retry'
 *      with exponential back-off and jitter, never sooner than Retry-After; other 4xx (21211,
 *      21610, 20003 …) -> 'failed' with Twilio's code and message; no usable answer -> stays
 *      'sending' and is looked up (step 1). After PLANTAO_MAX_TRIES attempts a row is a dead
 *      letter: 'failed', error "dead letter after N tries: …", a log line and
 *      plantao_outbox_dead_letters_total.
 * A tick spends at most SENDER_BUDGET_MS driving transfers; work left over wakes the next tick.
 *
 * Crash reconciliation, and why it sends nothing twice: a row is committed as 'sending' before
 * its request leaves, and its SID is committed as soon as Twilio's answer is read. A row found
 * in 'sending' without a SID therefore had a request that either never reached Twilio or did
 * and created the resource. Which one is settled by asking Twilio, never by guessing: with a
 * SID, GET the resource; without, list Messages (or Calls) To+From, newest first, and take the
 * oldest resource not already on another row that was created around the attempt (within
 * SENDER_SKEW_S of attempt_at_ms) and, for messages, carries our body (calls: the list has no
 * TwiML URL to compare, and one destination gets at most one call attempt in such a window).
 * The look-up waits SENDER_LOOKUP_DELAY_MS after the attempt so that Twilio has finished any
 * request it received before the process died (the socket died with it, so no request can
 * arrive later) and its list endpoint shows what was just created. Found: the SID and status are recorded, nothing is
 * sent. Not found: the request never reached Twilio, so sending again is safe; it goes back to 'retry'. If Twilio
 * cannot be asked, the row stays 'sending' and is looked up again later. DateSent/StartTime
 * filters are not used: a message still queued at Twilio has no date_sent, nor a call that
 * has not started a start_time, and those are exactly the ones a crash leaves behind.
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

#define SENDER_BUDGET_MS 250
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
