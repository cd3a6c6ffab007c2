/*
 * db/backup.c — SQLite online backups and checks of backup files (backup.h).
 *
 * The copy holds one read transaction on the source for its whole length: in WAL mode a reader
 * never blocks a writer, and sqlite3_backup_step then copies one snapshot instead of restarting
 * each time another process commits (which, under a steady write load, could never finish).
 */
#include "db/backup.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define BUSY_MS 5000

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *h)
{
	snprintf(err, errlen, "%s: %s", what, h ? sqlite3_errmsg(h) : "out of memory");
}

static int one_int(sqlite3 *h, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int quick_check(sqlite3 *h)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(h, "PRAGMA quick_check", -1, &st, NULL);
	int ok = 0;

	if (rc != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
		ok = 1;
	sqlite3_finalize(st);
	return ok;
}

enum rc backup_check(const char *file, int *version, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	int tables = 0;
	enum rc rc = RC_INVALID;

	*version = 0;
	if (access(file, R_OK) != 0) {
		snprintf(err, errlen, "%s cannot be read", file);
		return RC_INVALID;
	}
	if (sqlite3_open_v2(file, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		set_err(err, errlen, file, h);
		goto out;
	}
	sqlite3_busy_timeout(h, BUSY_MS);
	if (one_int(h,
	            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', "
	            "'people', 'alerts')",
	            &tables) != SQLITE_OK) {
		snprintf(err, errlen, "%s is not a SQLite database (%s)", file, sqlite3_errmsg(h));
		goto out;
	}
	if (tables != 3) {
		snprintf(err, errlen,
		         "%s is a SQLite database but not plantao's (no schema_migrations, people, alerts)", file);
		goto out;
	}
	if (!quick_check(h)) {
		snprintf(err, errlen, "%s fails SQLite's quick_check: it is damaged", file);
		goto out;
	}
	if (one_int(h, "SELECT coalesce(max(version), 0) FROM schema_migrations", version) != SQLITE_OK) {
		set_err(err, errlen, file, h);
		goto out;
	}
	rc = RC_OK;
out:
	sqlite3_close(h);
	return rc;
}

enum rc backup_copy(const char *src, const char *dest, struct backup_report *r, char *err, size_t errlen)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b = NULL;
	char tmp[4096];
	enum rc rc = RC_INVALID;
	int step = SQLITE_OK, tables = 0;
	bool reading = false;

	memset(r, 0, sizeof *r);
	if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dest, (long)getpid()) >= (int)sizeof tmp) {
		snprintf(err, errlen, "%s: path too long", dest);
		return RC_INVALID;
	}
	if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		set_err(err, errlen, src, from);
		goto out;
	}
	sqlite3_busy_timeout(from, BUSY_MS);
	/* the snapshot: every commit before this read is in the copy, none after it */
	if (sqlite3_exec(from, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    one_int(from, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'", &tables) !=
	            SQLITE_OK) {
		snprintf(err, errlen, "%s is not a SQLite database (%s)", src, sqlite3_errmsg(from));
		goto out;
	}
	reading = true;
	if (!tables) {
		snprintf(err, errlen, "%s is not a plantao database (no schema_migrations)", src);
		goto out;
	}
	unlink(tmp);
	if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		set_err(err, errlen, dest, to);
		goto out;
	}
	b = sqlite3_backup_init(to, "main", from, "main");
	if (!b) {
		set_err(err, errlen, dest, to);
		goto out;
	}
	do {
		step = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		r->steps++;
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED) {
			struct timespec ts = {0, 20 * 1000000L};

			nanosleep(&ts, NULL);
		}
	} while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
	r->pages = sqlite3_backup_pagecount(b);
	sqlite3_backup_finish(b);
	b = NULL;
	if (step != SQLITE_DONE) {
		snprintf(err, errlen, "backup of %s failed: %s", src, sqlite3_errstr(step));
		goto out;
	}
	sqlite3_exec(from, "COMMIT", NULL, NULL, NULL);
	reading = false;
	/* the copy stands alone: no WAL beside it, checked before it takes dest's name */
	if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK || !quick_check(to) ||
	    one_int(to, "SELECT coalesce(max(version), 0) FROM schema_migrations", &r->version) != SQLITE_OK) {
		snprintf(err, errlen, "the copy of %s does not check: %s", src, sqlite3_errmsg(to));
		goto out;
	}
	if (sqlite3_close(to) != SQLITE_OK) {
		set_err(err, errlen, dest, to);
		goto out;
	}
	to = NULL;
	if (rename(tmp, dest) != 0) {
		snprintf(err, errlen, "%s: cannot rename the copy into place", dest);
		goto out;
	}
	rc = RC_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	if (reading)
		sqlite3_exec(from, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(from);
	if (to) {
		sqlite3_close(to);
		unlink(tmp);
	}
	if (rc != RC_OK)
		unlink(tmp);
	return rc;
}

enum rc backup_checkpoint(const char *path, char *err, size_t errlen)
{
	sqlite3 *h = NULL;
	enum rc rc = RC_DB;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		set_err(err, errlen, path, h);
		goto out;
	}
	sqlite3_busy_timeout(h, BUSY_MS);
	if (sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
		set_err(err, errlen, path, h);
		goto out;
	}
	rc = RC_OK;
out:
	sqlite3_close(h);
	return rc;
}
