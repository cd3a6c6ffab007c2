/*
 * server/http/http.c — libmicrohttpd glue. The only file that sees MHD_* (STYLE.md).
 *
 * Request life:
 *   uri_log()     MHD has the request line: a struct http_req is created with the raw target
 *                 (signatures are computed over the URL exactly as Twilio requested it).
 *   on_request()  first call: route, size check of Content-Length, rate limit, token check;
 *                 further calls: body chunks, buffered under the route's cap or streamed;
 *                 last call: Twilio signature, form parsing, the handler, the reply.
 *   on_done()     access log line, metrics, free everything the request owns.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/session.h"
#include "db/db.h"
#include "db/tokens.h"
#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/metrics.h"
#include "http/slow.h"
#include "http/tls.h"
#include "twilio/sig.h"
#include "twiml/twiml.h"

/*
 * libmicrohttpd's memory per connection: the request's head, its read buffer and the answer's
 * head. A header block over about half of it is refused (431) before any handler runs: 32 KiB
 * takes heads up to about 15 KB (browsers with many cookies stay far below; Twilio's are about
 * 1 KB; bodies go to http_req's own buffer, not here). libmicrohttpd zeroes the whole pool
 * between two requests of a keep-alive connection, so 64 KiB cost a retried webhook about 5 %.
 */
#define HTTP_CONNECTION_MEMORY (32 * HTTP_KIB)
/*
 * A request refused from its head (413 from Content-Length, 401, 404…) is answered at once —
 * a client that waits (Expect: 100-continue, or one that sends only the head) reads it — and
 * libmicrohttpd then closes the connection without reading the body. Most clients (Python's
 * urllib, many HTTP libraries) send the whole body before they read anything, and a socket
 * closed with unread data resets the connection: they would see a broken pipe. So such a
 * connection lingers (http/slow.h): its body is read and dropped, bounded in bytes and time,
 * until the client has read the answer and closed. A body that passes its cap while it
 * streams (chunked) is read and dropped up to HTTP_DRAIN_MAX more, then answered.
 */
/* libmicrohttpd's hard connection limits sit this far above PLANTAO_MAX_CONNECTIONS and
 * PLANTAO_PER_IP_CONNECTIONS: a connection accepted past a soft limit evicts the oldest one
 * still sending its head (http/slow.h) instead of being refused. */
#define HTTP_EVICTION_HEADROOM(max) ((max) / 4 + 16)
#define HTTP_DRAIN_MAX              (8 * HTTP_MIB)
#define HTTP_DRAIN_SECONDS          10
/*
 * Rate limits are token buckets kept in small open-addressed tables: one keyed by client
 * address for failed authentications, one keyed by token (its hash) for authenticated
 * requests, so garbage from one address (or from everyone behind one proxy) never locks a
 * valid token out. A key that finds no free or idle slot among its RATE_PROBE neighbours
 * shares the bucket of its home slot: a collision can only make a limit stricter, never
 * grant a fresh bucket.
 */
#define RATE_SLOTS   1024
#define RATE_PROBE   8
#define RATE_KEY_LEN (TOKENS_HEX_LEN + 1)

struct rate_slot {
	char key[RATE_KEY_LEN];
	double tokens;
	int64_t last_ms;
};

struct rate_table {
	pthread_mutex_t lock;
	struct rate_slot slot[RATE_SLOTS];
};

struct http_server {
	struct MHD_Daemon *d;
	struct app *app;
	const struct route *routes;
	size_t n_routes;
	atomic_int in_flight;
	struct slow_guard *slow;        /* head deadline, body rate, eviction past the connection limit */
	struct rate_table failed_auth;  /* per client address */
	struct rate_table per_token;    /* per token hash */
	_Atomic int64_t rate_warned_ms; /* when a 429 was last logged */
	char bootstrap_hash[TOKENS_HEX_LEN + 1];
	/* The path of PLANTAO_PUBLIC_URL ("/plantao"), or "": a proxy may pass it on or strip it. */
	char prefix[256];
	size_t prefix_len;
};

int http_status_of(enum rc rc)
{
	switch (rc) {
	case RC_OK: return 200;
	case RC_INVALID: return 400;
	case RC_AUTH: return 401;
	case RC_FORBIDDEN: return 403;
	case RC_NOT_FOUND: return 404;
	case RC_CONFLICT: return 409;
	case RC_METHOD: return 405;
	case RC_TOO_BIG: return 413;
	case RC_UNSUPPORTED: return 415;
	case RC_UNPROCESSABLE: return 422;
	case RC_RATE: return 429;
	case RC_BUSY: return 503;
	case RC_UPSTREAM: return 502;
	case RC_DB:
	case RC_INTERNAL: return 500;
	}
	return 500;
}

/* ---------------------------------------------------------------- router */

void http_params_free(char **params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(params[i]);
		params[i] = NULL;
	}
}

/* Matches path against pattern segment by segment; {x} takes one non-empty segment. */
static bool match(const char *pattern, const char *path, char **params, size_t *n_params)
{
	const char *p = pattern, *s = path;
	size_t n = 0;

	while (*p && (*s || strcmp(p, "{*}") == 0)) {
		if (strcmp(p, "{*}") == 0) { /* the rest of the path, slashes included, maybe empty */
			if (params) {
				params[n] = strdup(s);
				if (!params[n])
					goto fail;
			}
			n++;
			s += strlen(s);
			p += 3;
			break;
		}
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t len;

			if (!pe)
				goto fail;
			len = se ? (size_t)(se - s) : strlen(s);
			if (len == 0 || n >= HTTP_MAX_PARAMS)
				goto fail;
			if (params) {
				params[n] = strndup(s, len);
				if (!params[n])
					goto fail;
			}
			n++;
			p = pe + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*p || *s)
		goto fail;
	*n_params = n;
	return true;
fail:
	if (params)
		http_params_free(params, n);
	return false;
}

enum rc http_route_match(const struct route *routes, size_t n, const char *method, const char *path,
                         const struct route **found, char **params, size_t *n_params, char *allow, size_t allow_len)
{
	size_t i, np;
	bool path_seen = false;

	*found = NULL;
	*n_params = 0;
	if (allow_len)
		allow[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!match(routes[i].pattern, path, NULL, &np))
			continue;
		/* a catch-all ("/{*}", the console) never turns a miss into 405 */
		path_seen = path_seen || !strstr(routes[i].pattern, "{*}");
		if (strcmp(routes[i].method, method) == 0) {
			if (!match(routes[i].pattern, path, params, n_params))
				return RC_INTERNAL;
			*found = &routes[i];
			return RC_OK;
		}
		if (allow_len && !strstr(allow, routes[i].method)) {
			size_t used = strlen(allow);

			snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", routes[i].method);
		}
	}
	return path_seen ? RC_METHOD : RC_NOT_FOUND;
}

/* ---------------------------------------------------------------- accessors */

const char *http_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

enum rc http_param_id(struct http_req *req, size_t i, int64_t *out)
{
	const char *s;
	char *end;
	long long v;

	*out = 0;
	if (i >= req->n_params)
		return RC_NOT_FOUND;
	s = req->params[i];
	if (!isdigit((unsigned char)s[0]))
		return http_fail(req, RC_NOT_FOUND, "no such id '%.40s'", s);
	v = strtoll(s, &end, 10);
	if (*end || v <= 0)
		return http_fail(req, RC_NOT_FOUND, "no such id '%.40s'", s);
	*out = v;
	return RC_OK;
}

bool http_content_type_is(struct http_req *req, const char *type)
{
	const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(type);

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

enum rc http_json_body(struct http_req *req, json_t **out)
{
	json_error_t e;

	*out = NULL;
	if (req->json) {
		*out = req->json;
		return RC_OK;
	}
	if (!http_content_type_is(req, "application/json"))
		return http_fail(req, RC_UNSUPPORTED, "expected Content-Type: application/json");
	req->json = json_loadb(req->body.data ? req->body.data : "", req->body.len, JSON_REJECT_DUPLICATES, &e);
	if (!req->json)
		return http_fail(req, RC_INVALID, "body is not valid JSON: %s (line %d, column %d)", e.text, e.line,
		                 e.column);
	*out = req->json;
	return RC_OK;
}

/* ---------------------------------------------------------------- replies */

void http_add_header(struct http_req *req, const char *name, const char *value)
{
	if (req->n_extra_headers >= sizeof req->extra_headers / sizeof req->extra_headers[0])
		return;
	snprintf(req->extra_headers[req->n_extra_headers].name, sizeof req->extra_headers[0].name, "%s", name);
	snprintf(req->extra_headers[req->n_extra_headers].value, sizeof req->extra_headers[0].value, "%s", value);
	req->n_extra_headers++;
}

enum rc http_fail(struct http_req *req, enum rc rc, const char *fmt, ...)
{
	va_list ap;

	if (!req->err[0]) { /* the first, most specific message wins */
		va_start(ap, fmt);
		vsnprintf(req->err, sizeof req->err, fmt, ap);
		va_end(ap);
	}
	return rc;
}

enum rc http_fail_code(struct http_req *req, enum rc rc, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (req->err[0]) /* the first, most specific message wins */
		return rc;
	va_start(ap, fmt);
	vsnprintf(req->err, sizeof req->err, fmt, ap);
	va_end(ap);
	snprintf(req->err_code, sizeof req->err_code, "%s", code ? code : "");
	snprintf(req->err_field, sizeof req->err_field, "%s", field ? field : "");
	return rc;
}

void http_fail_extra(struct http_req *req, const char *key, json_t *value)
{
	if (!req->err_extra)
		req->err_extra = json_object();
	if (req->err_extra && value)
		json_object_set_new(req->err_extra, key, value);
	else
		json_decref(value);
}

/*
 * The field a message names before its first ": " — "phone: …", "members[2]: …",
 * "steps[0].timeout_s: …" — into out, or "". The API's validation messages all start so.
 */
static void field_of(const char *msg, char *out, size_t len)
{
	size_t n = 0;
	const char *p = msg;

	out[0] = '\0';
	if (!isalpha((unsigned char)*p) && *p != '_')
		return;
	while (isalnum((unsigned char)*p) || (*p && strchr("_[].", *p))) /* strchr finds the NUL too */
		p++;
	if (p[0] != ':' || p[1] != ' ')
		return;
	n = (size_t)(p - msg);
	if (n >= len)
		return;
	memcpy(out, msg, n);
	out[n] = '\0';
}

static bool is_console(const struct http_req *req)
{
	return strncmp(req->path, "/api/", 5) != 0 && strncmp(req->path, "/twilio/", 8) != 0;
}

/* Queues a response that owns body (malloc'd or NULL). */
static enum rc send_owned(struct http_req *req, int status, const char *content_type, char *body, size_t len)
{
	struct MHD_Response *r;
	size_t i;
	enum MHD_Result ok;

	if (req->replied) {
		free(body);
		log_err("%s %s: replied twice", req->method, req->path);
		return RC_INTERNAL;
	}
	r = MHD_create_response_from_buffer(len, body ? body : (char *)"",
	                                    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(body);
		return RC_INTERNAL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (is_console(req)) {
		MHD_add_response_header(
		        r, "Content-Security-Policy",
		        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
		        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	} else {
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	for (i = 0; i < req->n_extra_headers; i++)
		MHD_add_response_header(r, req->extra_headers[i].name, req->extra_headers[i].value);
	ok = MHD_queue_response(req->conn, (unsigned int)status, r);
	MHD_destroy_response(r);
	if (ok != MHD_YES)
		return RC_INTERNAL;
	req->replied = true;
	req->status = status;
	return RC_OK;
}

enum rc http_reply(struct http_req *req, int status, const char *content_type, const char *body, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return RC_INTERNAL;
	memcpy(copy, body, len);
	copy[len] = '\0';
	return send_owned(req, status, content_type, copy, len);
}

enum rc http_reply_json(struct http_req *req, int status, json_t *body)
{
	char *text;

	if (!body)
		body = json_object();
	text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text)
		return RC_INTERNAL;
	return send_owned(req, status, "application/json; charset=utf-8", text, strlen(text));
}

enum rc http_reply_twiml(struct http_req *req, struct twiml *t)
{
	char *xml = NULL;
	size_t len = 0;
	enum rc rc = twiml_finish(t, &xml, &len);

	twiml_free(t);
	if (rc != RC_OK)
		return rc;
	/* A buffer response always carries Content-Length: Twilio does not accept chunked TwiML. */
	return send_owned(req, 200, "text/xml; charset=utf-8", xml, len);
}

static enum rc reply_error(struct http_req *req, enum rc rc)
{
	json_t *e;
	const char *msg = req->err[0] ? req->err : NULL, *code;
	char field[64];

	if (!msg) {
		switch (rc) {
		case RC_DB: msg = "database error"; break;
		case RC_BUSY: msg = "the database is busy; retry shortly"; break;
		case RC_INTERNAL: msg = "internal error"; break;
		default: msg = rc_str(rc);
		}
	}
	if (rc == RC_BUSY && !req->n_extra_headers)
		http_add_header(req, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	code = req->err_code[0] ? req->err_code : rc_str(rc);
	if (!req->err_code[0] && strstr(msg, ": unknown query parameter"))
		code = "unknown_parameter"; /* api_list_params(): every list refuses them alike */
	if (req->err_field[0])
		snprintf(field, sizeof field, "%s", req->err_field);
	else
		field_of(msg, field, sizeof field);
	e = json_pack("{s:s,s:s}", "code", code, "message", msg);
	if (!e) { /* not UTF-8 (a path as the client sent it): the message stays, those bytes become '?' */
		char safe[sizeof req->err];
		char *p;

		snprintf(safe, sizeof safe, "%s", msg);
		for (p = safe; *p; p++)
			if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
				*p = '?';
		e = json_pack("{s:s,s:s}", "code", code, "message", safe);
	}
	if (e && field[0])
		json_object_set_new(e, "field", json_string(field));
	if (e && req->err_extra)
		json_object_update_missing(e, req->err_extra);
	return http_reply_json(req, http_status_of(rc), e ? json_pack("{s:o}", "error", e) : NULL);
}

/* ---------------------------------------------------------------- auth and limits */

static enum http_role role_of(const char *name)
{
	if (!strcmp(name, "admin"))
		return HTTP_ROLE_ADMIN;
	if (!strcmp(name, "editor"))
		return HTTP_ROLE_EDITOR;
	if (!strcmp(name, "viewer"))
		return HTTP_ROLE_VIEWER;
	if (!strcmp(name, "alerts"))
		return HTTP_ROLE_ALERTS;
	return HTTP_ROLE_NONE;
}

static bool role_allows(enum http_role role, enum http_perm perm)
{
	switch (perm) {
	case HTTP_PERM_READ: return role == HTTP_ROLE_ADMIN || role == HTTP_ROLE_EDITOR || role == HTTP_ROLE_VIEWER;
	case HTTP_PERM_EDIT: return role == HTTP_ROLE_ADMIN || role == HTTP_ROLE_EDITOR;
	case HTTP_PERM_ALERT: return role == HTTP_ROLE_ADMIN || role == HTTP_ROLE_EDITOR || role == HTTP_ROLE_ALERTS;
	case HTTP_PERM_ADMIN: return role == HTTP_ROLE_ADMIN;
	}
	return false;
}

bool http_role_allows(enum http_role role, enum http_perm perm)
{
	return role_allows(role, perm);
}

/* A request without Authorization that carries the sign-in cookie (server/auth/session.h): the
 * session's person and role, the CSRF rule for unsafe methods, the cookie re-sent when the
 * session slid forward. hash receives the secret's SHA-256 (the rate limit's key). */
static enum rc check_session(struct http_server *s, struct http_req *req, const char *secret,
                             char hash[TOKENS_HEX_LEN + 1])
{
	struct auth_session ss;
	char cookie[SESSION_HEADER_MAX];
	bool refreshed = false;
	enum rc rc;

	tokens_hash(secret, hash);
	rc = session_authenticate(s->app, req->db, secret, &ss, &refreshed);
	if (rc == RC_AUTH) {
		session_set_cookie(s->app, NULL, cookie);
		http_add_header(req, MHD_HTTP_HEADER_SET_COOKIE, cookie);
		return http_fail(req, RC_AUTH, "the session ended or expired: sign in again");
	}
	if (rc != RC_OK)
		return rc;
	req->role = role_of(ss.role);
	session_actor(&ss, req->actor, sizeof req->actor);
	if (refreshed) {
		session_set_cookie(s->app, secret, cookie);
		http_add_header(req, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	if (!session_csrf_ok(s->app->cfg->public_url, req->method, http_header(req, "Origin"),
	                     http_header(req, "X-Plantao-CSRF")))
		return http_fail(
		        req, RC_FORBIDDEN,
		        "a signed-in %s needs the Origin of PLANTAO_PUBLIC_URL or the header X-Plantao-CSRF: 1",
		        req->method);
	if (!role_allows(req->role, req->route->perm))
		return http_fail(req, RC_FORBIDDEN, "your role may not do that");
	return RC_OK;
}

/* Checks the bearer token (or ?token= on feeds, or the sign-in cookie); hash receives its
 * SHA-256 (hex) when one was given. */
static enum rc check_token(struct http_server *s, struct http_req *req, char hash[TOKENS_HEX_LEN + 1])
{
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	char role[16];
	enum rc rc;

	const char *q = req->route->auth == HTTP_FEED && !h ? http_query(req, "token") : NULL;
	bool from_query = q && q[0];

	hash[0] = '\0';
	if (!h && !from_query) {
		const char *cookie = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, SESSION_COOKIE);

		if (cookie && cookie[0])
			return check_session(s, req, cookie, hash);
	}
	if (from_query) {
		h = q;
	} else if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		http_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
		return http_fail(req, RC_AUTH, "missing bearer token (Authorization: Bearer <token>)");
	} else {
		h += 7;
	}
	tokens_hash(h, hash);
	if (s->bootstrap_hash[0] && CRYPTO_memcmp(hash, s->bootstrap_hash, TOKENS_HEX_LEN) == 0) {
		req->role = HTTP_ROLE_ADMIN;
		snprintf(req->actor, sizeof req->actor, "token:bootstrap");
	} else {
		char name[48];

		rc = tokens_check(req->db, h, role, name, sizeof name);
		if (rc == RC_AUTH) {
			http_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
			return http_fail(req, RC_AUTH, "invalid or revoked token");
		}
		if (rc != RC_OK)
			return rc;
		req->role = role_of(role);
		snprintf(req->actor, sizeof req->actor, "token:%s", name);
	}
	if (from_query && req->role != HTTP_ROLE_VIEWER)
		return http_fail(req, RC_FORBIDDEN,
		                 "only a viewer token may be given in a URL (?token=); "
		                 "create one for the calendar");
	if (!role_allows(req->role, req->route->perm))
		return http_fail(req, RC_FORBIDDEN, "this token's role may not do that");
	return RC_OK;
}

static void conn_addr(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)len);
}

static void client_addr(struct http_req *req, char *out, size_t len)
{
	conn_addr(req->conn, out, len);
}

void http_client_addr(struct http_req *req, char *out, size_t len)
{
	client_addr(req, out, len);
}

/* Tokens a bucket of this rate holds now (capped at the burst of twice the rate). */
static double bucket_level(const struct rate_slot *slot, int rate, int64_t now_ms)
{
	double level = slot->tokens + (double)(now_ms - slot->last_ms) * rate / 1000.0;

	return level > 2.0 * rate ? 2.0 * rate : level;
}

/* Takes one token from key's bucket (rate per second, burst twice that); false when empty. */
static bool rate_take(struct rate_table *t, const char *key, int rate)
{
	uint64_t h = 1469598103934665603ULL;
	struct rate_slot *slot = NULL, *free_slot = NULL;
	int64_t now = clock_mono_us() / 1000;
	bool ok;
	size_t i;

	if (rate <= 0)
		return true;
	for (i = 0; key[i]; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < RATE_PROBE && !slot; i++) {
		struct rate_slot *c = &t->slot[(h + i) % RATE_SLOTS];

		if (strcmp(c->key, key) == 0)
			slot = c;
		else if (!free_slot && (!c->key[0] || bucket_level(c, rate, now) >= 2.0 * rate))
			free_slot = c; /* empty, or idle long enough to be full: nothing is lost */
	}
	if (!slot && free_slot) {
		slot = free_slot;
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->tokens = 2.0 * rate;
		slot->last_ms = now;
	}
	if (!slot) /* every neighbour is in use: share the home slot's bucket */
		slot = &t->slot[h % RATE_SLOTS];
	slot->tokens = bucket_level(slot, rate, now);
	slot->last_ms = now;
	ok = slot->tokens >= 1.0;
	if (ok)
		slot->tokens -= 1.0;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

/* Replaces whatever error the request carries by a 429 with Retry-After. A limited token may
 * be a monitor whose alerts are being refused: that is a warning (at most one every 10 s, with
 * the token's name or the address, so a flood cannot flood the log). */
static enum rc rate_limited(struct http_server *s, struct http_req *req, const char *what, const char *who)
{
	int64_t now_ms = clock_mono_us() / 1000, last = atomic_load(&s->rate_warned_ms);

	if ((last == 0 || now_ms - last >= 10000) && atomic_compare_exchange_strong(&s->rate_warned_ms, &last, now_ms))
		log_warn("%s %s: 429, too many %s (%s); further ones for 10 s are not logged here", req->method,
		         req->path, what, who);
	req->err[0] = '\0';
	req->n_extra_headers = 0;
	http_add_header(req, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return http_fail(req, RC_RATE, "too many %s; retry shortly", what);
}

/* Token routes: a failed authentication spends from the address's bucket, an authenticated
 * request from its token's. */
static enum rc authenticate(struct http_server *s, struct http_req *req)
{
	int rate = s->app->cfg->api_rate;
	char hash[TOKENS_HEX_LEN + 1];
	enum rc rc = check_token(s, req, hash);

	if (rc == RC_AUTH) {
		char addr[INET6_ADDRSTRLEN];

		client_addr(req, addr, sizeof addr);
		if (!rate_take(&s->failed_auth, addr, rate))
			return rate_limited(s, req, "failed authentications from this address", addr);
		return rc;
	}
	if ((rc == RC_OK || rc == RC_FORBIDDEN) && !rate_take(&s->per_token, hash, rate))
		return rate_limited(s, req, "requests with this token", req->actor);
	return rc;
}

/* The public sign-in routes (asking for a code, trying one): every request spends from its
 * address's failed-authentication bucket, so a flood from one address gets 429 before it
 * costs the database a code or a hash, and other addresses are untouched (issue 16). */
static bool charged_to_address(const struct route *r)
{
	return r->auth == HTTP_PUBLIC && strcmp(r->method, "POST") == 0 &&
	       (strcmp(r->pattern, "/api/auth/code") == 0 || strcmp(r->pattern, "/api/auth/verify") == 0);
}

static enum rc charge_address(struct http_server *s, struct http_req *req)
{
	char addr[INET6_ADDRSTRLEN];

	client_addr(req, addr, sizeof addr);
	if (!rate_take(&s->failed_auth, addr, s->app->cfg->api_rate))
		return rate_limited(s, req, "sign-in requests from this address", addr);
	return RC_OK;
}

static enum rc check_signature(struct http_server *s, struct http_req *req)
{
	const struct cfg *c = s->app->cfg;
	const char *sig = http_header(req, "X-Twilio-Signature");
	struct buf url;
	bool ok;

	if (!c->twilio_token) {
		log_warn("%s %s refused: TWILIO_AUTH_TOKEN is not set, webhook signatures cannot be checked",
		         req->method, req->path);
		return http_fail(req, RC_FORBIDDEN, "webhook signatures cannot be checked: no auth token configured");
	}
	buf_init(&url, 16 * HTTP_KIB);
	if (buf_puts(&url, c->public_url) != RC_OK || buf_puts(&url, req->uri) != RC_OK) {
		buf_release(&url);
		return http_fail(req, RC_FORBIDDEN, "URL too long");
	}
	if (strstr(req->uri, "bodySHA256="))
		ok = sig_is_valid_json(c->twilio_token, url.data, req->body.data ? req->body.data : "", req->body.len,
		                       sig);
	else
		ok = sig_is_valid(c->twilio_token, url.data, &req->form, sig);
	if (!ok) {
		/* the query string is left out: Twilio puts the caller's number in it (GET webhooks) */
		char *q = strchr(url.data, '?');

		if (q)
			*q = '\0';
		log_warn("%s %s refused: %s X-Twilio-Signature for %s%s (PLANTAO_PUBLIC_URL + path: it must be the "
		         "URL Twilio requested, scheme, host, port and prefix included, and TWILIO_AUTH_TOKEN the "
		         "account's)",
		         req->method, req->path, sig ? "invalid" : "missing", url.data, q ? "?…" : "");
	}
	buf_release(&url);
	if (!ok)
		return http_fail(req, RC_FORBIDDEN, "invalid Twilio signature");
	snprintf(req->actor, sizeof req->actor, "twilio");
	return RC_OK;
}

/* ---------------------------------------------------------------- path prefix */

/*
 * PLANTAO_PUBLIC_URL may carry a path (https://example.com/plantao). A proxy that strips it
 * passes /twilio/voice, one that does not passes /plantao/twilio/voice: both are the same
 * request. The prefix is taken off before routing, and the signature is then checked against
 * PLANTAO_PUBLIC_URL + the rest, which is the URL Twilio signed in either case.
 */
static void prefix_init(struct http_server *s, const char *public_url)
{
	const char *p = strstr(public_url, "://");
	size_t n;

	s->prefix[0] = '\0';
	s->prefix_len = 0;
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return;
	n = strcspn(p, "?#");
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof s->prefix) {
		log_warn("PLANTAO_PUBLIC_URL: its path is longer than %zu bytes; requests that carry it are not "
		         "recognised (a proxy must strip it)",
		         sizeof s->prefix - 1);
		return;
	}
	memcpy(s->prefix, p, n);
	s->prefix[n] = '\0';
	s->prefix_len = n;
}

/* path without the public URL's prefix when it starts with it (NULL: it does not). */
static const char *unprefixed(const struct http_server *s, const char *path)
{
	if (!s->prefix_len || strncmp(path, s->prefix, s->prefix_len) != 0)
		return NULL;
	if (path[s->prefix_len] == '/')
		return path + s->prefix_len;
	if (path[s->prefix_len] == '\0')
		return "/";
	return NULL;
}

/* ---------------------------------------------------------------- MHD callbacks */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_req *req = calloc(1, sizeof *req);

	if (!req)
		return NULL;
	req->watch = ci ? ci->socket_context : NULL;
	req->server = s;
	req->app = s->app;
	req->conn = conn;
	req->t0_us = clock_mono_us();
	if (!uri)
		uri = "/";
	req->uri = strdup(unprefixed(s, uri) ? unprefixed(s, uri) : uri);
	buf_init(&req->body, 0);
	form_init(&req->form);
	atomic_fetch_add(&s->in_flight, 1);
	return req;
}

/* First call: everything that can be decided from the request head. */
static enum rc begin(struct http_server *s, struct http_req *req, const char *method, const char *url)
{
	char allow[64];
	const char *cl;
	enum rc rc;

	if (unprefixed(s, url))
		url = unprefixed(s, url);
	req->method = strdup(method);
	req->path = strdup(url);
	if (!req->method || !req->path || !req->uri)
		return RC_INTERNAL;
	/* HEAD is GET without the body (libmicrohttpd leaves it out): uptime checkers use it */
	rc = http_route_match(s->routes, s->n_routes, strcmp(method, "HEAD") == 0 ? "GET" : method, url, &req->route,
	                      req->params, &req->n_params, allow, sizeof allow);
	if (rc == RC_METHOD && strstr(allow, "GET") && strlen(allow) + 7 < sizeof allow)
		memcpy(allow + strlen(allow), ", HEAD", 7);
	if (rc == RC_METHOD) {
		http_add_header(req, MHD_HTTP_HEADER_ALLOW, allow);
		return http_fail(req, RC_METHOD, "method %s not allowed here (allowed: %s)", method, allow);
	}
	if (rc == RC_NOT_FOUND)
		return http_fail(req, RC_NOT_FOUND, "no route for %s %s", method, url);
	if (rc != RC_OK)
		return rc;
	if (charged_to_address(req->route) && (rc = charge_address(s, req)) != RC_OK)
		return rc;
	req->db = app_db(s->app);
	if (!req->db)
		return http_fail(req, RC_BUSY, "database unavailable");
	db_set_writer_wait(req->db, DB_WRITER_WAIT_MS);
	buf_init(&req->body, req->route->max_body);
	cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > req->route->max_body)
		return http_fail(req, RC_TOO_BIG, "body of %s bytes exceeds the limit of %zu bytes", cl,
		                 req->route->max_body);
	if (req->route->auth == HTTP_TOKEN || req->route->auth == HTTP_FEED)
		return authenticate(s, req);
	return RC_OK;
}

static enum rc body_chunk(struct http_req *req, const char *data, size_t len)
{
	req->received += len;
	if (req->received > req->route->max_body)
		return http_fail(req, RC_TOO_BIG, "body exceeds the limit of %zu bytes", req->route->max_body);
	if (req->route->on_body)
		return req->route->on_body(req, data, len);
	return buf_append(&req->body, data, len);
}

/* Last call: the whole request is here. */
static enum rc finish(struct http_server *s, struct http_req *req)
{
	enum rc rc;

	if (!req->route->on_body && http_content_type_is(req, "application/x-www-form-urlencoded")) {
		rc = form_parse(&req->form, req->body.data ? req->body.data : "", req->body.len);
		if (rc != RC_OK && req->route->auth != HTTP_TWILIO)
			return http_fail(req, rc == RC_TOO_BIG ? RC_TOO_BIG : RC_INVALID, "malformed form body");
		if (rc != RC_OK) /* an unparsable Twilio body cannot carry a valid signature */
			return http_fail(req, RC_FORBIDDEN, "malformed form body");
	}
	if (req->route->auth == HTTP_TWILIO) {
		rc = check_signature(s, req);
		if (rc != RC_OK)
			return rc;
	}
	return req->route->handler(req);
}

/* Whether the client announced a body (that the server has not read when it answers now). */
static bool body_announced(struct http_req *req)
{
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return http_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strtoull(cl, NULL, 10) > 0);
}

/* Reads and discards a chunk of a refused body; false when the bound in bytes or time is passed. */
static bool drain(struct http_req *req, size_t n)
{
	if (!req->drain_t0_us)
		req->drain_t0_us = clock_mono_us();
	req->drained += n;
	if (req->drained <= HTTP_DRAIN_MAX && clock_mono_us() - req->drain_t0_us <= HTTP_DRAIN_SECONDS * 1000000LL)
		return true;
	log_warn("%s %s: refused body still coming after %zu bytes: connection closed", req->method, req->path,
	         req->drained);
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
	struct http_server *s = cls;
	struct http_req *req = *req_cls;
	enum rc rc;

	(void)version;
	if (!req)
		return MHD_NO;
	req->conn = conn;
	if (!req->started) {
		req->started = true;
		slow_conn_body(req->watch);
		rc = begin(s, req, method, url);
		if (rc != RC_OK) {
			slow_conn_busy(req->watch);
			if (body_announced(req)) /* answered at once; the unread body is read and dropped at close */
				slow_conn_linger(req->watch);
			return reply_error(req, rc) == RC_OK ? MHD_YES : MHD_NO;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		slow_conn_received(req->watch, n);
		if (req->body_rc == RC_OK)
			req->body_rc = body_chunk(req, upload_data, n);
		else if (!drain(req, n)) /* so the client reads our answer; one that keeps sending is cut off */
			return MHD_NO;
		return MHD_YES;
	}
	if (req->replied)
		return MHD_YES;
	slow_conn_busy(req->watch);
	rc = req->body_rc;
	if (rc == RC_OK && req->route->on_body)
		rc = req->route->on_body(req, NULL, 0); /* end of body */
	if (rc == RC_OK)
		rc = finish(s, req);
	if (rc != RC_OK && !req->replied)
		rc = reply_error(req, rc);
	else if (!req->replied) {
		log_err("%s %s: handler returned without replying", req->method, req->path);
		rc = reply_error(req, RC_INTERNAL);
	}
	return req->replied ? MHD_YES : MHD_NO;
}

/* The path as the access log shows it: the secret of a heartbeat's /ping/<secret>[/…] is its
 * only credential, so it is never written to a log; three stars stand in its place. */
static const char *logged_path(const char *path, char *out, size_t n)
{
	const char *rest;

	if (strncmp(path, "/ping/", 6) != 0)
		return path;
	rest = strchr(path + 6, '/');
	snprintf(out, n, "/ping/***%s", rest ? rest : "");
	return out;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *req = *req_cls;
	int64_t us;

	(void)conn;
	if (!req)
		return;
	slow_conn_idle(req->watch); /* a kept-alive connection waits for its next head */
	us = clock_mono_us() - req->t0_us;
	if (req->method) {
		const char *route = req->route ? req->route->pattern : NULL;
		int status = req->replied ? req->status : 0;
		char redacted[64];

		log_access("%s %s %d %lldus%s", req->method,
		           req->path ? logged_path(req->path, redacted, sizeof redacted) : "", status, (long long)us,
		           toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
		/* unmatched requests share one series: a client must not create labels at will */
		metrics_request(s->app->metrics, req->route ? req->route->method : "other",
		                req->route ? route : "unmatched", status, us);
	}
	if (req->state_free)
		req->state_free(req->state);
	db_settle(req->db, req->path ? req->path : "a request");
	json_decref(req->json);
	json_decref(req->err_extra);
	form_release(&req->form);
	buf_release(&req->body);
	http_params_free(req->params, req->n_params);
	free(req->method);
	free(req->path);
	free(req->uri);
	free(req);
	*req_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

/* Every connection is watched from accept to close (http/slow.h). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		char addr[INET6_ADDRSTRLEN];

		conn_addr(conn, addr, sizeof addr);
		*socket_context = ci ? slow_conn_open(s->slow, ci->connect_fd, addr) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		slow_conn_close(s->slow, *socket_context); /* before libmicrohttpd closes the socket */
		*socket_context = NULL;
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("http: %s", line);
}

enum rc http_start(struct app *app, const struct route *routes, size_t n_routes, struct http_server **out)
{
	const struct cfg *c = app->cfg;
	struct http_server *s = calloc(1, sizeof *s);
	struct addrinfo hints = {0}, *ai = NULL;
	char port[16];
	bool tls = false;
	struct slow_limits slow;
	/*
	 * poll(), not epoll: with epoll and a thread pool, MHD_quiesce_daemon() (http_stop) and a
	 * worker's event loop both remove the listen socket from the worker's epoll set when they
	 * see was_quiesced; neither flag is atomic or locked, so the loser gets ENOENT and
	 * libmicrohttpd aborts ("Failed to remove listen FD from epoll set", daemon.c:5531 in
	 * 0.9.75) — the rare abort at SIGTERM. With poll() quiescing only wakes each worker
	 * through its inter-thread channel. A worker polls at most PLANTAO_MAX_CONNECTIONS / threads
	 * sockets, where poll() costs nothing measurable.
	 */
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	enum rc rc = RC_INTERNAL;

	*out = NULL;
	if (!s)
		return RC_INTERNAL;
	s->app = app;
	s->routes = routes;
	s->n_routes = n_routes;
	pthread_mutex_init(&s->failed_auth.lock, NULL);
	pthread_mutex_init(&s->per_token.lock, NULL);
	if (c->api_token)
		tokens_hash(c->api_token, s->bootstrap_hash);
	prefix_init(s, c->public_url);
	slow_limits_default(&slow, c->request_timeout, (size_t)c->max_connections, (size_t)c->per_ip_connections);
	s->slow = slow_new(&slow);
	if (!s->slow)
		goto out;
	snprintf(port, sizeof port, "%d", c->listen_port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	if (getaddrinfo(c->listen_host, port, &hints, &ai) != 0) {
		log_err("PLANTAO_LISTEN: cannot use address '%s'", c->listen_host);
		goto out;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (c->tls_cert) {
		/* the certificate through a callback, not MHD_OPTION_HTTPS_MEM_CERT: SIGHUP replaces it
		 * for new connections (http/tls.h) */
		if (tls_start(c->tls_cert, c->tls_key) != RC_OK)
			goto out;
		tls = true;
		flags |= MHD_USE_TLS;
	}
	s->d = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
	        ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned int)(c->max_connections + HTTP_EVICTION_HEADROOM(c->max_connections)),
	        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned int)(c->per_ip_connections + HTTP_EVICTION_HEADROOM(c->per_ip_connections)),
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->request_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_URI_LOG_CALLBACK, uri_log, s, MHD_OPTION_NOTIFY_COMPLETED,
	        on_done, s, tls ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END, tls_cert_callback, MHD_OPTION_END);
	if (!s->d) {
		log_err("cannot listen on %s:%d (in use, or not an address of this machine?)", c->listen_host,
		        c->listen_port);
		goto out;
	}
	*out = s;
	rc = RC_OK;
out:
	if (ai)
		freeaddrinfo(ai);
	if (rc != RC_OK) {
		if (tls)
			tls_stop();
		slow_free(s->slow);
		pthread_mutex_destroy(&s->failed_auth.lock);
		pthread_mutex_destroy(&s->per_token.lock);
		free(s);
	}
	return rc;
}

void http_slow_counts(struct http_req *req, uint64_t *cut_head, uint64_t *cut_body, uint64_t *evicted)
{
	struct http_server *s = req->server;
	struct slow_stats st = {0, 0, 0};

	if (s)
		slow_stats(s->slow, &st);
	*cut_head = st.cut_head;
	*cut_body = st.cut_body;
	*evicted = st.evicted;
}

int http_port(struct http_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? (int)i->port : -1;
}

void http_stop(struct http_server *s, int wait_ms)
{
	MHD_socket fd;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (wait_ms > 0 && atomic_load(&s->in_flight) > 0) {
		usleep(10000);
		wait_ms -= 10;
	}
	MHD_stop_daemon(s->d);
	tls_stop();
	slow_free(s->slow);
	pthread_mutex_destroy(&s->failed_auth.lock);
	pthread_mutex_destroy(&s->per_token.lock);
	free(s);
}
