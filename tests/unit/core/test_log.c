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

static void one_line_per_record(void **state)
{
	char path[] = "/tmp/plantao-log-XXXXXX", text[4096];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;
	const char *forged = "/x\n2026-01-01T00:00:00.000Z ERROR forged\r\x1b[2J\x7f\tend";

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_true(dup2(fd, 2) >= 0);
	log_info("GET %s 404", forged);
	log_warn("summary: %s", "line1\nline2");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	unlink(path);
	text[n] = '\0';
	/* two records, two lines */
	assert_non_null(strchr(text, '\n'));
	assert_null(strchr(strchr(text, '\n') + 1, '\n') == text + n - 1 ? NULL : "third line");
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
