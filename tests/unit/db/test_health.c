/* tests/unit/db/test_health.c — the facts /healthz judges paging by (db/health.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "../testdb.h"
#include "db/health.h"

static void exec(struct db *t, const char *sql)
{
	assert_int_equal(sqlite3_exec(t->h, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A row as the sender leaves it: status, priority, tries, error code, sid, created (also sent_at
 * when it has a sid) and updated, in seconds. */
static void row(struct db *t, int n, const char *status, int prio, int tries, int code, const char *sid,
                int64_t created, int64_t updated)
{
	static const char sql[] =
	        "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, status, tries, next_at_ms, "
	        "error_code, error_message, sid, created_at, sent_at, updated_at) VALUES ('sms', 'alert', ?1, "
	        "'+5511990000001', 'x', 'k' || ?2, ?3, ?4, 0, nullif(?5, 0), 'message ' || ?5, ?6, ?7, "
	        "CASE WHEN ?6 IS NULL THEN NULL ELSE ?7 END, ?8)";
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(t->h, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, prio);
	sqlite3_bind_int(st, 2, n);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, tries);
	sqlite3_bind_int(st, 5, code);
	if (sid)
		sqlite3_bind_text(st, 6, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, created);
	sqlite3_bind_int64(st, 8, updated);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void probe_and_lost_file(void **state)
{
	char file[64], err[HEALTH_ERR_MAX];
	struct db *t = testdb_open("health", file);

	(void)state;
	assert_int_equal(health_write_probe(t, 1000, err, sizeof err), RC_OK);
	assert_string_equal(err, "");
	assert_int_equal(testdb_scalar(t, "SELECT at FROM health_probe"), 1000);
	assert_int_equal(health_write_probe(t, 1001, err, sizeof err), RC_OK);
	assert_int_equal(testdb_scalar(t, "SELECT count(*) FROM health_probe"), 1);
	/* WAL mode keeps writing to a deleted file; the probe notices. */
	unlink(file);
	assert_int_equal(health_write_probe(t, 1002, err, sizeof err), RC_CONFLICT);
	assert_non_null(strstr(err, "deleted"));
	testdb_close(t, file);
}

static void waiting_by_priority(void **state)
{
	char file[64];
	struct db *t = testdb_open("health", file);
	struct health_waiting w;

	(void)state;
	assert_int_equal(health_outbox_waiting(t, &w), RC_OK);
	assert_int_equal(w.count[0], 0);
	assert_int_equal(w.oldest_at[0], 0);
	row(t, 1, "pending", 0, 0, 0, NULL, 100, 100);
	row(t, 2, "retry", 0, 2, 20500, NULL, 50, 120);
	row(t, 3, "sending", 0, 1, 0, NULL, 70, 70);
	row(t, 4, "sent", 0, 1, 0, "SM1", 10, 20); /* gone out: not waiting */
	row(t, 5, "failed", 0, 8, 0, NULL, 5, 20);
	row(t, 6, "pending", 2, 0, 0, NULL, 300, 300);
	row(t, 7, "undecided", 0, 1, 0, NULL, 1, 400); /* outcome unknown: reported, not waiting */
	row(t, 8, "canceled", 0, 1, 0, NULL, 2, 400);  /* its alert was acknowledged first */
	assert_int_equal(health_outbox_waiting(t, &w), RC_OK);
	assert_int_equal(w.undecided[0], 1);
	assert_int_equal(w.undecided[2], 0);
	assert_int_equal(w.count[0], 3);
	assert_int_equal(w.oldest_at[0], 50);
	assert_int_equal(w.count[1], 0);
	assert_int_equal(w.count[2], 1);
	assert_int_equal(w.oldest_at[2], 300);
	testdb_close(t, file);
}

static void twilio_from_outbox_rows(void **state)
{
	char file[64];
	struct db *t = testdb_open("health", file);
	struct health_twilio tw;

	(void)state;
	assert_int_equal(health_twilio_results(t, 0, &tw), RC_OK);
	assert_int_equal(tw.last_accepted_ms, 0);
	assert_int_equal(tw.last_error_ms, 0);
	row(t, 1, "delivered", 0, 1, 0, "SM1", 100, 100);
	row(t, 2, "failed", 0, 1, 20003, NULL, 150, 200);       /* refused: wrong token */
	row(t, 3, "undelivered", 0, 1, 30003, "SM3", 160, 300); /* the phone's trouble, not Twilio's answer */
	assert_int_equal(health_twilio_results(t, 0, &tw), RC_OK);
	assert_int_equal(tw.last_accepted_ms, 160000);
	assert_int_equal(tw.last_error_ms, 200000);
	assert_int_equal(tw.last_error_code, 20003);
	assert_true(tw.last_error_auth);
	assert_string_equal(tw.last_error_message, "message 20003");
	/* errors from before this process started do not count */
	assert_int_equal(health_twilio_results(t, 250000, &tw), RC_OK);
	assert_int_equal(tw.last_error_ms, 0);
	/* a network error being retried is newer */
	row(t, 4, "retry", 0, 3, 0, NULL, 400, 410);
	assert_int_equal(health_twilio_results(t, 0, &tw), RC_OK);
	assert_int_equal(tw.last_error_ms, 410000);
	assert_int_equal(tw.last_error_code, 0);
	assert_false(tw.last_error_auth);
	testdb_close(t, file);
}

static void twilio_from_the_senders_record(void **state)
{
	char file[64];
	struct db *t = testdb_open("health", file);
	struct health_twilio tw;

	(void)state;
	exec(t, "INSERT INTO twilio_results (kind, at_ms, http_status, error_code, message) VALUES "
	        "('ok', 5000, 201, NULL, NULL), ('auth', 7000, 401, 20003, 'Authenticate'), "
	        "('network', 6000, 0, NULL, 'Could not connect')");
	assert_int_equal(health_twilio_results(t, 0, &tw), RC_OK);
	assert_int_equal(tw.last_accepted_ms, 5000);
	assert_int_equal(tw.last_error_ms, 7000);
	assert_int_equal(tw.last_error_code, 20003);
	assert_true(tw.last_error_auth);
	assert_string_equal(tw.last_error_message, "Authenticate");
	/* accepted again after the refusal (the same second, but later) */
	exec(t, "UPDATE twilio_results SET at_ms = 7500 WHERE kind = 'ok'");
	assert_int_equal(health_twilio_results(t, 0, &tw), RC_OK);
	assert_true(tw.last_accepted_ms > tw.last_error_ms);
	/* since: the refusal before start is forgotten, the network error too */
	assert_int_equal(health_twilio_results(t, 7200, &tw), RC_OK);
	assert_int_equal(tw.last_error_ms, 0);
	assert_int_equal(tw.last_accepted_ms, 7500);
	testdb_close(t, file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(probe_and_lost_file),
	        cmocka_unit_test(waiting_by_priority),
	        cmocka_unit_test(twilio_from_outbox_rows),
	        cmocka_unit_test(twilio_from_the_senders_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
