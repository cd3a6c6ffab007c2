/*
 * server/twilio/sig.c — computing and checking X-Twilio-Signature.
 * HMAC-SHA1 and SHA-256 are OpenSSL's (EVP_MAC, EVP_Digest), base64 is EVP_EncodeBlock and
 * comparisons are CRYPTO_memcmp. The port variants of the URL are built by splitting the
 * authority by hand rather than with curl_url(): a URL parser re-serialises (case,
 * escapes, an added '/'), and a signature is over the exact bytes Twilio requested.
 * Each thread keeps one HMAC context keyed with the auth token it last saw (re-initialised
 * with the same key per signature, which only restores HMAC's precomputed pads), so a
 * request costs two SHA-1 passes and no OpenSSL set-up; the parameters are sorted once and
 * both URL forms are fed to the MAC in pieces, without building strings.
 * Spec: https://www.twilio.com/docs/usage/security and the helper libraries' validators.
 */
#include "twilio/sig.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/log.h"

#define SHA1_LEN   20
#define SHA256_LEN 32
/* Parameters sorted on the stack up to this many; more (rare) are sorted in a heap array. */
#define SORT_STACK 64

/* The keyed context of one thread; freed by the thread-exit destructor of `mac_key`. */
struct mac_cache {
	EVP_MAC_CTX *ctx;
	unsigned char *key; /* copy of the auth token it is keyed with */
	size_t key_len;
};

static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static pthread_key_t mac_key;
static EVP_MAC *hmac_alg; /* fetched once, shared (EVP_MAC is reference-counted, thread-safe) */

static void mac_cache_free(void *p)
{
	struct mac_cache *c = p;

	if (!c)
		return;
	EVP_MAC_CTX_free(c->ctx);
	if (c->key)
		OPENSSL_clear_free(c->key, c->key_len);
	free(c);
}

static void mac_setup(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (pthread_key_create(&mac_key, mac_cache_free) != 0) {
		EVP_MAC_free(hmac_alg);
		hmac_alg = NULL;
	}
}

/* This thread's HMAC-SHA1 context, initialised with key and ready for updates; NULL on failure. */
static EVP_MAC_CTX *mac_start(const char *key)
{
	char digest_name[] = "SHA1";
	OSSL_PARAM settings[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
	        OSSL_PARAM_construct_end(),
	};
	size_t len = strlen(key);
	struct mac_cache *c;

	pthread_once(&mac_once, mac_setup);
	if (!hmac_alg)
		return NULL;
	c = pthread_getspecific(mac_key);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->ctx = EVP_MAC_CTX_new(hmac_alg);
		if (!c->ctx || pthread_setspecific(mac_key, c) != 0) {
			mac_cache_free(c);
			return NULL;
		}
	}
	if (c->key && c->key_len == len && CRYPTO_memcmp(c->key, key, len) == 0)
		return EVP_MAC_init(c->ctx, NULL, 0, NULL) ? c->ctx : NULL; /* same key: reset only */
	if (c->key)
		OPENSSL_clear_free(c->key, c->key_len);
	c->key = NULL;
	c->key_len = 0;
	if (!EVP_MAC_init(c->ctx, (const unsigned char *)key, len, settings))
		return NULL;
	c->key = OPENSSL_memdup(key, len ? len : 1);
	if (c->key)
		c->key_len = len;
	return c->ctx;
}

/* A URL as up to three pieces fed to the MAC one after the other (the port variants). */
struct url_form {
	const char *head;
	size_t head_len;
	const char *mid; /* "" or an added ":443"/":80" */
	const char *tail;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct form_pair *x = *(const struct form_pair *const *)a;
	const struct form_pair *y = *(const struct form_pair *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static bool same_pair(const struct form_pair *x, const struct form_pair *y)
{
	return strcmp(x->name, y->name) == 0 && strcmp(x->value, y->value) == 0;
}

/* Points sorted[0..n) at params' pairs in signing order: by name, then value. */
static void sort_params(const struct form *params, const struct form_pair **sorted)
{
	size_t i;

	for (i = 0; i < params->n; i++)
		sorted[i] = &params->pairs[i];
	qsort(sorted, params->n, sizeof(*sorted), cmp_pair);
}

/* Signature of url and the sorted pairs into out (base64), with this thread's context. */
static enum rc mac_compute(const char *auth_token, const struct url_form *url, const struct form_pair *const *sorted,
                           size_t n, char out[SIG_SIZE])
{
	unsigned char mac[SHA1_LEN];
	size_t mac_len = 0, i;
	EVP_MAC_CTX *ctx = mac_start(auth_token);

	if (!ctx || !EVP_MAC_update(ctx, (const unsigned char *)url->head, url->head_len) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)url->mid, strlen(url->mid)) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)url->tail, strlen(url->tail)))
		goto fail;
	for (i = 0; i < n; i++) {
		if (i > 0 && same_pair(sorted[i - 1], sorted[i]))
			continue;
		if (!EVP_MAC_update(ctx, (const unsigned char *)sorted[i]->name, strlen(sorted[i]->name)) ||
		    !EVP_MAC_update(ctx, (const unsigned char *)sorted[i]->value, strlen(sorted[i]->value)))
			goto fail;
	}
	if (!EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) || mac_len != SHA1_LEN)
		goto fail;
	EVP_EncodeBlock((unsigned char *)out, mac, SHA1_LEN);
	return RC_OK;
fail:
	log_err("sig_compute: OpenSSL HMAC-SHA1 failed");
	return RC_INTERNAL;
}

/* Runs f with params sorted (on the stack when few). */
static enum rc with_sorted(const struct form *params,
                           enum rc (*f)(const struct form_pair *const *sorted, size_t n, void *arg), void *arg)
{
	const struct form_pair *stack[SORT_STACK] = {0}, **sorted = stack;
	size_t n = params ? params->n : 0;
	enum rc rc;

	if (n > SORT_STACK) {
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return RC_INTERNAL;
	}
	if (n > 0)
		sort_params(params, sorted);
	rc = f(sorted, n, arg);
	if (sorted != stack)
		free(sorted);
	return rc;
}

struct compute_args {
	const char *auth_token;
	struct url_form url;
	char *out;
};

static enum rc compute_sorted(const struct form_pair *const *sorted, size_t n, void *arg)
{
	struct compute_args *a = arg;

	return mac_compute(a->auth_token, &a->url, sorted, n, a->out);
}

enum rc sig_compute(const char *auth_token, const char *url, const struct form *params, char out[SIG_SIZE])
{
	struct compute_args a;

	out[0] = '\0';
	if (!auth_token || !*auth_token || !url)
		return RC_INVALID;
	a.auth_token = auth_token;
	a.url.head = url;
	a.url.head_len = strlen(url);
	a.url.mid = "";
	a.url.tail = "";
	a.out = out;
	return with_sorted(params, compute_sorted, &a);
}

/*
 * The two URLs Twilio's helper libraries check: *with_port (the scheme's default port added
 * when url has no port, else url) and *without_port (url minus its port, if any), as pieces
 * of url. A url without "://" is used as is for both.
 */
static void port_variants(const char *url, struct url_form *with_port, struct url_form *without_port)
{
	const char *sep = strstr(url, "://");
	const char *auth, *auth_end, *host, *colon = NULL, *p;

	with_port->head = without_port->head = url;
	with_port->head_len = without_port->head_len = strlen(url);
	with_port->mid = without_port->mid = "";
	with_port->tail = without_port->tail = "";
	if (!sep)
		return;
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?#");
	host = auth;
	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			host = p + 1; /* skip user:password@ */
	if (*host == '[') {
		/* IPv6 literal: a port can only follow the closing bracket */
		p = memchr(host, ']', (size_t)(auth_end - host));
		if (p && p + 1 < auth_end && p[1] == ':')
			colon = p + 1;
	} else {
		colon = memchr(host, ':', (size_t)(auth_end - host));
	}
	if (colon) {
		without_port->head_len = (size_t)(colon - url);
		without_port->tail = auth_end;
	} else {
		with_port->head_len = (size_t)(auth_end - url);
		with_port->mid = (size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0 ? ":443" : ":80";
		with_port->tail = auth_end;
	}
}

static bool same_sig(const char *sig, const char *header)
{
	size_t n = strlen(sig);

	return strlen(header) == n && CRYPTO_memcmp(sig, header, n) == 0;
}

struct valid_args {
	const char *auth_token, *header;
	struct url_form with_port, without_port;
	bool ok;
};

static enum rc valid_sorted(const struct form_pair *const *sorted, size_t n, void *arg)
{
	struct valid_args *a = arg;
	char sig[SIG_SIZE];
	bool ok;

	/* Both are computed so the time taken does not tell which form matched. */
	ok = mac_compute(a->auth_token, &a->with_port, sorted, n, sig) == RC_OK && same_sig(sig, a->header);
	ok = (mac_compute(a->auth_token, &a->without_port, sorted, n, sig) == RC_OK && same_sig(sig, a->header)) || ok;
	a->ok = ok;
	return RC_OK;
}

bool sig_is_valid(const char *auth_token, const char *url, const struct form *params, const char *header)
{
	struct valid_args a;

	if (!auth_token || !*auth_token || !url || !header || !*header)
		return false;
	a.auth_token = auth_token;
	a.header = header;
	a.ok = false;
	port_variants(url, &a.with_port, &a.without_port);
	if (with_sorted(params, valid_sorted, &a) != RC_OK)
		return false;
	return a.ok;
}

/* The value of bodySHA256 in url's query string, as a new string (free()), or NULL. */
static char *body_sha256_param(const char *url)
{
	const char *q = strchr(url, '?');
	struct form query;
	const char *v;
	char *res = NULL;

	if (!q)
		return NULL;
	q++;
	form_init(&query);
	if (form_parse(&query, q, strcspn(q, "#")) == RC_OK) {
		v = form_get(&query, "bodySHA256");
		if (v)
			res = strdup(v);
	}
	form_release(&query);
	return res;
}

bool sig_is_valid_json(const char *auth_token, const char *url, const char *body, size_t len, const char *header)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_LEN];
	char md_hex[2 * SHA256_LEN + 1];
	unsigned int md_len = 0;
	char *expected = NULL;
	bool ok = false;
	size_t i;

	if (!url || (!body && len > 0))
		return false;
	expected = body_sha256_param(url);
	if (!expected || strlen(expected) != 2 * SHA256_LEN)
		goto out;
	if (!EVP_Digest(body ? body : "", len, md, &md_len, EVP_sha256(), NULL) || md_len != SHA256_LEN) {
		log_err("sig_is_valid_json: OpenSSL SHA-256 failed");
		goto out;
	}
	for (i = 0; i < SHA256_LEN; i++) {
		md_hex[2 * i] = hex[md[i] >> 4];
		md_hex[2 * i + 1] = hex[md[i] & 0xf];
	}
	md_hex[2 * SHA256_LEN] = '\0';
	ok = sig_is_valid(auth_token, url, NULL, header);
	ok = CRYPTO_memcmp(md_hex, expected, 2 * SHA256_LEN) == 0 && ok;
out:
	free(expected);
	return ok;
}
