/*
 * server/outbox/sender.c — the outbox sender (contract and crash reasoning in sender.h).
 * Runs on the engine thread only, with the engine's database connection; every state change
 * of a row is its own short transaction, never held across a network request.
 */
#include "outbox/sender.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/outbox.h"
#include "db/people.h"
#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/metrics.h"
#include "outbox/mailer.h"
#include "pager/alerts.h"
#include "twilio/sms_cost.h"
#include "twilio/status.h"
#include "twilio/twilio.h"

#define N_CHANNELS 3 /* indexed by enum outbox_kind: sms, whatsapp, call */

/* Texts to people who opted out are not attempted (Twilio would refuse them with 21610). */
#define TWILIO_ERR_UNSUBSCRIBED 21610
#define SENDER_OPTED_OUT_WHY                                                                                           \
	"not sent: the person opted out of texts (replied STOP); they still get alert calls, and texts again once "    \
	"they text START"
#define FILL_ROUNDS 4

/* One request in flight: what is needed to record its answer. */
struct slot {
	bool used;
	int64_t id;
	enum outbox_kind kind;
	int tries;
	int64_t attempt_ms; /* when it was claimed: its deadline is attempt_ms + SENDER_LOOKUP_DELAY_MS */
	int segments;
	char encoding[16];
	char to[OUTBOX_TEXT_MAX];
};

struct sender {
	struct app *app;
	struct db *db;
	struct twilio *tw;
	struct sender_bucket bucket[N_CHANNELS];
	struct slot slot[TWILIO_MAX_PARALLEL];
	unsigned int seed;
	bool demo_logged;
	int64_t next_prune_ms;
	int64_t next_refresh_ms;
	int64_t next_ok_note_ms;  /* twilio_results 'ok' is written at most once a second… */
	bool error_noted;         /* …unless an error was noted since */
	int64_t next_auth_log_ms; /* the credentials error is logged once a minute */
	struct mailer *mailer;    /* e-mails (kind 'email') go on a thread of their own: mailer.h */
	size_t answers_open;      /* answers recorded in the open transaction, not committed yet */
};

/* ---- pure parts ---- */

int64_t sender_backoff_ms(int tries, int retry_after_s, uint32_t rnd)
{
	int64_t d = SENDER_BACKOFF_BASE_MS, half;
	int i;

	for (i = 1; i < tries && d < SENDER_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > SENDER_BACKOFF_MAX_MS)
		d = SENDER_BACKOFF_MAX_MS;
	half = d / 2;
	d = half + (int64_t)(rnd % (uint32_t)(d - half + 1));
	if (retry_after_s >= 0 && d < (int64_t)retry_after_s * 1000)
		d = (int64_t)retry_after_s * 1000;
	return d;
}

bool sender_bucket_ready(struct sender_bucket *b, double rate, int64_t now_ms)
{
	double cap = rate > 1 ? rate : 1;

	if (rate <= 0)
		return true;
	if (b->last_ms == 0) {
		b->tokens = cap;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		b->tokens += rate * (double)(now_ms - b->last_ms) / 1000.0;
		if (b->tokens > cap)
			b->tokens = cap;
	}
	b->last_ms = now_ms;
	return b->tokens >= 1.0 - 1e-9;
}

void sender_bucket_take(struct sender_bucket *b, double rate)
{
	if (rate > 0)
		b->tokens -= 1.0;
}

/* ---- helpers ---- */

static const char *kind_label(enum outbox_kind k)
{
	switch (k) {
	case OUTBOX_SMS: return "kind=\"sms\"";
	case OUTBOX_WHATSAPP: return "kind=\"whatsapp\"";
	case OUTBOX_CALL: return "kind=\"call\"";
	case OUTBOX_EMAIL: return "kind=\"email\"";
	}
	return "kind=\"sms\"";
}

static const char *from_of(const struct cfg *c, enum outbox_kind k)
{
	return k == OUTBOX_WHATSAPP ? c->whatsapp_from : c->twilio_from;
}

static double rate_of(const struct cfg *c, enum outbox_kind k)
{
	return k == OUTBOX_CALL ? c->calls_per_second : c->sms_per_second;
}

/* Twilio's address for row's destination: "whatsapp:+E164" for WhatsApp. */
static void to_address(const struct outbox_row *r, char *out, size_t size)
{
	snprintf(out, size, "%s%s", r->kind == OUTBOX_WHATSAPP ? "whatsapp:" : "", r->to);
}

static void count_sent(struct sender *s, enum outbox_kind kind, const char *encoding, int segments)
{
	metrics_count(s->app->metrics, "plantao_outbox_sent_total", kind_label(kind), 1);
	if (kind == OUTBOX_SMS && segments > 0)
		metrics_count(s->app->metrics, "plantao_sms_segments_total",
		              !strcmp(encoding, "UCS-2") ? "encoding=\"UCS-2\"" : "encoding=\"GSM-7\"", segments);
}

/*
 * Runs expr atomically: inside a transaction of its own, or, while a batch's transaction is
 * open (claims of one fill round, answers collected together), inside a savepoint of it, so
 * one row's failure undoes that row only and the batch commits once.
 */
#define IN_TXN(db, expr)                                                                                               \
	do {                                                                                                           \
		if (db_in_transaction(db)) {                                                                           \
			rc = db_savepoint(db);                                                                         \
			if (rc == RC_OK) {                                                                             \
				rc = (expr);                                                                           \
				if (rc != RC_OK)                                                                       \
					db_rollback_to(db);                                                            \
				db_release(db);                                                                        \
			}                                                                                              \
			break;                                                                                         \
		}                                                                                                      \
		rc = db_begin(db);                                                                                     \
		if (rc == RC_OK)                                                                                       \
			rc = (expr);                                                                                   \
		if (rc == RC_OK)                                                                                       \
			rc = db_commit(db);                                                                            \
		if (rc != RC_OK)                                                                                       \
			db_rollback(db);                                                                               \
	} while (0)

/*
 * Cancels row id, whose page is not wanted any more, and ends its call attempt (a call never
 * placed): in the caller's transaction.
 */
static enum rc cancel_page(struct sender *s, int64_t id, const char *why)
{
	struct outbox_row r;
	enum rc rc = outbox_get(s->db, id, &r);

	if (rc != RC_OK)
		return rc;
	rc = outbox_mark_canceled(s->db, id, why, clock_now_ms());
	if (rc == RC_OK && r.kind == OUTBOX_CALL && !strcmp(r.owner_type, "call_attempt") && r.owner_id > 0) {
		rc = alerts_call_status(s->app, s->db, r.owner_id, "canceled", NULL);
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
	}
	if (rc == RC_OK) {
		log_info("outbox %lld: page to %s %s", (long long)id, LOG_PHONE(r.to), why);
		metrics_count(s->app->metrics, "plantao_outbox_pages_canceled_total", NULL, 1);
	}
	outbox_row_release(&r);
	return rc;
}

/*
 * Another attempt later, or a dead letter when the row has had its max tries; in a
 * transaction. A page whose alert was acknowledged or resolved meanwhile is cancelled instead;
 * a page whose alert is open is never dead-lettered: it is tried again, its back-off capped at
 * SENDER_PAGE_BACKOFF_MAX_MS, until it goes out or its alert is closed (issue 11).
 */
static enum rc retry_or_dead(struct sender *s, int64_t id, int tries, int code, const char *why, int64_t next_at_ms)
{
	int64_t now = clock_now_ms();
	bool page = false, live = true;
	char msg[512];
	enum rc rc = outbox_page_is_live(s->db, id, &page, &live);

	if (rc != RC_OK)
		return rc;
	if (page && !live)
		return cancel_page(s, id, "not sent: its alert was acknowledged or resolved first");
	if (tries >= s->app->cfg->max_tries && !page) {
		snprintf(msg, sizeof msg, "dead letter after %d tries: %s", tries, why);
		rc = outbox_mark_failed(s->db, id, code, msg, now);
		if (rc == RC_OK) {
			log_warn("outbox %lld: dead letter after %d tries (last error: %s)", (long long)id, tries, why);
			metrics_count(s->app->metrics, "plantao_outbox_dead_letters_total", NULL, 1);
		}
		return rc;
	}
	if (page && next_at_ms > now + SENDER_PAGE_BACKOFF_MAX_MS)
		next_at_ms = now + SENDER_PAGE_BACKOFF_MAX_MS;
	if (page && tries >= s->app->cfg->max_tries)
		log_warn("outbox %lld: page still not accepted by Twilio after %d tries (last error: %s); trying "
		         "again until its alert is acknowledged or resolved",
		         (long long)id, tries, why);
	rc = outbox_mark_retry(s->db, id, next_at_ms, code, why, now);
	if (rc == RC_OK)
		metrics_count(s->app->metrics, "plantao_outbox_retries_total", NULL, 1);
	return rc;
}

/* Records that Twilio has row id as sid with Twilio status `status`, then applies what came early. */
static enum rc record_sid(struct sender *s, int64_t id, enum outbox_kind kind, const char *sid, const char *status)
{
	bool call = kind == OUTBOX_CALL;
	const char *base = call ? "queued" : "sent";
	enum rc rc = outbox_mark_sent(s->db, id, sid, base, clock_now_ms());

	if (rc != RC_OK)
		return rc;
	if (status && *status && status_moves_forward(call, base, -1, status, -1)) {
		struct status_update u = {call, sid, status, -1, 0, -1, NULL};

		rc = status_apply(s->app, s->db, &u, NULL);
	}
	if (rc == RC_OK)
		rc = status_flush_early(s->app, s->db, call, sid);
	if (rc == RC_OK && call) {
		/* Its alert was closed while the call was being placed: it is ended, not left ringing. */
		bool page = false, live = true;

		rc = outbox_page_is_live(s->db, id, &page, &live);
		if (rc == RC_OK && page && !live) {
			rc = outbox_request_hangup(s->db, id, clock_now_ms());
			if (rc == RC_OK)
				log_info("outbox %lld: call %s placed for an alert closed meanwhile; ending it",
				         (long long)id, sid);
		}
	}
	return rc;
}

/* ---- what Twilio said: metrics and the note /healthz reads ---- */

static bool is_auth_error(int code)
{
	return code == 20003 || code == 20005;
}

/* plantao_twilio_errors_total{code="…"}: labels are static strings, so codes come from a table. */
static const char *code_label(int code, bool network)
{
	static const struct {
		int code;
		const char *label;
	} known[] = {
	        {20003, "code=\"20003\""}, {20005, "code=\"20005\""}, {20404, "code=\"20404\""},
	        {20429, "code=\"20429\""}, {20500, "code=\"20500\""}, {20503, "code=\"20503\""},
	        {21211, "code=\"21211\""}, {21212, "code=\"21212\""}, {21408, "code=\"21408\""},
	        {21606, "code=\"21606\""}, {21610, "code=\"21610\""}, {21614, "code=\"21614\""},
	        {30003, "code=\"30003\""}, {30005, "code=\"30005\""}, {30006, "code=\"30006\""},
	        {30007, "code=\"30007\""}, {30008, "code=\"30008\""},
	};
	size_t i;

	if (network)
		return "code=\"network\"";
	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].code == code)
			return known[i].label;
	return "code=\"other\"";
}

/* Whether note_result() has something to write: a success is noted once a second at most
 * while all is well, at once after an error; every error is. */
static bool note_due(const struct sender *s, const struct twilio_result *res)
{
	return res->outcome != TWILIO_OK || s->error_noted || clock_now_ms() >= s->next_ok_note_ms;
}

/* Counts and notes (in the caller's transaction) one answer to a create or hang-up request. */
static enum rc note_result(struct sender *s, const struct twilio_result *res)
{
	int64_t now = clock_now_ms();
	bool network = res->http_status == 0;
	const char *kind;

	if (res->outcome == TWILIO_OK) {
		if (!note_due(s, res))
			return RC_OK;
		s->error_noted = false;
		s->next_ok_note_ms = now + 1000;
		return outbox_twilio_note(s->db, "ok", now, res->http_status, 0, NULL);
	}
	metrics_count(s->app->metrics, "plantao_twilio_errors_total", code_label(res->error_code, network), 1);
	kind = network ? "network" : is_auth_error(res->error_code) || res->http_status == 401 ? "auth" : "error";
	if (!strcmp(kind, "auth") && now >= s->next_auth_log_ms) {
		log_err("twilio: credentials refused (%d %s): no text or call can go out until TWILIO_ACCOUNT_SID / "
		        "TWILIO_AUTH_TOKEN are fixed; pages are kept and tried again",
		        res->error_code, res->error_message);
		s->next_auth_log_ms = now + 60 * 1000;
	}
	s->error_noted = true;
	return outbox_twilio_note(s->db, kind, now, res->http_status, res->error_code, res->error_message);
}

/* ---- recording answers ---- */

/* Why a try failed, in words an operator acts on (the retry's warning). */
static const char *retry_words(const struct twilio_result *res)
{
	const char *w = status_error_words(res->error_code);

	if (w)
		return w;
	if (res->error_code == 20003 || res->error_code == 20005 || res->http_status == 401)
		return "Twilio refused the credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): nothing goes out "
		       "until they are fixed";
	if (res->http_status == 429 || res->error_code == 20429)
		return "Twilio asks plantao to slow down (too many requests)";
	if (res->http_status >= 500)
		return "Twilio failed on its side (a server error)";
	if (res->http_status == 0)
		return "Twilio was not reached (network, DNS or TLS)";
	return "Twilio refused the request";
}

/*
 * A row Twilio refused for good is failed, with the error in words when there are some. A text
 * refused with 21610 also marks its person opted out (*opted_out): they replied STOP where
 * plantao never heard it (a webhook lost while plantao was down, another app on the number),
 * so texts are no longer attempted; calls still go out. In the caller's transaction.
 */
static enum rc mark_refused(struct sender *s, const struct slot *sl, const struct twilio_result *res, int64_t now,
                            int64_t *person, bool *opted_out)
{
	const char *words = status_error_words(res->error_code);
	enum rc rc = outbox_mark_failed(s->db, sl->id, res->error_code, words ? words : res->error_message, now);

	*person = 0;
	*opted_out = false;
	if (rc != RC_OK || res->error_code != TWILIO_ERR_UNSUBSCRIBED || sl->kind != OUTBOX_SMS)
		return rc;
	rc = people_opt_out_phone(s->db, sl->to, "twilio_21610", "twilio:21610", person, opted_out);
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

/*
 * Whether recording a text Twilio accepted is its one UPDATE (outbox_mark_sent) inside the open
 * batch: no status of Twilio's answer to apply after 'sent', no early callback waiting for its
 * SID; else record_sid() in a savepoint. A call always takes record_sid() (its page re-check).
 */
static bool simple_answer(struct sender *s, enum outbox_kind kind, const struct twilio_result *res)
{
	bool early = true;

	if (kind == OUTBOX_CALL || !db_in_transaction(s->db))
		return false;
	if (res->status[0] && status_moves_forward(false, "sent", -1, res->status, -1))
		return false;
	return outbox_early_any(s->db, res->sid, &early) == RC_OK && !early;
}

static void record(struct sender *s, struct slot *sl, const struct twilio_result *res)
{
	int64_t now = clock_now_ms(), person = 0;
	bool opted_out = false;
	char why[400];
	enum rc rc = RC_OK;
	bool page = false, live = true;

	if (res->outcome == TWILIO_PERMANENT &&
	    (is_auth_error(res->error_code) || res->http_status == 401 || res->http_status == 403) &&
	    outbox_page_is_live(s->db, sl->id, &page, &live) == RC_OK && page)
		page = true; /* wrong credentials: pages wait for them to be fixed (retry_or_dead) */
	else
		page = false;
	switch (res->outcome) {
	case TWILIO_OK:
		if (simple_answer(s, sl->kind, res))
			/* one statement, atomic by itself: no savepoint, whose sub-journal would copy
			 * every page of the batch this answer touches again */
			rc = outbox_mark_sent(s->db, sl->id, res->sid, "sent", clock_now_ms());
		else
			IN_TXN(s->db, record_sid(s, sl->id, sl->kind, res->sid, res->status));
		if (rc == RC_OK) {
			count_sent(s, sl->kind, sl->encoding, sl->segments);
			log_debug("outbox %lld: %s accepted as %s", (long long)sl->id, LOG_PHONE(sl->to), res->sid);
		}
		break;
	case TWILIO_PERMANENT:
		if (!page) {
			log_warn("outbox %lld: Twilio refused the %s to %s: %d %s", (long long)sl->id,
			         sl->kind == OUTBOX_CALL ? "call" : "message", LOG_PHONE(sl->to), res->error_code,
			         res->error_message);
			IN_TXN(s->db, mark_refused(s, sl, res, now, &person, &opted_out));
			metrics_count(s->app->metrics, "plantao_outbox_failed_total", NULL, 1);
			if (rc == RC_OK && opted_out) {
				char name[PEOPLE_NAME_BYTES];

				people_name(s->db, person, name, sizeof name);
				log_warn("outbox %lld: Twilio refused the text to %s with 21610 (they replied STOP to "
				         "this number): %s (person %lld) marked opted out of texts; they still get "
				         "alert calls, and texts again once they text START",
				         (long long)sl->id, LOG_PHONE(sl->to), name, (long long)person);
			}
			break;
		}
		/* An auth error is retried for pages, like a network failure. */
		/* fall through */
	case TWILIO_RETRY:
		snprintf(why, sizeof why, "%s%ld %s", res->http_status ? "HTTP " : "", res->http_status,
		         res->error_message);
		log_warn("outbox %lld: try %d of the %s to %s failed: %s (%s%d, %s); will retry", (long long)sl->id,
		         sl->tries, sl->kind == OUTBOX_CALL ? "call" : "message", LOG_PHONE(sl->to), retry_words(res),
		         res->error_code ? "error " : "HTTP ",
		         res->error_code ? res->error_code : (int)res->http_status, res->error_message);
		IN_TXN(s->db, retry_or_dead(s, sl->id, sl->tries, res->error_code, why,
		                            now + sender_backoff_ms(sl->tries, res->retry_after_s,
		                                                    (uint32_t)rand_r(&s->seed))));
		break;
	case TWILIO_UNKNOWN:
		snprintf(why, sizeof why, "no usable answer from Twilio (%s%ld %s); looking it up before resending",
		         res->http_status ? "HTTP " : "", res->http_status, res->error_message);
		log_warn("outbox %lld: %s", (long long)sl->id, why);
		/* Not before the request's own deadline: Twilio may still be creating it. */
		IN_TXN(s->db, outbox_mark_unknown(s->db, sl->id, sl->attempt_ms + SENDER_LOOKUP_DELAY_MS, why, now));
		break;
	}
	if (rc != RC_OK)
		log_err("outbox %lld: could not record Twilio's answer (%s); it will be looked up", (long long)sl->id,
		        rc_str(rc));
	if (note_due(s, res))
		IN_TXN(s->db, note_result(s, res));
}

/*
 * Commits the answers collect() left open (with whatever was written after them in the same
 * transaction: the next fill round's claims). Should the commit fail, the answered rows stay
 * 'sending' and are looked up at Twilio after their deadline, as after a crash.
 */
static enum rc commit_answers(struct sender *s)
{
	size_t n = s->answers_open;

	s->answers_open = 0;
	if (!db_in_transaction(s->db))
		return RC_OK;
	if (db_commit(s->db) == RC_OK)
		return RC_OK;
	db_rollback(s->db);
	if (n)
		log_err("outbox: %zu answers from Twilio could not be recorded; those rows will be looked up", n);
	return RC_DB;
}

/*
 * Records every finished request, all in one transaction (each answer in a savepoint of it):
 * one commit for a batch of answers instead of one or two per answer. With keep_open the
 * transaction is left open (s->answers_open): the fill round that follows claims its rows in
 * it and commits both at once, before any of its requests starts (fill, commit_answers).
 */
static void collect(struct sender *s, bool keep_open)
{
	struct twilio_result res[TWILIO_MAX_PARALLEL];
	void *user[TWILIO_MAX_PARALLEL];
	size_t n = 0, i;
	bool batch;

	while (n < TWILIO_MAX_PARALLEL && twilio_done(s->tw, &res[n], &user[n]))
		n++;
	if (!n)
		return;
	/* else each answer in its own transaction */
	batch = (n > 1 || keep_open) && db_begin(s->db) == RC_OK;
	for (i = 0; i < n; i++) {
		struct slot *sl = user[i];

		record(s, sl, &res[i]);
		sl->used = false;
	}
	if (batch) {
		s->answers_open = n;
		if (!keep_open)
			commit_answers(s);
	}
}

/* ---- picking and sending ---- */

static struct slot *free_slot(struct sender *s)
{
	size_t i;

	for (i = 0; i < TWILIO_MAX_PARALLEL; i++)
		if (!s->slot[i].used)
			return &s->slot[i];
	return NULL;
}

static bool in_flight(const struct sender *s, int64_t id)
{
	size_t i;

	for (i = 0; i < TWILIO_MAX_PARALLEL; i++)
		if (s->slot[i].used && s->slot[i].id == id)
			return true;
	return false;
}

/*
 * Per-destination limits of an alert row: 0 when it may go now, else the time it may.
 */
static enum rc dest_hold(struct sender *s, const struct outbox_row *r, int64_t now, int64_t *until)
{
	const struct cfg *c = s->app->cfg;
	const struct {
		int limit;
		int64_t window_ms;
	} w[] = {{c->dest_per_minute, 60 * 1000}, {c->dest_per_15min, 15 * 60 * 1000}};
	bool calls = r->kind == OUTBOX_CALL;
	size_t i;

	*until = 0;
	if (strcmp(r->class_, "alert") != 0)
		return RC_OK;
	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		int64_t n, oldest, free_at;
		enum rc rc;

		if (w[i].limit <= 0)
			continue;
		rc = outbox_dest_recent(s->db, r->to, calls, now - w[i].window_ms, &n, &oldest);
		if (rc != RC_OK)
			return rc;
		if (n < w[i].limit)
			continue;
		free_at = oldest + w[i].window_ms;
		/* A page text waiting here gathers every alert that arrives meanwhile (bundling in
		 * server/pager/escalation.c), so for texts the per-minute limit is relaxed to a short
		 * gathering gap: a storm reaches the phone as one text now and one bundled text
		 * SENDER_PAGE_TEXT_GAP_MS later, not a minute later. The 15-minute limit still caps a
		 * flood, and a per-minute limit above one is never made stricter. */
		if (i == 0 && !calls) {
			rc = outbox_dest_recent(s->db, r->to, calls, now - SENDER_PAGE_TEXT_GAP_MS, &n, &oldest);
			if (rc != RC_OK)
				return rc;
			if (n == 0)
				continue;
			if (oldest + SENDER_PAGE_TEXT_GAP_MS < free_at)
				free_at = oldest + SENDER_PAGE_TEXT_GAP_MS;
		}
		if (free_at > *until)
			*until = free_at;
	}
	if (*until && *until <= now)
		*until = now + 1;
	return RC_OK;
}

static int by_priority(const void *a, const void *b)
{
	const struct outbox_row *x = a, *y = b;

	if (x->send_rank != y->send_rank)
		return x->send_rank < y->send_rank ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Marks r 'sending' (in the caller's transaction), costing an SMS that has no cost yet. A page
 * is re-checked first, in the same transaction: if its alert was acknowledged or resolved, it
 * is cancelled instead and *go is false.
 */
static enum rc claim(struct sender *s, struct outbox_row *r, const char *from, int64_t now, bool *go)
{
	struct sms_cost cost;
	bool page = false, live = true;
	enum rc rc;

	*go = false;
	/* Only a page (class 'alert', which a row keeps for life) can be unwanted by now. */
	rc = strcmp(r->class_, "alert") ? RC_OK : outbox_page_is_live(s->db, r->id, &page, &live);
	if (rc != RC_OK)
		return rc;
	if (page && !live)
		return cancel_page(s, r->id, "not sent: its alert was acknowledged or resolved first");
	if (r->kind == OUTBOX_SMS) {
		/* Twilio would refuse it (21610): the person replied STOP. Not attempted, and said so. */
		bool opted_out = false;

		rc = people_phone_opted_out(s->db, r->to, &opted_out);
		if (rc != RC_OK)
			return rc;
		if (opted_out) {
			rc = outbox_mark_canceled(s->db, r->id, SENDER_OPTED_OUT_WHY, clock_now_ms());
			if (rc == RC_OK)
				log_info("outbox %lld: text to %s not sent: they opted out of texts (STOP)",
				         (long long)r->id, LOG_PHONE(r->to));
			return rc;
		}
	}
	*go = true;

	if (r->kind == OUTBOX_SMS && !r->encoding[0] && r->body && sms_cost_of(r->body, &cost) == RC_OK) {
		snprintf(r->encoding, sizeof r->encoding, "%s", sms_cost_encoding_name(cost.encoding));
		r->segments = cost.segments;
		return outbox_claim(s->db, r->id, from, now, now + SENDER_LOOKUP_DELAY_MS, r->encoding, r->segments);
	}
	return outbox_claim(s->db, r->id, from, now, now + SENDER_LOOKUP_DELAY_MS, NULL, 0);
}

/*
 * Claims one row in the fill round's transaction and reserves its slot; returns the slot, or
 * NULL when the row is not to be sent now (no slot, taken or changed meanwhile, not wanted).
 */
static struct slot *claim_row(struct sender *s, struct outbox_row *r, int64_t now)
{
	const struct cfg *c = s->app->cfg;
	const char *from = from_of(c, r->kind);
	struct slot *sl = free_slot(s);
	bool go = false;
	enum rc rc;

	if (!sl)
		return NULL;
	if (!from) {
		IN_TXN(s->db, outbox_mark_failed(s->db, r->id, 0,
		                                 "TWILIO_WHATSAPP_FROM is not set: WhatsApp cannot be sent", now));
		log_warn("outbox %lld: WhatsApp message failed: TWILIO_WHATSAPP_FROM is not set", (long long)r->id);
		return NULL;
	}
	if (strcmp(r->class_, "alert") && db_in_transaction(s->db))
		/* Not a page: its claim writes one statement (the claim, or the cancel of a text to
		 * someone who opted out), atomic by itself. A savepoint would make SQLite copy every
		 * page it touches that the round changed already into its sub-journal. */
		rc = claim(s, r, from, now, &go);
	else
		IN_TXN(s->db, claim(s, r, from, now, &go));
	if (rc != RC_OK || !go)
		return NULL; /* taken or changed meanwhile, the database is busy (next tick), or not wanted */
	memset(sl, 0, sizeof *sl);
	sl->used = true;
	sl->id = r->id;
	sl->kind = r->kind;
	sl->tries = r->tries + 1;
	sl->attempt_ms = now;
	sl->segments = r->segments;
	snprintf(sl->encoding, sizeof sl->encoding, "%s", r->encoding);
	snprintf(sl->to, sizeof sl->to, "%s", r->to);
	return sl;
}

/* ---- WhatsApp templates ---- */

#define TEMPLATE_VAR_MAX    900 /* bytes of one template variable (WhatsApp takes about 1,000 characters) */
#define TEMPLATE_ALERTS_MAX 10  /* alerts of a bundled page named in its variables */

/*
 * Appends text to out as a template variable may carry it: WhatsApp refuses variables with
 * newlines, tabs or runs of more than four spaces, so each run of white space becomes one
 * space; cut at size on a UTF-8 character boundary.
 */
static void var_append(char *out, size_t size, const char *text)
{
	size_t n = strlen(out), i;
	bool space = n > 0 && out[n - 1] == ' ';

	for (; *text && n + 1 < size; text++) {
		char c = *text == '\n' || *text == '\r' || *text == '\t' ? ' ' : *text;

		if (c == ' ' && (space || n == 0))
			continue;
		space = c == ' ';
		out[n++] = c;
	}
	if (*text && n > 0) { /* cut: drop a character whose bytes did not all fit */
		i = n - 1;
		while (i > 0 && ((unsigned char)out[i] & 0xC0) == 0x80)
			i--;
		if (((unsigned char)out[i] & 0x80) && i + (((unsigned char)out[i] & 0xE0) == 0xC0   ? 2
		                                           : ((unsigned char)out[i] & 0xF0) == 0xE0 ? 3
		                                                                                    : 4) >
		                                              n)
			n = i;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

struct template_vars {
	char number[TEMPLATE_VAR_MAX];  /* {{1}}: "12", or "12, 13" for a bundled page */
	char summary[TEMPLATE_VAR_MAX]; /* {{2}}: the summary, or the summaries joined by "; " */
	int n;
};

static void add_alert(void *ctx, int64_t alert_id, const char *summary)
{
	struct template_vars *v = ctx;
	char num[24];

	snprintf(num, sizeof num, "%s%lld", v->n ? ", " : "", (long long)alert_id);
	var_append(v->number, sizeof v->number, num);
	if (v->n)
		var_append(v->summary, sizeof v->summary, "; ");
	var_append(v->summary, sizeof v->summary, summary);
	v->n++;
}

/*
 * ContentVariables of row r for the WhatsApp template (a new string, free()): {"1": the alert
 * number, "2": the summary} for a page; for a notice about an alert (acknowledged, resolved,
 * nobody answered) {"1": its number, "2": the notice's text}; for other texts {"1": "-", "2":
 * the text}. NULL when the row could not be read.
 */
static char *template_variables(struct sender *s, const struct outbox_row *r)
{
	struct template_vars v;
	json_t *o;
	char *out;

	memset(&v, 0, sizeof v);
	if (outbox_row_alerts(s->db, r->id, TEMPLATE_ALERTS_MAX, add_alert, &v) != RC_OK)
		return NULL;
	if (!v.n) {
		if (!strcmp(r->owner_type, "alert") && r->owner_id > 0)
			snprintf(v.number, sizeof v.number, "%lld", (long long)r->owner_id);
		else
			snprintf(v.number, sizeof v.number, "-");
		var_append(v.summary, sizeof v.summary, r->body ? r->body : "");
	}
	if (!v.summary[0])
		snprintf(v.summary, sizeof v.summary, "-");
	o = json_pack("{s:s,s:s}", "1", v.number, "2", v.summary);
	if (!o) /* not UTF-8: the number still goes */
		o = json_pack("{s:s,s:s}", "1", v.number, "2", "-");
	out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

/*
 * Whether row r goes as the WhatsApp template: a WhatsApp message, a template configured, and
 * its person has not written to the WhatsApp number within 24 hours (WhatsApp would refuse
 * free-form text with 63016).
 */
static bool use_template(struct sender *s, const struct outbox_row *r)
{
	bool inside = false;

	if (r->kind != OUTBOX_WHATSAPP || !s->app->cfg->whatsapp_template_sid)
		return false;
	if (people_whatsapp_window(s->db, r->to, clock_now(), &inside) != RC_OK)
		return true; /* unknown: the template goes anywhere */
	return !inside;
}

/* Starts the request of a row claimed (and committed) into sl; frees sl when it cannot. */
static void submit_row(struct sender *s, struct outbox_row *r, struct slot *sl, int64_t now)
{
	const struct cfg *c = s->app->cfg;
	struct twilio_send m;
	char to[OUTBOX_TEXT_MAX + 16], *variables = NULL;
	enum rc rc;

	to_address(r, to, sizeof to);
	memset(&m, 0, sizeof m);
	m.call = r->kind == OUTBOX_CALL;
	m.to = to;
	m.from = from_of(c, r->kind);
	m.body = r->body;
	if (use_template(s, r)) {
		variables = template_variables(s, r);
		m.content_sid = c->whatsapp_template_sid;
		m.content_variables = variables ? variables : "{}";
		log_debug("outbox %lld: WhatsApp to %s as template %s %s (outside the 24-hour window)",
		          (long long)r->id, LOG_PHONE(r->to), m.content_sid, m.content_variables);
	}
	m.url = r->url;
	m.machine_detection = r->machine_detection;
	m.timeout_s = m.call ? (r->ring_timeout_s > 0 ? r->ring_timeout_s : c->dial_timeout) : 0;
	rc = twilio_submit(s->tw, &m, sl);
	free(variables); /* the request has its own copy of the form */
	if (rc != RC_OK) {
		/* Nothing left the process: safe to try again. */
		sl->used = false;
		IN_TXN(s->db, retry_or_dead(s, r->id, sl->tries, 0, "could not start the request",
		                            now + sender_backoff_ms(sl->tries, -1, (uint32_t)rand_r(&s->seed))));
	}
}

/*
 * Starts requests for due rows while slots are free. *more is set when due rows were left for
 * lack of slots (the next tick should come at once).
 */
static enum rc fill(struct sender *s, int64_t now, bool *more)
{
	const struct cfg *c = s->app->cfg;
	struct outbox_row rows[TWILIO_MAX_PARALLEL * N_CHANNELS];
	struct slot *claimed[TWILIO_MAX_PARALLEL * N_CHANNELS] = {0};
	enum rc rc = RC_OK;
	int round;

	*more = false;
	for (round = 0; round < FILL_ROUNDS; round++) {
		size_t n = 0, i, free_n = TWILIO_MAX_PARALLEL - twilio_in_flight(s->tw);
		/* answers collected just before (collect) are still open: the claims join them */
		bool deferred = false, locks = outbox_due_locks(s->db), open = db_in_transaction(s->db), txn;
		int k;

		if (!free_n)
			break;
		/* PostgreSQL: the due rows are locked as they are read (FOR UPDATE SKIP LOCKED), so
		 * the claim transaction opens first and another instance passes over them. Only when
		 * something is due: an idle tick took the process's writer lock and made a round trip
		 * for BEGIN, six reads per kind and COMMIT. */
		if (locks) {
			bool any = false;

			rc = outbox_any_due(s->db, now, &any);
			if (rc != RC_OK || !any)
				break;
			if (!open)
				rc = db_begin(s->db);
		}
		for (k = 0; k < N_CHANNELS && rc == RC_OK; k++) {
			size_t got = 0;

			if (!sender_bucket_ready(&s->bucket[k], rate_of(c, (enum outbox_kind)k), now))
				continue;
			rc = outbox_due(s->db, (enum outbox_kind)k, now, free_n, rows + n, &got);
			n += got;
		}
		qsort(rows, n, sizeof rows[0], by_priority);
		/* Every claim of this round in one transaction (each in a savepoint): the rows are
		 * 'sending' on disk, committed once, before any of their requests starts. */
		if (!locks && !open && n && rc == RC_OK)
			rc = db_begin(s->db);
		txn = open || locks || n;
		for (i = 0; i < n && rc == RC_OK; i++) {
			struct outbox_row *r = &rows[i];
			struct sender_bucket *b = &s->bucket[r->kind];
			double rate = rate_of(c, r->kind);
			int64_t until;

			if (!free_slot(s)) {
				*more = true;
				break;
			}
			if (!sender_bucket_ready(b, rate, now))
				continue;
			rc = dest_hold(s, r, now, &until);
			if (rc == RC_OK && until) {
				IN_TXN(s->db, outbox_defer(s->db, r->id, until));
				log_info("outbox %lld: alert %s to %s held for %llds by the per-destination limit",
				         (long long)r->id, r->kind == OUTBOX_CALL ? "call" : "text", LOG_PHONE(r->to),
				         (long long)((until - now + 999) / 1000));
				deferred = true;
				continue;
			}
			if (rc == RC_OK) {
				claimed[i] = claim_row(s, r, now);
				if (claimed[i])
					sender_bucket_take(b, rate);
			}
		}
		if (open) {
			/* claims and answers commit together; a failure undoes both (commit_answers) */
			if (rc != RC_OK) {
				db_rollback(s->db);
				log_err("outbox: %zu answers from Twilio could not be recorded; those rows will be "
				        "looked up",
				        s->answers_open);
				s->answers_open = 0;
			} else
				rc = commit_answers(s);
		} else if (txn && rc == RC_OK)
			rc = db_commit(s->db);
		if (!open && txn && rc != RC_OK)
			db_rollback(s->db);
		for (i = 0; i < n; i++) {
			if (!claimed[i])
				continue;
			if (rc == RC_OK)
				submit_row(s, &rows[i], claimed[i], now);
			else
				claimed[i]->used = false; /* nothing was claimed: the rows are as they were */
			claimed[i] = NULL;
		}
		outbox_rows_release(rows, n);
		if (!deferred)
			break;
	}
	if (db_in_transaction(s->db)) { /* answers left open by a round that claimed nothing */
		enum rc crc = commit_answers(s);

		if (rc == RC_OK)
			rc = crc;
	}
	return rc;
}

/* ---- reconciliation ---- */

#define MAX_CANDIDATES SENDER_SIBLINGS_MAX

/* A resource Twilio has that no row carries yet and that could be one of ours. */
struct candidate {
	char sid[TWILIO_FIELD_MAX];
	char status[TWILIO_FIELD_MAX];
	int64_t created_at;
};

struct match_ctx {
	struct sender *s;
	const struct outbox_row *row;
	int64_t lo, hi; /* created_at window, seconds */
	bool by_body;   /* a resource must end with the row's body */
	struct candidate c[MAX_CANDIDATES];
	size_t n;
	bool failed;
};

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

static bool match_item(void *ctx, const struct twilio_item *it)
{
	struct match_ctx *m = ctx;
	bool known = false;

	if (it->created_at && it->created_at < m->lo)
		return false; /* newest first: everything further is older still */
	if (it->created_at > m->hi)
		return true;
	/* Twilio may prefix the body (trial accounts); ours is the end of it. */
	if (m->by_body && !ends_with(it->body, m->row->body ? m->row->body : ""))
		return true;
	/* A SID already on a row is that row's: never matched to another. */
	if (outbox_sid_known(m->s->db, it->sid, &known) != RC_OK) {
		m->failed = true;
		return false;
	}
	if (known || m->n == MAX_CANDIDATES)
		return true;
	snprintf(m->c[m->n].sid, sizeof m->c[m->n].sid, "%s", it->sid);
	snprintf(m->c[m->n].status, sizeof m->c[m->n].status, "%s", it->status);
	m->c[m->n].created_at = it->created_at;
	m->n++;
	return true;
}

/* Oldest first; the list came newest first, so among equal times the later in it is older. */
static void oldest_first(struct candidate *c, size_t n)
{
	size_t i, j;

	for (i = 0; i < n / 2; i++) {
		struct candidate t = c[i];

		c[i] = c[n - 1 - i];
		c[n - 1 - i] = t;
	}
	for (i = 1; i < n; i++) /* stable insertion sort by created_at: n is small */
		for (j = i; j > 0 && c[j - 1].created_at > c[j].created_at; j--) {
			struct candidate t = c[j];

			c[j] = c[j - 1];
			c[j - 1] = t;
		}
}

static bool same_text(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/*
 * Whether Twilio's resource for row r carries r's body, so that it is matched by it: texts, and
 * WhatsApp messages while no template is configured. A WhatsApp message may have gone as the
 * template (use_template), whose resource's body is the template rendered at Twilio, never our
 * text: with a template configured such rows are matched, as calls are, by To, From and time.
 */
static bool matched_by_body(struct sender *s, const struct outbox_row *r)
{
	if (r->kind == OUTBOX_CALL)
		return false;
	return r->kind != OUTBOX_WHATSAPP || !s->app->cfg->whatsapp_template_sid;
}

/* Twilio could not be asked, or a look-alike is not settled yet: r is looked up again at `at`. */
static void look_again(struct sender *s, const struct outbox_row *r, int64_t at, const char *why)
{
	enum rc rc;

	IN_TXN(s->db, outbox_mark_unknown(s->db, r->id, at, why, clock_now_ms()));
	(void)rc;
}

/*
 * Settles one row found in 'sending' past its deadline. With a SID: GET it. Without: every
 * look-alike row (same kind, To and From, attempted within 2 × SENDER_SKEW_S) is settled by the
 * same rule, and only once none of them can still be answered (all past their deadline, none
 * in flight): Twilio's resources of that To and From created around their attempts that no row
 * carries (for texts, with the row's body; not for WhatsApp rows that may have gone as the
 * template, see matched_by_body) are matched in order, the oldest row taking the oldest
 * resource. Fewer resources than rows: rows that are interchangeable (same body, same call URL)
 * take what there is in order and the rest were never created; rows that are not (calls of
 * different attempts, WhatsApp templates of different texts) cannot be told apart and are
 * reported as 'undecided'.
 */
static void reconcile_row(struct sender *s, struct outbox_row *r, int64_t now)
{
	bool call = r->kind == OUTBOX_CALL, interchangeable = true, page = false, live = true;
	struct outbox_row sib[SENDER_SIBLINGS_MAX];
	size_t n_sib = 0, i, group = 0, rank = 0;
	struct match_ctx m;
	char to[OUTBOX_TEXT_MAX + 16], why[256];
	const char *from = r->from[0] ? r->from : from_of(s->app->cfg, r->kind);
	const struct candidate *found = NULL;
	struct candidate fetched;
	enum rc rc;

	memset(&m, 0, sizeof m);
	m.s = s;
	m.row = r;
	m.by_body = matched_by_body(s, r);
	if (r->sid[0]) {
		struct twilio_result res;

		rc = twilio_fetch(s->tw, call, r->sid, &res);
		if (rc == RC_OK && res.outcome == TWILIO_OK) {
			snprintf(fetched.sid, sizeof fetched.sid, "%s", r->sid);
			snprintf(fetched.status, sizeof fetched.status, "%s", res.status);
			found = &fetched;
		} else if (rc == RC_OK && res.http_status != 404)
			rc = RC_UPSTREAM;
	} else {
		int64_t lo = r->attempt_at_ms, hi = r->attempt_at_ms;

		rc = outbox_siblings(s->db, r, 2 * SENDER_SKEW_S * 1000LL, SENDER_SIBLINGS_MAX, sib, &n_sib);
		if (rc != RC_OK)
			return;
		for (i = 0; i < n_sib; i++) {
			const struct outbox_row *o = &sib[i];

			if (in_flight(s, o->id) || o->next_at_ms > now) {
				snprintf(why, sizeof why,
				         "interrupted send: waiting for look-alike outbox %lld to be answered or pass "
				         "its deadline before looking both up",
				         (long long)o->id);
				look_again(s, r, o->next_at_ms > now ? o->next_at_ms : now + 1000, why);
				outbox_rows_release(sib, n_sib);
				return;
			}
			if (m.by_body && !same_text(o->body, r->body))
				continue;
			if (call && !same_text(o->url, r->url))
				interchangeable = false;
			if (!call && !m.by_body && !same_text(o->body, r->body))
				interchangeable = false; /* templates of different alerts */
			if (o->id == r->id)
				rank = group;
			group++;
			if (o->attempt_at_ms < lo)
				lo = o->attempt_at_ms;
			if (o->attempt_at_ms > hi)
				hi = o->attempt_at_ms;
		}
		outbox_rows_release(sib, n_sib);
		if (!group)
			group = 1; /* r itself, should it not have been listed */
		m.lo = (lo ? lo : now) / 1000 - SENDER_SKEW_S;
		m.hi = (hi ? hi : now) / 1000 + SENDER_SKEW_S + SENDER_LOOKUP_DELAY_MS / 1000;
		to_address(r, to, sizeof to);
		rc = from ? twilio_list(s->tw, call, to, from, SENDER_LOOKUP_PAGES, match_item, &m) : RC_INVALID;
		if (rc == RC_OK && m.failed)
			rc = RC_DB;
		if (rc == RC_OK) {
			oldest_first(m.c, m.n);
			if (m.n >= group || (m.n > 0 && interchangeable)) {
				if (rank < m.n)
					found = &m.c[rank];
			} else if (m.n > 0) {
				snprintf(why, sizeof why,
				         "undecided: Twilio has %zu of %zu look-alike %s to %s made around then and "
				         "cannot tell which; not sent again",
				         m.n, group, call ? "calls" : "messages", LOG_PHONE(r->to));
				IN_TXN(s->db, outbox_mark_undecided(s->db, r->id, why, now));
				if (rc == RC_OK) {
					log_err("outbox %lld: %s", (long long)r->id, why);
					metrics_count(s->app->metrics, "plantao_outbox_undecided_total", NULL, 1);
				}
				return;
			}
		}
	}
	if (rc != RC_OK) {
		look_again(s, r, now + SENDER_LOOKUP_RETRY_MS,
		           "interrupted send: Twilio could not be asked yet; looking it up again");
		log_warn("outbox %lld: interrupted send not settled yet (Twilio could not be asked)", (long long)r->id);
		return;
	}
	if (found) {
		/* also when the row had its SID already: it is kept, the status is settled */
		IN_TXN(s->db, record_sid(s, r->id, r->kind, found->sid, found->status));
		if (rc == RC_OK) {
			log_info("outbox %lld: interrupted send found at Twilio as %s (%s); not sending again",
			         (long long)r->id, found->sid, found->status);
			count_sent(s, r->kind, r->encoding, r->segments);
		}
		return;
	}
	if (outbox_page_is_live(s->db, r->id, &page, &live) == RC_OK && page && !live) {
		IN_TXN(s->db, cancel_page(s, r->id, "not sent: its alert was acknowledged or resolved first"));
		return;
	}
	log_info("outbox %lld: interrupted send not found at Twilio; sending again", (long long)r->id);
	{
		int64_t next = r->attempt_at_ms + sender_backoff_ms(r->tries, -1, (uint32_t)rand_r(&s->seed));

		IN_TXN(s->db, retry_or_dead(s, r->id, r->tries, 0, "interrupted send, not found at Twilio",
		                            next > now ? next : now));
	}
}

/* Ends the calls of closed alerts (outbox_cancel_pages, record_sid) through the REST API. */
static enum rc end_calls(struct sender *s, int64_t now)
{
	struct outbox_row rows[SENDER_LOOKUP_PER_TICK];
	size_t n, i;
	enum rc rc = outbox_hangups_due(s->db, now, SENDER_LOOKUP_PER_TICK, rows, &n);

	if (rc != RC_OK)
		return rc;
	for (i = 0; i < n; i++) {
		struct outbox_row *r = &rows[i];
		struct twilio_result res;

		if (!r->sid[0] || status_call_is_final(r->status)) {
			IN_TXN(s->db, outbox_hangup_result(s->db, r->id, 0, "not needed: the call had ended"));
			continue;
		}
		rc = twilio_end_call(s->tw, r->sid, &res);
		if (rc == RC_OK && res.outcome == TWILIO_OK) {
			IN_TXN(s->db, outbox_hangup_result(s->db, r->id, 0, "done"));
			log_info("outbox %lld: call %s to %s ended (its alert was acknowledged or resolved)",
			         (long long)r->id, r->sid, LOG_PHONE(r->to));
			metrics_count(s->app->metrics, "plantao_calls_ended_total", NULL, 1);
			continue;
		}
		IN_TXN(s->db, note_result(s, &res));
		/* Refused for good (not found, not in a state to end): given up. Otherwise (Twilio not
		 * reached, 5xx, 429, credentials) tried again until the call has ended by itself. */
		if (rc == RC_OK && res.outcome == TWILIO_PERMANENT && !is_auth_error(res.error_code) &&
		    res.http_status != 401) {
			char why[320];

			snprintf(why, sizeof why, "failed: HTTP %ld %d %s", res.http_status, res.error_code,
			         res.error_message);
			IN_TXN(s->db, outbox_hangup_result(s->db, r->id, 0, why));
			log_err("outbox %lld: could not end call %s to %s (%s); it rings until it times out",
			        (long long)r->id, r->sid, LOG_PHONE(r->to), why);
			continue;
		}
		log_warn("outbox %lld: could not end call %s to %s yet (%s); trying again", (long long)r->id, r->sid,
		         LOG_PHONE(r->to), res.error_message);
		IN_TXN(s->db, outbox_hangup_result(s->db, r->id, now + SENDER_HANGUP_RETRY_MS, "requested"));
	}
	outbox_rows_release(rows, n);
	return RC_OK;
}

static enum rc reconcile(struct sender *s, int64_t now)
{
	struct outbox_row rows[SENDER_LOOKUP_PER_TICK];
	size_t n, i;
	enum rc rc = outbox_stuck(s->db, now, SENDER_LOOKUP_PER_TICK, rows, &n);

	if (rc != RC_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (!in_flight(s, rows[i].id))
			reconcile_row(s, &rows[i], now);
	outbox_rows_release(rows, n);
	return RC_OK;
}

/* Fetches calls whose callbacks seem lost and applies what Twilio says about them. */
static enum rc refresh_calls(struct sender *s, int64_t now)
{
	struct outbox_row rows[SENDER_LOOKUP_PER_TICK];
	size_t n, i;
	enum rc rc = outbox_stale_calls(s->db, now / 1000 - SENDER_CALL_REFRESH_S, SENDER_LOOKUP_PER_TICK, rows, &n);

	if (rc != RC_OK)
		return rc;
	for (i = 0; i < n; i++) {
		struct twilio_result res;
		struct status_update u;
		bool applied = false;

		if (twilio_fetch(s->tw, true, rows[i].sid, &res) != RC_OK || res.outcome != TWILIO_OK)
			continue; /* asked again at the next refresh */
		memset(&u, 0, sizeof u);
		u.call = true;
		u.sid = rows[i].sid;
		u.status = res.status;
		u.seq = -1;
		u.duration_s = res.duration_s;
		u.answered_by = res.answered_by[0] ? res.answered_by : NULL;
		IN_TXN(s->db, status_apply(s->app, s->db, &u, &applied));
		if (rc == RC_OK && applied)
			log_info("outbox %lld: call %s is %s at Twilio (its status callback never came)",
			         (long long)rows[i].id, rows[i].sid, res.status);
	}
	outbox_rows_release(rows, n);
	return RC_OK;
}

/* ---- the job ---- */

enum rc sender_start(struct app *app, struct db *db, void **state)
{
	struct sender *s = calloc(1, sizeof *s);

	*state = NULL;
	if (!s)
		return RC_INTERNAL;
	s->app = app;
	s->db = db;
	s->seed = (unsigned int)clock_mono_us();
	if (mailer_start(app, &s->mailer) != RC_OK)
		log_err("e-mail: the mailer thread could not start; e-mails stay pending");
	*state = s;
	return RC_OK;
}

static void add_pending(void *ctx, const char *status, int64_t n)
{
	if (!strcmp(status, "pending"))
		*(int64_t *)ctx += n;
}

enum rc sender_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct sender *s = state;
	const struct cfg *c = app->cfg;
	int64_t t0 = clock_mono_us();
	bool more = false;
	enum rc rc;

	s->db = db;
	if (!cfg_has_twilio(c)) {
		int64_t pending = 0;

		if (!s->demo_logged && outbox_depth(db, add_pending, &pending) == RC_OK && pending > 0) {
			log_warn("outbox: %lld message(s)/call(s) pending and not sent: Twilio credentials are not set "
			         "(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM); they stay pending until they "
			         "are",
			         (long long)pending);
			s->demo_logged = true;
		}
		return RC_OK;
	}
	if (!s->tw) {
		rc = twilio_new(c->twilio_api_base, c->twilio_sid, c->twilio_token, c->public_url, &s->tw);
		if (rc != RC_OK)
			return rc;
	}
	if (now_ms >= s->next_prune_ms) {
		outbox_early_prune(db, now_ms - SENDER_EARLY_KEEP_MS);
		s->next_prune_ms = now_ms + 60 * 1000;
	}
	rc = reconcile(s, now_ms);
	if (rc == RC_OK)
		rc = end_calls(s, now_ms);
	if (rc == RC_OK && now_ms >= s->next_refresh_ms) {
		rc = refresh_calls(s, now_ms);
		s->next_refresh_ms = now_ms + 30 * 1000;
	}
	for (;;) {
		int64_t spent_ms;

		if (rc == RC_OK)
			rc = fill(s, clock_now_ms(), &more); /* commits the answers collected below */
		else
			commit_answers(s);
		if (!twilio_in_flight(s->tw))
			break;
		spent_ms = (clock_mono_us() - t0) / 1000;
		/* A handler that queued something new (an alert) woke the engine: yield so the
		 * other jobs run now; transfers in flight carry on at the next tick. */
		if (spent_ms >= SENDER_BUDGET_MS || app->stopping || app_wake_is_pending(app))
			break;
		twilio_run(s->tw, (int)(SENDER_BUDGET_MS - spent_ms < 50 ? SENDER_BUDGET_MS - spent_ms : 50));
		collect(s, true);
	}
	if (more || twilio_in_flight(s->tw))
		app_wake_engine(app); /* work left: come back without the tick's pause */
	return rc;
}

void sender_stop(void *state)
{
	struct sender *s = state;
	int64_t t0 = clock_mono_us();

	if (!s)
		return;
	/* Answers already on their way are recorded; the rest is looked up at the next start. */
	while (s->tw && twilio_in_flight(s->tw) && clock_mono_us() - t0 < 3000000) {
		twilio_run(s->tw, 50);
		collect(s, false);
	}
	twilio_free(s->tw);
	mailer_stop(s->mailer);
	free(s);
}
