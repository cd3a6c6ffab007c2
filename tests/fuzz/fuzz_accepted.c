/*
 * tests/fuzz/fuzz_accepted.c — the property "accepted input → valid TwiML and a valid Twilio
 * request". Whatever the API accepts (an alert as JSON or plain text, a person) must come out
 * of plantao as something Twilio takes: TwiML that parses (libxml2, strict, no recovery) with
 * a <Response> root and something to say, and REST form bodies whose values decode to valid
 * UTF-8 without NUL, with E.164 numbers, a message Body of at most TWILIO_BODY_MAX characters
 * and callback URLs under PLANTAO_PUBLIC_URL.
 *
 * In process: a real HTTP server (routes, handlers, SQLite) as in fuzz_http.c, plus the
 * escalation job run by hand so an accepted alert is paged at once (texts and a call queued in
 * the outbox). The first input byte picks what the rest is: the JSON body of POST /api/alerts,
 * a text/plain alert, or the JSON body of POST /api/people (that person is then put on call,
 * paged for a fixed alert and acknowledges it, so their name reaches the notices and the
 * spoken "already acknowledged by"). Every queued row goes through twilio_form() — the body
 * the sender would POST — and every call's alert-call webhook is fetched, signed, like Twilio
 * does. Rows are cancelled and alerts resolved afterwards, so state stays small.
 * A violation prints what was wrong and aborts.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "db/db.h"
#include "db/demo.h"
#include "db/outbox.h"
#include "http/form.h"
#include "http/http.h"
#include "http/routes.h"
#include "pager/escalation.h"
#include "rotation/tz.h"
#include "twilio/sig.h"
#include "twilio/twilio.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PUBLIC          FUZZ_PUBLIC
#define AUTH            FUZZ_AUTH
#define TOKEN           FUZZ_TOKEN
#define FROM            "+15005550006"
#define TWILIO_BODY_MAX 1600 /* characters of a message Body (Twilio's limit) */
#define MAX_ROWS        64

static struct cfg cfg;
static struct app app;
static struct http_server *srv;
static struct db *db;
static void *escalation;
static struct twilio *tw;
static CURL *curl;
static int port;

struct answer {
	long status;
	char type[128];
	struct buf body;
};

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "accepted input, invalid output: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	return buf_append(ctx, p, size * n) == RC_OK ? size * n : 0;
}

/* One request to the in-process server; Twilio webhooks (form) are signed. */
static void request(const char *method, const char *path, const char *type, const char *body, size_t len,
                    bool signed_form, struct answer *a)
{
	struct curl_slist *h = NULL;
	char hdr[160], sig[SIG_SIZE], url[512], *ctype = NULL;

	buf_init(&a->body, 4 << 20);
	a->status = 0;
	a->type[0] = '\0';
	snprintf(hdr, sizeof hdr, "Content-Type: %s", type);
	h = curl_slist_append(h, hdr);
	h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
	h = curl_slist_append(h, "Expect:");
	if (signed_form) {
		struct form f;

		form_init(&f);
		snprintf(url, sizeof url, "%s%s", PUBLIC, path);
		if (form_parse(&f, body, len) != RC_OK || sig_compute(AUTH, url, &f, sig) != RC_OK)
			abort();
		form_release(&f);
		snprintf(hdr, sizeof hdr, "X-Twilio-Signature: %s", sig);
		h = curl_slist_append(h, hdr);
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a->body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(curl) != CURLE_OK)
		abort(); /* the server dropped the connection */
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a->status);
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
	snprintf(a->type, sizeof a->type, "%s", ctype ? ctype : "");
	curl_slist_free_all(h);
	if (a->status >= 500 && a->status != 503) {
		fprintf(stderr, "%s %s answered %ld\n", method, path, a->status);
		abort();
	}
}

static bool is_utf8_text(const char *s, size_t len)
{
	return strlen(s) == len && xmlCheckUTF8((const xmlChar *)s);
}

/* The alert-call TwiML of attempt, fetched as Twilio does: 200, text/xml, a <Response> that
 * parses strictly and says something; for an open alert, inside the <Gather> that lets the
 * person press 1 (not an apology for an error). */
static void check_twiml(int64_t attempt, bool open)
{
	static const char form[] = "CallSid=CA00000000000000000000000000000000&CallStatus=in-progress"
	                           "&From=%2B15005550006&To=%2B5511990000001&Direction=outbound-api";
	struct answer a;
	char path[96];
	xmlDoc *doc;
	xmlNode *root;

	snprintf(path, sizeof path, "/twilio/alert-call/%lld", (long long)attempt);
	request("POST", path, "application/x-www-form-urlencoded", form, sizeof form - 1, true, &a);
	if (a.status != 200 || strncmp(a.type, "text/xml", 8) != 0)
		fail("the alert-call webhook did not answer TwiML", a.body.data);
	doc = xmlReadMemory(a.body.data, (int)a.body.len, NULL, "UTF-8", XML_PARSE_NONET);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || xmlStrcmp(root->name, (const xmlChar *)"Response") != 0)
		fail("TwiML that does not parse", a.body.data);
	if (!strstr(a.body.data, "<Say"))
		fail("TwiML that says nothing", a.body.data);
	if (open && !strstr(a.body.data, "<Gather"))
		fail("the call of an open alert offers no keypad", a.body.data);
	xmlFreeDoc(doc);
	buf_release(&a.body);
}

/* The form body the sender would POST for r: every value valid UTF-8, within Twilio's limits. */
static void check_request(const struct outbox_row *r)
{
	struct twilio_send m = {0};
	char *form = NULL, *p, *save = NULL;

	m.call = r->kind == OUTBOX_CALL;
	m.to = r->to;
	m.from = r->kind == OUTBOX_WHATSAPP ? "whatsapp:" FROM : FROM;
	m.body = r->body;
	m.url = r->url;
	m.machine_detection = r->machine_detection;
	m.timeout_s = r->ring_timeout_s;
	if (twilio_form(tw, &m, &form) != RC_OK)
		fail("twilio_form refused an accepted row", r->body ? r->body : r->url);
	for (p = strtok_r(form, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(p, '='), *v;
		int n = 0;

		if (!eq)
			fail("a form field without '='", p);
		*eq = '\0';
		v = curl_easy_unescape(NULL, eq + 1, 0, &n);
		if (!v || !is_utf8_text(v, (size_t)n))
			fail("a form value that is not UTF-8 text", p);
		if ((!strcmp(p, "To") || !strcmp(p, "From")) && !cfg_is_e164(strncmp(v, "whatsapp:", 9) ? v : v + 9))
			fail("a number that is not E.164", v);
		if (!strcmp(p, "Body") && (n == 0 || xmlUTF8Strlen((const xmlChar *)v) > TWILIO_BODY_MAX))
			fail("a message Body empty or over 1600 characters", v);
		if ((!strcmp(p, "Url") || !strcmp(p, "StatusCallback") || !strcmp(p, "AsyncAmdStatusCallback")) &&
		    strncmp(v, PUBLIC "/twilio/", sizeof PUBLIC + 7) != 0)
			fail("a callback URL outside PLANTAO_PUBLIC_URL", v);
		curl_free(v);
	}
	free(form);
}

/* Pages what is due now, checks every queued row and the TwiML of every call, cancels them. */
static void page_and_check(void)
{
	static const enum outbox_kind kinds[] = {OUTBOX_SMS, OUTBOX_WHATSAPP, OUTBOX_CALL};
	struct outbox_row rows[MAX_ROWS];
	size_t n, i, k;

	escalation_run(&app, db, escalation, clock_now_ms());
	db_settle(db, "fuzz escalation");
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (outbox_due(db, kinds[k], clock_now_ms() + 3600 * 1000, MAX_ROWS, rows, &n) != RC_OK)
			abort();
		for (i = 0; i < n; i++) {
			const char *a = rows[i].url ? strstr(rows[i].url, "/twilio/alert-call/") : NULL;

			check_request(&rows[i]);
			if (a)
				check_twiml(strtoll(a + 19, NULL, 10), true);
			if (db_begin(db) != RC_OK)
				abort();
			outbox_mark_canceled(db, rows[i].id, "checked by the fuzzer", clock_now_ms());
			if (db_commit(db) != RC_OK)
				abort();
		}
		outbox_rows_release(rows, n);
	}
}

/* The id of an accepted resource in a JSON answer, 0 when none. */
static int64_t answer_id(const struct answer *a)
{
	json_t *j = json_loadb(a->body.data ? a->body.data : "", a->body.len, 0, NULL);
	int64_t id = json_integer_value(json_object_get(j, "id"));

	json_decref(j);
	return id;
}

static void resolve(int64_t alert)
{
	struct answer a;
	char path[64];

	snprintf(path, sizeof path, "/api/alerts/%lld/resolve", (long long)alert);
	request("POST", path, "application/json", "{}", 2, false, &a);
	buf_release(&a.body);
	page_and_check(); /* the resolve notices */
}

static void alert_input(const char *type, const uint8_t *data, size_t size)
{
	struct answer a;
	int64_t id;

	request("POST", "/api/alerts", type, (const char *)data, size, false, &a);
	id = a.status == 202 ? answer_id(&a) : 0;
	buf_release(&a.body);
	if (!id)
		return;
	page_and_check();
	resolve(id);
}

static void person_input(const uint8_t *data, size_t size)
{
	struct answer a;
	char body[128], path[64];
	int64_t person, alert;
	int len;

	request("POST", "/api/people", "application/json", (const char *)data, size, false, &a);
	person = a.status == 201 ? answer_id(&a) : 0;
	buf_release(&a.body);
	if (!person)
		return;
	len = snprintf(body, sizeof body, "{\"members\":[%lld],\"shift_hours\":168}", (long long)person);
	request("PUT", "/api/rotation", "application/json", body, (size_t)len, false, &a);
	buf_release(&a.body);
	request("POST", "/api/alerts", "application/json", "{\"summary\":\"fuzz\",\"severity\":\"critical\"}", 40,
	        false, &a);
	alert = a.status == 202 ? answer_id(&a) : 0;
	buf_release(&a.body);
	if (alert) {
		struct outbox_row rows[MAX_ROWS];
		size_t n, i;

		escalation_run(&app, db, escalation, clock_now_ms());
		db_settle(db, "fuzz escalation");
		/* the person acknowledges; the call still queued then speaks "already acknowledged by <name>" */
		len = snprintf(body, sizeof body, "{\"person_id\":%lld}", (long long)person);
		snprintf(path, sizeof path, "/api/alerts/%lld/ack", (long long)alert);
		request("POST", path, "application/json", body, (size_t)len, false, &a);
		buf_release(&a.body);
		if (outbox_due(db, OUTBOX_CALL, clock_now_ms() + 3600 * 1000, MAX_ROWS, rows, &n) == RC_OK) {
			for (i = 0; i < n; i++)
				if (rows[i].url && strstr(rows[i].url, "/twilio/alert-call/"))
					check_twiml(strtoll(strstr(rows[i].url, "/twilio/alert-call/") + 19, NULL, 10),
					            false);
			outbox_rows_release(rows, n);
		}
		page_and_check();
		resolve(alert);
	}
	snprintf(path, sizeof path, "/api/people/%lld", (long long)person);
	request("DELETE", path, "application/json", "", 0, false, &a);
	buf_release(&a.body);
}

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
	char dir[] = "/tmp/plantao-fuzz-accepted-XXXXXX";

	(void)argc;
	(void)argv;
	fuzz_server_world(dir, &cfg, &db);
	if (app_init(&app, &cfg) != RC_OK || http_start(&app, routes, routes_count, &srv) != RC_OK ||
	    escalation_start(&app, db, &escalation) != RC_OK ||
	    twilio_new("http://127.0.0.1:9", "AC00000000000000000000000000000000", AUTH, PUBLIC, &tw) != RC_OK)
		abort();
	port = http_port(srv);
	curl = curl_easy_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: alert_input("application/json", data + 1, size - 1); break;
	case 1: alert_input("text/plain", data + 1, size - 1); break;
	default: person_input(data + 1, size - 1); break;
	}
	return 0;
}
