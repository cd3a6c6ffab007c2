/*
 * server/pager/escalation.c — the escalation state machine of alerts (the policy's API is
 * server/api/api_escalation.c; see
 * server/pager/escalation.h for the invariants). Every function that changes rows runs inside a
 * transaction its caller opened; escalation_run() opens one short transaction per alert.
 *
 * Alert: triggered (step -1) --start--> texts queued, call of (round 0, step 0) queued
 *        triggered (round r, step s) --move on--> call of the next step, or of step 0 of the
 *        next round, or exhausted (with a last text) after the last step of the last round.
 * A step whose target resolves to nobody (no rotation, empty rotation) is skipped. An alert
 * nobody can be paged for stays at step -1, marked unpaged with the reason, and is looked at
 * again every ESCALATION_RECHECK_S. Severity: below the policy's call_min_severity an alert is
 * only texted (step 0 without a deadline); info (below warning) is only recorded.
 *
 * Bundles: a person is never sent one page per alert. An alert for somebody who already has a
 * page call not answered yet joins that call (its attempt shares the call's outbox row, and
 * the call reads every alert on it); an alert for somebody who has a page text waiting (held
 * by the sender's per-phone limit) joins that text, which is rewritten to list every open
 * alert. Nothing is held back to make a bundle: the first page of a storm goes at once, the
 * rest ride on what is still ringing or waiting. When a call ends, every alert on it moves on
 * together.
 *
 * Step deadlines count from the moment Twilio accepted the step's call (outbox.sent_at), not
 * from when it was queued: a call held back by a per-phone limit or by retries keeps its step
 * open until it has really rung for timeout_s.
 */
#include "pager/escalation.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/alerts.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/people.h"
#include "db/outbox.h"
#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/metrics.h"

/* The text in PLANTAO_LANG; both are checked as format strings where they are used as such. */
__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

/* The people "oncall" and "next" resolve to at one instant, loaded once per use. */
struct targets {
	bool loaded;
	int64_t oncall, next;
};

static enum rc resolve(struct db *db, const struct escalation_step *e, int64_t now, struct targets *t,
                       struct person *out)
{
	int64_t id = 0;
	enum rc rc;

	if (e->target == ESCALATION_PERSON) {
		id = e->person_id;
	} else {
		if (!t->loaded) {
			rc = escalation_rotation(db, now, &t->oncall, &t->next);
			if (rc != RC_OK)
				return rc;
			t->loaded = true;
		}
		id = e->target == ESCALATION_ONCALL ? t->oncall : t->next;
	}
	if (id <= 0)
		return RC_NOT_FOUND;
	return people_get(db, id, out);
}

/* ---------------------------------------------------------------- texts */

struct notify_ctx {
	struct app *app;
	struct db *db;
	int64_t id;
	const char *tag;
	const char *body;
	enum rc rc;
};

static void notify_one(void *p, const char *kind, const char *to, bool opted_out)
{
	struct notify_ctx *c = p;
	struct outbox_msg m = {0};
	char key[160];
	enum rc rc;

	if (c->rc != RC_OK)
		return;
	if (strcmp(kind, "sms") == 0 && opted_out)
		return;
	if (strcmp(kind, "whatsapp") == 0 && !c->app->cfg->whatsapp_from)
		return;
	snprintf(key, sizeof key, "alert:%lld:%s:%s:%s", (long long)c->id, c->tag, kind, to);
	m.kind = strcmp(kind, "whatsapp") == 0 ? OUTBOX_WHATSAPP : OUTBOX_SMS;
	m.class_ = "ack";
	m.priority = OUTBOX_PRIO_ALERT;
	m.to = to;
	m.body = c->body;
	m.idem_key = key;
	m.owner_type = "alert";
	m.owner_id = c->id;
	rc = outbox_enqueue(c->db, &m, NULL);
	if (rc != RC_OK)
		c->rc = rc;
}

enum rc escalation_notify(struct app *app, struct db *db, int64_t id, const char *tag, const char *body)
{
	struct notify_ctx c = {app, db, id, tag, body, RC_OK};
	enum rc rc = alerts_texted(db, id, notify_one, &c);

	return rc != RC_OK ? rc : c.rc;
}

/* The text of a page listing ids[0..n) (n >= 1) into body; runbook (may be "") only for one alert. */
static void page_body(struct app *app, const int64_t *ids, const char *const *summaries, size_t n, const char *runbook,
                      char *body, size_t len)
{
	/* "ack" with no number takes every open alert paged to the person (server/pager/alerts.c) */
	const char *tail = L(app, "; responda 'ack' para assumir todos ou 'ack N' para um.",
	                     "; reply 'ack' to acknowledge all of them or 'ack N' for one.");
	size_t used, i;
	int w;

	if (n == 1 && runbook && *runbook) {
		snprintf(body, len,
		         L(app, "Alerta %lld: %s. Runbook: %s . Responda 'ack %lld' para assumir.",
		           "Alert %lld: %s. Runbook: %s . Reply 'ack %lld' to acknowledge."),
		         (long long)ids[0], summaries[0], runbook, (long long)ids[0]);
		return;
	}
	if (n == 1) {
		snprintf(body, len,
		         L(app, "Alerta %lld: %s. Responda 'ack %lld' para assumir.",
		           "Alert %lld: %s. Reply 'ack %lld' to acknowledge."),
		         (long long)ids[0], summaries[0], (long long)ids[0]);
		return;
	}
	w = snprintf(body, len, L(app, "%zu alertas abertos:", "%zu open alerts:"), n);
	used = w > 0 ? (size_t)w : 0;
	for (i = 0; i < n && used < len; i++) {
		/* room for this item and the tail, or a mark that more were left out */
		size_t need = strlen(summaries[i]) + 32 + strlen(tail);

		if (used + need >= len) {
			w = snprintf(body + used, len - used, L(app, " e mais %zu", " and %zu more"), n - i);
			used += w > 0 ? (size_t)w : 0;
			break;
		}
		w = snprintf(body + used, len - used, "%s #%lld %s", i ? "," : "", (long long)ids[i], summaries[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (used < len)
		snprintf(body + used, len - used, "%s", tail);
}

/* Rewrites waiting page text row to list its alerts that are still triggered. */
static enum rc rewrite_page_text(struct app *app, struct db *db, int64_t row)
{
	int64_t ids[ALERTS_BUNDLE_MAX];
	char summaries[ALERTS_BUNDLE_MAX][ALERTS_SUMMARY_MAX + 1], body[ESCALATION_TEXT_MAX];
	const char *sp[ALERTS_BUNDLE_MAX];
	size_t n = 0, i;
	enum rc rc = alerts_page_text_alerts(db, row, ids, summaries, ALERTS_BUNDLE_MAX, &n);

	if (rc != RC_OK || n == 0)
		return rc;
	for (i = 0; i < n; i++)
		sp[i] = summaries[i];
	if (n == 1) {
		struct alerts_row a;

		rc = alerts_load(db, ids[0], &a);
		if (rc != RC_OK)
			return rc;
		page_body(app, ids, sp, n, a.runbook_url, body, sizeof body);
	} else {
		page_body(app, ids, sp, n, NULL, body, sizeof body);
	}
	rc = alerts_page_text_update(db, row, body, ids[0]);
	return rc == RC_CONFLICT ? RC_OK : rc;
}

/*
 * The page text of alert a to p, who opted out of texts, is not sent; said once (this runs
 * once per alert and person, when the alert starts, in its transaction): a WARNING in the log
 * and an audit row "alert.text_skipped" on the alert (GET /api/audit) with who and why.
 * called: whether the alert's calls reach p (below call_min_severity they do not: p is not
 * paged for it at all).
 */
static enum rc text_opted_out(struct db *db, const struct alerts_row *a, const struct person *p, bool called)
{
	json_t *detail = json_pack("{s:I,s:s,s:s,s:b}", "person_id", (json_int_t)p->id, "kind", "sms", "reason",
	                           "opted_out", "called", called);
	enum rc rc = detail ? audit_log(db, "pager", "alert.text_skipped", a->id, detail) : RC_INTERNAL;

	json_decref(detail);
	if (rc == RC_OK)
		log_warn("alert %lld: no text to person %lld (%s): opted out (%s)", (long long)a->id, (long long)p->id,
		         p->name, called ? "calls still go out" : "and this severity is not called: not paged");
	return rc;
}

/*
 * The page of alert a to one person: SMS unless they texted STOP, WhatsApp if opted in. A
 * page text to them still waiting to be sent (held by the per-phone limit, retried) takes
 * the alert in and is rewritten to list every open alert it carries; otherwise a new text is
 * queued at once.
 */
static enum rc text_person(struct app *app, struct db *db, const struct alerts_row *a, const struct person *p,
                           bool called)
{
	static const char *const kinds[] = {"sms", "whatsapp"};
	size_t k;
	enum rc rc = RC_OK;

	for (k = 0; k < 2 && rc == RC_OK; k++) {
		struct outbox_msg m = {0};
		char key[128], body[ESCALATION_TEXT_MAX];
		int64_t row = 0;

		if (k == 0 && p->sms_opt_out) {
			rc = text_opted_out(db, a, p, called);
			continue;
		}
		if (k == 1 && !(p->whatsapp && app->cfg->whatsapp_from))
			continue;
		rc = alerts_open_page_text(db, kinds[k], p->phone, &row);
		if (rc == RC_OK) {
			rc = alerts_page_text_link(db, row, a->id);
			if (rc == RC_OK)
				rc = rewrite_page_text(app, db, row);
			if (rc == RC_OK)
				log_info("alert %lld joins the page text waiting for %s (outbox %lld)",
				         (long long)a->id, p->name, (long long)row);
			continue;
		}
		if (rc != RC_NOT_FOUND)
			break;
		const char *summary = a->summary;

		page_body(app, &a->id, &summary, 1, a->runbook_url, body, sizeof body);
		snprintf(key, sizeof key, "alert:%lld:%s:%s", (long long)a->id, kinds[k], p->phone);
		m.kind = k == 0 ? OUTBOX_SMS : OUTBOX_WHATSAPP;
		m.class_ = "alert";
		m.priority = OUTBOX_PRIO_ALERT;
		m.to = p->phone;
		m.body = body;
		m.idem_key = key;
		m.owner_type = "alert";
		m.owner_id = a->id;
		rc = outbox_enqueue(db, &m, &row);
		if (rc == RC_OK)
			rc = alerts_page_text_link(db, row, a->id);
	}
	return rc;
}

/* ---------------------------------------------------------------- the chain */

static const char *const call_over[] = {"completed", "busy", "no-answer", NULL};

static bool is_one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int64_t step_span(const struct app *app, const struct escalation_policy *p, int step)
{
	int timeout = step >= 0 && (size_t)step < p->n_steps ? p->steps[step].timeout_s : ESCALATION_DEFAULT_TIMEOUT;

	return timeout + ESCALATION_CALL_ALLOWANCE_S + app->cfg->callback_grace;
}

/* Whether alert a is texted (and called) at all under policy p, and whether it is called. */
static bool is_texted(const struct escalation_policy *p, const struct alerts_row *a)
{
	enum escalation_severity s = escalation_severity_of(a->severity[0] ? a->severity : NULL);

	return s >= ESCALATION_WARNING || s >= p->call_min;
}

static bool is_called(const struct escalation_policy *p, const struct alerts_row *a)
{
	return escalation_severity_of(a->severity[0] ? a->severity : NULL) >= p->call_min;
}

/*
 * Nobody could be paged for alert a: it stays triggered at step -1 with the reason, counted
 * once in plantao_pages_unpaged_total, and is looked at again in ESCALATION_RECHECK_S.
 */
static enum rc unpaged(struct app *app, struct db *db, const struct alerts_row *a, const char *reason, int64_t now)
{
	bool first = false;
	enum rc rc = alerts_set_unpaged(db, a->id, reason, now + ESCALATION_RECHECK_S, now, &first);

	if (rc == RC_OK && first) {
		log_warn("alert %lld: NOBODY PAGED: %s; looking again every %ds", (long long)a->id, reason,
		         ESCALATION_RECHECK_S);
		metrics_count(app->metrics, "plantao_pages_unpaged_total", NULL, 1);
	}
	return rc;
}

static enum rc exhaust(struct app *app, struct db *db, const struct alerts_row *a, int64_t now)
{
	char body[128];
	enum rc rc = alerts_set_exhausted(db, a->id, now);

	if (rc != RC_OK)
		return rc;
	rc = alerts_cancel_calls(db, a->id, now, NULL);
	if (rc != RC_OK)
		return rc;
	log_info("alert %lld exhausted: nobody acknowledged", (long long)a->id);
	snprintf(body, sizeof body, L(app, "Alerta %lld: ninguém assumiu.", "Alert %lld: nobody acknowledged."),
	         (long long)a->id);
	return escalation_notify(app, db, a->id, "exhausted", body);
}

/* Queues the call of attempt t (once: the outbox key is the attempt's). */
static enum rc queue_call(struct app *app, struct db *db, const struct alerts_attempt *t, int ring_s)
{
	struct outbox_msg m = {0};
	char key[64], url[1024];
	int64_t outbox_id;
	enum rc rc;

	snprintf(key, sizeof key, "attempt:%lld:call", (long long)t->id);
	snprintf(url, sizeof url, "%s/twilio/alert-call/%lld", app->cfg->public_url, (long long)t->id);
	m.kind = OUTBOX_CALL;
	m.class_ = "alert";
	m.priority = OUTBOX_PRIO_ALERT;
	m.to = t->phone;
	m.url = url;
	m.machine_detection = app->cfg->machine_detection;
	m.ring_timeout_s = ring_s; /* the step's timeout: ring that long, then the chain moves on */
	m.idem_key = key;
	m.owner_type = "call_attempt";
	m.owner_id = t->id;
	rc = outbox_enqueue(db, &m, &outbox_id);
	if (rc == RC_OK && t->outbox_id != outbox_id)
		rc = alerts_attempt_set_outbox(db, t->id, outbox_id);
	return rc;
}

/*
 * Whether a new alert call to phone would be held back by the sender's per-phone limits
 * (PLANTAO_DEST_PER_MINUTE, PLANTAO_DEST_PER_15MIN), counted the way the sender counts them.
 */
static enum rc call_allowance_used(struct app *app, struct db *db, const char *phone, int64_t now_ms, bool *used)
{
	const struct cfg *c = app->cfg;
	const struct {
		int limit;
		int64_t window_ms;
	} w[] = {{c->dest_per_minute, 60 * 1000}, {c->dest_per_15min, 15 * 60 * 1000}};
	size_t i;

	*used = false;
	for (i = 0; i < sizeof w / sizeof w[0] && !*used; i++) {
		int64_t n = 0, oldest = 0;
		enum rc rc;

		if (w[i].limit <= 0)
			continue;
		rc = outbox_dest_recent(db, phone, true, now_ms - w[i].window_ms, &n, &oldest);
		if (rc != RC_OK)
			return rc;
		*used = n >= w[i].limit;
	}
	return RC_OK;
}

/*
 * Attempt t goes on the person's call that is not answered yet, or on a new call. A call still
 * waiting in the outbox is always joined; one already placed (ringing) is joined when the
 * phone's allowance is used up, so a new call would only wait behind the limit while this one
 * rings — with the limits off, each alert keeps a call of its own.
 */
static enum rc place(struct app *app, struct db *db, const struct alerts_attempt *t, const struct person *who,
                     int ring_s)
{
	char status[16];
	int64_t call = 0;
	bool join = false;
	enum rc rc = alerts_joinable_call(db, who->phone, &call, status);

	if (rc == RC_OK) {
		join = strcmp(status, "pending") == 0 || strcmp(status, "retry") == 0;
		if (!join)
			rc = call_allowance_used(app, db, who->phone, clock_now_ms(), &join);
	} else if (rc == RC_NOT_FOUND) {
		rc = RC_OK;
	}
	if (rc != RC_OK)
		return rc;
	if (!join)
		return queue_call(app, db, t, ring_s);
	log_info("alert %lld joins the call to %s that is not answered yet (outbox %lld, %s)", (long long)t->alert_id,
	         who->name, (long long)call, status);
	return alerts_attempt_set_outbox(db, t->id, call);
}

/*
 * Calls the first step from (round, step) on whose target is somebody, or exhausts the alert
 * when the rounds are over. Each step is looked at once per round at most.
 */
static enum rc call_from(struct app *app, struct db *db, const struct alerts_row *a, const struct escalation_policy *p,
                         int round, int step, int64_t now, struct targets *tg)
{
	size_t guard;
	bool any;
	enum rc rc;

	for (guard = 0; guard <= p->n_steps * (size_t)p->rounds; guard++, step++) {
		struct person who;
		struct alerts_attempt t;
		bool created;

		if (step >= (int)p->n_steps) {
			step = 0;
			round++;
		}
		if (round >= p->rounds || p->n_steps == 0)
			break;
		rc = resolve(db, &p->steps[step], now, tg, &who);
		if (rc == RC_NOT_FOUND) {
			log_warn("alert %lld: step %d of round %d pages nobody (no one on call); skipped",
			         (long long)a->id, step, round);
			continue;
		}
		if (rc != RC_OK)
			return rc;
		rc = alerts_attempt_ensure(db, a->id, round, step, who.id, who.phone, now, &t, &created);
		if (rc == RC_OK && (created || !t.outbox_id))
			rc = place(app, db, &t, &who, p->steps[step].timeout_s);
		/* a first deadline from now; escalation_tick() moves it to count from Twilio's acceptance */
		if (rc == RC_OK)
			rc = alerts_set_step(db, a->id, round, step, now + step_span(app, p, step), now);
		if (rc == RC_OK)
			log_info("alert %lld: round %d step %d calls %s (attempt %lld)", (long long)a->id, round, step,
			         who.name, (long long)t.id);
		return rc;
	}
	/* exhausted only after somebody was really called */
	rc = alerts_has_attempts(db, a->id, &any);
	if (rc != RC_OK)
		return rc;
	if (!any)
		return unpaged(app, db, a, "nobody in the escalation policy can be called", now);
	return exhaust(app, db, a, now);
}

/* Who the policy's steps page at now, each person once: into who[], *n of them. */
static enum rc people_paged(struct db *db, const struct escalation_policy *p, int64_t now, struct targets *tg,
                            struct person *who, size_t *n)
{
	size_t i, j;
	enum rc rc;

	*n = 0;
	for (i = 0; i < p->n_steps; i++) {
		rc = resolve(db, &p->steps[i], now, tg, &who[*n]);
		if (rc == RC_NOT_FOUND)
			continue;
		if (rc != RC_OK)
			return rc;
		for (j = 0; j < *n && who[j].id != who[*n].id; j++)
			;
		if (j == *n)
			(*n)++;
	}
	return RC_OK;
}

/* Why nobody would be paged with nobody among the policy's targets (static text). */
static const char *nobody_reason(const struct escalation_policy *p)
{
	size_t i;

	if (p->n_steps == 0)
		return "the escalation policy has no steps";
	for (i = 0; i < p->n_steps; i++)
		if (p->steps[i].target == ESCALATION_PERSON)
			return "nobody in the escalation policy can be reached";
	return "nobody is on call";
}

static enum rc start(struct app *app, struct db *db, const struct alerts_row *a, int64_t now)
{
	struct escalation_policy p;
	struct targets tg = {0};
	struct person who[ESCALATION_MAX_STEPS];
	size_t n = 0, i;
	enum rc rc = escalation_load(db, &p);

	if (rc != RC_OK)
		return rc;
	if (!is_texted(&p, a)) {
		log_info("alert %lld: severity %s is recorded, nobody paged", (long long)a->id, a->severity);
		rc = alerts_set_step(db, a->id, 0, 0, 0, now);
		return rc == RC_OK ? alerts_set_unpaged(db, a->id, ESCALATION_REASON_INFO, 0, now, NULL) : rc;
	}
	rc = people_paged(db, &p, now, &tg, who, &n);
	if (rc != RC_OK)
		return rc;
	if (n == 0)
		return unpaged(app, db, a, nobody_reason(&p), now);
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = text_person(app, db, a, &who[i], is_called(&p, a));
	if (rc != RC_OK)
		return rc;
	log_info("alert %lld: texted %zu people", (long long)a->id, n);
	if (!is_called(&p, a)) {
		log_info("alert %lld: severity %s is texted, not called (call_min_severity %s)", (long long)a->id,
		         a->severity, escalation_severity_name(p.call_min));
		return alerts_set_step(db, a->id, 0, 0, 0, now);
	}
	return call_from(app, db, a, &p, 0, 0, now, &tg);
}

enum rc escalation_would_page(struct db *db, const char *severity, int64_t now, const char **reason)
{
	struct escalation_policy p;
	struct targets tg = {0};
	struct person who[ESCALATION_MAX_STEPS];
	struct alerts_row a;
	size_t n = 0;
	enum rc rc = escalation_load(db, &p);

	*reason = NULL;
	if (rc != RC_OK)
		return rc;
	memset(&a, 0, sizeof a);
	snprintf(a.severity, sizeof a.severity, "%s", severity ? severity : "");
	if (!is_texted(&p, &a)) {
		*reason = ESCALATION_REASON_INFO;
		return RC_OK;
	}
	rc = people_paged(db, &p, now, &tg, who, &n);
	if (rc == RC_OK && n == 0)
		*reason = nobody_reason(&p);
	return rc;
}

static enum rc move_on(struct app *app, struct db *db, int64_t id, int round, int step, int64_t now, bool siblings);

/*
 * The call of attempt `ended` carried other alerts' attempts too: the call is over for them
 * as well. Each takes the call's status and outcome and its alert moves on.
 */
static enum rc move_on_siblings(struct app *app, struct db *db, const struct alerts_attempt *ended, int64_t now)
{
	struct alerts_on_call on[ALERTS_BUNDLE_MAX];
	size_t n = 0, i;
	enum rc rc;

	if (!ended->outbox_id)
		return RC_OK;
	rc = alerts_on_call(db, ended->outbox_id, on, ALERTS_BUNDLE_MAX, &n);
	for (i = 0; i < n && rc == RC_OK; i++) {
		if (on[i].ended || on[i].attempt_id == ended->id)
			continue;
		rc = alerts_attempt_update(db, on[i].attempt_id,
		                           is_one_of(ended->status, call_over) ? ended->status : NULL, NULL, NULL,
		                           false, now);
		if (rc == RC_OK && ended->outcome[0])
			rc = alerts_attempt_outcome(db, on[i].attempt_id, ended->outcome, NULL, false);
		if (rc == RC_OK)
			rc = move_on(app, db, on[i].alert_id, on[i].round, on[i].step, now, false);
	}
	return rc;
}

static enum rc move_on(struct app *app, struct db *db, int64_t id, int round, int step, int64_t now, bool siblings)
{
	struct escalation_policy p;
	struct targets tg = {0};
	struct alerts_row a;
	struct alerts_attempt t;
	bool here;
	enum rc rc = alerts_load(db, id, &a);

	if (rc != RC_OK)
		return rc;
	here = strcmp(a.status, "triggered") == 0 && a.round == round && a.step == step && step >= 0;
	rc = alerts_attempt_at(db, id, round, step, &t);
	if (rc == RC_NOT_FOUND) {
		memset(&t, 0, sizeof t);
		rc = RC_OK;
	}
	if (rc == RC_OK && here && t.id && !t.ended_at) {
		/* Moving on without having heard the end of the call: its row says why. */
		rc = alerts_attempt_outcome(db, t.id, "timeout", NULL, false);
		if (rc == RC_OK)
			rc = alerts_attempt_update(db, t.id, NULL, NULL, NULL, true, now);
		if (rc == RC_OK) /* a call still waiting in the outbox must not ring any more */
			rc = alerts_cancel_calls(db, id, now, NULL);
		if (rc == RC_OK)
			rc = alerts_attempt_load(db, t.id, &t);
	}
	if (rc == RC_OK && siblings && t.id)
		rc = move_on_siblings(app, db, &t, now);
	if (rc != RC_OK || !here)
		return rc;
	rc = escalation_load(db, &p);
	if (rc != RC_OK)
		return rc;
	if (!is_called(&p, &a))
		return RC_OK;
	return call_from(app, db, &a, &p, round, step + 1, now, &tg);
}

enum rc escalation_move_on(struct app *app, struct db *db, int64_t id, int round, int step, int64_t now)
{
	return move_on(app, db, id, round, step, now, true);
}

enum rc escalation_call_ended(struct app *app, struct db *db, int64_t outbox_id, const char *outcome, int64_t now)
{
	struct alerts_on_call on[ALERTS_BUNDLE_MAX];
	size_t n = 0, i;
	enum rc rc = alerts_on_call(db, outbox_id, on, ALERTS_BUNDLE_MAX, &n);

	for (i = 0; i < n && rc == RC_OK; i++) {
		if (on[i].ended)
			continue;
		rc = alerts_attempt_outcome(db, on[i].attempt_id, outcome, NULL, false);
		if (rc == RC_OK)
			rc = move_on(app, db, on[i].alert_id, on[i].round, on[i].step, now, false);
	}
	return rc;
}

enum rc escalation_tick(struct app *app, struct db *db, int64_t id, int64_t now)
{
	static const char *const not_placed[] = {"failed", "canceled", "undelivered", NULL};
	static const char *const waiting[] = {"pending", "retry", "sending", NULL};
	struct escalation_policy p;
	struct alerts_row a;
	struct alerts_attempt t;
	char call_status[16];
	int64_t accepted = 0, deadline;
	enum rc rc = alerts_load(db, id, &a);

	if (rc != RC_OK)
		return rc;
	if (strcmp(a.status, "triggered") != 0)
		return RC_OK;
	if (a.step < 0)
		return start(app, db, &a, now);
	rc = escalation_load(db, &p);
	if (rc != RC_OK)
		return rc;
	if (!is_called(&p, &a))
		return RC_OK; /* texted only: no chain of calls */
	rc = alerts_attempt_at(db, id, a.round, a.step, &t);
	if (rc == RC_NOT_FOUND)
		return escalation_move_on(app, db, id, a.round, a.step, now);
	if (rc != RC_OK)
		return rc;
	if (t.ended_at)
		return escalation_move_on(app, db, id, a.round, a.step, now);
	rc = alerts_attempt_call(db, t.id, call_status, &accepted);
	if (rc != RC_OK)
		return rc;
	if (is_one_of(call_status, not_placed)) {
		/* The call could not be placed at all (dead letter): no callback will come. */
		rc = alerts_attempt_update(db, t.id, "failed", NULL, NULL, true, now);
		if (rc == RC_OK)
			rc = alerts_attempt_outcome(db, t.id, "not-placed", NULL, false);
		if (rc == RC_OK)
			rc = escalation_move_on(app, db, id, a.round, a.step, now);
		return rc;
	}
	if (is_one_of(call_status, call_over)) {
		/* The call this alert joined is over (its callbacks ended another alert's attempt). */
		rc = alerts_attempt_update(db, t.id, call_status, NULL, NULL, true, now);
		if (rc == RC_OK)
			rc = alerts_attempt_outcome(
			        db, t.id, strcmp(call_status, "completed") == 0 ? "silence" : call_status, NULL, false);
		if (rc == RC_OK)
			rc = escalation_move_on(app, db, id, a.round, a.step, now);
		return rc;
	}
	if (!a.step_deadline || a.step_deadline > now)
		return RC_OK;
	if (!accepted && is_one_of(call_status, waiting)) {
		/* Not accepted by Twilio yet (held by a per-phone limit, retried, being placed): the
		 * step has not started ringing, so its time has not started either. */
		log_info("alert %lld: the call of attempt %lld is not placed yet; its step waits", (long long)id,
		         (long long)t.id);
		return alerts_set_step(db, id, a.round, a.step, now + ESCALATION_ACCEPT_POLL_S, now);
	}
	deadline = accepted ? accepted + step_span(app, &p, a.step) : a.step_deadline;
	if (deadline > now)
		return alerts_set_step(db, id, a.round, a.step, deadline, now);
	log_info("alert %lld: no word from attempt %lld by its deadline; moving on", (long long)id, (long long)t.id);
	return escalation_move_on(app, db, id, a.round, a.step, now);
}

struct escalation_job {
	int64_t next_sweep_ms; /* monotonic */
};

enum rc escalation_start(struct app *app, struct db *db, void **state)
{
	(void)app;
	(void)db;
	*state = calloc(1, sizeof(struct escalation_job));
	return *state ? RC_OK : RC_INTERNAL;
}

void escalation_stop(void *state)
{
	free(state);
}

/* Brings ids[0..n) up to date, several per transaction. */
static enum rc tick_all(struct app *app, struct db *db, const int64_t *ids, size_t n, int64_t now)
{
	size_t i;
	enum rc rc;

	/*
	 * Up to ESCALATION_PER_TXN alerts per transaction, each inside its own savepoint: a
	 * burst of alerts takes the write lock a few times instead of once per alert, and an
	 * alert that fails is rolled back alone (and retried next tick) without the others.
	 */
	for (i = 0; i < n;) {
		size_t end = i + ESCALATION_PER_TXN < n ? i + ESCALATION_PER_TXN : n;

		rc = db_begin(db);
		if (rc != RC_OK)
			return rc;
		for (; i < end; i++) {
			enum rc one = db_exec(db, "SAVEPOINT escalation_alert");

			if (one == RC_OK)
				one = escalation_tick(app, db, ids[i], now);
			if (one == RC_OK)
				one = db_exec(db, "RELEASE escalation_alert");
			if (one != RC_OK) {
				log_err("escalation of alert %lld: %s", (long long)ids[i], rc_str(one));
				if (db_exec(db, "ROLLBACK TO escalation_alert") != RC_OK ||
				    db_exec(db, "RELEASE escalation_alert") != RC_OK) {
					db_rollback(db);
					return RC_DB;
				}
			}
		}
		rc = db_commit(db);
		if (rc != RC_OK) {
			db_rollback(db);
			return rc;
		}
	}
	return RC_OK;
}

/* Waiting page texts that list an alert closed meanwhile are rewritten without it. */
static enum rc refresh_page_texts(struct app *app, struct db *db)
{
	int64_t rows[ESCALATION_PER_TXN];
	size_t n = 0, i;
	enum rc rc = alerts_page_texts_stale(db, rows, ESCALATION_PER_TXN, &n);

	if (rc != RC_OK || n == 0)
		return rc;
	rc = db_begin(db);
	for (i = 0; i < n && rc == RC_OK; i++) {
		rc = rewrite_page_text(app, db, rows[i]);
		if (rc == RC_OK)
			rc = alerts_page_text_prune(db, rows[i]);
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc escalation_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct escalation_job *job = state;
	int64_t ids[ESCALATION_BATCH], now = now_ms / 1000, mono_ms = clock_mono_us() / 1000;
	size_t n = 0;
	bool more;
	enum rc rc;

	rc = refresh_page_texts(app, db);
	if (rc == RC_OK)
		rc = alerts_due(db, now, ids, ESCALATION_BATCH, &n);
	if (rc == RC_OK)
		rc = tick_all(app, db, ids, n, now);
	if (rc != RC_OK)
		return rc;
	more = n == ESCALATION_BATCH;
	if (!job || mono_ms >= job->next_sweep_ms) {
		if (job)
			job->next_sweep_ms = mono_ms + ESCALATION_SWEEP_MS;
		rc = alerts_stalled(db, ids, ESCALATION_BATCH, &n);
		if (rc == RC_OK)
			rc = tick_all(app, db, ids, n, now);
		if (rc != RC_OK)
			return rc;
		if (n == ESCALATION_BATCH && job)
			job->next_sweep_ms = 0; /* more of them: sweep again next tick */
		more = more || n == ESCALATION_BATCH;
	}
	if (more)
		app_wake_engine(app); /* more are due: come back right after the sender */
	return RC_OK;
}
