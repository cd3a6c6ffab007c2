/*
 * server/twilio/sig.h — Twilio request signatures (X-Twilio-Signature).
 * signature = base64(HMAC-SHA1(auth token, URL + for each POST parameter sorted by name:
 * name + value)); https://www.twilio.com/docs/usage/security#validating-requests.
 * Validation accepts the URL with and without its port, as Twilio's helper libraries do.
 * Callers: the HTTP layer for every request under /twilio/; tests and the fake Twilio to sign.
 */
#ifndef PLANTAO_SIG_H
#define PLANTAO_SIG_H

#include <stdbool.h>
#include <stddef.h>

#include "http/form.h"
#include "core/rc.h"

/* Size of the out buffer of sig_compute: 28 base64 characters and a NUL fit. */
#define SIG_SIZE 32

/*
 * Computes the signature of url and params (NULL: no parameters) into out, a
 * NUL-terminated base64 string. Parameters are sorted by name, then by value; a pair
 * repeated with the same name and value counts once (Twilio's helper libraries sort a
 * set). url is used byte for byte. RC_INVALID when auth_token or url is NULL,
 * RC_INTERNAL when OpenSSL fails (logged).
 */
enum rc sig_compute(const char *auth_token, const char *url, const struct form *params, char out[SIG_SIZE]);

/*
 * True when header is the signature of url and params. Like Twilio's helper libraries,
 * two forms of url are tried: with the port removed (when url has one) and with the
 * scheme's default port added (https: 443, anything else: 80; when url has none), so a
 * URL as given always is one of them. NULL or empty auth_token or header: false.
 * Comparison is constant-time.
 */
bool sig_is_valid(const char *auth_token, const char *url, const struct form *params, const char *header);

/*
 * For webhooks with a JSON body: url carries bodySHA256 (lowercase hex SHA-256 of the body)
 * in its query string and the signature covers the url only. True when header signs url
 * (with no parameters, same port rules as sig_is_valid) and bodySHA256 matches body.
 * A url without bodySHA256 is false.
 */
bool sig_is_valid_json(const char *auth_token, const char *url, const char *body, size_t len, const char *header);

#endif
