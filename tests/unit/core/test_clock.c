/* tests/unit/core/test_clock.c — the test clock hook (server/core/clock.c): offsets read from
 * PLANTAO_CLOCK_FILE, and values that are not a finite number of seconds refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static char path[64];

static void write_offset(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The clock's offset from the real clock, in seconds (rounded). */
static int64_t offset_s(void)
{
	struct timespec ts;
	int64_t ms = clock_now_ms(), real_ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return (ms - real_ms + (ms >= real_ms ? 500 : -500)) / 1000;
}

static void offsets_and_hostile_values(void **state)
{
	static const char *refused[] = {"nan", "inf", "-inf", "1e300", "-1e19", "NaN(0x1)", "infinity"};
	size_t i;
	int fd;

	(void)state;
	snprintf(path, sizeof path, "/tmp/plantao-clock-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_offset("3600\n");
	clock_use_file(path);
	assert_int_equal(offset_s(), 3600);
	write_offset("-86400.5\n");
	clock_reload();
	assert_true(offset_s() == -86400 || offset_s() == -86401);
	write_offset("7200");
	clock_reload();
	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		write_offset(refused[i]);
		clock_reload(); /* refused: the last good offset stays in force */
		assert_int_equal(offset_s(), 7200);
		assert_true(clock_now() > 0);
	}
	write_offset("garbage");
	clock_reload();
	assert_int_equal(offset_s(), 7200);
	clock_use_file(NULL);
	clock_set_offset(0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(offsets_and_hostile_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
