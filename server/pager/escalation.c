/*
 * server/pager/escalation.c — the escalation state machine of alerts and the policy API (see
 * server/pager/escalation.h for the invariants). Every function that changes rows runs inside a
 * transaction its caller opened; escalation_run() opens one short transaction per alert.
 *
 * Alert: triggered (step -1) --start--> texts queued, call of (round 0, step 0) queued
 *        triggered (round r, step s) --move on--> call of the next step, or of step 0 of the
 *        next round, or exhausted (with a last text) after the last step of the last round.
 * A step whose target resolves to nobody (no rotation, empty rotation) is skipped.
 */
#include "pager/escalation.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/alerts.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/people.h"
#include "db/outbox.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"

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

/* The page of a new alert to one person: SMS unless they texted STOP, WhatsApp if opted in. */
static enum rc text_person(struct app *app, struct db *db, const struct alerts_row *a, const struct person *p)
{
	struct outbox_msg m = {0};
	char key[128], body[512];
	enum rc rc = RC_OK;

	snprintf(body, sizeof body,
	         L(app, "Alerta %lld: %s. Responda 'ack %lld' para assumir.",
	           "Alert %lld: %s. Reply 'ack %lld' to acknowledge."),
	         (long long)a->id, a->summary, (long long)a->id);
	m.class_ = "alert";
	m.priority = OUTBOX_PRIO_ALERT;
	m.to = p->phone;
	m.body = body;
	m.idem_key = key;
	m.owner_type = "alert";
	m.owner_id = a->id;
	if (!p->sms_opt_out) {
		m.kind = OUTBOX_SMS;
		snprintf(key, sizeof key, "alert:%lld:sms:%s", (long long)a->id, p->phone);
		rc = outbox_enqueue(db, &m, NULL);
	}
	if (rc == RC_OK && p->whatsapp && app->cfg->whatsapp_from) {
		m.kind = OUTBOX_WHATSAPP;
		snprintf(key, sizeof key, "alert:%lld:whatsapp:%s", (long long)a->id, p->phone);
		rc = outbox_enqueue(db, &m, NULL);
	}
	return rc;
}

/* ---------------------------------------------------------------- the chain */

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
 * Calls the first step from (round, step) on whose target is somebody, or exhausts the alert
 * when the rounds are over. Each step is looked at once per round at most.
 */
static enum rc call_from(struct app *app, struct db *db, const struct alerts_row *a, const struct escalation_policy *p,
                         int round, int step, int64_t now, struct targets *tg)
{
	size_t guard;

	for (guard = 0; guard <= p->n_steps * (size_t)p->rounds; guard++, step++) {
		struct person who;
		struct alerts_attempt t;
		bool created;
		enum rc rc;

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
			rc = queue_call(app, db, &t, p->steps[step].timeout_s);
		if (rc == RC_OK)
			rc = alerts_set_step(db, a->id, round, step,
			                     now + p->steps[step].timeout_s + ESCALATION_CALL_ALLOWANCE_S +
			                             app->cfg->callback_grace,
			                     now);
		if (rc == RC_OK)
			log_info("alert %lld: round %d step %d calls %s (attempt %lld)", (long long)a->id, round, step,
			         who.name, (long long)t.id);
		return rc;
	}
	return exhaust(app, db, a, now);
}

static enum rc start(struct app *app, struct db *db, const struct alerts_row *a, int64_t now)
{
	struct escalation_policy p;
	struct targets tg = {0};
	int64_t seen[ESCALATION_MAX_STEPS];
	size_t n_seen = 0, i, j;
	enum rc rc = escalation_load(db, &p);

	if (rc != RC_OK)
		return rc;
	for (i = 0; i < p.n_steps; i++) {
		struct person who;

		rc = resolve(db, &p.steps[i], now, &tg, &who);
		if (rc == RC_NOT_FOUND)
			continue;
		if (rc != RC_OK)
			return rc;
		for (j = 0; j < n_seen && seen[j] != who.id; j++)
			;
		if (j < n_seen)
			continue;
		seen[n_seen++] = who.id;
		rc = text_person(app, db, a, &who);
		if (rc != RC_OK)
			return rc;
	}
	log_info("alert %lld: texted %zu people", (long long)a->id, n_seen);
	return call_from(app, db, a, &p, 0, 0, now, &tg);
}

enum rc escalation_move_on(struct app *app, struct db *db, int64_t id, int round, int step, int64_t now)
{
	struct escalation_policy p;
	struct targets tg = {0};
	struct alerts_row a;
	struct alerts_attempt t;
	enum rc rc = alerts_load(db, id, &a);

	if (rc != RC_OK)
		return rc;
	if (strcmp(a.status, "triggered") != 0 || a.round != round || a.step != step || step < 0)
		return RC_OK;
	rc = alerts_attempt_at(db, id, round, step, &t);
	if (rc == RC_OK && !t.ended_at) {
		/* Moving on without having heard the end of the call: its row says why. */
		rc = alerts_attempt_outcome(db, t.id, "timeout", NULL, false);
		if (rc == RC_OK)
			rc = alerts_attempt_update(db, t.id, NULL, NULL, NULL, true, now);
		if (rc == RC_OK) /* a call still waiting in the outbox must not ring any more */
			rc = alerts_cancel_calls(db, id, now, NULL);
	} else if (rc == RC_NOT_FOUND) {
		rc = RC_OK;
	}
	if (rc != RC_OK)
		return rc;
	rc = escalation_load(db, &p);
	if (rc != RC_OK)
		return rc;
	return call_from(app, db, &a, &p, round, step + 1, now, &tg);
}

enum rc escalation_tick(struct app *app, struct db *db, int64_t id, int64_t now)
{
	struct alerts_row a;
	struct alerts_attempt t;
	char call_status[16];
	enum rc rc = alerts_load(db, id, &a);

	if (rc != RC_OK)
		return rc;
	if (strcmp(a.status, "triggered") != 0)
		return RC_OK;
	if (a.step < 0)
		return start(app, db, &a, now);
	rc = alerts_attempt_at(db, id, a.round, a.step, &t);
	if (rc == RC_NOT_FOUND)
		return escalation_move_on(app, db, id, a.round, a.step, now);
	if (rc != RC_OK)
		return rc;
	if (t.ended_at)
		return escalation_move_on(app, db, id, a.round, a.step, now);
	rc = alerts_attempt_call_status(db, t.id, call_status);
	if (rc != RC_OK)
		return rc;
	if (strcmp(call_status, "failed") == 0 || strcmp(call_status, "canceled") == 0 ||
	    strcmp(call_status, "undelivered") == 0) {
		/* The call could not be placed at all (dead letter): no callback will come. */
		rc = alerts_attempt_update(db, t.id, "failed", NULL, NULL, true, now);
		if (rc == RC_OK)
			rc = alerts_attempt_outcome(db, t.id, "not-placed", NULL, false);
		if (rc == RC_OK)
			rc = escalation_move_on(app, db, id, a.round, a.step, now);
		return rc;
	}
	if (a.step_deadline && a.step_deadline <= now) {
		log_info("alert %lld: no word from attempt %lld by its deadline; moving on", (long long)id,
		         (long long)t.id);
		return escalation_move_on(app, db, id, a.round, a.step, now);
	}
	return RC_OK;
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

enum rc escalation_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct escalation_job *job = state;
	int64_t ids[ESCALATION_BATCH], now = now_ms / 1000, mono_ms = clock_mono_us() / 1000;
	size_t n = 0;
	bool more;
	enum rc rc;

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

/* ---------------------------------------------------------------- policy API */

static json_t *policy_json(struct db *db, const struct escalation_policy *p)
{
	json_t *steps = json_array();
	size_t i;

	for (i = 0; i < p->n_steps; i++) {
		const struct escalation_step *e = &p->steps[i];
		json_t *s;

		if (e->target == ESCALATION_PERSON) {
			char name[PEOPLE_NAME_BYTES] = "";

			s = json_pack("{s:I,s:i}", "target", (json_int_t)e->person_id, "timeout_s", e->timeout_s);
			people_name(db, e->person_id, name, sizeof name);
			if (s && name[0])
				json_object_set_new(s, "name", json_string(name));
		} else {
			s = json_pack("{s:s,s:i}", "target", e->target == ESCALATION_ONCALL ? "oncall" : "next",
			              "timeout_s", e->timeout_s);
		}
		json_array_append_new(steps, s);
	}
	return json_pack("{s:o,s:i,s:I}", "steps", steps, "rounds", p->rounds, "updated_at", (json_int_t)p->updated_at);
}

enum rc escalation_api_get(struct http_req *req)
{
	struct escalation_policy p;
	enum rc rc = escalation_load(req->db, &p);

	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the escalation policy");
	return http_reply_json(req, 200, policy_json(req->db, &p));
}

/* Parses and checks one step; on error fills msg and returns RC_UNPROCESSABLE. */
static enum rc parse_step(struct db *db, json_t *js, size_t i, struct escalation_step *e, char *msg, size_t len)
{
	json_t *target = json_object_get(js, "target"), *timeout = json_object_get(js, "timeout_s");
	struct person who;

	if (!json_is_object(js)) {
		snprintf(msg, len, "steps[%zu]: expected an object", i);
		return RC_UNPROCESSABLE;
	}
	if (json_is_string(target) && strcmp(json_string_value(target), "oncall") == 0) {
		e->target = ESCALATION_ONCALL;
	} else if (json_is_string(target) && strcmp(json_string_value(target), "next") == 0) {
		e->target = ESCALATION_NEXT;
	} else if (json_is_integer(target) ||
	           (json_is_string(target) && strcmp(json_string_value(target), "person") == 0 &&
	            json_is_integer(json_object_get(js, "person_id")))) {
		enum rc rc;

		e->target = ESCALATION_PERSON;
		e->person_id = json_integer_value(json_is_integer(target) ? target : json_object_get(js, "person_id"));
		rc = e->person_id > 0 ? people_get(db, e->person_id, &who) : RC_NOT_FOUND;
		if (rc == RC_NOT_FOUND) {
			snprintf(msg, len, "steps[%zu].target: no person with id %lld", i, (long long)e->person_id);
			return RC_UNPROCESSABLE;
		}
		if (rc != RC_OK) {
			snprintf(msg, len, "cannot check steps[%zu].target", i);
			return rc;
		}
	} else {
		snprintf(msg, len, "steps[%zu].target: expected \"oncall\", \"next\" or a person id", i);
		return RC_UNPROCESSABLE;
	}
	e->timeout_s = ESCALATION_DEFAULT_TIMEOUT;
	if (timeout && !json_is_null(timeout)) {
		json_int_t v = json_is_integer(timeout) ? json_integer_value(timeout) : -1;

		if (v < ESCALATION_MIN_TIMEOUT || v > ESCALATION_MAX_TIMEOUT) {
			snprintf(msg, len, "steps[%zu].timeout_s: expected an integer from %d to %d", i,
			         ESCALATION_MIN_TIMEOUT, ESCALATION_MAX_TIMEOUT);
			return RC_UNPROCESSABLE;
		}
		e->timeout_s = (int)v;
	}
	return RC_OK;
}

enum rc escalation_api_put(struct http_req *req)
{
	struct escalation_policy old, p;
	json_t *body, *steps, *rounds, *detail = NULL, *fresh = NULL;
	char msg[160];
	enum rc rc;
	size_t i;

	rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object with steps and rounds");
	memset(&p, 0, sizeof p);
	steps = json_object_get(body, "steps");
	rounds = json_object_get(body, "rounds");
	if (!json_is_array(steps) || json_array_size(steps) == 0)
		return http_fail(req, RC_UNPROCESSABLE, "steps: expected a non-empty array");
	if (json_array_size(steps) > ESCALATION_MAX_STEPS)
		return http_fail(req, RC_UNPROCESSABLE, "steps: at most %d steps", ESCALATION_MAX_STEPS);
	p.rounds = ESCALATION_DEFAULT_ROUNDS;
	if (rounds && !json_is_null(rounds)) {
		json_int_t v = json_is_integer(rounds) ? json_integer_value(rounds) : -1;

		if (v < 1 || v > ESCALATION_MAX_ROUNDS)
			return http_fail(req, RC_UNPROCESSABLE, "rounds: expected an integer from 1 to %d",
			                 ESCALATION_MAX_ROUNDS);
		p.rounds = (int)v;
	}
	for (i = 0; i < json_array_size(steps); i++) {
		rc = parse_step(req->db, json_array_get(steps, i), i, &p.steps[i], msg, sizeof msg);
		if (rc != RC_OK)
			return http_fail(req, rc, "%s", msg);
	}
	p.n_steps = json_array_size(steps);
	rc = escalation_load(req->db, &old);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read the escalation policy");
	fresh = policy_json(req->db, &p);
	json_object_del(fresh, "updated_at");
	detail = json_pack("{s:o,s:O}", "old", policy_json(req->db, &old), "new", fresh);
	if (!detail) {
		rc = http_fail(req, RC_INTERNAL, "out of memory");
		goto out;
	}
	rc = escalation_save(req->db, &p, req->actor, detail, clock_now());
	if (rc == RC_CONFLICT) {
		rc = http_fail(req, RC_UNPROCESSABLE, "a person of the policy no longer exists");
		goto out;
	}
	if (rc != RC_OK) {
		rc = http_fail(req, rc, "cannot save the escalation policy");
		goto out;
	}
	log_info("escalation policy updated by %s: %zu steps, %d rounds", req->actor, p.n_steps, p.rounds);
	rc = escalation_load(req->db, &p);
	if (rc == RC_OK)
		rc = http_reply_json(req, 200, policy_json(req->db, &p));
out:
	json_decref(fresh);
	json_decref(detail);
	return rc;
}
