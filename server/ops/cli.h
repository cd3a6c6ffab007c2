/*
 * server/ops/cli.h — the operator's commands of the command line (server/main.c dispatches):
 * `migrate --dry-run`, and the bodies main.c keeps out of itself. Each returns the process's
 * exit status and prints its result on stdout, its errors on stderr.
 */
#ifndef PLANTAO_CLI_H
#define PLANTAO_CLI_H

struct cfg;

/* plantao migrate --dry-run: the migrations `plantao migrate` would apply to c->db_path, in
 * order, changing nothing (a file that does not exist is not created). shown: the database as
 * messages name it (a URL's password hidden). */
int cli_migrate_dry_run(const struct cfg *c, const char *shown);

#endif
