/*
 * tests/unit/pager/test_imap.c — the IMAP poller's own parsing: the SEARCH command built from the
 * configuration, SEARCH results, and the message literal found in FETCH response lines.
 * (The poller against a real server: tests/integration/test_imap.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pager/imap.h"

static void assert_search(const char *from, const char *subject, enum rc want, const char *cmd)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(imap_search_command(from, subject, &b), want);
	if (want == RC_OK)
		assert_string_equal(b.data, cmd);
	buf_release(&b);
}

static void test_search_command(void **state)
{
	(void)state;
	assert_search("monitor@example.com", "ALERTA", RC_OK,
	              "UID SEARCH UNSEEN FROM \"monitor@example.com\" SUBJECT \"ALERTA\"");
	assert_search(NULL, NULL, RC_OK, "UID SEARCH UNSEEN");
	assert_search("", "x", RC_OK, "UID SEARCH UNSEEN SUBJECT \"x\"");
	assert_search("a@b", "", RC_OK, "UID SEARCH UNSEEN FROM \"a@b\"");
	/* quotes and backslashes cannot end the string early */
	assert_search("\"x\" <a@b>", "c:\\tmp \"y\"", RC_OK,
	              "UID SEARCH UNSEEN FROM \"\\\"x\\\" <a@b>\" SUBJECT \"c:\\\\tmp \\\"y\\\"\"");
	/* 8-bit text names its charset */
	assert_search(NULL, "Replica\xc3\xa7\xc3\xa3o", RC_OK,
	              "UID SEARCH CHARSET UTF-8 UNSEEN SUBJECT \"Replica\xc3\xa7\xc3\xa3o\"");
	/* a line break would end the command: refused */
	assert_search("a@b", "x\r\nA1 LOGOUT", RC_INVALID, NULL);
	assert_search("a\x01@b", NULL, RC_INVALID, NULL);
}

static void test_parse_search(void **state)
{
	static const char text[] = "* 3 EXISTS\r\n"
	                           "* SEARCH 9 2 7 2\r\n"
	                           "* SEARCH\r\n"
	                           "* SEARCH 11 (MODSEQ 917162500)\r\n"
	                           "* OK [SEARCH 99]\r\n"
	                           "* SEARCH 0 x 4294967295 4294967296 5";
	uint32_t uids[8];
	size_t n = 99;

	(void)state;
	imap_parse_search(text, sizeof text - 1, uids, 8, &n);
	assert_int_equal(n, 6);
	assert_int_equal(uids[0], 2);
	assert_int_equal(uids[1], 5);
	assert_int_equal(uids[2], 7);
	assert_int_equal(uids[3], 9);
	assert_int_equal(uids[4], 11);
	assert_int_equal(uids[5], 4294967295u);

	/* at most max, in the server's order of arrival, then sorted */
	imap_parse_search("* SEARCH 5 4 3 2 1\r\n", 20, uids, 2, &n);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], 4);
	assert_int_equal(uids[1], 5);

	imap_parse_search("", 0, uids, 8, &n);
	assert_int_equal(n, 0);
	imap_parse_search("* SEARCH", 8, uids, 8, &n);
	assert_int_equal(n, 0);
}

/* What libcurl hands the header callback for the first FETCH on a new connection. */
static const char stream[] = "* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n"
                             "A001 OK Pre-login capabilities listed.\r\n"
                             "A002 OK Logged in\r\n"
                             "* 2 EXISTS\r\n"
                             "* OK [UIDVALIDITY 1795432431] UIDs valid\r\n"
                             "A003 OK [READ-WRITE] Select completed.\r\n"
                             "* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n"
                             "* 2 FETCH (UID 8 RFC822.SIZE 1234567 BODY[]<0> {39}\r\n"
                             "Subject: x\r\n"
                             "\r\n"
                             "* 9 FETCH (UID 8 {3}\r\n"
                             ")\r\n"
                             " UID 8)\r\n"
                             "A004 OK Fetch completed.\r\n";

static void test_fetch_literal(void **state)
{
	const char *lit = NULL;
	size_t len = 0;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(imap_fetch_literal(stream, sizeof stream - 1, 8, &lit, &len, &size), RC_OK);
	assert_int_equal(len, 39);
	assert_memory_equal(lit, "Subject: x\r\n\r\n* 9 FETCH (UID 8 {3}\r\n)\r\n", 39);
	assert_int_equal(size, 1234567);
	/* another UID's FETCH is not ours */
	assert_int_equal(imap_fetch_literal(stream, sizeof stream - 1, 7, &lit, &len, &size), RC_NOT_FOUND);
	assert_int_equal(imap_fetch_literal(stream, sizeof stream - 1, 80, &lit, &len, &size), RC_NOT_FOUND);
}

static void test_fetch_literal_variants(void **state)
{
	static const char size_after[] = "* 1 FETCH (UID 3 BODY[]<65536> {4}\r\nabcd RFC822.SIZE 70000)\r\nA9 OK\r\n";
	static const char no_size[] = "* 1 FETCH (BODY[] {2}\r\nhi UID 3)\r\n* 1 FETCH (UID 3 BODY[] {2}\r\nok)\r\n";
	static const char empty[] = "* 1 FETCH (UID 3 BODY[] {0}\r\n)\r\n";
	static const char cut[] = "* 1 FETCH (UID 3 BODY[] {100}\r\nonly a little\r\nA004 OK\r\n";
	static const char no_literal[] = "* 1 FETCH (UID 3 BODY[] \"\")\r\nA004 OK\r\n";
	static const char unterminated[] = "* 1 FETCH (UID 3 BODY[] {5}";
	const char *lit = NULL;
	size_t len = 0;
	uint64_t size = 0;

	(void)state;
	assert_int_equal(imap_fetch_literal(size_after, sizeof size_after - 1, 3, &lit, &len, &size), RC_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(lit, "abcd", 4);
	assert_int_equal(size, 70000);

	/* the first line has no UID: skipped; the second has no RFC822.SIZE: 0 */
	assert_int_equal(imap_fetch_literal(no_size, sizeof no_size - 1, 3, &lit, &len, &size), RC_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(lit, "ok", 2);
	assert_int_equal(size, 0);

	assert_int_equal(imap_fetch_literal(empty, sizeof empty - 1, 3, &lit, &len, &size), RC_OK);
	assert_int_equal(len, 0);

	assert_int_equal(imap_fetch_literal(cut, sizeof cut - 1, 3, &lit, &len, &size), RC_UPSTREAM);
	assert_int_equal(imap_fetch_literal(no_literal, sizeof no_literal - 1, 3, &lit, &len, &size), RC_NOT_FOUND);
	assert_int_equal(imap_fetch_literal(unterminated, sizeof unterminated - 1, 3, &lit, &len, &size), RC_NOT_FOUND);
	assert_int_equal(imap_fetch_literal("", 0, 3, &lit, &len, &size), RC_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_search_command),
	        cmocka_unit_test(test_parse_search),
	        cmocka_unit_test(test_fetch_literal),
	        cmocka_unit_test(test_fetch_literal_variants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
