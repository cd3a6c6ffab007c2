/*
 * db/copy.h — `plantao migrate --copy-from FILE`: moves a SQLite database into the database
 * PLANTAO_DB names (PostgreSQL), every table, in one transaction, verified by counts and
 * checksums before it commits.
 */
#ifndef PLANTAO_DB_COPY_H
#define PLANTAO_DB_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/db.h"

struct copy_report {
	size_t tables;  /* tables copied */
	int64_t rows;   /* rows copied, all tables */
	char check[65]; /* hex SHA-256 over the tables' checksums, the same on both sides */
};

/*
 * Copies the SQLite database at src_path into dst. dst must be migrated to this binary's schema
 * (db_migrate) and hold no data yet: its seed rows (the default escalation policy and sales
 * settings) and health records are replaced; any person, alert, message, token or other row
 * makes it refuse (RC_CONFLICT). The source must be at the same schema version (RC_CONFLICT
 * otherwise: run `PLANTAO_DB=FILE plantao migrate` first) and is only read; stop plantao before
 * copying — a source that changed during the copy is detected and nothing is committed.
 * Every table of the schema is copied with its ids; on PostgreSQL the identity sequences then
 * continue after the highest id. Before COMMIT each table's row count and an order-independent
 * SHA-256 checksum of its rows are compared between source and destination; any difference
 * rolls everything back (RC_DB). err receives a one-line reason on failure.
 */
enum rc copy_from_sqlite(struct db *dst, const char *src_path, struct copy_report *out, char *err, size_t errlen);

/* The tables the copy knows, in copy order (for tests: every table of the schema must be one). */
size_t copy_table_count(void);
const char *copy_table_name(size_t i);
/* Table i's columns, in order, comma-separated ("id,name,…"). */
const char *copy_table_columns(size_t i);

#endif
