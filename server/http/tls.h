/*
 * server/http/tls.h — the certificate plantao serves HTTPS with (PLANTAO_TLS_CERT and
 * PLANTAO_TLS_KEY), held for libmicrohttpd's GnuTLS backend and replaced on SIGHUP without a
 * restart: new handshakes get the new pair, connections already made keep theirs, the port
 * stays open. Called by http.c (tls_start, tls_cert_callback, tls_stop) and main.c (tls_reload
 * on SIGHUP). GnuTLS types appear here only; the rest of plantao never sees them.
 *
 * One pair per process: libmicrohttpd's certificate callback carries no user pointer, so the pair
 * in force is a file-level atomic pointer (the one mutable global of the HTTP layer).
 */
#ifndef PLANTAO_TLS_H
#define PLANTAO_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "core/rc.h"

/* Certificates in one chain file at most (leaf and intermediates). */
#define TLS_CHAIN_MAX 8
/* Pairs replaced by reloads and still kept: a handshake that began with one may still hold it,
 * so a replaced pair is freed only once this many newer ones replaced it, or at tls_stop(). */
#define TLS_RETIRED_MAX 16

/*
 * Reads the PEM certificate chain cert_path and its private key key_path, checks that they belong
 * together and remembers the paths for tls_reload(). RC_INVALID (logged at ERROR with the reason)
 * when a file cannot be read, does not parse, or the key is not the certificate's.
 */
enum rc tls_start(const char *cert_path, const char *key_path);

/*
 * SIGHUP: reads both files again. A changed pair that checks (parses, key matches, not expired)
 * becomes the one every new handshake gets, logged at WARN with its subject and expiry; a bad one
 * is logged at ERROR and the pair in force is kept; unchanged files change nothing. Does nothing
 * when plantao does not serve TLS. Called from one thread (main's signal loop).
 */
void tls_reload(void);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK (gnutls_certificate_retrieve_function2): hands
 * GnuTLS the pair in force, still owned here. */
int tls_cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
                      unsigned int *pcert_length, gnutls_privkey_t *pkey);

/* Once the HTTP server has stopped: frees every pair (no-op without tls_start). */
void tls_stop(void);

#endif
