/*
 * tests/unit/http/test_multipart.c — the incremental multipart/form-data reader: bodies as curl,
 * browsers and Python send them, every split of each (two pieces at every offset, and one
 * byte at a time) giving the same parts, look-alike delimiters inside the data, a random
 * property test, header parameters, and every error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/multipart.h"

/* ---------------------------------------------------------------- a recorder */

struct rec {
	struct buf b; /* transcript: "[name|filename|ctype]data<END>" per part */
	int fail_at;  /* part_data call number that fails with RC_UNPROCESSABLE (0: never) */
	int data_calls;
};

static enum rc rec_begin(void *ctx, const struct multipart_part *p)
{
	struct rec *r = ctx;

	return buf_printf(&r->b, "[%s|%s|%s]", p->name, p->filename ? p->filename : "(none)", p->content_type);
}

static enum rc rec_data(void *ctx, const char *data, size_t len)
{
	struct rec *r = ctx;

	assert_true(len > 0);
	if (++r->data_calls >= r->fail_at && r->fail_at)
		return RC_UNPROCESSABLE;
	return buf_append(&r->b, data, len);
}

static enum rc rec_end(void *ctx)
{
	struct rec *r = ctx;

	return buf_puts(&r->b, "<END>");
}

/* Parses body in chunks given by cuts (sorted offsets, n of them); returns the transcript
 * (malloc'd) and the rc in *rc; err receives the message. */
static char *run_cuts(const char *ct, const char *body, size_t len, const size_t *cuts, size_t n, enum rc *rc,
                      char *err, size_t errlen)
{
	struct rec r = {0};
	struct multipart_cb cb = {rec_begin, rec_data, rec_end, &r};
	struct multipart *m;
	size_t at = 0;

	buf_init(&r.b, 1 << 20);
	err[0] = '\0';
	*rc = multipart_new(ct, &cb, &m, err, errlen);
	if (*rc != RC_OK)
		return buf_steal(&r.b);
	for (size_t i = 0; i <= n && *rc == RC_OK; i++) {
		size_t end = i < n ? cuts[i] : len;

		*rc = multipart_feed(m, body + at, end - at, err, errlen);
		at = end;
	}
	if (*rc == RC_OK)
		*rc = multipart_finish(m, err, errlen);
	multipart_free(m);
	buf_puts(&r.b, ""); /* data never NULL */
	return buf_steal(&r.b);
}

static char *run_whole(const char *ct, const char *body, size_t len, enum rc *rc)
{
	char err[256];

	return run_cuts(ct, body, len, NULL, 0, rc, err, sizeof err);
}

#define CT "multipart/form-data; boundary=XyZ-42"

/* ---------------------------------------------------------------- fixtures */

struct fixture {
	const char *name, *ct, *body;
	size_t len; /* 0: strlen(body) */
	const char *want;
	size_t want_len; /* 0: strlen(want) */
};

static const char curl_body[] = "--XyZ-42\r\n"
                                "Content-Disposition: form-data; name=\"period\"\r\n"
                                "\r\n"
                                "2026-01\r\n"
                                "--XyZ-42\r\n"
                                "Content-Disposition: form-data; name=\"a\"; filename=\"janeiro 2026.csv\"\r\n"
                                "Content-Type: text/csv\r\n"
                                "\r\n"
                                "vendedor;valor\r\nAna;57.320,00\r\n"
                                "\r\n"
                                "--XyZ-42\r\n"
                                "content-disposition: form-data; name=\"b\"; filename=\"fevereiro.csv\"\r\n"
                                "\r\n"
                                "vendedor;valor\nBruno;1,00\n"
                                "\r\n"
                                "--XyZ-42--\r\n";

/* Data that looks like the delimiter without being one, CRs everywhere, a preamble, padding
 * after a delimiter, an epilogue, an empty part. */
static const char tricky_body[] = "This is the preamble.\r\n--XyZ-4 is not it\r\n"
                                  "--XyZ-42  \t\r\n"
                                  "Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
                                  "\r\n"
                                  "\r\r\n--XyZ-4\r\n-\r\n--\r\n--X\r\n--XyZ-\r"
                                  "--XyZ-42\r\n" /* not preceded by CRLF: data */
                                  "end\r"
                                  "\r\n--XyZ-42\r\n"
                                  "Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n"
                                  "Content-Type: application/octet-stream\r\n"
                                  "\r\n"
                                  "\r\n--XyZ-42--  \r\nepilogue\r\n--XyZ-42\r\nignored";

static const char binary_body[] =
        "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"; filename=\"b.xlsx\"\n\nPK\x03\x04\x00\x00\r\x00\r\n"
        "--XyZ-42--";
static const char binary_want[] = "[x|b.xlsx|]PK\x03\x04\x00\x00\r\x00<END>";

static const struct fixture fixtures[] = {
        {"curl", CT, curl_body, 0,
         "[period|(none)|]2026-01<END>"
         "[a|janeiro 2026.csv|text/csv]vendedor;valor\r\nAna;57.320,00\r\n<END>"
         "[b|fevereiro.csv|]vendedor;valor\nBruno;1,00\n<END>",
         0},
        {"tricky", CT, tricky_body, 0,
         "[f|x.bin|]\r\r\n--XyZ-4\r\n-\r\n--\r\n--X\r\n--XyZ-\r--XyZ-42\r\nend\r<END>"
         "[empty||application/octet-stream]<END>",
         0},
        /* a boundary that overlaps itself ("--" then dashes): exercises the KMP fall-back */
        {"dashes", "multipart/form-data; boundary=\"----\"",
         "------\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n"
         "\r\n---\r\n-----x\r\n--- -\r\n------\r\n"
         "Content-Disposition: form-data; name=\"e\"\r\n\r\nz\r\n--------",
         0, "[d|(none)|]\r\n---\r\n-----x\r\n--- -<END>[e|(none)|]z<END>", 0},
        /* LF-only part headers (some hand-written clients) and a binary body with NULs */
        {"binary", CT, binary_body, sizeof binary_body - 1, binary_want, sizeof binary_want - 1},
};

static size_t flen(const struct fixture *f)
{
	return f->len ? f->len : strlen(f->body);
}

static void test_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		const struct fixture *f = &fixtures[i];
		size_t wl = f->want_len ? f->want_len : strlen(f->want);
		enum rc rc;
		char *got = run_whole(f->ct, f->body, flen(f), &rc);

		if (rc != RC_OK)
			fail_msg("%s: rc %d", f->name, rc);
		if (strlen(got) != wl && f->want_len == 0)
			fail_msg("%s:\n got %s\nwant %s", f->name, got, f->want);
		if (memcmp(got, f->want, wl) != 0)
			fail_msg("%s:\n got %s\nwant %s", f->name, got, f->want);
		free(got);
	}
}

/* Two pieces at every offset, three pieces at many offsets, and one byte at a time: the
 * same transcript as the whole body. */
static void test_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		const struct fixture *f = &fixtures[i];
		size_t len = flen(f), *ones = malloc(len * sizeof *ones);
		char err[256];
		enum rc rc, rc2;
		char *whole = run_whole(f->ct, f->body, len, &rc), *got;

		assert_int_equal(rc, RC_OK);
		for (size_t at = 0; at <= len; at++) {
			got = run_cuts(f->ct, f->body, len, &at, 1, &rc2, err, sizeof err);
			if (rc2 != RC_OK || strcmp(got, whole))
				fail_msg("%s split at %zu: rc %d %s\n got %s\nwant %s", f->name, at, rc2, err, got,
				         whole);
			free(got);
			for (size_t at2 = at; at2 <= len; at2 += 7) {
				size_t cuts[2] = {at, at2};

				got = run_cuts(f->ct, f->body, len, cuts, 2, &rc2, err, sizeof err);
				if (rc2 != RC_OK || strcmp(got, whole))
					fail_msg("%s split at %zu and %zu:\n got %s\nwant %s", f->name, at, at2, got,
					         whole);
				free(got);
			}
		}
		for (size_t k = 0; k < len; k++)
			ones[k] = k + 1;
		got = run_cuts(f->ct, f->body, len, ones, len - 1, &rc2, err, sizeof err);
		if (rc2 != RC_OK || strcmp(got, whole))
			fail_msg("%s byte by byte:\n got %s\nwant %s", f->name, got, whole);
		free(got);
		free(whole);
		free(ones);
	}
}

/* ---------------------------------------------------------------- property */

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Random parts made of the characters that matter (CR, LF, '-', boundary letters), never
 * containing the delimiter itself, framed, cut at random: every part comes back intact. */
static void test_random_bodies(void **state)
{
	static const char alphabet[] = "\r\n-bBx";
	const char *delim = "\r\n--bB";

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct buf body, want;
		size_t nparts = 1 + rnd() % 4, cuts[8], ncuts = rnd() % 8;
		char err[256];
		enum rc rc;
		char *got;

		buf_init(&body, 1 << 16);
		buf_init(&want, 1 << 16);
		for (size_t p = 0; p < nparts; p++) {
			char data[200];
			size_t n = rnd() % sizeof data;

			for (size_t k = 0; k < n; k++) {
				data[k] = alphabet[rnd() % (sizeof alphabet - 1)];
				/* never complete the delimiter inside data */
				if (k + 1 >= 6 && memcmp(data + k + 1 - 6, delim, 6) == 0)
					data[k] = 'x';
			}
			buf_printf(&body, "%s--bB\r\nContent-Disposition: form-data; name=\"p%zu\"\r\n\r\n",
			           p == 0 ? "" : "\r\n", p);
			buf_append(&body, data, n);
			buf_printf(&want, "[p%zu|(none)|]", p);
			buf_append(&want, data, n);
			buf_puts(&want, "<END>");
		}
		buf_puts(&body, "\r\n--bB--\r\n");
		for (size_t k = 0; k < ncuts; k++)
			cuts[k] = rnd() % (body.len + 1);
		for (size_t a = 0; a < ncuts; a++) /* sort */
			for (size_t b = a + 1; b < ncuts; b++)
				if (cuts[b] < cuts[a]) {
					size_t t = cuts[a];

					cuts[a] = cuts[b];
					cuts[b] = t;
				}
		got = run_cuts("multipart/form-data; boundary=bB", body.data, body.len, cuts, ncuts, &rc, err,
		               sizeof err);
		/* data ending in "\r\n--b" is fine: the delimiter holds one CR, at its start, so data
		 * and the delimiter after it cannot form an earlier delimiter */
		if (rc != RC_OK || strlen(got) != want.len || memcmp(got, want.data, want.len))
			fail_msg("round %d: rc %d %s\n got %s\nwant %s", round, rc, err, got, want.data);
		free(got);
		buf_release(&body);
		buf_release(&want);
	}
}

/* ---------------------------------------------------------------- headers */

static void test_disposition(void **state)
{
	char name[64], file[64];

	(void)state;
	assert_true(multipart_disposition("form-data; name=\"f\"; filename=\"janeiro 2026.xlsx\"", name, sizeof name,
	                                  file, sizeof file));
	assert_string_equal(name, "f");
	assert_string_equal(file, "janeiro 2026.xlsx");
	/* browsers send Windows paths unescaped; only the last component is kept */
	assert_true(multipart_disposition("form-data; name=f; filename=\"C:\\Users\\ana\\Março.xlsx\"", name,
	                                  sizeof name, file, sizeof file));
	assert_string_equal(name, "f");
	assert_string_equal(file, "Março.xlsx");
	/* curl escapes quotes */
	assert_true(multipart_disposition("form-data; name=\"f\"; filename=\"a \\\"b\\\".csv\"", NULL, 0, file,
	                                  sizeof file));
	assert_string_equal(file, "a \"b\".csv");
	/* RFC 5987 wins over the plain parameter, in either order */
	assert_true(multipart_disposition("attachment; filename*=UTF-8''mar%C3%A7o%202026.csv; filename=\"x.csv\"",
	                                  NULL, 0, file, sizeof file));
	assert_string_equal(file, "março 2026.csv");
	assert_true(multipart_disposition("attachment; filename=\"x.csv\"; FILENAME*=utf-8'pt'junho.csv", NULL, 0, file,
	                                  sizeof file));
	assert_string_equal(file, "junho.csv");
	/* unknown charsets are ignored; NUL from %00 too */
	assert_true(multipart_disposition("attachment; filename*=ISO-8859-1''x%E7.csv; filename=y.csv", NULL, 0, file,
	                                  sizeof file));
	assert_string_equal(file, "y.csv");
	assert_false(multipart_disposition("attachment; filename*=UTF-8''a%00b", NULL, 0, file, sizeof file));
	assert_string_equal(file, "");
	/* invalid UTF-8 and control characters become '_' */
	assert_true(multipart_disposition("form-data; filename=\"a\xff\x01z.csv\"", NULL, 0, file, sizeof file));
	assert_string_equal(file, "a__z.csv");
	/* no filename: not a file */
	assert_false(multipart_disposition("form-data; name=\"period\"", name, sizeof name, file, sizeof file));
	assert_string_equal(name, "period");
	assert_string_equal(file, "");
	assert_true(multipart_disposition("form-data; name=\"f\"; filename=\"\"", NULL, 0, file, sizeof file));
	assert_string_equal(file, "");
	assert_true(multipart_is("Multipart/Form-Data; boundary=x"));
	assert_true(multipart_is("multipart/form-data"));
	assert_false(multipart_is("multipart/form-datax"));
	assert_false(multipart_is("text/csv"));
	assert_false(multipart_is(NULL));
}

/* ---------------------------------------------------------------- errors */

static void expect_error(const char *ct, const char *body, enum rc want, const char *msg_part)
{
	char err[256];
	enum rc rc;
	char *got = run_cuts(ct, body, strlen(body), NULL, 0, &rc, err, sizeof err);

	if (rc != want)
		fail_msg("%s: rc %d, want %d (%s)", body, rc, want, err);
	if (msg_part && !strstr(err, msg_part))
		fail_msg("%s: message '%s' lacks '%s'", body, err, msg_part);
	assert_null(strchr(err, '\n'));
	free(got);
}

static void test_errors(void **state)
{
	struct buf b;
	const char *part = "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n";

	(void)state;
	expect_error("text/csv", "x", RC_INVALID, "multipart/form-data");
	expect_error("multipart/form-data", "x", RC_INVALID, "boundary");
	expect_error("multipart/form-data; boundary=", "x", RC_INVALID, "boundary");
	expect_error("multipart/form-data; boundary=a{b}", "x", RC_INVALID, "boundary");
	expect_error("multipart/form-data; boundary="
	             "12345678901234567890123456789012345678901234567890123456789012345678901",
	             "x", RC_INVALID, "boundary");
	expect_error(CT, "", RC_INVALID, "without any part");
	expect_error(CT, "just text, no boundary", RC_INVALID, "without any part");
	expect_error(CT, "--XyZ-42--\r\n", RC_INVALID, "without any part");
	expect_error(CT, "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nhalf a file", RC_INVALID,
	             "closing boundary");
	expect_error(CT, "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"\r\n", RC_INVALID, "closing boundary");
	expect_error(CT, "--XyZ-42\r\nContent-Type: text/csv\r\n\r\nx\r\n--XyZ-42--", RC_INVALID,
	             "Content-Disposition");
	expect_error(CT, "--XyZ-42junk\r\n", RC_INVALID, "boundary followed by text");
	expect_error(CT, "--XyZ-42 x\r\n", RC_INVALID, "boundary followed by text");
	expect_error(CT, "--XyZ-42\rX", RC_INVALID, "CRLF");
	{
		static const char nul[] = "--XyZ-42\r\nContent-Disposition: form-data\0; name=x\r\n\r\nv\r\n--XyZ-42--";
		char err[128];
		enum rc rc;

		free(run_cuts(CT, nul, sizeof nul - 1, NULL, 0, &rc, err, sizeof err));
		assert_int_equal(rc, RC_INVALID);
		assert_non_null(strstr(err, "NUL"));
	}

	/* headers over the cap */
	buf_init(&b, 1 << 20);
	buf_puts(&b, "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Pad: ");
	for (int i = 0; i < MULTIPART_MAX_HEADERS; i++)
		buf_append(&b, "a", 1);
	buf_puts(&b, "\r\n\r\nv\r\n--XyZ-42--");
	expect_error(CT, b.data, RC_TOO_BIG, "headers");
	buf_release(&b);

	/* too many parts */
	buf_init(&b, 1 << 20);
	for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
		buf_puts(&b, part);
	buf_puts(&b, "--XyZ-42--");
	expect_error(CT, b.data, RC_TOO_BIG, "parts");
	buf_release(&b);
	/* exactly the maximum is fine */
	buf_init(&b, 1 << 20);
	for (int i = 0; i < MULTIPART_MAX_PARTS; i++)
		buf_puts(&b, part);
	buf_puts(&b, "--XyZ-42--");
	expect_error(CT, b.data, RC_OK, NULL);
	buf_release(&b);
}

/* A callback's rc stops the parse and sticks; the reader adds no message of its own. */
static void test_callback_error(void **state)
{
	struct rec r = {0};
	struct multipart_cb cb = {rec_begin, rec_data, rec_end, &r};
	struct multipart *m;
	char err[128];

	(void)state;
	buf_init(&r.b, 1 << 16);
	r.fail_at = 1;
	assert_int_equal(multipart_new(CT, &cb, &m, err, sizeof err), RC_OK);
	assert_int_equal(multipart_feed(m, curl_body, strlen(curl_body), err, sizeof err), RC_UNPROCESSABLE);
	assert_string_equal(err, "");
	assert_int_equal(multipart_feed(m, "x", 1, err, sizeof err), RC_UNPROCESSABLE);
	assert_int_equal(multipart_finish(m, err, sizeof err), RC_UNPROCESSABLE);
	multipart_free(m);
	buf_release(&r.b);
	multipart_free(NULL);
}

/* Large data arrives in few callbacks (coalesced), not one per CR. */
static void test_coalescing(void **state)
{
	struct rec r = {0};
	struct multipart_cb cb = {rec_begin, rec_data, rec_end, &r};
	struct multipart *m;
	struct buf body;
	char err[128];
	int calls = 0;

	(void)state;
	buf_init(&r.b, 1 << 22);
	buf_init(&body, 1 << 22);
	buf_puts(&body, "--XyZ-42\r\nContent-Disposition: form-data; name=\"x\"; filename=\"a\"\r\n\r\n");
	for (int i = 0; i < 100000; i++)
		buf_append(&body, "\r", 1);
	buf_puts(&body, "\r\n--XyZ-42--");
	r.fail_at = 0;
	assert_int_equal(multipart_new(CT, &cb, &m, err, sizeof err), RC_OK);
	assert_int_equal(multipart_feed(m, body.data, body.len, err, sizeof err), RC_OK);
	assert_int_equal(multipart_finish(m, err, sizeof err), RC_OK);
	for (const char *p = r.b.data; (p = strstr(p, "<END>")); p++)
		calls++;
	assert_int_equal(calls, 1);
	assert_true(r.data_calls <= 100000 / 4096 + 2);
	/* 100000 CRs + the "[x|a|]" header + "<END>" */
	assert_int_equal(r.b.len, 100000 + strlen("[x|a|]") + strlen("<END>"));
	multipart_free(m);
	buf_release(&r.b);
	buf_release(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fixtures),      cmocka_unit_test(test_every_split),
	        cmocka_unit_test(test_random_bodies), cmocka_unit_test(test_disposition),
	        cmocka_unit_test(test_errors),        cmocka_unit_test(test_callback_error),
	        cmocka_unit_test(test_coalescing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
