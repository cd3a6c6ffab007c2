/*
 * tests/unit/pager/test_alerts_close.c — alerts_close_as (server/pager/alerts.c), the one path
 * the API and the console acknowledge and resolve alerts through, on a real SQLite file: the
 * audit row naming the caller with before, after and the person; nothing written when nothing
 * changed; a resolved alert cannot be acknowledged; and the change, its texts and its audit row
 * kept together or not at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "db/db.h"
#include "pager/alerts.h"
#include "tests/unit/testdb.h"

#define T0 1800000000

static char path[64];
static struct db *db;
static struct cfg cfg;
static struct app app;

static int setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof cfg);
	cfg.public_url = "https://pager.example.com";
	cfg.lang = "pt-BR";
	cfg.callback_grace = 30;
	memset(&app, 0, sizeof app);
	assert_int_equal(app_init(&app, &cfg), RC_OK);
	db = testdb_open("alertsclose", path);
	assert_int_equal(db_exec(db, "INSERT INTO people (name, phone, created_at, updated_at) VALUES "
	                             "('Ana', '+5511990000001', 0, 0), ('Bruno', '+5511990000002', 0, 0)"),
	                 RC_OK);
	clock_set_offset((T0 - clock_now()) * 1000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	app_release(&app);
	clock_set_offset(0);
	return 0;
}

static int64_t trigger(void)
{
	struct alert_input in = {"disk full on db1", NULL, "critical", "test", NULL};
	int64_t id = 0;

	assert_int_equal(alerts_trigger(&app, db, &in, &id, NULL), RC_OK);
	return id;
}

static int64_t count(const char *sql)
{
	return testdb_scalar(db, sql);
}

static void audit_names_the_caller_once(void **state)
{
	bool changed = false;
	int64_t id;

	(void)state;
	id = trigger();
	assert_int_equal(alerts_close_as(&app, db, id, 2, true, "token:ops", &changed), RC_OK);
	assert_true(changed);
	assert_int_equal(count("SELECT count(*) FROM alerts WHERE status = 'acknowledged' AND acked_by = 2"), 1);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'alert.ack' AND actor = 'token:ops' AND "
	                       "json_extract(detail, '$.via') = 'api' AND json_extract(detail, '$.before') = "
	                       "'triggered' AND json_extract(detail, '$.after') = 'acknowledged' AND "
	                       "json_extract(detail, '$.person_id') = 2"),
	                 1);
	/* a second click: nothing changes, nothing written */
	assert_int_equal(alerts_close_as(&app, db, id, 2, true, "token:ops", &changed), RC_OK);
	assert_false(changed);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'alert.ack'"), 1);
	/* resolved from the console, nobody named: no person_id */
	assert_int_equal(alerts_close_as(&app, db, id, 0, false, "person:1 Ana", &changed), RC_OK);
	assert_true(changed);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'alert.resolve' AND actor = 'person:1 Ana' "
	                       "AND json_extract(detail, '$.before') = 'acknowledged' AND "
	                       "json_extract(detail, '$.after') = 'resolved' AND "
	                       "json_extract(detail, '$.person_id') IS NULL"),
	                 1);
	/* a resolved alert is not acknowledged; no such alert */
	assert_int_equal(alerts_close_as(&app, db, id, 2, true, "token:ops", &changed), RC_CONFLICT);
	assert_false(changed);
	assert_int_equal(alerts_close_as(&app, db, id + 100, 0, false, "token:ops", &changed), RC_NOT_FOUND);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action LIKE 'alert.%'"), 2);
}

static void ack_and_its_audit_row_together(void **state)
{
	bool changed = true;
	int64_t id;

	(void)state;
	id = trigger();
	assert_int_equal(db_exec(db, "CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.action = 'alert.ack' "
	                             "BEGIN SELECT RAISE(ABORT, 'disk full'); END"),
	                 RC_OK);
	assert_int_not_equal(alerts_close_as(&app, db, id, 2, true, "token:ops", &changed), RC_OK);
	assert_false(changed);
	assert_int_equal(count("SELECT count(*) FROM alerts WHERE status = 'triggered'"), 1);
	assert_int_equal(db_exec(db, "DROP TRIGGER fail_audit"), RC_OK);
	assert_int_equal(alerts_close_as(&app, db, id, 2, true, "token:ops", &changed), RC_OK);
	assert_true(changed);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'alert.ack'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(audit_names_the_caller_once, setup, teardown),
	        cmocka_unit_test_setup_teardown(ack_and_its_audit_row_together, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
