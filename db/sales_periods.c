/*
 * db/sales_periods.c — the statement behind GET /api/sales (see db/sales_periods.h).
 */
#include "db/sales_periods.h"

enum rc sales_periods_list(struct db *db, const char *before, int64_t limit, json_t **out)
{
	static const char sql[] =
	        "SELECT s.period, count(*), CAST(sum(s.amount_cents) AS BIGINT), max(s.imported_at), "
	        "CAST(sum(CASE WHEN (st.rule = 'at_least' AND s.amount_cents >= st.target_cents) OR "
	        "(st.rule <> 'at_least' AND s.amount_cents > st.target_cents) THEN 1 ELSE 0 END) AS BIGINT), "
	        "(SELECT count(*) FROM sales_notifications n WHERE n.period = s.period) "
	        "FROM sales s CROSS JOIN sales_settings st WHERE st.id = 1 AND (?1 = '' OR s.period < ?1) "
	        "GROUP BY s.period ORDER BY s.period DESC LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *rows = json_array();
	enum rc rc = RC_OK;
	int r;

	*out = NULL;
	if (!rows || !st || db_bind_text(st, 1, before ? before : "", -1, DB_STATIC) || db_bind_int64(st, 2, limit)) {
		json_decref(rows);
		return db_bind_failed(db, st, "sales_periods_list");
	}
	while ((r = db_step(st)) == DB_ROW) {
		json_t *row = json_pack(
		        "{s:s,s:I,s:I,s:I,s:I,s:I}", "period", (const char *)db_column_text(st, 0), "sellers",
		        (json_int_t)db_column_int64(st, 1), "total_cents", (json_int_t)db_column_int64(st, 2),
		        "above_goal", (json_int_t)db_column_int64(st, 4), "notified",
		        (json_int_t)db_column_int64(st, 5), "last_import_at", (json_int_t)db_column_int64(st, 3));

		if (!row || json_array_append_new(rows, row)) {
			rc = RC_INTERNAL;
			break;
		}
	}
	if (rc == RC_OK && r != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	if (rc != RC_OK) {
		json_decref(rows);
		return rc;
	}
	*out = rows;
	return RC_OK;
}
