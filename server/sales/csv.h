/*
 * server/sales/csv.h — incremental reader of sales CSV (RFC 4180 as spreadsheets write it).
 * The body arrives in chunks split anywhere (inside a quoted field, between CR and LF, inside
 * a UTF-8 sequence); memory is O(longest record), never O(file).
 *  - The first non-blank line is the header; its separator (';', ',' or tab: the most
 *    frequent outside quotes, ';' on a tie) is used for the whole file.
 *  - Quoted fields: "" is a quote, separators and line breaks inside quotes are data.
 *    Spaces around a quoted field are ignored; text after a closing quote is kept.
 *  - CRLF, LF or CR line ends; a UTF-8 BOM is skipped. A field that is not valid UTF-8 is
 *    read as Windows-1252 (what Excel in pt-BR saves as "CSV").
 *  - Blank records are skipped; a record with more non-empty fields than the header is an
 *    error (an unquoted "55.000,00" in a comma file).
 * Columns and rows follow sales_header_match() and sales_emit(). Called by the sales route.
 */
#ifndef PLANTAO_CSV_H
#define PLANTAO_CSV_H

#include <stddef.h>

#include "core/rc.h"
#include "sales/sales_parse.h"

/* Longest record (all its fields, quotes removed) in bytes; longer -> RC_TOO_BIG. */
#define CSV_MAX_RECORD (64 * 1024)

struct csv;

/* A reader delivering rows to sink (borrowed: must outlive the reader). NULL when out of
 * memory. Free with csv_free(). */
struct csv *csv_new(struct sales_sink *sink);
void csv_free(struct csv *c);

/* Feeds the next len bytes. RC_OK to go on; otherwise the parse has stopped, err says why
 * and every later call returns the same rc: RC_UNPROCESSABLE (bad header, bad value: err
 * names the line), RC_TOO_BIG (a record over CSV_MAX_RECORD), RC_INTERNAL (out of memory)
 * or the sink's rc. */
enum rc csv_feed(struct csv *c, const void *data, size_t len, char *err, size_t errlen);

/* Ends the input: flushes the last record. RC_UNPROCESSABLE also for an empty file, a
 * header without data records and an unclosed quote. */
enum rc csv_finish(struct csv *c, char *err, size_t errlen);

/* The whole file at once: csv_new + csv_feed + csv_finish. */
enum rc csv_parse(const void *data, size_t len, struct sales_sink *sink, char *err, size_t errlen);

#endif
