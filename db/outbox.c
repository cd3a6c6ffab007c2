/*
 * db/outbox.c — every statement on the outbox table and on outbox_early_status: inserting
 * (handlers), claiming and recording results (server/outbox/sender.c), status callbacks
 * (server/twilio/status.c), listing (server/api/api_outbox.c) and counting (/metrics).
 * Writes that change a row's state check the state they expect in their WHERE clause, so a
 * late or repeated caller gets RC_CONFLICT instead of overwriting a newer state.
 */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "twilio/sms_cost.h"

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
	        "owner_type, owner_id, next_at_ms, created_at, updated_at, encoding, segments, ring_timeout_s) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15) "
	        "ON CONFLICT (idem_key) DO NOTHING";
	static const char sel[] = "SELECT id FROM outbox WHERE idem_key = ?1";
	sqlite3_stmt *st = db_stmt(db, ins);
	int64_t now_ms = clock_now_ms();
	struct sms_cost cost;
	bool costed = m->kind == OUTBOX_SMS && m->body && sms_cost_of(m->body, &cost) == RC_OK;
	enum rc rc = RC_DB;

	if (id)
		*id = 0;
	/* WhatsApp is billed per message, not per SMS part: only SMS rows carry a cost. */
	if (st && (costed ? sqlite3_bind_text(st, 13, sms_cost_encoding_name(cost.encoding), -1, SQLITE_STATIC) ||
	                            sqlite3_bind_int(st, 14, cost.segments)
	                  : sqlite3_bind_null(st, 13) || sqlite3_bind_null(st, 14)))
		goto out;
	if (!st || sqlite3_bind_text(st, 1, kind_name(m->kind), -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, m->class_, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 3, (int)m->priority) ||
	    sqlite3_bind_text(st, 4, m->to, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 5, m->body, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 6, m->url, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 7, m->machine_detection) ||
	    sqlite3_bind_text(st, 8, m->idem_key, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 9, m->owner_type, -1, SQLITE_STATIC) ||
	    (m->owner_id ? sqlite3_bind_int64(st, 10, m->owner_id) : sqlite3_bind_null(st, 10)) ||
	    sqlite3_bind_int64(st, 11, m->not_before_ms ? m->not_before_ms : now_ms) ||
	    sqlite3_bind_int64(st, 12, now_ms / 1000) ||
	    (m->ring_timeout_s > 0 ? sqlite3_bind_int(st, 15, m->ring_timeout_s) : sqlite3_bind_null(st, 15)))
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

/* ---- the sending side ---- */

#define ROW_COLUMNS                                                                                                    \
	"id, kind, class, priority, to_number, coalesce(from_number, ''), body, url, machine_detection, status, "      \
	"tries, next_at_ms, coalesce(attempt_at_ms, 0), coalesce(sid, ''), status_seq, coalesce(owner_type, ''), "     \
	"coalesce(owner_id, 0), coalesce(segments, 0), coalesce(encoding, ''), coalesce(ring_timeout_s, 0), "          \
	"coalesce(accepted_at_ms, 0), coalesce(cancel_requested_ms, 0)"

static enum outbox_kind kind_of(const char *s)
{
	if (!strcmp(s, "whatsapp"))
		return OUTBOX_WHATSAPP;
	if (!strcmp(s, "call"))
		return OUTBOX_CALL;
	return OUTBOX_SMS;
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	snprintf(dst, size, "%s", v ? v : "");
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	return v ? strdup(v) : NULL;
}

/* Fills r from the current row of a ROW_COLUMNS select; RC_INTERNAL when out of memory. */
static enum rc read_row(sqlite3_stmt *st, struct outbox_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->kind = kind_of((const char *)sqlite3_column_text(st, 1));
	copy_col(st, 2, r->class_, sizeof r->class_);
	r->priority = sqlite3_column_int(st, 3);
	copy_col(st, 4, r->to, sizeof r->to);
	copy_col(st, 5, r->from, sizeof r->from);
	r->body = dup_col(st, 6);
	r->url = dup_col(st, 7);
	r->machine_detection = sqlite3_column_int(st, 8) != 0;
	copy_col(st, 9, r->status, sizeof r->status);
	r->tries = sqlite3_column_int(st, 10);
	r->next_at_ms = sqlite3_column_int64(st, 11);
	r->attempt_at_ms = sqlite3_column_int64(st, 12);
	copy_col(st, 13, r->sid, sizeof r->sid);
	r->status_seq = sqlite3_column_int(st, 14);
	copy_col(st, 15, r->owner_type, sizeof r->owner_type);
	r->owner_id = sqlite3_column_int64(st, 16);
	r->segments = sqlite3_column_int(st, 17);
	copy_col(st, 18, r->encoding, sizeof r->encoding);
	r->ring_timeout_s = sqlite3_column_int(st, 19);
	r->accepted_at_ms = sqlite3_column_int64(st, 20);
	r->cancel_requested_ms = sqlite3_column_int64(st, 21);
	r->send_rank = sqlite3_column_count(st) > 22 ? sqlite3_column_int(st, 22) : 0;
	if ((sqlite3_column_type(st, 6) != SQLITE_NULL && !r->body) ||
	    (sqlite3_column_type(st, 7) != SQLITE_NULL && !r->url)) {
		outbox_row_release(r);
		return RC_INTERNAL;
	}
	return RC_OK;
}

void outbox_row_release(struct outbox_row *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->url);
	r->body = NULL;
	r->url = NULL;
}

void outbox_rows_release(struct outbox_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		outbox_row_release(&rows[i]);
}

/* Steps st (bound already) into rows; resets st. */
static enum rc read_rows(struct db *db, sqlite3_stmt *st, size_t max, struct outbox_row *rows, size_t *n)
{
	enum rc rc = RC_OK;
	int s;

	*n = 0;
	while (*n < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_row(st, &rows[*n]);
		if (rc != RC_OK)
			break;
		(*n)++;
	}
	if (rc == RC_OK && *n < max && s != SQLITE_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("outbox rows: %s", sqlite3_errmsg(db->h));
	}
	if (rc != RC_OK) {
		outbox_rows_release(rows, *n);
		*n = 0;
	}
	sqlite3_reset(st);
	return rc;
}

enum rc outbox_due(struct db *db, enum outbox_kind kind, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n)
{
	/* Strict order (issue 11): pages, then acknowledgment/resolve notices, then the support
	 * line's texts, then hand-off and sales notices; among pages those of critical alerts (no
	 * severity counts as critical) first; then the queue's own priority and age. */
	static const char sql[] =
	        "SELECT " ROW_COLUMNS ", "
	        "CASE class WHEN 'alert' THEN CASE WHEN coalesce(lower((SELECT a.severity FROM alerts a WHERE a.id = "
	        "CASE o.owner_type WHEN 'alert' THEN o.owner_id WHEN 'call_attempt' THEN (SELECT c.alert_id FROM "
	        "call_attempts c WHERE c.id = o.owner_id) END)), 'critical') = 'critical' THEN 0 ELSE 1 END "
	        "WHEN 'ack' THEN 2 WHEN 'handoff' THEN 4 WHEN 'sales' THEN 5 ELSE 3 END AS send_rank "
	        "FROM outbox o WHERE status IN ('pending', 'retry') AND kind = ?1 AND next_at_ms <= ?2 "
	        "ORDER BY send_rank, priority, id LIMIT ?3";
	sqlite3_stmt *st = db_stmt(db, sql);

	*n = 0;
	if (!st || sqlite3_bind_text(st, 1, kind_name(kind), -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 2, now_ms) ||
	    sqlite3_bind_int64(st, 3, (int64_t)max)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

enum rc outbox_stuck(struct db *db, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox "
	                          "WHERE status = 'sending' AND next_at_ms <= ?1 ORDER BY id LIMIT ?2";
	sqlite3_stmt *st = db_stmt(db, sql);

	*n = 0;
	if (!st || sqlite3_bind_int64(st, 1, now_ms) || sqlite3_bind_int64(st, 2, (int64_t)max)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

enum rc outbox_stale_calls(struct db *db, int64_t updated_before, size_t max, struct outbox_row *rows, size_t *n)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox "
	                          "WHERE kind = 'call' AND sid IS NOT NULL "
	                          "AND status IN ('queued', 'initiated', 'ringing', 'in-progress') "
	                          "AND updated_at < ?1 ORDER BY updated_at LIMIT ?2";
	sqlite3_stmt *st = db_stmt(db, sql);

	*n = 0;
	if (!st || sqlite3_bind_int64(st, 1, updated_before) || sqlite3_bind_int64(st, 2, (int64_t)max)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

/* Runs a bound write statement expected to change exactly one row. */
static enum rc write_one(struct db *db, sqlite3_stmt *st, const char *what, int64_t id)
{
	enum rc rc;

	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("%s %lld: %s", what, (long long)id, sqlite3_errmsg(db->h));
	} else
		rc = sqlite3_changes(db->h) == 1 ? RC_OK : RC_CONFLICT;
	sqlite3_reset(st);
	return rc;
}

static int bind_opt_int(sqlite3_stmt *st, int col, int v, int absent)
{
	return v == absent ? sqlite3_bind_null(st, col) : sqlite3_bind_int(st, col, v);
}

enum rc outbox_mark_sending(struct db *db, int64_t id, const char *from, int64_t now_ms, int64_t lookup_at_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'sending', tries = tries + 1, from_number = ?2, "
	                          "attempt_at_ms = ?3, next_at_ms = ?4, updated_at = ?3 / 1000 "
	                          "WHERE id = ?1 AND status IN ('pending', 'retry')";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 3, now_ms) || sqlite3_bind_int64(st, 4, lookup_at_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_sending", id);
}

enum rc outbox_set_cost(struct db *db, int64_t id, const char *encoding, int segments)
{
	static const char sql[] = "UPDATE outbox SET encoding = ?2, segments = ?3 WHERE id = ?1 AND encoding IS NULL";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc;

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_text(st, 2, encoding, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int(st, 3, segments)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	rc = write_one(db, st, "outbox_set_cost", id);
	return rc == RC_CONFLICT ? RC_OK : rc;
}

enum rc outbox_mark_sent(struct db *db, int64_t id, const char *sid, const char *status, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = ?3, sid = ?2, error_code = NULL, error_message = NULL, "
	                          "sent_at = ?4 / 1000, updated_at = ?4 / 1000, "
	                          "accepted_at_ms = coalesce(accepted_at_ms, ?4) WHERE id = ?1 AND status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_text(st, 2, sid, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 4, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_sent", id);
}

enum rc outbox_mark_retry(struct db *db, int64_t id, int64_t next_at_ms, int error_code, const char *message,
                          int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'retry', next_at_ms = ?2, error_code = ?3, "
	                          "error_message = ?4, updated_at = ?5 / 1000 WHERE id = ?1 AND status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_int64(st, 2, next_at_ms) ||
	    bind_opt_int(st, 3, error_code, 0) || sqlite3_bind_text(st, 4, message, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(st, 5, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_retry", id);
}

enum rc outbox_mark_failed(struct db *db, int64_t id, int error_code, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'failed', error_code = ?2, error_message = ?3, "
	                          "updated_at = ?4 / 1000 WHERE id = ?1 AND status IN ('sending', 'pending', 'retry')";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || bind_opt_int(st, 2, error_code, 0) ||
	    sqlite3_bind_text(st, 3, message, -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 4, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_failed", id);
}

enum rc outbox_mark_unknown(struct db *db, int64_t id, int64_t lookup_at_ms, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET next_at_ms = ?2, error_message = ?3, updated_at = ?4 / 1000 "
	                          "WHERE id = ?1 AND status = 'sending'";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_int64(st, 2, lookup_at_ms) ||
	    sqlite3_bind_text(st, 3, message, -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 4, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_unknown", id);
}

enum rc outbox_defer(struct db *db, int64_t id, int64_t next_at_ms)
{
	static const char sql[] = "UPDATE outbox SET next_at_ms = ?2 WHERE id = ?1 AND status IN ('pending', 'retry')";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_int64(st, 2, next_at_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_defer", id);
}

enum rc outbox_dest_recent(struct db *db, const char *to, bool calls, int64_t since_ms, int64_t *count,
                           int64_t *oldest_ms)
{
	static const char sql[] = "SELECT count(*), coalesce(min(attempt_at_ms), 0) FROM outbox "
	                          "WHERE to_number = ?1 AND attempt_at_ms >= ?2 AND class = 'alert' "
	                          "AND (kind = 'call') = ?3 AND (sid IS NOT NULL OR status = 'sending')";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc = RC_DB;

	*count = 0;
	*oldest_ms = 0;
	if (!st || sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 2, since_ms) ||
	    sqlite3_bind_int(st, 3, calls))
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*count = sqlite3_column_int64(st, 0);
	*oldest_ms = sqlite3_column_int64(st, 1);
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("outbox_dest_recent: %s", sqlite3_errmsg(db->h));
	if (st)
		sqlite3_reset(st);
	return rc;
}

enum rc outbox_accepted_at(struct db *db, int64_t id, int64_t *accepted_at_ms)
{
	static const char sql[] = "SELECT coalesce(accepted_at_ms, 0) FROM outbox WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc = RC_DB;
	int s;

	*accepted_at_ms = 0;
	if (!st || sqlite3_bind_int64(st, 1, id))
		goto out;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*accepted_at_ms = sqlite3_column_int64(st, 0);
		rc = RC_OK;
	} else if (s == SQLITE_DONE)
		rc = RC_NOT_FOUND;
out:
	if (rc == RC_DB)
		log_err("outbox_accepted_at %lld: %s", (long long)id, sqlite3_errmsg(db->h));
	if (st)
		sqlite3_reset(st);
	return rc;
}

enum rc outbox_sid_known(struct db *db, const char *sid, bool *known)
{
	static const char sql[] = "SELECT 1 FROM outbox WHERE sid = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int s;

	*known = false;
	if (!st || sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	s = sqlite3_step(st);
	*known = s == SQLITE_ROW;
	sqlite3_reset(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? RC_OK : RC_DB;
}

enum rc outbox_by_sid(struct db *db, const char *sid, struct outbox_row *row)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox WHERE sid = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc;
	int s;

	memset(row, 0, sizeof *row);
	if (!st || sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = read_row(st, row);
	else if (s == SQLITE_DONE)
		rc = RC_NOT_FOUND;
	else {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
	}
	sqlite3_reset(st);
	return rc;
}

enum rc outbox_set_status(struct db *db, int64_t id, const char *status, int seq, int error_code, int duration_s,
                          int64_t now_ms)
{
	static const char sql[] =
	        "UPDATE outbox SET status = ?2, status_seq = CASE WHEN ?3 >= 0 THEN ?3 ELSE status_seq END, "
	        "error_code = coalesce(?4, error_code), duration_s = coalesce(?5, duration_s), updated_at = ?6 / 1000 "
	        "WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id) || sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int(st, 3, seq) || bind_opt_int(st, 4, error_code, 0) ||
	    (duration_s >= 0 ? sqlite3_bind_int(st, 5, duration_s) : sqlite3_bind_null(st, 5)) ||
	    sqlite3_bind_int64(st, 6, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_set_status", id);
}

/* ---- early status callbacks ---- */

enum rc outbox_early_add(struct db *db, const struct outbox_early *e, int64_t now_ms)
{
	static const char cnt[] = "SELECT count(*) FROM outbox_early_status";
	static const char ins[] = "INSERT INTO outbox_early_status (sid, status, seq, error_code, duration_s, "
	                          "answered_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = db_stmt(db, cnt);
	int64_t n;

	if (!st)
		return RC_DB;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return RC_DB;
	}
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (n >= OUTBOX_EARLY_MAX) {
		log_warn("status callback for unknown %s (%s) dropped: %d early callbacks kept already", e->sid,
		         e->status, OUTBOX_EARLY_MAX);
		return RC_OK;
	}
	st = db_stmt(db, ins);
	if (!st || sqlite3_bind_text(st, 1, e->sid, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 2, e->status, -1, SQLITE_STATIC) || sqlite3_bind_int(st, 3, e->seq) ||
	    bind_opt_int(st, 4, e->error_code, 0) ||
	    (e->duration_s >= 0 ? sqlite3_bind_int(st, 5, e->duration_s) : sqlite3_bind_null(st, 5)) ||
	    (e->answered_by[0] ? sqlite3_bind_text(st, 6, e->answered_by, -1, SQLITE_STATIC)
	                       : sqlite3_bind_null(st, 6)) ||
	    sqlite3_bind_int64(st, 7, now_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_early_add", 0);
}

enum rc outbox_early_take(struct db *db, const char *sid, enum rc (*fn)(void *ctx, const struct outbox_early *e),
                          void *ctx)
{
	static const char sel[] = "SELECT sid, status, seq, coalesce(error_code, 0), coalesce(duration_s, -1), "
	                          "coalesce(answered_by, '') FROM outbox_early_status WHERE sid = ?1 ORDER BY id";
	static const char del[] = "DELETE FROM outbox_early_status WHERE sid = ?1";
	struct outbox_early *list = NULL;
	size_t n = 0, i;
	sqlite3_stmt *st = db_stmt(db, sel);
	enum rc rc = RC_DB;
	int s;

	if (!st || sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC))
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct outbox_early *grown = realloc(list, (n + 1) * sizeof *list);

		if (!grown) {
			rc = RC_INTERNAL;
			goto out;
		}
		list = grown;
		copy_col(st, 0, list[n].sid, sizeof list[n].sid);
		copy_col(st, 1, list[n].status, sizeof list[n].status);
		list[n].seq = sqlite3_column_int(st, 2);
		list[n].error_code = sqlite3_column_int(st, 3);
		list[n].duration_s = sqlite3_column_int(st, 4);
		copy_col(st, 5, list[n].answered_by, sizeof list[n].answered_by);
		n++;
	}
	if (s != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	st = NULL;
	if (n) {
		st = db_stmt(db, del);
		if (!st || sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE)
			goto out;
	}
	rc = RC_OK;
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = fn(ctx, &list[i]);
out:
	if (st)
		sqlite3_reset(st);
	free(list);
	return rc;
}

enum rc outbox_early_prune(struct db *db, int64_t before_ms)
{
	static const char sql[] = "DELETE FROM outbox_early_status WHERE received_at < ?1";
	sqlite3_stmt *st = db_stmt(db, sql);
	enum rc rc;

	if (!st || sqlite3_bind_int64(st, 1, before_ms)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? RC_OK : RC_DB;
	sqlite3_reset(st);
	return rc;
}

/* ---- reading ---- */

enum rc outbox_list_json(struct db *db, const char *status, int64_t before_id, int limit, json_t **out)
{
	static const char sql[] =
	        "SELECT id, kind, class, priority, to_number AS \"to\", from_number AS \"from\", body, url, status, "
	        "error_message LIKE 'dead letter%' AS dead_letter, tries, next_at_ms, attempt_at_ms, sid, "
	        "error_code, error_message, encoding, segments, duration_s, owner_type, owner_id, idem_key, "
	        "created_at, sent_at, updated_at FROM outbox "
	        "WHERE (?1 IS NULL OR status = ?1 OR (?1 = 'dead' AND status = 'failed' AND error_message LIKE 'dead "
	        "letter%')) "
	        "AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3";
	sqlite3_stmt *st = db_stmt(db, sql);

	*out = NULL;
	if (!st || (status ? sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 1)) ||
	    sqlite3_bind_int64(st, 2, before_id) || sqlite3_bind_int(st, 3, limit)) {
		if (st)
			sqlite3_reset(st);
		return RC_DB;
	}
	return db_rows_json(db, st, out);
}
