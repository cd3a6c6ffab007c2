/*
 * server/sales/sales_parse.h — what every sales reader shares: the row and its sink, the column
 * names people use in their sheets, seller-name folding, periods ("YYYY-MM") from file
 * names and cells, format detection, and the JSON reader.
 * The CSV reader (server/sales/csv.h) and the XLSX reader (server/sales/xlsx.h) turn their records into
 * cells and hand them to sales_emit(), so all formats apply the same rules. Called by the
 * sales import route. Pure functions, no global state, thread-safe.
 * The exported names use the shorter prefix sales_ (this file is the sales data model).
 */
#ifndef PLANTAO_SALES_PARSE_H
#define PLANTAO_SALES_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

/* Longest seller name accepted, NUL excluded (longer -> RC_UNPROCESSABLE). */
#define SALES_SELLER_MAX 200
/* Buffer that holds the fold of any seller name (a byte folds to at most 4: "th", "ss"...). */
#define SALES_FOLD_MAX (4 * SALES_SELLER_MAX + 8)

/* One imported row. Borrowed: valid only during the sink call. */
struct sales_row {
	const char *seller; /* display name: trimmed, inner whitespace collapsed; never empty */
	const char *key;    /* sales_fold(seller), folded once per row by sales_emit */
	int64_t cents;      /* >= 0 */
	const char *period; /* "YYYY-MM" (sales_period_is_valid) or NULL when the row has none */
	long line;          /* CSV: line where the record starts; XLSX: row number; JSON: entry (1-based) */
};

/* Where rows go. The caller owns it; readers borrow it for their lifetime.
 * row() returns RC_OK to go on; any other rc stops the parse and is returned by the reader.
 * A failing sink may write its own reason into the err buffer it was given through ctx (the
 * same buffer the reader was called with); readers only fill err when it is still empty. */
struct sales_sink {
	enum rc (*row)(void *ctx, const struct sales_row *row);
	void *ctx;
	int default_year; /* year of periods written without one ("janeiro", "03/") */
	long rows;        /* out: rows delivered to row() so far */
};

enum sales_format { SALES_UNKNOWN, SALES_CSV, SALES_JSON, SALES_XLSX };

/* Chooses a reader from the first bytes of the body (head, len may be 0), the Content-Type
 * header and the file name (both may be NULL). A zip signature means XLSX; otherwise binary
 * content (NUL bytes, many control characters, an old .xls) is SALES_UNKNOWN (answer 415);
 * text is JSON when it starts with '[' or '{' or is declared JSON, else CSV. */
enum sales_format sales_detect(const unsigned char *head, size_t len, const char *content_type, const char *filename);

/* The comparison key of a seller: lower-case, accents removed (á->a, ç->c, combining marks
 * dropped), trimmed, inner whitespace (incl. NBSP) collapsed to one space:
 * "Ana  Souza", "ANA SOUZA" and "Aná Souza" all give "ana souza". Invalid UTF-8 bytes
 * become U+FFFD. out is always NUL-terminated valid UTF-8, truncated on a character
 * boundary when len is too small. */
void sales_fold(const char *name, char *out, size_t len);

/* True when s is "YYYY-MM" with year 1900-9999 and month 01-12. */
bool sales_period_is_valid(const char *s);

/* Finds the month a file is about from its name (directories and extension ignored):
 * "janeiro.xlsx", "2026-01.xlsx", "fevereiro 2026.xlsx", "Março_2026.csv",
 * "vendas-marco-2026.xlsx", "sales_january_2026.csv", "jan26.xlsx". Portuguese and English
 * month names and 3-letter abbreviations; default_year when the name has no year.
 * Writes "YYYY-MM" into out and returns true; false (out untouched) when there is no month
 * or it is ambiguous ("jan-fev.xlsx"). */
bool sales_period_from_name(const char *filename, int default_year, char out[8]);

/* Reads a period cell strictly: "2026-01", "2026/01", "01/2026", "1/2026", "202601",
 * "jan/2026", "Janeiro de 2026", "janeiro", "3" (month of default_year), full dates
 * "2026-01-15", "15/01/2026", "2026-01-15T10:00:00Z". false when anything else is there. */
bool sales_period_parse(const char *text, int default_year, char out[8]);

/* Month names for messages: lang starting with "en" gives "January", anything else
 * "janeiro". NULL when month is not 1-12. Static strings. */
const char *sales_month_name(int month, const char *lang);

/* The columns a sheet must (seller, amount) or may (period) have. */
enum sales_col { SALES_COL_SELLER, SALES_COL_AMOUNT, SALES_COL_PERIOD, SALES_COL_COUNT };
struct sales_cols {
	long idx[SALES_COL_COUNT]; /* index into the header, -1 when absent */
};

/* Matches header names (n of them, NULL entries allowed for empty cells) to columns, case-
 * and accent-insensitively, ignoring a parenthesised suffix and a currency mark ("Valor (R$)"):
 *   seller: vendedor, vendedora, seller, nome, name, ...
 *   amount: vendas, sales, valor, amount, total, ...
 *   period: mes, mês, month, periodo, período, competencia, data, date, ...
 * When several columns match, the earlier name in those lists wins, then the leftmost column.
 * RC_UNPROCESSABLE when seller or amount is missing; err names what was expected and found. */
enum rc sales_header_match(const char *const *names, size_t n, struct sales_cols *cols, char *err, size_t errlen);

/* A cell as a reader saw it. text is never NULL ("" when empty). numeric: the value is a
 * number stored by the file format (XLSX n cells, JSON numbers), parsed with
 * amount_parse_real(); otherwise typed text, parsed with amount_parse(). */
struct sales_cell {
	const char *text;
	bool numeric;
};

/* Turns one data record into a row and calls the sink. unit names the position in messages
 * ("line", "row", "entry"). Skipped without error: records where seller and amount are both
 * empty, records with an empty amount, and totals rows (seller "Total", "Total geral",
 * "Subtotal"). RC_UNPROCESSABLE, with err like "line 17: amount 'abc' is not a number", for
 * a bad amount, a negative amount, an amount without a seller, a period that is not a month,
 * a seller longer than SALES_SELLER_MAX. Returns the sink's rc when it fails. */
enum rc sales_emit(struct sales_sink *sink, struct sales_cell seller, struct sales_cell amount,
                   struct sales_cell period, long line, const char *unit, char *err, size_t errlen);

/* Reads a JSON array of objects {"seller": "...", "amount": 57000.5 | "57.000,50",
 * "period": "2026-01" | null} (keys matched like header names) and emits each entry.
 * The whole body is parsed at once: the caller caps len. RC_UNPROCESSABLE for invalid JSON,
 * a wrong shape, bad values or an empty array. */
enum rc sales_parse_json(const char *data, size_t len, struct sales_sink *sink, char *err, size_t errlen);

#endif
