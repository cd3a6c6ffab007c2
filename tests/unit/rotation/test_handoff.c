/*
 * tests/unit/rotation/test_handoff.c — the hand-off notice job (server/rotation/handoff.c) against a real
 * temporary SQLite file: one notice per boundary whatever the number of runs or restarts,
 * only the latest boundary after a downtime, none for a rotation edit or when the same person
 * stays, opted-out people skipped, and the short local times of the texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/rotation.h"
#include "core/app.h"
#include "core/cfg.h"
#include "rotation/handoff.h"

static char path[64];
static struct db *db;
static struct cfg cfg;
static struct app app;

#include "tests/unit/testdb.h"
#include "tests/unit/rotfix.h"

static int setup(void **state)
{
	(void)state;
	db = testdb_open("handoff", path);
	rotfix_app(&app, &cfg);
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

/* One engine run at t (a fresh job state each time when restart is set). */
static void run_at(void **st, int64_t t, bool restart)
{
	if (restart || !*st) {
		handoff_stop(*st);
		assert_int_equal(handoff_start(&app, db, st), RC_OK);
	}
	assert_int_equal(handoff_run(&app, db, *st, t * 1000), RC_OK);
}

static void once_per_boundary(void **state)
{
	int64_t a, b, m[2];
	void *st = NULL;
	int i;

	(void)state;
	a = rotfix_person(db, "Ana", "+5511990000001");
	b = rotfix_person(db, "Bruno", "+5511990000002");
	m[0] = a, m[1] = b;
	/* the rotation is created mid-shift: that cut is an edit, not a hand-off */
	rotfix_daily(db, m, 2, H0 + 2 * HOUR);
	run_at(&st, H0 + 2 * HOUR + 5, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 0);
	/* Bruno's shift begins at H0 + 24 h: two texts, whatever the runs and restarts */
	for (i = 0; i < 5; i++)
		run_at(&st, H0 + 24 * HOUR + i, i % 2 == 1);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 2);
	assert_int_equal(
	        count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000002' AND body LIKE "
	              "'%você está de plantão desde ter 06/01 09:00 até qua 07/01 09:00%' AND class = 'handoff'"),
	        1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000001' AND body LIKE "
	                       "'%Agora com Bruno%'"),
	                 1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE idem_key = 'handoff:1767700800:2'"), 1);
	/* down from day 1 to day 4: boundaries of days 2 and 3 are skipped, day 4 notified once */
	run_at(&st, H0 + 4 * 24 * HOUR + 600, true);
	run_at(&st, H0 + 4 * 24 * HOUR + 601, true);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 4);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE body LIKE '%desde sex 09/01 09:00%'"), 1);
	assert_int_equal(count("SELECT count(*) FROM handoff_notices WHERE shift_start IN (1767787200, 1767873600)"),
	                 0);
	/* an opted-out person gets nothing */
	assert_int_equal(people_set_opt_out(db, b, true, "sms:+5511990000002"), RC_OK);
	run_at(&st, H0 + 5 * 24 * HOUR + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 5);
	/* day 5 is Bruno's: only Ana (leaving) is texted; Bruno keeps his two earlier texts */
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000002'"), 2);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE idem_key = 'handoff:1768046400:1:off'"), 1);
	handoff_stop(st);
}

static void same_person_and_override(void **state)
{
	int64_t a, b, m[1], oid;
	struct rotation_override_input o;
	char err[300];
	void *st = NULL;

	(void)state;
	a = rotfix_person(db, "Ana", "+5511990000001");
	b = rotfix_person(db, "Bruno", "+5511990000002");
	m[0] = a;
	rotfix_daily(db, m, 1, H0 - HOUR);
	/* Ana after Ana: the boundary is recorded, nobody is texted */
	run_at(&st, H0 + 24 * HOUR + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 0);
	assert_int_equal(count("SELECT count(*) FROM handoff_notices WHERE shift_start = 1767700800"), 1);
	/* Bruno covers two hours: he arrives (Ana leaves), then Ana is back */
	o = (struct rotation_override_input){b, H0 + 26 * HOUR, H0 + 28 * HOUR, NULL};
	assert_int_equal(rotation_override_add(db, &o, false, "test", &oid, err, sizeof err), RC_OK);
	run_at(&st, H0 + 26 * HOUR + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 2);
	run_at(&st, H0 + 28 * HOUR + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 4);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000001' AND body LIKE "
	                       "'%você está de plantão%'"),
	                 1);
	handoff_stop(st);
}

/* Issue 11: an override replaced by another with the same start tells the new person and the
 * replaced one; deleting it gives the shift back and tells both. Never twice. */
static void replace_and_delete_override(void **state)
{
	int64_t a, b, c, m[1], ob, oc;
	struct rotation_override_input o;
	char err[300];
	void *st = NULL;
	int i;

	(void)state;
	a = rotfix_person(db, "Ana", "+5511990000001");
	b = rotfix_person(db, "Bruno", "+5511990000002");
	c = rotfix_person(db, "Carla", "+5511990000003");
	m[0] = a;
	rotfix_daily(db, m, 1, H0 - HOUR);
	run_at(&st, H0 + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 0);
	/* Bruno covers 11:00-19:00: he arrives, Ana leaves */
	o = (struct rotation_override_input){b, H0 + 2 * HOUR, H0 + 10 * HOUR, NULL};
	assert_int_equal(rotation_override_add(db, &o, false, "test", &ob, err, sizeof err), RC_OK);
	run_at(&st, H0 + 2 * HOUR + 1, false);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 2);
	/* at 12:00 Carla's override replaces Bruno's, same start */
	o.person_id = c;
	assert_int_equal(rotation_override_add(db, &o, true, "test", &oc, err, sizeof err), RC_OK);
	for (i = 0; i < 4; i++)
		run_at(&st, H0 + 3 * HOUR + i, i == 2);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 4);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000003' AND body LIKE "
	                       "'%você está de plantão desde seg 05/01 11:00 até seg 05/01 19:00%'"),
	                 1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000002' AND body LIKE "
	                       "'%seu plantão terminou%Agora com Carla até seg 05/01 19:00%'"),
	                 1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000001'"), 1); /* once */
	/* at 13:00 Carla's override is deleted: Ana is back from now, Carla is told she is off */
	assert_int_equal(rotation_override_delete(db, oc, "test"), RC_OK);
	for (i = 0; i < 4; i++)
		run_at(&st, H0 + 4 * HOUR + i, i == 1);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 6);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000001' AND body LIKE "
	                       "'%você está de plantão desde seg 05/01 13:00 até ter 06/01 09:00%'"),
	                 1);
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000003' AND body LIKE "
	                       "'%seu plantão terminou%Agora com Ana%'"),
	                 1);
	/* Bruno is not told again; the next boundary (Ana after Ana) is quiet */
	assert_int_equal(count("SELECT count(*) FROM outbox WHERE to_number = '+5511990000002'"), 2);
	run_at(&st, H0 + 10 * HOUR + 1, false);
	run_at(&st, H0 + 24 * HOUR + 1, true);
	assert_int_equal(count("SELECT count(*) FROM outbox"), 6);
	handoff_stop(st);
}

static void when(void **state)
{
	char s[48];

	(void)state;
	handoff_when("America/Sao_Paulo", false, H0, s, sizeof s);
	assert_string_equal(s, "seg 05/01 09:00");
	handoff_when("America/Sao_Paulo", true, H0, s, sizeof s);
	assert_string_equal(s, "Mon 01/05 09:00");
	handoff_when("Europe/Lisbon", false, H0, s, sizeof s);
	assert_string_equal(s, "seg 05/01 12:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(once_per_boundary, setup, teardown),
	        cmocka_unit_test_setup_teardown(same_person_and_override, setup, teardown),
	        cmocka_unit_test_setup_teardown(replace_and_delete_override, setup, teardown),
	        cmocka_unit_test(when),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
