/*
 * server/ops/cli.c — operator commands (cli.h). Only wiring over db/: no SQL here.
 */
#include "ops/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cfg.h"
#include "db/db.h"

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
