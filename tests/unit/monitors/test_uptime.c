/*
 * tests/unit/monitors/test_uptime.c — the status ranges uptime checks accept (server/monitors/uptime.c):
 * "200-399", single statuses and comma lists, and what is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "monitors/uptime.h"

static void test_status_specs(void **state)
{
	(void)state;
	assert_true(uptime_status_spec_is_valid("200-399"));
	assert_true(uptime_status_spec_is_valid("200"));
	assert_true(uptime_status_spec_is_valid("200,204,300-308"));
	assert_false(uptime_status_spec_is_valid(""));
	assert_false(uptime_status_spec_is_valid(NULL));
	assert_false(uptime_status_spec_is_valid("399-200"));
	assert_false(uptime_status_spec_is_valid("99"));
	assert_false(uptime_status_spec_is_valid("200-600"));
	assert_false(uptime_status_spec_is_valid("200,"));
	assert_false(uptime_status_spec_is_valid("2xx"));
	assert_false(uptime_status_spec_is_valid("200 - 299"));
	assert_true(uptime_status_matches("200-399", 200));
	assert_true(uptime_status_matches("200-399", 399));
	assert_false(uptime_status_matches("200-399", 400));
	assert_false(uptime_status_matches("200-399", 0)); /* no answer at all */
	assert_true(uptime_status_matches("200,204,300-308", 204));
	assert_true(uptime_status_matches("200,204,300-308", 301));
	assert_false(uptime_status_matches("200,204,300-308", 203));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_status_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
