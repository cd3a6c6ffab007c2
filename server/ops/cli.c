/*
 * server/ops/cli.c — operator commands (cli.h). Only wiring over db/: no SQL here.
 */
#include "ops/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "db/backup.h"
#include "db/db.h"

#define PATH_SIZE 4096

static void print_name(const char *name, void *arg)
{
	(void)arg;
	printf("  %s\n", name);
}

int cli_migrate_dry_run(const struct cfg *c, const char *shown)
{
	bool fresh = !strstr(c->db_path, "://") && access(c->db_path, F_OK) != 0;
	struct db *db;
	int version = 0, n = 0;
	enum rc rc;

	/* A file that does not exist yet: an empty database in memory answers for it. */
	if (db_open(fresh ? ":memory:" : c->db_path, &db) != RC_OK) {
		fprintf(stderr, "plantao migrate --dry-run: cannot open the database %s\n", shown);
		return 1;
	}
	if (!fresh && db_version(db, &version) != RC_OK)
		version = -1;
	if (fresh)
		printf("database %s does not exist; plantao migrate would create it at schema %d, applying:\n", shown,
		       db_latest_version());
	else
		printf("database %s at schema %d, this binary knows schema %d; plantao migrate would apply:\n", shown,
		       version, db_latest_version());
	fflush(stdout);
	rc = db_migrate_pending(db, print_name, NULL, &n);
	db_close(db);
	if (rc == RC_CONFLICT) {
		fprintf(stderr,
		        "plantao migrate --dry-run: the database %s is newer than this binary (schema %d): use the "
		        "newer "
		        "binary, or restore the backup made before the upgrade\n",
		        shown, db_latest_version());
		return 1;
	}
	if (rc != RC_OK) {
		fprintf(stderr, "plantao migrate --dry-run: cannot read the migrations of %s\n", shown);
		return 1;
	}
	printf("%d migration(s) to apply; nothing was changed\n", n);
	return 0;
}

int cli_backup(const struct cfg *c, const char *shown, const char *file)
{
	struct backup_report r;
	char err[512];

	if (db_is_url(c->db_path)) {
		fprintf(stderr,
		        "plantao backup: %s is a PostgreSQL database: back it up with pg_dump (pg_dump -Fc -f FILE "
		        "'<PLANTAO_DB>'), and restore with pg_restore\n",
		        shown);
		return 1;
	}
	umask(077); /* the copy holds phones, e-mails and token hashes: for its owner only */
	if (backup_copy(c->db_path, file, &r, err, sizeof err) != RC_OK) {
		fprintf(stderr, "plantao backup: %s\n", err);
		return 1;
	}
	printf("backed up %s to %s: %d pages in %d steps, schema %d, checked\n", shown, file, r.pages, r.steps,
	       r.version);
	return 0;
}

bool cli_hold_database(const char *db_path, char *err, size_t errlen)
{
	int fd;

	if (db_is_url(db_path))
		return true;
	fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", db_path, strerror(errno));
		return false;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s is being restored (plantao restore holds it): start plantao once it is done",
		         db_path);
		close(fd);
		return false;
	}
	return true; /* fd stays open, and the lock held, until the process exits */
}

int cli_restore(const struct cfg *c, const char *shown, const char *file)
{
	char staging[PATH_SIZE], aside[PATH_SIZE], a[PATH_SIZE + 8], stamp[32], err[512];
	struct backup_report r;
	time_t now = (time_t)clock_now();
	struct tm tm;
	int version = 0, fd = -1, status = 1;
	bool exists, kept = false;

	if (db_is_url(c->db_path)) {
		fprintf(stderr, "plantao restore: %s is a PostgreSQL database: restore a pg_dump with pg_restore\n",
		        shown);
		return 1;
	}
	umask(077); /* the staging copy and the database: for their owner only */
	if (backup_check(file, &version, err, sizeof err) != RC_OK) {
		fprintf(stderr, "plantao restore: %s\n", err);
		return 1;
	}
	if (version > db_latest_version()) {
		fprintf(stderr,
		        "plantao restore: %s has schema %d, newer than this binary knows (%d): restore it with the "
		        "plantao that made it\n",
		        file, version, db_latest_version());
		return 1;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if (snprintf(staging, sizeof staging, "%s.restoring", c->db_path) >= (int)sizeof staging ||
	    snprintf(aside, sizeof aside, "%s.before-restore-%s", c->db_path, stamp) >= (int)sizeof aside) {
		fprintf(stderr, "plantao restore: %s: path too long\n", shown);
		return 1;
	}
	exists = access(c->db_path, F_OK) == 0;
	if (exists) {
		fd = open(c->db_path, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
			fprintf(stderr,
			        "plantao restore: plantao is serving %s (it holds the database): stop it first "
			        "(systemctl stop plantao), then restore\n",
			        shown);
			goto out;
		}
	}
	if (backup_copy(file, staging, &r, err, sizeof err) != RC_OK) {
		fprintf(stderr, "plantao restore: %s\n", err);
		goto out;
	}
	if (exists) {
		/* the old database alone in one file: its WAL folded in, and deleted by SQLite when the
		 * last connection closes — a WAL still there means another program has it open */
		if (backup_checkpoint(c->db_path, err, sizeof err) != RC_OK) {
			fprintf(stderr, "plantao restore: %s; nothing changed\n", err);
			unlink(staging);
			goto out;
		}
		snprintf(a, sizeof a, "%s-wal", c->db_path);
		if (access(a, F_OK) == 0) {
			fprintf(stderr,
			        "plantao restore: %s is open in another program (its write-ahead log %s-wal is still "
			        "there): close it (a sqlite3 shell?), then restore; nothing changed\n",
			        shown, shown);
			unlink(staging);
			goto out;
		}
		/* kept aside as a second name of the same file: the database keeps its own name until
		 * the restored copy takes it in one rename, so no failure leaves it missing */
		if (link(c->db_path, aside) != 0) {
			fprintf(stderr, "plantao restore: cannot keep %s aside as %s: %s; nothing changed\n", shown,
			        aside, strerror(errno));
			unlink(staging);
			goto out;
		}
		kept = true;
		snprintf(a, sizeof a, "%s-shm", c->db_path);
		unlink(a);
	}
	if (rename(staging, c->db_path) != 0) {
		fprintf(stderr, "plantao restore: cannot put the restored copy in place: %s; %s is unchanged\n",
		        strerror(errno), shown);
		unlink(staging);
		if (kept)
			unlink(aside);
		goto out;
	}
	printf("restored %s (schema %d) into %s%s%s; start plantao: it upgrades the schema if it is older\n", file,
	       version, shown, exists ? "; the previous database is kept as " : "", exists ? aside : "");
	status = 0;
out:
	if (fd >= 0)
		close(fd);
	return status;
}
