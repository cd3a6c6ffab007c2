/*
 * server/twilio/setup.c — `plantao twilio check|setup|fallback` (see setup.h for the contract).
 *
 * Every answer is read with jansson; every parameter is escaped by libcurl. Requests are few and
 * synchronous, with the REST client's timeouts and response cap (twilio.h), HTTP Basic with the
 * account SID and auth token, TLS verified. Nothing here writes the database but `fallback`,
 * which stores the TwiML it writes (server/twilio/fallback.c).
 */
#include "twilio/setup.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/version.h"
#include "twilio/fallback.h"
#include "twilio/twilio.h"

#define API_PATH "/2010-04-01/Accounts/"
#define URL_MAX  2048

struct rest {
	const struct cfg *c;
	CURL *e;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

/* What one request gave: HTTP status (0: none), the JSON body (NULL when none), the error. */
struct answer {
	long http;
	json_t *json;
	char error[384]; /* Twilio's code and message, or libcurl's error, "" on a 2xx */
};

struct report {
	int fails, warns;
};

/* The webhooks plantao wants on the number, all built from PLANTAO_PUBLIC_URL (and PLANTAO_FALLBACK_URL). */
struct hooks {
	char voice[URL_MAX], sms[URL_MAX], status[URL_MAX], fallback[URL_MAX];
	bool fallback_local; /* the fallback is plantao's own /twilio/fallback.xml: down with the VM */
};

static void say(struct report *r, const char *word, const char *what, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void say(struct report *r, const char *word, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (!strcmp(word, "FAIL"))
		r->fails++;
	else if (!strcmp(word, "WARN"))
		r->warns++;
	printf("%-4s %s: ", word, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
	return buf_append(ud, data, size * n) == RC_OK ? size * n : 0; /* 0 aborts: the cap was hit */
}

static enum rc rest_init(struct rest *r, const struct cfg *c)
{
	memset(r, 0, sizeof *r);
	r->c = c;
	r->e = curl_easy_init();
	r->headers = curl_slist_append(NULL, "Accept: application/json");
	return r->e && r->headers ? RC_OK : RC_INTERNAL;
}

static void rest_release(struct rest *r)
{
	curl_easy_cleanup(r->e);
	curl_slist_free_all(r->headers);
}

/*
 * GET (form NULL) or POST (form-encoded) api_base + /2010-04-01/Accounts/{sid} + rest.
 * RC_OK when an answer was read (any status; a->json its body when it is JSON), RC_UPSTREAM
 * when Twilio could not be reached (a->error says why).
 */
static enum rc rest_do(struct rest *r, const char *rest, const char *form, struct answer *a)
{
	char *esc = curl_easy_escape(NULL, r->c->twilio_sid, 0);
	char url[URL_MAX];
	struct buf body;
	CURLcode code;
	enum rc rc = RC_INTERNAL;

	memset(a, 0, sizeof *a);
	buf_init(&body, TWILIO_MAX_RESPONSE);
	if (!esc)
		goto out;
	if ((size_t)snprintf(url, sizeof url, "%s%s%s%s", r->c->twilio_api_base, API_PATH, esc, rest) >= sizeof url) {
		snprintf(a->error, sizeof a->error, "URL too long");
		goto out;
	}
	curl_easy_reset(r->e);
	r->errbuf[0] = '\0';
	curl_easy_setopt(r->e, CURLOPT_URL, url);
	curl_easy_setopt(r->e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(r->e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(r->e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(r->e, CURLOPT_CONNECTTIMEOUT_MS, (long)TWILIO_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(r->e, CURLOPT_TIMEOUT_MS, (long)TWILIO_TIMEOUT_MS);
	curl_easy_setopt(r->e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(r->e, CURLOPT_USERNAME, r->c->twilio_sid);
	curl_easy_setopt(r->e, CURLOPT_PASSWORD, r->c->twilio_token);
	curl_easy_setopt(r->e, CURLOPT_USERAGENT, "plantao/" PLANTAO_VERSION);
	curl_easy_setopt(r->e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->e, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(r->e, CURLOPT_ERRORBUFFER, r->errbuf);
	if (form) {
		curl_easy_setopt(r->e, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(r->e, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	}
	code = curl_easy_perform(r->e);
	if (code != CURLE_OK) {
		snprintf(a->error, sizeof a->error, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
		rc = RC_UPSTREAM;
		goto out;
	}
	curl_easy_getinfo(r->e, CURLINFO_RESPONSE_CODE, &a->http);
	if (body.len)
		a->json = json_loadb(body.data, body.len, 0, NULL);
	if (a->http < 200 || a->http > 299) {
		json_t *jc = json_object_get(a->json, "code"), *jm = json_object_get(a->json, "message");

		if (json_is_integer(jc))
			snprintf(a->error, sizeof a->error, "error %lld: %s (HTTP %ld)",
			         (long long)json_integer_value(jc),
			         json_is_string(jm) ? json_string_value(jm) : "no message", a->http);
		else
			snprintf(a->error, sizeof a->error, "HTTP %ld without Twilio's error body", a->http);
	}
	rc = RC_OK;
out:
	curl_free(esc);
	buf_release(&body);
	return rc;
}

static int twilio_code(const struct answer *a)
{
	json_t *jc = json_object_get(a->json, "code");

	return json_is_integer(jc) ? (int)json_integer_value(jc) : 0;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

static bool is_loopback(const char *url)
{
	return strstr(url, "://127.") || strstr(url, "://localhost") || strstr(url, "://[::1]");
}

static void hooks_init(struct hooks *h, const struct cfg *c)
{
	snprintf(h->voice, sizeof h->voice, "%s/twilio/voice", c->public_url);
	snprintf(h->sms, sizeof h->sms, "%s/twilio/sms", c->public_url);
	snprintf(h->status, sizeof h->status, "%s/twilio/status/call", c->public_url);
	h->fallback_local = !c->fallback_url;
	if (c->fallback_url)
		snprintf(h->fallback, sizeof h->fallback, "%s", c->fallback_url);
	else
		snprintf(h->fallback, sizeof h->fallback, "%s" FALLBACK_PATH, c->public_url);
}

/* The credentials: GET Accounts/{sid}.json. False when nothing further can be asked. */
static bool check_account(struct rest *r, struct report *rep)
{
	const struct cfg *c = r->c;
	struct answer a;
	bool ok = false;

	if (!c->twilio_sid || !c->twilio_token) {
		say(rep, "FAIL", "credentials",
		    "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must both be set: copy them from the Twilio console "
		    "(Account info) into the environment or .env");
		return false;
	}
	if (rest_do(r, ".json", NULL, &a) != RC_OK) {
		say(rep, "FAIL", "credentials",
		    "Twilio could not be reached at %s (%s): check the network, DNS and "
		    "TWILIO_API_BASE",
		    c->twilio_api_base, a.error[0] ? a.error : "out of memory");
		return false;
	}
	if (a.http == 401 || twilio_code(&a) == 20003)
		say(rep, "FAIL", "credentials",
		    "Twilio refused TWILIO_ACCOUNT_SID %s with this TWILIO_AUTH_TOKEN (%s): copy both again from the "
		    "Twilio console (Account info); a token that was rotated there stops working here",
		    c->twilio_sid, a.error);
	else if (a.http == 404 || twilio_code(&a) == 20404)
		say(rep, "FAIL", "credentials", "account %s does not exist at Twilio (%s): check TWILIO_ACCOUNT_SID",
		    c->twilio_sid, a.error);
	else if (a.error[0])
		say(rep, "FAIL", "credentials", "Twilio answered the account look-up with %s", a.error);
	else if (strcmp(str(a.json, "status"), "active") != 0)
		say(rep, "FAIL", "credentials",
		    "account %s is %s, not active: nothing can be sent; reactivate it in the Twilio console",
		    c->twilio_sid, str(a.json, "status")[0] ? str(a.json, "status") : "in an unknown state");
	else {
		ok = true;
		say(rep, "OK", "credentials", "account %s (%s) is active", c->twilio_sid, str(a.json, "friendly_name"));
		if (!strcmp(str(a.json, "type"), "Trial"))
			say(rep, "WARN", "account type",
			    "a trial account calls and texts only verified numbers and adds a trial notice to each; "
			    "upgrade it in the Twilio console before people rely on it");
	}
	json_decref(a.json);
	return ok;
}

static void check_public_url(const struct cfg *c, struct report *rep)
{
	bool real_twilio = strstr(c->twilio_api_base, "api.twilio.com") != NULL;

	if (is_loopback(c->public_url))
		say(rep, real_twilio ? "FAIL" : "WARN", "PLANTAO_PUBLIC_URL",
		    "%s is a loopback address: Twilio cannot reach it; set the public https:// address Twilio "
		    "should call",
		    c->public_url);
	else if (strncmp(c->public_url, "https://", 8) != 0)
		say(rep, "WARN", "PLANTAO_PUBLIC_URL",
		    "%s is not https: webhooks (callers' numbers, voicemails) cross the network in clear text; "
		    "put plantao behind a TLS reverse proxy (docs/DEPLOY.md)",
		    c->public_url);
	else
		say(rep, "OK", "PLANTAO_PUBLIC_URL", "%s", c->public_url);
}

/*
 * The account's number e164 (GET IncomingPhoneNumbers.json?PhoneNumber=…): *out a new
 * reference to its JSON (json_decref), NULL with a FAIL line when it is not there.
 */
static void find_number(struct rest *r, struct report *rep, const char *what, const char *e164, json_t **out)
{
	char *esc = curl_easy_escape(NULL, e164, 0);
	char rest[256];
	struct answer a;
	json_t *list, *n;
	size_t i;

	*out = NULL;
	if (!esc) {
		say(rep, "FAIL", what, "out of memory");
		return;
	}
	snprintf(rest, sizeof rest, "/IncomingPhoneNumbers.json?PhoneNumber=%s&PageSize=50", esc);
	curl_free(esc);
	if (rest_do(r, rest, NULL, &a) != RC_OK || a.error[0]) {
		say(rep, "FAIL", what, "the account's numbers could not be listed (%s)", a.error);
		json_decref(a.json);
		return;
	}
	list = json_object_get(a.json, "incoming_phone_numbers");
	json_array_foreach(list, i, n)
	{
		if (!strcmp(str(n, "phone_number"), e164)) {
			*out = json_incref(n);
			break;
		}
	}
	if (!*out)
		say(rep, "FAIL", what,
		    "%s is not a number of account %s: buy it or move it to this account in the Twilio console "
		    "(Phone Numbers), or correct %s",
		    e164, r->c->twilio_sid, what);
	json_decref(a.json);
}

static void check_capability(struct report *rep, json_t *num, const char *cap, const char *needed_for)
{
	json_t *v = json_object_get(json_object_get(num, "capabilities"), cap);
	char what[64];

	snprintf(what, sizeof what, "%s capability", cap);
	if (json_is_true(v))
		say(rep, "OK", what, "%s can %s", str(num, "phone_number"), needed_for);
	else
		say(rep, "FAIL", what,
		    "%s cannot %s (capabilities.%s is %s): use a number with %s capability for TWILIO_FROM",
		    str(num, "phone_number"), needed_for, cap, json_is_false(v) ? "false" : "missing", cap);
}

/* One webhook of the number: its URL field and method field against what plantao wants (from `source`). */
static void check_hook(struct report *rep, json_t *num, const char *what, const char *url_field,
                       const char *method_field, const char *want, const char *want_method, const char *source)
{
	const char *have = str(num, url_field), *method = str(num, method_field);

	if (!method[0])
		method = "POST"; /* Twilio's default */
	if (!have[0])
		say(rep, "FAIL", what, "%s is not set; it should be %s %s (from %s): run `plantao twilio setup`",
		    url_field, want_method, want, source);
	else if (strcmp(have, want) != 0)
		say(rep, "FAIL", what, "%s points at %s, not at %s (from %s): run `plantao twilio setup`", url_field,
		    have, want, source);
	else if (strcasecmp(method, want_method) != 0)
		say(rep, "FAIL", what, "%s %s is requested with %s, not %s: run `plantao twilio setup`", url_field,
		    have, method, want_method);
	else
		say(rep, "OK", what, "%s %s", want_method, have);
}

static void check_hooks(struct report *rep, const struct cfg *c, json_t *num)
{
	struct hooks h;

	hooks_init(&h, c);
	check_hook(rep, num, "voice webhook", "voice_url", "voice_method", h.voice, "POST", "PLANTAO_PUBLIC_URL");
	check_hook(rep, num, "SMS webhook", "sms_url", "sms_method", h.sms, "POST", "PLANTAO_PUBLIC_URL");
	check_hook(rep, num, "status callback", "status_callback", "status_callback_method", h.status, "POST",
	           "PLANTAO_PUBLIC_URL");
	check_hook(rep, num, "voice fallback", "voice_fallback_url", "voice_fallback_method", h.fallback, "GET",
	           h.fallback_local ? "PLANTAO_PUBLIC_URL" : "PLANTAO_FALLBACK_URL");
	if (h.fallback_local)
		say(rep, "WARN", "voice fallback",
		    "%s is served by plantao itself, so it does not answer while this machine is down: publish "
		    "`plantao twilio fallback --file` on a static host elsewhere and set PLANTAO_FALLBACK_URL to it",
		    h.fallback);
}

/* Every check; *num (when not NULL) gets the sender's JSON for setup. */
static void run_checks(struct rest *r, struct report *rep, json_t **num_out)
{
	const struct cfg *c = r->c;
	json_t *num = NULL;

	if (num_out)
		*num_out = NULL;
	if (!check_account(r, rep))
		return;
	check_public_url(c, rep);
	if (!c->twilio_from) {
		say(rep, "FAIL", "TWILIO_FROM", "not set: the team's Twilio number (E.164, e.g. +5511999990000)");
		return;
	}
	find_number(r, rep, "TWILIO_FROM", c->twilio_from, &num);
	if (!num)
		return;
	say(rep, "OK", "TWILIO_FROM", "%s is number %s of the account", c->twilio_from, str(num, "sid"));
	check_capability(rep, num, "voice", "make and receive calls");
	check_capability(rep, num, "sms", "send and receive SMS");
	check_hooks(rep, c, num);
	if (num_out)
		*num_out = num;
	else
		json_decref(num);
}

static enum rc add_param(struct buf *b, const char *name, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	enum rc rc = esc ? buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, esc) : RC_INTERNAL;

	curl_free(esc);
	return rc;
}

/* POST IncomingPhoneNumbers/{sid}.json with the webhooks; fields are those of UpdateIncomingPhoneNumber. */
static bool apply_hooks(struct rest *r, struct report *rep, json_t *num, const struct hooks *h, bool voice_hooks)
{
	char *esc = curl_easy_escape(NULL, str(num, "sid"), 0);
	char rest[256];
	struct answer a;
	struct buf form;
	bool ok = false;

	buf_init(&form, 16 * 1024);
	if (!esc)
		goto out;
	snprintf(rest, sizeof rest, "/IncomingPhoneNumbers/%s.json", esc);
	if ((voice_hooks &&
	     (add_param(&form, "VoiceUrl", h->voice) || add_param(&form, "VoiceMethod", "POST") ||
	      add_param(&form, "SmsUrl", h->sms) || add_param(&form, "SmsMethod", "POST") ||
	      add_param(&form, "StatusCallback", h->status) || add_param(&form, "StatusCallbackMethod", "POST"))) ||
	    add_param(&form, "VoiceFallbackUrl", h->fallback) || add_param(&form, "VoiceFallbackMethod", "GET"))
		goto out;
	if (rest_do(r, rest, form.data, &a) != RC_OK || a.error[0])
		say(rep, "FAIL", "setup", "Twilio did not update %s (%s)", str(num, "phone_number"), a.error);
	else {
		ok = true;
		if (voice_hooks)
			printf("set  %s: voice URL POST %s, SMS URL POST %s, status callback POST %s, voice fallback "
			       "URL GET %s\n",
			       str(num, "phone_number"), h->voice, h->sms, h->status, h->fallback);
		else
			printf("set  %s: voice fallback URL GET %s\n", str(num, "phone_number"), h->fallback);
	}
	json_decref(a.json);
out:
	curl_free(esc);
	buf_release(&form);
	return ok;
}

static int finish(const struct report *rep)
{
	printf("%s: %d failed, %d warning%s\n", rep->fails ? "FAILED" : "ready", rep->fails, rep->warns,
	       rep->warns == 1 ? "" : "s");
	return rep->fails ? 1 : 0;
}

static int cmd_check(struct rest *r)
{
	struct report rep = {0, 0};

	run_checks(r, &rep, NULL);
	return finish(&rep);
}

static int cmd_setup(struct rest *r, bool fallback_only)
{
	struct report rep = {0, 0}, pre = {0, 0};
	struct hooks h;
	json_t *num = NULL;
	int rc = 1;

	hooks_init(&h, r->c);
	if (fallback_only && h.fallback_local) {
		fprintf(stderr,
		        "plantao twilio fallback --upload: Twilio has no public API to create a TwiML Bin, so "
		        "plantao cannot upload the fallback; publish `plantao twilio fallback --file PATH` on a "
		        "static host (HTTPS, answering GET) and set PLANTAO_FALLBACK_URL to its address, then run "
		        "this again to point the number's voice fallback URL at it\n");
		return 2;
	}
	/* Nothing is changed unless the credentials work and the number is the account's. */
	if (!check_account(r, &pre) || !r->c->twilio_from) {
		if (!r->c->twilio_from)
			say(&pre, "FAIL", "TWILIO_FROM", "not set: the team's Twilio number (E.164)");
		return finish(&pre);
	}
	/* nor pointed at an address Twilio cannot reach (the support line would go quiet) */
	if (!fallback_only) {
		check_public_url(r->c, &pre);
		if (pre.fails)
			return finish(&pre);
	}
	find_number(r, &pre, "TWILIO_FROM", r->c->twilio_from, &num);
	if (!num)
		return finish(&pre);
	if (apply_hooks(r, &rep, num, &h, !fallback_only)) {
		putchar('\n');
		run_checks(r, &rep, NULL);
		rc = finish(&rep);
	}
	json_decref(num);
	return rc;
}

static int usage(void)
{
	fputs("usage: plantao twilio check\n"
	      "       plantao twilio setup\n"
	      "       plantao twilio fallback --file PATH | --upload\n",
	      stderr);
	return 2;
}

int setup_command(int argc, char **argv)
{
	const char *sub = argc > 2 ? argv[2] : "";
	struct rest r;
	struct cfg c;
	char err[512];
	int status;

	if (!strcmp(sub, "fallback") && argc == 5 && !strcmp(argv[3], "--file"))
		return fallback_command_file(argv[4]);
	if (!((!strcmp(sub, "check") || !strcmp(sub, "setup")) && argc == 3) &&
	    !(!strcmp(sub, "fallback") && argc == 4 && !strcmp(argv[3], "--upload")))
		return usage();
	if (cfg_load(&c, err, sizeof err) != RC_OK) {
		fprintf(stderr, "plantao twilio %s: configuration: %s\n", sub, err);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || rest_init(&r, &c) != RC_OK) {
		fprintf(stderr, "plantao twilio %s: libcurl could not be initialised\n", sub);
		cfg_release(&c);
		return 2;
	}
	if (!strcmp(sub, "check"))
		status = cmd_check(&r);
	else
		status = cmd_setup(&r, !strcmp(sub, "fallback"));
	rest_release(&r);
	curl_global_cleanup();
	cfg_release(&c);
	return status;
}
