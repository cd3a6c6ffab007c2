/*
 * server/api/api_alerts.c — alert intake and the alert API (see server/api/api_alerts.h).
 *
 * Payload formats followed:
 *   - Alertmanager webhook_config, payload version "4"
 *     (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config):
 *     {version, groupKey, status, receiver, groupLabels, commonLabels, commonAnnotations,
 *      externalURL, alerts: [{status, labels, annotations, startsAt, endsAt, generatorURL,
 *      fingerprint}]}
 *   - Grafana alerting webhook contact point, version "1": the same alerts[] plus title,
 *     message, state, orgId.
 * A payload with a groupKey is one notification group and becomes one plantao alert
 * (alerts.group_key "am:<groupKey>"): its first firing member opens it (dedup key
 * "am:<fingerprint>" / "grafana:<fingerprint>"), later members join it (table alert_members),
 * its summary counts them and its details list them; it resolves with the group. Without a
 * groupKey each alert stands alone, keyed by its fingerprint. A "resolved" closes the newest
 * unresolved alert, exhausted included. Grafana's test notifications are recorded with
 * severity info and the test flag. A whole payload is read, checked and sorted before the
 * writer lock is taken, then applied in one transaction: taken entirely or not at all.
 *
 * Our own format (POST /api/alerts): JSON or form fields summary, details, severity,
 * dedup_key, source, runbook_url, status, event_action (anything else is a 422 naming it);
 * status "resolved" / event_action "resolve" (PagerDuty Events v2 words) act on the alert
 * with dedup_key; plain text dedups by its first line. Every 202 of a new or folded trigger
 * says whether anybody is paged ("paged", and "reason" when not).
 */
#include "api/api_alerts.h"
#include "api/api_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/session.h"
#include "db/alerts.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/intake.h"
#include "db/people.h"
#include "pager/escalation.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"

#define DETAILS_MAX  (HTTP_ALERT_MAX_BODY + 4 * HTTP_KIB)
#define LIST_DEFAULT 50
/* Longest severity a filter names (alerts_row.severity holds 31 bytes). */
#define SEVERITY_MAX 31
/* A plain-text alert dedups by its first line: at most this many bytes of it form the key. */
#define TEXT_KEY_MAX 400

/* Whether an alert goes out to anybody, as the intake can tell when it answers. */
struct outlook {
	bool paged;
	const char *reason; /* NULL when paged */
	char message[160];  /* "" when paged */
};

/* Every time field of an alert answer (the alert, its attempts, timeline and members) as ISO 8601
 * with the team's offset; the numbers stay as <name>_unix. */
static void iso_times(json_t *a, const char *zone)
{
	static const char *const alert[] = {"created_at", "updated_at",  "step_deadline",
	                                    "acked_at",   "resolved_at", NULL};
	static const char *const attempt[] = {"created_at", "read_at", "ended_at", NULL};
	static const char *const timeline[] = {"created_at", "sent_at", "updated_at", "ended_at", NULL};
	static const char *const member[] = {"created_at", "updated_at", NULL};
	json_t *one = json_array();

	if (!one || json_array_append(one, a)) {
		json_decref(one);
		return;
	}
	api_list_iso_fields(one, zone, alert);
	api_list_iso_fields(json_object_get(a, "attempts"), zone, attempt);
	api_list_iso_fields(json_object_get(a, "timeline"), zone, timeline);
	api_list_iso_fields(json_object_get(a, "members"), zone, member);
	json_decref(one);
}

/*
 * Who acknowledged or resolved (issue 13): the audit row the API wrote with its actor (a
 * session's person, a token's name), else what the alert row itself says: an SMS reply is the
 * phone of the person who sent it, a keypad press the person the call was for. NULL when
 * nothing says who (an alert closed before actors were recorded).
 */
static json_t *actor_of(struct http_req *req, int64_t id, const char *action, const char *via, int64_t person_id)
{
	char actor[128];
	struct person who;
	json_t *o = NULL;
	const char *kind = NULL;

	if (audit_find_actor(req->db, action, id, actor, sizeof actor) == RC_OK)
		return audit_actor_json(actor);
	if (!via)
		return NULL;
	if (!strcmp(via, "sms"))
		kind = "phone";
	else if (!strcmp(via, "call"))
		kind = "keypad";
	else if (!strcmp(via, "api"))
		kind = "person";
	if (kind && person_id > 0 && people_get(req->db, person_id, &who) == RC_OK)
		o = json_pack("{s:s, s:I, s:s, s:s}", "kind", kind, "person_id", (json_int_t)person_id, "name",
		              who.name, "phone", who.phone);
	else if (!kind && via[0])
		o = json_pack("{s:s, s:s}", "kind", "system", "name", via);
	return o;
}

static void add_actors(struct http_req *req, int64_t id, json_t *a)
{
	const char *acked_via = json_string_value(json_object_get(a, "acked_via"));
	const char *resolved_via = json_string_value(json_object_get(a, "resolved_via"));
	json_t *by = json_object_get(a, "acked_by");
	json_t *o;

	if (json_is_integer(json_object_get(a, "acked_at"))) {
		o = actor_of(req, id, "alert.ack", acked_via, json_is_integer(by) ? json_integer_value(by) : 0);
		json_object_set_new(a, "acked_actor", o ? o : json_null());
	}
	if (json_is_integer(json_object_get(a, "resolved_at"))) {
		o = actor_of(req, id, "alert.resolve", resolved_via, 0);
		json_object_set_new(a, "resolved_actor", o ? o : json_null());
	}
}

static void add_extra(struct http_req *req, int64_t id, json_t *a, bool members)
{
	if (intake_alert_json(req->db, id, a, members) != RC_OK)
		log_warn("alert %lld: cannot read its runbook link and group", (long long)id);
	add_actors(req, id, a);
}

static enum rc reply_alert(struct http_req *req, int status, int64_t id, bool deduped, const struct outlook *o)
{
	char zone[TZ_NAME_MAX + 1];
	json_t *a;
	enum rc rc = alerts_json(req->db, id, &a);

	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read alert %lld", (long long)id);
	add_extra(req, id, a, false);
	api_list_zone(req, zone, sizeof zone);
	iso_times(a, zone);
	if (status == 202)
		json_object_set_new(a, "deduped", json_boolean(deduped));
	if (o) {
		json_object_set_new(a, "paged", json_boolean(o->paged));
		if (!o->paged) {
			json_object_set_new(a, "reason", json_string(o->reason));
			json_object_set_new(a, "reason_message", json_string(o->message));
		}
	}
	return http_reply_json(req, status, a);
}

/*
 * Would alert id (just triggered or folded in) page anybody? Read after the commit, with the
 * escalation policy's own rule (escalation_would_page: severity, call_min_severity, who is on
 * call now). Nothing is counted here: the engine counts plantao_pages_unpaged_total and logs
 * a warning once per alert it cannot page; this only tells the sender at once.
 */
static void page_outlook(struct http_req *req, int64_t id, const char *severity, bool test, struct outlook *o)
{
	const struct cfg *cfg = req->app->cfg;
	const char *why = NULL;
	struct alerts_row a;

	memset(o, 0, sizeof *o);
	if (alerts_load(req->db, id, &a) == RC_OK && strcmp(a.status, "acknowledged") == 0) {
		o->reason = "acknowledged";
		snprintf(o->message, sizeof o->message, "alert %lld is acknowledged already: nobody is paged again",
		         (long long)id);
	} else if (escalation_would_page(req->db, test ? "info" : severity, clock_now(), &why) != RC_OK) {
		o->reason = "unknown";
		snprintf(o->message, sizeof o->message, "cannot read the escalation policy");
	} else if (why) {
		o->reason = test ? "test" : strcmp(why, ESCALATION_REASON_INFO) == 0 ? "info" : "nobody_on_call";
		snprintf(o->message, sizeof o->message, "%s%s", test ? "a test notification: " : "", why);
	} else if (!cfg->twilio_sid || !cfg->twilio_token || !cfg->twilio_from) {
		o->reason = "no_twilio";
		snprintf(o->message, sizeof o->message,
		         "no Twilio credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): texts and calls "
		         "wait in the outbox");
	} else {
		o->paged = true;
	}
}

/* One request of the generic API: what to do and to which alert. Strings are borrowed. */
struct intake {
	struct alert_input in;
	const char *action; /* "trigger", "acknowledge" or "resolve" */
	const char *runbook_url;
};

static const char *status_action(const char *s)
{
	if (strcmp(s, "triggered") == 0 || strcmp(s, "firing") == 0)
		return "trigger";
	if (strcmp(s, "acknowledged") == 0)
		return "acknowledge";
	return strcmp(s, "resolved") == 0 ? "resolve" : NULL;
}

static const char *event_action_of(const char *s)
{
	if (strcmp(s, "trigger") == 0)
		return "trigger";
	if (strcmp(s, "acknowledge") == 0)
		return "acknowledge";
	return strcmp(s, "resolve") == 0 ? "resolve" : NULL;
}

/*
 * Reads status (triggered|firing|acknowledged|resolved) and event_action (PagerDuty Events v2:
 * trigger|acknowledge|resolve) into it->action; on error fills msg ("field: …") and *code.
 */
static enum rc read_action(const char *status, const char *event_action, struct intake *it, char *msg, size_t len,
                           const char **code)
{
	const char *from_status = status ? status_action(status) : NULL;
	const char *from_action = event_action ? event_action_of(event_action) : NULL;

	*code = "invalid_value";
	if (status && !from_status) {
		snprintf(msg, len, "status: expected \"triggered\", \"acknowledged\" or \"resolved\"");
		return RC_UNPROCESSABLE;
	}
	if (event_action && !from_action) {
		snprintf(msg, len, "event_action: expected \"trigger\", \"acknowledge\" or \"resolve\"");
		return RC_UNPROCESSABLE;
	}
	if (from_status && from_action && strcmp(from_status, from_action) != 0) {
		snprintf(msg, len, "event_action: disagrees with status");
		return RC_UNPROCESSABLE;
	}
	it->action = from_action ? from_action : from_status ? from_status : "trigger";
	if (strcmp(it->action, "trigger") != 0 && !(it->in.dedup_key && *it->in.dedup_key)) {
		*code = "required";
		snprintf(msg, len, "dedup_key: required to %s an alert by key", it->action);
		return RC_UNPROCESSABLE;
	}
	return RC_OK;
}

/* A runbook link: http(s), one line, at most INTAKE_RUNBOOK_MAX bytes. */
static bool is_runbook_url(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= INTAKE_RUNBOOK_MAX &&
	       (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) && !strpbrk(s, " \t\r\n") &&
	       form_is_utf8(s, n);
}

/* Acknowledges or resolves the open alert with it->in.dedup_key, in one transaction. */
static enum rc by_key(struct http_req *req, const struct intake *it)
{
	bool ack = strcmp(it->action, "acknowledge") == 0, changed = false;
	int64_t id = 0;
	enum rc rc = db_begin(req->db);

	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = intake_find_unresolved(req->db, it->in.dedup_key, &id);
	if (rc == RC_OK)
		rc = ack ? alerts_ack_tx(req->app, req->db, id, 0, "api", clock_now(), &changed)
		         : alerts_resolve_tx(req->app, req->db, id, "api", clock_now(), &changed);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		if (rc == RC_NOT_FOUND)
			return http_reply_json(req, 202,
			                       json_pack("{s:s,s:s,s:s}", "action", "ignored", "dedup_key",
			                                 it->in.dedup_key, "message",
			                                 "no open alert has this dedup_key"));
		return http_fail(req, rc, "cannot %s the alert with dedup_key %.80s", it->action, it->in.dedup_key);
	}
	if (changed) {
		alerts_count(req->app, ack ? ALERTS_ACKNOWLEDGED : ALERTS_RESOLVED);
		app_wake_engine(req->app);
	}
	return reply_alert(req, 200, id, false, NULL);
}

static enum rc trigger_reply(struct http_req *req, const struct intake *it)
{
	struct outlook o;
	int64_t id = 0;
	bool deduped = false;
	enum rc rc;

	if (strcmp(it->action, "trigger") != 0)
		return by_key(req, it);
	if (!it->in.summary || !*it->in.summary)
		return http_fail_code(req, RC_UNPROCESSABLE, "required", "summary", "summary: required");
	rc = db_begin(req->db);
	if (rc != RC_OK)
		return http_fail(req, rc, "database busy");
	rc = alerts_trigger_tx(req->db, &it->in, clock_now(), &id, &deduped);
	if (rc == RC_OK && it->runbook_url)
		rc = intake_set_extra(req->db, id, it->runbook_url, false);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		if (rc == RC_UNPROCESSABLE)
			return http_fail_code(req, rc, "invalid_value", "summary", "summary: must be non-empty text");
		return http_fail(req, rc, "cannot store the alert");
	}
	alerts_count(req->app, deduped ? ALERTS_DEDUPED : ALERTS_TRIGGERED);
	if (deduped) {
		log_info("alert %lld: trigger folded in (dedup key %s)", (long long)id, it->in.dedup_key);
	} else {
		log_info("alert %lld triggered: %s", (long long)id, it->in.summary);
		app_wake_engine(req->app);
	}
	page_outlook(req, id, it->in.severity, false, &o);
	return reply_alert(req, 202, id, deduped, &o);
}

/* A JSON member that is a string (post_json refused other types), or NULL. */
static const char *opt_string(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

#define INTAKE_FIELDS "summary, details, severity, dedup_key, source, runbook_url, status, event_action"

static bool is_intake_field(const char *name)
{
	static const char *const fields[] = {"summary", "details",     "severity", "dedup_key",
	                                     "source",  "runbook_url", "status",   "event_action"};
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(name, fields[i]) == 0)
			return true;
	return false;
}

/* Reads status and event_action, checks the runbook link; replies and fails on an error. */
static enum rc intake_check(struct http_req *req, struct intake *it, const char *status, const char *event_action)
{
	const char *code;
	char msg[160];
	enum rc rc = read_action(status, event_action, it, msg, sizeof msg, &code);

	if (rc != RC_OK)
		return http_fail_code(req, rc, code, NULL, "%s", msg);
	if (it->runbook_url && !*it->runbook_url)
		it->runbook_url = NULL;
	if (it->runbook_url && !is_runbook_url(it->runbook_url))
		return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "runbook_url",
		                      "runbook_url: expected an http(s) link of at most %d bytes", INTAKE_RUNBOOK_MAX);
	return RC_OK;
}

static enum rc post_json(struct http_req *req)
{
	struct intake it = {0};
	const char *key, *status, *event_action;
	json_t *body, *v;
	enum rc rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object with at least a summary");
	json_object_foreach(body, key, v)
	{
		if (!is_intake_field(key))
			return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
			                      "%.40s: unknown field (" INTAKE_FIELDS ")", key);
		if (!json_is_null(v) && !json_is_string(v))
			return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", key, "%s: expected a string",
			                      key);
	}
	it.in.summary = opt_string(body, "summary");
	it.in.details = opt_string(body, "details");
	it.in.severity = opt_string(body, "severity");
	it.in.dedup_key = opt_string(body, "dedup_key");
	it.in.source = opt_string(body, "source");
	it.runbook_url = opt_string(body, "runbook_url");
	status = opt_string(body, "status");
	event_action = opt_string(body, "event_action");
	if (!it.in.source)
		it.in.source = "api";
	rc = intake_check(req, &it, status, event_action);
	if (rc != RC_OK)
		return rc;
	return trigger_reply(req, &it);
}

/*
 * text/plain (or a form body that is really one line of text): first line summary, rest
 * details. Cron jobs and Monit repeat the same text while the problem lasts: an open alert
 * with the same first line absorbs it (dedup key "text:" and at most TEXT_KEY_MAX bytes of it).
 */
static enum rc post_text(struct http_req *req, const char *text, size_t len)
{
	struct intake it = {.action = "trigger"};
	struct buf key;
	char *copy, *nl;
	size_t n;
	enum rc rc;

	if (!form_is_utf8(text, len) || memchr(text, '\0', len))
		return http_fail(req, RC_INVALID, "body is not UTF-8 text");
	copy = strndup(text, len);
	if (!copy)
		return http_fail(req, RC_INTERNAL, "out of memory");
	/* leading blank lines are not the summary */
	it.in.summary = copy + strspn(copy, " \t\r\n");
	nl = strchr(it.in.summary, '\n');
	if (nl) {
		*nl = '\0';
		if (nl > it.in.summary && nl[-1] == '\r')
			nl[-1] = '\0';
		it.in.details = nl + 1;
	}
	n = strlen(it.in.summary);
	while (n > 0 && (it.in.summary[n - 1] == ' ' || it.in.summary[n - 1] == '\t'))
		n--;
	if (n > TEXT_KEY_MAX) { /* cut on a character boundary */
		n = TEXT_KEY_MAX;
		while (n > 0 && ((unsigned char)it.in.summary[n] & 0xC0) == 0x80)
			n--;
	}
	buf_init(&key, TEXT_KEY_MAX + 16);
	rc = buf_puts(&key, "text:");
	if (rc == RC_OK)
		rc = buf_append(&key, it.in.summary, n);
	if (rc != RC_OK) {
		buf_release(&key);
		free(copy);
		return http_fail(req, RC_INTERNAL, "out of memory");
	}
	it.in.dedup_key = n ? key.data : NULL;
	it.in.source = "api";
	rc = trigger_reply(req, &it);
	buf_release(&key);
	free(copy);
	return rc;
}

enum rc api_alerts_post(struct http_req *req)
{
	const char *body = req->body.data ? req->body.data : "";

	if (http_content_type_is(req, "application/json"))
		return post_json(req);
	if (http_content_type_is(req, "application/x-www-form-urlencoded")) {
		struct intake it = {0};
		size_t i;
		enum rc rc;

		it.in.summary = form_get(&req->form, "summary");
		/* `curl -d "disk full on db1"`: one bare value and no field names at all */
		if (!it.in.summary && req->form.n == 1 && !strchr(body, '='))
			return post_text(req, req->form.pairs[0].name, strlen(req->form.pairs[0].name));
		for (i = 0; i < req->form.n; i++)
			if (!is_intake_field(req->form.pairs[i].name))
				return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", req->form.pairs[i].name,
				                      "%.40s: unknown field (" INTAKE_FIELDS ")",
				                      req->form.pairs[i].name);
		it.in.details = form_get(&req->form, "details");
		it.in.severity = form_get(&req->form, "severity");
		it.in.dedup_key = form_get(&req->form, "dedup_key");
		it.in.source = form_get(&req->form, "source");
		it.runbook_url = form_get(&req->form, "runbook_url");
		if (!it.in.source || !*it.in.source)
			it.in.source = "api";
		rc = intake_check(req, &it, form_get(&req->form, "status"), form_get(&req->form, "event_action"));
		if (rc != RC_OK)
			return rc;
		return trigger_reply(req, &it);
	}
	if (!http_header(req, "Content-Type") || http_content_type_is(req, "text/plain"))
		return post_text(req, body, req->body.len);
	return http_fail(req, RC_UNSUPPORTED,
	                 "expected application/json, application/x-www-form-urlencoded or text/plain");
}

/* ---------------------------------------------------------------- webhooks */

struct hook {
	const char *name;    /* "Alertmanager", "Grafana" */
	const char *version; /* the payload version understood */
	const char *source;  /* alerts.source */
	const char *prefix;  /* dedup key prefix */
};

/*
 * One alert of a webhook payload, read and checked before the writer lock is taken: the
 * strings are borrowed from the payload, key, summary and details are owned (hook_items_free()).
 */
struct hook_item {
	const char *status; /* "firing" or "resolved" */
	const char *fp;     /* fingerprint, NULL when the sender gives none */
	const char *runbook_url;
	struct alert_input in;
	char *key;
	char *summary; /* cleaned */
	char *details;
};

/*
 * What one payload asks for, read before the lock: its alerts, the notification group they
 * belong to (NULL: each alert stands alone), and whether it comes from a "test" button.
 */
struct hook_payload {
	struct hook_item *items;
	size_t n;
	char *group_key;     /* "<prefix>:<groupKey>", owned */
	const char *status;  /* the group's: "firing" or "resolved" (NULL when absent) */
	const char *heading; /* what names the whole group: common summary or alertname; NULL */
	bool test;
};

/* Counts of what a payload changed, for plantao_alerts_total after the commit. */
struct hook_counts {
	int triggered, deduped, resolved;
};

static const char *member_string(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Cuts s to at most max bytes on a character boundary. */
static void cut_utf8(char *s, size_t max)
{
	size_t n;

	if (strlen(s) <= max)
		return;
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; n--)
		;
	s[n] = '\0';
}

/* A new copy of s on one line (control characters become spaces), trimmed, cut at
 * ALERTS_SUMMARY_MAX bytes on a character boundary; NULL when out of memory. */
static char *one_line(const char *s)
{
	size_t n, len;
	char *out;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strnlen(s, ALERTS_SUMMARY_MAX + 1);
	out = malloc(len + 1);
	if (!out)
		return NULL;
	for (n = 0; n < len; n++)
		out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? ' ' : s[n];
	out[len] = '\0';
	cut_utf8(out, ALERTS_SUMMARY_MAX);
	for (n = strlen(out); n > 0 && out[n - 1] == ' '; n--)
		out[n - 1] = '\0';
	return out;
}

/* details: description, then labels one per line (sorted), then the source link. */
static enum rc hook_details(json_t *body, json_t *alert, struct buf *b)
{
	json_t *labels = json_object_get(alert, "labels"), *ann = json_object_get(alert, "annotations");
	const char *desc = member_string(ann, "description"), *msg = member_string(body, "message");
	const char *url = member_string(alert, "generatorURL");
	const char **keys = NULL, *k;
	size_t n = 0, i;
	json_t *v;
	enum rc rc = RC_OK;

	if (desc)
		rc = buf_printf(b, "%s\n", desc);
	else if (msg)
		rc = buf_printf(b, "%s\n", msg);
	if (rc == RC_OK && json_is_object(labels) && json_object_size(labels)) {
		keys = calloc(json_object_size(labels), sizeof *keys);
		if (!keys)
			return RC_INTERNAL;
		json_object_foreach(labels, k, v) keys[n++] = k;
		/* n log n whatever the order: a payload may carry tens of thousands of labels */
		qsort(keys, n, sizeof *keys, key_cmp);
		for (i = 0; rc == RC_OK && i < n; i++) {
			json_t *lv = json_object_get(labels, keys[i]);

			rc = buf_printf(b, "%s=%s\n", keys[i], json_is_string(lv) ? json_string_value(lv) : "");
		}
		free(keys);
	}
	if (rc == RC_OK && url)
		rc = buf_printf(b, "%s\n", url);
	return rc;
}

/* Reads and checks alert i of a payload into *it; on error fills msg. Takes no lock. */
static enum rc hook_item_read(const struct hook *h, json_t *body, json_t *alert, size_t i, struct hook_item *it,
                              char *msg, size_t msg_len)
{
	json_t *labels = json_object_get(alert, "labels"), *ann = json_object_get(alert, "annotations");
	struct buf key, details;
	char *labels_text = NULL;
	enum rc rc = RC_OK;

	buf_init(&key, 4 * HTTP_KIB);
	buf_init(&details, DETAILS_MAX);
	if (!json_is_object(alert) || (labels && !json_is_object(labels)) || (ann && !json_is_object(ann))) {
		snprintf(msg, msg_len, "alerts[%zu]: expected an object with labels and annotations objects", i);
		rc = RC_UNPROCESSABLE;
		goto out;
	}
	it->status = member_string(alert, "status");
	it->fp = member_string(alert, "fingerprint");
	if (!it->status || (strcmp(it->status, "firing") != 0 && strcmp(it->status, "resolved") != 0)) {
		snprintf(msg, msg_len, "alerts[%zu].status: expected \"firing\" or \"resolved\"", i);
		rc = RC_UNPROCESSABLE;
		goto out;
	}
	if (!it->fp) { /* older senders: the label set identifies the alert */
		labels_text = json_is_object(labels) ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (!labels_text || strcmp(labels_text, "{}") == 0) {
			snprintf(msg, msg_len, "alerts[%zu]: neither a fingerprint nor labels to identify it", i);
			rc = RC_UNPROCESSABLE;
			goto out;
		}
	}
	rc = buf_printf(&key, "%s:%s", h->prefix, it->fp ? it->fp : labels_text);
	if (rc != RC_OK) {
		snprintf(msg, msg_len, "alerts[%zu]: labels too long", i);
		goto out;
	}
	it->runbook_url = member_string(ann, "runbook_url");
	if (it->runbook_url && !is_runbook_url(it->runbook_url))
		it->runbook_url = NULL; /* a broken link is dropped, not a reason to lose the alert */
	if (strcmp(it->status, "firing") == 0) {
		struct alert_input *in = &it->in;

		in->summary = member_string(ann, "summary");
		if (!in->summary)
			in->summary = member_string(labels, "alertname");
		if (!in->summary)
			in->summary = member_string(json_object_get(body, "commonAnnotations"), "summary");
		if (!in->summary)
			in->summary = member_string(body, "title");
		if (!in->summary)
			in->summary = h->name;
		rc = hook_details(body, alert, &details);
		if (rc != RC_OK) {
			snprintf(msg, msg_len, "alerts[%zu]: details too long", i);
			goto out;
		}
		in->severity = member_string(labels, "severity");
		in->source = h->source;
		it->details = buf_steal(&details);
		in->details = it->details;
		it->summary = one_line(in->summary);
		if (!it->summary) {
			rc = RC_INTERNAL;
			goto out;
		}
	}
	it->key = buf_steal(&key);
	it->in.dedup_key = it->key;
out:
	free(labels_text);
	buf_release(&key);
	buf_release(&details);
	return rc;
}

static void hook_payload_release(struct hook_payload *p)
{
	size_t i;

	for (i = 0; p->items && i < p->n; i++) {
		free(p->items[i].key);
		free(p->items[i].summary);
		free(p->items[i].details);
	}
	free(p->items);
	free(p->group_key);
	memset(p, 0, sizeof *p);
}

/*
 * A sender's "test" notification: Grafana's contact-point test (title "[TEST]…", or its
 * predefined alert TestAlert from instance Grafana) or a payload with "test": true.
 */
static bool is_test_notification(json_t *body)
{
	json_t *alerts = json_object_get(body, "alerts"), *a;
	const char *title = member_string(body, "title");
	size_t i, tests = 0;

	if (json_is_true(json_object_get(body, "test")) || json_is_true(json_object_get(body, "isTest")))
		return true;
	if (title && strncasecmp(title, "[TEST]", 6) == 0)
		return true;
	json_array_foreach(alerts, i, a)
	{
		json_t *labels = json_object_get(a, "labels");
		const char *name = member_string(labels, "alertname"), *inst = member_string(labels, "instance");

		if (name && inst && strcmp(name, "TestAlert") == 0 && strcmp(inst, "Grafana") == 0)
			tests++;
	}
	return tests && tests == json_array_size(alerts);
}

/* The severity of a group: that of its gravest firing member, as the escalation policy ranks
 * them (no severity pages as critical); NULL when none is firing or the gravest has none. */
static const char *group_severity(const struct hook_payload *p)
{
	enum escalation_severity best = ESCALATION_INFO;
	const char *sev = NULL;
	bool any = false;
	size_t i;

	for (i = 0; i < p->n; i++) {
		enum escalation_severity s = escalation_severity_of(p->items[i].in.severity);

		if (strcmp(p->items[i].status, "firing") != 0 || (any && s <= best))
			continue;
		best = s;
		sev = p->items[i].in.severity;
		any = true;
	}
	return sev;
}

/* The summary of a group alert with `firing` members: one member's own, or the group's name
 * and the count ("DiskFull (3 alertas)"). Cut to ALERTS_SUMMARY_MAX. */
static void group_summary(struct http_req *req, const struct hook_payload *p, const char *first, int firing,
                          char out[ALERTS_SUMMARY_MAX + 1])
{
	char text[2 * ALERTS_SUMMARY_MAX];

	if (firing <= 1)
		snprintf(text, sizeof text, "%s", first);
	else
		snprintf(text, sizeof text, app_lang_en(req->app) ? "%.400s (%d alerts)" : "%.400s (%d alertas)",
		         p->heading ? p->heading : first, firing);
	cut_utf8(text, ALERTS_SUMMARY_MAX);
	memcpy(out, text, strlen(text) + 1);
}

static bool has_firing(const struct hook_payload *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->items[i].status, "firing") == 0)
			return true;
	return false;
}

static json_t *result(const struct hook_item *it, const char *action, int64_t id)
{
	json_t *r =
	        json_pack("{s:s,s:s,s:s}", "fingerprint", it->fp ? it->fp : "", "status", it->status, "action", action);

	if (r && id)
		json_object_set_new(r, "alert_id", json_integer(id));
	return r;
}

/* Applies one alert that stands alone (no notification group) inside the open transaction. */
static enum rc hook_item_apply(struct http_req *req, const struct hook *h, const struct hook_payload *p, size_t i,
                               json_t *results, struct hook_counts *counts, char *msg, size_t msg_len)
{
	const struct hook_item *it = &p->items[i];
	int64_t id = 0;
	bool deduped = false, changed = false;
	const char *action;
	enum rc rc;

	if (strcmp(it->status, "resolved") == 0) {
		rc = intake_find_unresolved(req->db, it->key, &id);
		if (rc == RC_NOT_FOUND) {
			action = "ignored";
			rc = RC_OK;
		} else if (rc == RC_OK) {
			rc = alerts_resolve_tx(req->app, req->db, id, h->source, clock_now(), &changed);
			action = "resolved";
			counts->resolved += changed;
		}
	} else {
		struct alert_input in = it->in;

		if (p->test)
			in.severity = "info";
		rc = alerts_trigger_tx(req->db, &in, clock_now(), &id, &deduped);
		if (rc == RC_OK && (it->runbook_url || p->test))
			rc = intake_set_extra(req->db, id, it->runbook_url, p->test);
		action = deduped ? "deduped" : "triggered";
		counts->deduped += deduped;
		counts->triggered += !deduped;
		if (rc == RC_UNPROCESSABLE)
			snprintf(msg, msg_len, "alerts[%zu]: the summary is not usable text", i);
	}
	if (rc == RC_OK)
		json_array_append_new(results, result(it, action, id));
	else if (!msg[0])
		snprintf(msg, msg_len, "alerts[%zu]: cannot be stored", i);
	return rc;
}

/*
 * Applies a payload of one notification group inside the open transaction: the group's open
 * alert (created by its first firing member) takes every member in; members resolve one by
 * one and the alert resolves with the group (status "resolved", or no member firing).
 */
static enum rc hook_group_apply(struct http_req *req, const struct hook *h, const struct hook_payload *p,
                                json_t *results, struct hook_counts *counts, char *msg, size_t msg_len)
{
	char summary[ALERTS_SUMMARY_MAX + 1];
	const char *first = NULL, *severity = NULL;
	int64_t id = 0, now = clock_now();
	int firing = 0, total = 0;
	size_t opener = p->n;
	bool fresh = false, bumped = false, changed = false;
	size_t i;
	enum rc rc = intake_find_group(req->db, p->group_key, &id);

	severity = group_severity(p);
	/* only resolutions: they also close the group's alert that nobody answered (exhausted) */
	if (rc == RC_NOT_FOUND && !has_firing(p))
		rc = intake_find_group_unresolved(req->db, p->group_key, &id);
	if (rc == RC_NOT_FOUND)
		rc = RC_OK;
	for (i = 0; rc == RC_OK && i < p->n; i++) {
		const struct hook_item *it = &p->items[i];
		bool firing_now = strcmp(it->status, "firing") == 0, is_new = false, was_firing = false;
		const char *action;

		if (!id && !firing_now) {
			json_array_append_new(results, result(it, "ignored", 0));
			continue;
		}
		if (!id) { /* the group's first firing member opens its alert */
			struct alert_input in = it->in;
			bool deduped = false;

			in.summary = it->summary;
			in.severity = p->test ? "info" : severity;
			rc = alerts_trigger_tx(req->db, &in, now, &id, &deduped);
			if (rc == RC_UNPROCESSABLE)
				snprintf(msg, msg_len, "alerts[%zu]: the summary is not usable text", i);
			if (rc == RC_OK)
				rc = intake_set_group(req->db, id, p->group_key);
			if (rc != RC_OK)
				break;
			fresh = !deduped;
			opener = i;
			bumped = true; /* alerts_trigger_tx counted this trigger */
		} else if (firing_now && !bumped) {
			rc = alerts_bump(req->db, id, now); /* one more notification of an open group */
			bumped = true;
		}
		if (rc == RC_OK && (it->runbook_url || p->test))
			rc = intake_set_extra(req->db, id, it->runbook_url, p->test);
		if (rc == RC_OK)
			rc = intake_member_set(req->db, id, it->key, it->status, it->summary, it->details,
			                       it->runbook_url, now, &is_new, &was_firing);
		if (rc != RC_OK)
			break;
		if (!first && firing_now)
			first = it->summary;
		if (!firing_now)
			action = "resolved";
		else if (fresh && i == opener)
			action = "triggered";
		else
			action = is_new ? "grouped" : "deduped";
		json_array_append_new(results, result(it, action, id));
	}
	if (rc == RC_OK && id)
		rc = intake_member_counts(req->db, id, &firing, &total);
	if (rc == RC_OK && id && (firing == 0 || (p->status && strcmp(p->status, "resolved") == 0 && !first))) {
		rc = alerts_resolve_tx(req->app, req->db, id, h->source, now, &changed);
		counts->resolved += changed;
	} else if (rc == RC_OK && id) {
		if (!first) { /* members only resolved: the alert keeps the name of a member still firing */
			struct alerts_row a;

			rc = alerts_load(req->db, id, &a);
			snprintf(summary, sizeof summary, "%s", a.summary);
			first = summary;
		}
		if (rc == RC_OK) {
			char text[ALERTS_SUMMARY_MAX + 1];

			group_summary(req, p, first, firing, text);
			rc = intake_group_update(req->db, id, text, DETAILS_MAX, now);
		}
		if (fresh)
			counts->triggered++;
		else if (bumped)
			counts->deduped++;
	}
	if (rc != RC_OK && !msg[0])
		snprintf(msg, msg_len, "the alerts of group %.80s cannot be stored", p->group_key);
	return rc;
}

/* Reads the whole payload: version, alerts, group, test flag; replies and fails on an error. */
static enum rc hook_read(struct http_req *req, const struct hook *h, json_t *body, struct hook_payload *p)
{
	json_t *alerts, *version;
	const char *group;
	char msg[200] = "";
	size_t i;
	enum rc rc = RC_OK;

	memset(p, 0, sizeof *p);
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a %s webhook payload (a JSON object)", h->name);
	version = json_object_get(body, "version");
	if (!json_is_string(version))
		return http_fail(req, RC_UNPROCESSABLE, "%s payload without a version: expected version \"%s\"",
		                 h->name, h->version);
	if (strcmp(json_string_value(version), h->version) != 0)
		return http_fail(req, RC_UNPROCESSABLE, "unsupported %s payload version \"%.20s\": expected \"%s\"",
		                 h->name, json_string_value(version), h->version);
	alerts = json_object_get(body, "alerts");
	if (!json_is_array(alerts))
		return http_fail(req, RC_UNPROCESSABLE, "%s payload without an alerts array", h->name);
	p->n = json_array_size(alerts);
	p->items = calloc(p->n ? p->n : 1, sizeof *p->items);
	if (!p->items)
		return http_fail(req, RC_INTERNAL, "out of memory");
	for (i = 0; rc == RC_OK && i < p->n; i++)
		rc = hook_item_read(h, body, json_array_get(alerts, i), i, &p->items[i], msg, sizeof msg);
	group = member_string(body, "groupKey");
	if (rc == RC_OK && group) {
		struct buf key;

		buf_init(&key, 8 * HTTP_KIB);
		rc = buf_printf(&key, "%s:%s", h->prefix, group);
		p->group_key = rc == RC_OK ? buf_steal(&key) : NULL;
		buf_release(&key);
		if (rc != RC_OK)
			snprintf(msg, sizeof msg, "groupKey: too long");
	}
	if (rc != RC_OK) {
		hook_payload_release(p);
		return http_fail(req, rc, "%s", msg[0] ? msg : "cannot read the alerts");
	}
	p->status = member_string(body, "status");
	p->heading = member_string(json_object_get(body, "commonAnnotations"), "summary");
	if (!p->heading)
		p->heading = member_string(json_object_get(body, "commonLabels"), "alertname");
	if (!p->heading)
		p->heading = member_string(json_object_get(body, "groupLabels"), "alertname");
	p->test = is_test_notification(body);
	return RC_OK;
}

/* Adds "paged" (and the reason when false) to the results of alerts triggered by a payload. */
static void hook_outlook(struct http_req *req, const struct hook_payload *p, json_t *results)
{
	const char *severity = group_severity(p);
	struct outlook o;
	json_t *r;
	size_t i;

	/* results[i] is the result of items[i] */
	json_array_foreach(results, i, r)
	{
		const char *action = json_string_value(json_object_get(r, "action"));
		int64_t id = json_integer_value(json_object_get(r, "alert_id"));

		if (!action || strcmp(action, "triggered") != 0 || !id || i >= p->n)
			continue;
		page_outlook(req, id,
		             p->test        ? "info"
		             : p->group_key ? severity
		                            : p->items[i].in.severity,
		             p->test, &o);
		json_object_set_new(r, "paged", json_boolean(o.paged));
		if (!o.paged)
			json_object_set_new(r, "reason", json_string(o.reason));
	}
}

static enum rc hook(struct http_req *req, const struct hook *h)
{
	struct hook_payload p;
	struct hook_counts counts = {0};
	json_t *body, *results = NULL;
	char msg[200] = "";
	size_t i;
	int k;
	enum rc rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
	/* Everything that costs time (checks, keys, sorted details) happens before the writer lock. */
	rc = hook_read(req, h, body, &p);
	if (rc != RC_OK)
		return rc;
	results = json_array();
	rc = db_begin(req->db);
	if (rc != RC_OK) {
		json_decref(results);
		hook_payload_release(&p);
		return http_fail(req, rc, "database busy");
	}
	if (p.group_key)
		rc = hook_group_apply(req, h, &p, results, &counts, msg, sizeof msg);
	for (i = 0; !p.group_key && rc == RC_OK && i < p.n; i++)
		rc = hook_item_apply(req, h, &p, i, results, &counts, msg, sizeof msg);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	if (rc != RC_OK) {
		db_rollback(req->db);
		json_decref(results);
		hook_payload_release(&p);
		return http_fail(req, rc, "%s", msg[0] ? msg : "cannot store the alerts");
	}
	app_wake_engine(req->app);
	for (k = 0; k < counts.triggered; k++)
		alerts_count(req->app, ALERTS_TRIGGERED);
	for (k = 0; k < counts.deduped; k++)
		alerts_count(req->app, ALERTS_DEDUPED);
	for (k = 0; k < counts.resolved; k++)
		alerts_count(req->app, ALERTS_RESOLVED);
	hook_outlook(req, &p, results);
	log_info("%s webhook: %zu alerts%s%s", h->name, p.n, p.group_key ? " of group " : "",
	         p.group_key ? p.group_key : "");
	hook_payload_release(&p);
	return http_reply_json(req, 202, json_pack("{s:o}", "alerts", results));
}

enum rc api_alerts_alertmanager(struct http_req *req)
{
	static const struct hook h = {"Alertmanager", "4", "alertmanager", "am"};

	return hook(req, &h);
}

enum rc api_alerts_grafana(struct http_req *req)
{
	static const struct hook h = {"Grafana", "1", "grafana", "grafana"};

	return hook(req, &h);
}

/* ---------------------------------------------------------------- reading */

enum rc api_alerts_list(struct http_req *req)
{
	static const char *const statuses[] = {"triggered", "acknowledged", "resolved", "exhausted"};
	static const char *const allowed[] = {"status", "severity", "person", "from", "to", "limit", "before", NULL};
	struct alerts_filter f;
	struct api_list_query q;
	json_t *list, *a;
	size_t i;
	enum rc rc = api_list_query(req, allowed, LIST_DEFAULT, ALERTS_LIST_MAX, &q);

	if (rc != RC_OK)
		return rc;
	memset(&f, 0, sizeof f);
	f.limit = (int)q.limit;
	f.before_id = q.before;
	f.person_id = q.person;
	f.from = q.from;
	f.to = q.to;
	f.status = http_query(req, "status");
	if (f.status && !*f.status)
		f.status = NULL;
	if (f.status) {
		for (i = 0; i < sizeof statuses / sizeof statuses[0] && strcmp(f.status, statuses[i]) != 0; i++)
			;
		if (i == sizeof statuses / sizeof statuses[0])
			return http_fail(req, RC_INVALID,
			                 "status: expected triggered, acknowledged, resolved or exhausted");
	}
	f.severity = http_query(req, "severity");
	if (f.severity && !*f.severity)
		f.severity = NULL;
	if (f.severity && strlen(f.severity) > SEVERITY_MAX)
		return http_fail(req, RC_INVALID, "severity: at most %d bytes", SEVERITY_MAX);
	rc = alerts_list_json(req->db, &f, &list);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot list alerts");
	json_array_foreach(list, i, a)
	{
		add_extra(req, json_integer_value(json_object_get(a, "id")), a, false);
		iso_times(a, q.zone);
	}
	return http_reply_json(req, 200, api_list_page("alerts", list, q.limit));
}

enum rc api_alerts_get(struct http_req *req)
{
	static const char *const allowed[] = {NULL};
	char zone[TZ_NAME_MAX + 1];
	json_t *a;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_params(req, allowed);
	if (rc != RC_OK)
		return rc;
	rc = alerts_detail_json(req->db, id, &a);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no alert %lld", (long long)id);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read alert %lld", (long long)id);
	add_extra(req, id, a, true);
	api_list_zone(req, zone, sizeof zone);
	iso_times(a, zone);
	return http_reply_json(req, 200, a);
}

static enum rc ack_or_resolve(struct http_req *req, bool ack)
{
	int64_t id, person_id = 0;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc == RC_OK)
		rc = api_list_no_params(req);
	if (rc != RC_OK)
		return rc;
	if (req->body.len) {
		const char *key;
		json_t *body, *p, *v;

		rc = http_json_body(req, &body);
		if (rc != RC_OK)
			return rc;
		if (!json_is_object(body))
			return http_fail(req, RC_UNPROCESSABLE,
			                 "expected a JSON object with an optional integer person_id");
		json_object_foreach(body, key, v)
		{
			if (strcmp(key, "person_id") != 0)
				return http_fail_code(req, RC_UNPROCESSABLE, "unknown_field", key,
				                      "%.40s: unknown field (person_id)", key);
		}
		p = json_object_get(body, "person_id");
		if (p && !json_is_null(p) && !json_is_integer(p))
			return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "person_id",
			                      "person_id: expected the id of a person (a whole number)");
		if (json_is_integer(p)) {
			struct person who;

			person_id = json_integer_value(p);
			rc = person_id > 0 ? people_get(req->db, person_id, &who) : RC_NOT_FOUND;
			if (rc == RC_NOT_FOUND)
				return http_fail_code(req, RC_UNPROCESSABLE, "invalid_value", "person_id",
				                      "person_id: no person with id %lld", (long long)person_id);
			if (rc != RC_OK)
				return http_fail(req, rc, "cannot read person %lld", (long long)person_id);
		}
	}
	/* Through a session (the console), the signed-in person acknowledges unless the body
	 * names somebody (issue 16). */
	if (ack && person_id == 0)
		(void)session_actor_person(req->actor, &person_id); /* any other actor: 0, nobody */
	rc = alerts_close_as(req->app, req->db, id, person_id, ack, req->actor, NULL);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no alert %lld", (long long)id);
	if (rc == RC_CONFLICT)
		return http_fail(req, rc, "alert %lld is resolved: it cannot be acknowledged", (long long)id);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot update alert %lld", (long long)id);
	return reply_alert(req, 200, id, false, NULL);
}

enum rc api_alerts_ack(struct http_req *req)
{
	return ack_or_resolve(req, true);
}

enum rc api_alerts_resolve(struct http_req *req)
{
	return ack_or_resolve(req, false);
}
