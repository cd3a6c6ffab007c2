/*
 * server/http/form.h — application/x-www-form-urlencoded bodies (Twilio webhooks, form alerts).
 * A struct form is an ordered list of name/value pairs; repeated names are kept, in order.
 * Follows the WHATWG URL standard's form-urlencoded parser ('+' is a space, %XX escapes)
 * but is strict where it matters for us: malformed escapes, NUL bytes and invalid UTF-8
 * are rejected instead of being passed on. Callers: the HTTP layer, sig.c.
 */
#ifndef PLANTAO_FORM_H
#define PLANTAO_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rc.h"

/* Most pairs one form may hold (a Twilio webhook has ~40): more is RC_TOO_BIG. */
#define FORM_MAX_PAIRS 512

struct form_pair {
	char *name;  /* owned, NUL-terminated, valid UTF-8 */
	char *value; /* owned, NUL-terminated, valid UTF-8; "" for "name" without '=' */
};

struct form {
	struct form_pair *pairs; /* in the order they were parsed or added */
	size_t n;
	size_t alloc;
};

/* Storage is the caller's: form_init before use, form_release to free every pair. */
void form_init(struct form *f);
void form_release(struct form *f);

/*
 * Parses body (len bytes, need not be NUL-terminated) and appends its pairs to f.
 * Empty segments ("a=1&&b=2", a trailing '&') are skipped; an empty body gives no pairs.
 * RC_INVALID: a '%' not followed by two hex digits, a NUL byte after decoding, invalid
 * UTF-8 in a decoded name or value. RC_TOO_BIG: more than FORM_MAX_PAIRS pairs in f.
 * RC_INTERNAL: out of memory. On error f holds exactly the pairs it held before the call.
 */
enum rc form_parse(struct form *f, const char *body, size_t len);

/* Appends copies of name and value. RC_TOO_BIG past FORM_MAX_PAIRS, RC_INTERNAL on OOM. */
enum rc form_add(struct form *f, const char *name, const char *value);

/* The value of the first pair called name, or NULL. Borrowed: valid until f changes. */
const char *form_get(const struct form *f, const char *name);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool form_is_utf8(const char *s, size_t len);

#endif
