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
 * Each alert of a webhook is keyed by its fingerprint (dedup key "am:<fp>" / "grafana:<fp>"):
 * firing triggers (or folds into the open alert), resolved resolves the open one. A whole
 * payload is one transaction: it is taken entirely or not at all.
 */
#include "api/api_alerts.h"

#include <stdlib.h>
#include <string.h>

#include "db/alerts.h"
#include "db/db.h"
#include "db/escalation.h"
#include "db/people.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"

#define DETAILS_MAX  (HTTP_ALERT_MAX_BODY + 4 * HTTP_KIB)
#define LIST_DEFAULT 50

static enum rc reply_alert(struct http_req *req, int status, int64_t id, bool deduped)
{
	json_t *a;
	enum rc rc = alerts_json(req->db, id, &a);

	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read alert %lld", (long long)id);
	if (status == 202)
		json_object_set_new(a, "deduped", json_boolean(deduped));
	return http_reply_json(req, status, a);
}

static enum rc trigger_reply(struct http_req *req, const struct alert_input *in)
{
	int64_t id;
	bool deduped;
	enum rc rc;

	if (!in->summary || !*in->summary)
		return http_fail(req, RC_UNPROCESSABLE, "summary is required");
	rc = alerts_trigger(req->app, req->db, in, &id, &deduped);
	if (rc == RC_UNPROCESSABLE)
		return http_fail(req, rc, "summary must be non-empty text");
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot store the alert");
	return reply_alert(req, 202, id, deduped);
}

/* A JSON member that must be a string when present; *ok turns false on another type. */
static const char *opt_string(json_t *o, const char *name, bool *ok)
{
	json_t *v = json_object_get(o, name);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*ok = false;
		return NULL;
	}
	return json_string_value(v);
}

static enum rc post_json(struct http_req *req)
{
	struct alert_input in = {0};
	json_t *body;
	bool ok = true;
	enum rc rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
	if (!json_is_object(body))
		return http_fail(req, RC_UNPROCESSABLE, "expected a JSON object with at least a summary");
	in.summary = opt_string(body, "summary", &ok);
	in.details = opt_string(body, "details", &ok);
	in.severity = opt_string(body, "severity", &ok);
	in.dedup_key = opt_string(body, "dedup_key", &ok);
	in.source = opt_string(body, "source", &ok);
	if (!ok)
		return http_fail(req, RC_UNPROCESSABLE,
		                 "summary, details, severity, dedup_key and source must be strings");
	if (!in.source)
		in.source = "api";
	return trigger_reply(req, &in);
}

/* text/plain (or a form body that is really one line of text): first line summary, rest details. */
static enum rc post_text(struct http_req *req, const char *text, size_t len)
{
	struct alert_input in = {0};
	char *copy, *nl;
	enum rc rc;

	if (!form_is_utf8(text, len) || memchr(text, '\0', len))
		return http_fail(req, RC_INVALID, "body is not UTF-8 text");
	copy = strndup(text, len);
	if (!copy)
		return http_fail(req, RC_INTERNAL, "out of memory");
	/* leading blank lines are not the summary */
	in.summary = copy + strspn(copy, " \t\r\n");
	nl = strchr(in.summary, '\n');
	if (nl) {
		*nl = '\0';
		if (nl > in.summary && nl[-1] == '\r')
			nl[-1] = '\0';
		in.details = nl + 1;
	}
	in.source = "api";
	rc = trigger_reply(req, &in);
	free(copy);
	return rc;
}

enum rc api_alerts_post(struct http_req *req)
{
	const char *body = req->body.data ? req->body.data : "";

	if (http_content_type_is(req, "application/json"))
		return post_json(req);
	if (http_content_type_is(req, "application/x-www-form-urlencoded")) {
		struct alert_input in = {0};

		in.summary = form_get(&req->form, "summary");
		/* `curl -d "disk full on db1"`: one bare value and no field names at all */
		if (!in.summary && req->form.n == 1 && !strchr(body, '='))
			return post_text(req, req->form.pairs[0].name, strlen(req->form.pairs[0].name));
		in.details = form_get(&req->form, "details");
		in.severity = form_get(&req->form, "severity");
		in.dedup_key = form_get(&req->form, "dedup_key");
		in.source = form_get(&req->form, "source");
		if (!in.source || !*in.source)
			in.source = "api";
		return trigger_reply(req, &in);
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
 * strings are borrowed from the payload, key and details are owned (hook_items_free()).
 */
struct hook_item {
	const char *status; /* "firing" or "resolved" */
	const char *fp;     /* fingerprint, NULL when the sender gives none */
	struct alert_input in;
	char *key;
	char *details;
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
	}
	it->key = buf_steal(&key);
	it->in.dedup_key = it->key;
out:
	free(labels_text);
	buf_release(&key);
	buf_release(&details);
	return rc;
}

static void hook_items_free(struct hook_item *items, size_t n)
{
	size_t i;

	for (i = 0; items && i < n; i++) {
		free(items[i].key);
		free(items[i].details);
	}
	free(items);
}

/* Applies one read alert inside the open transaction; appends its result. */
static enum rc hook_item_apply(struct http_req *req, const struct hook *h, const struct hook_item *it, size_t i,
                               json_t *results, char *msg, size_t msg_len)
{
	int64_t id = 0;
	bool deduped = false, changed = false;
	const char *action;
	enum rc rc;

	if (strcmp(it->status, "resolved") == 0) {
		rc = alerts_find_open(req->db, it->key, &id);
		if (rc == RC_NOT_FOUND) {
			action = "ignored";
			rc = RC_OK;
		} else if (rc == RC_OK) {
			rc = alerts_resolve_tx(req->app, req->db, id, h->source, clock_now(), &changed);
			action = "resolved";
		}
	} else {
		rc = alerts_trigger_tx(req->db, &it->in, clock_now(), &id, &deduped);
		action = deduped ? "deduped" : "triggered";
		if (rc == RC_UNPROCESSABLE)
			snprintf(msg, msg_len, "alerts[%zu]: the summary is not usable text", i);
	}
	if (rc == RC_OK) {
		json_t *r = json_pack("{s:s,s:s,s:s}", "fingerprint", it->fp ? it->fp : "", "status", it->status,
		                      "action", action);

		if (r && id)
			json_object_set_new(r, "alert_id", json_integer(id));
		json_array_append_new(results, r);
	} else if (!msg[0]) {
		snprintf(msg, msg_len, "alerts[%zu]: cannot be stored", i);
	}
	return rc;
}

static enum rc hook(struct http_req *req, const struct hook *h)
{
	json_t *body, *alerts, *version, *results = NULL;
	struct hook_item *items = NULL;
	char msg[200] = "";
	size_t i, n;
	enum rc rc = http_json_body(req, &body);

	if (rc != RC_OK)
		return rc;
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
	/* Everything that costs time (checks, keys, sorted details) happens before the writer lock. */
	n = json_array_size(alerts);
	items = calloc(n ? n : 1, sizeof *items);
	if (!items)
		return http_fail(req, RC_INTERNAL, "out of memory");
	for (i = 0; rc == RC_OK && i < n; i++)
		rc = hook_item_read(h, body, json_array_get(alerts, i), i, &items[i], msg, sizeof msg);
	if (rc != RC_OK) {
		hook_items_free(items, n);
		return http_fail(req, rc, "%s", msg[0] ? msg : "cannot read the alerts");
	}
	results = json_array();
	rc = db_begin(req->db);
	if (rc != RC_OK) {
		json_decref(results);
		hook_items_free(items, n);
		return http_fail(req, rc, "database busy");
	}
	for (i = 0; rc == RC_OK && i < n; i++)
		rc = hook_item_apply(req, h, &items[i], i, results, msg, sizeof msg);
	if (rc == RC_OK)
		rc = db_commit(req->db);
	hook_items_free(items, n);
	if (rc != RC_OK) {
		db_rollback(req->db);
		json_decref(results);
		return http_fail(req, rc, "%s", msg[0] ? msg : "cannot store the alerts");
	}
	app_wake_engine(req->app);
	for (i = 0; i < json_array_size(results); i++) {
		const char *action = json_string_value(json_object_get(json_array_get(results, i), "action"));

		if (action && strcmp(action, "ignored") != 0)
			alerts_count(req->app, !strcmp(action, "triggered") ? ALERTS_TRIGGERED
			                       : !strcmp(action, "deduped") ? ALERTS_DEDUPED
			                                                    : ALERTS_RESOLVED);
	}
	log_info("%s webhook: %zu alerts", h->name, json_array_size(alerts));
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
	const char *status = http_query(req, "status"), *limit_s = http_query(req, "limit");
	long limit = LIST_DEFAULT;
	json_t *list;
	size_t i;
	enum rc rc;

	if (status && !*status)
		status = NULL;
	if (status) {
		for (i = 0; i < sizeof statuses / sizeof statuses[0] && strcmp(status, statuses[i]) != 0; i++)
			;
		if (i == sizeof statuses / sizeof statuses[0])
			return http_fail(req, RC_INVALID,
			                 "status: expected triggered, acknowledged, resolved or exhausted");
	}
	if (limit_s) {
		char *end;

		limit = strtol(limit_s, &end, 10);
		if (!*limit_s || *end || limit < 1 || limit > ALERTS_LIST_MAX)
			return http_fail(req, RC_INVALID, "limit: expected an integer from 1 to %d", ALERTS_LIST_MAX);
	}
	rc = alerts_list_json(req->db, status, (int)limit, &list);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot list alerts");
	return http_reply_json(req, 200, json_pack("{s:o}", "alerts", list));
}

enum rc api_alerts_get(struct http_req *req)
{
	json_t *a;
	int64_t id;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	rc = alerts_detail_json(req->db, id, &a);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no alert %lld", (long long)id);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot read alert %lld", (long long)id);
	return http_reply_json(req, 200, a);
}

static enum rc ack_or_resolve(struct http_req *req, bool ack)
{
	int64_t id, person_id = 0;
	enum rc rc = http_param_id(req, 0, &id);

	if (rc != RC_OK)
		return rc;
	if (req->body.len) {
		json_t *body, *p;

		rc = http_json_body(req, &body);
		if (rc != RC_OK)
			return rc;
		p = json_is_object(body) ? json_object_get(body, "person_id") : NULL;
		if (!json_is_object(body) || (p && !json_is_null(p) && !json_is_integer(p)))
			return http_fail(req, RC_UNPROCESSABLE,
			                 "expected a JSON object with an optional integer person_id");
		if (json_is_integer(p)) {
			struct person who;

			person_id = json_integer_value(p);
			rc = person_id > 0 ? people_get(req->db, person_id, &who) : RC_NOT_FOUND;
			if (rc == RC_NOT_FOUND)
				return http_fail(req, RC_UNPROCESSABLE, "person_id: no person with id %lld",
				                 (long long)person_id);
			if (rc != RC_OK)
				return http_fail(req, rc, "cannot read person %lld", (long long)person_id);
		}
	}
	rc = ack ? alerts_ack(req->app, req->db, id, person_id, "api", NULL)
	         : alerts_resolve(req->app, req->db, id, "api", NULL);
	if (rc == RC_NOT_FOUND)
		return http_fail(req, rc, "no alert %lld", (long long)id);
	if (rc == RC_CONFLICT)
		return http_fail(req, rc, "alert %lld is resolved: it cannot be acknowledged", (long long)id);
	if (rc != RC_OK)
		return http_fail(req, rc, "cannot update alert %lld", (long long)id);
	return reply_alert(req, 200, id, false);
}

enum rc api_alerts_ack(struct http_req *req)
{
	return ack_or_resolve(req, true);
}

enum rc api_alerts_resolve(struct http_req *req)
{
	return ack_or_resolve(req, false);
}
