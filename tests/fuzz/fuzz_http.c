/*
 * tests/fuzz/fuzz_http.c — the whole request path, in process: a real plantao HTTP server
 * (routes, core, handlers, SQLite) on a loopback port, fed bodies over libcurl. The first
 * input byte picks the route; Twilio webhooks are correctly signed so the handlers behind the
 * signature check are reached. Covers the JSON API bodies, Alertmanager and Grafana payloads,
 * text/plain alerts, SMS commands and voice webhooks.
 * Any 5xx other than 503 (busy) aborts: outside input must get a 4xx, never an internal error.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/demo.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "http/form.h"
#include "http/http.h"
#include "http/routes.h"
#include "twilio/sig.h"
#include "tests/fuzz/fuzz_common.h"
#include "rotation/tz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUBLIC FUZZ_PUBLIC
#define AUTH   FUZZ_AUTH
#define TOKEN  FUZZ_TOKEN

static struct cfg cfg;
static struct app app;
static struct http_server *srv;
static CURL *curl;
static int port;

static const struct {
	const char *method, *path, *type;
	int kind; /* 0 raw body, 1 Twilio form (signed), 2 SMS Body= from a known person (signed) */
} targets[] = {
        {"POST", "/api/alerts", "application/json", 0},
        {"POST", "/api/alerts", "text/plain", 0},
        {"POST", "/api/alerts", "application/x-www-form-urlencoded", 0},
        {"POST", "/api/alerts/alertmanager", "application/json", 0},
        {"POST", "/api/alerts/grafana", "application/json", 0},
        {"POST", "/twilio/sms", "application/x-www-form-urlencoded", 2},
        {"POST", "/twilio/sms", "application/x-www-form-urlencoded", 1},
        {"POST", "/twilio/voice", "application/x-www-form-urlencoded", 1},
        {"POST", "/twilio/voice/dial-status", "application/x-www-form-urlencoded", 1},
        {"POST", "/twilio/status/call", "application/x-www-form-urlencoded", 1},
        {"POST", "/twilio/status/message", "application/x-www-form-urlencoded", 1},
        {"POST", "/api/people", "application/json", 0},
        {"PUT", "/api/rotation", "application/json", 0},
        {"PUT", "/api/escalation", "application/json", 0},
        {"POST", "/api/overrides", "application/json", 0},
        {"PUT", "/api/sales/settings", "application/json", 0},
        {"POST", "/api/sales?period=2026-01", "text/csv", 0},
        {"POST", "/api/sales", "multipart/form-data; boundary=fuzz", 0},
        {"POST", "/api/tokens", "application/json", 0},
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
	char dir[] = "/tmp/plantao-fuzz-XXXXXX";
	struct db *db;

	(void)argc;
	(void)argv;
	fuzz_server_world(dir, &cfg, &db);
	db_close(db);
	if (app_init(&app, &cfg) != RC_OK || http_start(&app, routes, routes_count, &srv) != RC_OK)
		abort();
	port = http_port(srv);
	curl = curl_easy_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct curl_slist *h = NULL;
	struct buf body, url;
	struct form f;
	char hdr[128], sig[SIG_SIZE];
	long status = 0;
	size_t t;

	if (size < 1)
		return 0;
	t = data[0] % N_TARGETS;
	data++;
	size--;
	buf_init(&body, 1 << 20);
	buf_init(&url, 4096);
	if (targets[t].kind == 2) {
		/* length 0 would make curl_easy_escape use strlen() */
		char *esc = size ? curl_easy_escape(NULL, (const char *)data, (int)size) : NULL;

		buf_printf(&body, "MessageSid=SMfuzz&From=%%2B5511990000001&To=%%2B15005550006&Body=%s",
		           esc ? esc : "");
		curl_free(esc);
	} else {
		buf_append(&body, data, size);
	}
	snprintf(hdr, sizeof hdr, "Content-Type: %s", targets[t].type);
	h = curl_slist_append(h, hdr);
	h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
	h = curl_slist_append(h, "Expect:");
	if (targets[t].kind) {
		form_init(&f);
		buf_printf(&url, "%s%s", PUBLIC, targets[t].path);
		if (form_parse(&f, body.data ? body.data : "", body.len) == RC_OK &&
		    sig_compute(AUTH, url.data, &f, sig) == RC_OK) {
			snprintf(hdr, sizeof hdr, "X-Twilio-Signature: %s", sig);
			h = curl_slist_append(h, hdr);
		}
		form_release(&f);
	}
	buf_release(&url);
	buf_init(&url, 4096);
	buf_printf(&url, "http://127.0.0.1:%d%s", port, targets[t].path);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, targets[t].method);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data ? body.data : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(curl) != CURLE_OK)
		abort(); /* the server dropped the connection */
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 500 && status != 503) {
		fprintf(stderr, "%s %s answered %ld\n", targets[t].method, targets[t].path, status);
		abort();
	}
	curl_slist_free_all(h);
	buf_release(&body);
	buf_release(&url);
	return 0;
}
