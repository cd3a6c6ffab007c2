/*
 * db/db.h — the storage layer: opening, a per-connection cache of prepared statements, one small
 * statement API (bind, step, columns, reset) over a driver, transactions and the migrations
 * runner. Two drivers (db/driver.h): SQLite (db/db_sqlite.c: WAL, busy timeout, foreign keys) for
 * a file path, PostgreSQL (db/db_pg.c, libpq) for PLANTAO_DB=postgres://…; SQL is written once
 * with ?N placeholders, and the few dialect differences live in the drivers and in the
 * per-dialect migrations (migrations/ and migrations/pg/, same numbers).
 * One struct db per thread (HTTP workers get theirs from the HTTP glue, the engine owns one).
 * Only files in db/ run statements; everything else calls db/<table>.c functions.
 *
 * Writing db code (SQL as static const strings with ?N placeholders, as always):
 *
 *	static const char sql[] = "UPDATE alerts SET status = ?2 WHERE id = ?1";
 *	struct db_stmt *st = db_prepare(db, sql);          cached per connection, by the address of sql
 *	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, s, -1, DB_STATIC))  0 = bound
 *		...
 *	if (db_step(st) != DB_DONE)                           DB_ROW, DB_DONE, or an error
 *		log_err("...: %s", db_errmsg(db)), rc = db_rc(db);
 *	n = db_changes(db);
 *	db_reset(st);                                         always, before the next unit of work
 *
 * Mapping from the SQLite C API:
 *	sqlite3_stmt                  -> struct db_stmt
 *	db_stmt(db, sql)              -> db_prepare(db, sql)
 *	sqlite3_bind_{int64,int,double,text,null,blob}(st, …)  -> db_bind_…(st, …), same arguments
 *	SQLITE_STATIC, SQLITE_TRANSIENT                     -> DB_STATIC, DB_TRANSIENT
 *	sqlite3_step(st) / sqlite3_reset(st)                -> db_step(st) / db_reset(st)
 *	SQLITE_ROW, SQLITE_DONE                             -> DB_ROW, DB_DONE
 *	sqlite3_column_{int64,int,double,text,blob,bytes,type,count,name}(st, i) -> db_column_…(st, i)
 *	SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL         -> DB_INTEGER, DB_FLOAT, DB_TEXT, DB_BLOB, DB_NULL
 *	sqlite3_errmsg(db->h)         -> db_errmsg(db)
 *	sqlite3_changes(db->h)        -> db_changes(db)
 *	sqlite3_last_insert_rowid(db->h) -> db_last_id(db)
 *	sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_FOREIGNKEY -> db_err_is_foreign_key(db)
 *	sqlite3_file_control(…SQLITE_FCNTL_HAS_MOVED…)      -> db_file_moved(db)
 * Transactions: db_begin/db_commit/db_rollback (cached BEGIN IMMEDIATE/COMMIT/ROLLBACK);
 * savepoints: db_savepoint/db_release/db_rollback_to (cached too).
 * db->h (the sqlite3 handle) stays for tests that inspect the file; db code never uses it.
 *
 * SQL both databases take (the PostgreSQL driver prepares every statement as written):
 *  - ON CONFLICT (…) DO NOTHING / DO UPDATE, never INSERT OR …; inside DO UPDATE name the
 *    table's own columns with the table (SET n = coalesce(?4, t.n)), or PostgreSQL finds them
 *    ambiguous with excluded.n;
 *  - CASE WHEN a > b THEN a ELSE b END, not the two-argument max()/min(); sum(CASE WHEN … THEN 1
 *    ELSE 0 END), not sum(a comparison); a IS DISTINCT FROM b, not a IS b; no rowid, ifnull,
 *    total, group_concat, strftime, temp./main. prefixes;
 *  - integers are BIGINT (migrations/pg); an integer flag compared, not used bare, in WHERE
 *    (WHERE test = 1), though binding an int for CASE WHEN ?2 THEN … works;
 *  - every statement error aborts a PostgreSQL transaction: when an error is expected and the
 *    transaction must go on (a foreign key refusing a delete), wrap the statement in
 *    db_savepoint/db_rollback_to/db_release;
 *  - db_last_id after an INSERT into a table with an identity id (0 otherwise on PostgreSQL).
 * Each migration migrations/NNNN_x.sql has its twin migrations/pg/NNNN_x.sql.
 */
#ifndef PLANTAO_DB_H
#define PLANTAO_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define DB_STMT_CACHE      256
#define DB_BUSY_TIMEOUT_MS 5000
/* SQLite's WAL is folded into the database by the connection whose commit took it past
 * DB_WAL_CHECKPOINT_PAGES (SQLite's own mark), once that connection has let the writer lock go
 * (db.c, fold_wal). */
#define DB_WAL_CHECKPOINT_PAGES 1000

/* db_step results (the same numbers as SQLite's, so old comparisons read the same). */
enum { DB_ROW = 100, DB_DONE = 101, DB_ERROR = 1 };
/* db_column_type results (SQLite's numbers). */
enum { DB_INTEGER = 1, DB_FLOAT = 2, DB_TEXT = 3, DB_BLOB = 4, DB_NULL = 5 };
/* Lifetime of bound text and blobs: DB_STATIC (the caller keeps them valid until db_reset or the
 * next bind of that parameter) or DB_TRANSIENT (copied at bind). */
enum db_life { DB_STATIC = 0, DB_TRANSIENT = 1 };

struct db;
struct db_driver;

/* A cached prepared statement. Borrowed from its connection: reset it after use, never free it. */
struct db_stmt {
	struct db *db;
	const char *sql;    /* key: the address of a static SQL string */
	sqlite3_stmt *lite; /* SQLite driver */
	void *drv;          /* another driver's own state */
};

struct db {
	const struct db_driver *drv;
	sqlite3 *h; /* SQLite driver only; db code goes through the statement API */
	void *conn; /* another driver's connection */
	struct db_stmt cache[DB_STMT_CACHE];
	bool writing;       /* holds the process's writer lock (between db_begin and commit/rollback) */
	int writer_wait_ms; /* db_begin's bound on waiting for that lock; 0: wait as long as it takes */
	int wal_pages;      /* SQLite: the WAL's size in pages after this connection's last commit */
};

/* Default bound on an HTTP request's wait for the writer lock: it then answers 503 with
 * Retry-After, well inside the 15 s Twilio waits for a webhook. */
#define DB_WRITER_WAIT_MS 5000

/* Opens target: a postgres:// or postgresql:// URL (PostgreSQL, libpq), else a SQLite file path
 * (created if needed; WAL, foreign keys and a busy timeout). *out: db_close(). */
enum rc db_open(const char *target, struct db **out);
/* Whether target names a PostgreSQL database (a URL) rather than a SQLite file. */
bool db_is_url(const char *target);
void db_close(struct db *db);
/* The driver's name ("sqlite" or "postgresql"), for logs and /healthz. */
const char *db_driver_name(const struct db *db);

/*
 * Prepared statement for sql from this connection's cache, keyed by the address of sql (pass
 * static const strings only). Borrowed: db_reset it after use, never free it. NULL on error
 * (logged).
 */
struct db_stmt *db_prepare(struct db *db, const char *sql);
/* The SQLite handle of db_prepare(db, sql): only for code not yet ported to the statement API
 * (SQLite driver only; NULL otherwise). Port such code with the mapping above. */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);

/* Binding: parameters count from 1 (?1 is 1); 0 when bound, non-zero on error. Bindings stay
 * across db_reset until bound again. Text is UTF-8; n < 0 means up to the NUL. */
int db_bind_int64(struct db_stmt *st, int i, int64_t v);
int db_bind_int(struct db_stmt *st, int i, int v);
int db_bind_double(struct db_stmt *st, int i, double v);
int db_bind_text(struct db_stmt *st, int i, const char *s, int n, enum db_life life);
int db_bind_blob(struct db_stmt *st, int i, const void *p, int n, enum db_life life);
int db_bind_null(struct db_stmt *st, int i);
/* Binds s as text (borrowed until the statement is reset), or NULL when s is NULL. */
int db_bind_opt_text(struct db_stmt *st, int i, const char *s);

/* Runs st to its next row: DB_ROW (read the columns), DB_DONE, or another value on error
 * (db_rc and db_errmsg tell which). */
int db_step(struct db_stmt *st);
/* Ends the current run of st (keeps its bindings). NULL is a no-op. */
void db_reset(struct db_stmt *st);

/* Columns of the current row, from 0. Text and blobs are borrowed until the next step or reset. */
int64_t db_column_int64(struct db_stmt *st, int i);
int db_column_int(struct db_stmt *st, int i);
double db_column_double(struct db_stmt *st, int i);
const unsigned char *db_column_text(struct db_stmt *st, int i);
const void *db_column_blob(struct db_stmt *st, int i);
int db_column_bytes(struct db_stmt *st, int i);
int db_column_type(struct db_stmt *st, int i);
int db_column_count(struct db_stmt *st);
const char *db_column_name(struct db_stmt *st, int i);

/* The last error's message on db (borrowed until the next call on db). */
const char *db_errmsg(struct db *db);
/* Whether the last error was a foreign key refusing the change. */
bool db_err_is_foreign_key(struct db *db);
/* Whether the database file was deleted or replaced under the open connection. */
bool db_file_moved(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. db_rollback is safe to call when no transaction is open.
 * db_begin waits for the process's writer lock at most db->writer_wait_ms (when > 0): past
 * that it logs a warning and returns RC_BUSY (the HTTP layer answers 503 with Retry-After). */
enum rc db_begin(struct db *db);
enum rc db_commit(struct db *db);
void db_rollback(struct db *db);
/*
 * A read-only stretch of several reads on one snapshot, outside any write: SQLite takes its WAL
 * read lock and checks its page cache (dropped whenever another connection committed) once
 * instead of at each statement. No writer lock; end it before db_begin. db_read_end is safe to
 * call when none is open (and leaves a write transaction alone). PostgreSQL: no-ops (each
 * statement reads the latest commit anyway).
 */
enum rc db_read_begin(struct db *db);
void db_read_end(struct db *db);
/* Whether a transaction is open on db. */
bool db_in_transaction(struct db *db);
/* Savepoints inside a transaction, nested as deep as needed: db_release and db_rollback_to act on
 * the innermost one still open (after db_rollback_to it stays open: release it too). */
enum rc db_savepoint(struct db *db);
enum rc db_release(struct db *db);
enum rc db_rollback_to(struct db *db);
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

/* Maps the last error of db to an rc (busy -> RC_BUSY, constraint -> RC_CONFLICT, …). */
enum rc db_rc(struct db *db);
/* Steps st once: RC_OK on a row (read its columns, then reset st), RC_NOT_FOUND when there is
 * none, else the mapped error. */
enum rc db_step_row(struct db *db, struct db_stmt *st);
/* Steps st, a bound statement that returns no rows, and resets it: RC_OK or the mapped error,
 * logged with what. */
enum rc db_step_done(struct db *db, struct db_stmt *st, const char *what);
/* After a failed prepare (st NULL) or bind: logs what, resets st, returns RC_DB. */
enum rc db_bind_failed(struct db *db, struct db_stmt *st, const char *what);
/* Runs fixed SQL without parameters or results (pragmas, fixed DDL, migrations): not cached. */
enum rc db_exec(struct db *db, const char *sql);
int64_t db_last_id(struct db *db);
int db_changes(struct db *db);

/*
 * Singleton jobs across instances (the IMAP poller, hand-off notices, …): whether this connection
 * holds the lock of the named job, taking it when it is free. Call it before each run of the job,
 * on the connection that runs it, and skip the run when false. On PostgreSQL the lock is a
 * session-level advisory lock: it stays with this instance while its session lives and passes to
 * whichever instance asks next once that session ends (exit, kill -9, a lost connection), so a
 * job moves within one of its intervals (plus the server's detection of a dead client: at once
 * for a killed process, TCP keepalive for a vanished machine). On SQLite, one instance: always
 * true. job is a fixed name; the key is a hash of it.
 */
bool db_job_lock(struct db *db, const char *job);

/* This instance's role in each singleton job it has asked db_job_lock about: held (it runs the
 * job) or standby (another instance does), since when (clock_now()); a change is logged. For
 * /healthz. Fills at most max entries of out; returns how many. Any thread. */
struct db_job_role {
	const char *job; /* borrowed: the fixed name given to db_job_lock */
	bool held;
	int64_t since;
};
size_t db_job_roles(struct db_job_role *out, size_t max);

/* A SELECT 1 round-trip, for /healthz. */
enum rc db_ping(struct db *db);

/* The current row of st as a new JSON object: column name -> integer/real/text/null. */
json_t *db_row_json(struct db_stmt *st);
/* Steps st to the end, collecting each row with db_row_json into a new array; resets st. */
enum rc db_rows_json(struct db *db, struct db_stmt *st, json_t **out);

/* Highest migration version compiled into this binary. */
int db_latest_version(void);
/* Schema version of db (0 for a new database). */
enum rc db_version(struct db *db, int *out);
/*
 * Applies every embedded migration not yet recorded in the database (also one numbered below
 * the highest recorded), in order, each once, all in one transaction (a failure applies none),
 * recorded in schema_migrations. A new SQLite file is made auto_vacuum INCREMENTAL first and
 * gets migrations/snapshot.sql (the migrations it records, as one script) before the rest.
 * RC_CONFLICT (logged) when the database is newer than the binary. *applied (may be NULL)
 * receives how many were applied.
 */
enum rc db_migrate(struct db *db, int *applied);
/*
 * What db_migrate would apply, changing nothing: calls each(name, arg) for every embedded
 * migration not recorded in schema_migrations, in order ("0180_x.sql"), and sets *count.
 * RC_CONFLICT (logged) when the database is newer than the binary.
 */
enum rc db_migrate_pending(struct db *db, void (*each)(const char *name, void *arg), void *arg, int *count);

#endif
