/*
 * db/db_sqlite.c — the SQLite driver of the statement layer (db/driver.h): one sqlite3
 * connection in WAL mode with foreign keys, synchronous=NORMAL and a busy timeout, so other
 * processes (`plantao token create` while serving) meet SQLite's own lock. Transactions are
 * BEGIN IMMEDIATE / COMMIT / ROLLBACK as cached prepared statements. Every call is a thin
 * wrapper: the statement API's numbers are SQLite's own.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "db/driver.h"

_Static_assert(DB_ROW == SQLITE_ROW && DB_DONE == SQLITE_DONE, "step results are SQLite's");
_Static_assert(DB_INTEGER == SQLITE_INTEGER && DB_FLOAT == SQLITE_FLOAT && DB_TEXT == SQLITE_TEXT &&
                       DB_BLOB == SQLITE_BLOB && DB_NULL == SQLITE_NULL,
               "column types are SQLite's");

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

static enum rc lite_exec(struct db *db, const char *sql);

/* After each commit in WAL mode (SQLite holds no lock then): the WAL's size, for db.c. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
	(void)h;
	(void)name;
	((struct db *)arg)->wal_pages = pages;
	return SQLITE_OK;
}

/* Before SQLite's first use in the process: no memory statistics (plantao reads none), which
 * SQLite otherwise keeps under one process-wide mutex taken on every allocation of every
 * connection. Fails harmlessly (SQLITE_MISUSE) if SQLite was already initialized. */
static void lite_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum rc lite_open(struct db *db, const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, lite_config);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		log_err("db_open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		return RC_DB;
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db->h, 1);
	/* Switching to WAL takes a lock; a database already in WAL (every open after the first)
	 * is only asked, so opening a connection never fails because another one is writing. */
	if (!is_wal(db) && lite_exec(db, "PRAGMA journal_mode=WAL") != RC_OK)
		return RC_DB;
	if (lite_exec(db, "PRAGMA foreign_keys=ON") != RC_OK || lite_exec(db, "PRAGMA synchronous=NORMAL") != RC_OK)
		return RC_DB;
	/* Replaces SQLite's automatic checkpoint (wal_autocheckpoint reads 0): db.c folds the WAL
	 * after the commit, outside the writer lock. */
	sqlite3_wal_hook(db->h, wal_hook, db);
	return RC_OK;
}

/* How long a RESTART checkpoint waits for the WAL's writer lock and its readers: it holds the
 * WAL's writer lock meanwhile (another process's writers wait on it), so it gives way soon. */
#define RESTART_WAIT_MS 50

static bool lite_checkpoint(struct db *db, bool restart)
{
	int frames = 0, done = 0, rc;

	if (restart)
		sqlite3_busy_timeout(db->h, RESTART_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(db->h, NULL, restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
	                               &frames, &done);
	if (restart)
		sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	/* It gives way to a checkpoint already running, to a read still open on this connection
	 * and, for RESTART, to readers that stayed: the next fold tries again. */
	if (rc == SQLITE_OK)
		return true;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return false;
	log_warn("db: WAL checkpoint (%s, %d of %d pages): %s", restart ? "restart" : "passive", done, frames,
	         sqlite3_errmsg(db->h));
	return false;
}

static void lite_close(struct db *db)
{
	sqlite3_close(db->h);
	db->h = NULL;
}

static int lite_prepare(struct db_stmt *st)
{
	if (sqlite3_prepare_v3(st->db->h, st->sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lite, NULL) != SQLITE_OK) {
		log_err("prepare: %s: %s", sqlite3_errmsg(st->db->h), st->sql);
		sqlite3_finalize(st->lite);
		st->lite = NULL;
		return -1;
	}
	return 0;
}

static void lite_finalize(struct db_stmt *st)
{
	sqlite3_finalize(st->lite);
	st->lite = NULL;
}

static int lite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st->lite, i, v);
}

static int lite_bind_double(struct db_stmt *st, int i, double v)
{
	return sqlite3_bind_double(st->lite, i, v);
}

static int lite_bind_text(struct db_stmt *st, int i, const char *s, int n, enum db_life life)
{
	return sqlite3_bind_text(st->lite, i, s, n, life == DB_STATIC ? SQLITE_STATIC : SQLITE_TRANSIENT);
}

static int lite_bind_blob(struct db_stmt *st, int i, const void *p, int n, enum db_life life)
{
	return sqlite3_bind_blob(st->lite, i, p, n, life == DB_STATIC ? SQLITE_STATIC : SQLITE_TRANSIENT);
}

static int lite_bind_null(struct db_stmt *st, int i)
{
	return sqlite3_bind_null(st->lite, i);
}

static int lite_step(struct db_stmt *st)
{
	return sqlite3_step(st->lite);
}

static void lite_reset(struct db_stmt *st)
{
	sqlite3_reset(st->lite);
}

static bool lite_busy(struct db_stmt *st)
{
	return sqlite3_stmt_busy(st->lite) != 0;
}

static int64_t lite_column_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(st->lite, i);
}

static double lite_column_double(struct db_stmt *st, int i)
{
	return sqlite3_column_double(st->lite, i);
}

static const unsigned char *lite_column_text(struct db_stmt *st, int i)
{
	return sqlite3_column_text(st->lite, i);
}

static const void *lite_column_blob(struct db_stmt *st, int i)
{
	return sqlite3_column_blob(st->lite, i);
}

static int lite_column_bytes(struct db_stmt *st, int i)
{
	return sqlite3_column_bytes(st->lite, i);
}

static int lite_column_type(struct db_stmt *st, int i)
{
	return sqlite3_column_type(st->lite, i);
}

static int lite_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(st->lite);
}

static const char *lite_column_name(struct db_stmt *st, int i)
{
	return sqlite3_column_name(st->lite, i);
}

static enum rc lite_rc(struct db *db)
{
	switch (sqlite3_errcode(db->h) & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return RC_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return RC_BUSY;
	case SQLITE_CONSTRAINT: return RC_CONFLICT;
	default: return RC_DB;
	}
}

static enum rc lite_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		enum rc rc = lite_rc(db);

		log_err("db: %s: %s", msg ? msg : sqlite3_errmsg(db->h), sql);
		sqlite3_free(msg);
		return rc == RC_OK ? RC_DB : rc;
	}
	return RC_OK;
}

/* Runs one of the cached transaction statements. */
static enum rc run(struct db *db, const char *sql)
{
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st)
		return RC_DB;
	if (sqlite3_step(st->lite) == SQLITE_DONE) {
		rc = RC_OK;
	} else {
		rc = lite_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("db: %s: %s", sqlite3_errmsg(db->h), sql);
	}
	sqlite3_reset(st->lite);
	return rc;
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

static enum rc lite_begin(struct db *db)
{
	return run(db, sql_begin);
}

static enum rc lite_commit(struct db *db)
{
	return run(db, sql_commit);
}

static void lite_rollback(struct db *db)
{
	struct db_stmt *st;

	if (sqlite3_get_autocommit(db->h))
		return;
	st = db_prepare(db, sql_rollback);
	if (st) {
		sqlite3_step(st->lite);
		sqlite3_reset(st->lite);
	} else {
		sqlite3_exec(db->h, sql_rollback, NULL, NULL, NULL);
	}
}

static bool lite_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(db->h);
}

static const char *lite_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

static bool lite_err_is_foreign_key(struct db *db)
{
	return sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_FOREIGNKEY;
}

static bool lite_file_moved(struct db *db)
{
	int moved = 0;

	/* A deleted or replaced file still takes writes through the descriptor SQLite holds (WAL
	 * mode never notices): the VFS knows. */
	return sqlite3_file_control(db->h, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved;
}

static int64_t lite_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}

static int lite_changes(struct db *db)
{
	return sqlite3_changes(db->h);
}

/* Statements prepared on db->h outside the cache (tests, code not yet ported). */
static void lite_settle_others(struct db *db, const char *where)
{
	sqlite3_stmt *st = NULL;

	while ((st = sqlite3_next_stmt(db->h, st)) != NULL) {
		if (sqlite3_stmt_busy(st)) {
			log_err("db: statement left open after %s (reset now): %s", where, sqlite3_sql(st));
			sqlite3_reset(st);
		}
	}
}

const struct db_driver db_sqlite_driver = {
        .name = "sqlite",
        .migrations = "migrations/",
        .open = lite_open,
        .close = lite_close,
        .prepare = lite_prepare,
        .finalize = lite_finalize,
        .bind_int64 = lite_bind_int64,
        .bind_double = lite_bind_double,
        .bind_text = lite_bind_text,
        .bind_blob = lite_bind_blob,
        .bind_null = lite_bind_null,
        .step = lite_step,
        .reset = lite_reset,
        .busy = lite_busy,
        .column_int64 = lite_column_int64,
        .column_double = lite_column_double,
        .column_text = lite_column_text,
        .column_blob = lite_column_blob,
        .column_bytes = lite_column_bytes,
        .column_type = lite_column_type,
        .column_count = lite_column_count,
        .column_name = lite_column_name,
        .exec = lite_exec,
        .begin = lite_begin,
        .commit = lite_commit,
        .rollback = lite_rollback,
        .in_transaction = lite_in_transaction,
        .last_rc = lite_rc,
        .errmsg = lite_errmsg,
        .err_is_foreign_key = lite_err_is_foreign_key,
        .file_moved = lite_file_moved,
        .last_id = lite_last_id,
        .changes = lite_changes,
        .settle_others = lite_settle_others,
        .checkpoint = lite_checkpoint,
};
