/*
 * server/sales/sales_import.h — one sales import: any number of files (CSV, XLSX, JSON) streamed in
 * chunks, their rows summed per period and seller, then, all or nothing, the periods they
 * cover replaced in the sales table and every seller newly above the goal announced through
 * the outbox — in one BEGIN IMMEDIATE transaction.
 *
 * Rules (the route documents them to API users):
 *  - A file's format comes from its first bytes, its Content-Type and its name
 *    (sales_detect); binary content that is none of them is RC_UNSUPPORTED.
 *  - A row's period is the row's own (a month or date column); otherwise the file's: the
 *    `period` option, else a `period` form field, else the file name ("janeiro.xlsx"), else
 *    the XLSX sheet name ("Janeiro"). Without any: RC_UNPROCESSABLE naming the line.
 *    With the `period` option set, a row of another month is an error (never a silent
 *    replacement of a month the caller did not name).
 *  - Rows of one seller (case and accents ignored) in one period are summed.
 *  - One period comes from one file: two files of the same upload for the same month are an
 *    error (a duplicate upload would otherwise double the figures and announce wrongly).
 *  - Any error in any file rejects the whole upload: nothing is written.
 *  - Announcements: each seller above the goal in an imported period without a
 *    sales_notifications row is given one, and one SMS per manager phone (idempotency key
 *    "sales:{period}:{seller_key}:{phone}"), in the same transaction. Without manager
 *    phones nothing is recorded, so a later import announces them once phones exist.
 *    More than SALES_IMPORT_MAX_ANNOUNCE sellers to announce at once is refused (a wrong
 *    target or unit would otherwise text managers hundreds of times).
 * Memory: O(longest record) for CSV and the multipart framing; XLSX files are held whole
 * (XLSX_MAX_INPUT) and JSON files too (SALES_IMPORT_JSON_MAX), one at a time; the staged sums
 * live in a temp table of the import's own SQLite connection (db/sales.h).
 * Threading: one import belongs to one request; it opens its own connection and never uses
 * the worker's, so requests interleaved on one worker thread cannot see its transaction.
 */
#ifndef PLANTAO_SALES_IMPORT_H
#define PLANTAO_SALES_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

/* Largest JSON file (parsed whole). */
#define SALES_IMPORT_JSON_MAX (8 * 1024 * 1024)
/* Distinct months in one upload. */
#define SALES_IMPORT_MAX_PERIODS 240
/* Files in one upload. */
#define SALES_IMPORT_MAX_FILES 64
/* Sellers announced by one import. */
#define SALES_IMPORT_MAX_ANNOUNCE 1000
/* Longest error message. */
#define SALES_IMPORT_ERR_MAX 512
/* Bytes of a file held to recognise its format. */
#define SALES_IMPORT_HEAD 512

struct sales_import_opts {
	const char *db_path; /* the database file (borrowed during sales_import_new) */
	const char *period;  /* "YYYY-MM" for every row, or NULL */
	const char *sheet;   /* XLSX sheet to read, or NULL for the first visible one */
	int default_year;    /* year of month names without one ("janeiro.xlsx") */
	bool lang_en;        /* English texts (PLANTAO_LANG=en) */
};

struct sales_import;

/* Opens the import's connection and its staging transaction. opts strings are copied.
 * RC_UNPROCESSABLE for a malformed opts->period; RC_DB/RC_INTERNAL otherwise. err receives a
 * message. *out: sales_import_free(). */
enum rc sales_import_new(const struct sales_import_opts *opts, struct sales_import **out, char *err, size_t errlen);
/* Discards whatever was not committed and closes the connection. NULL is a no-op. */
void sales_import_free(struct sales_import *imp);

/* A form field of a multipart upload: "period" (the default period of the files that
 * follow) and "sheet"; other names are ignored. RC_UNPROCESSABLE for a bad period. */
enum rc sales_import_field(struct sales_import *imp, const char *name, const char *value);

/* One file: begin, its bytes in chunks of any size, end. filename and content_type may be
 * NULL. After any error the import is failed: later calls return the same rc and
 * sales_import_error() says why in one line ("janeiro.xlsx: row 17: amount 'abc' is not a
 * number"). rc values: RC_UNSUPPORTED (not a spreadsheet/CSV/JSON), RC_UNPROCESSABLE (bad
 * content, empty file, missing columns, periods), RC_TOO_BIG (a cap), RC_DB, RC_INTERNAL. */
enum rc sales_import_file_begin(struct sales_import *imp, const char *filename, const char *content_type);
enum rc sales_import_file_data(struct sales_import *imp, const void *data, size_t len);
enum rc sales_import_file_end(struct sales_import *imp);

/* All files are in: replaces the periods, announces, commits (BEGIN IMMEDIATE). *result: a
 * new JSON object {files, periods, above_goal, notifications, rows, queued, target_cents,
 * target, currency, rule[, warning]};
 * *queued (may be NULL) the number of outbox rows inserted (wake the engine when > 0).
 * RC_UNPROCESSABLE when no file was given, or too many sellers to announce; RC_BUSY/RC_DB. */
enum rc sales_import_commit(struct sales_import *imp, json_t **result, int64_t *queued);

/* Why the import failed (one line), or "" . Borrowed from imp. */
const char *sales_import_error(const struct sales_import *imp);

/* The SMS text announcing a seller: "Meta batida em janeiro/2026: Ana Souza vendeu
 * R$ 57.320,00 (meta R$ 55.000,00)" or in English "Goal reached in January 2026: …".
 * Always NUL-terminated; false when period is not "YYYY-MM". */
bool sales_import_message(const char *period, const char *seller, int64_t cents, int64_t target_cents, bool lang_en,
                          char *out, size_t len);

#endif
