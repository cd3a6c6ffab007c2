/*
 * tests/unit/mail/test_compose.c — e-mails as MIME text: RFC 2047 subjects that decode back to
 * the same UTF-8 (long ones split into words of at most 75 characters, never inside a
 * character), header injection impossible, both parts present and read back by plantao's own
 * MIME reader (server/pager/mime.h), user text escaped in the HTML part, base64 lines of 76.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "mail/compose.h"
#include "pager/mime.h"

static char *decode_header(const char *enc)
{
	struct buf b;
	char *s;

	buf_init(&b, 1u << 20);
	assert_int_equal(mime_header_decode(enc, strlen(enc), &b), RC_OK);
	s = strdup(b.data ? b.data : "");
	buf_release(&b);
	return s;
}

static void check_words(const char *enc)
{
	const char *p = enc;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		const char *end = strstr(p + 10, "?=");

		assert_non_null(end);
		assert_true(end + 2 - p <= 75);
		p = end + 2;
	}
}

static void test_subject_round_trip(void **state)
{
	const char *subjects[] = {
	        "Alerta 12: disco cheio",
	        "Alerta 3: Relatório diário não gerado — ação necessária",
	        "ações ações ações ações ações ações ações ações ações ações ações ações ações ações 🚨🚨🚨 fim",
	        "=?UTF-8?B?Zm9v?= looks encoded",
	        "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
		char *enc = compose_encode_header(subjects[i]), *dec;

		assert_non_null(enc);
		check_words(enc);
		dec = decode_header(enc);
		assert_string_equal(dec, subjects[i]);
		free(dec);
		free(enc);
	}
}

static void test_header_injection_is_impossible(void **state)
{
	char *enc = compose_encode_header("disco cheio\r\nBcc: intruso@example.com");

	(void)state;
	assert_non_null(enc);
	assert_null(strstr(enc, "\r\nBcc"));
	free(enc);
}

static void test_message_reads_back(void **state)
{
	struct compose_msg m = {0};
	struct mime_msg parsed;
	char id[COMPOSE_MESSAGE_ID_MAX], *msg = NULL, *p;

	(void)state;
	assert_int_equal(compose_message_id("plantao@example.com", 1796188688, id, sizeof id), RC_OK);
	assert_true(id[0] == '<' && strstr(id, "@example.com>") != NULL);
	m.from = "plantao@example.com";
	m.to = "ana@example.com";
	m.subject = "Alerta 7: réplica <atrasada>";
	m.text = "Olá, Ana.\n\nJob <b>etl</b> & \"cron\" falhou\n";
	m.link = "https://runbooks.example.com/db?x=1&y=2";
	m.link_label = "Runbook";
	m.lang = "pt-BR";
	m.message_id = id;
	m.date = 1796188688; /* 2026-12-02 05:18:08 UTC, a Wednesday */
	assert_int_equal(compose_message(&m, &msg), RC_OK);
	assert_non_null(strstr(msg, "Date: Wed, 02 Dec 2026 05:18:08 +0000\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: <ana@example.com>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "Content-Type: multipart/alternative;\r\n boundary="));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8"));
	assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8"));
	/* every line ends with CRLF and none is longer than 78 characters plus CRLF */
	for (p = msg; *p;) {
		char *nl = strchr(p, '\n');

		assert_non_null(nl);
		assert_true(nl > p && nl[-1] == '\r');
		assert_true(nl - p <= 78 + 1);
		p = nl + 1;
	}
	assert_int_equal(mime_parse(msg, strlen(msg), &parsed), RC_OK);
	assert_string_equal(parsed.subject, "Alerta 7: réplica <atrasada>");
	assert_non_null(parsed.message_id);
	assert_non_null(strstr(id, parsed.message_id));
	assert_false(parsed.html); /* the text part is chosen */
	assert_non_null(strstr(parsed.text, "Job <b>etl</b> & \"cron\" falhou"));
	mime_release(&parsed);
	free(msg);
}

static void test_html_part_is_escaped(void **state)
{
	struct compose_msg m = {0};
	const char *start, *end;
	char *msg = NULL, *b64;
	struct buf html;

	(void)state;
	m.from = "plantao@example.com";
	m.to = "ana@example.com";
	m.subject = "x";
	m.text = "<script>alert(1)</script> & \"q\"";
	m.link = "javascript:alert(1)";
	m.lang = "en";
	m.message_id = "<a@example.com>";
	assert_int_equal(compose_message(&m, &msg), RC_OK);
	start = strstr(msg, "Content-Type: text/html");
	assert_non_null(start);
	start = strstr(start, "\r\n\r\n") + 4;
	end = strstr(start, "--=_plantao_");
	assert_non_null(end);
	b64 = strndup(start, (size_t)(end - start));
	buf_init(&html, 1u << 20);
	assert_int_equal(mime_base64_decode(b64, strlen(b64), &html), RC_OK);
	assert_non_null(strstr(html.data, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
	assert_null(strstr(html.data, "<script>"));
	assert_null(strstr(html.data, "javascript:")); /* only http(s) links become links */
	assert_non_null(strstr(html.data, "<html lang=\"en\">"));
	buf_release(&html);
	free(b64);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_subject_round_trip),
	        cmocka_unit_test(test_header_injection_is_impossible),
	        cmocka_unit_test(test_message_reads_back),
	        cmocka_unit_test(test_html_part_is_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
