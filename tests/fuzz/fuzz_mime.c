/*
 * tests/fuzz/fuzz_mime.c — libFuzzer target for the e-mail decoder (server/pager/mime.c).
 * Beyond "no crash, no leak": mime_parse never fails on any input; everything it hands out
 * is valid UTF-8 without NUL or control characters (the text keeps '\n' and '\t' only, the
 * subject and From are one line), the Message-ID is printable ASCII of at most 250 bytes,
 * and the building blocks run on the raw input give valid UTF-8 or bounded output too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/form.h"
#include "pager/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_text(const char *s, int one_line)
{
	size_t i, n = strlen(s);

	check(form_is_utf8(s, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		check(c >= 0x20 || c == '\t' || c == '\n');
		check(c != 0x7f && c != '\r');
		if (one_line)
			check(c != '\n' && c != '\t');
	}
	check(mime_utf8_prefix(s, 200) <= n);
	check(form_is_utf8(s, mime_utf8_prefix(s, 7)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct mime_msg m;
	struct buf b;
	size_t i;

	check(mime_parse(in, size, &m) == RC_OK);
	check_text(m.subject, 1);
	check_text(m.from, 1);
	check_text(m.text, 0);
	if (m.message_id) {
		check(strlen(m.message_id) > 0 && strlen(m.message_id) <= 250);
		for (i = 0; m.message_id[i]; i++)
			check(m.message_id[i] > ' ' && m.message_id[i] < 0x7f);
	}
	mime_release(&m);

	buf_init(&b, 4 * size + 64);
	check(mime_header_decode(in, size, &b) == RC_OK);
	check(!b.data || form_is_utf8(b.data, b.len));
	buf_release(&b);

	buf_init(&b, size + 8);
	check(mime_qp_decode(in, size, size % 2, &b) == RC_OK);
	check(b.len <= size);
	buf_release(&b);

	buf_init(&b, size + 8);
	check(mime_base64_decode(in, size, &b) == RC_OK);
	check(b.len <= size * 3 / 4 + 3);
	buf_release(&b);

	buf_init(&b, 4 * size + 64);
	check(mime_to_utf8(size > 2 ? "windows-1252" : "utf-8", in, size, &b) == RC_OK);
	check(!b.data || form_is_utf8(b.data, b.len));
	buf_release(&b);
	return 0;
}
