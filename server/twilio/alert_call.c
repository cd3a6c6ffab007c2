/*
 * server/twilio/alert_call.c — TwiML for the outbound calls of the alert pager (see
 * server/twilio/alert_call.h). Every answer records what happened on the call attempt (CallSid,
 * AnsweredBy, digits, outcome) in the same transaction that acts on it, so the timeline shows
 * it and a restart changes nothing. Callback URLs are absolute and carry no query string
 * (signatures are computed over PLANTAO_PUBLIC_URL + path).
 */
#include "twilio/alert_call.h"

#include <stdio.h>
#include <string.h>

#include "db/alerts.h"
#include "db/call_redirects.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/people.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "pager/escalation.h"
#include "core/log.h"
#include "http/metrics.h"
#include "twiml/twiml.h"

__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

static void say(struct twiml *t, struct app *app, const char *text)
{
	bool en = app_lang_en(app);

	twiml_say(t, text, en ? "Polly.Joanna" : "Polly.Camila", en ? "en-US" : "pt-BR");
}

static enum rc say_and_hang_up(struct http_req *req, const char *text)
{
	struct twiml *t = twiml_new();

	if (!t)
		return http_fail(req, RC_INTERNAL, "out of memory");
	if (text)
		say(t, req->app, text);
	twiml_hangup(t);
	return http_reply_twiml(req, t);
}

/* What a paged person hears when the call's attempt is not known (a restored database, a broken id). */
#define UNKNOWN_PT "Este alerta do plantão não foi encontrado. Veja os alertas abertos no console do plantão."
#define UNKNOWN_EN "This on-call alert was not found. See the open alerts in the plantão console."

/* The alerts of a call that are still open (triggered or exhausted) and whose attempt has not ended. */
struct live {
	struct alerts_on_call on[ALERTS_BUNDLE_MAX];
	size_t n;
};

static bool is_open(const char *status)
{
	return strcmp(status, "triggered") == 0 || strcmp(status, "exhausted") == 0;
}

/*
 * The alerts call attempt t carries (every attempt on its outbox row): open ones whose attempt
 * has not ended, and only those already read to the person when read_only.
 */
static enum rc live_alerts_of(struct db *db, const struct alerts_attempt *t, const struct alerts_row *a, bool read_only,
                              bool with_ended, struct live *out)
{
	struct alerts_on_call all[ALERTS_BUNDLE_MAX];
	size_t n = 0, i;
	enum rc rc = RC_OK;

	out->n = 0;
	if (t->outbox_id) {
		rc = alerts_on_call(db, t->outbox_id, all, ALERTS_BUNDLE_MAX, &n);
	} else { /* a call queued before bundles: it carries its own attempt only */
		memset(all, 0, sizeof all[0]);
		all[0].attempt_id = t->id;
		all[0].alert_id = a->id;
		all[0].round = t->round;
		all[0].step = t->step;
		all[0].person_id = t->person_id;
		snprintf(all[0].status, sizeof all[0].status, "%s", a->status);
		snprintf(all[0].summary, sizeof all[0].summary, "%s", a->summary);
		all[0].ended = t->ended_at != 0;
		n = 1;
	}
	for (i = 0; i < n && rc == RC_OK; i++)
		if ((!all[i].ended || with_ended) && is_open(all[i].status) && (all[i].read || !read_only))
			out->on[out->n++] = all[i];
	return rc;
}

static enum rc live_alerts(struct db *db, const struct alerts_attempt *t, const struct alerts_row *a, bool read_only,
                           struct live *out)
{
	return live_alerts_of(db, t, a, read_only, false, out);
}

/* The alerts said twice inside a one-digit <Gather>, then a goodbye if no key came. */
static enum rc gather_reply(struct http_req *req, const struct live *l, int64_t attempt_id)
{
	struct twiml_gather g = {0};
	struct twiml *t = twiml_new();
	char action[1024], msg[ALERTS_BUNDLE_MAX * (ALERTS_SUMMARY_MAX + 32) + 256];
	size_t used = 0, i;
	int w;

	if (!t)
		return http_fail(req, RC_INTERNAL, "out of memory");
	snprintf(action, sizeof action, "%s/twilio/alert-call/%lld/gather", req->app->cfg->public_url,
	         (long long)attempt_id);
	if (l->n == 1) {
		snprintf(msg, sizeof msg,
		         L(req->app, "Alerta %lld: %s. Pressione 1 para assumir, 2 para passar adiante.",
		           "Alert %lld: %s. Press 1 to acknowledge, 2 to pass it on."),
		         (long long)l->on[0].alert_id, l->on[0].summary);
	} else {
		w = snprintf(msg, sizeof msg, L(req->app, "%zu alertas abertos.", "%zu open alerts."), l->n);
		used = w > 0 ? (size_t)w : 0;
		for (i = 0; i < l->n && used < sizeof msg; i++) {
			w = snprintf(msg + used, sizeof msg - used,
			             L(req->app, " Alerta %lld: %s.", " Alert %lld: %s."), (long long)l->on[i].alert_id,
			             l->on[i].summary);
			used += w > 0 ? (size_t)w : 0;
		}
		if (used < sizeof msg)
			snprintf(msg + used, sizeof msg - used, "%s",
			         L(req->app, " Pressione 1 para assumir todos, 2 para passar adiante.",
			           " Press 1 to acknowledge them all, 2 to pass them on."));
	}
	g.num_digits = 1;
	g.action = action;
	g.method = "POST";
	g.timeout = ALERT_CALL_GATHER_TIMEOUT;
	twiml_gather_begin(t, &g);
	say(t, req->app, msg);
	twiml_pause(t, 1);
	say(t, req->app, msg);
	twiml_gather_end(t);
	say(t, req->app,
	    L(req->app, "Nenhuma tecla recebida. O alerta vai para a próxima pessoa.",
	      "No key pressed. The alert goes to the next person."));
	twiml_hangup(t);
	return http_reply_twiml(req, t);
}

/* Text for a call that reached someone after the alert was taken or resolved. */
static void closed_text(struct http_req *req, const struct alerts_row *a, char *out, size_t len)
{
	char name[PEOPLE_NAME_BYTES] = "";

	if (a->acked_by > 0)
		people_name(req->db, a->acked_by, name, sizeof name);
	if (strcmp(a->status, "resolved") == 0)
		snprintf(out, len,
		         L(req->app, "O alerta %lld já foi resolvido. Obrigado.",
		           "Alert %lld is already resolved. Thank you."),
		         (long long)a->id);
	else if (name[0])
		snprintf(out, len,
		         L(req->app, "O alerta %lld já foi assumido por %s. Obrigado.",
		           "Alert %lld was already acknowledged by %s. Thank you."),
		         (long long)a->id, name);
	else
		snprintf(out, len,
		         L(req->app, "O alerta %lld já foi assumido. Obrigado.",
		           "Alert %lld was already acknowledged. Thank you."),
		         (long long)a->id);
}

static bool is_machine(const char *answered_by)
{
	return answered_by && (strncmp(answered_by, "machine", 7) == 0 || strcmp(answered_by, "fax") == 0);
}

static const char *form_opt(struct http_req *req, const char *name)
{
	const char *v = form_get(&req->form, name);

	return v && *v ? v : NULL;
}

/* Loads the attempt of the route and its alert. */
static enum rc load(struct http_req *req, struct alerts_attempt *t, struct alerts_row *a)
{
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	rc = alerts_attempt_load(req->db, id, t);
	if (rc == RC_OK)
		rc = alerts_load(req->db, t->alert_id, a);
	return rc;
}

/* Everything on the call ends with outcome and moves on (the call of attempt t). */
static enum rc call_over(struct http_req *req, const struct alerts_attempt *t, const struct live *l,
                         const char *outcome, int64_t now)
{
	enum rc rc = RC_OK;
	size_t i;

	if (t->outbox_id)
		return escalation_call_ended(req->app, req->db, t->outbox_id, outcome, now);
	for (i = 0; i < l->n && rc == RC_OK; i++)
		rc = escalation_move_on(req->app, req->db, l->on[i].alert_id, l->on[i].round, l->on[i].step, now);
	return rc;
}

static enum rc call_twiml(struct http_req *req)
{
	const char *answered_by = form_opt(req, "AnsweredBy"), *sid = form_opt(req, "CallSid");
	struct alerts_attempt t;
	struct alerts_row a;
	struct live l = {0};
	char text[512];
	int64_t now = clock_now();
	bool machine = is_machine(answered_by);
	size_t i;
	enum rc rc;

	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = load(req, &t, &a);
	if (rc == RC_NOT_FOUND) {
		db_rollback(req->db);
		log_warn("alert call for unknown attempt %s", req->params[0]);
		return say_and_hang_up(req, L(req->app, UNKNOWN_PT, UNKNOWN_EN));
	}
	if (rc == RC_OK)
		rc = live_alerts(req->db, &t, &a, false, &l);
	if (rc == RC_OK)
		rc = alerts_attempt_update(req->db, t.id, "in-progress", answered_by, sid, false, now);
	for (i = 0; i < l.n && rc == RC_OK; i++) {
		rc = alerts_attempt_update(req->db, l.on[i].attempt_id, NULL, answered_by, sid, false, now);
		if (rc == RC_OK && !machine) /* what is read now is what the key 1 acknowledges */
			rc = alerts_attempt_read(req->db, l.on[i].attempt_id, now);
		if (rc == RC_OK && machine)
			rc = alerts_attempt_outcome(req->db, l.on[i].attempt_id, "machine", NULL, false);
	}
	if (rc == RC_OK && machine)
		rc = alerts_attempt_outcome(req->db, t.id, "machine", NULL, false);
	if (rc == RC_OK && machine && l.n) /* a machine is not a person: next step now */
		rc = call_over(req, &t, &l, "machine", now);
	if (rc == RC_OK && !l.n)
		rc = alerts_attempt_outcome(req->db, t.id, "late", NULL, false);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "cannot record the alert call");
	}
	if (machine) {
		int64_t id = l.n ? l.on[0].alert_id : a.id;

		app_wake_engine(req->app);
		log_info("alert %lld: attempt %lld reached a machine (%s)", (long long)a.id, (long long)t.id,
		         answered_by);
		snprintf(text, sizeof text,
		         L(req->app, "Alerta %lld do plantão: %s. Responda ack %lld por SMS para assumir.",
		           "On-call alert %lld: %s. Text ack %lld to acknowledge."),
		         (long long)id, l.n ? l.on[0].summary : a.summary, (long long)id);
		return say_and_hang_up(req, text);
	}
	if (!l.n) {
		closed_text(req, &a, text, sizeof text);
		return say_and_hang_up(req, text);
	}
	return gather_reply(req, &l, t.id);
}

/* "Alerta 4 assumido." or "Alertas 4, 5 e 6 assumidos." for the acknowledged ids. */
static void acked_text(struct http_req *req, const int64_t *ids, size_t n, char *out, size_t len)
{
	size_t used, i;
	int w;

	if (n == 1) {
		snprintf(out, len,
		         L(req->app, "Alerta %lld assumido. Obrigado.", "Alert %lld acknowledged. Thank you."),
		         (long long)ids[0]);
		return;
	}
	w = snprintf(out, len, "%s", L(req->app, "Alertas", "Alerts"));
	used = w > 0 ? (size_t)w : 0;
	for (i = 0; i < n && used < len; i++) {
		w = snprintf(out + used, len - used, "%s %lld",
		             i == 0       ? ""
		             : i + 1 == n ? L(req->app, " e", " and")
		                          : ",",
		             (long long)ids[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < len)
		snprintf(out + used, len - used, "%s",
		         L(req->app, " assumidos. Obrigado.", " acknowledged. Thank you."));
}

static enum rc gather_twiml(struct http_req *req)
{
	const char *digits = form_opt(req, "Digits");
	struct alerts_attempt t;
	struct alerts_row a;
	struct live l = {0};
	char text[ALERTS_BUNDLE_MAX * 24 + 64];
	int64_t now = clock_now(), acked[ALERTS_BUNDLE_MAX];
	size_t n_acked = 0, i;
	bool ack = digits && strcmp(digits, "1") == 0;
	enum rc rc;

	if (digits && strcmp(digits, "*") == 0) {
		rc = load(req, &t, &a);
		if (rc == RC_OK)
			rc = live_alerts(req->db, &t, &a, true, &l);
		if (rc == RC_NOT_FOUND)
			return say_and_hang_up(req, L(req->app, UNKNOWN_PT, UNKNOWN_EN));
		if (rc != RC_OK)
			return http_fail(req, rc, "cannot read the alert call");
		if (!l.n) {
			closed_text(req, &a, text, sizeof text);
			return say_and_hang_up(req, text);
		}
		return gather_reply(req, &l, t.id);
	}
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = load(req, &t, &a);
	if (rc == RC_NOT_FOUND) {
		db_rollback(req->db);
		log_warn("keypad answer for unknown alert call attempt %s", req->params[0]);
		return say_and_hang_up(req, L(req->app, UNKNOWN_PT, UNKNOWN_EN));
	}
	if (rc == RC_OK)
		rc = live_alerts(req->db, &t, &a, true, &l);
	if (rc == RC_OK && ack) {
		/* 1 acknowledges every alert this call read, for the person it reached */
		for (i = 0; i < l.n && rc == RC_OK; i++) {
			bool changed = false;

			rc = alerts_ack_tx(req->app, req->db, l.on[i].alert_id, l.on[i].person_id, "call", now,
			                   &changed);
			if (rc == RC_CONFLICT) /* resolved meanwhile: nothing to take */
				rc = RC_OK;
			if (rc == RC_OK)
				rc = alerts_attempt_outcome(req->db, l.on[i].attempt_id, changed ? "ack" : "late",
				                            digits, changed);
			if (rc == RC_OK && changed)
				acked[n_acked++] = l.on[i].alert_id;
		}
		if (rc == RC_OK && !l.n)
			rc = alerts_attempt_outcome(req->db, t.id, "late", digits, false);
	} else if (rc == RC_OK) {
		for (i = 0; i < l.n && rc == RC_OK; i++)
			rc = alerts_attempt_outcome(req->db, l.on[i].attempt_id, "pass", digits ? digits : "", false);
		if (rc == RC_OK)
			rc = call_over(req, &t, &l, "pass", now);
	}
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "cannot record the keypad answer");
	}
	app_wake_engine(req->app);
	for (i = 0; i < n_acked; i++)
		alerts_count(req->app, ALERTS_ACKNOWLEDGED);
	if (n_acked) {
		acked_text(req, acked, n_acked, text, sizeof text);
		return say_and_hang_up(req, text);
	}
	if (ack) {
		/* taken by someone else or resolved before this key press */
		if (alerts_load(req->db, a.id, &a) == RC_OK && a.acked_by == t.person_id && a.acked_by)
			snprintf(text, sizeof text,
			         L(req->app, "Alerta %lld assumido. Obrigado.", "Alert %lld acknowledged. Thank you."),
			         (long long)a.id);
		else
			closed_text(req, &a, text, sizeof text);
		return say_and_hang_up(req, text);
	}
	log_info("alert %lld: attempt %lld passed on (digits '%s')", (long long)a.id, (long long)t.id,
	         digits ? digits : "");
	return say_and_hang_up(req, L(req->app, "Certo, o alerta vai para a próxima pessoa.",
	                              "All right, the alert goes to the next person."));
}

/* ---- answering machines (AsyncAmd) ---- */

/* What an answering machine is left: the open alerts of the call, how to acknowledge by text. */
static void machine_text(struct http_req *req, const struct live *l, char *msg, size_t len)
{
	size_t used, i;
	int w;

	if (l->n == 1) {
		snprintf(msg, len,
		         L(req->app, "Alerta %lld do plantão: %s. Responda ack %lld por SMS para assumir.",
		           "On-call alert %lld: %s. Text ack %lld to acknowledge."),
		         (long long)l->on[0].alert_id, l->on[0].summary, (long long)l->on[0].alert_id);
		return;
	}
	w = snprintf(msg, len, L(req->app, "%zu alertas abertos do plantão.", "%zu open on-call alerts."), l->n);
	used = w > 0 ? (size_t)w : 0;
	for (i = 0; i < l->n && used < len; i++) {
		w = snprintf(msg + used, len - used, L(req->app, " Alerta %lld: %s.", " Alert %lld: %s."),
		             (long long)l->on[i].alert_id, l->on[i].summary);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < len)
		snprintf(msg + used, len - used, "%s",
		         L(req->app, " Responda ack por SMS para assumir todos, ou ack e o número para um.",
		           " Text ack to acknowledge them all, or ack and the number for one."));
}

static bool is_message_end(const char *answered_by)
{
	return answered_by && strncmp(answered_by, "machine_end_", 12) == 0;
}

/*
 * POST /twilio/alert-call/{attempt}/amd. A machine never acknowledges: its attempts end as
 * "machine" and the chain moves on at once; when its greeting has ended (machine_end_*), the
 * live call is queued to be redirected to .../machine, which leaves the whole message after the
 * beep. A person (human, unknown) changes nothing: they are already hearing the alert.
 */
static enum rc amd_twiml(struct http_req *req)
{
	const char *answered_by = form_opt(req, "AnsweredBy"), *sid = form_opt(req, "CallSid");
	struct alerts_attempt t;
	struct alerts_row a;
	struct live l = {0};
	char url[1024];
	int64_t now = clock_now();
	bool machine = is_machine(answered_by), queued = false;
	size_t i;
	enum rc rc;

	if (!answered_by)
		return http_fail(req, RC_INVALID, "AnsweredBy missing");
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = load(req, &t, &a);
	if (rc == RC_OK)
		rc = live_alerts(req->db, &t, &a, false, &l);
	if (rc == RC_OK)
		rc = alerts_attempt_update(req->db, t.id, NULL, answered_by, sid, false, now);
	for (i = 0; i < l.n && rc == RC_OK; i++) {
		rc = alerts_attempt_update(req->db, l.on[i].attempt_id, NULL, answered_by, sid, false, now);
		if (rc == RC_OK && machine)
			rc = alerts_attempt_outcome(req->db, l.on[i].attempt_id, "machine", NULL, false);
	}
	if (rc == RC_OK && machine && l.n)
		rc = call_over(req, &t, &l, "machine", now);
	if (rc == RC_OK && machine && l.n && sid && is_message_end(answered_by)) {
		snprintf(url, sizeof url, "%s/twilio/alert-call/%lld/machine", req->app->cfg->public_url,
		         (long long)t.id);
		rc = call_redirects_add(req->db, sid, url, clock_now_ms(), &queued);
	}
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "cannot record the answering machine");
	}
	if (machine && l.n) {
		app_wake_engine(req->app);
		metrics_count(req->app->metrics, "plantao_calls_machine_total", NULL, 1);
		log_info("alert %lld: attempt %lld reached %s (%s)%s", (long long)a.id, (long long)t.id,
		         strcmp(answered_by, "fax") ? "an answering machine" : "a fax", answered_by,
		         queued ? "; the message is left after the beep" : "");
	}
	return http_reply_twiml(req, twiml_new()); /* Twilio ignores this answer */
}

/* POST /twilio/alert-call/{attempt}/machine: the message an answering machine records. */
static enum rc machine_twiml(struct http_req *req)
{
	struct alerts_attempt t;
	struct alerts_row a;
	struct live l = {0};
	char msg[ALERTS_BUNDLE_MAX * (ALERTS_SUMMARY_MAX + 32) + 256];
	struct twiml *tw;
	enum rc rc = load(req, &t, &a);

	if (rc == RC_OK)
		rc = live_alerts_of(req->db, &t, &a, false, true, &l);
	if (rc != RC_OK)
		return rc;
	if (!l.n) {
		closed_text(req, &a, msg, sizeof msg);
		return say_and_hang_up(req, msg);
	}
	machine_text(req, &l, msg, sizeof msg);
	tw = twiml_new();
	if (!tw)
		return http_fail(req, RC_INTERNAL, "out of memory");
	say(tw, req->app, msg);
	twiml_pause(tw, 1);
	say(tw, req->app, msg);
	twiml_hangup(tw);
	return http_reply_twiml(req, tw);
}

/*
 * Twilio plays "an application error has occurred" for any answer that is not 200 TwiML, so an
 * error here (the database busy or failing) is logged as a warning and the person still hears
 * where to acknowledge instead.
 */
static enum rc or_fallback(struct http_req *req, enum rc rc)
{
	if (rc == RC_OK)
		return RC_OK;
	log_warn("%s %s: %s (%s); the person was told to use the console", req->method, req->path,
	         req->err[0] ? req->err : rc_str(rc), rc_str(rc));
	return say_and_hang_up(req, L(req->app,
	                              "Desculpe, o plantão não conseguiu registrar esta chamada. Veja os alertas "
	                              "abertos no console do plantão ou responda ack por SMS.",
	                              "Sorry, plantão could not record this call. See the open alerts in the "
	                              "plantão console or text ack."));
}

enum rc alert_call_twiml(struct http_req *req)
{
	return or_fallback(req, call_twiml(req));
}

enum rc alert_call_gather(struct http_req *req)
{
	return or_fallback(req, gather_twiml(req));
}

enum rc alert_call_amd(struct http_req *req)
{
	enum rc rc = amd_twiml(req);

	if (rc == RC_OK)
		return RC_OK;
	/* a callback: Twilio ignores the answer, but a retry of an error could come too late */
	log_warn("%s %s: %s (%s); answered with an empty document", req->method, req->path,
	         req->err[0] ? req->err : rc_str(rc), rc_str(rc));
	return http_reply_twiml(req, twiml_new());
}

enum rc alert_call_machine(struct http_req *req)
{
	return or_fallback(req, machine_twiml(req));
}

enum rc alert_call_unknown_route(struct http_req *req)
{
	log_warn("%s %s: no alert-call route for that path", req->method, req->path);
	return say_and_hang_up(req, L(req->app, UNKNOWN_PT, UNKNOWN_EN));
}
