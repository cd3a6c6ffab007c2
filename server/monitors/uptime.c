/*
 * server/monitors/uptime.c — the uptime-check thread (see uptime.h). Owns its CURLM and every
 * check's CURL handle. Each tick: start the checks that are due (next_ms came, or a retry's
 * time), drive the transfers, and for each finished one judge it and write the result, the
 * monitor's state and its alerts in one short transaction. Transfers never run inside a
 * transaction. Each check opens a fresh connection (no reuse), so every check measures the
 * whole way in and sees the certificate.
 */
#include "monitors/uptime.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "db/alerts.h"
#include "db/db.h"
#include "db/monitors.h"
#include "monitors/heartbeat.h"
#include "pager/alerts.h"

__attribute__((format_arg(2), format_arg(3))) static const char *L(struct app *app, const char *pt, const char *en)
{
	return app_lang_en(app) ? en : pt;
}

/* ---------------------------------------------------------------- status ranges */

/* Calls fn for each "a" or "a-b" item of spec; false on a malformed item. */
static bool each_range(const char *spec, bool (*fn)(void *ctx, long a, long b), void *ctx)
{
	const char *s = spec;

	if (!s || !*s)
		return false;
	for (;;) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 100 || a > 599)
			return false;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b > 599)
				return false;
			s = end;
		}
		if (fn(ctx, a, b))
			return true;
		if (*s == '\0')
			return true;
		if (*s != ',')
			return false;
		s++;
	}
}

static bool never(void *ctx, long a, long b)
{
	(void)ctx, (void)a, (void)b;
	return false;
}

struct match {
	long status;
	bool found;
};

static bool within(void *ctx, long a, long b)
{
	struct match *m = ctx;

	m->found = m->status >= a && m->status <= b;
	return m->found;
}

bool uptime_status_spec_is_valid(const char *spec)
{
	return spec && strlen(spec) < 32 && each_range(spec, never, NULL);
}

bool uptime_status_matches(const char *spec, long status)
{
	struct match m = {status, false};

	return each_range(spec, within, &m) && m.found;
}

/* ---------------------------------------------------------------- one check */

struct check {
	int64_t id;
	bool tcp;
	bool retry; /* the second try of a failure: its result counts */
	CURL *easy;
	struct monitor m; /* as it was when the check started */
	char *body;
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
};

struct retry {
	int64_t id;
	int64_t at_ms;
};

struct uptime {
	struct app *app;
	pthread_t thread;
	atomic_int stop;
	CURLM *multi;
	struct check *flight[UPTIME_MAX_FLIGHT];
	size_t n_flight;
	struct retry retries[UPTIME_MAX_FLIGHT];
	size_t n_retries;
	int64_t due[UPTIME_MAX_FLIGHT];
	int64_t stall_ms; /* test fault (PLANTAO_TEST_UPTIME_STALL_S): block once this long; 0: never */
};

/* The last good tick, for /healthz and /metrics: process-wide like the thread itself. */
static _Atomic int64_t last_tick_us;

int64_t uptime_last_tick_us(void)
{
	return atomic_load(&last_tick_us);
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct check *c = arg;
	size_t len = size * n, take = UPTIME_BODY_MAX - c->len;

	if (take > len)
		take = len;
	if (take && c->body) {
		memcpy(c->body + c->len, data, take);
		c->len += take;
	}
	return len; /* the rest is read and dropped: a big page is not a failure */
}

static void check_free(struct check *c)
{
	if (!c)
		return;
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c->body);
	free(c);
}

static bool busy(struct uptime *u, int64_t id)
{
	size_t i;

	for (i = 0; i < u->n_flight; i++)
		if (u->flight[i]->id == id)
			return true;
	for (i = 0; i < u->n_retries; i++)
		if (u->retries[i].id == id)
			return true;
	return false;
}

static enum rc start_check(struct uptime *u, const struct monitor *m, bool retry)
{
	struct check *c = calloc(1, sizeof *c);
	char url[MONITORS_TARGET_MAX + 16], ua[64];
	long timeout_ms = (long)(m->timeout_s > 0 ? m->timeout_s : 10) * 1000;

	if (!c)
		return RC_INTERNAL;
	c->id = m->id;
	c->m = *m;
	c->tcp = strcmp(m->kind, "tcp") == 0;
	c->retry = retry;
	c->easy = curl_easy_init();
	if (!c->easy || (!c->tcp && m->keyword[0] && !(c->body = malloc(UPTIME_BODY_MAX)))) { /* only to search */
		check_free(c);
		return RC_INTERNAL;
	}
	snprintf(url, sizeof url, c->tcp ? "http://%s/" : "%s", m->target);
	snprintf(ua, sizeof ua, "plantao-uptime/%s", PLANTAO_VERSION);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, 1L);
	if (c->tcp) {
		curl_easy_setopt(c->easy, CURLOPT_CONNECT_ONLY, 1L);
	} else {
		curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c->easy, CURLOPT_USERAGENT, ua);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, m->follow_redirects ? 1L : 0L);
		curl_easy_setopt(c->easy, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(c->easy, CURLOPT_CERTINFO, 1L);
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYPEER, m->tls_verify ? 1L : 0L);
		curl_easy_setopt(c->easy, CURLOPT_SSL_VERIFYHOST, m->tls_verify ? 2L : 0L);
	}
	if (curl_multi_add_handle(u->multi, c->easy) != CURLM_OK) {
		check_free(c);
		return RC_INTERNAL;
	}
	u->flight[u->n_flight++] = c;
	return RC_OK;
}

/* Starts what is due: retries whose time came, then monitors whose next_ms came. */
static enum rc start_due(struct uptime *u, struct db *db, int64_t now_ms)
{
	size_t i, n = 0;
	enum rc rc = RC_OK;

	for (i = 0; i < u->n_retries && u->n_flight < UPTIME_MAX_FLIGHT;) {
		struct monitor m;

		if (u->retries[i].at_ms > now_ms) {
			i++;
			continue;
		}
		rc = monitors_get(db, u->retries[i].id, &m);
		u->retries[i] = u->retries[--u->n_retries];
		if (rc == RC_OK && !m.paused)
			rc = start_check(u, &m, true);
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
		if (rc != RC_OK)
			return rc;
	}
	if (u->n_flight >= UPTIME_MAX_FLIGHT)
		return RC_OK;
	rc = monitors_checks_due(db, now_ms, u->due, UPTIME_MAX_FLIGHT, &n);
	for (i = 0; rc == RC_OK && i < n && u->n_flight < UPTIME_MAX_FLIGHT; i++) {
		struct monitor m;

		if (busy(u, u->due[i]))
			continue;
		rc = monitors_get(db, u->due[i], &m);
		if (rc == RC_OK)
			rc = start_check(u, &m, false);
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
	}
	db_settle(db, "uptime start");
	return rc;
}

/* ---------------------------------------------------------------- judging a result */

static bool is_tls_error(CURLcode e)
{
	switch (e) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED: return true;
	default: return false;
	}
}

/* The failure of c in words into err (empty when the check succeeded). */
static void judge(struct check *c, CURLcode e, char *err, size_t len)
{
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(e);
	long status = 0;

	err[0] = '\0';
	if (e == CURLE_COULDNT_RESOLVE_HOST || e == CURLE_COULDNT_RESOLVE_PROXY)
		snprintf(err, len, "DNS: %s", why);
	else if (e == CURLE_COULDNT_CONNECT)
		snprintf(err, len, "connect: %s", why);
	else if (e == CURLE_OPERATION_TIMEDOUT)
		snprintf(err, len, "timeout: no answer within %lld s", (long long)c->m.timeout_s);
	else if (is_tls_error(e))
		snprintf(err, len, "TLS: %s", why);
	else if (e == CURLE_TOO_MANY_REDIRECTS)
		snprintf(err, len, "redirects: %s", why);
	else if (e != CURLE_OK)
		snprintf(err, len, "%s", why);
	if (err[0] || c->tcp)
		return;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!uptime_status_matches(c->m.expect_status[0] ? c->m.expect_status : "200-399", status))
		snprintf(err, len, "status: %ld (expected %s)", status,
		         c->m.expect_status[0] ? c->m.expect_status : "200-399");
	else if (c->m.keyword[0] && (!c->body || !memmem(c->body, c->len, c->m.keyword, strlen(c->m.keyword))))
		snprintf(err, len, "keyword: \"%s\" missing from the page", c->m.keyword);
}

/* notAfter of the site's own certificate (the first of the chain), 0 when unknown. */
static int64_t cert_expiry(struct check *c)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *s;

	if (c->tcp || curl_easy_getinfo(c->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return 0;
	for (s = ci->certinfo[0]; s; s = s->next)
		if (strncmp(s->data, "Expire date:", 12) == 0) {
			struct tm t;
			const char *end;

			memset(&t, 0, sizeof t);
			end = strptime(s->data + 12, "%b %d %H:%M:%S %Y GMT", &t);
			if (end)
				return (int64_t)timegm(&t);
		}
	return 0;
}

static void after_commit(struct app *app, const struct heartbeat_effects *fx)
{
	int i;

	for (i = 0; i < fx->opened; i++)
		alerts_count(app, ALERTS_TRIGGERED);
	for (i = 0; i < fx->resolved; i++)
		alerts_count(app, ALERTS_RESOLVED);
	if (fx->opened || fx->resolved)
		app_wake_engine(app);
}

/* One up/down change: counted in the hour's window; more than UPTIME_FLAP_CHANGES is flapping. */
static void flip(struct monitor *m, int64_t now_ms)
{
	if (!m->flips_since_ms || now_ms - m->flips_since_ms > UPTIME_FLAP_WINDOW_MS) {
		m->flips = 0;
		m->flips_since_ms = now_ms;
	}
	m->flips++;
	if (!m->flapping && m->flips > UPTIME_FLAP_CHANGES) {
		m->flapping = true;
		log_warn("monitor %lld (%s) is flapping: %d changes within an hour; its alert stays open instead of "
		         "paging at every fall",
		         (long long)m->id, m->name, m->flips);
	}
}

static enum rc certificate(struct app *app, struct db *db, struct monitor *m, int64_t expires, int64_t now_ms,
                           struct heartbeat_effects *fx)
{
	char key[48], summary[ALERTS_SUMMARY_MAX + 1], day[16];
	int64_t left = expires - now_ms / 1000;
	time_t tt = (time_t)expires;
	struct tm t;

	m->cert_expires_at = expires;
	if (m->cert_warn_days <= 0 || left >= (int64_t)m->cert_warn_days * 86400)
		return heartbeat_alert_close(app, db, m, &m->cert_alert_id, NULL, now_ms, fx);
	gmtime_r(&tt, &t);
	strftime(day, sizeof day, "%Y-%m-%d", &t);
	if (left > 0)
		snprintf(summary, sizeof summary,
		         L(app, "Certificado TLS de \"%s\" expira em %lld dia(s), em %s",
		           "TLS certificate of \"%s\" expires in %lld day(s), on %s"),
		         m->name, (long long)(left / 86400), day);
	else
		snprintf(summary, sizeof summary,
		         L(app, "Certificado TLS de \"%s\" expirou em %s", "TLS certificate of \"%s\" expired on %s"),
		         m->name, day);
	snprintf(key, sizeof key, "monitor:%lld:cert", (long long)m->id);
	return heartbeat_alert_open(db, m, &m->cert_alert_id, key, "warning", summary, m->target, now_ms, fx);
}

/* Writes a counted result into m (fresh from the database) and its alerts. */
static enum rc record(struct app *app, struct db *db, struct monitor *m, const char *err, int64_t response_ms,
                      int64_t expires, int64_t now_ms, struct heartbeat_effects *fx)
{
	bool ok = !err[0];
	char summary[ALERTS_SUMMARY_MAX + 1], notice[400];
	enum rc rc = monitors_result_add(db, m->id, now_ms, ok ? "success" : "fail",
	                                 strcmp(m->kind, "tcp") ? "GET" : "TCP", ok ? NULL : err, response_ms);

	if (rc != RC_OK)
		return rc;
	m->last_ping_ms = now_ms;
	snprintf(m->last_ping_kind, sizeof m->last_ping_kind, "%s", ok ? "success" : "fail");
	snprintf(m->last_error, sizeof m->last_error, "%s", err);
	m->last_response_ms = response_ms > 0 ? response_ms : 0;
	m->next_ms = now_ms + (m->interval_s > 0 ? m->interval_s : 60) * 1000;
	if (m->flapping && now_ms - m->flips_since_ms > UPTIME_FLAP_WINDOW_MS) {
		m->flapping = false;
		m->flips = 0;
		m->flips_since_ms = 0;
		log_info("monitor %lld (%s) is no longer flapping", (long long)m->id, m->name);
	}
	if (expires)
		rc = certificate(app, db, m, expires, now_ms, fx);
	if (rc != RC_OK)
		return rc;
	if (ok) {
		m->fail_streak = 0;
		if (strcmp(m->state, "down") == 0)
			flip(m, now_ms);
		if (strcmp(m->state, "up") != 0) {
			snprintf(m->state, sizeof m->state, "up");
			m->state_since_ms = now_ms;
		}
		if (!m->alert_id || m->flapping)
			return RC_OK;
		snprintf(notice, sizeof notice,
		         L(app, "Alerta %lld resolvido: monitor \"%s\" voltou (respondeu em %lld ms).",
		           "Alert %lld resolved: monitor \"%s\" is back (answered in %lld ms)."),
		         (long long)m->alert_id, m->name, (long long)m->last_response_ms);
		return heartbeat_alert_close(app, db, m, &m->alert_id, notice, now_ms, fx);
	}
	m->fail_streak++;
	if (m->fail_streak < (m->failures_before_alert > 0 ? m->failures_before_alert : 1) ||
	    strcmp(m->state, "down") == 0)
		return RC_OK;
	if (strcmp(m->state, "up") == 0)
		flip(m, now_ms);
	snprintf(m->state, sizeof m->state, "down");
	m->state_since_ms = now_ms;
	snprintf(summary, sizeof summary, L(app, "Monitor \"%s\" fora do ar: %s", "Monitor \"%s\" is down: %s"),
	         m->name, err);
	{
		char key[40];

		snprintf(key, sizeof key, "monitor:%lld", (long long)m->id);
		return heartbeat_alert_open(db, m, &m->alert_id, key, m->severity, summary, m->target, now_ms, fx);
	}
}

static enum rc finish(struct uptime *u, struct db *db, struct check *c, CURLcode e)
{
	struct heartbeat_effects fx = {0, 0};
	char err[MONITORS_ERROR_MAX + 1];
	int64_t now_ms = clock_now_ms(), expires;
	curl_off_t us = 0;
	struct monitor m;
	enum rc rc;

	judge(c, e, err, sizeof err);
	curl_easy_getinfo(c->easy, c->tcp ? CURLINFO_CONNECT_TIME_T : CURLINFO_TOTAL_TIME_T, &us);
	expires = e == CURLE_OK ? cert_expiry(c) : 0;
	if (err[0] && !c->retry && u->n_retries < UPTIME_MAX_FLIGHT) {
		log_info("monitor %lld (%s): check failed (%s); trying again in %d s before it counts",
		         (long long)c->id, c->m.name, err, UPTIME_RETRY_MS / 1000);
		u->retries[u->n_retries].id = c->id;
		u->retries[u->n_retries++].at_ms = now_ms + UPTIME_RETRY_MS;
		return RC_OK;
	}
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = monitors_get(db, c->id, &m);
	if (rc == RC_OK && !m.paused)
		rc = record(u->app, db, &m, err, (int64_t)(us / 1000), expires, now_ms, &fx);
	if (rc == RC_OK && !m.paused)
		rc = monitors_update(db, &m, now_ms / 1000);
	if (rc == RC_NOT_FOUND) /* deleted meanwhile */
		rc = RC_OK;
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		return rc;
	}
	after_commit(u->app, &fx);
	return RC_OK;
}

/* Collects finished transfers. */
static enum rc collect(struct uptime *u, struct db *db)
{
	CURLMsg *msg;
	int left;
	enum rc rc = RC_OK;

	while ((msg = curl_multi_info_read(u->multi, &left))) {
		struct check *c = NULL;
		size_t i;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (!c)
			continue;
		if (rc == RC_OK) /* after a database error the rest stay due: checked again next tick */
			rc = finish(u, db, c, msg->data.result);
		db_settle(db, "uptime result");
		curl_multi_remove_handle(u->multi, c->easy);
		for (i = 0; i < u->n_flight; i++)
			if (u->flight[i] == c) {
				u->flight[i] = u->flight[--u->n_flight];
				break;
			}
		check_free(c);
	}
	return rc;
}

static void *loop(void *arg)
{
	struct uptime *u = arg;
	struct db *db = app_db(u->app);
	enum rc last = RC_OK;
	size_t i;

	if (!db) {
		log_err("uptime checks: no database connection; sites are not checked");
		return NULL;
	}
	while (!atomic_load(&u->stop)) {
		int running = 0;
		/* several instances on one PostgreSQL database: one of them starts the checks (job
		 * "uptime"); checks already in flight are recorded whoever leads now */
		enum rc rc = db_job_lock(db, "uptime") ? start_due(u, db, clock_now_ms()) : RC_OK;

		curl_multi_perform(u->multi, &running);
		if (u->stall_ms && u->n_flight) { /* the test fault: a check that holds the thread */
			struct timespec ts = {(time_t)(u->stall_ms / 1000), (long)(u->stall_ms % 1000) * 1000000L};

			log_warn("uptime checks: test fault: the thread blocks for %lld s",
			         (long long)(u->stall_ms / 1000));
			u->stall_ms = 0;
			nanosleep(&ts, NULL);
		}
		if (rc == RC_OK)
			rc = collect(u, db);
		if (rc == RC_OK)
			atomic_store(&last_tick_us, clock_mono_us());
		if (rc != RC_OK && rc != last)
			log_warn("uptime checks: %s; results are not recorded until it clears", rc_str(rc));
		else if (rc == RC_OK && last != RC_OK)
			log_info("uptime checks: recording again");
		last = rc;
		curl_multi_poll(u->multi, NULL, 0, UPTIME_TICK_MS, NULL);
	}
	for (i = 0; i < u->n_flight; i++) {
		curl_multi_remove_handle(u->multi, u->flight[i]->easy);
		check_free(u->flight[i]);
	}
	u->n_flight = 0;
	app_db_close(u->app);
	return NULL;
}

enum rc uptime_start(struct app *app, struct uptime **out)
{
	struct uptime *u = calloc(1, sizeof *u);
	const char *stall;

	*out = NULL;
	if (!u)
		return RC_INTERNAL;
	u->app = app;
	stall = getenv("PLANTAO_TEST_UPTIME_STALL_S"); /* a test fault only (uptime.h) */
	if (stall && *stall)
		u->stall_ms = strtoll(stall, NULL, 10) * 1000;
	atomic_store(&last_tick_us, clock_mono_us()); /* a thread that never ticks is stalled from now */
	u->multi = curl_multi_init();
	if (!u->multi || pthread_create(&u->thread, NULL, loop, u)) {
		if (u->multi)
			curl_multi_cleanup(u->multi);
		free(u);
		return RC_INTERNAL;
	}
	*out = u;
	return RC_OK;
}

void uptime_stop(struct uptime *u)
{
	if (!u)
		return;
	atomic_store(&u->stop, 1);
	curl_multi_wakeup(u->multi);
	pthread_join(u->thread, NULL);
	curl_multi_cleanup(u->multi);
	free(u);
}
