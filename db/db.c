/*
 * db/db.c — SQLite connection handling, statement cache, transactions and migrations.
 * Migrations are the files migrations/NNNN_name.sql compiled into the binary (server/core/embedded.h);
 * each runs once, in order, inside BEGIN IMMEDIATE, and is recorded in schema_migrations.
 */
#include "db/driver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"

/* postgres://… and postgresql://… name a PostgreSQL database (libpq's URI forms); anything
 * else is a SQLite file path. */
static const struct db_driver *driver_for(const char *target)
{
	if (strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0)
		return &db_pg_driver;
	return &db_sqlite_driver;
}

bool db_is_url(const char *target)
{
	return driver_for(target) != &db_sqlite_driver;
}

enum rc db_open(const char *path, struct db **out)
{
	struct db *db = calloc(1, sizeof *db);
	enum rc rc;

	*out = NULL;
	if (!db)
		return RC_INTERNAL;
	db->drv = driver_for(path);
	rc = db->drv->open(db, path);
	if (rc != RC_OK) {
		db_close(db);
		return rc;
	}
	*out = db;
	return RC_OK;
}

void db_close(struct db *db)
{
	size_t i;

	if (!db)
		return;
	db_rollback(db); /* never leave the writer lock held by a closed connection */
	for (i = 0; i < DB_STMT_CACHE; i++)
		if (db->cache[i].sql)
			db->drv->finalize(&db->cache[i]);
	db->drv->close(db);
	free(db);
}

const char *db_driver_name(const struct db *db)
{
	return db->drv->name;
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % DB_STMT_CACHE;
	size_t i;

	for (i = 0; i < DB_STMT_CACHE; i++) {
		struct db_stmt *st = &db->cache[(h + i) % DB_STMT_CACHE];

		if (st->sql == sql)
			return st;
		if (!st->sql) {
			st->db = db;
			st->sql = sql;
			if (db->drv->prepare(st) != 0) {
				st->sql = NULL;
				return NULL;
			}
			return st;
		}
	}
	log_err("statement cache full (%d)", DB_STMT_CACHE);
	return NULL;
}

sqlite3_stmt *db_stmt(struct db *db, const char *sql)
{
	struct db_stmt *st;

	if (db->drv != &db_sqlite_driver) {
		log_err("db_stmt: SQLite-only call on a %s database: %s", db->drv->name, sql);
		return NULL;
	}
	st = db_prepare(db, sql);
	return st ? st->lite : NULL;
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return st->db->drv->bind_int64(st, i, v);
}

int db_bind_int(struct db_stmt *st, int i, int v)
{
	return st->db->drv->bind_int64(st, i, v);
}

int db_bind_double(struct db_stmt *st, int i, double v)
{
	return st->db->drv->bind_double(st, i, v);
}

int db_bind_text(struct db_stmt *st, int i, const char *s, int n, enum db_life life)
{
	return s ? st->db->drv->bind_text(st, i, s, n, life) : st->db->drv->bind_null(st, i);
}

int db_bind_blob(struct db_stmt *st, int i, const void *p, int n, enum db_life life)
{
	return p ? st->db->drv->bind_blob(st, i, p, n, life) : st->db->drv->bind_null(st, i);
}

int db_bind_null(struct db_stmt *st, int i)
{
	return st->db->drv->bind_null(st, i);
}

int db_bind_opt_text(struct db_stmt *st, int i, const char *s)
{
	return db_bind_text(st, i, s, -1, DB_STATIC);
}

int db_step(struct db_stmt *st)
{
	return st->db->drv->step(st);
}

void db_reset(struct db_stmt *st)
{
	if (st)
		st->db->drv->reset(st);
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
	return st->db->drv->column_int64(st, i);
}

int db_column_int(struct db_stmt *st, int i)
{
	return (int)st->db->drv->column_int64(st, i);
}

double db_column_double(struct db_stmt *st, int i)
{
	return st->db->drv->column_double(st, i);
}

const unsigned char *db_column_text(struct db_stmt *st, int i)
{
	return st->db->drv->column_text(st, i);
}

const void *db_column_blob(struct db_stmt *st, int i)
{
	return st->db->drv->column_blob(st, i);
}

int db_column_bytes(struct db_stmt *st, int i)
{
	return st->db->drv->column_bytes(st, i);
}

int db_column_type(struct db_stmt *st, int i)
{
	return st->db->drv->column_type(st, i);
}

int db_column_count(struct db_stmt *st)
{
	return st->db->drv->column_count(st);
}

const char *db_column_name(struct db_stmt *st, int i)
{
	return st->db->drv->column_name(st, i);
}

const char *db_errmsg(struct db *db)
{
	return db->drv->errmsg(db);
}

bool db_err_is_foreign_key(struct db *db)
{
	return db->drv->err_is_foreign_key(db);
}

bool db_file_moved(struct db *db)
{
	return db->drv->file_moved(db);
}

enum rc db_rc(struct db *db)
{
	return db->drv->last_rc(db);
}

enum rc db_step_done(struct db *db, struct db_stmt *st, const char *what)
{
	enum rc rc = db_step(st) == DB_DONE ? RC_OK : db_rc(db);

	if (rc != RC_OK)
		log_err("%s: %s", what, db_errmsg(db));
	db_reset(st);
	return rc;
}

enum rc db_bind_failed(struct db *db, struct db_stmt *st, const char *what)
{
	if (st) {
		log_err("%s: bind: %s", what, db_errmsg(db));
		db_reset(st);
	}
	return RC_DB;
}

enum rc db_step_row(struct db *db, struct db_stmt *st)
{
	int s = db_step(st);
	enum rc rc;

	if (s == DB_ROW)
		return RC_OK;
	if (s == DB_DONE)
		return RC_NOT_FOUND;
	rc = db_rc(db);
	return rc == RC_OK ? RC_DB : rc;
}

enum rc db_exec(struct db *db, const char *sql)
{
	return db->drv->exec(db, sql);
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
	if (db->writing && !db->drv->in_transaction(db)) {
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
	rc = db->drv->begin(db);
	release_writer(db); /* no-op when the transaction is open */
	return rc;
}

/*
 * The WAL's checkpoint, off the writers' path. SQLite's automatic one ran inside the commit that
 * took the WAL past its mark, with the writer lock held, so every other writer waited for its
 * page copies and its two fdatasyncs. The driver only records the WAL's size at each commit
 * (db->wal_pages); the thread whose commit passed the mark folds the WAL once it has let the lock
 * go, one thread at a time: a PASSIVE checkpoint copies the pages (and syncs the database file)
 * while the others keep writing, then a second one, with the writer lock held, copies the few
 * pages they added meanwhile. The WAL is then wholly in the database, so the next writer starts
 * it over from its beginning (as after SQLite's own checkpoint) instead of it growing for as long
 * as writers keep coming: that second checkpoint also waits for the readers still in the WAL
 * (RESTART; they are short, and it gives way after 50 ms). Under a steady stream of new calls the
 * WAL stays within a few thousand pages (the mark and what was written during the first copy).
 * A read that stays (`plantao backup` copies the whole file in one read) keeps any checkpoint
 * from finishing: after one that gave way, the next fold waits for the WAL to grow by another
 * DB_WAL_CHECKPOINT_PAGES, so writers meet the 50 ms wait once per mark, not at every commit.
 * The writer lock is waited for FOLD_LOCK_WAIT_MS at most (the engine, which would wait for it
 * without bound, has requests to start), and not counted as a request answered busy.
 */
#define FOLD_LOCK_WAIT_MS 50

static atomic_bool folding;
static atomic_int fold_mark = DB_WAL_CHECKPOINT_PAGES; /* the WAL's size that starts a fold */

static bool take_writer_briefly(void)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += FOLD_LOCK_WAIT_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return pthread_mutex_clocklock(&writer_lock, CLOCK_MONOTONIC, &until) == 0;
}

static void fold_wal(struct db *db)
{
	int pages = db->wal_pages;
	bool done = false;

	if (pages < atomic_load(&fold_mark) || db->writing || !db->drv->checkpoint)
		return;
	db->wal_pages = 0;
	if (atomic_exchange(&folding, true))
		return; /* another thread is at it */
	db->drv->checkpoint(db, false);
	if (take_writer_briefly()) {
		done = db->drv->checkpoint(db, true);
		pthread_mutex_unlock(&writer_lock);
	}
	atomic_store(&fold_mark, done ? DB_WAL_CHECKPOINT_PAGES : pages + DB_WAL_CHECKPOINT_PAGES);
	atomic_store(&folding, false);
}

enum rc db_commit(struct db *db)
{
	enum rc rc = db->drv->commit(db);

	release_writer(db); /* a failed COMMIT leaves the transaction open: db_rollback releases */
	fold_wal(db);
	return rc;
}

void db_rollback(struct db *db)
{
	if (db->drv->in_transaction(db))
		db->drv->rollback(db);
	release_writer(db);
}

static const char sql_read_begin[] = "BEGIN";
static const char sql_read_end[] = "COMMIT";

enum rc db_read_begin(struct db *db)
{
	struct db_stmt *st;

	if (db->drv != &db_sqlite_driver)
		return RC_OK;
	st = db_prepare(db, sql_read_begin);
	return st ? db_step_done(db, st, "db_read_begin") : RC_DB;
}

void db_read_end(struct db *db)
{
	struct db_stmt *st;

	if (db->drv != &db_sqlite_driver || db->writing || !db->drv->in_transaction(db))
		return;
	st = db_prepare(db, sql_read_end);
	if (!st || db_step_done(db, st, "db_read_end") != RC_OK)
		db->drv->rollback(db);
}

bool db_in_transaction(struct db *db)
{
	return db->drv->in_transaction(db);
}

/* One savepoint name serves every depth: SAVEPOINT may repeat a name, and RELEASE and ROLLBACK TO
 * take the innermost one that carries it (SQLite and PostgreSQL agree). */
static const char sql_savepoint[] = "SAVEPOINT plantao_sp";
static const char sql_release[] = "RELEASE SAVEPOINT plantao_sp";
static const char sql_rollback_to[] = "ROLLBACK TO SAVEPOINT plantao_sp";

static enum rc run_fixed(struct db *db, const char *sql)
{
	struct db_stmt *st = db_prepare(db, sql);

	if (!st)
		return RC_DB;
	return db_step_done(db, st, sql);
}

enum rc db_savepoint(struct db *db)
{
	return run_fixed(db, sql_savepoint);
}

enum rc db_release(struct db *db)
{
	return run_fixed(db, sql_release);
}

enum rc db_rollback_to(struct db *db)
{
	return run_fixed(db, sql_rollback_to);
}

void db_settle(struct db *db, const char *where)
{
	size_t i;

	if (!db)
		return;
	for (i = 0; i < DB_STMT_CACHE; i++) {
		struct db_stmt *st = &db->cache[i];

		if (st->sql && db->drv->busy(st)) {
			log_err("db: statement left open after %s (reset now): %s", where, st->sql);
			db->drv->reset(st);
		}
	}
	if (db->drv->settle_others)
		db->drv->settle_others(db, where);
	if (db->drv->in_transaction(db)) {
		log_err("db: transaction left open after %s (rolled back)", where);
		db_rollback(db);
	}
	fold_wal(db); /* after a write outside db_begin (a single statement commits by itself) */
}

/* What this process last learnt about each singleton job, for /healthz (any thread reads it;
 * the engine's threads write it each time they ask). */
#define DB_MAX_JOBS 8
static struct {
	const char *job; /* the caller's fixed name */
	bool held;
	int64_t since; /* clock_now() when held last changed */
} jobs[DB_MAX_JOBS];
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_job(const char *job, bool held)
{
	size_t i;

	pthread_mutex_lock(&jobs_lock);
	for (i = 0; i < DB_MAX_JOBS && jobs[i].job && strcmp(jobs[i].job, job) != 0; i++)
		;
	if (i < DB_MAX_JOBS) {
		if (!jobs[i].job || jobs[i].held != held) {
			if (jobs[i].job)
				log_info("db: job %s %s on this instance", job, held ? "taken over" : "lost");
			jobs[i].job = job;
			jobs[i].held = held;
			jobs[i].since = clock_now();
		}
	}
	pthread_mutex_unlock(&jobs_lock);
}

bool db_job_lock(struct db *db, const char *job)
{
	uint32_t h = 2166136261u; /* FNV-1a: a stable key per job name */
	const unsigned char *p;
	bool held = true;

	if (db->drv->job_lock) {
		for (p = (const unsigned char *)job; *p; p++)
			h = (h ^ *p) * 16777619u;
		held = db->drv->job_lock(db, (int64_t)(0x706c6e6aLL << 32 | h));
	}
	note_job(job, held);
	return held;
}

size_t db_job_roles(struct db_job_role *out, size_t max)
{
	size_t i, n = 0;

	pthread_mutex_lock(&jobs_lock);
	for (i = 0; i < DB_MAX_JOBS && jobs[i].job && n < max; i++, n++) {
		out[n].job = jobs[i].job;
		out[n].held = jobs[i].held;
		out[n].since = jobs[i].since;
	}
	pthread_mutex_unlock(&jobs_lock);
	return n;
}

int64_t db_last_id(struct db *db)
{
	return db->drv->last_id(db);
}

int db_changes(struct db *db)
{
	return db->drv->changes(db);
}

enum rc db_ping(struct db *db)
{
	static const char sql[] = "SELECT count(*) FROM schema_migrations";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st)
		return RC_DB;
	rc = db_step(st) == DB_ROW ? RC_OK : db_rc(db);
	db_reset(st);
	return rc == RC_OK ? RC_OK : (rc == RC_BUSY ? RC_BUSY : RC_DB);
}

json_t *db_row_json(struct db_stmt *st)
{
	json_t *o = json_object();
	int i, n = db_column_count(st);

	for (i = 0; o && i < n; i++) {
		const char *name = db_column_name(st, i);
		json_t *v;

		switch (db_column_type(st, i)) {
		case DB_INTEGER: v = json_integer(db_column_int64(st, i)); break;
		case DB_FLOAT: v = json_real(db_column_double(st, i)); break;
		case DB_TEXT:
			v = json_stringn((const char *)db_column_text(st, i), (size_t)db_column_bytes(st, i));
			break;
		default: v = json_null();
		}
		json_object_set_new(o, name, v ? v : json_null());
	}
	return o;
}

enum rc db_rows_json(struct db *db, struct db_stmt *st, json_t **out)
{
	json_t *a = json_array();
	enum rc rc = RC_OK;
	int s;

	*out = NULL;
	if (!a)
		return RC_INTERNAL;
	while ((s = db_step(st)) == DB_ROW)
		json_array_append_new(a, db_row_json(st));
	if (s != DB_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("db rows: %s", db_errmsg(db));
		json_decref(a);
		a = NULL;
	}
	db_reset(st);
	*out = a;
	return rc;
}

/* Version number of an embedded migration path "<dir>0001_init.sql" (dir: "migrations/" or
 * "migrations/pg/"), or -1. */
static int migration_version(const char *dir, const char *path)
{
	size_t len = strlen(dir);
	const char *name;
	int v = 0, digits = 0;

	if (strncmp(path, dir, len) != 0)
		return -1;
	name = path + len;
	while (name[digits] >= '0' && name[digits] <= '9') {
		v = v * 10 + (name[digits] - '0');
		digits++;
	}
	if (digits != 4 || name[4] != '_')
		return -1;
	return v;
}

static int latest_in(const char *dir)
{
	const struct embedded_file *f;
	int latest = 0;

	for (f = embedded_files; f->path; f++) {
		int v = migration_version(dir, f->path);

		if (v > latest)
			latest = v;
	}
	return latest;
}

int db_latest_version(void)
{
	return latest_in(db_sqlite_driver.migrations);
}

enum rc db_version(struct db *db, int *out)
{
	static const char sql[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
	struct db_stmt *st;
	enum rc rc = RC_DB;

	*out = 0;
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
	                "name TEXT NOT NULL, applied_at INTEGER NOT NULL)") != RC_OK)
		return RC_DB;
	st = db_prepare(db, sql);
	if (!st)
		return RC_DB;
	if (db_step(st) == DB_ROW) {
		*out = db_column_int(st, 0);
		rc = RC_OK;
	}
	db_reset(st);
	return rc;
}

/* Whether schema_migrations records version (the table exists: db_version made it). */
static enum rc recorded(struct db *db, int version, bool *out)
{
	static const char sql[] = "SELECT count(*) FROM schema_migrations WHERE version = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	*out = false;
	if (!st || db_bind_int(st, 1, version))
		goto out;
	if (db_step(st) == DB_ROW) {
		*out = db_column_int(st, 0) > 0;
		rc = RC_OK;
	}
out:
	if (st)
		db_reset(st);
	return rc;
}

/* The embedded migration numbered version in dir, or NULL. */
static const struct embedded_file *migration_file(const char *dir, int version)
{
	const struct embedded_file *f;

	for (f = embedded_files; f->path; f++)
		if (migration_version(dir, f->path) == version)
			return f;
	return NULL;
}

/* Runs migration f (numbered version) and records it, inside the caller's transaction. */
static enum rc apply(struct db *db, const struct embedded_file *f, int version)
{
	static const char ins[] = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";
	struct db_stmt *st;
	char *sql = strndup((const char *)f->data, f->len);
	enum rc rc;

	if (!sql)
		return RC_INTERNAL;
	rc = db_exec(db, sql);
	free(sql);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, ins);
	if (!st || db_bind_int(st, 1, version) ||
	    db_bind_text(st, 2, f->path + strlen(db->drv->migrations), -1, DB_STATIC) ||
	    db_bind_int64(st, 3, clock_now())) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	rc = db_step(st) == DB_DONE ? RC_OK : RC_DB;
	db_reset(st);
	return rc;
}

/* A new SQLite file (no table yet) is made incremental auto-vacuum while that is one empty
 * VACUUM: retention (db/retention.c) would otherwise rewrite the whole file once to switch it. */
static enum rc new_file_incremental(struct db *db)
{
	static const char tables[] = "SELECT count(*) FROM sqlite_master";
	struct db_stmt *st;
	bool empty = false;

	if (strcmp(db_driver_name(db), "sqlite") != 0)
		return RC_OK;
	st = db_prepare(db, tables);
	if (!st)
		return RC_DB;
	if (db_step(st) == DB_ROW)
		empty = db_column_int64(st, 0) == 0;
	db_reset(st);
	if (!empty)
		return RC_OK;
	if (db_exec(db, "PRAGMA auto_vacuum = INCREMENTAL") != RC_OK)
		return RC_DB;
	return db_exec(db, "VACUUM");
}

/* Whether an embedded migration is not recorded in db yet. */
static enum rc pending(struct db *db, int latest, bool *any)
{
	enum rc rc = RC_OK;
	int v;

	*any = false;
	for (v = 1; rc == RC_OK && !*any && v <= latest; v++) {
		bool have;

		if (!migration_file(db->drv->migrations, v))
			continue;
		rc = recorded(db, v, &have);
		*any = rc == RC_OK && !have;
	}
	return rc;
}

/* On a new SQLite file (nothing but schema_migrations: checked inside the write lock, another
 * process may have migrated meanwhile) runs migrations/snapshot.sql, the database the migrations
 * it records give, as one script (generated at build time by tools/schema_snapshot.py), and
 * marks those in done. */
static enum rc run_snapshot(struct db *db, int latest, unsigned char *done, int *n)
{
	static const char others[] = "SELECT (SELECT count(*) FROM sqlite_master WHERE name <> 'schema_migrations') + "
	                             "(SELECT count(*) FROM schema_migrations)";
	static const char stamp[] = "UPDATE schema_migrations SET applied_at = ?1";
	const struct embedded_file *f = NULL, *e;
	struct db_stmt *st;
	char path[64], *sql;
	int64_t count = -1;
	enum rc rc;
	int v;

	if (strcmp(db_driver_name(db), "sqlite") != 0)
		return RC_OK;
	snprintf(path, sizeof path, "%ssnapshot.sql", db->drv->migrations);
	for (e = embedded_files; e->path && !f; e++)
		if (!strcmp(e->path, path))
			f = e;
	if (!f)
		return RC_OK;
	st = db_prepare(db, others);
	if (!st)
		return RC_DB;
	if (db_step(st) == DB_ROW)
		count = db_column_int64(st, 0);
	db_reset(st);
	if (count != 0)
		return count < 0 ? RC_DB : RC_OK;
	sql = strndup((const char *)f->data, f->len);
	if (!sql)
		return RC_INTERNAL;
	rc = db_exec(db, sql);
	free(sql);
	if (rc != RC_OK) {
		log_err("migration %s failed", f->path);
		return rc;
	}
	st = db_prepare(db, stamp);
	if (!st || db_bind_int64(st, 1, clock_now()) || db_step(st) != DB_DONE)
		rc = RC_DB;
	if (st)
		db_reset(st);
	for (v = 1; rc == RC_OK && v <= latest; v++) {
		bool have;

		rc = recorded(db, v, &have);
		if (rc == RC_OK && have && migration_file(db->drv->migrations, v)) {
			done[v] = 1;
			(*n)++;
		}
	}
	return rc;
}

enum rc db_migrate(struct db *db, int *applied)
{
	const char *dir = db->drv->migrations;
	int current, latest = latest_in(dir), v, n = 0;
	unsigned char *done = calloc((size_t)latest + 1, 1); /* done[v]: applied by this call */
	bool in_tx = false, any;
	enum rc rc, unlock;

	if (applied)
		*applied = 0;
	if (!done)
		return RC_INTERNAL;
	/* Instances started together: one migrates, the others wait here and find it done. */
	if (db->drv->migrate_lock) {
		rc = db->drv->migrate_lock(db, true);
		if (rc != RC_OK) {
			log_err("migrations: could not take the migration lock: %s", db_errmsg(db));
			free(done);
			return rc;
		}
	}
	rc = new_file_incremental(db);
	if (rc == RC_OK)
		rc = db_version(db, &current);
	if (rc != RC_OK)
		goto out;
	if (current > latest) {
		log_err("database schema version %d is newer than this binary (%d): refusing to start", current,
		        latest);
		rc = RC_CONFLICT;
		goto out;
	}
	/* Every migration not recorded yet, strictly by number: also one numbered below the
	 * database's highest (a branch merged after a later migration shipped). All of them in one
	 * transaction: a new database is one commit, not one per file, and an upgrade that fails
	 * halfway leaves the database as it was. The check runs again inside the write lock:
	 * another process may have migrated meanwhile. Nothing pending (every start but the first
	 * after an upgrade): no write lock is taken. */
	rc = pending(db, latest, &any);
	if (rc != RC_OK || !any)
		goto out;
	rc = db_begin(db);
	if (rc != RC_OK)
		goto out;
	in_tx = true;
	rc = run_snapshot(db, latest, done, &n);
	if (rc != RC_OK)
		goto out;
	for (v = 1; v <= latest; v++) {
		const struct embedded_file *f = migration_file(dir, v);
		bool have;

		if (!f)
			continue;
		rc = recorded(db, v, &have);
		if (rc != RC_OK)
			goto out;
		if (have)
			continue;
		rc = apply(db, f, v);
		if (rc != RC_OK) {
			log_err("migration %s failed: none of this start's migrations is applied", f->path);
			goto out;
		}
		done[v] = 1;
		n++;
	}
	in_tx = false;
	if (n == 0) {
		db_rollback(db);
		goto out;
	}
	rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		goto out;
	}
	for (v = 1; v <= latest; v++)
		if (done[v])
			log_info("migration %s applied", migration_file(dir, v)->path);
	if (applied)
		*applied = n;
out:
	if (in_tx)
		db_rollback(db);
	if (db->drv->migrate_lock) {
		unlock = db->drv->migrate_lock(db, false);
		if (unlock != RC_OK && rc == RC_OK)
			rc = unlock;
	}
	free(done);
	return rc;
}

enum rc db_migrate_pending(struct db *db, void (*each)(const char *name, void *arg), void *arg, int *count)
{
	const char *dir = db->drv->migrations;
	int current, latest = latest_in(dir), v;
	enum rc rc;

	*count = 0;
	/* Read inside a transaction that is rolled back: db_version creates schema_migrations in a
	 * new database, and a dry run must leave nothing behind. */
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = db_version(db, &current);
	if (rc == RC_OK && current > latest) {
		log_err("database schema version %d is newer than this binary (%d)", current, latest);
		rc = RC_CONFLICT;
	}
	for (v = 1; rc == RC_OK && v <= latest; v++) {
		const struct embedded_file *f = migration_file(dir, v);
		bool have;

		if (!f)
			continue;
		rc = recorded(db, v, &have);
		if (rc == RC_OK && !have) {
			(*count)++;
			if (each)
				each(f->path + strlen(dir), arg);
		}
	}
	db_rollback(db);
	return rc;
}
