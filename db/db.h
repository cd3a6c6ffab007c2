/*
 * db/db.h — the SQLite layer: opening (WAL, busy timeout, foreign keys), a per-connection
 * cache of prepared statements, transactions and the migrations runner.
 * One struct db per thread (HTTP workers get theirs from the HTTP glue, the engine owns one).
 * Only files in db/ use the sqlite3 handle; everything else calls db/<table>.c functions.
 */
#ifndef PLANTAO_DB_H
#define PLANTAO_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"

#define DB_STMT_CACHE      256
#define DB_BUSY_TIMEOUT_MS 5000

struct db {
	sqlite3 *h;
	struct {
		const char *sql; /* key: the address of a static SQL string */
		sqlite3_stmt *st;
	} cache[DB_STMT_CACHE];
	bool writing;       /* holds the process's writer lock (between db_begin and commit/rollback) */
	int writer_wait_ms; /* db_begin's bound on waiting for that lock; 0: wait as long as it takes */
};

/* Default bound on an HTTP request's wait for the writer lock: it then answers 503 with
 * Retry-After, well inside the 15 s Twilio waits for a webhook. */
#define DB_WRITER_WAIT_MS 5000

/* Opens (creating if needed) path with WAL, foreign keys and a busy timeout. *out: db_close(). */
enum rc db_open(const char *path, struct db **out);
void db_close(struct db *db);

/*
 * Prepared statement for sql, cached by the address of sql (pass static const strings only).
 * Borrowed: reset it after use (sqlite3_reset) but do not finalize. NULL on error (logged).
 */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. db_rollback is safe to call when no transaction is open.
 * db_begin waits for the process's writer lock at most db->writer_wait_ms (when > 0): past
 * that it logs a warning and returns RC_BUSY (the HTTP layer answers 503 with Retry-After). */
enum rc db_begin(struct db *db);
enum rc db_commit(struct db *db);
void db_rollback(struct db *db);
/* Bounds db_begin's wait for the writer lock on this connection (ms; 0: no bound, the
 * engine's connection and the command line). HTTP worker connections use DB_WRITER_WAIT_MS. */
void db_set_writer_wait(struct db *db, int ms);
/* How many db_begin calls gave up waiting for the writer lock since start (for /metrics). */
uint64_t db_writer_timeouts(void);

/*
 * Called between units of work (after each request, each engine job): a statement left
 * un-reset keeps a read snapshot open, so later reads on this connection would see stale
 * data; an open transaction would hold the write lock. Both are logged (a bug to fix) and
 * undone.
 */
void db_settle(struct db *db, const char *where);

/* Maps the last SQLite error of db to an rc (BUSY -> RC_BUSY, CONSTRAINT -> RC_CONFLICT, …). */
enum rc db_rc(struct db *db);
/* Steps st once: RC_OK on a row (read its columns, then reset st), RC_NOT_FOUND when there is
 * none, else the mapped SQLite error. */
enum rc db_step_row(struct db *db, sqlite3_stmt *st);
/* Steps st, a bound statement that returns no rows, and resets it: RC_OK or the mapped error,
 * logged with what. */
enum rc db_step_done(struct db *db, sqlite3_stmt *st, const char *what);
/* After a failed prepare (st NULL) or bind: logs what, resets st, returns RC_DB. */
enum rc db_bind_failed(struct db *db, sqlite3_stmt *st, const char *what);
/* Binds s as text (borrowed until the statement is reset), or NULL when s is NULL. */
int db_bind_opt_text(sqlite3_stmt *st, int i, const char *s);
/* Runs a statement without parameters or results (pragmas, fixed DDL). */
enum rc db_exec(struct db *db, const char *sql);
int64_t db_last_id(struct db *db);
int db_changes(struct db *db);

/* A SELECT 1 round-trip, for /healthz. */
enum rc db_ping(struct db *db);

/* The current row of st as a new JSON object: column name -> integer/real/text/null. */
json_t *db_row_json(sqlite3_stmt *st);
/* Steps st to the end, collecting each row with db_row_json into a new array; resets st. */
enum rc db_rows_json(struct db *db, sqlite3_stmt *st, json_t **out);

/* Highest migration version compiled into this binary. */
int db_latest_version(void);
/* Schema version of db (0 for a new database). */
enum rc db_version(struct db *db, int *out);
/*
 * Applies every embedded migration newer than the database, each once, in its own
 * transaction, recorded in schema_migrations. RC_CONFLICT (logged) when the database is
 * newer than the binary. *applied (may be NULL) receives how many were applied.
 */
enum rc db_migrate(struct db *db, int *applied);

#endif
