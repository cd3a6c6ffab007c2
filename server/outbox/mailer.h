/*
 * server/outbox/mailer.h — the e-mail channel: a thread of its own (a slow or dead SMTP server
 * never delays a text or a call) with its own database connection, started and stopped with the
 * outbox sender (server/outbox/sender.c) when PLANTAO_SMTP_URL is set. Each turn (every
 * MAILER_TICK_MS):
 *   1. follows the texts: for each page text to a person with an e-mail and email_pages, the
 *      alerts it lists that were not e-mailed to that person yet go in one e-mail; each
 *      voicemail notice goes by e-mail too, with the recording link and the transcription
 *      (waiting up to MAILER_TRANSCRIPTION_WAIT_S for it when one was asked for). What was
 *      followed is marked on the rows (db/mail.h, "Following the texts"): each text's
 *      unfollowed alerts are claimed (PostgreSQL: FOR UPDATE SKIP LOCKED), e-mailed and marked
 *      in one transaction, so with several instances each text is followed once, and a text
 *      committed late (ids of concurrent transactions commit out of order) is followed too.
 *      The e-mail is an outbox row of kind 'email' whose body is the whole message
 *      (server/mail/compose.h), Message-ID included, committed before any send;
 *   1b. once a month is over (PLANTAO_TZ) and figures for it exist, e-mails each sales manager
 *      (a phone in the sales settings' notify list) who has an e-mail that month's summary:
 *      sellers above and below the goal with their totals, once per month and person;
 *   2. settles e-mails left 'sending' past their deadline (a crash, kill -9; with several
 *      instances only once the lease of the instance that claimed it expired): one whose end was
 *      never about to be written (no data_at_ms) is sent again, it never reached the server;
 *      one whose end may have been written is 'undecided' and is NOT sent again, logged at
 *      error level with its Message-ID (smtp.h says why that case is unknown);
 *   3. sends the e-mails due, oldest pages first, one at a time (server/outbox/smtp.h): claimed
 *      'sending' in a committed transaction first; accepted -> 'sent' with the Message-ID as its
 *      sid; nothing reached the server -> 'retry' with the sender's back-off (pages at most
 *      SENDER_PAGE_BACKOFF_MAX_MS apart, never dead-lettered while their alert is open; others
 *      dead letters after PLANTAO_MAX_TRIES); 5xx -> 'failed'; unknown -> 'undecided'. A page
 *      whose alerts were all acknowledged or resolved first is cancelled instead.
 * A row another instance moved meanwhile (RC_CONFLICT) is passed over; the turn goes on.
 * Every failure is a warning (an error for credentials, TLS and undecided e-mails) naming the
 * row and the reason, and counts in plantao_smtp_errors_total{reason}.
 */
#ifndef PLANTAO_MAILER_H
#define PLANTAO_MAILER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/app.h"
#include "db/db.h"
#include "outbox/smtp.h"

#define MAILER_TICK_MS              500
#define MAILER_LOOKUP_MS            ((SMTP_TIMEOUT_S + 30) * 1000) /* a 'sending' row older than this is stuck */
#define MAILER_SOURCES_MAX          64
#define MAILER_SEND_PER_TURN        8
#define MAILER_FOLLOW_MAX_AGE_S     (24 * 3600) /* an unfollowed text older than this gets no e-mail */
#define MAILER_SALES_EVERY_MS       (60 * 1000) /* how often a due monthly sales summary is looked for */
#define MAILER_SALES_LINES          200         /* sellers listed per group in a summary */
#define MAILER_TRANSCRIPTION_WAIT_S 120         /* a voicemail's e-mail waits this long for its transcription */

struct mailer;

/* Starts the mailer thread when e-mail is configured (*out NULL otherwise). */
enum rc mailer_start(struct app *app, struct mailer **out);
/* Stops and frees it (an e-mail being sent finishes or times out first); NULL is a no-op. */
void mailer_stop(struct mailer *m);

/*
 * For /healthz: whether e-mail is failing now (the row tried last is waiting to be tried again,
 * failed or undecided), in words in why. false with why "" when e-mail is off or fine.
 */
enum rc mailer_health(const struct app *app, struct db *db, bool *failing, char *why, size_t n);

#endif
