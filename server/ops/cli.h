/*
 * server/ops/cli.h — the operator's commands of the command line (server/main.c dispatches):
 * `migrate --dry-run`, `backup`, `restore`, and the database lock `serve` holds so that a
 * restore can tell it is running. Each returns the process's
 * exit status and prints its result on stdout, its errors on stderr.
 */
#ifndef PLANTAO_CLI_H
#define PLANTAO_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;

/* plantao migrate --dry-run: the migrations `plantao migrate` would apply to c->db_path, in
 * order, changing nothing (a file that does not exist is not created). shown: the database as
 * messages name it (a URL's password hidden). */
int cli_migrate_dry_run(const struct cfg *c, const char *shown);

/* plantao backup FILE: a consistent copy of the SQLite database while plantao serves it
 * (db/backup.c); on PostgreSQL it says to use pg_dump and fails. */
int cli_backup(const struct cfg *c, const char *shown, const char *file);

/*
 * plantao restore FILE: checks FILE is a plantao database no newer than this binary, refuses
 * while a plantao serves the database (cli_hold_database) or another program has it open (its
 * WAL stays), keeps the database aside as <db>.before-restore-<UTC time> (a second name of the
 * same file) and puts a copy of FILE in its place with one rename: whatever fails, the database
 * is still there under its own name, and a failure changes nothing.
 */
int cli_restore(const struct cfg *c, const char *shown, const char *file);

/*
 * For serve: takes a shared flock(2) on the SQLite file db_path (created if missing) for the
 * life of the process, so that plantao restore can tell a server is running (it asks for the
 * exclusive one); several servers share it. Independent of SQLite's own fcntl locks. Returns
 * false (and says why in err) when a restore holds it; true for a PostgreSQL URL.
 */
bool cli_hold_database(const char *db_path, char *err, size_t errlen);

#endif
