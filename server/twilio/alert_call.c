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
#include "db/db.h"
#include "db/escalation.h"
#include "db/people.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "pager/escalation.h"
#include "core/log.h"
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

/* The alert said twice inside a one-digit <Gather>, then a goodbye if no key came. */
static enum rc gather_reply(struct http_req *req, const struct alerts_row *a, int64_t attempt_id)
{
	struct twiml_gather g = {0};
	struct twiml *t = twiml_new();
	char action[1024], msg[512];

	if (!t)
		return http_fail(req, RC_INTERNAL, "out of memory");
	snprintf(action, sizeof action, "%s/twilio/alert-call/%lld/gather", req->app->cfg->public_url,
	         (long long)attempt_id);
	snprintf(msg, sizeof msg,
	         L(req->app, "Alerta %lld: %s. Pressione 1 para assumir, 2 para passar adiante.",
	           "Alert %lld: %s. Press 1 to acknowledge, 2 to pass it on."),
	         (long long)a->id, a->summary);
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

enum rc alert_call_twiml(struct http_req *req)
{
	const char *answered_by = form_opt(req, "AnsweredBy"), *sid = form_opt(req, "CallSid");
	struct alerts_attempt t;
	struct alerts_row a;
	char text[512];
	int64_t now = clock_now();
	bool open, machine = is_machine(answered_by);
	enum rc rc;

	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = load(req, &t, &a);
	if (rc == RC_NOT_FOUND) {
		db_rollback(req->db);
		log_warn("alert call for unknown attempt %s", req->params[0]);
		return say_and_hang_up(req, NULL);
	}
	open = rc == RC_OK && (strcmp(a.status, "triggered") == 0 || strcmp(a.status, "exhausted") == 0);
	if (rc == RC_OK)
		rc = alerts_attempt_update(req->db, t.id, "in-progress", answered_by, sid, false, now);
	if (rc == RC_OK && machine)
		rc = alerts_attempt_outcome(req->db, t.id, "machine", NULL, false);
	if (rc == RC_OK && machine && open) /* a machine is not a person: next step now */
		rc = escalation_move_on(req->app, req->db, a.id, t.round, t.step, now);
	if (rc == RC_OK && !open)
		rc = alerts_attempt_outcome(req->db, t.id, "late", NULL, false);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "cannot record the alert call");
	}
	if (machine) {
		app_wake_engine(req->app);
		log_info("alert %lld: attempt %lld reached a machine (%s)", (long long)a.id, (long long)t.id,
		         answered_by);
		snprintf(text, sizeof text,
		         L(req->app, "Alerta %lld do plantão: %s. Responda ack %lld por SMS para assumir.",
		           "On-call alert %lld: %s. Text ack %lld to acknowledge."),
		         (long long)a.id, a.summary, (long long)a.id);
		return say_and_hang_up(req, text);
	}
	if (!open) {
		closed_text(req, &a, text, sizeof text);
		return say_and_hang_up(req, text);
	}
	return gather_reply(req, &a, t.id);
}

enum rc alert_call_gather(struct http_req *req)
{
	const char *digits = form_opt(req, "Digits");
	struct alerts_attempt t;
	struct alerts_row a;
	char text[512];
	int64_t now = clock_now();
	bool changed = false, ack = digits && strcmp(digits, "1") == 0;
	enum rc rc;

	if (digits && strcmp(digits, "*") == 0) {
		rc = load(req, &t, &a);
		if (rc == RC_NOT_FOUND)
			return say_and_hang_up(req, NULL);
		if (rc != RC_OK)
			return http_fail(req, rc, "cannot read the alert call");
		if (strcmp(a.status, "triggered") != 0 && strcmp(a.status, "exhausted") != 0) {
			closed_text(req, &a, text, sizeof text);
			return say_and_hang_up(req, text);
		}
		return gather_reply(req, &a, t.id);
	}
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = load(req, &t, &a);
	if (rc == RC_NOT_FOUND) {
		db_rollback(req->db);
		return say_and_hang_up(req, NULL);
	}
	if (rc == RC_OK && ack) {
		rc = alerts_ack_tx(req->app, req->db, a.id, t.person_id, "call", now, &changed);
		if (rc == RC_CONFLICT) /* resolved meanwhile: nothing to take */
			rc = RC_OK;
		if (rc == RC_OK)
			rc = alerts_attempt_outcome(req->db, t.id, changed ? "ack" : "late", digits, changed);
	} else if (rc == RC_OK) {
		rc = alerts_attempt_outcome(req->db, t.id, "pass", digits ? digits : "", false);
		if (rc == RC_OK)
			rc = escalation_move_on(req->app, req->db, a.id, t.round, t.step, now);
	}
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return http_fail(req, rc, "cannot record the keypad answer");
	}
	app_wake_engine(req->app);
	if (ack && changed)
		alerts_count(req->app, ALERTS_ACKNOWLEDGED);
	if (ack && changed) {
		snprintf(text, sizeof text,
		         L(req->app, "Alerta %lld assumido. Obrigado.", "Alert %lld acknowledged. Thank you."),
		         (long long)a.id);
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
