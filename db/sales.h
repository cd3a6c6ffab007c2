/*
 * db/sales.h — the sales tables: imported figures (sales), the goal settings (sales_settings,
 * sales_notify) and the once-only record of announcements (sales_notifications), plus the
 * per-connection staging table an import streams its rows into.
 *
 * Staging: an import runs on a connection of its own (server/sales/sales_import.c) and first sums
 * its rows into the TEMP table sales_stage inside a plain BEGIN: writes to a temp table take
 * no lock on the main database, so a slow upload never holds the write lock that webhooks and
 * the engine need. Only the final merge (sales_replace_from_stage, the notifications) runs in
 * a short BEGIN IMMEDIATE. Memory stays O(SQLite page cache), whatever the size of the file.
 *
 * Callers: server/sales/sales_import.c (staging, merge, notifications), server/api/api_sales.c
 * (settings, report). All functions log SQLite errors once and return RC_DB (or db_rc()).
 */
#ifndef PLANTAO_DB_SALES_H
#define PLANTAO_DB_SALES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Managers' phones kept in sales_notify. */
#define SALES_NOTIFY_MAX 20
/* Longest folded seller key stored (server/sales/sales_parse.h: SALES_SELLER_MAX characters, each
 * at most 4 bytes once folded), NUL included. */
#define SALES_KEY_MAX 808

enum sales_rule { SALES_RULE_MORE_THAN, SALES_RULE_AT_LEAST };

struct sales_settings {
	int64_t target_cents; /* the monthly goal */
	char currency[8];     /* "BRL" */
	enum sales_rule rule; /* above goal: amount > target (more_than) or >= target (at_least) */
	size_t n_notify;
	char notify[SALES_NOTIFY_MAX][20]; /* E.164 phones of the managers, in the order given */
};

/* "more_than" / "at_least"; sales_rule_parse: false when name is neither. */
const char *sales_rule_name(enum sales_rule r);
bool sales_rule_parse(const char *name, enum sales_rule *out);
/* True when cents beats the goal under s's rule. */
bool sales_is_above(const struct sales_settings *s, int64_t cents);

/* ---- settings ---- */

/* Reads the settings row and the phones (ordered as stored). */
enum rc sales_settings_get(struct db *db, struct sales_settings *out);
/* Replaces the settings and the phone list (updated_at = now); call inside the caller's
 * transaction (with the audit row). RC_DB on error. */
enum rc sales_settings_put(struct db *db, const struct sales_settings *s, int64_t now);

/* ---- staging (the import's own connection only) ---- */

/* Creates the empty temp staging table if needed and opens a plain (deferred) transaction
 * that writes only to it. */
enum rc sales_stage_begin(struct db *db);
/* Adds cents to (period, key), creating the row with the display name seller and source (the
 * file name, may be NULL) the first time. RC_UNPROCESSABLE when the sum would overflow int64
 * cents. */
enum rc sales_stage_add(struct db *db, const char *period, const char *key, const char *seller, int64_t cents,
                        const char *source);
/* Commits the staging transaction (the temp table keeps its rows). */
enum rc sales_stage_end(struct db *db);
/* Rolls back an open staging or merge transaction and empties the staging table. */
void sales_stage_discard(struct db *db);

/* ---- merge (inside the caller's BEGIN IMMEDIATE) ---- */

/* For every period present in the staging table: deletes its figures from sales, then
 * inserts the staged rows (imported_at = now). *rows (may be NULL) receives the number of
 * rows written. */
enum rc sales_replace_from_stage(struct db *db, int64_t now, int64_t *rows);

/* The periods in the staging table, sorted: new array of "YYYY-MM" strings. */
enum rc sales_stage_periods(struct db *db, json_t **out);

/* One seller of a period (all strings NUL-terminated). */
struct sales_seller {
	char period[8];
	char key[SALES_KEY_MAX];
	char seller[SALES_KEY_MAX];
	int64_t cents;
};

/* The sellers of period above the goal of s that have no sales_notifications row yet, largest
 * amount first (ties by key). At most max are written to out (caller-owned, max entries);
 * *n receives how many qualify in total (may exceed max). */
enum rc sales_unannounced(struct db *db, const char *period, const struct sales_settings *s, struct sales_seller *out,
                          size_t max, size_t *n);

/* Records that (period, key) was announced with cents at now. *id: the row id (owner of the
 * outbox rows). RC_CONFLICT when it was announced already. */
enum rc sales_notification_add(struct db *db, const char *period, const char *key, int64_t cents, int64_t now,
                               int64_t *id);

/* Totals of a period: number of sellers and the sum (int64; saturates at INT64_MAX). */
enum rc sales_period_totals(struct db *db, const char *period, int64_t *sellers, int64_t *total_cents);

/* ---- report ---- */

/* Calls fn for each seller with a period in [from, to] (inclusive "YYYY-MM" strings), ordered
 * by period, amount descending, key. notified_at is 0 when not announced. fn returns RC_OK to
 * go on; another rc stops and is returned. */
struct sales_report_row {
	const char *period, *seller, *key;
	int64_t cents;
	int64_t notified_at;    /* unix seconds, 0: never */
	int64_t notified_cents; /* the amount announced */
	int64_t imported_at;
};
enum rc sales_report(struct db *db, const char *from, const char *to,
                     enum rc (*fn)(void *ctx, const struct sales_report_row *r), void *ctx);

#endif
