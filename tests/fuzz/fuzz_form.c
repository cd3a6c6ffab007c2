/*
 * tests/fuzz/fuzz_form.c — libFuzzer target for form_parse.
 * Beyond "no crash, no leak": a parsed form holds only NUL-free valid UTF-8, at most
 * FORM_MAX_PAIRS pairs, and survives a round trip through curl_easy_escape unchanged.
 * An error leaves the form as it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Re-encodes f as a form body: a new string in *out (free()), NULL on OOM or cap. */
static char *encode(const struct form *f)
{
	struct buf b;
	char *e;
	size_t i;
	int part;

	buf_init(&b, 64u << 20);
	for (i = 0; i < f->n; i++) {
		for (part = 0; part < 2; part++) {
			e = curl_easy_escape(NULL, part ? f->pairs[i].value : f->pairs[i].name, 0);
			check(e != NULL);
			if (buf_puts(&b, i && !part ? "&" : "") != RC_OK ||
			    buf_puts(&b, e) != RC_OK || buf_puts(&b, part ? "" : "=") != RC_OK) {
				curl_free(e);
				buf_release(&b);
				return NULL;
			}
			curl_free(e);
		}
	}
	if (b.data == NULL)
		return strdup("");
	return buf_steal(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form f, again;
	char *body;
	size_t i;

	form_init(&f);
	check(form_add(&f, "pre", "existing") == RC_OK);
	if (form_parse(&f, (const char *)data, size) != RC_OK) {
		check(f.n == 1 && strcmp(f.pairs[0].value, "existing") == 0);
		goto out;
	}
	check(f.n >= 1 && f.n <= FORM_MAX_PAIRS);
	for (i = 0; i < f.n; i++) {
		check(form_is_utf8(f.pairs[i].name, strlen(f.pairs[i].name)));
		check(form_is_utf8(f.pairs[i].value, strlen(f.pairs[i].value)));
		check(form_get(&f, f.pairs[i].name) != NULL);
	}
	body = encode(&f);
	check(body != NULL);
	form_init(&again);
	check(form_parse(&again, body, strlen(body)) == RC_OK);
	check(again.n == f.n);
	for (i = 0; i < f.n; i++) {
		check(strcmp(again.pairs[i].name, f.pairs[i].name) == 0);
		check(strcmp(again.pairs[i].value, f.pairs[i].value) == 0);
	}
	form_release(&again);
	free(body);
out:
	form_release(&f);
	return 0;
}
