/*
 * db/backup.h — copies of a SQLite database while it serves, and checks of a copy before it is
 * restored (server/ops/cli.c: plantao backup, plantao restore). SQLite only: a PostgreSQL
 * database is backed up with pg_dump.
 */
#ifndef PLANTAO_BACKUP_H
#define PLANTAO_BACKUP_H

#include <stddef.h>

#include "core/rc.h"

#define BACKUP_STEP_PAGES 128 /* pages copied per sqlite3_backup_step (512 KiB of 4 KiB pages) */

struct backup_report {
	int pages;   /* pages copied */
	int steps;   /* sqlite3_backup_step calls */
	int version; /* schema version of the copy */
};

/*
 * Copies the SQLite database src into dest with the online backup API, in steps of
 * BACKUP_STEP_PAGES, inside one read transaction of src: the copy is src as it was when the
 * backup began, and writers (plantao serving, WAL) are never blocked. dest is written to a
 * temporary file beside it, checked (integrity) and renamed into place, so dest is never half
 * written. RC_INVALID with a message in err when src is not a database or dest cannot be
 * written.
 */
enum rc backup_copy(const char *src, const char *dest, struct backup_report *r, char *err, size_t errlen);

/*
 * Checks that file is a plantao SQLite database: it opens read-only, passes quick_check and has
 * plantao's schema_migrations and people tables. *version: its schema version. RC_INVALID with
 * the reason in err otherwise.
 */
enum rc backup_check(const char *file, int *version, char *err, size_t errlen);

/* Folds the WAL of the SQLite database path into its main file (wal_checkpoint(TRUNCATE)), so
 * that the file alone is the whole database. */
enum rc backup_checkpoint(const char *path, char *err, size_t errlen);

#endif
