/*
 * tests/unit/db/test_copy.c — `plantao migrate --copy-from FILE` (db/copy.c): a SQLite database
 * with people, a rotation, alerts, pages, sales and tokens copied whole into a fresh database,
 * ids kept and continued; a destination with data, a source at another version and a copy that
 * does not read back the same are refused with nothing committed; every table and column of
 * the schema is one the copy knows.
 * The destination is a second SQLite file, and also a PostgreSQL database when
 * PLANTAO_TEST_PG_URL names a cluster (make test-pg) and this build speaks PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/copy.h"
#include "db/db.h"
#include "tests/unit/testdb.h"

static char src_file[64], dst_file[64];
static struct db *src, *dst;

/* The first column of the first row of sql (a static string), or -1. */
static int64_t one(struct db *db, const char *sql)
{
	struct db_stmt *st = db_prepare(db, sql);
	int64_t v = -1;

	assert_non_null(st);
	if (db_step(st) == DB_ROW)
		v = db_column_int64(st, 0);
	db_reset(st);
	return v;
}

static void exec_ok(struct db *db, const char *sql)
{
	assert_int_equal(db_exec(db, sql), RC_OK);
}

static int setup(void **state)
{
	(void)state;
	src = testdb_open("copy-src", src_file);
	dst = testdb_open("copy-dst", dst_file);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(src, src_file);
	testdb_close(dst, dst_file);
	return 0;
}

/* A small but complete life: two people, a rotation, an override, a changed policy, an alert
 * paged by text and call and acknowledged, a support call, a sales import with its notice, a
 * token, audit lines, text with accents and quotes, NULLs, and large integers. */
static void fill(struct db *db)
{
	exec_ok(db, "INSERT INTO people (id, name, phone, email, whatsapp, created_at, updated_at) VALUES "
	            "(1, 'Ana Souza', '+5511990000001', 'ana@example.com', 1, 1767225600, 1767225600), "
	            "(2, 'Bruno ''B'' Lima — plantão', '+5511990000002', NULL, 0, 1767225601, 1767225601)");
	exec_ok(db, "INSERT INTO rotation_versions (id, effective_at, shift_hours, handoff, timezone, created_at) "
	            "VALUES (1, 1767225600, 168, '2026-01-05T09:00', 'America/Sao_Paulo', 1767225600)");
	exec_ok(db, "INSERT INTO rotation_members (version_id, position, person_id) VALUES (1, 0, 1), (1, 1, 2)");
	exec_ok(db, "INSERT INTO overrides (id, person_id, start_at, end_at, reason, created_at) "
	            "VALUES (1, 2, 1767300000, 1767400000, 'férias', 1767225700)");
	exec_ok(db, "UPDATE escalation SET rounds = 5, call_min_severity = 'warning', updated_at = 1767225800");
	exec_ok(db, "DELETE FROM escalation_steps");
	exec_ok(db, "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES "
	            "(0, 'person', 2, 45), (1, 'oncall', NULL, 30)");
	exec_ok(db, "INSERT INTO alerts (id, status, summary, details, severity, dedup_key, created_at, updated_at, "
	            "step, acked_by, acked_via, acked_at) VALUES (7, 'acknowledged', 'disco cheio em db1', "
	            "'linha 1\nlinha 2', 'critical', 'db1', 1767226000, 1767226100, 0, 1, 'call', 1767226100)");
	exec_ok(db, "INSERT INTO outbox (id, kind, class, priority, to_number, body, idem_key, owner_type, owner_id, "
	            "status, tries, next_at_ms, sid, created_at, updated_at, accepted_at_ms) VALUES "
	            "(40, 'sms', 'alert', 0, '+5511990000001', 'Alerta 7: disco cheio em db1', 'page:7:sms', "
	            "'alert', 7, 'delivered', 1, 1767226000123, 'SM0123456789abcdef0123456789abcdef', 1767226000, "
	            "1767226001, 1767226000456), "
	            "(41, 'call', 'alert', 0, '+5511990000001', NULL, 'page:7:call', 'call_attempt', 3, "
	            "'completed', 1, 1767226000200, 'CA0123456789abcdef0123456789abcdef', 1767226000, 1767226100, "
	            "NULL)");
	exec_ok(db, "INSERT INTO call_attempts (id, alert_id, round, step, person_id, phone, status, outcome, "
	            "call_sid, outbox_id, created_at, ended_at) VALUES (3, 7, 0, 0, 1, '+5511990000001', "
	            "'completed', 'ack', 'CA0123456789abcdef0123456789abcdef', 41, 1767226000, 1767226100)");
	exec_ok(db, "INSERT INTO page_texts (outbox_id, alert_id) VALUES (40, 7)");
	exec_ok(db, "INSERT INTO support_calls (id, call_sid, caller, status, created_at) "
	            "VALUES (2, 'CAsupport', '+5511980000000', 'answered', 1767226200)");
	exec_ok(db,
	        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES (2, 0, 1, '+5511990000001')");
	exec_ok(db, "INSERT INTO support_legs (id, call_id, leg, person_id, phone, dial_status, accepted, created_at, "
	            "chain_position) VALUES (1, 2, 0, 1, '+5511990000001', 'completed', 1, 1767226201, 0)");
	exec_ok(db, "INSERT INTO sales (period, seller_key, seller, amount_cents, imported_at) "
	            "VALUES ('2026-05', 'joao', 'João', 9007199254740993, 1767226300)");
	exec_ok(db, "INSERT INTO sales_notify (phone) VALUES ('+5511970000001')");
	exec_ok(db, "INSERT INTO sales_notifications (period, seller_key, amount_cents, created_at) "
	            "VALUES ('2026-05', 'joao', 9007199254740993, 1767226300)");
	exec_ok(db, "UPDATE sales_settings SET target_cents = 6000000, rule = 'at_least', updated_at = 1767226300");
	exec_ok(db, "INSERT INTO api_tokens (id, name, role, hash, created_at) VALUES "
	            "(5, 'admin', 'admin', '0000000000000000000000000000000000000000000000000000000000000001', 1)");
	exec_ok(db, "INSERT INTO audit (id, at, actor, action, entity_id, detail) VALUES "
	            "(1, 1767225600, 'admin', 'people.create', 1, '{\"name\":\"Ana\"}'), "
	            "(2, 1767225601, 'sms:+5511990000002', 'rotation.update', NULL, NULL)");
	exec_ok(db,
	        "INSERT INTO handoff_notices (id, shift_start, person_id, created_at) VALUES (1, 1767603600, 1, 2)");
	exec_ok(db, "INSERT INTO twilio_results (kind, at_ms, http_status) VALUES ('ok', 1767226000123, 201)");
	exec_ok(db, "INSERT INTO health_probe (id, at) VALUES (1, 1767226400)");
}

static void copies_and_checks(struct db *to)
{
	struct copy_report r;
	char err[256];
	struct db_stmt *st;
	static const char names[] = "SELECT name FROM people ORDER BY id";
	static const char add[] = "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('Carla', "
	                          "'+5511990000003', 2, 2)";
	static const char carla[] = "SELECT id FROM people WHERE phone = '+5511990000003'";
	static const char add_alert[] = "INSERT INTO alerts (summary, created_at, updated_at) VALUES ('nova', 3, 3)";

	fill(src);
	assert_int_equal(copy_from_sqlite(to, src_file, &r, err, sizeof err), RC_OK);
	assert_int_equal(r.tables, copy_table_count());
	/* every row fill() wrote, the policy, the sales settings and the rotation's generation included */
	assert_int_equal(r.rows, 28);
	assert_int_equal(strlen(r.check), 64);
	assert_int_equal(one(to, "SELECT count(*) FROM outbox"), 2);
	assert_int_equal(one(to, "SELECT rounds FROM escalation"), 5);
	assert_int_equal(one(to, "SELECT count(*) FROM escalation_steps"), 2);
	assert_int_equal(one(to, "SELECT timeout_s FROM escalation_steps WHERE position = 0"), 45);
	assert_int_equal(one(to, "SELECT target_cents FROM sales_settings"), 6000000);
	assert_int_equal(one(to, "SELECT amount_cents FROM sales"), 9007199254740993LL);
	assert_int_equal(one(to, "SELECT next_at_ms FROM outbox WHERE id = 40"), 1767226000123LL);
	assert_int_equal(one(to, "SELECT count(*) FROM people WHERE email IS NULL"), 1);
	st = db_prepare(to, names);
	assert_non_null(st);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_step(st), DB_ROW);
	assert_string_equal((const char *)db_column_text(st, 0), "Bruno 'B' Lima — plantão");
	db_reset(st);
	/* new rows take ids after the copied ones */
	assert_int_equal(db_begin(to), RC_OK);
	exec_ok(to, add);
	exec_ok(to, add_alert);
	assert_int_equal(db_commit(to), RC_OK);
	assert_int_equal(one(to, carla), 3);
	assert_int_equal(one(to, "SELECT max(id) FROM alerts"), 8);
}

static void copies_everything_into_sqlite(void **state)
{
	(void)state;
	copies_and_checks(dst);
}

/* PostgreSQL: a database of its own in the cluster PLANTAO_TEST_PG_URL names. */
static void copies_everything_into_postgresql(void **state)
{
	const char *admin_url = getenv("PLANTAO_TEST_PG_URL");
	struct db *admin = NULL, *pg = NULL;
	char url[512];
	const char *slash;

	(void)state;
	if (!admin_url || !*admin_url) {
		skip();
		return;
	}
	slash = strrchr(admin_url, '/');
	assert_non_null(slash);
	snprintf(url, sizeof url, "%.*s/plantao_copy_test", (int)(slash - admin_url), admin_url);
	if (db_open(admin_url, &admin) != RC_OK || strcmp(db_driver_name(admin), "sqlite") == 0) {
		db_close(admin);
		skip(); /* this build has no PostgreSQL driver yet */
		return;
	}
	exec_ok(admin, "DROP DATABASE IF EXISTS plantao_copy_test WITH (FORCE)");
	exec_ok(admin, "CREATE DATABASE plantao_copy_test");
	assert_int_equal(db_open(url, &pg), RC_OK);
	assert_int_equal(db_migrate(pg, NULL), RC_OK);
	copies_and_checks(pg);
	db_close(pg);
	exec_ok(admin, "DROP DATABASE plantao_copy_test WITH (FORCE)");
	db_close(admin);
}

static void refuses_a_destination_with_data(void **state)
{
	struct copy_report r;
	char err[256];

	(void)state;
	fill(src);
	exec_ok(dst, "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('Zé', '+5511990000009', 1, 1)");
	assert_int_equal(copy_from_sqlite(dst, src_file, &r, err, sizeof err), RC_CONFLICT);
	assert_non_null(strstr(err, "already holds data (table people)"));
	assert_int_equal(one(dst, "SELECT count(*) FROM alerts"), 0);
	assert_int_equal(one(dst, "SELECT rounds FROM escalation"), 3); /* the seed row is still there */
	assert_int_equal(r.rows, 0);
}

static void refuses_a_source_at_another_version(void **state)
{
	struct copy_report r;
	char err[256];

	(void)state;
	fill(src);
	exec_ok(src, "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)");
	assert_int_equal(copy_from_sqlite(dst, src_file, &r, err, sizeof err), RC_CONFLICT);
	assert_non_null(strstr(err, "schema versions differ"));
	assert_int_equal(one(dst, "SELECT count(*) FROM people"), 0);
}

/* A destination that does not store what it was given (here a trigger rewrites a name) is
 * caught by the checksums before COMMIT: nothing of the copy stays. */
static void a_copy_that_reads_back_different_is_rolled_back(void **state)
{
	struct copy_report r;
	char err[256];

	(void)state;
	fill(src);
	exec_ok(dst, "CREATE TRIGGER garble AFTER INSERT ON people BEGIN "
	             "UPDATE people SET name = 'x' WHERE id = NEW.id AND NEW.id = 2; END");
	assert_int_equal(copy_from_sqlite(dst, src_file, &r, err, sizeof err), RC_DB);
	assert_non_null(strstr(err, "people: the copy differs from the source"));
	assert_int_equal(one(dst, "SELECT count(*) FROM people"), 0);
	assert_int_equal(one(dst, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(one(dst, "SELECT rounds FROM escalation"), 3);
}

static void a_missing_source_is_refused(void **state)
{
	struct copy_report r;
	char err[256];

	(void)state;
	assert_int_equal(copy_from_sqlite(dst, "/nonexistent/plantao.db", &r, err, sizeof err), RC_NOT_FOUND);
	assert_non_null(strstr(err, "cannot read it"));
}

/* Every table of the migrated schema, with exactly its columns in order, is one the copy knows:
 * a migration that adds a table or a column must add it to db/copy.c too. */
static void every_table_and_column_of_the_schema_is_copied(void **state)
{
	static const char tables_sql[] = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
	                                 "'sqlite_%' AND name <> 'schema_migrations' ORDER BY name";
	static const char cols_sql[] = "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info(?1) "
	                               "ORDER BY cid)";
	struct db_stmt *st = db_prepare(src, tables_sql), *cols;
	size_t n = 0, i;

	(void)state;
	assert_non_null(st);
	while (db_step(st) == DB_ROW) {
		const char *name = (const char *)db_column_text(st, 0);
		const char *want = NULL;

		for (i = 0; i < copy_table_count(); i++)
			if (strcmp(copy_table_name(i), name) == 0)
				want = copy_table_columns(i);
		if (!want)
			fail_msg("table %s is not copied: add it to tables[] in db/copy.c (columns, count, SELECT, "
			         "INSERT, and the identity restart if it has an id), in foreign-key order",
			         name);
		cols = db_prepare(src, cols_sql);
		assert_non_null(cols);
		assert_int_equal(db_bind_text(cols, 1, name, -1, DB_STATIC), 0);
		assert_int_equal(db_step(cols), DB_ROW);
		if (strcmp((const char *)db_column_text(cols, 0), want) != 0)
			fail_msg("table %s has columns %s; db/copy.c copies %s: update its entry in tables[] (the "
			         "column list, the count and the INSERT)",
			         name, (const char *)db_column_text(cols, 0), want);
		db_reset(cols);
		n++;
	}
	db_reset(st);
	assert_int_equal(n, copy_table_count());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(every_table_and_column_of_the_schema_is_copied, setup, teardown),
	        cmocka_unit_test_setup_teardown(copies_everything_into_sqlite, setup, teardown),
	        cmocka_unit_test_setup_teardown(copies_everything_into_postgresql, setup, teardown),
	        cmocka_unit_test_setup_teardown(refuses_a_destination_with_data, setup, teardown),
	        cmocka_unit_test_setup_teardown(refuses_a_source_at_another_version, setup, teardown),
	        cmocka_unit_test_setup_teardown(a_copy_that_reads_back_different_is_rolled_back, setup, teardown),
	        cmocka_unit_test_setup_teardown(a_missing_source_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
