/*
 * tests/unit/rotation/test_swap_flow.c — server/rotation/swap_flow.c carrying out a swap against a real
 * temporary SQLite file: the last answer, the override, the swap marked accepted and the text
 * are kept together or not at all (a write that fails half-way leaves no override and the swap
 * waiting for that answer, which then goes through when sent again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotation/swap_flow.h"
#include "core/app.h"
#include "core/cfg.h"
#include "db/db.h"
#include "db/swaps.h"
#include "tests/unit/testdb.h"
#include "tests/unit/rotfix.h"

static char path[64];
static struct db *db;
static struct cfg cfg;
static struct app app;
static int64_t ana, bruno;

static int setup(void **state)
{
	(void)state;
	db = testdb_open("swapflow", path);
	rotfix_app(&app, &cfg);
	ana = rotfix_person(db, "Ana", "+5511990000001");
	bruno = rotfix_person(db, "Bruno", "+5511990000002");
	rotfix_daily(db, &ana, 1, H0 - HOUR); /* Ana is on call all the time */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t count(const char *sql)
{
	return testdb_scalar(db, sql);
}

/* Ana asks Bruno to take day 3 (she confirms by asking). */
static int64_t ask(void)
{
	struct swap in = {.from_person = ana, .to_person = bruno, .start = H0 + 48 * HOUR, .end = H0 + 72 * HOUR};
	int64_t id = 0;

	assert_int_equal(swap_flow_ask(&app, db, &in, true, "person:1 Ana", H0, &id), RC_OK);
	return id;
}

static void accept_is_all_or_nothing(void **state)
{
	struct swap_answer a;
	int64_t id;

	(void)state;
	id = ask();
	/* the swap cannot be marked accepted: the write fails after the override was added */
	assert_int_equal(db_exec(db, "CREATE TRIGGER fail_accept BEFORE UPDATE OF status ON shift_swaps "
	                             "WHEN NEW.status = 'accepted' BEGIN SELECT RAISE(ABORT, 'disk full'); END"),
	                 RC_OK);
	assert_int_not_equal(swap_flow_answer(&app, db, id, bruno, true, "sms:+5511990000002", H0 + 60, &a), RC_OK);
	assert_false(a.voided);
	/* nothing of it was kept: no override, Bruno's yes not recorded, no "accepted" text */
	assert_int_equal(count("SELECT count(*) FROM overrides"), 0);
	assert_int_equal(count("SELECT count(*) FROM shift_swaps WHERE status = 'pending' AND to_confirmed_at IS NULL"),
	                 1);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action IN ('swaps.confirm', 'overrides.create')"), 0);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE idem_key LIKE 'swap:%:accepted:%'"), 0);
	assert_string_equal(a.s.status, "pending");
	assert_int_equal(a.s.to_confirmed_at, 0);

	/* the write works again: the same answer sent again carries the swap out, once */
	assert_int_equal(db_exec(db, "DROP TRIGGER fail_accept"), RC_OK);
	assert_int_equal(swap_flow_answer(&app, db, id, bruno, true, "sms:+5511990000002", H0 + 120, &a), RC_OK);
	assert_true(a.changed);
	assert_string_equal(a.s.status, "accepted");
	assert_true(a.s.override_id > 0);
	assert_int_equal(count("SELECT count(*) FROM overrides"), 1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE idem_key LIKE 'swap:%:accepted:%' AND to_number = "
	                       "'+5511990000001' AND body LIKE 'Bruno aceitou a troca de turno #%'"),
	                 1);
	/* Twilio retrying the text: nothing more */
	assert_int_not_equal(swap_flow_answer(&app, db, id, bruno, true, "sms:+5511990000002", H0 + 180, &a), RC_OK);
	assert_int_equal(count("SELECT count(*) FROM overrides"), 1);
	assert_int_equal(count("SELECT count(*) FROM audit WHERE action = 'swaps.accept'"), 1);
}

static void failed_override_keeps_nothing(void **state)
{
	struct swap_answer a;
	int64_t id;

	(void)state;
	id = ask();
	/* the override cannot be written: nothing else of the answer may stay */
	assert_int_equal(db_exec(db, "CREATE TRIGGER fail_override BEFORE INSERT ON overrides "
	                             "BEGIN SELECT RAISE(ABORT, 'disk full'); END"),
	                 RC_OK);
	assert_int_not_equal(swap_flow_answer(&app, db, id, bruno, true, "sms:+5511990000002", H0 + 60, &a), RC_OK);
	assert_true(a.err[0] != '\0');
	assert_int_equal(count("SELECT count(*) FROM shift_swaps WHERE status = 'pending' AND to_confirmed_at IS NULL"),
	                 1);
	assert_int_equal(db_exec(db, "DROP TRIGGER fail_override"), RC_OK);
	assert_int_equal(swap_flow_answer(&app, db, id, bruno, true, "sms:+5511990000002", H0 + 120, &a), RC_OK);
	assert_string_equal(a.s.status, "accepted");
	assert_int_equal(count("SELECT count(*) FROM overrides WHERE person_id = 2 AND start_at = 1767787200"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(accept_is_all_or_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(failed_override_keeps_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
