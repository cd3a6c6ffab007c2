/* tests/unit/db/test_db.c — opening and migrating a real SQLite file, and the statement layer
 * (db/db.c over db/db_sqlite.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/demo.h"
#include "db/outbox.h"
#include "db/tokens.h"
#include "core/clock.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof path, "/tmp/plantao-db-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	char p[80];

	(void)state;
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	return 0;
}

static int64_t scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void migrate_fresh_then_again(void **state)
{
	struct db *db;
	int applied = -1, v = -1;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, &applied), RC_OK);
	/* migration numbers leave gaps (ranges per feature): count files, not the highest number */
	assert_int_equal(applied, (int)scalar(db, "SELECT count(*) FROM schema_migrations"));
	assert_true(applied >= 1);
	assert_int_equal(db_version(db, &v), RC_OK);
	assert_int_equal(v, db_latest_version());
	/* every table of the first schema exists */
	assert_int_equal(scalar(db,
	                        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('people',"
	                        "'rotation_versions','rotation_members','overrides','escalation','escalation_steps',"
	                        "'alerts','call_attempts','outbox','voicemails','sales','sales_settings',"
	                        "'api_tokens','audit','support_calls')"),
	                 15);
	assert_int_equal(scalar(db, "SELECT count(*) FROM schema_migrations"), applied);
	db_close(db);

	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, &applied), RC_OK);
	assert_int_equal(applied, 0); /* each migration once */
	db_close(db);
}

static void pragmas(void **state)
{
	struct db *db;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(scalar(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* foreign keys are enforced */
	assert_int_equal(db_exec(db, "INSERT INTO overrides (person_id, start_at, end_at, created_at) "
	                             "VALUES (999, 1, 2, 0)"),
	                 RC_CONFLICT);
	db_close(db);
}

/* SQLite's automatic checkpoint is replaced (it ran with the writer lock held): db_commit folds
 * the WAL itself once it passed DB_WAL_CHECKPOINT_PAGES, and the WAL starts over, so a stream of
 * commits keeps it within the mark. */
static void wal_folded_by_commits(void **state)
{
	static const char ins[] = "INSERT INTO filler (b) VALUES (zeroblob(3000))";
	struct db *db;
	struct db_stmt *st;
	char wal[80];
	struct stat sb;
	int i;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(scalar(db, "PRAGMA wal_autocheckpoint"), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)"), RC_OK);
	for (i = 0; i < 3 * DB_WAL_CHECKPOINT_PAGES; i++) {
		assert_int_equal(db_begin(db), RC_OK);
		st = db_prepare(db, ins);
		assert_non_null(st);
		assert_int_equal(db_step_done(db, st, "filler"), RC_OK);
		assert_int_equal(db_commit(db), RC_OK);
		assert_false(db->writing);
	}
	/* each commit wrote a page and the table's last leaf: 6,000 frames without the fold */
	snprintf(wal, sizeof wal, "%s-wal", path);
	assert_int_equal(stat(wal, &sb), 0);
	if (sb.st_size > (off_t)(DB_WAL_CHECKPOINT_PAGES + 10) * (4096 + 24))
		fail_msg("WAL of %lld bytes after %d commits", (long long)sb.st_size, 3 * DB_WAL_CHECKPOINT_PAGES);
	assert_int_equal(scalar(db, "SELECT count(*) FROM filler"), 3 * DB_WAL_CHECKPOINT_PAGES);
	db_close(db);
}

/* A read that stays open (`plantao backup` copies the whole file in one read) keeps the fold's
 * RESTART from finishing; commits past the mark meet its wait (50 ms for the readers) once per
 * DB_WAL_CHECKPOINT_PAGES of WAL, not at every commit. */
static void wal_fold_gives_way_to_a_long_read(void **state)
{
	static const char ins[] = "INSERT INTO filler (b) VALUES (zeroblob(3000))";
	struct db *db;
	struct db_stmt *st;
	sqlite3 *reader;
	int i, slow = 0, n = DB_WAL_CHECKPOINT_PAGES * 13 / 10;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE filler (id INTEGER PRIMARY KEY, b BLOB)"), RC_OK);
	assert_int_equal(sqlite3_open(path, &reader), SQLITE_OK);
	assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM filler", NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < n; i++) {
		int64_t t0 = clock_mono_us();

		assert_int_equal(db_begin(db), RC_OK);
		st = db_prepare(db, ins);
		assert_non_null(st);
		assert_int_equal(db_step_done(db, st, "filler"), RC_OK);
		assert_int_equal(db_commit(db), RC_OK);
		if (clock_mono_us() - t0 >= 40000)
			slow++;
	}
	/* each commit past the mark (about 2 pages a commit: ~800 of them) waited without the
	 * back-off; with it, about one a mark (a busy machine may add a few) */
	if (slow > 20)
		fail_msg("%d of %d commits took 40 ms or more while a read stayed open", slow, n);
	assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(reader);
	/* the read gone, the next fold finishes and the mark is back where it was */
	for (i = 0; i < 2 * DB_WAL_CHECKPOINT_PAGES; i++) {
		assert_int_equal(db_begin(db), RC_OK);
		st = db_prepare(db, ins);
		assert_int_equal(db_step_done(db, st, "filler"), RC_OK);
		assert_int_equal(db_commit(db), RC_OK);
	}
	db_close(db);
}

static void newer_database_refused(void **state)
{
	struct db *db;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(db_exec(db, "INSERT INTO schema_migrations VALUES (9999, 'future.sql', 0)"), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_CONFLICT);
	db_close(db);
}

static void failed_migration_leaves_nothing(void **state)
{
	struct db *db;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	/* a table named like one of 0001's makes 0001 fail halfway: nothing of it may remain */
	assert_int_equal(db_exec(db, "CREATE TABLE audit (x)"), RC_OK);
	assert_int_not_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='people'"), 0);
	assert_int_equal(scalar(db, "SELECT count(*) FROM schema_migrations"), 0);
	db_close(db);
}

/* One start's migrations are one transaction: a later file failing (0180 creates mail_messages)
 * leaves the earlier ones of the same start unapplied too, so the database is as it was. */
static void failed_later_migration_applies_none(void **state)
{
	struct db *db;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE mail_messages (x)"), RC_OK);
	assert_int_not_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE name='people'"), 0);
	assert_int_equal(scalar(db, "SELECT count(*) FROM schema_migrations"), 0);
	db_close(db);
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every row of sql, columns '|'-joined, rows sorted and '\n'-joined (malloc'd), to compare
 * two databases. */
static char *rows_text(struct db *db, const char *sql)
{
	char **lines = NULL, *out;
	size_t n = 0, len = 1, i;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char line[8192] = "";
		int c;

		for (c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *t = sqlite3_column_text(st, c);

			strncat(line, t ? (const char *)t : "NULL", sizeof line - strlen(line) - 2);
			strcat(line, "|");
		}
		lines = realloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = strdup(line);
		len += strlen(line) + 1;
	}
	sqlite3_finalize(st);
	if (n)
		qsort(lines, n, sizeof *lines, cmp_lines);
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	free(lines);
	return out;
}

static void assert_same_rows(struct db *a, struct db *b, const char *sql)
{
	char *ta = rows_text(a, sql), *tb = rows_text(b, sql);

	if (strcmp(ta, tb) != 0)
		fail_msg("%s differs: tools/schema_snapshot.py (run by make) does not give what the "
		         "migrations give one by one:\n--- snapshot\n%s\n--- migrations\n%s",
		         sql, ta, tb);
	free(ta);
	free(tb);
}

#define MEMBERS_BEFORE_INDEX                                                                                           \
	"SELECT (SELECT rowid FROM sqlite_master WHERE name = 'rotation_members') < "                                  \
	"(SELECT rowid FROM sqlite_master WHERE name = 'rotation_versions_effective')"

/* A new file gets migrations/snapshot.sql in one script (generated by tools/schema_snapshot.py at
 * build time from the migrations being embedded): it must give the database the migrations give
 * one by one, schema and rows. The build keeps the snapshot current, so this checks the tool. */
static void snapshot_gives_the_migrated_database(void **state)
{
	char other[80], sql[256];
	struct db *snap, *steps;
	sqlite3_stmt *st;
	int applied = 0;

	(void)state;
	assert_int_equal(db_open(path, &snap), RC_OK);
	assert_int_equal(db_migrate(snap, &applied), RC_OK);
	assert_int_equal(applied, (int)scalar(snap, "SELECT count(*) FROM schema_migrations"));
	/* the snapshot creates its tables before its indexes; 0001 creates rotation_versions_effective
	 * before the table rotation_members */
	assert_true(scalar(snap, MEMBERS_BEFORE_INDEX) == 1);
	snprintf(other, sizeof other, "%s-steps", path);
	unlink(other);
	assert_int_equal(db_open(other, &steps), RC_OK);
	assert_int_equal(db_exec(steps, "CREATE TABLE not_new (x)"), RC_OK); /* not a new file: step by step */
	assert_int_equal(db_migrate(steps, NULL), RC_OK);
	assert_int_equal(db_exec(steps, "DROP TABLE not_new"), RC_OK);
	assert_true(scalar(steps, MEMBERS_BEFORE_INDEX) == 0);

	assert_same_rows(snap, steps, "SELECT type, name, tbl_name, sql FROM sqlite_master");
	assert_same_rows(snap, steps, "SELECT version, name FROM schema_migrations");
	assert_int_equal(sqlite3_prepare_v2(snap->h,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table' AND "
	                                    "name NOT IN ('schema_migrations', 'sqlite_sequence')",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", (const char *)sqlite3_column_text(st, 0));
		assert_same_rows(snap, steps, sql);
	}
	sqlite3_finalize(st);
	db_close(steps);
	db_close(snap);
	unlink(other);
	snprintf(sql, sizeof sql, "%s-wal", other);
	unlink(sql);
	snprintf(sql, sizeof sql, "%s-shm", other);
	unlink(sql);
}

/* A start with nothing to migrate takes no write lock: it does not wait for a writer (here one
 * holding a transaction; the bound turns a wait into RC_BUSY). */
static void up_to_date_takes_no_write_lock(void **state)
{
	struct db *holder, *starting;
	int applied = -1;
	enum rc rc;

	(void)state;
	assert_int_equal(db_open(path, &holder), RC_OK);
	assert_int_equal(db_migrate(holder, NULL), RC_OK);
	assert_int_equal(db_open(path, &starting), RC_OK);
	db_set_writer_wait(starting, 300);
	assert_int_equal(db_begin(holder), RC_OK);
	rc = db_migrate(starting, &applied);
	assert_int_equal(db_commit(holder), RC_OK); /* first: the writer lock stays with no test */
	assert_int_equal(rc, RC_OK);
	assert_int_equal(applied, 0);
	db_close(starting);
	db_close(holder);
}

/* A new file starts in incremental auto-vacuum, so retention never VACUUMs it to switch it
 * (a whole-file rewrite holding the writer just after start-up); one with tables is left as is. */
static void new_file_incremental_vacuum(void **state)
{
	struct db *db;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(scalar(db, "PRAGMA auto_vacuum"), 2);
	db_close(db);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE kept (x)"), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(scalar(db, "PRAGMA auto_vacuum"), 0);
	assert_int_equal(scalar(db, "SELECT count(*) FROM kept"), 0);
	db_close(db);
}

static void statement_cache(void **state)
{
	static const char sql[] = "SELECT 41 + 1";
	struct db *db;
	sqlite3_stmt *a, *b;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	a = db_stmt(db, sql);
	b = db_stmt(db, sql);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(a, 0), 42);
	sqlite3_reset(a);
	db_close(db);
}

static void statement_layer(void **state)
{
	static const char mk[] = "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB)";
	static const char ins[] = "INSERT INTO t (i, r, s, b) VALUES (?1, ?2, ?3, ?4)";
	static const char sel[] = "SELECT id, i, r, s, b FROM t WHERE id = ?1";
	char text[] = "olá";
	struct db *db;
	struct db_stmt *st;
	json_t *rows = NULL;
	int64_t id;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_string_equal(db_driver_name(db), "sqlite");
	assert_true(db_job_lock(db, "imap")); /* one instance: every job is its own */
	{
		struct db_job_role r[2];

		assert_int_equal(db_job_roles(r, 2), 1);
		assert_string_equal(r[0].job, "imap");
		assert_true(r[0].held);
	}
	assert_int_equal(db_exec(db, mk), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_true(db_in_transaction(db));
	st = db_prepare(db, ins);
	assert_non_null(st);
	assert_ptr_equal(st, db_prepare(db, ins));
	assert_int_equal(db_bind_int64(st, 1, INT64_MAX), 0);
	assert_int_equal(db_bind_double(st, 2, 2.5), 0);
	assert_int_equal(db_bind_text(st, 3, text, -1, DB_TRANSIENT), 0);
	assert_int_equal(db_bind_blob(st, 4, "a\0b", 3, DB_STATIC), 0);
	text[0] = 'X'; /* transient: the copy was bound */
	assert_int_equal(db_step(st), DB_DONE);
	assert_int_equal(db_changes(db), 1);
	id = db_last_id(db);
	db_reset(st);
	/* bindings stay across a reset; NULL text is NULL */
	assert_int_equal(db_bind_opt_text(st, 3, NULL), 0);
	assert_int_equal(db_step_done(db, st, "insert"), RC_OK);
	assert_int_equal(db_last_id(db), id + 1);
	assert_int_equal(db_commit(db), RC_OK);
	assert_false(db_in_transaction(db));

	st = db_prepare(db, sel);
	assert_int_equal(db_bind_int64(st, 1, id), 0);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_column_count(st), 5);
	assert_string_equal(db_column_name(st, 3), "s");
	assert_int_equal(db_column_type(st, 1), DB_INTEGER);
	assert_true(db_column_int64(st, 1) == INT64_MAX);
	assert_int_equal(db_column_type(st, 2), DB_FLOAT);
	assert_true(db_column_double(st, 2) == 2.5);
	assert_int_equal(db_column_type(st, 3), DB_TEXT);
	assert_string_equal((const char *)db_column_text(st, 3), "olá");
	assert_int_equal(db_column_bytes(st, 3), 4);
	assert_int_equal(db_column_type(st, 4), DB_BLOB);
	assert_int_equal(db_column_bytes(st, 4), 3);
	assert_memory_equal(db_column_blob(st, 4), "a\0b", 3);
	assert_int_equal(db_step(st), DB_DONE);
	db_reset(st);
	assert_int_equal(db_bind_int64(st, 1, id + 1), 0);
	assert_int_equal(db_rows_json(db, st, &rows), RC_OK);
	assert_int_equal(json_array_size(rows), 1);
	assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "s")));
	assert_int_equal(json_real_value(json_object_get(json_array_get(rows, 0), "r")), 2.5);
	json_decref(rows);

	/* a unique violation is RC_CONFLICT, with the driver's message */
	st = db_prepare(db, "INSERT INTO t (id) VALUES (1)");
	assert_int_equal(db_step_done(db, st, "dup"), RC_CONFLICT);
	assert_non_null(strstr(db_errmsg(db), "UNIQUE"));
	db_close(db);
}

static void savepoints_and_settle(void **state)
{
	static const char ins[] = "INSERT INTO t (i) VALUES (?1)";
	static const char sel[] = "SELECT i FROM t ORDER BY i";
	struct db *db;
	struct db_stmt *st;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE t (i INTEGER)"), RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	st = db_prepare(db, ins);
	assert_int_equal(db_bind_int(st, 1, 1), 0);
	assert_int_equal(db_step_done(db, st, "ins"), RC_OK);
	assert_int_equal(db_savepoint(db), RC_OK);
	assert_int_equal(db_bind_int(st, 1, 2), 0);
	assert_int_equal(db_step_done(db, st, "ins"), RC_OK);
	assert_int_equal(db_savepoint(db), RC_OK); /* nested, same name */
	assert_int_equal(db_bind_int(st, 1, 3), 0);
	assert_int_equal(db_step_done(db, st, "ins"), RC_OK);
	assert_int_equal(db_rollback_to(db), RC_OK); /* drops 3 */
	assert_int_equal(db_release(db), RC_OK);
	assert_int_equal(db_release(db), RC_OK); /* keeps 2 */
	assert_int_equal(db_commit(db), RC_OK);
	assert_int_equal(scalar(db, "SELECT count(*) FROM t"), 2);
	assert_int_equal(scalar(db, "SELECT max(i) FROM t"), 2);

	/* settle resets a statement left mid-rows and rolls back a forgotten transaction */
	st = db_prepare(db, sel);
	assert_int_equal(db_step(st), DB_ROW);
	assert_int_equal(db_begin(db), RC_OK);
	db_settle(db, "test");
	assert_false(db_in_transaction(db));
	assert_int_equal(db_begin(db), RC_OK); /* the writer lock was given back */
	db_rollback(db);
	db_rollback(db); /* harmless with nothing open */
	db_close(db);
}

static void demo_and_outbox_idempotency(void **state)
{
	struct db *db;
	bool seeded = false;
	struct outbox_msg m = {.kind = OUTBOX_SMS,
	                       .class_ = "alert",
	                       .priority = OUTBOX_PRIO_ALERT,
	                       .to = "+5511990000001",
	                       .body = "Alerta 1",
	                       .idem_key = "alert:1:sms:+5511990000001"};
	int64_t id1 = 0, id2 = 0;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(demo_seed(db, "America/Sao_Paulo", &seeded), RC_OK);
	assert_true(seeded);
	assert_int_equal(demo_seed(db, "America/Sao_Paulo", &seeded), RC_OK);
	assert_false(seeded);
	assert_int_equal(scalar(db, "SELECT count(*) FROM people"), 3);
	assert_int_equal(scalar(db, "SELECT count(*) FROM rotation_members"), 3);
	assert_int_equal(outbox_enqueue(db, &m, &id1), RC_OK);
	assert_int_equal(outbox_enqueue(db, &m, &id2), RC_OK);
	assert_true(id1 > 0);
	assert_int_equal(id1, id2);
	assert_int_equal(scalar(db, "SELECT count(*) FROM outbox"), 1);
	db_close(db);
}

static void tokens(void **state)
{
	struct db *db;
	char *secret = NULL, role[16], name[32];
	int64_t id = 0;

	(void)state;
	assert_int_equal(db_open(path, &db), RC_OK);
	assert_int_equal(db_migrate(db, NULL), RC_OK);
	assert_int_equal(tokens_create(db, "grafana", "alerts", &secret, &id), RC_OK);
	assert_int_equal(strncmp(secret, "plt_", 4), 0);
	assert_int_equal(tokens_check(db, secret, role, name, sizeof name), RC_OK);
	assert_string_equal(role, "alerts");
	assert_string_equal(name, "grafana");
	/* the secret itself is not stored */
	assert_int_equal(scalar(db, "SELECT count(*) FROM api_tokens WHERE hash LIKE 'plt_%'"), 0);
	assert_int_equal(tokens_check(db, "plt_wrong", role, name, sizeof name), RC_AUTH);
	assert_int_equal(tokens_revoke(db, id), RC_OK);
	assert_int_equal(tokens_check(db, secret, role, name, sizeof name), RC_AUTH);
	assert_int_equal(tokens_revoke(db, id), RC_NOT_FOUND);
	free(secret);
	assert_int_equal(tokens_create(db, "x", "root", &secret, &id), RC_UNPROCESSABLE);
	assert_null(secret);
	db_close(db);
}

/* A writer that cannot get the writer lock within its bound gets RC_BUSY (the HTTP layer's
 * 503) instead of an unbounded wait; a connection without a bound (the engine) waits its turn
 * and writes; the lock is still usable afterwards. */
struct waiter {
	struct db *db;
	enum rc rc;
	int64_t waited_us;
};

static void *begin_in_thread(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = clock_mono_us();

	w->rc = db_begin(w->db);
	w->waited_us = clock_mono_us() - t0;
	if (w->rc == RC_OK)
		w->rc = db_commit(w->db);
	return NULL;
}

static void writer_wait_bounded(void **state)
{
	struct db *holder, *http, *engine;
	struct waiter hw = {0}, ew = {0};
	pthread_t th, te;
	uint64_t timeouts = db_writer_timeouts();

	(void)state;
	assert_int_equal(db_open(path, &holder), RC_OK);
	assert_int_equal(db_migrate(holder, NULL), RC_OK);
	assert_int_equal(db_open(path, &http), RC_OK);
	assert_int_equal(db_open(path, &engine), RC_OK);
	db_set_writer_wait(http, 300);
	assert_int_equal(db_begin(holder), RC_OK); /* a long write, e.g. a huge payload */

	hw.db = http;
	ew.db = engine;
	assert_int_equal(pthread_create(&th, NULL, begin_in_thread, &hw), 0);
	assert_int_equal(pthread_create(&te, NULL, begin_in_thread, &ew), 0);
	pthread_join(th, NULL);
	assert_int_equal(hw.rc, RC_BUSY);
	assert_true(hw.waited_us >= 290 * 1000);
	assert_true(hw.waited_us < 10 * 1000 * 1000);
	assert_int_equal(db_writer_timeouts(), timeouts + 1);
	assert_false(http->writing);

	usleep(100 * 1000); /* the engine is still waiting, unbounded */
	assert_int_equal(db_commit(holder), RC_OK);
	pthread_join(te, NULL);
	assert_int_equal(ew.rc, RC_OK);
	assert_true(ew.waited_us >= 300 * 1000);

	/* the bounded connection writes as soon as the lock is free */
	assert_int_equal(db_begin(http), RC_OK);
	assert_int_equal(db_commit(http), RC_OK);
	db_close(engine);
	db_close(http);
	db_close(holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(migrate_fresh_then_again, setup, teardown),
	        cmocka_unit_test_setup_teardown(pragmas, setup, teardown),
	        cmocka_unit_test_setup_teardown(wal_folded_by_commits, setup, teardown),
	        cmocka_unit_test_setup_teardown(wal_fold_gives_way_to_a_long_read, setup, teardown),
	        cmocka_unit_test_setup_teardown(newer_database_refused, setup, teardown),
	        cmocka_unit_test_setup_teardown(failed_migration_leaves_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(failed_later_migration_applies_none, setup, teardown),
	        cmocka_unit_test_setup_teardown(up_to_date_takes_no_write_lock, setup, teardown),
	        cmocka_unit_test_setup_teardown(new_file_incremental_vacuum, setup, teardown),
	        cmocka_unit_test_setup_teardown(snapshot_gives_the_migrated_database, setup, teardown),
	        cmocka_unit_test_setup_teardown(statement_cache, setup, teardown),
	        cmocka_unit_test_setup_teardown(statement_layer, setup, teardown),
	        cmocka_unit_test_setup_teardown(savepoints_and_settle, setup, teardown),
	        cmocka_unit_test_setup_teardown(demo_and_outbox_idempotency, setup, teardown),
	        cmocka_unit_test_setup_teardown(tokens, setup, teardown),
	        cmocka_unit_test_setup_teardown(writer_wait_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
