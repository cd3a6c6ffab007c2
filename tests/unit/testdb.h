/*
 * tests/unit/testdb.h — the fixture of the unit tests that need a database: a real SQLite
 * file in /tmp, migrated, removed with its WAL files afterwards; and a one-value query.
 * Header-only (static functions) because each test is one translation unit.
 */
#ifndef PLANTAO_TESTDB_H
#define PLANTAO_TESTDB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#include "db/db.h"

/* Creates and migrates a new database file named after tag; path receives its name. */
static inline struct db *testdb_open(const char *tag, char file[64])
{
	struct db *t = NULL;
	int fd;

	snprintf(file, 64, "/tmp/plantao-%s-XXXXXX", tag);
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	unlink(file);
	assert_int_equal(db_open(file, &t), RC_OK);
	assert_int_equal(db_migrate(t, NULL), RC_OK);
	return t;
}

/* Closes db and removes the file and its -wal and -shm companions. */
static inline void testdb_close(struct db *t, const char *file)
{
	char p[80];

	db_close(t);
	unlink(file);
	snprintf(p, sizeof p, "%s-wal", file);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", file);
	unlink(p);
}

/* The first column of the first row of sql, or -1. */
static inline int64_t testdb_scalar(struct db *t, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(t->h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

#endif
