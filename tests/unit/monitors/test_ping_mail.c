/*
 * tests/unit/monitors/test_ping_mail.c — a job that can only send mail pings its heartbeat with
 * the secret in the subject (server/monitors/ping.c, ping_mail), on a real SQLite file: the ping
 * row it leaves, a failure word in the subject, the body kept, and mails that are not pings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../testdb.h"
#include "db/monitors.h"
#include "monitors/ping.h"

#define SECRET "0123456789abcdef0123456789abcdef"

static void test_subject_with_the_secret_is_a_ping(void **state)
{
	char file[64];
	struct db *db = testdb_open("pingmail", file);
	struct monitor m;
	struct monitor_ping p[4];
	json_t *rows;
	size_t n;
	int64_t id;
	bool handled;

	(void)state;
	memset(&m, 0, sizeof m);
	snprintf(m.kind, sizeof m.kind, "heartbeat");
	snprintf(m.name, sizeof m.name, "backup");
	snprintf(m.secret, sizeof m.secret, SECRET);
	snprintf(m.tz, sizeof m.tz, "UTC");
	snprintf(m.severity, sizeof m.severity, "critical");
	m.period_s = 60;
	m.grace_s = 60;
	assert_int_equal(monitors_insert(db, &m, 1800000000, &id), RC_OK);

	/* not a ping: no secret, an unknown one, one glued inside a longer hex run */
	assert_int_equal(ping_mail(db, "disk full on db1", "x", &handled), RC_OK);
	assert_false(handled);
	assert_int_equal(ping_mail(db, "cron ffffffffffffffffffffffffffffffff", NULL, &handled), RC_OK);
	assert_false(handled);
	assert_int_equal(ping_mail(db, "cron a" SECRET, NULL, &handled), RC_OK);
	assert_false(handled);
	assert_int_equal(monitors_pings_unfolded(db, p, 4, &n), RC_OK);
	assert_int_equal(n, 0);

	/* the secret anywhere in the subject, upper case too */
	assert_int_equal(
	        ping_mail(db, "[cron] backup ok 0123456789ABCDEF0123456789ABCDEF", "all 3 dumps written", &handled),
	        RC_OK);
	assert_true(handled);
	assert_int_equal(ping_mail(db, "[cron] backup FALHOU: " SECRET " (falha)", "pg_dump: error", &handled), RC_OK);
	assert_true(handled);
	assert_int_equal(monitors_pings_unfolded(db, p, 4, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].monitor_id, id);
	assert_string_equal(p[0].kind, "success");
	assert_string_equal(p[1].kind, "fail");
	assert_int_equal(monitors_pings_json(db, id, 10, &rows), RC_OK);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "method")), "EMAIL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "body")), "pg_dump: error");
	json_decref(rows);
	testdb_close(db, file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_subject_with_the_secret_is_a_ping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
