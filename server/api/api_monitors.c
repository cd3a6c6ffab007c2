/*
 * server/api/api_monitors.c — the monitors API (see api_monitors.h). Input is checked here, the
 * state machine's rules for pausing and re-timing are server/monitors/heartbeat.c, the rows
 * db/monitors.c. Alerts a change closes are resolved in the same transaction.
 */
#include "api/api_monitors.h"
#include "api/api_list.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/clock.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/monitors.h"
#include "db/rotation.h"
#include "monitors/cron.h"
#include "monitors/heartbeat.h"
#include "monitors/uptime.h"
#include "pager/alerts.h"
#include "rotation/tz.h"

static json_t *opt_int(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

static json_t *opt_str(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* s when it is one of the NULL-terminated words, else NULL. */
static const char *one_of(const char *s, const char *const *words)
{
	for (; s && *words; words++)
		if (strcmp(s, *words) == 0)
			return s;
	return NULL;
}

/* Replaces the integer time fields names of object o by ISO 8601 in zone, keeping <name>_unix. */
static void iso_fields(json_t *o, const char *zone, const char *const *names)
{
	json_t *one = json_array();

	if (one && json_array_append(one, o) == 0)
		api_list_iso_fields(one, zone, names);
	json_decref(one);
}

/*
 * A monitor as the API answers it. Times are ISO 8601 in zone (the team's) with their epoch
 * seconds as <name>_unix; the *_ms fields that remain are durations, not instants.
 */
static json_t *monitor_json(struct http_req *req, const struct monitor *m, const char *zone)
{
	static const char *const times[] = {"last_ping_at",    "state_since", "next_at", "created_at",
	                                    "updated_at",      "started_at",  "due_at",  "last_check_at",
	                                    "cert_expires_at", NULL};
	bool hb = strcmp(m->kind, "heartbeat") == 0;
	char url[512];
	json_t *o;

	snprintf(url, sizeof url, "%s/ping/%s", req->app->cfg->public_url, m->secret);
	o = json_pack("{s:I,s:s,s:s,s:s,s:b,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "id", (json_int_t)m->id, "kind",
	              m->kind, "name", m->name, "state", m->paused ? "paused" : m->state, "paused", m->paused, "tz",
	              m->tz, "severity", m->severity, "last_ping_at", opt_int(m->last_ping_ms / 1000), "last_ping_kind",
	              opt_str(m->last_ping_kind), "alert_id", opt_int(m->alert_id), "state_since",
	              opt_int(m->state_since_ms / 1000), "next_at", opt_int(m->paused ? 0 : m->next_ms / 1000),
	              "created_at", (json_int_t)m->created_at, "updated_at", (json_int_t)m->updated_at);
	if (!o)
		return NULL;
	if (hb) {
		json_object_update_new(
		        o, json_pack("{s:o,s:o,s:I,s:o,s:o,s:o,s:o}", "ping_url",
		                     m->secret[0] ? json_string(url) : json_null(), "period_s", opt_int(m->period_s),
		                     "grace_s", (json_int_t)m->grace_s, "schedule", opt_str(m->schedule),
		                     "last_duration_ms", opt_int(m->last_duration_ms), "started_at",
		                     opt_int(m->last_start_ms / 1000), "due_at",
		                     opt_int(m->paused || strcmp(m->state, "down") == 0 ? 0 : m->due_ms / 1000)));
		iso_fields(o, zone, times);
		return o;
	}
	json_object_update_new(o, json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:b}",
	                                    strcmp(m->kind, "http") == 0 ? "url" : "target", m->target, "interval_s",
	                                    (json_int_t)m->interval_s, "timeout_s", (json_int_t)m->timeout_s,
	                                    "failures_before_alert", (json_int_t)m->failures_before_alert,
	                                    "fail_streak", (json_int_t)m->fail_streak, "last_error",
	                                    opt_str(m->last_error), "last_response_ms",
	                                    m->last_ping_ms ? json_integer(m->last_response_ms) : json_null(),
	                                    "last_check_at", opt_int(m->last_ping_ms / 1000), "cert_alert_id",
	                                    opt_int(m->cert_alert_id), "flapping", m->flapping));
	if (strcmp(m->kind, "http") == 0)
		json_object_update_new(o, json_pack("{s:o,s:o,s:b,s:b,s:I,s:o}", "expect_status",
		                                    opt_str(m->expect_status), "keyword", opt_str(m->keyword),
		                                    "follow_redirects", m->follow_redirects, "tls_verify",
		                                    m->tls_verify, "cert_warn_days", (json_int_t)m->cert_warn_days,
		                                    "cert_expires_at", opt_int(m->cert_expires_at)));
	iso_fields(o, zone, times);
	return o;
}

struct list_ctx {
	struct http_req *req;
	const char *zone;
	json_t *a;
};

static void list_one(void *ctx, const struct monitor *m)
{
	struct list_ctx *c = ctx;

	json_array_append_new(c->a, monitor_json(c->req, m, c->zone));
}

enum rc api_monitors_list(struct http_req *req)
{
	static const char *const allowed[] = {"kind", "state", "limit", "before", NULL};
	static const char *const kinds[] = {"heartbeat", "http", "tcp", NULL};
	static const char *const states[] = {"new", "up", "late", "down", "paused", NULL};
	struct monitors_filter f;
	struct api_list_query q;
	struct list_ctx c = {req, NULL, NULL};
	enum rc rc = api_list_query(req, allowed, API_MONITORS_DEFAULT_LIMIT, API_MONITORS_MAX_LIMIT, &q);

	if (rc != RC_OK)
		return rc;
	memset(&f, 0, sizeof f);
	f.limit = (int)q.limit;
	f.before_id = q.before;
	f.kind = one_of(http_query(req, "kind"), kinds);
	f.state = one_of(http_query(req, "state"), states);
	if (http_query(req, "kind") && !f.kind)
		return http_fail(req, RC_INVALID, "kind: expected heartbeat, http or tcp");
	if (http_query(req, "state") && !f.state)
		return http_fail(req, RC_INVALID, "state: expected new, up, late, down or paused");
	c.zone = q.zone;
	c.a = json_array();
	if (!c.a)
		return RC_INTERNAL;
	rc = monitors_list(req->db, &f, list_one, &c);
	if (rc != RC_OK) {
		json_decref(c.a);
		return rc;
	}
	return http_reply_json(req, 200, api_list_page("monitors", c.a, q.limit));
}

/* What an edit asks for, beyond the fields copied into the monitor. */
struct edit {
	bool has_paused, paused;
	bool timing; /* period, grace or schedule changed */
};

/* A whole number from lo to hi, or a 422 naming the field. */
static enum rc whole(struct http_req *req, json_t *v, const char *name, long long lo, long long hi, int64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
		                      "%s: expected a whole number from %lld to %lld", name, lo, hi);
	*out = json_integer_value(v);
	return RC_OK;
}

static bool is_http_url(const char *s)
{
	size_t i;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return false;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return s[strncmp(s, "https", 5) == 0 ? 8 : 7] != '\0';
}

/* "host:port" or "[v6]:port", port 1-65535. */
static bool is_host_port(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;
	size_t i;

	if (!colon || colon == s)
		return false;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		return false;
	for (i = 0; s + i < colon; i++)
		if ((unsigned char)s[i] <= 0x20 || strchr("/?#@", s[i]))
			return false;
	return true;
}

/* Fields of each kind (besides kind, name, severity, paused). */
static const char *const heartbeat_fields[] = {"period_s", "grace_s", "schedule", "tz", NULL};
static const char *const http_fields[] = {"url",
                                          "interval_s",
                                          "timeout_s",
                                          "expect_status",
                                          "keyword",
                                          "follow_redirects",
                                          "tls_verify",
                                          "cert_warn_days",
                                          "failures_before_alert",
                                          NULL};
static const char *const tcp_fields[] = {"target", "interval_s", "timeout_s", "failures_before_alert", NULL};

static bool allowed(const char *kind, const char *key)
{
	const char *const *f = strcmp(kind, "http") == 0  ? http_fields
	                       : strcmp(kind, "tcp") == 0 ? tcp_fields
	                                                  : heartbeat_fields;

	if (!strcmp(key, "kind") || !strcmp(key, "name") || !strcmp(key, "severity") || !strcmp(key, "paused"))
		return true;
	for (; *f; f++)
		if (strcmp(*f, key) == 0)
			return true;
	return false;
}

static enum rc text_field(struct http_req *req, json_t *v, const char *name, size_t max, char *out, size_t len)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) > max || strpbrk(s, "\r\n"))
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
		                      "%s: expected one line of at most %zu bytes", name, max);
	snprintf(out, len, "%s", s);
	return RC_OK;
}

/* Copies the fields of body into m (create: defaults already set, m->kind chosen). */
static enum rc parse(struct http_req *req, json_t *body, struct monitor *m, bool create, struct edit *e)
{
	const char *key;
	json_t *v;
	bool has_period = false, has_schedule = false;
	int64_t n;
	enum rc rc = RC_OK;

	memset(e, 0, sizeof *e);
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object");
	json_object_foreach(body, key, v)
	{
		if (!allowed(m->kind, key)) {
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key, "%s: unknown field%s%s", key,
			                      allowed("heartbeat", key) || allowed("http", key) || allowed("tcp", key)
			                              ? " for a monitor of kind "
			                              : "",
			                      allowed("heartbeat", key) || allowed("http", key) || allowed("tcp", key)
			                              ? m->kind
			                              : "");
		} else if (strcmp(key, "kind") == 0) {
			if (!json_is_string(v) || strcmp(json_string_value(v), m->kind) != 0)
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      create ? "kind: expected heartbeat, http or tcp"
				                             : "kind: a monitor's kind cannot change");
		} else if (strcmp(key, "name") == 0) {
			const char *s = json_string_value(v);

			if (!s || !*s || strlen(s) > MONITORS_NAME_MAX || strpbrk(s, "\r\n\t"))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "name: expected one line of 1 to %d bytes", MONITORS_NAME_MAX);
			snprintf(m->name, sizeof m->name, "%s", s);
		} else if (strcmp(key, "period_s") == 0) {
			if (json_is_null(v) && !create) {
				m->period_s = 0;
			} else {
				rc = whole(req, v, "period_s", 1, API_MONITORS_MAX_SECONDS, &m->period_s);
				has_period = true;
			}
			e->timing = true;
		} else if (strcmp(key, "grace_s") == 0) {
			rc = whole(req, v, "grace_s", 1, API_MONITORS_MAX_SECONDS, &m->grace_s);
			e->timing = true;
		} else if (strcmp(key, "schedule") == 0) {
			struct cron c;
			char err[160];

			if (json_is_null(v)) {
				m->schedule[0] = '\0';
			} else {
				const char *s = json_string_value(v);

				if (!s || strlen(s) > MONITORS_SCHEDULE_MAX ||
				    cron_parse(s, &c, err, sizeof err) != RC_OK)
					return http_fail_code(
					        req, RC_UNPROCESSABLE, "invalid_value", NULL, "schedule: %s",
					        s ? err : "expected a cron expression such as \"0 6 * * 1-5\"");
				snprintf(m->schedule, sizeof m->schedule, "%s", s);
				has_schedule = true;
			}
			e->timing = true;
		} else if (strcmp(key, "tz") == 0) {
			const char *s = json_string_value(v);

			if (!s || strlen(s) > MONITORS_TZ_MAX || !tz_is_valid(s))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "tz: expected an IANA time zone such as America/Sao_Paulo");
			snprintf(m->tz, sizeof m->tz, "%s", s);
			e->timing = true;
		} else if (strcmp(key, "severity") == 0) {
			const char *s = json_string_value(v);

			if (!s || (strcmp(s, "critical") && strcmp(s, "warning") && strcmp(s, "info")))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "severity: expected critical, warning or info");
			snprintf(m->severity, sizeof m->severity, "%s", s);
		} else if (strcmp(key, "paused") == 0) {
			if (!json_is_boolean(v))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "paused: expected true or false");
			e->has_paused = true;
			e->paused = json_is_true(v);
		} else if (strcmp(key, "url") == 0) {
			rc = text_field(req, v, "url", MONITORS_TARGET_MAX, m->target, sizeof m->target);
			if (rc == RC_OK && !is_http_url(m->target))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "url: expected an http:// or https:// address");
			e->timing = true;
		} else if (strcmp(key, "target") == 0) {
			rc = text_field(req, v, "target", MONITORS_TARGET_MAX, m->target, sizeof m->target);
			if (rc == RC_OK && !is_host_port(m->target))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "target: expected host:port, e.g. db1.example.com:5432");
			e->timing = true;
		} else if (strcmp(key, "interval_s") == 0) {
			rc = whole(req, v, "interval_s", 1, API_MONITORS_MAX_SECONDS, &m->interval_s);
			e->timing = true;
		} else if (strcmp(key, "timeout_s") == 0) {
			rc = whole(req, v, "timeout_s", 1, 120, &m->timeout_s);
		} else if (strcmp(key, "expect_status") == 0) {
			rc = text_field(req, v, "expect_status", sizeof m->expect_status - 1, m->expect_status,
			                sizeof m->expect_status);
			if (rc == RC_OK && !uptime_status_spec_is_valid(m->expect_status))
				return http_fail_code(
				        req, RC_UNPROCESSABLE, "invalid_value", NULL,
				        "expect_status: expected statuses or ranges such as \"200-399\" or "
				        "\"200,204\"");
		} else if (strcmp(key, "keyword") == 0) {
			if (json_is_null(v))
				m->keyword[0] = '\0';
			else
				rc = text_field(req, v, "keyword", MONITORS_KEYWORD_MAX, m->keyword, sizeof m->keyword);
		} else if (strcmp(key, "follow_redirects") == 0 || strcmp(key, "tls_verify") == 0) {
			if (!json_is_boolean(v))
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", NULL,
				                      "%s: expected true or false", key);
			*(key[0] == 'f' ? &m->follow_redirects : &m->tls_verify) = json_is_true(v);
		} else if (strcmp(key, "cert_warn_days") == 0) {
			rc = whole(req, v, "cert_warn_days", 0, 365, &n);
			m->cert_warn_days = (int)n;
		} else if (strcmp(key, "failures_before_alert") == 0) {
			rc = whole(req, v, "failures_before_alert", 1, 100, &n);
			m->failures_before_alert = (int)n;
		}
		if (rc != RC_OK)
			return rc;
	}
	if (strcmp(m->kind, "heartbeat") != 0) {
		if (!m->target[0])
			return http_fail_code(req, RC_UNPROCESSABLE, "required",
			                      strcmp(m->kind, "http") == 0 ? "url" : "target", "%s: required",
			                      strcmp(m->kind, "http") == 0 ? "url (http:// or https://)"
			                                                   : "target (host:port)");
		return RC_OK;
	}
	if (has_period && has_schedule)
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "schedule",
		                      "schedule: give period_s or schedule, not both");
	if (has_period)
		m->schedule[0] = '\0';
	if (has_schedule)
		m->period_s = 0;
	if (!m->period_s && !m->schedule[0])
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "period_s",
		                      "period_s: required; give period_s or schedule");
	return RC_OK;
}

static void after_commit(struct app *app, const struct heartbeat_effects *fx)
{
	int i;

	for (i = 0; i < fx->resolved; i++)
		alerts_count(app, ALERTS_RESOLVED);
	if (fx->opened || fx->resolved)
		app_wake_engine(app);
}

static enum rc reply_monitor(struct http_req *req, int status, int64_t id)
{
	char zone[TZ_NAME_MAX + 1];
	struct monitor m;
	enum rc rc = monitors_get(req->db, id, &m);

	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no monitor with id %lld", (long long)id);
	if (rc != RC_OK)
		return rc;
	api_list_zone(req, zone, sizeof zone);
	return http_reply_json(req, status, monitor_json(req, &m, zone));
}

/* A new ping secret: MONITORS_SECRET_BYTES random bytes as hex. */
static enum rc new_secret(char *out)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char raw[MONITORS_SECRET_BYTES];
	size_t i;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return RC_INTERNAL;
	for (i = 0; i < sizeof raw; i++) {
		out[2 * i] = hexd[raw[i] >> 4];
		out[2 * i + 1] = hexd[raw[i] & 15];
	}
	out[2 * sizeof raw] = '\0';
	return RC_OK;
}

enum rc api_monitors_create(struct http_req *req)
{
	struct rotation_current rot;
	struct monitor m;
	struct edit e;
	const char *kind;
	json_t *body;
	int64_t id = 0, now = clock_now();
	enum rc rc = api_list_no_params(req);

	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	memset(&m, 0, sizeof m);
	kind = json_string_value(json_object_get(body, "kind"));
	if (!kind || (strcmp(kind, "heartbeat") && strcmp(kind, "http") && strcmp(kind, "tcp")))
		return http_fail_code(req, RC_UNPROCESSABLE,
		                      json_object_get(body, "kind") ? "invalid_value" : "required", "kind",
		                      "kind: required, heartbeat, http or tcp");
	snprintf(m.kind, sizeof m.kind, "%s", kind);
	snprintf(m.severity, sizeof m.severity, "critical");
	if (rotation_latest(req->db, &rot) == RC_OK && rot.timezone[0])
		snprintf(m.tz, sizeof m.tz, "%s", rot.timezone);
	else
		snprintf(m.tz, sizeof m.tz, "%s", req->app->cfg->tz);
	m.interval_s = 60;
	m.timeout_s = 10;
	m.failures_before_alert = 2;
	m.cert_warn_days = 14;
	m.tls_verify = true;
	if (strcmp(kind, "http") == 0)
		snprintf(m.expect_status, sizeof m.expect_status, "200-399");
	if (!json_is_string(json_object_get(body, "name")))
		return http_fail_code(req, RC_UNPROCESSABLE,
		                      json_object_get(body, "name") ? "invalid_value" : "required", "name",
		                      "name: required, one line of 1 to %d bytes", MONITORS_NAME_MAX);
	rc = parse(req, body, &m, true, &e);
	if (rc != RC_OK)
		return rc;
	m.paused = e.has_paused && e.paused;
	if (strcmp(kind, "heartbeat") != 0) {
		m.next_ms = m.paused ? 0 : clock_now_ms(); /* checked at once */
		rc = RC_OK;
		goto insert;
	}
	if (!json_object_get(body, "grace_s"))
		m.grace_s = m.period_s && m.period_s < 3600 ? m.period_s : 3600;
	rc = new_secret(m.secret);
insert:
	if (rc == RC_OK)
		rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = monitors_insert(req->db, &m, now, &id);
	if (rc == RC_OK)
		rc = audit_log(req->db, req->actor, "monitors.create", id, body);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc;
	}
	return reply_monitor(req, 201, id);
}

enum rc api_monitors_get(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_params(req, allowed);
	if (rc != RC_OK)
		return rc;
	return reply_monitor(req, 200, id);
}

enum rc api_monitors_update(struct http_req *req)
{
	struct heartbeat_effects fx = {0, 0};
	struct monitor m;
	struct edit e;
	json_t *body;
	int64_t id, now_ms = clock_now_ms();
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc == RC_OK)
		rc = http_json_body(req, &body);
	if (rc != RC_OK)
		return rc;
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = monitors_get(req->db, id, &m);
	if (rc == RC_NOT_FOUND) {
		db_rollback(req->db);
		return http_fail(req, rc, "no monitor with id %lld", (long long)id);
	}
	if (rc == RC_OK)
		rc = parse(req, body, &m, false, &e);
	if (rc == RC_OK && e.timing && strcmp(m.kind, "heartbeat") != 0 && !m.paused)
		m.next_ms = now_ms; /* checked again at once, with what changed */
	else if (rc == RC_OK && e.timing)
		rc = heartbeat_rescheduled(&m, now_ms);
	if (rc == RC_OK && e.has_paused)
		rc = heartbeat_set_paused(req->app, req->db, &m, e.paused, now_ms, &fx);
	if (rc == RC_OK)
		rc = monitors_update(req->db, &m, now_ms / 1000);
	if (rc == RC_OK)
		rc = audit_log(req->db, req->actor, "monitors.update", id, body);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc;
	}
	after_commit(req->app, &fx);
	return reply_monitor(req, 200, id);
}

enum rc api_monitors_delete(struct http_req *req)
{
	struct heartbeat_effects fx = {0, 0};
	struct monitor m;
	int64_t id, now_ms = clock_now_ms();
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc == RC_OK)
		rc = db_begin(req->db);
	if (rc != RC_OK)
		return rc;
	rc = monitors_get(req->db, id, &m);
	if (rc == RC_OK)
		rc = heartbeat_close_alert(req->app, req->db, &m, now_ms, &fx);
	if (rc == RC_OK)
		rc = monitors_delete(req->db, id);
	if (rc == RC_OK)
		rc = audit_log(req->db, req->actor, "monitors.delete", id, NULL);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		return rc == RC_NOT_FOUND ? http_fail(req, rc, "no monitor with id %lld", (long long)id) : rc;
	}
	after_commit(req->app, &fx);
	return http_reply_json(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "deleted", 1));
}

enum rc api_monitors_pings(struct http_req *req)
{
	static const char *const allowed[] = {"limit", "before", NULL};
	static const char *const times[] = {"at", NULL};
	struct api_list_query q;
	struct monitor m;
	json_t *rows, *page;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_query(req, allowed, MONITORS_PINGS_KEPT, MONITORS_PINGS_KEPT, &q);
	if (rc != RC_OK)
		return rc;
	rc = monitors_get(req->db, id, &m);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no monitor with id %lld", (long long)id);
	if (rc == RC_OK)
		rc = monitors_pings_page_json(req->db, id, q.before, (int)q.limit, &rows);
	if (rc != RC_OK)
		return rc;
	api_list_iso_fields(rows, q.zone, times);
	page = api_list_page("pings", rows, q.limit);
	if (page)
		json_object_set_new(page, "monitor_id", json_integer(id));
	return http_reply_json(req, 200, page);
}
