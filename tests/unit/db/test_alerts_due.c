/*
 * tests/unit/db/test_alerts_due.c — what the engine asks each tick (alerts_due in db/alerts.c)
 * costs the alerts due, not the alerts open: with 100 or 10,000 alerts open and waiting for
 * their step deadline, finding the few new ones and the few past their deadline runs about the
 * same number of SQLite VM steps; and the answer is right: new ones (step -1) whose recheck
 * time came, those past their deadline, oldest first, at most max. Likewise finding the call a
 * new alert can ride on (alerts_joinable_call) costs the same whether the phone was called 10
 * or 5,000 times before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db/alerts.h"
#include "../testdb.h"

#define NOW 1800000000

/* Adds an alert: step -1 (not paged yet) with recheck_at (0: none), or a step with its deadline. */
static void add(struct db *t, const char *status, int step, int64_t deadline, int64_t recheck_at)
{
	char sql[400];

	snprintf(sql, sizeof sql,
	         "INSERT INTO alerts (summary, severity, status, created_at, updated_at, step, step_deadline, "
	         "recheck_at) VALUES ('s', 'critical', '%s', 0, 0, %d, %s%lld, %s%lld)",
	         status, step, deadline ? "" : "NULL+", (long long)deadline, recheck_at ? "" : "NULL+",
	         (long long)recheck_at);
	assert_int_equal(db_exec(t, sql), RC_OK);
}

static int due_steps(struct db *t)
{
	sqlite3_stmt *st = NULL;
	int steps = 0;

	while ((st = sqlite3_next_stmt(t->h, st)))
		if (strstr(sqlite3_sql(st), "FROM alerts WHERE status = 'triggered' AND"))
			steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	return steps;
}

static int steps_with_open(int open)
{
	char file[64];
	struct db *t = testdb_open("alertsdue", file);
	int64_t ids[64];
	size_t n = 0;
	int i, steps;

	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < open; i++)
		add(t, "triggered", i % 3, NOW + 300, 0); /* paged, waiting */
	add(t, "triggered", -1, 0, 0);                    /* new */
	add(t, "triggered", 0, NOW - 1, 0);               /* past its deadline */
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(alerts_due(t, NOW, ids, 64, &n), RC_OK); /* prepares */
	due_steps(t);
	assert_int_equal(alerts_due(t, NOW, ids, 64, &n), RC_OK);
	steps = due_steps(t);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], open + 1);
	assert_int_equal(ids[1], open + 2);
	testdb_close(t, file);
	return steps;
}

static void test_cost_follows_alerts_due(void **state)
{
	int small, large;

	(void)state;
	small = steps_with_open(100);
	large = steps_with_open(10000);
	if (large > small * 2 || large > 2000)
		fail_msg("alerts_due: %d VM steps with 100 alerts open, %d with 10,000", small, large);
}

static void test_which_and_in_order(void **state)
{
	char file[64];
	struct db *t = testdb_open("alertsdue", file);
	int64_t ids[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	add(t, "triggered", 0, NOW - 5, 0);   /* 1 due: deadline passed */
	add(t, "triggered", -1, 0, NOW + 60); /* 2 unpaged, recheck later */
	add(t, "triggered", -1, 0, 0);        /* 3 due: new */
	add(t, "acknowledged", -1, 0, 0);     /* 4 closed */
	add(t, "triggered", 1, NOW + 5, 0);   /* 5 waiting */
	add(t, "triggered", -1, 0, NOW);      /* 6 due: recheck time came */
	add(t, "resolved", 0, NOW - 5, 0);    /* 7 closed */
	add(t, "triggered", 2, NOW, 0);       /* 8 due: deadline now */
	add(t, "exhausted", 0, NOW - 5, 0);   /* 9 not triggered */
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(alerts_due(t, NOW, ids, 8, &n), RC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 6);
	assert_int_equal(ids[3], 8);
	/* at most max, still the oldest */
	assert_int_equal(alerts_due(t, NOW, ids, 3, &n), RC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ids[2], 6);
	assert_int_equal(alerts_due(t, NOW + 61, ids, 8, &n), RC_OK);
	assert_int_equal(n, 6); /* 2 rechecked, 5 past its deadline */
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[4], 6);
	testdb_close(t, file);
}

static int joinable_steps(int old_calls)
{
	char file[64], sql[400];
	struct db *t = testdb_open("joinable", file);
	int64_t id = 0;
	char status[16];
	sqlite3_stmt *st = NULL;
	int i, steps = 0;

	assert_int_equal(db_begin(t), RC_OK);
	add(t, "triggered", 0, NOW + 300, 0);
	for (i = 0; i <= old_calls; i++) {
		snprintf(sql, sizeof sql,
		         "INSERT INTO outbox (kind, class, priority, to_number, url, idem_key, status, next_at_ms, "
		         "created_at, updated_at) VALUES ('call', 'alert', 0, '+5511990000001', 'https://x/a', 'k%d', "
		         "'%s', 0, 0, 0)",
		         i, i < old_calls ? "completed" : "queued");
		assert_int_equal(db_exec(t, sql), RC_OK);
	}
	snprintf(sql, sizeof sql,
	         "INSERT INTO call_attempts (alert_id, round, step, phone, outbox_id, created_at) VALUES (1, 0, 0, "
	         "'+5511990000001', %d, 0)",
	         old_calls + 1);
	assert_int_equal(db_exec(t, sql), RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(alerts_joinable_call(t, "+5511990000001", &id, status), RC_OK);
	while ((st = sqlite3_next_stmt(t->h, st)))
		sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	assert_int_equal(alerts_joinable_call(t, "+5511990000001", &id, status), RC_OK);
	assert_int_equal(id, old_calls + 1);
	assert_string_equal(status, "queued");
	while ((st = sqlite3_next_stmt(t->h, st)))
		if (strstr(sqlite3_sql(st), "AND o.kind = 'call' AND o.class = 'alert'"))
			steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	testdb_close(t, file);
	return steps;
}

static void test_joinable_call_cost(void **state)
{
	int small, large;

	(void)state;
	small = joinable_steps(10);
	large = joinable_steps(5000);
	if (large > small * 2 || large > 2000)
		fail_msg("alerts_joinable_call: %d VM steps after 10 calls to the phone, %d after 5,000", small, large);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cost_follows_alerts_due),
	        cmocka_unit_test(test_which_and_in_order),
	        cmocka_unit_test(test_joinable_call_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
