/*
 * tests/unit/pager/test_mime.c — reading alert e-mail: transfer encodings, encoded words, charsets,
 * multipart choice, missing headers and malformed mail (which must never fail or crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pager/mime.h"

/* Runs one building block over a C string; returns a new string (free()). */
enum which { QP, QWORD, B64, HEADER, HTML };

static char *run(enum which w, const char *in, const char *charset)
{
	struct buf b;
	enum rc rc = RC_OK;
	char *s;

	buf_init(&b, 1u << 20);
	switch (w) {
	case QP: rc = mime_qp_decode(in, strlen(in), false, &b); break;
	case QWORD: rc = mime_qp_decode(in, strlen(in), true, &b); break;
	case B64: rc = mime_base64_decode(in, strlen(in), &b); break;
	case HEADER: rc = mime_header_decode(in, strlen(in), &b); break;
	case HTML: rc = mime_html_text(in, strlen(in), &b); break;
	}
	assert_int_equal(rc, RC_OK);
	(void)charset;
	s = b.data ? strdup(b.data) : strdup("");
	buf_release(&b);
	return s;
}

#define assert_run(w, in, expect)                                                                                      \
	do {                                                                                                           \
		char *got_ = run(w, in, NULL);                                                                         \
		assert_string_equal(got_, expect);                                                                     \
		free(got_);                                                                                            \
	} while (0)

static char *conv(const char *charset, const char *in, size_t len)
{
	struct buf b;
	char *s;

	buf_init(&b, 1u << 20);
	assert_int_equal(mime_to_utf8(charset, in, len, &b), RC_OK);
	s = b.data ? strdup(b.data) : strdup("");
	buf_release(&b);
	return s;
}

#define assert_conv(cs, in, expect)                                                                                    \
	do {                                                                                                           \
		char *got_ = conv(cs, in, sizeof in - 1);                                                              \
		assert_string_equal(got_, expect);                                                                     \
		free(got_);                                                                                            \
	} while (0)

static void parse(const char *raw, size_t len, struct mime_msg *m)
{
	assert_int_equal(mime_parse(raw, len, m), RC_OK);
	assert_non_null(m->subject);
	assert_non_null(m->from);
	assert_non_null(m->text);
}

#define PARSE(raw, m) parse(raw, sizeof raw - 1, m)

static void test_quoted_printable(void **state)
{
	(void)state;
	assert_run(QP, "Instala=C3=A7=C3=A3o conclu=c3=adda",
	           "Instala\xc3\xa7\xc3\xa3o conclu\xc3\xad"
	           "da");
	assert_run(QP, "uma linha muito lon=\r\nga, continua=\nda", "uma linha muito longa, continuada");
	assert_run(QP, "espa\xc3\xa7o no fim =  \r\nsegue", "espa\xc3\xa7o no fim segue");
	assert_run(QP, "brancos no fim   \r\nsomem\t\nok", "brancos no fim\r\nsomem\nok");
	assert_run(QP, "a =ZZ b =4 c =", "a =ZZ b =4 c ");
	assert_run(QP, "1+1=3D2", "1+1=2");
	assert_run(QP, "", "");
	/* the Q of encoded words: underscores are spaces, no soft breaks */
	assert_run(QWORD, "Alerta_cr=EDtico_=3D_sim", "Alerta cr\xedtico = sim");
}

static void test_base64(void **state)
{
	(void)state;
	assert_run(B64, "SGVsbG8gd29ybGQ=", "Hello world");
	assert_run(B64, "SGVs\r\nbG8g\nd29y bGQ=\r\n", "Hello world");
	assert_run(B64, "SGVsbG8", "Hello");    /* padding missing */
	assert_run(B64, "SG!Vs*bG8=", "Hello"); /* junk outside the alphabet ignored */
	assert_run(B64, "SGk=SGk=", "HiHi");    /* glued runs */
	assert_run(B64, "S", "");               /* a lone sextet is no byte */
	assert_run(B64, "", "");
	assert_run(B64, "w6fDo28=", "\xc3\xa7\xc3\xa3o");
}

static void test_long_base64(void **state)
{
	/* more than one internal block of 1024 characters, with line breaks every 76 */
	char plain[3000], enc[5000];
	struct buf b;
	size_t i, n = 0;
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	(void)state;
	for (i = 0; i < sizeof plain; i++)
		plain[i] = (char)('a' + i % 26);
	for (i = 0; i < sizeof plain; i += 3) {
		unsigned v =
		        (unsigned char)plain[i] << 16 | (unsigned char)plain[i + 1] << 8 | (unsigned char)plain[i + 2];
		enc[n++] = alpha[v >> 18 & 63];
		enc[n++] = alpha[v >> 12 & 63];
		enc[n++] = alpha[v >> 6 & 63];
		enc[n++] = alpha[v & 63];
		if ((i / 3 + 1) % 19 == 0) {
			enc[n++] = '\r';
			enc[n++] = '\n';
		}
	}
	buf_init(&b, 1u << 20);
	assert_int_equal(mime_base64_decode(enc, n, &b), RC_OK);
	assert_int_equal(b.len, sizeof plain);
	assert_memory_equal(b.data, plain, sizeof plain);
	buf_release(&b);
}

static void test_encoded_words(void **state)
{
	(void)state;
	assert_run(HEADER, "=?UTF-8?B?w6fDo28=?=", "\xc3\xa7\xc3\xa3o");
	assert_run(HEADER, "=?utf-8?b?w6fDo28=?=", "\xc3\xa7\xc3\xa3o");
	assert_run(HEADER, "=?ISO-8859-1?Q?Alerta_cr=EDtico?=", "Alerta cr\xc3\xadtico");
	assert_run(HEADER, "[CRIT] =?UTF-8?Q?disco_cheio?= em db1", "[CRIT] disco cheio em db1");
	/* blanks between adjacent encoded words vanish, even across a folded line */
	assert_run(HEADER, "=?UTF-8?Q?a?= =?UTF-8?Q?b?=\t =?ISO-8859-1?Q?=E7?=", "ab\xc3\xa7");
	/* a character split over two words of one charset is joined before decoding */
	assert_run(HEADER, "=?UTF-8?B?ww==?= =?UTF-8?B?pw==?=", "\xc3\xa7");
	/* RFC 2231 language suffix */
	assert_run(HEADER, "=?UTF-8*pt-BR?Q?ol=C3=A1?=", "ol\xc3\xa1");
	/* glued without a blank, as some mailers do */
	assert_run(HEADER, "=?UTF-8?Q?x?==?UTF-8?Q?y?=", "xy");
	/* not encoded words: kept as they are */
	assert_run(HEADER, "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	assert_run(HEADER, "=?UTF-8?Q?sem fim", "=?UTF-8?Q?sem fim");
	assert_run(HEADER, "a =? b ?= c", "a =? b ?= c");
	assert_run(HEADER, "=??Q?x?=", "=??Q?x?=");
	/* raw 8-bit header text: UTF-8 when it is, else Windows-1252 */
	assert_run(HEADER, "Pre\xc3\xa7o", "Pre\xc3\xa7o");
	assert_run(HEADER, "Pre\xe7o", "Pre\xc3\xa7o");
}

static void test_charsets(void **state)
{
	(void)state;
	assert_conv("ISO-8859-1", "Ol\xe1 a\xe7\xe3o", "Ol\xc3\xa1 a\xc3\xa7\xc3\xa3o");
	assert_conv("latin1", "\xe7", "\xc3\xa7");
	assert_conv("windows-1252", "\x80 \x93x\x94", "\xe2\x82\xac \xe2\x80\x9cx\xe2\x80\x9d");
	assert_conv("\"iso-8859-1\"", "\x93ok\x94", "\xe2\x80\x9cok\xe2\x80\x9d"); /* quoted; 1252 superset */
	assert_conv("ISO-8859-15", "\xa4", "\xe2\x82\xac");
	assert_conv("UTF-8", "ok \xc3\xa7", "ok \xc3\xa7");
	assert_conv("UTF-8", "bad \xff\xc3 end", "bad \xef\xbf\xbd\xef\xbf\xbd end");
	assert_conv("UTF-8", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	assert_conv("UTF-8", "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");                 /* overlong */
	assert_conv("us-ascii", "caf\xc3\xa9", "caf\xc3\xa9");                        /* mislabelled UTF-8 */
	assert_conv("us-ascii", "caf\xe9", "caf\xc3\xa9");                            /* mislabelled Latin-1 */
	assert_conv(NULL, "caf\xe9", "caf\xc3\xa9");
	assert_conv("x-unknown/../../etc", "ok", "ok");
	assert_conv("windows-1252", "\x81", "\xef\xbf\xbd"); /* undefined in 1252 */
	assert_conv("UTF-8", "nul\0tab\tbell\a del\x7f", "nultab\tbell del");
	assert_conv("utf-16le", "o\0k\0", "ok");
}

static void test_html_text(void **state)
{
	char *got;

	(void)state;
	assert_run(HTML,
	           "<html><head><title>t</title><style>p{color:red}</style></head><body>"
	           "<p>Disco   <b>cheio</b>\n em db1</p><script>alert(1)</script>"
	           "<p>A&amp;B &lt;x&gt; &eacute; &#231;&nbsp;ok</p>linha<br>nova</body></html>",
	           "\n\nDisco cheio em db1\n\nA&B <x> \xc3\xa9 \xc3\xa7 ok\nlinha\nnova\n");
	assert_run(HTML, "<pre>a\n  b</pre>", "\n\na\n  b\n\n");
	assert_run(HTML, "", "");
	/* broken markup: whatever libxml2 recovers, text survives and nothing crashes */
	got = run(HTML, "<<<>>>&&&</p></div>", NULL);
	assert_non_null(strstr(got, ">>>&&&"));
	free(got);
}

static const char qp_mail[] = "Return-Path: <monitor@example.com>\r\n"
                              "From: Monitor <monitor@example.com>\r\n"
                              "To: plantao@example.com\r\n"
                              "Subject: =?UTF-8?Q?Falha_na_replica=C3=A7=C3=A3o?=\r\n"
                              " =?UTF-8?Q?_do_banco?=\r\n"
                              "Message-ID: <20261123.abc123@monitor.example.com>\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: text/plain; charset=\"utf-8\"\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n"
                              "\r\n"
                              "A replica=C3=A7=C3=A3o do banco db1 parou =C3=A0s 10:00.\r\n"
                              "Verifique o espa=C3=A7o em disco e reinicie o servi=\r\n"
                              "=C3=A7o.\r\n"
                              "\r\n"
                              "\r\n"
                              "\r\n"
                              "-- =\r\n"
                              "\r\n"
                              "monitor\r\n";

static void test_whole_qp_mail(void **state)
{
	struct mime_msg m;

	(void)state;
	PARSE(qp_mail, &m);
	assert_string_equal(m.subject, "Falha na replica\xc3\xa7\xc3\xa3o do banco");
	assert_string_equal(m.from, "Monitor <monitor@example.com>");
	assert_string_equal(m.message_id, "20261123.abc123@monitor.example.com");
	assert_string_equal(m.text, "A replica\xc3\xa7\xc3\xa3o do banco db1 parou \xc3\xa0s 10:00.\n"
	                            "Verifique o espa\xc3\xa7o em disco e reinicie o servi\xc3\xa7o.\n\n--\nmonitor");
	assert_false(m.html);
	assert_false(m.truncated);
	mime_release(&m);
	assert_null(m.subject);
}

static void test_base64_latin1_mail(void **state)
{
	/* "Temperatura alta na sala dos servidores: 41 ºC" in ISO-8859-1, base64, LF line ends */
	static const char raw[] = "From: sensor@example.com\n"
	                          "Subject: =?iso-8859-1?B?VGVtcGVyYXR1cmEgYWx0YQ==?=\n"
	                          "Content-Type: TEXT/PLAIN; CHARSET=ISO-8859-1\n"
	                          "Content-Transfer-Encoding: BASE64\n"
	                          "\n"
	                          "VGVtcGVyYXR1cmEgYWx0YSBuYSBzYWxh\n"
	                          "IGRvcyBzZXJ2aWRvcmVzOiA0MSC6Qw==\n";
	struct mime_msg m;

	(void)state;
	PARSE(raw, &m);
	assert_string_equal(m.subject, "Temperatura alta");
	assert_string_equal(m.text, "Temperatura alta na sala dos servidores: 41 \xc2\xba"
	                            "C");
	assert_null(m.message_id);
	mime_release(&m);
}

static const char alternative_mail[] = "From: alertmanager@example.com\r\n"
                                       "Subject: [FIRING:1] DiskFull\r\n"
                                       "Message-ID: <alt-1@example.com>\r\n"
                                       "Content-Type: multipart/alternative;\r\n"
                                       "\tboundary=\"==b1==\"\r\n"
                                       "\r\n"
                                       "This is a multi-part message in MIME format.\r\n"
                                       "--==b1==\r\n"
                                       "Content-Type: text/html; charset=utf-8\r\n"
                                       "\r\n"
                                       "<p>HTML version</p>\r\n"
                                       "--==b1==\r\n"
                                       "Content-Type: text/plain; charset=utf-8\r\n"
                                       "Content-Transfer-Encoding: 8bit\r\n"
                                       "\r\n"
                                       "Plain version: /var is 98% full\r\n"
                                       "--==b1==--\r\n"
                                       "epilogue\r\n";

static void test_alternative_prefers_plain(void **state)
{
	struct mime_msg m;

	(void)state;
	PARSE(alternative_mail, &m);
	assert_string_equal(m.subject, "[FIRING:1] DiskFull");
	assert_string_equal(m.text, "Plain version: /var is 98% full");
	assert_false(m.html);
	mime_release(&m);
}

static void test_html_only(void **state)
{
	static const char raw[] =
	        "Subject: html\r\n"
	        "Content-Type: multipart/alternative; boundary=XYZ\r\n"
	        "\r\n"
	        "--XYZ\r\n"
	        "Content-Type: text/html; charset=windows-1252\r\n"
	        "Content-Transfer-Encoding: quoted-printable\r\n"
	        "\r\n"
	        "<html><body><h1>Alerta</h1><p>Servi=E7o fora do ar =96 verifique</p></body></html>\r\n"
	        "--XYZ--\r\n";
	struct mime_msg m;

	(void)state;
	PARSE(raw, &m);
	assert_string_equal(m.text, "Alerta\n\nServi\xc3\xa7o fora do ar \xe2\x80\x93 verifique");
	assert_true(m.html);
	mime_release(&m);
}

static void test_mixed_with_attachment(void **state)
{
	static const char raw[] = "Subject: backup\r\n"
	                          "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	                          "\r\n"
	                          "--outer\r\n"
	                          "Content-Type: text/plain; name=\"log.txt\"\r\n"
	                          "Content-Disposition: attachment; filename=\"log.txt\"\r\n"
	                          "\r\n"
	                          "attached log, not the body\r\n"
	                          "--outer\r\n"
	                          "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
	                          "\r\n"
	                          "--inner\r\n"
	                          "Content-Type: text/plain; charset=iso-8859-1\r\n"
	                          "Content-Transfer-Encoding: quoted-printable\r\n"
	                          "\r\n"
	                          "Backup falhou na m=E1quina db2\r\n"
	                          "--inner\r\n"
	                          "Content-Type: text/html\r\n"
	                          "\r\n"
	                          "<p>html</p>\r\n"
	                          "--inner--\r\n"
	                          "--outer\r\n"
	                          "Content-Type: application/pdf\r\n"
	                          "Content-Transfer-Encoding: base64\r\n"
	                          "\r\n"
	                          "JVBERi0xLjQK\r\n"
	                          "--outer--\r\n";
	struct mime_msg m;

	(void)state;
	PARSE(raw, &m);
	assert_string_equal(m.text, "Backup falhou na m\xc3\xa1quina db2");
	mime_release(&m);
}

static void test_boundaries(void **state)
{
	/* "--ab" must not be taken for "--abc"; a missing close delimiter ends at the input's end;
	 * the line break before a delimiter is not part of the body */
	static const char raw[] = "Content-Type: multipart/mixed; boundary=abc\r\n"
	                          "\r\n"
	                          "--ab\r\n"
	                          "--abcd\r\n"
	                          "--abc \r\n"
	                          "\r\n"
	                          "first part (no headers: text/plain)\r\n"
	                          "--abcX\r\n"
	                          "still first\r\n"
	                          "\r\n"
	                          "--abc\r\n"
	                          "Content-Type: text/plain\r\n"
	                          "\r\n"
	                          "second\r\n";
	static const char no_boundary[] = "Content-Type: multipart/mixed\r\n"
	                                  "\r\n"
	                                  "--x\r\n\r\nhello\r\n--x--\r\n";
	struct mime_msg m;

	(void)state;
	PARSE(raw, &m);
	assert_string_equal(m.text, "first part (no headers: text/plain)\n--abcX\nstill first");
	mime_release(&m);
	PARSE(no_boundary, &m);
	assert_string_equal(m.text, "");
	mime_release(&m);
}

static void test_missing_headers(void **state)
{
	static const char body_only[] = "\r\nno headers at all\r\n";
	static const char headers_only[] = "Subject: only headers\r\nMessage-ID: <x@y>";
	static const char junk_ids[] = "Message-ID: no brackets here\r\nSubject:\r\n\r\nx";
	struct mime_msg m;

	(void)state;
	PARSE(body_only, &m);
	assert_string_equal(m.subject, "");
	assert_string_equal(m.from, "");
	assert_null(m.message_id);
	assert_string_equal(m.text, "no headers at all");
	mime_release(&m);

	PARSE(headers_only, &m);
	assert_string_equal(m.subject, "only headers");
	assert_string_equal(m.message_id, "x@y");
	assert_string_equal(m.text, "");
	mime_release(&m);

	PARSE(junk_ids, &m);
	assert_string_equal(m.subject, "");
	assert_string_equal(m.message_id, "nobracketshere");
	assert_string_equal(m.text, "x");
	mime_release(&m);
}

static void test_header_details(void **state)
{
	static const char raw[] = "X-Subject: not this one\r\n"
	                          "SUBJECT  :  folded\r\n"
	                          "\t  over\r\n"
	                          "   three lines  \r\n"
	                          "Subject: second Subject ignored\r\n"
	                          "message-id:   <  a b@c >  (comment)\r\n"
	                          "\r\n"
	                          "body\r\n";
	struct mime_msg m;

	(void)state;
	PARSE(raw, &m);
	assert_string_equal(m.subject, "folded over three lines");
	assert_string_equal(m.message_id, "ab@c");
	mime_release(&m);
}

static void test_malformed_never_fails(void **state)
{
	static const char *const inputs[] = {
	        "",
	        "\r\n",
	        "\n\n\n",
	        ":",
	        "Content-Type: multipart/mixed; boundary=\"\r\n\r\n--\r\n--\r\n",
	        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n",
	        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b",
	        "Content-Type: ; ; = ;charset=\"\r\n\r\nx",
	        "Content-Type: text/plain; charset=\"utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n====",
	        "Content-Transfer-Encoding: quoted-printable\r\n\r\n=",
	        "Subject: =?\r\n\r\n",
	        "Subject: =?utf-8?b?\r\n\r\n",
	        "Subject: =?utf-8?q?"
	        "?=\r\n\r\n",
	        "Content-Type: text/html\r\n\r\n<",
	        "Content-Type: text/html\r\n\r\n<!DOCTYPE html><html><body></body></html>",
	};
	char nul_body[] = "Subject: a\0b\r\n\r\nline\0one\r\n";
	struct mime_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		parse(inputs[i], strlen(inputs[i]), &m);
		mime_release(&m);
	}
	parse(nul_body, sizeof nul_body - 1, &m);
	assert_string_equal(m.text, "lineone");
	mime_release(&m);
}

static void test_deep_nesting(void **state)
{
	/* 40 levels of multipart, the text at the bottom: ignored past MIME_MAX_DEPTH, no crash */
	struct buf b;
	struct mime_msg m;
	int i;

	(void)state;
	buf_init(&b, 1u << 20);
	for (i = 0; i < 40; i++)
		assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i),
		                 RC_OK);
	assert_int_equal(buf_puts(&b, "Content-Type: text/plain\r\n\r\ndeep\r\n"), RC_OK);
	parse(b.data, b.len, &m);
	assert_string_equal(m.text, "");
	mime_release(&m);
	buf_release(&b);

	buf_init(&b, 1u << 20);
	for (i = 0; i < 5; i++)
		assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i),
		                 RC_OK);
	assert_int_equal(buf_puts(&b, "Content-Type: text/plain\r\n\r\nshallow\r\n"), RC_OK);
	parse(b.data, b.len, &m);
	assert_string_equal(m.text, "shallow");
	mime_release(&m);
	buf_release(&b);
}

static void test_many_parts(void **state)
{
	/* more parts than MIME_MAX_PARTS, all attachments: looked at up to the cap, no text */
	struct buf b;
	struct mime_msg m;
	int i;

	(void)state;
	buf_init(&b, 4u << 20);
	assert_int_equal(buf_puts(&b, "Content-Type: multipart/mixed; boundary=p\r\n\r\n"), RC_OK);
	for (i = 0; i < MIME_MAX_PARTS + 10; i++)
		assert_int_equal(buf_puts(&b, "--p\r\nContent-Type: image/png\r\n\r\nxx\r\n"), RC_OK);
	assert_int_equal(buf_puts(&b, "--p\r\nContent-Type: text/plain\r\n\r\nlate\r\n--p--\r\n"), RC_OK);
	parse(b.data, b.len, &m);
	assert_string_equal(m.text, "");
	mime_release(&m);
	buf_release(&b);
}

static void test_utf8_prefix(void **state)
{
	(void)state;
	assert_int_equal(mime_utf8_prefix("abc", 2), 2);
	assert_int_equal(mime_utf8_prefix("abc", 5), 3);
	assert_int_equal(mime_utf8_prefix("\xc3\xa7\xc3\xa3o", 2), 4);
	assert_int_equal(mime_utf8_prefix("\xe2\x82\xac\xe2\x82\xac", 1), 3);
	assert_int_equal(mime_utf8_prefix("", 3), 0);
	assert_int_equal(mime_utf8_prefix("abc", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_quoted_printable),
	        cmocka_unit_test(test_base64),
	        cmocka_unit_test(test_long_base64),
	        cmocka_unit_test(test_encoded_words),
	        cmocka_unit_test(test_charsets),
	        cmocka_unit_test(test_html_text),
	        cmocka_unit_test(test_whole_qp_mail),
	        cmocka_unit_test(test_base64_latin1_mail),
	        cmocka_unit_test(test_alternative_prefers_plain),
	        cmocka_unit_test(test_html_only),
	        cmocka_unit_test(test_mixed_with_attachment),
	        cmocka_unit_test(test_boundaries),
	        cmocka_unit_test(test_missing_headers),
	        cmocka_unit_test(test_header_details),
	        cmocka_unit_test(test_malformed_never_fails),
	        cmocka_unit_test(test_deep_nesting),
	        cmocka_unit_test(test_many_parts),
	        cmocka_unit_test(test_utf8_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
