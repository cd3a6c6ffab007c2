/*
 * server/core/embedded.h — files compiled into the binary by tools/embed.c:
 * migrations/NNNN_*.sql (in order), their twins migrations/pg/, static/ (the web console) and
 * migrations/snapshot.sql (generated into the build tree by tools/schema_snapshot.py).
 */
#ifndef PLANTAO_EMBEDDED_H
#define PLANTAO_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path; /* as named by the build: "migrations/0001_init.sql", "static/index.html" */
	const unsigned char *data;
	size_t len;
};

/* Terminated by an entry with path NULL. */
extern const struct embedded_file embedded_files[];

/* Borrowed; NULL when no such file was embedded. */
const struct embedded_file *embedded_find(const char *path);

#endif
