/*
 * db/driver.h — what a storage driver provides to db/db.c (internal to db/). db.c owns the
 * statement cache, the in-process writer lock, the JSON helpers and the migrations runner;
 * a driver owns its connection and the statements' own state, maps its errors to enum rc and
 * runs transactions its way. Drivers: db/db_sqlite.c, db/db_pg.c.
 */
#ifndef PLANTAO_DB_DRIVER_H
#define PLANTAO_DB_DRIVER_H

#include "db/db.h"

struct db_driver {
	const char *name;
	/* Directory of this driver's migrations among the embedded files ("migrations/"). */
	const char *migrations;
	enum rc (*open)(struct db *db, const char *target);
	void (*close)(struct db *db); /* after every statement was finalized */
	int (*prepare)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	int (*bind_double)(struct db_stmt *st, int i, double v);
	int (*bind_text)(struct db_stmt *st, int i, const char *s, int n, enum db_life life);
	int (*bind_blob)(struct db_stmt *st, int i, const void *p, int n, enum db_life life);
	int (*bind_null)(struct db_stmt *st, int i);
	int (*step)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	bool (*busy)(struct db_stmt *st); /* stepped and not reset */
	int64_t (*column_int64)(struct db_stmt *st, int i);
	double (*column_double)(struct db_stmt *st, int i);
	const unsigned char *(*column_text)(struct db_stmt *st, int i);
	const void *(*column_blob)(struct db_stmt *st, int i);
	int (*column_bytes)(struct db_stmt *st, int i);
	int (*column_type)(struct db_stmt *st, int i);
	int (*column_count)(struct db_stmt *st);
	const char *(*column_name)(struct db_stmt *st, int i);
	enum rc (*exec)(struct db *db, const char *sql); /* logs its error */
	/* Transactions; begin runs with the in-process writer lock held. */
	enum rc (*begin)(struct db *db);
	enum rc (*commit)(struct db *db);
	void (*rollback)(struct db *db);
	bool (*in_transaction)(struct db *db);
	enum rc (*last_rc)(struct db *db);
	const char *(*errmsg)(struct db *db);
	bool (*err_is_foreign_key)(struct db *db);
	bool (*file_moved)(struct db *db);
	int64_t (*last_id)(struct db *db);
	int (*changes)(struct db *db);
	/* Folds the write-ahead log into the database: SQLite PASSIVE (copies what no reader needs,
	 * gives way to a checkpoint already running), or RESTART (also waits for the readers still
	 * in the WAL, so the next writer starts it over); db.c calls it once db->wal_pages passed
	 * DB_WAL_CHECKPOINT_PAGES. May be NULL (PostgreSQL checkpoints on its own). */
	bool (*checkpoint)(struct db *db, bool restart); /* false: it gave way before the end */
	/* Statements outside the cache still running (SQLite: raw handles); may be NULL. */
	void (*settle_others)(struct db *db, const char *where);
	/* Takes (take) or gives back a lock that lets one process at a time migrate; may be NULL
	 * (SQLite: BEGIN IMMEDIATE and the re-check inside it are enough). */
	enum rc (*migrate_lock)(struct db *db, bool take);
	/* Whether this session holds the lock of key, taking it when free; may be NULL (one
	 * instance: always held). */
	bool (*job_lock)(struct db *db, int64_t key);
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

#endif
