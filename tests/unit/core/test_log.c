/* tests/unit/core/test_log.c — log records stay one line (server/core/log.c): control
 * characters a client put in a path or a summary are escaped, so no line can be forged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tests/unit/capture.h"

static void one_line_per_record(void **state)
{
	struct capture c;
	char text[4096];
	const char *forged = "/x\n2026-01-01T00:00:00.000Z ERROR forged\r\x1b[2J\x7f\tend";

	(void)state;
	capture_begin(&c);
	log_info("GET %s 404", forged);
	log_warn("summary: %s", "line1\nline2");
	capture_end(&c, text, sizeof text);
	/* two records, two lines */
	assert_non_null(strchr(text, '\n'));
	assert_null(strchr(strchr(text, '\n') + 1, '\n') == text + strlen(text) - 1 ? NULL : "third line");
	assert_null(strstr(text, "\nline2"));
	assert_null(strchr(text, '\r'));
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "GET /x\\n2026-01-01T00:00:00.000Z ERROR forged\\r\\x1b[2J\\x7f\\tend 404\n"));
	assert_non_null(strstr(text, "summary: line1\\nline2\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(one_line_per_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
