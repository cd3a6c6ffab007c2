/*
 * server/http/ops.c — /healthz and /metrics.
 *
 * /healthz answers whether a page would go out now, component by component, from facts in
 * the database (db/health.h, db/escalation.h, db/people.h) and the configuration:
 *   database  a write probe goes through to the file PLANTAO_DB names;
 *   twilio    credentials are set (or no page waits for them) and the latest send since start
 *             was not refused for authentication (20003 and friends);
 *   oncall    the escalation policy reaches somebody now;
 *   outbox    no page has waited longer than PLANTAO_HEALTH_PAGE_AGE seconds;
 *   imap      (with PLANTAO_IMAP_URL) the mail poller logs in and reads the mailbox;
 *   smtp      (with PLANTAO_SMTP_URL) the last e-mail went out: pages by e-mail reach people;
 *   monitors  (when heartbeat or uptime monitors exist) the monitor thread ticks: one that
 *             stopped (its database stuck, the thread gone) notices no missed heartbeat.
 * A failing component makes it 503 (no Twilio credentials fails even with nothing waiting: no
 * page could go out); warnings (Twilio errors being retried, nobody on call but a named person
 * in the policy) keep 200. The body names each component's state, gives a reason for each one that is not ok and,
 * with ?verbose, every component's details. The console's "now" page shows the same reasons.
 * /healthz?live is the liveness answer for process supervisors and start-up waits, which
 * must not restart or wait forever for a server nobody is on call for yet: the same body, 200
 * while the server answers and the database reads, 503 when it does not.
 * A component that changes state is logged once (a warning when it fails, info when it is ok
 * again), so the log tells when paging broke even if nobody watched /healthz.
 * Several instances on one PostgreSQL database (docs/DEPLOY.md): the body names this instance
 * ("instance", db/instance.h) and its role in each singleton job it has run or stood by for
 * ("jobs": {"imap": "leader" | "standby", …}, from db_job_roles); /metrics has
 * plantao_instance_info{instance=…} and plantao_job_leader{job=…}, and with
 * PLANTAO_METRICS_INSTANCE=1 every series carries the instance label.
 */
#include "http/ops.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/health.h"
#include "db/instance.h"
#include "db/outbox.h"
#include "db/people.h"
#include "http/metrics.h"
#include "monitors/uptime.h"
#include "monitors/watch.h"
#include "outbox/mailer.h"

enum level { LEVEL_OK, LEVEL_WARN, LEVEL_FAIL };

struct component {
	const char *name;
	enum level level;
	char code[32];    /* "ok" or a short word a script can match */
	char reason[512]; /* for people, when not ok */
	json_t *detail;   /* new object, owned */
};

static const char *const priority_names[HEALTH_PRIORITIES] = {"alert", "support", "sales"};

static void set(struct component *c, enum level level, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void set(struct component *c, enum level level, const char *code, const char *fmt, ...)
{
	va_list ap;

	c->level = level;
	snprintf(c->code, sizeof c->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
}

#define PROBE_REUSE_US 1000000 /* a write probe answers for this long */

/* The write probe, at most once per PROBE_REUSE_US for the whole process; a file deleted under
 * this connection is checked every time (a stat). `live` (/healthz?live) never runs one: it
 * answers with the last probe's result, whatever its age, or none yet (RC_OK) — a write held
 * elsewhere (a long import, another process) must not hold up a supervisor's liveness check,
 * which would then restart a healthy server; the full /healthz and /metrics keep probing. */
static enum rc write_probe(struct http_req *req, int64_t now, bool live, char *err, size_t errlen)
{
	struct app *app = req->app;
	int64_t mono = clock_mono_us();
	enum rc rc = RC_OK;

	err[0] = 0;
	if (live) {
		/* nor waits for a probe another thread runs meanwhile (it may be waiting for the lock) */
		if (pthread_mutex_trylock(&app->probe_lock) == 0) {
			if (app->probe_mono_us) {
				rc = (enum rc)app->probe_rc;
				snprintf(err, errlen, "%s", app->probe_err);
			}
			pthread_mutex_unlock(&app->probe_lock);
		}
	} else {
		pthread_mutex_lock(&app->probe_lock);
		if (app->probe_mono_us && mono - app->probe_mono_us < PROBE_REUSE_US) {
			rc = (enum rc)app->probe_rc;
			snprintf(err, errlen, "%s", app->probe_err);
		} else {
			rc = health_write_probe(req->db, now, err, errlen);
			app->probe_mono_us = mono;
			app->probe_rc = (int)rc;
			snprintf(app->probe_err, sizeof app->probe_err, "%s", err);
		}
		pthread_mutex_unlock(&app->probe_lock);
	}
	if (rc == RC_OK || rc == RC_CONFLICT) {
		enum rc moved = health_file_moved(req->db, err, errlen);

		if (moved != RC_OK)
			rc = moved;
	}
	return rc;
}

static void check_database(struct http_req *req, int64_t now, bool live, struct component *c)
{
	char err[HEALTH_ERR_MAX];
	enum rc rc = write_probe(req, now, live, err, sizeof err);
	int v = 0;

	if (rc == RC_OK)
		rc = db_version(req->db, &v);
	json_object_set_new(c->detail, "schema", json_integer(v));
	if (rc == RC_CONFLICT)
		set(c, LEVEL_FAIL, "file_replaced", "%s (PLANTAO_DB): writes since then are lost; restart plantao",
		    err);
	else if (rc != RC_OK)
		set(c, LEVEL_FAIL, rc == RC_BUSY ? "busy" : "not_writable",
		    "the database does not take writes (%s): alerts and pages cannot be recorded",
		    err[0] ? err : rc_str(rc));
}

static void check_twilio(struct http_req *req, const struct health_waiting *w, bool have_w, struct component *c)
{
	const struct cfg *cfg = req->app->cfg;
	struct health_twilio t;
	enum rc rc;

	json_object_set_new(c->detail, "configured", json_boolean(cfg_has_twilio(cfg)));
	if (!cfg_has_twilio(cfg)) {
		if (have_w && w->count[0] > 0)
			set(c, LEVEL_FAIL, "not_configured",
			    "%lld page(s) waiting and Twilio credentials are not set (TWILIO_ACCOUNT_SID, "
			    "TWILIO_AUTH_TOKEN, TWILIO_FROM): nothing is sent",
			    (long long)w->count[0]);
		else /* no page would go out: that is not healthy, even with nothing waiting (demo) */
			set(c, LEVEL_FAIL, "not_configured",
			    "Twilio credentials are not set (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): "
			    "alerts are recorded but nobody can be paged");
		return;
	}
	rc = health_twilio_results(req->db, req->app->started_at * 1000, &t);
	if (rc != RC_OK) {
		set(c, LEVEL_FAIL, "unknown", "the outbox could not be read (%s)", rc_str(rc));
		return;
	}
	/* /healthz is public and Twilio's messages for most codes quote phone numbers: past the
	 * fixed texts of authentication and network errors only the code goes out (the outbox
	 * API, behind a token, has the whole message). */
	if (t.last_error_code && !t.last_error_auth)
		snprintf(t.last_error_message, sizeof t.last_error_message, "details in GET /api/outbox");
	if (t.last_accepted_ms)
		json_object_set_new(c->detail, "last_accepted_at", json_integer(t.last_accepted_ms / 1000));
	if (t.last_error_ms)
		json_object_set_new(c->detail, "last_error",
		                    json_pack("{s:i,s:s,s:I}", "code", t.last_error_code, "message",
		                              t.last_error_message, "at", (json_int_t)(t.last_error_ms / 1000)));
	if (!t.last_error_ms || t.last_error_ms < t.last_accepted_ms)
		return; /* nothing refused since the last accepted send */
	if (t.last_error_auth)
		set(c, LEVEL_FAIL, "auth_error",
		    "Twilio refuses the credentials (error %d: %s): no text or call goes out; check "
		    "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
		    t.last_error_code, t.last_error_message);
	else
		set(c, LEVEL_WARN, "send_errors", "the latest send to Twilio failed (%s%d: %s); it is being retried",
		    t.last_error_code ? "error " : "network error ", t.last_error_code, t.last_error_message);
}

static void check_oncall(struct http_req *req, int64_t now, struct component *c, int *reachable)
{
	struct escalation_policy pol;
	int64_t oncall = 0, next = 0, seen[ESCALATION_MAX_STEPS], opted_out = 0;
	size_t i, n_seen = 0;
	bool oncall_reachable = false, oncall_opted_out = false;
	enum rc rc;

	*reachable = 0;
	rc = escalation_load(req->db, &pol);
	if (rc == RC_OK)
		rc = escalation_rotation(req->db, now, &oncall, &next);
	if (rc != RC_OK) {
		set(c, LEVEL_FAIL, "unknown", "who is on call could not be worked out (%s): pages may reach nobody",
		    rc_str(rc));
		return;
	}
	for (i = 0; i < pol.n_steps; i++) {
		const struct escalation_step *s = &pol.steps[i];
		int64_t id = s->target == ESCALATION_ONCALL ? oncall
		             : s->target == ESCALATION_NEXT ? next
		                                            : s->person_id;
		struct person p;
		size_t j;
		bool dup = false;

		for (j = 0; j < n_seen; j++)
			dup = dup || seen[j] == id;
		if (!id || dup || people_get(req->db, id, &p) != RC_OK)
			continue;
		seen[n_seen++] = id;
		oncall_reachable = oncall_reachable || id == oncall;
		oncall_opted_out = oncall_opted_out || (id == oncall && p.sms_opt_out);
	}
	*reachable = (int)n_seen;
	/* Counts and ids only: /healthz is public; names and phones stay behind the API's token. */
	json_object_set_new(c->detail, "steps", json_integer((json_int_t)pol.n_steps));
	json_object_set_new(c->detail, "reachable", json_integer((json_int_t)n_seen));
	json_object_set_new(c->detail, "oncall_id", oncall_reachable ? json_integer(oncall) : json_null());
	/* People whose texts are off (they replied STOP, or Twilio refused with 21610): they are
	 * still called, but their pages by text do not go. A count, never who. */
	if (people_opted_out_count(req->db, &opted_out) == RC_OK)
		json_object_set_new(c->detail, "texts_opted_out", json_integer((json_int_t)opted_out));
	else
		json_object_set_new(c->detail, "texts_opted_out", json_null());
	json_object_set_new(c->detail, "oncall_texts_opted_out", json_boolean(oncall_opted_out));
	if (pol.n_steps == 0)
		set(c, LEVEL_FAIL, "no_policy", "the escalation policy has no steps: alerts page nobody");
	else if (!n_seen)
		set(c, LEVEL_FAIL, "nobody_on_call",
		    oncall ? "the person on call cannot be paged (archived or removed): alerts reach nobody"
		           : "nobody is on call now (no rotation, or nobody in it): alerts reach nobody");
	else if (!oncall)
		set(c, LEVEL_WARN, "nobody_on_call",
		    "nobody is on call now: pages go only to the people named in the escalation policy");
}

static void check_outbox(struct http_req *req, int64_t now, const struct health_waiting *w, bool have_w,
                         struct component *c)
{
	int limit = req->app->cfg->health_page_age;
	json_t *waiting = json_object();
	int p;

	json_object_set_new(c->detail, "page_age_limit_s", json_integer(limit));
	json_object_set_new(c->detail, "waiting", waiting);
	if (!have_w) {
		set(c, LEVEL_FAIL, "unknown", "the outbox could not be read");
		return;
	}
	for (p = 0; p < HEALTH_PRIORITIES; p++)
		json_object_set_new(waiting, priority_names[p],
		                    json_pack("{s:I,s:I,s:I}", "count", (json_int_t)w->count[p], "oldest_s",
		                              (json_int_t)(w->count[p] ? now - w->oldest_at[p] : 0), "undecided",
		                              (json_int_t)w->undecided[p]));
	if (w->count[0] && now - w->oldest_at[0] > limit)
		set(c, LEVEL_FAIL, "pages_late",
		    "%lld page(s) not yet accepted by Twilio, the oldest waiting for %lld s (limit %d s, "
		    "PLANTAO_HEALTH_PAGE_AGE)",
		    (long long)w->count[0], (long long)(now - w->oldest_at[0]), limit);
	else if (w->undecided[0])
		set(c, LEVEL_WARN, "pages_undecided",
		    "%lld page(s) whose outcome Twilio could not confirm: they may not have reached anyone (GET "
		    "/api/outbox?status=undecided)",
		    (long long)w->undecided[0]);
	else if ((w->count[1] && now - w->oldest_at[1] > limit) || (w->count[2] && now - w->oldest_at[2] > limit))
		set(c, LEVEL_WARN, "notices_late", "texts other than pages have waited more than %d s", limit);
}

/*
 * The IMAP mail poller (only when PLANTAO_IMAP_URL is set), from what it wrote to poller_status.
 * A refused login, TLS that cannot be had or a configuration the poller cannot use fails at
 * once (they do not mend themselves); a server that does not answer is a warning until
 * IMAP_HEALTH_FAIL_AFTER polls in a row failed. The texts are fixed: the poller's own message
 * (host names, curl's words) is in the log, /healthz is public.
 */
#define IMAP_HEALTH_FAIL_AFTER 3

static void check_imap(struct http_req *req, int64_t now, struct component *c)
{
	struct health_poller p;
	enum rc rc = health_poller_get(req->db, "imap", &p);

	if (rc == RC_NOT_FOUND) {
		json_object_set_new(c->detail, "polled", json_false());
		return; /* not polled yet: the first poll runs at start-up */
	}
	if (rc != RC_OK) {
		set(c, LEVEL_FAIL, "unknown", "the mail poller's state could not be read (%s)", rc_str(rc));
		return;
	}
	json_object_set_new(c->detail, "polled", json_true());
	json_object_set_new(c->detail, "updated_at", json_integer(p.updated_at));
	if (!strcmp(p.code, "ok"))
		return;
	json_object_set_new(c->detail, "failures", json_integer(p.failures));
	json_object_set_new(c->detail, "failing_since", json_integer(p.failing_since));
	if (!strcmp(p.code, "auth_error"))
		set(c, LEVEL_FAIL, p.code,
		    "the mail server refuses the login (PLANTAO_IMAP_USER, PLANTAO_IMAP_PASSWORD) since %lld s ago: "
		    "alert e-mail is not read",
		    (long long)(now - p.failing_since));
	else if (!strcmp(p.code, "tls_required"))
		set(c, LEVEL_FAIL, p.code,
		    "the mail server offers no TLS and plantao does not send the password in clear text (use "
		    "imaps://, STARTTLS, or PLANTAO_IMAP_INSECURE=1): alert e-mail is not read");
	else if (!strcmp(p.code, "tls_error"))
		set(c, LEVEL_FAIL, p.code,
		    "TLS with the mail server fails (its certificate is not trusted, or the handshake fails; "
		    "PLANTAO_IMAP_CA_FILE): alert e-mail is not read");
	else if (!strcmp(p.code, "config_error"))
		set(c, LEVEL_FAIL, p.code,
		    "the IMAP settings cannot be used (PLANTAO_IMAP_URL, _FROM, _SUBJECT; see the log): alert "
		    "e-mail is off");
	else
		set(c, p.failures >= IMAP_HEALTH_FAIL_AFTER ? LEVEL_FAIL : LEVEL_WARN, p.code,
		    "the mail server has not answered for %d poll(s) in a row (%lld s): alert e-mail is not read",
		    p.failures, (long long)(now - p.failing_since));
}

/* flag in the query string, with or without a value (libmicrohttpd gives NULL for both
 * "?verbose" and no such key); "0" and "false" turn it off. */
static bool has_flag(struct http_req *req, const char *flag)
{
	const char *q = strchr(req->uri, '?');
	const char *v = http_query(req, flag);
	size_t n = strlen(flag);

	if (v)
		return strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
	while (q) {
		q++;
		if (!strncmp(q, flag, n) && (q[n] == '\0' || q[n] == '&' || q[n] == '='))
			return true;
		q = strchr(q, '&');
	}
	return false;
}

/* Logs component i's change of state since the last check, once. */
static void log_change(struct app *app, size_t i, const struct component *c)
{
	int was;

	if (i >= APP_HEALTH_COMPONENTS)
		return;
	was = __atomic_exchange_n(&app->health_levels[i], (int)c->level + 1, __ATOMIC_ACQ_REL);
	if (was == (int)c->level + 1 || (was == 0 && c->level == LEVEL_OK))
		return;
	if (c->level == LEVEL_FAIL)
		log_warn("health: %s failing (%s): %s", c->name, c->code, c->reason);
	else if (c->level == LEVEL_WARN)
		log_warn("health: %s warning (%s): %s", c->name, c->code, c->reason);
	else
		log_info("health: %s ok again", c->name);
}

/* The monitor thread (server/monitors/watch.c), when monitors exist: its last good tick. A change
 * is logged here once (log_change keeps only the first APP_HEALTH_COMPONENTS). */
static void check_monitors(struct component *c, int64_t total)
{
	static atomic_int was_failing;
	int64_t tick = watch_last_tick_us(), age_ms = tick ? (clock_mono_us() - tick) / 1000 : 0;
	int failing;

	json_object_set_new(c->detail, "monitors", json_integer(total));
	json_object_set_new(c->detail, "last_tick_ms_ago", json_integer(age_ms));
	int64_t up_tick = uptime_last_tick_us(), up_age_ms = up_tick ? (clock_mono_us() - up_tick) / 1000 : 0;

	json_object_set_new(c->detail, "uptime_last_tick_ms_ago", json_integer(up_age_ms));
	if (tick && age_ms > WATCH_STALL_MS)
		set(c, LEVEL_FAIL, "stalled",
		    "the monitor thread has not ticked for %lld s (see the log: the database?): a heartbeat "
		    "that stops is not noticed and pages nobody",
		    (long long)(age_ms / 1000));
	else if (up_tick && up_age_ms > UPTIME_STALL_MS)
		set(c, LEVEL_FAIL, "uptime_stalled",
		    "the uptime-check thread has not ticked for %lld s (a check stuck beyond its timeouts, or "
		    "the database; see the log): a site that goes down is not noticed and pages nobody",
		    (long long)(up_age_ms / 1000));
	failing = c->level == LEVEL_FAIL;
	if (atomic_exchange(&was_failing, failing) != failing) {
		if (failing)
			log_warn("health: monitors failing (%s): %s", c->code, c->reason);
		else
			log_info("health: monitors ok again");
	}
}

/*
 * The e-mail channel (only with PLANTAO_SMTP_URL), from the last e-mail's outcome
 * (mailer_health): retrying, failed or undecided fails at once — pages by e-mail are not
 * reaching people. E-mails are not counted in "twilio" or "outbox" (db/health.c): Twilio never
 * sees them. The text is fixed: the server's own words are in the log and the outbox row.
 */
static void check_smtp(struct http_req *req, struct component *c)
{
	char why[256];
	bool failing;

	if (mailer_health(req->app, req->db, &failing, why, sizeof why) != RC_OK)
		set(c, LEVEL_FAIL, "unknown", "the e-mail channel's state could not be read");
	else if (failing)
		set(c, LEVEL_FAIL, "smtp_failing",
		    "e-mail is not going out: the last e-mail waits to be tried again, failed or is undecided "
		    "(PLANTAO_SMTP_*; GET /api/outbox and the log say why)");
}

#define N_COMPONENTS 7 /* imap and smtp only when configured, monitors only when monitors exist */

/* Judges every component (each request's own verdict, details included) and logs changes; *n:
 * how many components this configuration has (comps[0..*n-1]). */
static enum level assess(struct http_req *req, int64_t now, bool live, struct component comps[N_COMPONENTS],
                         struct health_waiting *w, bool *have_w, size_t *n_out)
{
	enum level worst = LEVEL_OK;
	int reachable;
	int64_t counts[WATCH_STATES], total = 0;
	bool imap = req->app->cfg->imap_url != NULL, smtp = cfg_has_smtp(req->app->cfg), monitors;
	const char *names[N_COMPONENTS] = {"database", "twilio", "oncall", "outbox"};
	size_t i, n = 4, at_imap = 0, at_smtp = 0;

	monitors = watch_counts(counts);
	for (i = 0; i < WATCH_STATES; i++)
		total += counts[i];
	monitors = monitors && total > 0;
	if (imap)
		names[at_imap = n++] = "imap";
	if (smtp)
		names[at_smtp = n++] = "smtp";
	if (monitors)
		names[n++] = "monitors";
	for (i = 0; i < n; i++) {
		memset(&comps[i], 0, sizeof comps[i]);
		comps[i].name = names[i];
		snprintf(comps[i].code, sizeof comps[i].code, "ok");
		comps[i].detail = json_object();
	}
	check_database(req, now, live, &comps[0]);
	*have_w = health_outbox_waiting(req->db, w) == RC_OK;
	check_twilio(req, w, *have_w, &comps[1]);
	check_oncall(req, now, &comps[2], &reachable);
	check_outbox(req, now, w, *have_w, &comps[3]);
	if (imap)
		check_imap(req, now, &comps[at_imap]);
	if (smtp)
		check_smtp(req, &comps[at_smtp]);
	if (monitors)
		check_monitors(&comps[n - 1], total);
	for (i = 0; i < n; i++) {
		if (comps[i].level > worst)
			worst = comps[i].level;
		/* imap: the poller logs its own streaks; ?live, whose database state is the last probe's
		 * (or none while one runs), leaves the log to the probing answers */
		if (!live || i != 0)
			log_change(req->app, i, &comps[i]);
	}
	*n_out = n;
	return worst;
}

/* People whose phone is not verified (issue 16), as ids only: /healthz needs no credentials,
 * so it names nobody. They still get pages; the console shows who they are. */
static json_t *unverified_people(struct http_req *req)
{
	json_t *people = NULL, *ids = json_array(), *p;
	size_t i;

	if (auth_unverified(req->db, &people) != RC_OK) {
		json_decref(ids);
		return json_string("unknown: the database could not be read");
	}
	json_array_foreach(people, i, p)
	        json_array_append_new(ids, json_integer(json_integer_value(json_object_get(p, "id"))));
	json_decref(people);
	return ids;
}

#define OPS_MAX_JOBS 8

/* This instance's role in each singleton job: "leader" (it runs the job) or "standby" (another
 * instance on the database does). Jobs not asked about yet (the engine's first tick) are absent. */
static json_t *job_roles(void)
{
	struct db_job_role roles[OPS_MAX_JOBS];
	size_t i, n = db_job_roles(roles, OPS_MAX_JOBS);
	json_t *jobs = json_object();

	for (i = 0; i < n; i++)
		json_object_set_new(jobs, roles[i].job, json_string(roles[i].held ? "leader" : "standby"));
	return jobs;
}

enum rc ops_healthz(struct http_req *req)
{
	struct component comps[N_COMPONENTS];
	int64_t now = clock_now();
	struct health_waiting w;
	bool have_w, alive, verbose = has_flag(req, "verbose"), strict = !has_flag(req, "live");
	size_t i, n;
	enum level worst = assess(req, now, !strict, comps, &w, &have_w, &n);
	json_t *body, *reasons = json_object(), *all = json_object();

	alive = db_ping(req->db) == RC_OK;
	db_settle(req->db, "healthz");
	body = json_pack("{s:s,s:I}", "version", PLANTAO_VERSION, "checked_at", (json_int_t)now);
	for (i = 0; i < n; i++) {
		struct component *c = &comps[i];
		static const char *const words[] = {"ok", "warning", "failing"};

		json_object_set_new(body, c->name, json_string(c->code));
		if (c->level != LEVEL_OK)
			json_object_set_new(reasons, c->name, json_string(c->reason));
		json_object_set_new(c->detail, "status", json_string(words[c->level]));
		json_object_set_new(c->detail, "code", json_string(c->code));
		if (c->level != LEVEL_OK)
			json_object_set_new(c->detail, "reason", json_string(c->reason));
		json_object_set_new(all, c->name, c->detail);
	}
	json_object_set_new(body, "status",
	                    json_string(worst == LEVEL_FAIL   ? "impaired"
	                                : worst == LEVEL_WARN ? "warning"
	                                                      : "ok"));
	json_object_set_new(body, "reasons", reasons);
	json_object_set_new(body, "instance", json_string(instance_id()));
	json_object_set_new(body, "jobs", job_roles());
	if (verbose) {
		json_object_set_new(body, "components", all);
		json_object_set_new(body, "unverified_people", unverified_people(req));
	} else
		json_decref(all);
	if (!strict)
		return http_reply_json(req, alive ? 200 : 503, body);
	return http_reply_json(req, worst == LEVEL_FAIL ? 503 : 200, body);
}

static void depth_line(void *ctx, const char *status, int64_t n)
{
	buf_printf(ctx, "plantao_outbox_messages{status=\"%s\"} %lld\n", status, (long long)n);
}

/* The paging gauges, judged like /healthz at scrape time (its write probe is shared and runs
 * at most once a second), so Prometheus can alert on the same verdict and the log records a
 * change even when nobody asks /healthz. */
static enum rc paging_gauges(struct http_req *req, struct buf *b)
{
	int64_t now = clock_now();
	struct health_waiting w;
	struct component comps[N_COMPONENTS];
	bool have_w;
	size_t i, n;
	enum level worst = assess(req, now, false, comps, &w, &have_w, &n);
	enum rc rc = RC_OK;
	int64_t counts[WATCH_STATES];
	int p;

	for (i = 0; i < n; i++)
		json_decref(comps[i].detail);
	rc = buf_puts(b, "# HELP plantao_outbox_oldest_pending_seconds Age of the oldest message or call not yet "
	                 "accepted by Twilio, by priority (alert pages, support line, sales); 0 when none waits.\n"
	                 "# TYPE plantao_outbox_oldest_pending_seconds gauge\n");
	for (p = 0; rc == RC_OK && have_w && p < HEALTH_PRIORITIES; p++)
		rc = buf_printf(b, "plantao_outbox_oldest_pending_seconds{priority=\"%s\"} %lld\n", priority_names[p],
		                (long long)(w.count[p] ? now - w.oldest_at[p] : 0));
	if (rc == RC_OK)
		rc = buf_printf(
		        b,
		        "# HELP plantao_oncall_reachable 1 when the escalation policy reaches somebody now (the "
		        "person on call or a named person), else 0.\n"
		        "# TYPE plantao_oncall_reachable gauge\n"
		        "plantao_oncall_reachable %d\n"
		        "# HELP plantao_paging_ok 1 when a page would go out now (what /healthz answers 200 "
		        "for), else 0.\n"
		        "# TYPE plantao_paging_ok gauge\n"
		        "plantao_paging_ok %d\n"
		        "# HELP plantao_health_ok Each /healthz component: 1 ok or warning, 0 failing.\n"
		        "# TYPE plantao_health_ok gauge\n",
		        comps[2].level == LEVEL_FAIL ? 0 : 1, worst == LEVEL_FAIL ? 0 : 1);
	for (i = 0; rc == RC_OK && i < n; i++)
		rc = buf_printf(b, "plantao_health_ok{component=\"%s\"} %d\n", comps[i].name,
		                comps[i].level == LEVEL_FAIL ? 0 : 1);
	if (rc == RC_OK)
		rc = buf_printf(b,
		                "# HELP plantao_monitors Heartbeat and uptime monitors by state (new, up, late, down; "
		                "paused ones only as paused), counted by the monitor thread every %d s.\n"
		                "# TYPE plantao_monitors gauge\n",
		                WATCH_COUNT_MS / 1000);
	watch_counts(counts);
	for (i = 0; rc == RC_OK && i < WATCH_STATES; i++)
		rc = buf_printf(b, "plantao_monitors{state=\"%s\"} %lld\n", watch_state_name(i), (long long)counts[i]);
	if (rc == RC_OK) {
		int64_t hb = watch_last_tick_us(), up = uptime_last_tick_us(), mono = clock_mono_us();

		rc = buf_printf(
		        b,
		        "# HELP plantao_monitor_thread_tick_age_seconds Seconds since the monitor threads' last "
		        "good tick (heartbeats, uptime checks); both tick several times a second, so a "
		        "growing age means the thread is stuck.\n"
		        "# TYPE plantao_monitor_thread_tick_age_seconds gauge\n"
		        "plantao_monitor_thread_tick_age_seconds{thread=\"heartbeat\"} %.3f\n"
		        "plantao_monitor_thread_tick_age_seconds{thread=\"uptime\"} %.3f\n",
		        hb ? (double)(mono - hb) / 1e6 : 0.0, up ? (double)(mono - up) / 1e6 : 0.0);
	}
	return rc;
}

/* Each singleton job this instance has asked about: 1 while it is the job's leader, 0 on standby. */
static enum rc job_gauges(struct buf *b)
{
	struct db_job_role roles[OPS_MAX_JOBS];
	size_t i, n = db_job_roles(roles, OPS_MAX_JOBS);
	enum rc rc =
	        buf_printf(b,
	                   "# HELP plantao_instance_info This instance's id (host:pid:start), as /healthz names it.\n"
	                   "# TYPE plantao_instance_info gauge\n"
	                   "plantao_instance_info{id=\"%s\"} 1\n"
	                   "# HELP plantao_job_leader Singleton jobs (one instance at a time runs each): 1 "
	                   "when this instance runs the job, 0 when it stands by for another one.\n"
	                   "# TYPE plantao_job_leader gauge\n",
	                   instance_id());

	for (i = 0; rc == RC_OK && i < n; i++)
		rc = buf_printf(b, "plantao_job_leader{job=\"%s\"} %d\n", roles[i].job, roles[i].held ? 1 : 0);
	return rc;
}

/*
 * Copies the text exposition in to out with instance="<id>" added to every sample line (comment
 * lines pass unchanged): as the first label when the series has labels, else as its only one.
 * The id is escaped as the format asks (backslash, double quote, newline).
 */
static enum rc add_instance_label(const struct buf *in, struct buf *out)
{
	char label[2 * INSTANCE_ID_MAX + 16];
	const char *id = instance_id(), *p = in->data, *end = in->data + in->len;
	size_t k = 0;
	enum rc rc = RC_OK;

	k += (size_t)snprintf(label, sizeof label, "instance=\"");
	for (; *id && k + 4 < sizeof label; id++) {
		if (*id == '\\' || *id == '"' || *id == '\n')
			label[k++] = '\\';
		label[k++] = *id == '\n' ? 'n' : *id;
	}
	label[k++] = '"';
	label[k] = '\0';
	while (rc == RC_OK && p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl + 1 : end;
		size_t name = strcspn(p, "{ \n");

		if (*p == '#' || *p == '\n' || p + name >= eol)
			rc = buf_append(out, p, (size_t)(eol - p));
		else if (p[name] == '{')
			rc = buf_printf(out, "%.*s{%s%s%.*s", (int)name, p, label, p[name + 1] == '}' ? "" : ",",
			                (int)(eol - p - (ptrdiff_t)name - 1), p + name + 1);
		else
			rc = buf_printf(out, "%.*s{%s}%.*s", (int)name, p, label, (int)(eol - p - (ptrdiff_t)name),
			                p + name);
		p = eol;
	}
	return rc;
}

/* What protects the webhooks from other clients, counted since start: requests refused because the
 * writer lock was not had in time, and connections the slow-client guard cut. */
static enum rc guard_counters(struct http_req *req, struct buf *b)
{
	uint64_t head, body, evicted;

	http_slow_counts(req, &head, &body, &evicted);
	return buf_printf(b,
	                  "# HELP plantao_db_writer_timeouts_total Requests answered 503 because write access to "
	                  "the database was not had within %d ms (another writer held it).\n"
	                  "# TYPE plantao_db_writer_timeouts_total counter\n"
	                  "plantao_db_writer_timeouts_total %llu\n"
	                  "# HELP plantao_http_slow_clients_cut_total Connections cut off by the slow-client guard: "
	                  "request head past its deadline, body below the minimum rate, pushed out past a "
	                  "connection limit.\n"
	                  "# TYPE plantao_http_slow_clients_cut_total counter\n"
	                  "plantao_http_slow_clients_cut_total{reason=\"head\"} %llu\n"
	                  "plantao_http_slow_clients_cut_total{reason=\"body\"} %llu\n"
	                  "plantao_http_slow_clients_cut_total{reason=\"evicted\"} %llu\n",
	                  DB_WRITER_WAIT_MS, (unsigned long long)db_writer_timeouts(), (unsigned long long)head,
	                  (unsigned long long)body, (unsigned long long)evicted);
}

enum rc ops_metrics(struct http_req *req)
{
	struct buf b, labeled;
	enum rc rc;

	buf_init(&b, 4 * HTTP_MIB);
	rc = buf_printf(&b,
	                "# HELP plantao_build_info The running plantao's version.\n"
	                "# TYPE plantao_build_info gauge\n"
	                "plantao_build_info{version=\"%s\"} 1\n"
	                "# HELP plantao_start_time_seconds When this process started, in Unix seconds.\n"
	                "# TYPE plantao_start_time_seconds gauge\n"
	                "plantao_start_time_seconds %lld\n",
	                PLANTAO_VERSION, (long long)req->app->started_at);
	if (rc == RC_OK)
		rc = metrics_render(req->app->metrics, &b);
	if (rc == RC_OK)
		rc = buf_puts(&b, "# HELP plantao_outbox_messages Outbox rows by status (pending is the queue depth).\n"
		                  "# TYPE plantao_outbox_messages gauge\n");
	if (rc == RC_OK)
		rc = outbox_depth(req->db, depth_line, &b);
	if (rc == RC_OK)
		rc = paging_gauges(req, &b);
	if (rc == RC_OK)
		rc = guard_counters(req, &b);
	if (rc == RC_OK)
		rc = job_gauges(&b);
	db_settle(req->db, "metrics");
	buf_init(&labeled, 5 * HTTP_MIB);
	if (rc == RC_OK && req->app->cfg->metrics_instance) {
		rc = add_instance_label(&b, &labeled);
		if (rc == RC_OK)
			rc = http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
			                labeled.data ? labeled.data : "", labeled.len);
	} else if (rc == RC_OK)
		rc = http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
	buf_release(&labeled);
	buf_release(&b);
	return rc;
}
