/*
 * server/twilio/sig.c — computing and checking X-Twilio-Signature.
 * HMAC-SHA1 and SHA-256 are OpenSSL's (EVP_MAC, EVP_Digest), base64 is EVP_EncodeBlock and
 * comparisons are CRYPTO_memcmp. The port variants of the URL are built by splitting the
 * authority by hand rather than with curl_url(): a URL parser re-serialises (case,
 * escapes, an added '/'), and a signature is over the exact bytes Twilio requested.
 * Spec: https://www.twilio.com/docs/usage/security and the helper libraries' validators.
 */
#include "twilio/sig.h"

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

static enum rc mac_params(EVP_MAC_CTX *ctx, const struct form *params)
{
	const struct form_pair **sorted = NULL;
	enum rc rc = RC_INTERNAL;
	size_t i;

	if (!params || params->n == 0)
		return RC_OK;
	sorted = malloc(params->n * sizeof(*sorted));
	if (!sorted)
		return RC_INTERNAL;
	for (i = 0; i < params->n; i++)
		sorted[i] = &params->pairs[i];
	qsort(sorted, params->n, sizeof(*sorted), cmp_pair);
	for (i = 0; i < params->n; i++) {
		if (i > 0 && same_pair(sorted[i - 1], sorted[i]))
			continue;
		if (!EVP_MAC_update(ctx, (const unsigned char *)sorted[i]->name, strlen(sorted[i]->name)) ||
		    !EVP_MAC_update(ctx, (const unsigned char *)sorted[i]->value, strlen(sorted[i]->value)))
			goto out;
	}
	rc = RC_OK;
out:
	free(sorted);
	return rc;
}

enum rc sig_compute(const char *auth_token, const char *url, const struct form *params, char out[SIG_SIZE])
{
	char digest_name[] = "SHA1";
	OSSL_PARAM mac_settings[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
	        OSSL_PARAM_construct_end(),
	};
	unsigned char mac[SHA1_LEN];
	size_t mac_len = 0;
	EVP_MAC *hmac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	enum rc rc = RC_INTERNAL;

	out[0] = '\0';
	if (!auth_token || !*auth_token || !url)
		return RC_INVALID;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	if (!ctx)
		goto out;
	if (!EVP_MAC_init(ctx, (const unsigned char *)auth_token, strlen(auth_token), mac_settings) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)url, strlen(url)))
		goto out;
	if (mac_params(ctx, params) != RC_OK)
		goto out;
	if (!EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) || mac_len != SHA1_LEN)
		goto out;
	EVP_EncodeBlock((unsigned char *)out, mac, SHA1_LEN);
	rc = RC_OK;
out:
	if (rc == RC_INTERNAL)
		log_err("sig_compute: OpenSSL HMAC-SHA1 failed");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return rc;
}

/*
 * Builds the two URLs Twilio's helper libraries check: *with_port (the scheme's default
 * port added when url has no port, else url) and *without_port (url minus its port, if
 * any). Both are new strings (free()); RC_INTERNAL on OOM. A url without "://" is used
 * as is for both.
 */
static enum rc port_variants(const char *url, char **with_port, char **without_port)
{
	const char *sep = strstr(url, "://");
	const char *auth, *auth_end, *host, *colon = NULL, *p;
	const char *port;
	size_t len = strlen(url), head;

	*with_port = NULL;
	*without_port = NULL;
	if (!sep) {
		*with_port = strdup(url);
		*without_port = strdup(url);
		goto out;
	}
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
		*with_port = strdup(url);
		head = (size_t)(colon - url);
		*without_port = malloc(len + 1);
		if (*without_port) {
			memcpy(*without_port, url, head);
			memcpy(*without_port + head, auth_end, strlen(auth_end) + 1);
		}
	} else {
		port = (size_t)(sep - url) == 5 && strncasecmp(url, "https", 5) == 0 ? ":443" : ":80";
		*without_port = strdup(url);
		head = (size_t)(auth_end - url);
		*with_port = malloc(len + strlen(port) + 1);
		if (*with_port) {
			memcpy(*with_port, url, head);
			memcpy(*with_port + head, port, strlen(port));
			memcpy(*with_port + head + strlen(port), auth_end, strlen(auth_end) + 1);
		}
	}
out:
	if (!*with_port || !*without_port) {
		free(*with_port);
		free(*without_port);
		*with_port = NULL;
		*without_port = NULL;
		return RC_INTERNAL;
	}
	return RC_OK;
}

static bool matches(const char *auth_token, const char *url, const struct form *params, const char *header)
{
	char sig[SIG_SIZE];
	size_t n;

	if (sig_compute(auth_token, url, params, sig) != RC_OK)
		return false;
	n = strlen(sig);
	return strlen(header) == n && CRYPTO_memcmp(sig, header, n) == 0;
}

bool sig_is_valid(const char *auth_token, const char *url, const struct form *params, const char *header)
{
	char *with_port = NULL, *without_port = NULL;
	bool ok = false;

	if (!auth_token || !*auth_token || !url || !header || !*header)
		return false;
	if (port_variants(url, &with_port, &without_port) != RC_OK)
		return false;
	/* Both are computed so the time taken does not tell which form matched. */
	ok = matches(auth_token, with_port, params, header);
	ok = matches(auth_token, without_port, params, header) || ok;
	free(with_port);
	free(without_port);
	return ok;
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
