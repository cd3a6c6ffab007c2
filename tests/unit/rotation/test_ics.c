/* tests/unit/rotation/test_ics.c — the iCalendar feed: structure, UIDs, escaping, folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rotation/ics.h"

static const char *names(void *ctx, int64_t id)
{
	const char *const *n = ctx;

	return id >= 1 && id <= 4 ? n[id - 1] : NULL;
}

static char *render(const struct schedule_shift *sh, size_t n, const char *const *who, const char *calname)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(ics_render(sh, n, names, (void *)who, calname, 1767225600, &b), RC_OK);
	return buf_steal(&b);
}

/* Undoes RFC 5545 folding (CRLF followed by one space). */
static char *unfold(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;

	assert_non_null(o);
	while (*s) {
		if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ') {
			s += 3;
			continue;
		}
		*p++ = *s++;
	}
	*p = '\0';
	return o;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;

	while (i < n) {
		if (s[i] < 0x80)
			len = 1;
		else if ((s[i] & 0xE0) == 0xC0)
			len = 2;
		else if ((s[i] & 0xF0) == 0xE0)
			len = 3;
		else if ((s[i] & 0xF8) == 0xF0)
			len = 4;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* Every physical line ends in CRLF, is at most 75 octets and holds whole UTF-8 characters;
 * returns how many lines were continuations. */
static int check_lines(const char *s)
{
	const char *p = s, *e;
	int cont = 0;

	while (*p) {
		e = strstr(p, "\r\n");
		assert_non_null(e);
		assert_true(e - p <= 75);
		assert_null(memchr(p, '\n', (size_t)(e - p)));
		assert_null(memchr(p, '\r', (size_t)(e - p)));
		if (*p == ' ') {
			cont++;
			assert_true(valid_utf8((const unsigned char *)p + 1, (size_t)(e - p - 1)));
		} else {
			assert_true(valid_utf8((const unsigned char *)p, (size_t)(e - p)));
		}
		p = e + 2;
	}
	return cont;
}

static void test_calendar(void **state)
{
	const char *who[] = {"Ana", "Bruno"};
	struct schedule_shift sh[2] = {
	        {1767614400, 1768219200, 1, false, 0, 3},
	        {1767700800, 1767787200, 2, true, 17, 3},
	};
	char *s;

	(void)state;
	s = render(sh, 2, who, "Plantão suporte");
	assert_string_equal(s, "BEGIN:VCALENDAR\r\n"
	                       "VERSION:2.0\r\n"
	                       "PRODID:-//plantao//schedule//PT\r\n"
	                       "CALSCALE:GREGORIAN\r\n"
	                       "METHOD:PUBLISH\r\n"
	                       "X-WR-CALNAME:Plantão suporte\r\n"
	                       "BEGIN:VEVENT\r\n"
	                       "UID:shift-1767614400-1@plantao\r\n"
	                       "DTSTAMP:20260101T000000Z\r\n"
	                       "DTSTART:20260105T120000Z\r\n"
	                       "DTEND:20260112T120000Z\r\n"
	                       "SUMMARY:Plantão: Ana\r\n"
	                       "TRANSP:TRANSPARENT\r\n"
	                       "END:VEVENT\r\n"
	                       "BEGIN:VEVENT\r\n"
	                       "UID:override-17-1767700800-2@plantao\r\n"
	                       "DTSTAMP:20260101T000000Z\r\n"
	                       "DTSTART:20260106T120000Z\r\n"
	                       "DTEND:20260107T120000Z\r\n"
	                       "SUMMARY:Plantão: Bruno (substituição)\r\n"
	                       "TRANSP:TRANSPARENT\r\n"
	                       "END:VEVENT\r\n"
	                       "END:VCALENDAR\r\n");
	assert_int_equal(check_lines(s), 0);
	free(s);
}

static void test_empty_and_unknown_person(void **state)
{
	struct schedule_shift sh = {1767614400, 1768219200, 12, false, 0, 3};
	struct buf b;
	char *s;

	(void)state;
	s = render(NULL, 0, NULL, NULL);
	assert_non_null(strstr(s, "X-WR-CALNAME:plantao\r\n"));
	assert_null(strstr(s, "VEVENT"));
	assert_non_null(strstr(s, "END:VCALENDAR\r\n"));
	free(s);

	/* no name: the id stands in; name_of may be NULL altogether */
	buf_init(&b, 1 << 16);
	assert_int_equal(ics_render(&sh, 1, NULL, NULL, "x", 1767225600, &b), RC_OK);
	assert_non_null(strstr(b.data, "SUMMARY:Plantão: #12\r\n"));
	buf_release(&b);
}

static void test_escaping(void **state)
{
	const char *who[] = {"Silva, Ana; \\o/\nnoite\r\nfim\x01\x7f!"};
	struct schedule_shift sh = {1767614400, 1768219200, 1, false, 0, 3};
	char *s;

	(void)state;
	s = render(&sh, 1, who, "a,b;c\\d");
	assert_non_null(strstr(s, "SUMMARY:Plantão: Silva\\, Ana\\; \\\\o/\\nnoite\\nfim!\r\n"));
	assert_non_null(strstr(s, "X-WR-CALNAME:a\\,b\\;c\\\\d\r\n"));
	check_lines(s);
	free(s);
}

static void test_invalid_utf8_replaced(void **state)
{
	const char *who[] = {"Jo\xe3o \xc3"};
	struct schedule_shift sh = {1767614400, 1768219200, 1, false, 0, 3};
	char *s;

	(void)state;
	s = render(&sh, 1, who, NULL);
	assert_non_null(strstr(s, "SUMMARY:Plantão: Jo\xEF\xBF\xBDo \xEF\xBF\xBD\r\n"));
	check_lines(s);
	free(s);
}

static void test_folding_ascii(void **state)
{
	char name[201];
	const char *who[] = {name};
	struct schedule_shift sh = {1767614400, 1768219200, 1, false, 0, 3};
	char *s, *u, want[260];

	(void)state;
	memset(name, 'a', 200);
	name[200] = '\0';
	s = render(&sh, 1, who, NULL);
	/* "SUMMARY:Plantão: " is 18 octets: 218 octets fold into 75 + 74 + 69 */
	assert_int_equal(check_lines(s), 2);
	assert_non_null(strstr(s, "\r\n aaaa"));
	u = unfold(s);
	snprintf(want, sizeof(want), "SUMMARY:Plantão: %s\r\n", name);
	assert_non_null(strstr(u, want));
	free(u);
	free(s);
}

/* Folding never cuts a multi-octet character, whatever its length and position. */
static void test_folding_utf8(void **state)
{
	static const char *const chars[] = {"ã", "€", "🚨"};
	struct schedule_shift sh = {1767614400, 1768219200, 1, false, 0, 3};
	char name[400], want[500], *s, *u;
	const char *who[] = {name};
	size_t c, pad, len;

	(void)state;
	for (c = 0; c < 3; c++) {
		for (pad = 0; pad < 4; pad++) {
			memset(name, 'x', pad);
			len = pad;
			while (len + 4 < 300) {
				memcpy(name + len, chars[c], strlen(chars[c]));
				len += strlen(chars[c]);
			}
			name[len] = '\0';
			s = render(&sh, 1, who, NULL);
			assert_true(check_lines(s) >= 3);
			u = unfold(s);
			snprintf(want, sizeof(want), "SUMMARY:Plantão: %s\r\n", name);
			assert_non_null(strstr(u, want));
			free(u);
			free(s);
		}
	}
}

static void test_cap_and_range(void **state)
{
	const char *who[] = {"Ana"};
	struct schedule_shift sh = {1767614400, 1768219200, 1, false, 0, 3};
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(ics_render(&sh, 1, names, (void *)who, NULL, 0, &b), RC_TOO_BIG);
	buf_release(&b);
	buf_init(&b, 1 << 16);
	sh.end = INT64_C(253402300800); /* year 10000 */
	assert_int_equal(ics_render(&sh, 1, names, (void *)who, NULL, 0, &b), RC_INVALID);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_calendar),      cmocka_unit_test(test_empty_and_unknown_person),
	        cmocka_unit_test(test_escaping),      cmocka_unit_test(test_invalid_utf8_replaced),
	        cmocka_unit_test(test_folding_ascii), cmocka_unit_test(test_folding_utf8),
	        cmocka_unit_test(test_cap_and_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
