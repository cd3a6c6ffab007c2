/*
 * db/outbox.c — statements on the outbox table (inserting and counting; the engine's
 * sending side lives in server/outbox.c).
 */
#include "outbox.h"

#include "server/clock.h"
#include "server/log.h"

static const char *kind_name(enum outbox_kind k)
{
	switch (k) {
	case OUTBOX_SMS: return "sms";
	case OUTBOX_WHATSAPP: return "whatsapp";
	case OUTBOX_CALL: return "call";
	}
	return "sms";
}

enum rc outbox_enqueue(struct db *db, const struct outbox_msg *m, int64_t *id)
{
	static const char ins[] =
		"INSERT INTO outbox (kind, class, priority, to_number, body, url, machine_detection, idem_key, "
		"owner_type, owner_id, next_at_ms, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
		"ON CONFLICT (idem_key) DO NOTHING";
	static const char sel[] = "SELECT id FROM outbox WHERE idem_key = ?1";
	sqlite3_stmt *st = db_stmt(db, ins);
	int64_t now_ms = clock_now_ms();
	enum rc rc = RC_DB;

	if (id)
		*id = 0;
	if (!st || sqlite3_bind_text(st, 1, kind_name(m->kind), -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, m->class_, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 3, (int)m->priority) ||
	    sqlite3_bind_text(st, 4, m->to, -1, SQLITE_STATIC) || sqlite3_bind_text(st, 5, m->body, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 6, m->url, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 7, m->machine_detection) ||
	    sqlite3_bind_text(st, 8, m->idem_key, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 9, m->owner_type, -1, SQLITE_STATIC) ||
	    (m->owner_id ? sqlite3_bind_int64(st, 10, m->owner_id) : sqlite3_bind_null(st, 10)) ||
	    sqlite3_bind_int64(st, 11, m->not_before_ms ? m->not_before_ms : now_ms) ||
	    sqlite3_bind_int64(st, 12, now_ms / 1000))
		goto out;
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_rc(db);
		goto out;
	}
	sqlite3_reset(st);
	st = NULL;
	if (id) {
		st = db_stmt(db, sel);
		if (!st || sqlite3_bind_text(st, 1, m->idem_key, -1, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_ROW)
			goto out;
		*id = sqlite3_column_int64(st, 0);
	}
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("outbox_enqueue %s: %s", m->idem_key, sqlite3_errmsg(db->h));
	if (st)
		sqlite3_reset(st);
	return rc;
}

enum rc outbox_depth(struct db *db, void (*fn)(void *ctx, const char *status, int64_t n), void *ctx)
{
	static const char sql[] = "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status";
	sqlite3_stmt *st = db_stmt(db, sql);
	int s;

	if (!st)
		return RC_DB;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return s == SQLITE_DONE ? RC_OK : db_rc(db);
}
