/*
 * tests/fuzz/fuzz_multipart.c — libFuzzer target for the multipart/form-data reader.
 * Input: one byte seeding the chunk sizes, then a Content-Type line (up to the first LF; the
 * default "multipart/form-data; boundary=XyZ" when the input has no LF), then the body.
 * Beyond "no crash, no leak":
 *  - feeding the body in pseudo-random chunks gives exactly the parts, data, result and
 *    message of feeding it whole;
 *  - callbacks nest: part_begin, then data, then part_end, never data outside a part, at most
 *    MULTIPART_MAX_PARTS parts; a failure has a non-empty one-line reason;
 *  - names and file names are valid UTF-8 without control characters, file names without a
 *    path ('/' or '\');
 *  - multipart_disposition() keeps the same promises on arbitrary header values.
 * Built and run by tests/fuzz/run (seeds in tests/fuzz/corpus/multipart/, written by hand:
 * a curl upload of two files and a field, a body with delimiter look-alikes, RFC 5987 names).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static bool clean_text(const char *s, bool no_path)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u) {
		size_t n = *u < 0x80                  ? 0
		           : *u >= 0xC2 && *u <= 0xDF ? 1
		           : *u >= 0xE0 && *u <= 0xEF ? 2
		           : *u >= 0xF0 && *u <= 0xF4 ? 3
		                                      : 9;

		if (n == 9)
			return false;
		if (n == 0 && (*u < 0x20 || *u == 0x7F || (no_path && (*u == '/' || *u == '\\'))))
			return false;
		for (size_t i = 1; i <= n; i++)
			if ((u[i] & 0xC0) != 0x80)
				return false;
		u += n + 1;
	}
	return true;
}

struct rec {
	struct buf b;
	bool in_part;
	size_t parts;
};

static enum rc on_begin(void *ctx, const struct multipart_part *p)
{
	struct rec *r = ctx;

	check(!r->in_part);
	check(++r->parts <= MULTIPART_MAX_PARTS);
	check(p->name && clean_text(p->name, false));
	check(!p->filename || clean_text(p->filename, true));
	check(p->content_type && clean_text(p->content_type, false));
	r->in_part = true;
	return buf_printf(&r->b, "[%s|%s|%s]", p->name, p->filename ? p->filename : "-", p->content_type) == RC_OK
	               ? RC_OK
	               : RC_INTERNAL;
}

static enum rc on_data(void *ctx, const char *d, size_t n)
{
	struct rec *r = ctx;

	check(r->in_part && n > 0);
	return buf_append(&r->b, d, n) == RC_OK ? RC_OK : RC_INTERNAL;
}

static enum rc on_end(void *ctx)
{
	struct rec *r = ctx;

	check(r->in_part);
	r->in_part = false;
	return buf_puts(&r->b, "<END>") == RC_OK ? RC_OK : RC_INTERNAL;
}

/* Parses body in chunks (seed 0: whole); returns the transcript and outcome; free() it. */
static char *parse(const char *ct, const uint8_t *body, size_t size, unsigned seed, size_t *len)
{
	struct rec r = {0};
	struct multipart_cb cb = {on_begin, on_data, on_end, &r};
	struct multipart *m = NULL;
	char err[256] = "";
	enum rc rc;
	size_t at = 0;
	char *s;

	buf_init(&r.b, 64u << 20);
	rc = multipart_new(ct, &cb, &m, err, sizeof err);
	while (rc == RC_OK && at < size) {
		size_t n = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 23 : size;

		if (n > size - at)
			n = size - at;
		rc = multipart_feed(m, (const char *)body + at, n, err, sizeof err);
		at += n;
	}
	if (rc == RC_OK && m)
		rc = multipart_finish(m, err, sizeof err);
	if (rc == RC_OK)
		check(!r.in_part && r.parts > 0);
	else {
		check(err[0] != '\0');
		for (const char *p = err; *p; p++)
			check((unsigned char)*p >= 0x20);
	}
	multipart_free(m);
	check(buf_printf(&r.b, "rc=%d err=%s", (int)rc, err) == RC_OK);
	*len = r.b.len;
	s = buf_steal(&r.b);
	check(s != NULL);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ct[512] = "multipart/form-data; boundary=XyZ", name[300], file[300];
	const uint8_t *lf;
	unsigned seed;
	size_t lw, ls;
	char *whole, *split, *text;

	if (size == 0)
		return 0;
	seed = data[0] | 1u;
	data++;
	size--;
	lf = memchr(data, '\n', size);
	if (lf && (size_t)(lf - data) < sizeof ct && !memchr(data, '\0', (size_t)(lf - data))) {
		memcpy(ct, data, (size_t)(lf - data));
		ct[lf - data] = '\0';
		size -= (size_t)(lf - data) + 1;
		data = lf + 1;
	}
	whole = parse(ct, data, size, 0, &lw);
	split = parse(ct, data, size, seed, &ls);
	if (lw != ls || memcmp(whole, split, lw) != 0)
		abort();
	free(whole);
	free(split);

	/* header parameters on their own */
	text = malloc(size + 1);
	check(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	(void)multipart_disposition(text, name, sizeof name, file, sizeof file);
	check(clean_text(name, false) && clean_text(file, true));
	free(text);
	return 0;
}
