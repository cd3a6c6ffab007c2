/*
 * server/twilio/twilio.c — Twilio REST client on libcurl (see twilio.h for the contract).
 *
 * Handles: one multi handle for creates (its connection pool is reused by every transfer),
 * TWILIO_MAX_PARALLEL easy handles kept for its lifetime, one easy handle for synchronous
 * look-ups (its own pool), and a share handle for DNS and TLS sessions between them. Only the
 * engine thread uses a struct twilio, so the share needs no locks.
 */
#include "twilio/twilio.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/version.h"

#define API_PATH       "/2010-04-01/Accounts/"
#define LIST_PAGE_SIZE "50"

struct xfer {
	CURL *easy;
	bool busy;     /* submitted, not yet handed back */
	bool finished; /* the multi handle reported it done */
	CURLcode code;
	void *user;
	char *form;
	size_t form_len, form_pos;
	bool body_read; /* libcurl took body bytes: the request may have reached Twilio */
	struct buf resp;
	int retry_after_s;
	char errbuf[CURL_ERROR_SIZE];
};

struct twilio {
	char *api_base, *account_sid, *auth_token, *public_url;
	char *messages_url, *calls_url;
	CURLM *multi;
	CURLSH *share;
	CURL *sync;
	struct curl_slist *headers;
	struct xfer x[TWILIO_MAX_PARALLEL];
	size_t in_flight;
};

/* ---- callbacks ---- */

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	return buf_append(b, data, size * n) == RC_OK ? size * n : 0; /* 0 aborts: the cap was hit */
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	int *retry_after_s = ud;
	size_t len = size * n;
	char line[128];

	if (len >= 12 && len < sizeof line && !strncasecmp(data, "Retry-After:", 12)) {
		char *end;
		long v;

		memcpy(line, data + 12, len - 12);
		line[len - 12] = '\0';
		v = strtol(line, &end, 10);
		if (end != line && v >= 0 && v <= 86400)
			*retry_after_s = (int)v;
	} else if (len >= 5 && !strncmp(data, "HTTP/", 5))
		*retry_after_s = -1; /* a new response (libcurl retried): forget the previous headers */
	return len;
}

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t want = size * n, left = x->form_len - x->form_pos;

	if (want > left)
		want = left;
	memcpy(dst, x->form + x->form_pos, want);
	x->form_pos += want;
	if (want)
		x->body_read = true;
	return want;
}

/* The exactly-once guard (twilio.h): a rewind after bytes were read would re-send the create. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct xfer *x = ud;

	if (origin == SEEK_SET && offset == 0 && !x->body_read)
		return CURL_SEEKFUNC_OK;
	return CURL_SEEKFUNC_FAIL;
}

/* ---- set-up ---- */

static char *join(const char *a, const char *b, const char *c, const char *d)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s%s", a, b, c, d);
	return s;
}

static void common_options(struct twilio *t, CURL *e, struct buf *resp, int *retry_after_s, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SHARE, t->share);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)TWILIO_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)TWILIO_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Basic credentials and User-Agent are lines of t->headers, encoded once (auth_header):
	 * libcurl would format and encode them again for every request. No redirect is followed,
	 * so they only ever go to TWILIO_API_BASE. */
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, retry_after_s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
}

/* "Authorization: Basic base64(sid:token)" (a new string, free()), or NULL when out of memory. */
static char *auth_header(const char *account_sid, const char *auth_token)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char prefix[] = "Authorization: Basic ";
	size_t a = strlen(account_sid), b = strlen(auth_token), n = a + 1 + b, i, o;
	unsigned char *in = malloc(n + 1);
	char *out = malloc(sizeof prefix + (n + 2) / 3 * 4);

	if (!in || !out) {
		free(in);
		free(out);
		return NULL;
	}
	memcpy(in, account_sid, a);
	in[a] = ':';
	memcpy(in + a + 1, auth_token, b);
	memcpy(out, prefix, sizeof prefix - 1);
	o = sizeof prefix - 1;
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		             (i + 2 < n ? (unsigned)in[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	free(in);
	return out;
}

/* Appends line to *list; false (and *list freed, NULL) when out of memory. */
static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *h = line ? curl_slist_append(*list, line) : NULL;

	if (!h) {
		curl_slist_free_all(*list);
		*list = NULL;
		return false;
	}
	*list = h;
	return true;
}

/*
 * Sets up a create handle once for its lifetime: every option but the URL and the form's
 * length, which twilio_submit() sets per request (libcurl keeps options between transfers, and
 * keeps the connection in the multi handle's pool).
 */
static void create_options(struct twilio *t, struct xfer *x)
{
	common_options(t, x->easy, &x->resp, &x->retry_after_s, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)TWILIO_CREATE_TIMEOUT_MS);
	curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
}

enum rc twilio_new(const char *api_base, const char *account_sid, const char *auth_token, const char *public_url,
                   struct twilio **out)
{
	struct twilio *t = calloc(1, sizeof *t);
	char *esc = NULL, *auth;
	size_t i;

	*out = NULL;
	if (!t)
		return RC_INTERNAL;
	t->api_base = strdup(api_base);
	t->account_sid = strdup(account_sid);
	t->auth_token = strdup(auth_token);
	t->public_url = strdup(public_url);
	esc = curl_easy_escape(NULL, account_sid, 0);
	if (!t->api_base || !t->account_sid || !t->auth_token || !t->public_url || !esc)
		goto fail;
	t->messages_url = join(api_base, API_PATH, esc, "/Messages.json");
	t->calls_url = join(api_base, API_PATH, esc, "/Calls.json");
	t->multi = curl_multi_init();
	t->share = curl_share_init();
	t->sync = curl_easy_init();
	auth = auth_header(account_sid, auth_token);
	/* no "Expect: 100-continue" round trip before small bodies */
	if (add_header(&t->headers, "Accept: application/json") && add_header(&t->headers, "Expect:") &&
	    add_header(&t->headers, "User-Agent: plantao/" PLANTAO_VERSION))
		add_header(&t->headers, auth);
	if (auth) { /* the list holds its own copy */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (!t->messages_url || !t->calls_url || !t->multi || !t->share || !t->sync || !t->headers)
		goto fail;
	curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)TWILIO_MAX_PARALLEL);
	for (i = 0; i < TWILIO_MAX_PARALLEL; i++) {
		t->x[i].easy = curl_easy_init();
		if (!t->x[i].easy)
			goto fail;
		buf_init(&t->x[i].resp, TWILIO_MAX_RESPONSE);
		create_options(t, &t->x[i]);
	}
	curl_free(esc);
	*out = t;
	return RC_OK;
fail:
	curl_free(esc);
	twilio_free(t);
	log_err("twilio: out of memory setting up the REST client");
	return RC_INTERNAL;
}

void twilio_free(struct twilio *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < TWILIO_MAX_PARALLEL; i++) {
		if (t->x[i].easy) {
			if (t->x[i].busy && !t->x[i].finished)
				curl_multi_remove_handle(t->multi, t->x[i].easy);
			curl_easy_cleanup(t->x[i].easy);
		}
		free(t->x[i].form);
		buf_release(&t->x[i].resp);
	}
	if (t->sync)
		curl_easy_cleanup(t->sync);
	if (t->multi)
		curl_multi_cleanup(t->multi);
	if (t->share)
		curl_share_cleanup(t->share);
	curl_slist_free_all(t->headers);
	free(t->api_base);
	free(t->account_sid);
	free(t->auth_token);
	free(t->public_url);
	free(t->messages_url);
	free(t->calls_url);
	free(t);
}

/* ---- forms ---- */

/* Appends "&name=value" (no "&" first), value percent-encoded as curl_easy_escape() does: every
 * byte but ASCII letters, digits and "-._~". Written straight into b: a text is formed for
 * every request, on the engine thread. */
static enum rc add_param(struct buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	char chunk[256];
	size_t n = 0;
	enum rc rc = RC_OK;

	if (b->len)
		chunk[n++] = '&';
	for (; *name && n < sizeof chunk - 8; name++) /* room for "=" and a first encoded byte */
		chunk[n++] = *name;
	chunk[n++] = '=';
	for (; *value && rc == RC_OK; value++) {
		unsigned char c = (unsigned char)*value;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~')
			chunk[n++] = (char)c;
		else {
			chunk[n++] = '%';
			chunk[n++] = hex[c >> 4];
			chunk[n++] = hex[c & 15];
		}
		if (n > sizeof chunk - 4) {
			rc = buf_append(b, chunk, n);
			n = 0;
		}
	}
	return rc == RC_OK ? buf_append(b, chunk, n) : rc;
}

enum rc twilio_form(const struct twilio *t, const struct twilio_send *m, char **out)
{
	static const char *const events[] = {"initiated", "ringing", "answered", "completed"};
	struct buf b, cb, amd;
	enum rc rc;
	size_t i;

	*out = NULL;
	buf_init(&b, 64 * 1024);
	buf_init(&cb, 4096);
	buf_init(&amd, 4096);
	/* Callback URLs carry no query string: Twilio may reorder query parameters (README). */
	rc = buf_printf(&cb, "%s/twilio/status/%s", t->public_url, m->call ? "call" : "message");
	if (rc == RC_OK)
		rc = add_param(&b, "To", m->to ? m->to : "");
	if (rc == RC_OK)
		rc = add_param(&b, "From", m->from ? m->from : "");
	if (!m->call) {
		if (rc == RC_OK && m->content_sid && *m->content_sid) {
			rc = add_param(&b, "ContentSid", m->content_sid);
			if (rc == RC_OK)
				rc = add_param(&b, "ContentVariables",
				               m->content_variables ? m->content_variables : "{}");
		} else if (rc == RC_OK)
			rc = add_param(&b, "Body", m->body ? m->body : "");
		if (rc == RC_OK)
			rc = add_param(&b, "StatusCallback", cb.data);
	} else {
		if (rc == RC_OK)
			rc = add_param(&b, "Url", m->url ? m->url : "");
		if (rc == RC_OK)
			rc = add_param(&b, "Method", "POST");
		if (rc == RC_OK)
			rc = add_param(&b, "StatusCallback", cb.data);
		if (rc == RC_OK)
			rc = add_param(&b, "StatusCallbackMethod", "POST");
		for (i = 0; rc == RC_OK && i < sizeof events / sizeof events[0]; i++)
			rc = add_param(&b, "StatusCallbackEvent", events[i]);
		if (rc == RC_OK && m->timeout_s > 0)
			rc = buf_printf(&b, "&Timeout=%d", m->timeout_s);
		/*
		 * Answering machines (https://www.twilio.com/docs/voice/answering-machine-detection):
		 * detection in the background (AsyncAmd) so a person hears the alert at once instead of
		 * waiting through detection, and DetectMessageEnd so the callback comes when a machine's
		 * greeting has ended — the moment to leave the message (server/twilio/alert_call.h).
		 * The callback is the call's TwiML URL + "/amd": state travels in the path.
		 */
		if (rc == RC_OK && m->machine_detection) {
			rc = add_param(&b, "MachineDetection", "DetectMessageEnd");
			if (rc == RC_OK)
				rc = add_param(&b, "AsyncAmd", "true");
			if (rc == RC_OK)
				rc = buf_printf(&amd, "%s/amd", m->url ? m->url : "");
			if (rc == RC_OK)
				rc = add_param(&b, "AsyncAmdStatusCallback", amd.data);
			if (rc == RC_OK)
				rc = add_param(&b, "AsyncAmdStatusCallbackMethod", "POST");
		}
	}
	buf_release(&cb);
	buf_release(&amd);
	if (rc != RC_OK) {
		buf_release(&b);
		return rc;
	}
	*out = buf_steal(&b);
	return RC_OK;
}

/* ---- answers ---- */

enum twilio_outcome twilio_classify(long http_status, int curl_code, bool body_sent)
{
	if (curl_code == CURLE_OK && http_status > 0) {
		if (http_status >= 200 && http_status < 300)
			return TWILIO_OK;
		/* 429 and 503 say the request was not processed; other 5xx (a gateway, a crash
		 * mid-request) leave open whether the message or call was created. */
		if (http_status == 429 || http_status == 503)
			return TWILIO_RETRY;
		if (http_status >= 400 && http_status < 500)
			return TWILIO_PERMANENT;
		return TWILIO_UNKNOWN;
	}
	switch (curl_code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE: return TWILIO_RETRY; /* nothing reached Twilio */
	default: return body_sent ? TWILIO_UNKNOWN : TWILIO_RETRY;
	}
}

static void copy_str(json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, size, "%s", v ? v : "");
}

/* Integer that Twilio sends as a number or as a string ("num_segments": "2"). */
static int json_int_any(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_string(v))
		return (int)strtol(json_string_value(v), NULL, 10);
	return 0;
}

/* Fills res from a finished transfer: HTTP status, JSON body (resource or error), outcome. */
static void fill_result(struct twilio_result *res, long http, CURLcode code, bool body_sent, const struct buf *body,
                        const char *errbuf)
{
	json_t *j = NULL;

	memset(res, 0, sizeof *res);
	res->retry_after_s = -1;
	res->duration_s = -1;
	res->http_status = code == CURLE_OK ? http : 0;
	res->outcome = twilio_classify(http, (int)code, body_sent);
	if (code != CURLE_OK) {
		snprintf(res->error_message, sizeof res->error_message, "%s",
		         errbuf[0] ? errbuf : curl_easy_strerror(code));
		return;
	}
	if (body->len)
		j = json_loadb(body->data, body->len, 0, NULL);
	if (res->outcome == TWILIO_OK) {
		copy_str(j, "sid", res->sid, sizeof res->sid);
		copy_str(j, "status", res->status, sizeof res->status);
		res->num_segments = json_int_any(json_object_get(j, "num_segments"));
		if (json_is_string(json_object_get(j, "duration")) || json_is_integer(json_object_get(j, "duration")))
			res->duration_s = json_int_any(json_object_get(j, "duration"));
		copy_str(j, "answered_by", res->answered_by, sizeof res->answered_by);
		if (!res->sid[0]) {
			/* Accepted, but without a resource we can name: find it before resending. */
			res->outcome = TWILIO_UNKNOWN;
			snprintf(res->error_message, sizeof res->error_message, "HTTP %ld without a sid", http);
		}
	} else {
		res->error_code = json_int_any(json_object_get(j, "code"));
		copy_str(j, "message", res->error_message, sizeof res->error_message);
		if (!res->error_message[0])
			snprintf(res->error_message, sizeof res->error_message, "HTTP %ld", http);
	}
	json_decref(j);
}

/* ---- creates (multi) ---- */

enum rc twilio_submit(struct twilio *t, const struct twilio_send *m, void *user)
{
	struct xfer *x = NULL;
	enum rc rc;
	size_t i;

	for (i = 0; i < TWILIO_MAX_PARALLEL && !x; i++)
		if (!t->x[i].busy)
			x = &t->x[i];
	if (!x)
		return RC_BUSY;
	free(x->form);
	x->form = NULL;
	rc = twilio_form(t, m, &x->form);
	if (rc != RC_OK)
		return rc;
	x->form_len = strlen(x->form);
	x->form_pos = 0;
	x->body_read = false;
	x->user = user;
	x->finished = false;
	x->code = CURLE_OK;
	x->retry_after_s = -1;
	x->errbuf[0] = '\0';
	x->resp.len = 0; /* the buffer is kept for the next answer */
	if (x->resp.data)
		x->resp.data[0] = '\0';

	/* the rest was set once (create_options) */
	curl_easy_setopt(x->easy, CURLOPT_URL, m->call ? t->calls_url : t->messages_url);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->form_len);
	if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK) {
		log_err("twilio: could not start a request");
		return RC_INTERNAL;
	}
	x->busy = true;
	t->in_flight++;
	return RC_OK;
}

size_t twilio_in_flight(const struct twilio *t)
{
	return t->in_flight;
}

enum rc twilio_run(struct twilio *t, int wait_ms)
{
	int running = 0, left = 0;
	CURLMsg *msg;
	CURLMcode mc;

	mc = curl_multi_perform(t->multi, &running);
	if (mc == CURLM_OK && running && wait_ms > 0) {
		mc = curl_multi_poll(t->multi, NULL, 0, wait_ms, NULL);
		if (mc == CURLM_OK)
			mc = curl_multi_perform(t->multi, &running);
	}
	while ((msg = curl_multi_info_read(t->multi, &left))) {
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		x->code = msg->data.result;
		x->finished = true;
		curl_multi_remove_handle(t->multi, x->easy);
	}
	if (mc != CURLM_OK) {
		log_err("twilio: %s", curl_multi_strerror(mc));
		return RC_INTERNAL;
	}
	return RC_OK;
}

bool twilio_done(struct twilio *t, struct twilio_result *res, void **user)
{
	size_t i;

	for (i = 0; i < TWILIO_MAX_PARALLEL; i++) {
		struct xfer *x = &t->x[i];
		long http = 0;

		if (!x->busy || !x->finished)
			continue;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &http);
		fill_result(res, http, x->code, x->body_read, &x->resp, x->errbuf);
		if (x->code == CURLE_OK)
			res->retry_after_s = x->retry_after_s;
		*user = x->user;
		x->busy = false;
		x->finished = false;
		t->in_flight--;
		return true;
	}
	return false;
}

/* ---- look-ups (synchronous) ---- */

/* GET url on the look-up handle; res gets the outcome, body the answer. RC_UPSTREAM on network failure. */
static enum rc get(struct twilio *t, const char *url, struct buf *body, struct twilio_result *res)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	int retry_after_s = -1;
	CURLcode code;
	long http = 0;

	curl_easy_reset(t->sync);
	common_options(t, t->sync, body, &retry_after_s, errbuf);
	curl_easy_setopt(t->sync, CURLOPT_URL, url);
	curl_easy_setopt(t->sync, CURLOPT_HTTPGET, 1L);
	code = curl_easy_perform(t->sync);
	curl_easy_getinfo(t->sync, CURLINFO_RESPONSE_CODE, &http);
	fill_result(res, http, code, false, body, errbuf);
	if (code != CURLE_OK) {
		log_warn("twilio: GET %s: %s", url, res->error_message);
		return RC_UPSTREAM;
	}
	return RC_OK;
}

enum rc twilio_fetch(struct twilio *t, bool call, const char *sid, struct twilio_result *res)
{
	struct buf body;
	char *esc = curl_easy_escape(NULL, sid, 0);
	char *base = NULL, *url = NULL;
	enum rc rc = RC_INTERNAL;

	buf_init(&body, TWILIO_MAX_RESPONSE);
	memset(res, 0, sizeof *res);
	if (!esc)
		goto out;
	/* ".../Messages.json" -> ".../Messages/<sid>.json" */
	base = strdup(call ? t->calls_url : t->messages_url);
	if (!base)
		goto out;
	base[strlen(base) - 5] = '\0';
	url = join(base, "/", esc, ".json");
	if (!url)
		goto out;
	rc = get(t, url, &body, res);
out:
	curl_free(esc);
	free(base);
	free(url);
	buf_release(&body);
	return rc;
}

/* POST Calls/{sid}.json with form (a call update), synchronously on the look-up handle. */
static enum rc update_call(struct twilio *t, const char *sid, const char *form, struct twilio_result *res)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	int retry_after_s = -1;
	struct buf body;
	char *esc = curl_easy_escape(NULL, sid, 0);
	char *base = NULL, *url = NULL;
	CURLcode code;
	long http = 0;
	enum rc rc = RC_INTERNAL;

	buf_init(&body, TWILIO_MAX_RESPONSE);
	memset(res, 0, sizeof *res);
	if (!esc)
		goto out;
	base = strdup(t->calls_url);
	if (!base)
		goto out;
	base[strlen(base) - 5] = '\0'; /* ".../Calls.json" -> ".../Calls/<sid>.json" */
	url = join(base, "/", esc, ".json");
	if (!url)
		goto out;
	curl_easy_reset(t->sync);
	common_options(t, t->sync, &body, &retry_after_s, errbuf);
	curl_easy_setopt(t->sync, CURLOPT_URL, url);
	curl_easy_setopt(t->sync, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(t->sync, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	code = curl_easy_perform(t->sync);
	curl_easy_getinfo(t->sync, CURLINFO_RESPONSE_CODE, &http);
	/* Ending a call twice does no harm: a request that may have reached Twilio counts as sent. */
	fill_result(res, http, code, true, &body, errbuf);
	if (code == CURLE_OK)
		res->retry_after_s = retry_after_s;
	rc = RC_OK;
	if (code != CURLE_OK) {
		log_warn("twilio: POST %s: %s", url, res->error_message);
		rc = RC_UPSTREAM;
	}
out:
	curl_free(esc);
	free(base);
	free(url);
	buf_release(&body);
	return rc;
}

enum rc twilio_end_call(struct twilio *t, const char *sid, struct twilio_result *res)
{
	return update_call(t, sid, "Status=completed", res);
}

enum rc twilio_redirect_call(struct twilio *t, const char *sid, const char *twiml_url, struct twilio_result *res)
{
	struct buf form;
	enum rc rc;

	buf_init(&form, 8192);
	rc = add_param(&form, "Url", twiml_url);
	if (rc == RC_OK)
		rc = add_param(&form, "Method", "POST");
	if (rc == RC_OK)
		rc = update_call(t, sid, form.data, res);
	else
		memset(res, 0, sizeof *res);
	buf_release(&form);
	return rc;
}

enum rc twilio_list(struct twilio *t, bool call, const char *to, const char *from, int max_pages,
                    bool (*fn)(void *ctx, const struct twilio_item *it), void *ctx)
{
	struct buf q, body;
	char *url = NULL;
	enum rc rc;
	int page;
	bool more = true;

	buf_init(&q, 4096);
	rc = add_param(&q, "To", to);
	if (rc == RC_OK)
		rc = add_param(&q, "From", from);
	if (rc == RC_OK)
		rc = add_param(&q, "PageSize", LIST_PAGE_SIZE);
	if (rc == RC_OK) {
		url = join(call ? t->calls_url : t->messages_url, "?", q.data, "");
		if (!url)
			rc = RC_INTERNAL;
	}
	buf_release(&q);
	for (page = 0; rc == RC_OK && more && url && page < max_pages; page++) {
		struct twilio_result res;
		json_t *j, *items, *it;
		const char *next;
		size_t i;

		buf_init(&body, TWILIO_MAX_RESPONSE);
		rc = get(t, url, &body, &res);
		free(url);
		url = NULL;
		if (rc == RC_OK && (res.http_status < 200 || res.http_status >= 300)) {
			log_warn("twilio: list %s: HTTP %ld %d %s", call ? "calls" : "messages", res.http_status,
			         res.error_code, res.error_message);
			rc = RC_UPSTREAM;
		}
		j = rc == RC_OK ? json_loadb(body.data ? body.data : "", body.len, 0, NULL) : NULL;
		buf_release(&body);
		if (rc != RC_OK)
			break;
		items = json_object_get(j, call ? "calls" : "messages");
		if (!json_is_array(items)) {
			log_warn("twilio: list %s: unexpected answer", call ? "calls" : "messages");
			json_decref(j);
			rc = RC_UPSTREAM;
			break;
		}
		json_array_foreach(items, i, it)
		{
			struct twilio_item item;
			const char *created = json_string_value(json_object_get(it, "date_created"));

			item.sid = json_string_value(json_object_get(it, "sid"));
			item.status = json_string_value(json_object_get(it, "status"));
			item.to = json_string_value(json_object_get(it, "to"));
			item.from = json_string_value(json_object_get(it, "from"));
			item.body = json_string_value(json_object_get(it, "body"));
			if (!item.sid || !item.status)
				continue;
			if (!item.to)
				item.to = "";
			if (!item.from)
				item.from = "";
			if (!item.body)
				item.body = "";
			if (!created || !twilio_parse_date(created, &item.created_at))
				item.created_at = 0;
			if (!fn(ctx, &item)) {
				more = false;
				break;
			}
		}
		next = json_string_value(json_object_get(j, "next_page_uri"));
		if (more && next && next[0] == '/') {
			url = join(t->api_base, next, "", "");
			if (!url)
				rc = RC_INTERNAL;
		}
		json_decref(j);
	}
	free(url);
	return rc;
}

bool twilio_parse_date(const char *s, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], zone[8];
	int day, year, h, mi, sec, consumed = 0;
	const char *p;
	struct tm tm;
	long off = 0;

	if (sscanf(s, "%*3s, %d %3s %d %d:%d:%d %7s%n", &day, mon, &year, &h, &mi, &sec, zone, &consumed) != 7 ||
	    s[consumed] != '\0')
		return false;
	p = strstr(months, mon);
	if (!p || strlen(mon) != 3 || (p - months) % 3 != 0)
		return false;
	if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5) {
		char *end;
		long v = strtol(zone + 1, &end, 10);

		if (*end)
			return false;
		off = (v / 100) * 3600 + (v % 100) * 60;
		if (zone[0] == '-')
			off = -off;
	} else if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0)
		return false;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = day;
	tm.tm_mon = (int)((p - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60 || year < 1970)
		return false;
	*out = (int64_t)timegm(&tm) - off;
	return true;
}
