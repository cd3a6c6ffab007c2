/*
 * server/http/tls.c — the HTTPS certificate and its reload on SIGHUP (tls.h).
 *
 * libmicrohttpd (Debian's is built on GnuTLS) asks tls_cert_callback for the certificate at each
 * handshake; the answer is the pair `current` points to. A reload builds a new pair off to the
 * side, checks it (the chain and the key parse, the key is the first certificate's, it has not
 * expired), and only then swaps the pointer: a handshake
 * sees the old pair or the new one, never half of either. The old pair is kept (TLS_RETIRED_MAX)
 * because GnuTLS keeps the pointers it was handed for the session's life.
 */
#include "http/tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/x509.h>

#include "core/buf.h"
#include "core/log.h"

#define TLS_FILE_MAX (1024 * 1024) /* a PEM file larger than this is not a certificate or key */

struct tls_pair {
	gnutls_pcert_st pcert[TLS_CHAIN_MAX];
	unsigned int n;
	gnutls_privkey_t key;
	char *cert_pem, *key_pem; /* the files as read: a reload with the same bytes changes nothing */
	time_t expires;
	char subject[256];
};

static _Atomic(struct tls_pair *) current;
static struct tls_pair *retired[TLS_RETIRED_MAX];
static size_t n_retired;
static char *cert_path, *key_path;

static void pair_free(struct tls_pair *p)
{
	unsigned int i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p->cert_pem);
	free(p->key_pem);
	free(p);
}

/* The whole file as a string (new: free()), or NULL with the reason in err. */
static char *read_pem(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;
	enum rc rc = RC_OK;

	if (!f) {
		snprintf(err, errlen, "cannot read %s", path);
		return NULL;
	}
	buf_init(&b, TLS_FILE_MAX);
	while (rc == RC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = buf_append(&b, chunk, n);
	fclose(f);
	if (rc != RC_OK || !b.len) {
		buf_release(&b);
		if (rc != RC_OK)
			snprintf(err, errlen, "%s is larger than %d bytes", path, TLS_FILE_MAX);
		else
			snprintf(err, errlen, "%s is empty", path);
		return NULL;
	}
	*len = b.len;
	return buf_steal(&b);
}

static void rfc3339(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The subject and expiry of the pair's first certificate. */
static void describe(struct tls_pair *p)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = {NULL, 0};

	p->expires = 0;
	snprintf(p->subject, sizeof p->subject, "?");
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &p->pcert[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
		p->expires = gnutls_x509_crt_get_expiration_time(crt);
		if (gnutls_x509_crt_get_dn2(crt, &dn) >= 0) {
			snprintf(p->subject, sizeof p->subject, "%.*s", (int)dn.size, (const char *)dn.data);
			gnutls_free(dn.data);
		}
	}
	gnutls_x509_crt_deinit(crt);
}

/*
 * Whether the private key is the one of the chain's first certificate: their public keys have the
 * same key id. (gnutls_certificate_set_x509_key_mem2 checks the same, but GnuTLS 3.7 leaks the
 * parsed certificate when it finds a mismatch.)
 */
static bool key_is_certs(struct tls_pair *p)
{
	gnutls_pubkey_t pub = NULL;
	unsigned char a[64], b[64];
	size_t alen = sizeof a, blen = sizeof b;
	bool same = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_privkey(pub, p->key, 0, 0) >= 0 &&
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen) >= 0 &&
	    gnutls_pubkey_get_key_id(p->pcert[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &blen) >= 0)
		same = alen == blen && !memcmp(a, b, alen);
	gnutls_pubkey_deinit(pub);
	return same;
}

/* A pair from the files, checked; NULL with the reason in err. */
static struct tls_pair *pair_load(char *err, size_t errlen)
{
	struct tls_pair *p = calloc(1, sizeof *p);
	gnutls_datum_t cert, key;
	size_t cert_len = 0, key_len = 0;
	int r;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cert_pem = read_pem(cert_path, &cert_len, err, errlen);
	p->key_pem = p->cert_pem ? read_pem(key_path, &key_len, err, errlen) : NULL;
	if (!p->key_pem)
		goto fail;
	cert = (gnutls_datum_t){(unsigned char *)p->cert_pem, (unsigned int)cert_len};
	key = (gnutls_datum_t){(unsigned char *)p->key_pem, (unsigned int)key_len};
	p->n = TLS_CHAIN_MAX;
	r = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &cert, GNUTLS_X509_FMT_PEM, 0);
	if (r < 0) {
		p->n = 0;
		snprintf(err, errlen, "%s: %s", cert_path, gnutls_strerror(r));
		goto fail;
	}
	r = gnutls_privkey_init(&p->key);
	if (r >= 0)
		r = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", key_path, gnutls_strerror(r));
		goto fail;
	}
	if (!key_is_certs(p)) {
		snprintf(err, errlen, "%s is not the key of %s (the first certificate of the file)", key_path,
		         cert_path);
		goto fail;
	}
	describe(p);
	return p;
fail:
	pair_free(p);
	return NULL;
}

enum rc tls_start(const char *cert, const char *key)
{
	struct tls_pair *p;
	char err[512], until[32];

	cert_path = strdup(cert);
	key_path = strdup(key);
	if (!cert_path || !key_path) {
		tls_stop();
		return RC_INTERNAL;
	}
	p = pair_load(err, sizeof err);
	if (!p) {
		log_err("PLANTAO_TLS_CERT/PLANTAO_TLS_KEY: %s", err);
		tls_stop();
		return RC_INVALID;
	}
	rfc3339(p->expires, until, sizeof until);
	if (p->expires < time(NULL))
		log_err("tls: the certificate %s (%s) expired at %s: clients refuse it; renew it and send SIGHUP",
		        cert_path, p->subject, until);
	else
		log_info("tls: serving %s (%s), valid until %s; SIGHUP reads it again", cert_path, p->subject, until);
	atomic_store(&current, p);
	return RC_OK;
}

void tls_reload(void)
{
	struct tls_pair *now = atomic_load(&current), *p;
	char err[512], until[32];

	if (!now)
		return;
	p = pair_load(err, sizeof err);
	if (!p) {
		rfc3339(now->expires, until, sizeof until);
		log_err("reload: TLS certificate not replaced (%s); new connections still get the one loaded before "
		        "(%s, valid until %s)",
		        err, now->subject, until);
		return;
	}
	rfc3339(p->expires, until, sizeof until);
	if (!strcmp(p->cert_pem, now->cert_pem) && !strcmp(p->key_pem, now->key_pem)) {
		log_info("reload: TLS certificate %s unchanged (%s, valid until %s)", cert_path, p->subject, until);
		pair_free(p);
		return;
	}
	if (p->expires < time(NULL)) {
		log_err("reload: TLS certificate not replaced (%s: %s expired at %s); new connections still get the "
		        "one loaded before (%s)",
		        cert_path, p->subject, until, now->subject);
		pair_free(p);
		return;
	}
	if (n_retired == TLS_RETIRED_MAX) { /* the oldest: replaced TLS_RETIRED_MAX reloads ago */
		pair_free(retired[0]);
		memmove(retired, retired + 1, (TLS_RETIRED_MAX - 1) * sizeof retired[0]);
		n_retired--;
	}
	retired[n_retired++] = now;
	atomic_store(&current, p);
	log_warn("reload: TLS certificate replaced: new connections get %s (%s, valid until %s)", cert_path, p->subject,
	         until);
}

int tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                      unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	struct tls_pair *p = atomic_load(&current);

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!p)
		return -1;
	*pcert = p->pcert;
	*pcert_length = p->n;
	*pkey = p->key;
	return 0;
}

void tls_stop(void)
{
	size_t i;

	pair_free(atomic_exchange(&current, NULL));
	for (i = 0; i < n_retired; i++)
		pair_free(retired[i]);
	n_retired = 0;
	free(cert_path);
	free(key_path);
	cert_path = key_path = NULL;
}
