/*
 * server/twilio/status.c — status callbacks and the status order (see status.h). Each callback is
 * one short transaction: read the row by SID, compare, write, tell the alert pager; nothing
 * here talks to Twilio. Callers: the HTTP core (the two routes) and the sender (statuses it
 * learns itself: create answers, reconciliation, early callbacks).
 */
#include "twilio/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/outbox.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/metrics.h"

struct rank {
	const char *status;
	int rank;
};

static const struct rank message_ranks[] = {
        {"accepted", 1}, {"scheduled", 1},           {"queued", 2},      {"sending", 3},
        {"sent", 4},     {"delivered", 5},           {"undelivered", 5}, {"failed", 5},
        {"canceled", 5}, {"partially_delivered", 5}, {"read", 6},
};

static const struct rank call_ranks[] = {
        {"queued", 1}, {"initiated", 2}, {"ringing", 3}, {"in-progress", 4}, {"completed", 5},
        {"busy", 5},   {"no-answer", 5}, {"failed", 5},  {"canceled", 5},
};

#define CALL_FINAL_RANK 5

static int rank_in(const struct rank *t, size_t n, const char *status)
{
	size_t i;

	for (i = 0; status && i < n; i++)
		if (!strcmp(t[i].status, status))
			return t[i].rank;
	return 0;
}

int status_message_rank(const char *status)
{
	return rank_in(message_ranks, sizeof message_ranks / sizeof message_ranks[0], status);
}

int status_call_rank(const char *status)
{
	return rank_in(call_ranks, sizeof call_ranks / sizeof call_ranks[0], status);
}

bool status_call_is_final(const char *status)
{
	return status_call_rank(status) == CALL_FINAL_RANK;
}

/*
 * Twilio error codes people meet, in words for the outbox and alert views and the console
 * (Twilio's own message is kept when it sends one; callbacks carry only the code).
 */
static const struct {
	int code;
	const char *words;
} error_words[] = {
        {21610, "the person replied STOP to this number: Twilio sends them no texts until they reply START "
                "(error 21610)"},
        {21614, "not a mobile number: it cannot receive texts (error 21614)"},
        {30003, "the phone is unreachable (switched off or out of coverage) (error 30003)"},
        {30004, "the message was blocked by the carrier or the phone (error 30004)"},
        {30005, "unknown number: the carrier says it does not exist (error 30005)"},
        {30006, "a landline or a carrier that cannot receive texts (error 30006)"},
        {30007, "filtered by the carrier as spam (error 30007)"},
        {30008, "the carrier could not deliver it, for a reason it did not give (error 30008)"},
        {63003, "this number has no WhatsApp account (error 63003)"},
        {63016, "WhatsApp refused a free-form message: the person has not written to the WhatsApp number in "
                "the last 24 hours, and outside that window WhatsApp takes only approved templates "
                "(set TWILIO_WHATSAPP_TEMPLATE_SID) (error 63016)"},
        {63024, "WhatsApp refused the message: the recipient cannot receive it (error 63024)"},
};

const char *status_error_words(int code)
{
	size_t i;

	for (i = 0; i < sizeof error_words / sizeof error_words[0]; i++)
		if (error_words[i].code == code)
			return error_words[i].words;
	return NULL;
}

bool status_moves_forward(bool call, const char *cur, int cur_seq, const char *next, int next_seq)
{
	int rn = call ? status_call_rank(next) : status_message_rank(next);
	int rc = call ? status_call_rank(cur) : status_message_rank(cur);

	if (rn == 0)
		return false;
	if (call && next_seq >= 0 && cur_seq >= 0 && next_seq <= cur_seq)
		return false;
	return rn > rc;
}

enum rc status_apply(struct app *app, struct db *db, const struct status_update *u, bool *applied)
{
	struct outbox_row row;
	int64_t now_ms = clock_now_ms();
	bool call, final;
	enum rc rc;

	if (applied)
		*applied = false;
	rc = outbox_by_sid(db, u->sid, &row);
	if (rc == RC_NOT_FOUND) {
		struct outbox_early e;

		memset(&e, 0, sizeof e);
		snprintf(e.sid, sizeof e.sid, "%s", u->sid);
		snprintf(e.status, sizeof e.status, "%s", u->status);
		snprintf(e.answered_by, sizeof e.answered_by, "%s", u->answered_by ? u->answered_by : "");
		e.seq = u->seq;
		e.error_code = u->error_code;
		e.duration_s = u->duration_s;
		log_debug("status %s for %s: no row has this SID yet; kept", u->status, u->sid);
		return outbox_early_add(db, &e, now_ms);
	}
	if (rc != RC_OK)
		return rc;
	call = row.kind == OUTBOX_CALL;
	/* Every callback is recorded as received, known status or not, before the order decides. */
	rc = outbox_note_callback(db, row.id, u->status, u->error_code ? status_error_words(u->error_code) : NULL,
	                          now_ms);
	if (rc != RC_OK)
		goto out;
	if ((call ? status_call_rank(u->status) : status_message_rank(u->status)) == 0) {
		log_warn("outbox %lld: Twilio reports status '%s' for %s %s, a status plantao does not know; "
		         "recorded as received (twilio_status in /api/outbox), the row stays '%s'",
		         (long long)row.id, u->status, call ? "call" : "message", u->sid, row.status);
		goto out;
	}
	if (!status_moves_forward(call, row.status, row.status_seq, u->status, call ? u->seq : -1)) {
		log_debug("status %s (seq %d) for outbox %lld ignored: row is %s (seq %d)", u->status, u->seq,
		          (long long)row.id, row.status, row.status_seq);
		goto out;
	}
	final = call && status_call_is_final(u->status);
	rc = outbox_set_status(db, row.id, u->status, call ? u->seq : -1, u->error_code, final ? u->duration_s : -1,
	                       now_ms);
	if (rc != RC_OK)
		goto out;
	if (!call && u->error_code && status_message_rank(u->status) == 5)
		log_warn("outbox %lld: %s to %s %s: %s", (long long)row.id,
		         row.kind == OUTBOX_WHATSAPP ? "WhatsApp message" : "text", LOG_PHONE(row.to), u->status,
		         status_error_words(u->error_code) ? status_error_words(u->error_code) : "see error_code");
	if (final && u->duration_s > 0)
		metrics_count(app ? app->metrics : NULL, "plantao_call_seconds_total", NULL, u->duration_s);
	if (call && !strcmp(row.owner_type, "call_attempt") && row.owner_id > 0) {
		rc = alerts_call_status(app, db, row.owner_id, u->status, u->answered_by);
		if (rc == RC_NOT_FOUND) { /* the attempt is gone: the row's own state still counts */
			log_warn("outbox %lld: call attempt %lld not found for status %s", (long long)row.id,
			         (long long)row.owner_id, u->status);
			rc = RC_OK;
		}
	}
	if (rc == RC_OK && applied)
		*applied = true;
	log_debug("outbox %lld %s -> %s", (long long)row.id, row.status, u->status);
out:
	outbox_row_release(&row);
	return rc;
}

struct flush_ctx {
	struct app *app;
	struct db *db;
	bool call;
};

static enum rc flush_one(void *ctx, const struct outbox_early *e)
{
	struct flush_ctx *f = ctx;
	struct status_update u = {f->call,
	                          e->sid,
	                          e->status,
	                          e->seq,
	                          e->error_code,
	                          e->duration_s,
	                          e->answered_by[0] ? e->answered_by : NULL};

	return status_apply(f->app, f->db, &u, NULL);
}

enum rc status_flush_early(struct app *app, struct db *db, bool call, const char *sid)
{
	struct flush_ctx f = {app, db, call};

	return outbox_early_take(db, sid, flush_one, &f);
}

/* A whole non-negative number from a form field, or def when absent or malformed. */
static int form_int(const struct form *f, const char *name, int def)
{
	const char *v = form_get(f, name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 0 || n > 1000000000L)
		return def;
	return (int)n;
}

static enum rc handle(struct http_req *req, struct status_update *u)
{
	enum rc rc;

	if (!u->sid || !*u->sid || !u->status || !*u->status)
		return http_fail(req, RC_INVALID, "status callback without %s",
		                 u->call ? "CallSid/CallStatus" : "MessageSid/MessageStatus");
	if (strlen(u->sid) >= OUTBOX_TEXT_MAX || strlen(u->status) >= OUTBOX_TEXT_MAX)
		return http_fail(req, RC_INVALID, "malformed status callback");
	rc = db_begin(req->db);
	if (rc == RC_OK)
		rc = status_apply(req->app, req->db, u, NULL);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "could not record the status");
	}
	return http_reply(req, 204, "text/plain", "", 0);
}

enum rc status_message(struct http_req *req)
{
	struct status_update u;
	const char *sid = form_get(&req->form, "MessageSid");
	const char *st = form_get(&req->form, "MessageStatus");

	memset(&u, 0, sizeof u);
	u.call = false;
	u.sid = sid ? sid : form_get(&req->form, "SmsSid");
	u.status = st ? st : form_get(&req->form, "SmsStatus");
	u.seq = -1;
	u.error_code = form_int(&req->form, "ErrorCode", 0);
	u.duration_s = -1;
	return handle(req, &u);
}

enum rc status_call(struct http_req *req)
{
	struct status_update u;
	const char *ab = form_get(&req->form, "AnsweredBy");

	memset(&u, 0, sizeof u);
	u.call = true;
	u.sid = form_get(&req->form, "CallSid");
	u.status = form_get(&req->form, "CallStatus");
	u.seq = form_int(&req->form, "SequenceNumber", -1);
	u.error_code = form_int(&req->form, "ErrorCode", 0);
	u.duration_s = form_int(&req->form, "CallDuration", -1);
	u.answered_by = ab && *ab ? ab : NULL;
	return handle(req, &u);
}
