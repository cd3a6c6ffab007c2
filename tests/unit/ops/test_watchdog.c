/*
 * tests/unit/ops/test_watchdog.c — the systemd watchdog's decision (server/ops/service.c,
 * service_watchdog_decide): WATCHDOG=1 only while the engine's last finished tick is recent,
 * whatever else the process does; a stall is reported once, and the recovery once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/service.h"

#define SEC     1000000LL
#define WD_USEC (60 * SEC) /* dist/plantao.service: WatchdogSec=60s */

static void test_recent_tick_pings(void **state)
{
	int64_t now = 1000 * SEC;

	(void)state;
	assert_int_equal(service_watchdog_decide(now, now - 100000, WD_USEC, false), SERVICE_WD_PING);
	assert_int_equal(service_watchdog_decide(now, now - 30 * SEC, WD_USEC, false), SERVICE_WD_PING);
}

static void test_stalled_engine_gets_no_ping(void **state)
{
	int64_t now = 1000 * SEC, tick = now - 31 * SEC;

	(void)state;
	/* the engine's tick is blocked: the first beat past WATCHDOG_USEC/2 reports it… */
	assert_int_equal(service_watchdog_decide(now, tick, WD_USEC, false), SERVICE_WD_STALLED);
	/* …and every later beat withholds the ping, so systemd restarts plantao */
	assert_int_equal(service_watchdog_decide(now + 15 * SEC, tick, WD_USEC, true), SERVICE_WD_WITHHOLD);
	assert_int_equal(service_watchdog_decide(now + 600 * SEC, tick, WD_USEC, true), SERVICE_WD_WITHHOLD);
}

static void test_engine_that_never_ticked_is_stalled(void **state)
{
	(void)state;
	assert_int_equal(service_watchdog_decide(5 * SEC, 0, WD_USEC, false), SERVICE_WD_STALLED);
}

static void test_ticks_again_pings_again(void **state)
{
	int64_t now = 1000 * SEC;

	(void)state;
	assert_int_equal(service_watchdog_decide(now, now - SEC, WD_USEC, true), SERVICE_WD_PING_AGAIN);
	assert_int_equal(service_watchdog_decide(now + 15 * SEC, now + 14 * SEC, WD_USEC, false), SERVICE_WD_PING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_recent_tick_pings),
	        cmocka_unit_test(test_stalled_engine_gets_no_ping),
	        cmocka_unit_test(test_engine_that_never_ticked_is_stalled),
	        cmocka_unit_test(test_ticks_again_pings_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
