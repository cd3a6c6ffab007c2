/*
 * tests/unit/db/test_outbox_due.c — what the sender asks for each round (outbox_due in
 * db/outbox.c) costs what it returns, not the length of the queue: with 200 or 20,000 texts
 * waiting, taking the next 16 runs about the same number of SQLite VM steps (the statements are
 * served in order by the partial indexes of migration 0110, no row read or sorted beyond those
 * taken), and the strict order holds: critical pages, other pages, acknowledgments, support
 * texts and other replies, hand-off and sales notices, each by priority and age.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db/outbox.h"
#include "../testdb.h"

static void enqueue(struct db *t, const char *klass, enum outbox_priority prio, const char *owner_type,
                    int64_t owner_id, long i)
{
	char key[64], body[64];
	struct outbox_msg m;

	snprintf(key, sizeof key, "due:%s:%ld", klass, i);
	snprintf(body, sizeof body, "%s %ld", klass, i);
	memset(&m, 0, sizeof m);
	m.kind = OUTBOX_SMS;
	m.class_ = klass;
	m.priority = prio;
	m.to = "+5511990000001";
	m.body = body;
	m.idem_key = key;
	m.owner_type = owner_type;
	m.owner_id = owner_id;
	assert_int_equal(outbox_enqueue(t, &m, NULL), RC_OK);
}

/* VM steps run by outbox_due's statements since the last call (and resets the counters). */
static int due_steps(struct db *t)
{
	sqlite3_stmt *st = NULL;
	int steps = 0;

	while ((st = sqlite3_next_stmt(t->h, st)))
		if (strstr(sqlite3_sql(st), "FROM outbox o WHERE status IN ('pending', 'retry') AND kind = ?1"))
			steps += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	return steps;
}

static int steps_with_queue(long queued)
{
	char file[64];
	struct db *t = testdb_open("due", file);
	struct outbox_row rows[16];
	size_t n = 0;
	long i;
	int steps;

	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < queued; i++)
		enqueue(t, "support", OUTBOX_PRIO_SUPPORT, "voicemail", 0, i);
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(outbox_due(t, OUTBOX_SMS, INT64_MAX / 2, 16, rows, &n), RC_OK); /* prepares */
	outbox_rows_release(rows, n);
	due_steps(t);
	assert_int_equal(outbox_due(t, OUTBOX_SMS, INT64_MAX / 2, 16, rows, &n), RC_OK);
	steps = due_steps(t);
	assert_int_equal(n, 16);
	assert_string_equal(rows[0].body, "support 0");
	assert_string_equal(rows[15].body, "support 15");
	outbox_rows_release(rows, n);
	testdb_close(t, file);
	return steps;
}

static void test_cost_follows_rows_taken(void **state)
{
	int small, large;

	(void)state;
	small = steps_with_queue(200);
	large = steps_with_queue(20000);
	/* Reading and sorting every waiting row costs tens of VM steps per row: 20,000 rows
	 * would be hundreds of thousands. */
	if (large > small * 2 || large > 5000)
		fail_msg("outbox_due: %d VM steps with 200 rows waiting, %d with 20,000", small, large);
}

static void test_strict_order(void **state)
{
	static const char *const want[] = {"alert 2",   "alert 5",   "alert 1",   "ack 3",  "reply 8",
	                                   "support 0", "support 6", "handoff 4", "sales 7"};
	char file[64];
	struct db *t = testdb_open("due", file);
	struct outbox_row rows[16];
	size_t n = 0, i;
	int64_t warning = 0, critical = 0;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	assert_int_equal(db_exec(t, "INSERT INTO alerts (summary, severity, status, created_at, updated_at) VALUES "
	                            "('w', 'warning', 'triggered', 0, 0), ('c', 'critical', 'triggered', 0, 0)"),
	                 RC_OK);
	warning = 1;
	critical = 2;
	enqueue(t, "support", OUTBOX_PRIO_SUPPORT, "voicemail", 0, 0);
	enqueue(t, "alert", OUTBOX_PRIO_ALERT, "alert", warning, 1);
	enqueue(t, "alert", OUTBOX_PRIO_ALERT, "alert", critical, 2);
	enqueue(t, "ack", OUTBOX_PRIO_ALERT, "alert", critical, 3);
	enqueue(t, "handoff", OUTBOX_PRIO_SALES, "handoff", 0, 4);
	enqueue(t, "alert", OUTBOX_PRIO_ALERT, "alert", critical, 5);
	enqueue(t, "support", OUTBOX_PRIO_SUPPORT, "voicemail", 0, 6);
	enqueue(t, "sales", OUTBOX_PRIO_SALES, "sales", 0, 7);
	enqueue(t, "reply", OUTBOX_PRIO_ALERT, NULL, 0, 8);
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(outbox_due(t, OUTBOX_SMS, INT64_MAX / 2, 16, rows, &n), RC_OK);
	assert_int_equal(n, sizeof want / sizeof want[0]);
	for (i = 0; i < n; i++)
		assert_string_equal(rows[i].body, want[i]);
	outbox_rows_release(rows, n);
	/* asking for fewer stops in the middle of the order */
	assert_int_equal(outbox_due(t, OUTBOX_SMS, INT64_MAX / 2, 4, rows, &n), RC_OK);
	assert_int_equal(n, 4);
	assert_string_equal(rows[3].body, "ack 3");
	outbox_rows_release(rows, n);
	testdb_close(t, file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cost_follows_rows_taken),
	        cmocka_unit_test(test_strict_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
