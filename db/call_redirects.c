/*
 * db/call_redirects.c — the statements on call_redirects (see db/call_redirects.h). Each
 * exported function but call_redirects_add (which joins its caller's transaction) runs in a
 * short transaction of its own.
 */
#include "db/call_redirects.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

enum rc call_redirects_add(struct db *db, const char *call_sid, const char *url, int64_t now_ms, bool *queued)
{
	static const char sql[] = "INSERT INTO call_redirects (call_sid, url, next_at_ms, created_at_ms) "
	                          "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (call_sid) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*queued = false;
	if (!st || db_bind_text(st, 1, call_sid, -1, DB_STATIC) || db_bind_text(st, 2, url, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now_ms))
		return db_bind_failed(db, st, "call_redirects_add");
	rc = db_step_done(db, st, "call_redirects_add");
	if (rc == RC_OK)
		*queued = db_changes(db) == 1;
	return rc;
}

enum rc call_redirects_claim(struct db *db, int64_t now_ms, size_t max, struct call_redirect *rows, size_t *n)
{
	static const char pick[] = "SELECT id, call_sid, url, tries, created_at_ms FROM call_redirects "
	                           "WHERE (status = 'pending' AND next_at_ms <= ?1) OR "
	                           "(status = 'sending' AND next_at_ms <= ?1 - ?2) ORDER BY id LIMIT ?3";
	static const char any[] = "SELECT 1 FROM call_redirects WHERE (status = 'pending' AND next_at_ms <= ?1) OR "
	                          "(status = 'sending' AND next_at_ms <= ?1 - ?2) LIMIT 1";
	static const char claim[] = "UPDATE call_redirects SET status = 'sending', tries = tries + 1, next_at_ms = ?2 "
	                            "WHERE id = ?1";
	struct db_stmt *st;
	enum rc rc;
	size_t i;
	int r;

	*n = 0;
	/* every engine tick asks: the answer is nearly always "none", found without the writer lock */
	st = db_prepare(db, any);
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, CALL_REDIRECT_CLAIM_MS))
		return db_bind_failed(db, st, "call_redirects_claim");
	rc = db_step_row(db, st);
	db_reset(st);
	if (rc != RC_OK)
		return rc == RC_NOT_FOUND ? RC_OK : rc;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, pick);
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, CALL_REDIRECT_CLAIM_MS) ||
	    db_bind_int64(st, 3, (int64_t)max)) {
		rc = db_bind_failed(db, st, "call_redirects_claim");
		goto out;
	}
	while (*n < max && (r = db_step(st)) == DB_ROW) {
		struct call_redirect *c = &rows[*n];

		c->id = db_column_int64(st, 0);
		snprintf(c->call_sid, sizeof c->call_sid, "%s", (const char *)db_column_text(st, 1));
		snprintf(c->url, sizeof c->url, "%s", (const char *)db_column_text(st, 2));
		c->tries = db_column_int(st, 3) + 1;
		c->created_at_ms = db_column_int64(st, 4);
		(*n)++;
	}
	db_reset(st);
	for (i = 0; i < *n && rc == RC_OK; i++) {
		st = db_prepare(db, claim);
		if (!st || db_bind_int64(st, 1, rows[i].id) || db_bind_int64(st, 2, now_ms))
			rc = db_bind_failed(db, st, "call_redirects_claim");
		else
			rc = db_step_done(db, st, "call_redirects_claim");
	}
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK) {
		db_rollback(db);
		*n = 0;
	}
	return rc;
}

enum rc call_redirects_result(struct db *db, int64_t id, const char *status, int64_t next_at_ms, const char *message)
{
	static const char sql[] = "UPDATE call_redirects SET status = ?2, next_at_ms = ?3, message = ?4 WHERE id = ?1";
	struct db_stmt *st;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, status, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, next_at_ms) || db_bind_text(st, 4, message, -1, DB_STATIC))
		rc = db_bind_failed(db, st, "call_redirects_result");
	else
		rc = db_step_done(db, st, "call_redirects_result");
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}
