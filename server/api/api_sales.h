/*
 * server/api/api_sales.h — the sales-goal API (DESIGN.md, "HTTP contract"; issue: sales-goal
 * notifications).
 *
 * POST /api/sales[?period=YYYY-MM][&sheet=Name][&filename=janeiro.xlsx]   (HTTP_PERM_EDIT)
 *   Imports sales figures. The body is streamed (route max_body API_SALES_MAX_BODY) and is
 *   either one file — raw CSV, .xlsx or JSON, recognised by its first bytes, Content-Type
 *   and file name (Content-Disposition: attachment; filename=… or ?filename=) — or
 *   multipart/form-data with any number of files (parts with a filename) plus optional
 *   "period" and "sheet" fields that apply to the files after them. Rules (periods, sums,
 *   one file per month, all or nothing, announcements): server/sales/sales_import.h.
 *   The whole upload is one import: any bad file rejects all of it and nothing is written.
 *   Answers 201 {files: [{filename, format, rows, periods}], periods: [{period, sellers,
 *   total_cents, total, above_goal: count}], above_goal: [{period, seller, amount_cents, amount,
 *   notified}], notifications: [{period, seller, amount_cents, amount, message, phones}]
 *   (announced by this import), queued (outbox rows), rows, target_cents, target, currency,
 *   rule[, warning when no manager phone is set]}.
 *   Errors: 415 not a spreadsheet/CSV/JSON; 422 corrupt or non-workbook zip, missing columns,
 *   a bad value (naming file, line and value), an empty file, a month conflict; 413 over the
 *   body cap, a workbook over 32 MiB or inflating past 64 MiB (zip bomb), a JSON file over
 *   8 MiB; 400 malformed multipart framing.
 *   An editor token may import: importing is the sales team's routine, like editing people.
 *
 * GET /api/sales/settings (READ), PUT /api/sales/settings (EDIT, audited "sales.settings.update")
 *   {"target_cents": 5500000 (the goal in cents, the default R$ 55.000,00), "target":
 *    "R$ 55.000,00", "currency": "BRL" (the only one), "rule": "more_than" (default) |
 *    "at_least", "notify": ["+E164", …] (at most 20)}.
 *   PUT changes the fields it names and keeps the others. The goal may be given as
 *   target_cents (integer cents) or as target (reais: 55000, 55000.5 or "R$ 55.000,00", so
 *   what GET answered can be sent back). Unknown fields and bad values are 422 naming the
 *   field ("notify[1]: …"). Answers the settings. A new goal applies from the next import on.
 *
 * GET /api/sales/report[?period=YYYY-MM | ?from=YYYY-MM&to=YYYY-MM][&format=csv] (READ)
 *   Every seller of the months asked for (all months without a parameter): total, above the
 *   current goal, notified and when. JSON {from, to, target_cents, target, currency, rule,
 *   periods: [{period, sellers, total_cents, above_goal}], sellers: [{period, seller,
 *   amount_cents, amount, above_goal, notified, notified_at, notified_amount_cents}]}.
 *   format=csv: text/csv attachment for spreadsheets, UTF-8 with BOM, in the team's language
 *   (pt-BR: ';' and decimal comma; en: ',' and '.'), cells that a spreadsheet would read as a
 *   formula prefixed with "'"; the file can be imported back.
 */
#ifndef PLANTAO_API_SALES_H
#define PLANTAO_API_SALES_H

#include "http/http.h"

/* Body cap of POST /api/sales (a multipart upload of several workbooks, or a big CSV). */
#define API_SALES_MAX_BODY (64 * HTTP_MIB)

/* POST /api/sales: the streaming body consumer (route's on_body) and the handler. */
enum rc api_sales_body(struct http_req *req, const char *data, size_t len);
enum rc api_sales_import(struct http_req *req);

enum rc api_sales_settings_get(struct http_req *req);
enum rc api_sales_settings_put(struct http_req *req);
enum rc api_sales_report(struct http_req *req);

#endif
