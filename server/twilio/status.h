/*
 * server/twilio/status.h — Twilio status callbacks for the outbox: POST /twilio/status/message and
 * POST /twilio/status/call (signed; the HTTP core checks the signature first), and the rule
 * that decides whether a reported status moves an outbox row forward.
 *
 * Order (a row never moves backwards; duplicates and late callbacks change nothing):
 *   messages: accepted/scheduled < queued < sending < sent < delivered = undelivered = failed
 *             = canceled = partially_delivered < read
 *   calls:    queued < initiated < ringing < in-progress < completed = busy = no-answer =
 *             failed = canceled; when a callback carries SequenceNumber, one not above the
 *             last applied number is stale whatever its status.
 * The sender records 'sent' for a message Twilio accepted and 'queued' for a call, so the
 * early message statuses (queued, sending) never overwrite it.
 *
 * Every callback for a row is recorded as received (outbox.twilio_status, raw) before the
 * order decides, so a status plantao does not know (one Twilio adds later) is stored, shown
 * by /api/outbox and logged as a warning, never dropped; it does not move the row.
 *
 * A callback whose SID is on no row yet (Twilio can call back before the engine stored the
 * SID, or the row is waiting for crash reconciliation) is kept in outbox_early_status and
 * applied when the SID is recorded (status_flush_early()).
 *
 * Spec: Twilio's message status callback (MessageSid, MessageStatus, ErrorCode) and call
 * status callback (CallSid, CallStatus, SequenceNumber, CallDuration, AnsweredBy, ErrorCode).
 */
#ifndef PLANTAO_STATUS_H
#define PLANTAO_STATUS_H

#include <stdbool.h>

#include "http/http.h"
#include "core/rc.h"

struct app;
struct db;

/* Position of a message / call status in the order above; 0 for a status not in it. */
int status_message_rank(const char *status);
int status_call_rank(const char *status);
/* True for statuses after which nothing more happens to a call (completed, busy, …). */
bool status_call_is_final(const char *status);

/*
 * Whether a callback reporting next (with SequenceNumber next_seq, -1 when absent) moves a row
 * that is at cur (last applied sequence number cur_seq, -1 when none) forward.
 */
bool status_moves_forward(bool call, const char *cur, int cur_seq, const char *next, int next_seq);

/* Twilio's error code in words (static string), NULL for codes without a sentence here. */
const char *status_error_words(int code);

/* A reported status of one message or call. */
struct status_update {
	bool call;
	const char *sid;
	const char *status;
	int seq;                 /* SequenceNumber, -1 when absent */
	int error_code;          /* ErrorCode, 0 when absent */
	int duration_s;          /* CallDuration, -1 when absent */
	const char *answered_by; /* AnsweredBy, NULL when absent */
};

/*
 * Applies u inside the caller's transaction: moves the row carrying u->sid forward (recording
 * the error code and call duration), tells the alert pager about calls owned by a call attempt
 * (alerts_call_status), counts call seconds; keeps u for later when no row has the SID yet.
 * *applied (may be NULL) tells whether a row changed.
 */
enum rc status_apply(struct app *app, struct db *db, const struct status_update *u, bool *applied);

/* Applies, in arrival order, the callbacks kept for sid (call: whether it is a call). Inside a transaction. */
enum rc status_flush_early(struct app *app, struct db *db, bool call, const char *sid);

/* The two webhook handlers: 204 with no body (also for unknown SIDs and stale callbacks). */
enum rc status_message(struct http_req *req);
enum rc status_call(struct http_req *req);

#endif
