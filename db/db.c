/*
 * db/db.c — SQLite connection handling, statement cache, transactions and migrations.
 * Migrations are the files migrations/NNNN_name.sql compiled into the binary (server/core/embedded.h);
 * each runs once, in order, inside BEGIN IMMEDIATE, and is recorded in schema_migrations.
 */
#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"

static bool is_wal(struct db *db)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	return wal;
}

enum rc db_open(const char *path, struct db **out)
{
	struct db *db = calloc(1, sizeof *db);
	enum rc rc = RC_DB;

	*out = NULL;
	if (!db)
		return RC_INTERNAL;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		log_err("db_open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->h, 1);
	/* Switching to WAL takes a lock; a database already in WAL (every open after the first)
	 * is only asked, so opening a connection never fails because another one is writing. */
	if (!is_wal(db) && db_exec(db, "PRAGMA journal_mode=WAL") != RC_OK)
		goto out;
	if (db_exec(db, "PRAGMA foreign_keys=ON") != RC_OK || db_exec(db, "PRAGMA synchronous=NORMAL") != RC_OK)
		goto out;
	*out = db;
	rc = RC_OK;
out:
	if (rc != RC_OK)
		db_close(db);
	return rc;
}

void db_close(struct db *db)
{
	size_t i;

	if (!db)
		return;
	if (db->h)
		db_rollback(db); /* never leave the writer lock held by a closed connection */
	for (i = 0; i < DB_STMT_CACHE; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close(db->h);
	free(db);
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % DB_STMT_CACHE;
	size_t i;

	for (i = 0; i < DB_STMT_CACHE; i++) {
		size_t k = (h + i) % DB_STMT_CACHE;

		if (db->cache[k].sql == sql)
			return db->cache[k].st;
		if (!db->cache[k].sql) {
			if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &db->cache[k].st, NULL) !=
			    SQLITE_OK) {
				log_err("prepare: %s: %s", sqlite3_errmsg(db->h), sql);
				sqlite3_finalize(db->cache[k].st);
				db->cache[k].st = NULL;
				return NULL;
			}
			db->cache[k].sql = sql;
			return db->cache[k].st;
		}
	}
	log_err("statement cache full (%d)", DB_STMT_CACHE);
	return NULL;
}

enum rc db_rc(struct db *db)
{
	switch (sqlite3_errcode(db->h) & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return RC_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return RC_BUSY;
	case SQLITE_CONSTRAINT: return RC_CONFLICT;
	case SQLITE_FULL: return RC_DB;
	default: return RC_DB;
	}
}

enum rc db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	enum rc rc = sqlite3_step(st) == SQLITE_DONE ? RC_OK : db_rc(db);

	if (rc != RC_OK)
		log_err("%s: %s", what, sqlite3_errmsg(db->h));
	sqlite3_reset(st);
	return rc;
}

enum rc db_bind_failed(struct db *db, sqlite3_stmt *st, const char *what)
{
	if (st) {
		log_err("%s: bind: %s", what, sqlite3_errmsg(db->h));
		sqlite3_reset(st);
	}
	return RC_DB;
}

int db_bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

enum rc db_step_row(struct db *db, sqlite3_stmt *st)
{
	int s = sqlite3_step(st);
	enum rc rc;

	if (s == SQLITE_ROW)
		return RC_OK;
	if (s == SQLITE_DONE)
		return RC_NOT_FOUND;
	rc = db_rc(db);
	return rc == RC_OK ? RC_DB : rc;
}

enum rc db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		enum rc rc = db_rc(db);

		log_err("db: %s: %s", msg ? msg : sqlite3_errmsg(db->h), sql);
		sqlite3_free(msg);
		return rc == RC_OK ? RC_DB : rc;
	}
	return RC_OK;
}

/*
 * Writers of the database queue on this mutex before BEGIN IMMEDIATE. SQLite lets one writer in
 * at a time anyway; without the mutex the others poll with sleeps of up to 100 ms (its busy
 * handler), which under load turns into long tail latencies. With it they wait their turn and
 * are woken the moment the writer commits. Other processes still meet SQLite's own lock and
 * its busy timeout.
 */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

static void release_writer(struct db *db)
{
	if (db->writing && sqlite3_get_autocommit(db->h)) {
		db->writing = false;
		pthread_mutex_unlock(&writer_lock);
	}
}

static atomic_uint_fast64_t writer_timeouts;

void db_set_writer_wait(struct db *db, int ms)
{
	db->writer_wait_ms = ms > 0 ? ms : 0;
}

uint64_t db_writer_timeouts(void)
{
	return (uint64_t)atomic_load(&writer_timeouts);
}

/*
 * Takes the writer lock, waiting at most db->writer_wait_ms when that is set. A request that
 * cannot write within the bound is better answered 503 than left waiting past the point where
 * its client (Twilio: 15 s) has given up; the engine's connection has no bound, so pages keep
 * going out however busy the API is.
 */
static enum rc take_writer(struct db *db)
{
	struct timespec until;
	int e;

	if (db->writer_wait_ms <= 0) {
		pthread_mutex_lock(&writer_lock);
		return RC_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += db->writer_wait_ms / 1000;
	until.tv_nsec += (long)(db->writer_wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	e = pthread_mutex_clocklock(&writer_lock, CLOCK_MONOTONIC, &until);
	if (e == 0)
		return RC_OK;
	atomic_fetch_add(&writer_timeouts, 1);
	log_warn("db: no write access within %d ms (another writer holds the lock): answering busy",
	         db->writer_wait_ms);
	return RC_BUSY;
}

enum rc db_begin(struct db *db)
{
	enum rc rc;

	if (!db->writing) { /* a nested BEGIN fails below as SQLite's would, without a deadlock */
		rc = take_writer(db);
		if (rc != RC_OK)
			return rc;
		db->writing = true;
	}
	rc = db_exec(db, "BEGIN IMMEDIATE");
	release_writer(db); /* no-op when the transaction is open */
	return rc;
}

enum rc db_commit(struct db *db)
{
	enum rc rc = db_exec(db, "COMMIT");

	release_writer(db); /* a failed COMMIT leaves the transaction open: db_rollback releases */
	return rc;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	release_writer(db);
}

void db_settle(struct db *db, const char *where)
{
	sqlite3_stmt *st = NULL;

	if (!db)
		return;
	while ((st = sqlite3_next_stmt(db->h, st)) != NULL) {
		if (sqlite3_stmt_busy(st)) {
			log_err("db: statement left open after %s (reset now): %s", where, sqlite3_sql(st));
			sqlite3_reset(st);
		}
	}
	if (!sqlite3_get_autocommit(db->h)) {
		log_err("db: transaction left open after %s (rolled back)", where);
		db_rollback(db);
	}
}

int64_t db_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

int db_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

enum rc db_ping(struct db *db)
{
	static const char sql[] = "SELECT count(*) FROM schema_migrations";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc;

	if (!st)
		return RC_DB;
	rc = sqlite3_step(st) == SQLITE_ROW ? RC_OK : db_rc(db);
	sqlite3_reset(st);
	return rc == RC_OK ? RC_OK : (rc == RC_BUSY ? RC_BUSY : RC_DB);
}

json_t *db_row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int i, n = sqlite3_column_count(st);

	for (i = 0; o && i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		json_t *v;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(st, i)); break;
		case SQLITE_FLOAT: v = json_real(sqlite3_column_double(st, i)); break;
		case SQLITE_TEXT:
			v = json_stringn((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
			break;
		default: v = json_null();
		}
		json_object_set_new(o, name, v ? v : json_null());
	}
	return o;
}

enum rc db_rows_json(struct db *db, sqlite3_stmt *st, json_t **out)
{
	json_t *a = json_array();
	enum rc rc = RC_OK;
	int s;

	*out = NULL;
	if (!a)
		return RC_INTERNAL;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a, db_row_json(st));
	if (s != SQLITE_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("db rows: %s", sqlite3_errmsg(db->h));
		json_decref(a);
		a = NULL;
	}
	sqlite3_reset(st);
	*out = a;
	return rc;
}

/* Version number of an embedded migration path "migrations/0001_init.sql", or -1. */
static int migration_version(const char *path)
{
	const char *name;
	int v = 0, digits = 0;

	if (strncmp(path, "migrations/", 11) != 0)
		return -1;
	name = path + 11;
	while (name[digits] >= '0' && name[digits] <= '9') {
		v = v * 10 + (name[digits] - '0');
		digits++;
	}
	if (digits != 4 || name[4] != '_')
		return -1;
	return v;
}

int db_latest_version(void)
{
	const struct embedded_file *f;
	int latest = 0;

	for (f = embedded_files; f->path; f++) {
		int v = migration_version(f->path);

		if (v > latest)
			latest = v;
	}
	return latest;
}

enum rc db_version(struct db *db, int *out)
{
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
	sqlite3_stmt *st;
	enum rc rc = RC_DB;

	*out = 0;
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
	                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)") != RC_OK)
		return RC_DB;
	st = db_stmt(db, sql);
	if (!st)
		return RC_DB;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = RC_OK;
	}
	sqlite3_reset(st);
	return rc;
}

static enum rc apply(struct db *db, const struct embedded_file *f, int version, bool *done)
{
	static const char ins[] = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	char *sql = NULL;
	int current;
	enum rc rc;

	*done = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	/* Re-check inside the write lock: another process may have migrated meanwhile. */
	rc = db_version(db, &current);
	if (rc != RC_OK || current >= version)
		goto out;
	sql = strndup((const char *)f->data, f->len);
	if (!sql) {
		rc = RC_INTERNAL;
		goto out;
	}
	rc = db_exec(db, sql);
	if (rc != RC_OK)
		goto out;
	st = db_stmt(db, ins);
	rc = RC_DB;
	if (!st || sqlite3_bind_int(st, 1, version) || sqlite3_bind_text(st, 2, f->path + 11, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 3, clock_now()))
		goto out;
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = RC_OK;
	sqlite3_reset(st);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc == RC_OK) {
		*done = true;
		log_info("migration %s applied", f->path);
	}
out:
	if (rc != RC_OK || !*done)
		db_rollback(db);
	free(sql);
	return rc;
}

enum rc db_migrate(struct db *db, int *applied)
{
	int current, latest = db_latest_version(), v, n = 0;
	enum rc rc;

	if (applied)
		*applied = 0;
	rc = db_version(db, &current);
	if (rc != RC_OK)
		return rc;
	if (current > latest) {
		log_err("database schema version %d is newer than this binary (%d): refusing to start", current,
		        latest);
		return RC_CONFLICT;
	}
	/* Embedded files come sorted (the Makefile sorts them); still apply strictly by number. */
	for (v = current + 1; v <= latest; v++) {
		const struct embedded_file *f;
		bool done = false;

		for (f = embedded_files; f->path; f++)
			if (migration_version(f->path) == v)
				break;
		if (!f->path)
			continue;
		rc = apply(db, f, v, &done);
		if (rc != RC_OK) {
			log_err("migration %s failed", f->path);
			return rc;
		}
		n += done;
	}
	if (applied)
		*applied = n;
	return RC_OK;
}
