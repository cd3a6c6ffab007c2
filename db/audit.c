/*
 * db/audit.c — statements on the audit table. Rows are only ever inserted; nothing updates
 * or deletes them.
 */
#include "audit.h"

#include <stdlib.h>

#include "core/clock.h"
#include "core/log.h"

enum rc audit_log(struct db *db, const char *actor, const char *action, int64_t entity_id, const json_t *detail)
{
	static const char sql[] =
	        "INSERT INTO audit (at, actor, action, entity_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
	struct db_stmt *st = db_prepare(db, sql);
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	enum rc rc = RC_DB;

	if (detail && !text) {
		rc = RC_INTERNAL;
		goto out;
	}
	if (!st || db_bind_int64(st, 1, clock_now()) ||
	    db_bind_text(st, 2, actor && actor[0] ? actor : "unknown", -1, DB_STATIC) ||
	    db_bind_text(st, 3, action, -1, DB_STATIC) ||
	    (entity_id ? db_bind_int64(st, 4, entity_id) : db_bind_null(st, 4)) ||
	    db_bind_text(st, 5, text, -1, DB_STATIC))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		goto out;
	}
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("audit_log %s: %s", action, db_errmsg(db));
	if (st)
		db_reset(st);
	free(text);
	return rc;
}

enum rc audit_list(struct db *db, int limit, int64_t before_id, json_t **out)
{
	static const char sql[] = "SELECT id, at, actor, action, entity_id, detail FROM audit "
	                          "WHERE ?2 <= 0 OR id < ?2 ORDER BY id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *rows = NULL;
	enum rc rc;
	size_t i;
	json_t *row;

	*out = NULL;
	if (!st)
		return RC_DB;
	if (limit < 1 || limit > AUDIT_LIST_MAX)
		limit = AUDIT_LIST_DEFAULT;
	db_bind_int(st, 1, limit);
	db_bind_int64(st, 2, before_id);
	rc = db_rows_json(db, st, &rows);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(rows, i, row)
	{
		json_t *d = json_object_get(row, "detail");

		if (json_is_string(d)) {
			json_t *parsed = json_loads(json_string_value(d), 0, NULL);

			if (parsed)
				json_object_set_new(row, "detail", parsed);
		}
	}
	*out = rows;
	return RC_OK;
}
