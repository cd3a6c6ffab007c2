/*
 * db/sales.c — statements on sales, sales_settings, sales_notify, sales_notifications and the
 * temp staging table of an import (see sales.h for the locking argument).
 */
#include "sales.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

const char *sales_rule_name(enum sales_rule r)
{
	return r == SALES_RULE_AT_LEAST ? "at_least" : "more_than";
}

bool sales_rule_parse(const char *name, enum sales_rule *out)
{
	if (!strcmp(name, "more_than"))
		*out = SALES_RULE_MORE_THAN;
	else if (!strcmp(name, "at_least"))
		*out = SALES_RULE_AT_LEAST;
	else
		return false;
	return true;
}

bool sales_is_above(const struct sales_settings *s, int64_t cents)
{
	return s->rule == SALES_RULE_AT_LEAST ? cents >= s->target_cents : cents > s->target_cents;
}

static enum rc fail(struct db *db, const char *what)
{
	enum rc rc = db_rc(db);

	log_err("sales %s: %s", what, db_errmsg(db));
	return rc == RC_OK ? RC_DB : rc;
}

static void copy_text(struct db_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = db_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* ---------------------------------------------------------------- settings */

enum rc sales_settings_get(struct db *db, struct sales_settings *out)
{
	static const char sql[] = "SELECT target_cents, currency, rule FROM sales_settings WHERE id = 1";
	static const char phones[] = "SELECT phone FROM sales_notify ORDER BY position, phone";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;
	int s;

	memset(out, 0, sizeof *out);
	out->target_cents = 5500000;
	snprintf(out->currency, sizeof out->currency, "BRL");
	if (!st)
		return RC_DB;
	s = db_step(st);
	if (s == DB_ROW) {
		out->target_cents = db_column_int64(st, 0);
		copy_text(st, 1, out->currency, sizeof out->currency);
		if (!sales_rule_parse((const char *)db_column_text(st, 2), &out->rule))
			out->rule = SALES_RULE_MORE_THAN;
	} else if (s != DB_DONE) {
		rc = fail(db, "settings");
		db_reset(st);
		return rc;
	}
	db_reset(st);
	st = db_prepare(db, phones);
	if (!st)
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW && out->n_notify < SALES_NOTIFY_MAX)
		copy_text(st, 0, out->notify[out->n_notify++], sizeof out->notify[0]);
	rc = s == DB_ROW || s == DB_DONE ? RC_OK : fail(db, "notify");
	db_reset(st);
	return rc;
}

enum rc sales_settings_put(struct db *db, const struct sales_settings *s, int64_t now)
{
	static const char upd[] =
	        "INSERT INTO sales_settings (id, target_cents, currency, rule, updated_at) "
	        "VALUES (1, ?1, ?2, ?3, ?4) "
	        "ON CONFLICT (id) DO UPDATE SET target_cents = ?1, currency = ?2, rule = ?3, updated_at = ?4";
	static const char del[] = "DELETE FROM sales_notify";
	static const char ins[] = "INSERT INTO sales_notify (phone, position) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
	struct db_stmt *st = db_prepare(db, upd);
	enum rc rc = RC_DB;

	if (!st || db_bind_int64(st, 1, s->target_cents) || db_bind_text(st, 2, s->currency, -1, DB_STATIC) ||
	    db_bind_text(st, 3, sales_rule_name(s->rule), -1, DB_STATIC) || db_bind_int64(st, 4, now) ||
	    db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	st = db_prepare(db, del);
	if (!st || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	st = db_prepare(db, ins);
	for (size_t i = 0; st && i < s->n_notify; i++) {
		if (db_bind_text(st, 1, s->notify[i], -1, DB_STATIC) || db_bind_int64(st, 2, (int64_t)i) ||
		    db_step(st) != DB_DONE)
			goto out;
		db_reset(st);
	}
	if (!st)
		goto out;
	rc = RC_OK;
out:
	if (rc != RC_OK)
		rc = fail(db, "settings_put");
	if (st)
		db_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- staging */

enum rc sales_stage_begin(struct db *db)
{
	/* Period and key identify a staged figure; seller is the first spelling met. */
	enum rc rc = db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS sales_stage ("
	                         "period TEXT NOT NULL, seller_key TEXT NOT NULL, seller TEXT NOT NULL, "
	                         "amount_cents BIGINT NOT NULL, source TEXT, PRIMARY KEY (period, seller_key))");

	if (rc == RC_OK)
		rc = db_exec(db, "DELETE FROM sales_stage");
	if (rc == RC_OK)
		rc = db_exec(db, "BEGIN"); /* deferred: touches only the temp database */
	return rc;
}

enum rc sales_stage_add(struct db *db, const char *period, const char *key, const char *seller, int64_t cents,
                        const char *source)
{
	/* The WHERE keeps a sum that would overflow from being written: no row changes then. */
	static const char sql[] =
	        "INSERT INTO sales_stage (period, seller_key, seller, amount_cents, source) VALUES (?1, ?2, ?3, "
	        "?4, ?5) "
	        "ON CONFLICT (period, seller_key) DO UPDATE SET amount_cents = sales_stage.amount_cents + "
	        "excluded.amount_cents WHERE sales_stage.amount_cents <= 9223372036854775807 - excluded.amount_cents";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	if (!st || db_bind_text(st, 1, period, -1, DB_STATIC) || db_bind_text(st, 2, key, -1, DB_STATIC) ||
	    db_bind_text(st, 3, seller, -1, DB_STATIC) || db_bind_int64(st, 4, cents) ||
	    db_bind_text(st, 5, source, -1, DB_STATIC))
		goto out;
	if (db_step(st) != DB_DONE)
		goto out;
	rc = db_changes(db) == 1 ? RC_OK : RC_UNPROCESSABLE;
out:
	if (rc == RC_DB)
		rc = fail(db, "stage_add");
	if (st)
		db_reset(st);
	return rc;
}

enum rc sales_stage_end(struct db *db)
{
	return db_exec(db, "COMMIT");
}

void sales_stage_discard(struct db *db)
{
	db_rollback(db);
	if (db_exec(db, "DELETE FROM sales_stage") != RC_OK)
		log_warn("sales: could not empty the staging table");
}

enum rc sales_stage_periods(struct db *db, json_t **out)
{
	static const char sql[] = "SELECT DISTINCT period FROM sales_stage ORDER BY period";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();
	enum rc rc = RC_DB;
	int s;

	*out = NULL;
	if (!st || !a)
		goto out;
	while ((s = db_step(st)) == DB_ROW)
		json_array_append_new(a, json_string((const char *)db_column_text(st, 0)));
	if (s != DB_DONE) {
		rc = fail(db, "stage_periods");
		goto out;
	}
	*out = a;
	a = NULL;
	rc = RC_OK;
out:
	json_decref(a);
	if (st)
		db_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- merge */

enum rc sales_replace_from_stage(struct db *db, int64_t now, int64_t *rows)
{
	static const char del[] = "DELETE FROM sales WHERE period IN (SELECT period FROM sales_stage)";
	static const char ins[] = "INSERT INTO sales (period, seller_key, seller, amount_cents, imported_at, source) "
	                          "SELECT period, seller_key, seller, amount_cents, ?1, source FROM sales_stage";
	struct db_stmt *st = db_prepare(db, del);
	enum rc rc = RC_DB;

	if (rows)
		*rows = 0;
	if (!st || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	st = db_prepare(db, ins);
	if (!st || db_bind_int64(st, 1, now) || db_step(st) != DB_DONE)
		goto out;
	if (rows)
		*rows = db_changes(db);
	rc = RC_OK;
out:
	if (rc != RC_OK)
		rc = fail(db, "replace");
	if (st)
		db_reset(st);
	return rc;
}

enum rc sales_unannounced(struct db *db, const char *period, const struct sales_settings *s, struct sales_seller *out,
                          size_t max, size_t *n)
{
	static const char sql[] = "SELECT s.seller_key, s.seller, s.amount_cents FROM sales s WHERE s.period = ?1 "
	                          "AND (s.amount_cents > ?2 OR (?3 AND s.amount_cents = ?2)) "
	                          "AND NOT EXISTS (SELECT 1 FROM sales_notifications n WHERE n.period = s.period "
	                          "AND n.seller_key = s.seller_key) "
	                          "ORDER BY s.amount_cents DESC, s.seller_key";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;
	int r;

	*n = 0;
	if (!st || db_bind_text(st, 1, period, -1, DB_STATIC) || db_bind_int64(st, 2, s->target_cents) ||
	    db_bind_int(st, 3, s->rule == SALES_RULE_AT_LEAST))
		goto out;
	while ((r = db_step(st)) == DB_ROW) {
		if (*n < max) {
			struct sales_seller *o = &out[*n];

			snprintf(o->period, sizeof o->period, "%s", period);
			copy_text(st, 0, o->key, sizeof o->key);
			copy_text(st, 1, o->seller, sizeof o->seller);
			o->cents = db_column_int64(st, 2);
		}
		(*n)++;
	}
	if (r != DB_DONE)
		goto out;
	rc = RC_OK;
out:
	if (rc != RC_OK)
		rc = fail(db, "unannounced");
	if (st)
		db_reset(st);
	return rc;
}

enum rc sales_notification_add(struct db *db, const char *period, const char *key, int64_t cents, int64_t now,
                               int64_t *id)
{
	static const char sql[] = "INSERT INTO sales_notifications (period, seller_key, amount_cents, created_at) "
	                          "VALUES (?1, ?2, ?3, ?4) "
	                          "ON CONFLICT (period, seller_key) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	*id = 0;
	if (!st || db_bind_text(st, 1, period, -1, DB_STATIC) || db_bind_text(st, 2, key, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, cents) || db_bind_int64(st, 4, now) || db_step(st) != DB_DONE)
		goto out;
	if (db_changes(db) != 1) {
		rc = RC_CONFLICT;
		goto out;
	}
	*id = db_last_id(db);
	rc = RC_OK;
out:
	if (rc == RC_DB)
		rc = fail(db, "notification_add");
	if (st)
		db_reset(st);
	return rc;
}

enum rc sales_period_totals(struct db *db, const char *period, int64_t *sellers, int64_t *total_cents)
{
	/* A float sum (an integer one could overflow): exact below 2^53 cents (90 trillion reais);
	 * clamped beyond. */
	static const char sql[] =
	        "SELECT count(*), CASE WHEN coalesce(sum(CAST(amount_cents AS DOUBLE PRECISION)), 0) > "
	        "9.2e18 THEN 9.2e18 ELSE coalesce(sum(CAST(amount_cents AS DOUBLE PRECISION)), 0) END "
	        "FROM sales WHERE period = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	*sellers = *total_cents = 0;
	if (!st || db_bind_text(st, 1, period, -1, DB_STATIC) || db_step(st) != DB_ROW)
		goto out;
	*sellers = db_column_int64(st, 0);
	*total_cents = (int64_t)db_column_double(st, 1);
	rc = RC_OK;
out:
	if (rc != RC_OK)
		rc = fail(db, "totals");
	if (st)
		db_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- report */

enum rc sales_report(struct db *db, const char *from, const char *to,
                     enum rc (*fn)(void *ctx, const struct sales_report_row *r), void *ctx)
{
	static const char sql[] =
	        "SELECT s.period, s.seller, s.seller_key, s.amount_cents, coalesce(n.created_at, 0), "
	        "coalesce(n.amount_cents, 0), s.imported_at FROM sales s "
	        "LEFT JOIN sales_notifications n ON n.period = s.period AND n.seller_key = s.seller_key "
	        "WHERE s.period BETWEEN ?1 AND ?2 ORDER BY s.period, s.amount_cents DESC, s.seller_key";
	struct db_stmt *st = db_prepare(db, sql);
	struct sales_report_row r;
	enum rc rc = RC_DB;
	int s;

	if (!st || db_bind_text(st, 1, from, -1, DB_STATIC) || db_bind_text(st, 2, to, -1, DB_STATIC))
		goto out;
	while ((s = db_step(st)) == DB_ROW) {
		r.period = (const char *)db_column_text(st, 0);
		r.seller = (const char *)db_column_text(st, 1);
		r.key = (const char *)db_column_text(st, 2);
		r.cents = db_column_int64(st, 3);
		r.notified_at = db_column_int64(st, 4);
		r.notified_cents = db_column_int64(st, 5);
		r.imported_at = db_column_int64(st, 6);
		rc = fn(ctx, &r);
		if (rc != RC_OK) {
			db_reset(st);
			return rc;
		}
	}
	if (s != DB_DONE)
		goto out;
	rc = RC_OK;
out:
	if (rc != RC_OK)
		rc = fail(db, "report");
	if (st)
		db_reset(st);
	return rc;
}
