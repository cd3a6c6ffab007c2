/*
 * db/shift_requests.c — the statements on shift_requests (see db/shift_requests.h).
 */
#include "db/shift_requests.h"

#include <string.h>

enum rc shift_requests_put(struct db *db, int64_t person_id, const struct shift_request *asked, int64_t now)
{
	static const char sql[] =
	        "INSERT INTO shift_requests (person_id, asked_at, expires_at, replaces_person, shift_end) "
	        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (person_id) DO UPDATE SET asked_at = ?2, expires_at = ?3, "
	        "replaces_person = ?4, shift_end = ?5";
	struct db_stmt *st;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, person_id) || db_bind_int64(st, 2, now) ||
	    db_bind_int64(st, 3, now + SHIFT_REQUEST_TTL) || db_bind_int64(st, 4, asked->replaces_person) ||
	    db_bind_int64(st, 5, asked->shift_end))
		rc = db_bind_failed(db, st, "shift_requests_put");
	else
		rc = db_step_done(db, st, "shift_requests_put");
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc shift_requests_take(struct db *db, int64_t person_id, int64_t now, bool *open, struct shift_request *asked)
{
	static const char valid[] = "SELECT coalesce(replaces_person, 0), coalesce(shift_end, 0) FROM shift_requests "
	                            "WHERE person_id = ?1 AND expires_at > ?2";
	static const char gone[] = "DELETE FROM shift_requests WHERE person_id = ?1";
	struct db_stmt *st;
	enum rc rc = db_begin(db);

	*open = false;
	memset(asked, 0, sizeof *asked);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, valid);
	if (!st || db_bind_int64(st, 1, person_id) || db_bind_int64(st, 2, now)) {
		rc = db_bind_failed(db, st, "shift_requests_take");
	} else {
		rc = db_step_row(db, st);
		if (rc == RC_OK) {
			*open = true;
			asked->replaces_person = db_column_int64(st, 0);
			asked->shift_end = db_column_int64(st, 1);
		}
		db_reset(st);
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
	}
	if (rc == RC_OK) {
		st = db_prepare(db, gone);
		if (!st || db_bind_int64(st, 1, person_id))
			rc = db_bind_failed(db, st, "shift_requests_take");
		else
			rc = db_step_done(db, st, "shift_requests_take");
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*open = false;
	}
	return rc;
}
