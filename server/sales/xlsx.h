/*
 * server/sales/xlsx.h — sales rows from an Excel .xlsx workbook (ECMA-376 / ISO 29500 SpreadsheetML).
 * The zip is opened from memory (libzip); the sheet is found through xl/workbook.xml and
 * xl/_rels/workbook.xml.rels (the first visible sheet, or the one named by the caller),
 * shared strings are read from the part the relationships name (rich-text runs joined,
 * phonetic runs skipped) and the sheet is streamed with libxml2's xmlReader, so a large
 * sheet is never a DOM. Every zip entry is read through a counter: past XLSX_MAX_UNZIPPED
 * bytes in total (or an entry declaring more) the read stops with RC_TOO_BIG.
 * Cell types: s (shared), inlineStr, str, n (number: amounts are currency units rounded to
 * cents half away from zero; periods are date serials), b, e. The header is the first
 * non-empty row that names the columns (up to 10 title rows above it are skipped); columns and rows follow
 * sales_header_match() and sales_emit() with line = the spreadsheet row number. Called by the sales route.
 */
#ifndef PLANTAO_XLSX_H
#define PLANTAO_XLSX_H

#include <stddef.h>

#include "core/rc.h"
#include "sales/sales_parse.h"

/* Largest .xlsx file accepted by xlsx_feed(). */
#define XLSX_MAX_INPUT (32 * 1024 * 1024)
/* Decompressed bytes read from all entries together. */
#define XLSX_MAX_UNZIPPED (64 * 1024 * 1024)
/* Text of one row (cells of interest), and of one cell. */
#define XLSX_MAX_ROW (1024 * 1024)
/* Shared-string table entries. */
#define XLSX_MAX_STRINGS (1024 * 1024)

struct xlsx;

/* A reader for one workbook; sheet names the sheet to read (matched like seller names:
 * case and accents ignored) or NULL for the first visible one. sink is borrowed. NULL when
 * out of memory. A zip needs its end to be read, so xlsx_feed() only collects the body
 * (at most XLSX_MAX_INPUT bytes, else RC_TOO_BIG) and xlsx_finish() parses it. */
struct xlsx *xlsx_new(struct sales_sink *sink, const char *sheet);
void xlsx_free(struct xlsx *x);
enum rc xlsx_feed(struct xlsx *x, const void *data, size_t len, char *err, size_t errlen);

/* Parses what was fed. RC_OK; RC_UNPROCESSABLE (not a zip, corrupt zip, not a workbook, no
 * such sheet, bad XML, bad header or value: err says which, naming the row);
 * RC_TOO_BIG (decompression cap, row cap, string table cap); RC_INTERNAL; or the sink's rc. */
enum rc xlsx_finish(struct xlsx *x, char *err, size_t errlen);

/* Name of the sheet that was read (borrowed from x), "" before xlsx_finish found one.
 * Useful as a period hint ("Janeiro"). */
const char *xlsx_sheet_name(const struct xlsx *x);

/* One workbook already in memory (data is borrowed, not copied). Same results as
 * xlsx_finish(). */
enum rc xlsx_parse(const void *data, size_t len, const char *sheet, struct sales_sink *sink, char *err, size_t errlen);

#endif
