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
#include "db/instance.h"
#include "twilio/sms_cost.h"

static const char *kind_name(enum outbox_kind k)
{
	switch (k) {
	case OUTBOX_SMS: return "sms";
	case OUTBOX_WHATSAPP: return "whatsapp";
	case OUTBOX_CALL: return "call";
	case OUTBOX_EMAIL: return "email";
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
	struct db_stmt *st = db_prepare(db, ins);
	int64_t now_ms = clock_now_ms();
	struct sms_cost cost;
	bool costed = m->kind == OUTBOX_SMS && m->body && sms_cost_of(m->body, &cost) == RC_OK;
	enum rc rc = RC_DB;

	if (id)
		*id = 0;
	/* WhatsApp is billed per message, not per SMS part: only SMS rows carry a cost. */
	if (st && (costed ? db_bind_text(st, 13, sms_cost_encoding_name(cost.encoding), -1, DB_STATIC) ||
	                            db_bind_int(st, 14, cost.segments)
	                  : db_bind_null(st, 13) || db_bind_null(st, 14)))
		goto out;
	if (!st || db_bind_text(st, 1, kind_name(m->kind), -1, DB_STATIC) ||
	    db_bind_text(st, 2, m->class_, -1, DB_STATIC) || db_bind_int(st, 3, (int)m->priority) ||
	    db_bind_text(st, 4, m->to, -1, DB_STATIC) || db_bind_text(st, 5, m->body, -1, DB_STATIC) ||
	    db_bind_text(st, 6, m->url, -1, DB_STATIC) || db_bind_int(st, 7, m->machine_detection) ||
	    db_bind_text(st, 8, m->idem_key, -1, DB_STATIC) || db_bind_text(st, 9, m->owner_type, -1, DB_STATIC) ||
	    (m->owner_id ? db_bind_int64(st, 10, m->owner_id) : db_bind_null(st, 10)) ||
	    db_bind_int64(st, 11, m->not_before_ms ? m->not_before_ms : now_ms) ||
	    db_bind_int64(st, 12, now_ms / 1000) ||
	    (m->ring_timeout_s > 0 ? db_bind_int(st, 15, m->ring_timeout_s) : db_bind_null(st, 15)))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		goto out;
	}
	db_reset(st);
	st = NULL;
	if (id) {
		st = db_prepare(db, sel);
		if (!st || db_bind_text(st, 1, m->idem_key, -1, DB_STATIC) || db_step(st) != DB_ROW)
			goto out;
		*id = db_column_int64(st, 0);
	}
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("outbox_enqueue %s: %s", m->idem_key, db_errmsg(db));
	if (st)
		db_reset(st);
	return rc;
}

enum rc outbox_depth(struct db *db, void (*fn)(void *ctx, const char *status, int64_t n), void *ctx)
{
	static const char sql[] = "SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	if (!st)
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW)
		fn(ctx, (const char *)db_column_text(st, 0), db_column_int64(st, 1));
	db_reset(st);
	return s == DB_DONE ? RC_OK : db_rc(db);
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
	if (!strcmp(s, "email"))
		return OUTBOX_EMAIL;
	return OUTBOX_SMS;
}

static void copy_col(struct db_stmt *st, int col, char *dst, size_t size)
{
	const char *v = (const char *)db_column_text(st, col);

	snprintf(dst, size, "%s", v ? v : "");
}

static char *dup_col(struct db_stmt *st, int col)
{
	const char *v = (const char *)db_column_text(st, col);

	return v ? strdup(v) : NULL;
}

/* Fills r from the current row of a ROW_COLUMNS select; RC_INTERNAL when out of memory. */
static enum rc read_row(struct db_stmt *st, struct outbox_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = db_column_int64(st, 0);
	r->kind = kind_of((const char *)db_column_text(st, 1));
	copy_col(st, 2, r->class_, sizeof r->class_);
	r->priority = db_column_int(st, 3);
	copy_col(st, 4, r->to, sizeof r->to);
	copy_col(st, 5, r->from, sizeof r->from);
	r->body = dup_col(st, 6);
	r->url = dup_col(st, 7);
	r->machine_detection = db_column_int(st, 8) != 0;
	copy_col(st, 9, r->status, sizeof r->status);
	r->tries = db_column_int(st, 10);
	r->next_at_ms = db_column_int64(st, 11);
	r->attempt_at_ms = db_column_int64(st, 12);
	copy_col(st, 13, r->sid, sizeof r->sid);
	r->status_seq = db_column_int(st, 14);
	copy_col(st, 15, r->owner_type, sizeof r->owner_type);
	r->owner_id = db_column_int64(st, 16);
	r->segments = db_column_int(st, 17);
	copy_col(st, 18, r->encoding, sizeof r->encoding);
	r->ring_timeout_s = db_column_int(st, 19);
	r->accepted_at_ms = db_column_int64(st, 20);
	r->cancel_requested_ms = db_column_int64(st, 21);
	r->send_rank = db_column_count(st) > 22 ? db_column_int(st, 22) : 0;
	if ((db_column_type(st, 6) != DB_NULL && !r->body) || (db_column_type(st, 7) != DB_NULL && !r->url)) {
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
static enum rc read_rows(struct db *db, struct db_stmt *st, size_t max, struct outbox_row *rows, size_t *n)
{
	enum rc rc = RC_OK;
	int s;

	*n = 0;
	while (*n < max && (s = db_step(st)) == DB_ROW) {
		rc = read_row(st, &rows[*n]);
		if (rc != RC_OK)
			break;
		(*n)++;
	}
	if (rc == RC_OK && *n < max && s != DB_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("outbox rows: %s", db_errmsg(db));
	}
	if (rc != RC_OK) {
		outbox_rows_release(rows, *n);
		*n = 0;
	}
	db_reset(st);
	return rc;
}

/* The rank of an alert row: 0 for a critical alert's page (no severity counts as critical), else 1. */
#define ALERT_RANK                                                                                                     \
	"CASE WHEN coalesce(lower((SELECT a.severity FROM alerts a WHERE a.id = CASE o.owner_type WHEN 'alert' THEN "  \
	"o.owner_id WHEN 'call_attempt' THEN (SELECT c.alert_id FROM call_attempts c WHERE c.id = o.owner_id) END)), " \
	"'critical') = 'critical' THEN 0 ELSE 1 END"
#define DUE_WHERE "FROM outbox o WHERE status IN ('pending', 'retry') AND kind = ?1 AND next_at_ms <= ?2 AND "

/*
 * Whether other processes may claim rows of this database: PostgreSQL (several instances share
 * it, docs/DEPLOY.md). A SQLite file has one instance, whose single writer makes every claim
 * exclusive and whose previous lives (other instance ids) are dead for sure.
 */
static bool shared_db(struct db *db)
{
	return strcmp(db_driver_name(db), "sqlite") != 0;
}

bool outbox_due_locks(struct db *db)
{
	return shared_db(db);
}

enum rc outbox_any_due(struct db *db, int64_t now_ms, bool *any)
{
	/* served by outbox_due_order (0110): the waiting rows of each kind only */
	static const char sql[] = "SELECT 1 FROM outbox WHERE status IN ('pending', 'retry') AND kind IN ('sms', "
	                          "'whatsapp', 'call') AND next_at_ms <= ?1 LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*any = false;
	if (!st || db_bind_int64(st, 1, now_ms))
		return db_bind_failed(db, st, "outbox_any_due");
	s = db_step(st);
	*any = s == DB_ROW;
	db_reset(st);
	if (s != DB_ROW && s != DB_DONE) {
		log_err("outbox_any_due: %s", db_errmsg(db));
		return RC_DB;
	}
	return RC_OK;
}

enum rc outbox_due(struct db *db, enum outbox_kind kind, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n)
{
	/*
	 * Strict order (issue 11): sign-in codes (issue 16: someone waits at the screen; at most one a
	 * minute per phone), then pages, then acknowledgment/resolve notices, then the support
	 * line's texts (and any other class), then hand-off and sales notices; among pages those
	 * of critical alerts first; then the queue's own priority and age. One statement per
	 * place in that order, each served in order by a partial index of migration 0110
	 * (outbox_due_class, outbox_due_order) and stopped at the rows still wanted, so the cost
	 * follows the rows taken, not the length of the queue. Only the due pages are sorted (by
	 * severity): they are few, pages to one person being bundled.
	 */
#define DUE_ALERT                                                                                                      \
	"SELECT " ROW_COLUMNS ", " ALERT_RANK " AS send_rank " DUE_WHERE                                               \
	"class = 'alert' ORDER BY send_rank, priority, id LIMIT ?3"
#define DUE_OTP "SELECT " ROW_COLUMNS ", 0 " DUE_WHERE "class = 'otp' ORDER BY priority, id LIMIT ?3"
#define DUE_ACK "SELECT " ROW_COLUMNS ", 2 " DUE_WHERE "class = 'ack' ORDER BY priority, id LIMIT ?3"
#define DUE_OTHER                                                                                                      \
	"SELECT " ROW_COLUMNS ", 3 " DUE_WHERE                                                                         \
	"class NOT IN ('alert', 'otp', 'ack', 'handoff', 'sales') ORDER BY priority, id LIMIT ?3"
#define DUE_HANDOFF "SELECT " ROW_COLUMNS ", 4 " DUE_WHERE "class = 'handoff' ORDER BY priority, id LIMIT ?3"
#define DUE_SALES   "SELECT " ROW_COLUMNS ", 5 " DUE_WHERE "class = 'sales' ORDER BY priority, id LIMIT ?3"
/* PostgreSQL, several instances: the rows returned are locked until the claim transaction
 * ends, and rows another instance is claiming right now are passed over, not waited for. */
#define SKIP_LOCKED " FOR UPDATE OF o SKIP LOCKED"
	static const char alert[] = DUE_ALERT, otp[] = DUE_OTP, ack[] = DUE_ACK, other[] = DUE_OTHER,
	                  handoff[] = DUE_HANDOFF, sales[] = DUE_SALES;
	static const char alert_l[] = DUE_ALERT SKIP_LOCKED, otp_l[] = DUE_OTP SKIP_LOCKED,
	                  ack_l[] = DUE_ACK SKIP_LOCKED, other_l[] = DUE_OTHER SKIP_LOCKED,
	                  handoff_l[] = DUE_HANDOFF SKIP_LOCKED, sales_l[] = DUE_SALES SKIP_LOCKED;
	static const char *const in_order[] = {otp, alert, ack, other, handoff, sales};
	static const char *const in_order_locked[] = {otp_l, alert_l, ack_l, other_l, handoff_l, sales_l};
	const char *const *order = shared_db(db) ? in_order_locked : in_order;
	enum rc rc = RC_OK;
	size_t i, got;

	*n = 0;
	for (i = 0; i < sizeof in_order / sizeof in_order[0] && *n < max; i++) {
		struct db_stmt *st = db_prepare(db, order[i]);

		if (!st || db_bind_text(st, 1, kind_name(kind), -1, DB_STATIC) || db_bind_int64(st, 2, now_ms) ||
		    db_bind_int64(st, 3, (int64_t)(max - *n))) {
			rc = db_bind_failed(db, st, "outbox_due");
			break;
		}
		rc = read_rows(db, st, max - *n, rows + *n, &got);
		if (rc != RC_OK)
			break;
		*n += got;
	}
	if (rc != RC_OK) {
		outbox_rows_release(rows, *n);
		*n = 0;
	}
	return rc;
}

/*
 * Takes over rows being sent whose holder's lease has expired (a dead instance's, or claimed
 * before leases existed): each becomes this instance's, with a fresh lease, in one statement.
 * Concurrent callers cannot both take a row: the inner select skips rows another one has
 * locked, and the outer update re-checks the lease of a row that changed meanwhile. A read
 * first, so that the usual tick (nothing to take over) writes nothing. One statement pair per
 * side (KIND below), so each keeps the plan it had.
 */
#define ADOPT_LOOK(KIND)                                                                                               \
	"SELECT count(*) FROM outbox WHERE status = 'sending' AND next_at_ms <= ?2 AND " KIND                          \
	" AND (claimed_by IS NULL OR claimed_by <> ?1) AND (lease_until_ms IS NULL OR lease_until_ms <= ?2)"
#define ADOPT_TAKE(KIND)                                                                                               \
	"UPDATE outbox SET claimed_by = ?1, lease_until_ms = ?4 WHERE id IN (SELECT id FROM outbox "                   \
	"WHERE status = 'sending' AND next_at_ms <= ?2 AND " KIND " AND (claimed_by IS NULL OR "                       \
	"claimed_by <> ?1) AND (lease_until_ms IS NULL OR lease_until_ms <= ?2) ORDER BY id LIMIT ?3 FOR "             \
	"UPDATE SKIP LOCKED) "                                                                                         \
	"AND status = 'sending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?2)"

enum rc outbox_adopt_expired(struct db *db, int64_t now_ms, size_t max, bool email)
{
	static const char look_twilio[] = ADOPT_LOOK("kind <> 'email'"), look_email[] = ADOPT_LOOK("kind = 'email'");
	static const char take_twilio[] = ADOPT_TAKE("kind <> 'email'"), take_email[] = ADOPT_TAKE("kind = 'email'");
	const char *me = instance_id();
	struct db_stmt *st = db_prepare(db, email ? look_email : look_twilio);
	int64_t found = 0;
	enum rc rc;

	if (!st || db_bind_text(st, 1, me, -1, DB_STATIC) || db_bind_int64(st, 2, now_ms))
		return db_bind_failed(db, st, "outbox lease look");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		found = db_column_int64(st, 0);
	db_reset(st);
	if (rc != RC_OK || !found)
		return rc;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, email ? take_email : take_twilio);
	if (!st || db_bind_text(st, 1, me, -1, DB_STATIC) || db_bind_int64(st, 2, now_ms) ||
	    db_bind_int64(st, 3, (int64_t)max) || db_bind_int64(st, 4, now_ms + OUTBOX_LEASE_MS)) {
		db_rollback(db);
		return db_bind_failed(db, st, "outbox lease take");
	}
	rc = db_step_done(db, st, "outbox lease take");
	found = rc == RC_OK ? db_changes(db) : 0;
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	else if (found && email)
		log_warn("mailer: %lld e-mail(s) being sent by an instance whose lease expired taken over by %s",
		         (long long)found, me);
	else if (found)
		log_warn("outbox: %lld row(s) being sent by an instance whose lease expired taken over by %s: looked "
		         "up at Twilio before anything is sent again",
		         (long long)found, me);
	return rc;
}

enum rc outbox_stuck(struct db *db, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n)
{
	/* ?3 = 0 (SQLite, one instance): every row; else only this instance's (adopt_expired made
	 * the expired ones ours; a live holder's rows are its own to look up). */
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox "
	                          "WHERE status = 'sending' AND next_at_ms <= ?1 AND kind <> 'email' "
	                          "AND (?3 = 0 OR claimed_by = ?4) ORDER BY id LIMIT ?2";
	bool shared = shared_db(db);
	struct db_stmt *st;
	enum rc rc;

	*n = 0;
	if (shared) {
		rc = outbox_adopt_expired(db, now_ms, max, false);
		if (rc != RC_OK)
			return rc;
	}
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, (int64_t)max) ||
	    db_bind_int(st, 3, shared ? 1 : 0) || db_bind_text(st, 4, instance_id(), -1, DB_STATIC)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

enum rc outbox_lease_renew(struct db *db, int64_t now_ms, int *renewed)
{
	static const char look[] = "SELECT count(*) FROM outbox WHERE status = 'sending' AND claimed_by = ?1 "
	                           "AND lease_until_ms < ?2";
	static const char renew[] =
	        "UPDATE outbox SET lease_until_ms = ?3 WHERE status = 'sending' AND claimed_by = ?1 "
	        "AND lease_until_ms < ?2";
	const char *me = instance_id();
	int64_t due = now_ms + OUTBOX_LEASE_MS - OUTBOX_LEASE_RENEW_MS, found = 0;
	struct db_stmt *st;
	enum rc rc;

	if (renewed)
		*renewed = 0;
	if (!shared_db(db))
		return RC_OK; /* nobody else claims rows of a SQLite file */
	st = db_prepare(db, look);
	if (!st || db_bind_text(st, 1, me, -1, DB_STATIC) || db_bind_int64(st, 2, due))
		return db_bind_failed(db, st, "outbox lease renew");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		found = db_column_int64(st, 0);
	db_reset(st);
	if (rc != RC_OK || !found)
		return rc;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, renew);
	if (!st || db_bind_text(st, 1, me, -1, DB_STATIC) || db_bind_int64(st, 2, due) ||
	    db_bind_int64(st, 3, now_ms + OUTBOX_LEASE_MS)) {
		db_rollback(db);
		return db_bind_failed(db, st, "outbox lease renew");
	}
	rc = db_step_done(db, st, "outbox lease renew");
	if (rc == RC_OK && renewed)
		*renewed = db_changes(db);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc outbox_stale_calls(struct db *db, int64_t updated_before, size_t max, struct outbox_row *rows, size_t *n)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox "
	                          "WHERE kind = 'call' AND sid IS NOT NULL "
	                          "AND status IN ('queued', 'initiated', 'ringing', 'in-progress') "
	                          "AND updated_at < ?1 ORDER BY updated_at LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || db_bind_int64(st, 1, updated_before) || db_bind_int64(st, 2, (int64_t)max)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

/* Runs a bound write statement expected to change exactly one row. */
static enum rc write_one(struct db *db, struct db_stmt *st, const char *what, int64_t id)
{
	enum rc rc;

	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("%s %lld: %s", what, (long long)id, db_errmsg(db));
	} else
		rc = db_changes(db) == 1 ? RC_OK : RC_CONFLICT;
	db_reset(st);
	return rc;
}

static int bind_opt_int(struct db_stmt *st, int col, int v, int absent)
{
	return v == absent ? db_bind_null(st, col) : db_bind_int(st, col, v);
}

enum rc outbox_mark_sending(struct db *db, int64_t id, const char *from, int64_t now_ms, int64_t lookup_at_ms)
{
	return outbox_claim(db, id, from, now_ms, lookup_at_ms, NULL, 0);
}

enum rc outbox_claim(struct db *db, int64_t id, const char *from, int64_t now_ms, int64_t lookup_at_ms,
                     const char *encoding, int segments)
{
	/* One UPDATE: the row's b-tree entry and its indexes are rewritten once per claim. A cost
	 * already there is kept (SET reads the row as it was: encoding is still the old one). */
	static const char sql[] = "UPDATE outbox SET status = 'sending', tries = tries + 1, from_number = ?2, "
	                          "attempt_at_ms = ?3, next_at_ms = ?4, updated_at = ?3 / 1000, claimed_by = ?5, "
	                          "lease_until_ms = ?6, "
	                          "segments = CASE WHEN encoding IS NULL AND CAST(?7 AS TEXT) IS NOT NULL THEN ?8 "
	                          "ELSE segments END, "
	                          "encoding = coalesce(encoding, ?7) WHERE id = ?1 AND status IN ('pending', 'retry')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, from, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now_ms) || db_bind_int64(st, 4, lookup_at_ms) ||
	    db_bind_text(st, 5, instance_id(), -1, DB_STATIC) || db_bind_int64(st, 6, now_ms + OUTBOX_LEASE_MS) ||
	    (encoding ? db_bind_text(st, 7, encoding, -1, DB_STATIC) : db_bind_null(st, 7)) ||
	    db_bind_int(st, 8, segments)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_sending", id);
}

enum rc outbox_set_cost(struct db *db, int64_t id, const char *encoding, int segments)
{
	static const char sql[] = "UPDATE outbox SET encoding = ?2, segments = ?3 WHERE id = ?1 AND encoding IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, encoding, -1, DB_STATIC) ||
	    db_bind_int(st, 3, segments)) {
		if (st)
			db_reset(st);
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
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, sid, -1, DB_STATIC) ||
	    db_bind_text(st, 3, status, -1, DB_STATIC) || db_bind_int64(st, 4, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_sent", id);
}

enum rc outbox_mark_retry(struct db *db, int64_t id, int64_t next_at_ms, int error_code, const char *message,
                          int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'retry', next_at_ms = ?2, error_code = ?3, "
	                          "error_message = ?4, updated_at = ?5 / 1000 WHERE id = ?1 AND status = 'sending'";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, next_at_ms) || bind_opt_int(st, 3, error_code, 0) ||
	    db_bind_text(st, 4, message, -1, DB_STATIC) || db_bind_int64(st, 5, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_retry", id);
}

enum rc outbox_mark_failed(struct db *db, int64_t id, int error_code, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'failed', error_code = ?2, error_message = ?3, "
	                          "updated_at = ?4 / 1000 WHERE id = ?1 AND status IN ('sending', 'pending', 'retry')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || bind_opt_int(st, 2, error_code, 0) ||
	    db_bind_text(st, 3, message, -1, DB_STATIC) || db_bind_int64(st, 4, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_failed", id);
}

enum rc outbox_mark_unknown(struct db *db, int64_t id, int64_t lookup_at_ms, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET next_at_ms = ?2, error_message = ?3, updated_at = ?4 / 1000 "
	                          "WHERE id = ?1 AND status = 'sending'";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, lookup_at_ms) ||
	    db_bind_text(st, 3, message, -1, DB_STATIC) || db_bind_int64(st, 4, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_unknown", id);
}

enum rc outbox_defer(struct db *db, int64_t id, int64_t next_at_ms)
{
	static const char sql[] = "UPDATE outbox SET next_at_ms = ?2 WHERE id = ?1 AND status IN ('pending', 'retry')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, next_at_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_defer", id);
}

enum rc outbox_dest_recent(struct db *db, const char *to, bool calls, int64_t since_ms, int64_t *count,
                           int64_t *oldest_ms)
{
	static const char sql[] = "SELECT count(*), coalesce(min(attempt_at_ms), 0) FROM outbox "
	                          "WHERE to_number = ?1 AND attempt_at_ms >= ?2 AND class = 'alert' "
	                          "AND (kind = 'call') = (?3 <> 0) AND (sid IS NOT NULL OR status = 'sending')";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	*count = 0;
	*oldest_ms = 0;
	if (!st || db_bind_text(st, 1, to, -1, DB_STATIC) || db_bind_int64(st, 2, since_ms) ||
	    db_bind_int(st, 3, calls))
		goto out;
	if (db_step(st) != DB_ROW)
		goto out;
	*count = db_column_int64(st, 0);
	*oldest_ms = db_column_int64(st, 1);
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("outbox_dest_recent: %s", db_errmsg(db));
	if (st)
		db_reset(st);
	return rc;
}

enum rc outbox_accepted_at(struct db *db, int64_t id, int64_t *accepted_at_ms)
{
	static const char sql[] = "SELECT coalesce(accepted_at_ms, 0) FROM outbox WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;
	int s;

	*accepted_at_ms = 0;
	if (!st || db_bind_int64(st, 1, id))
		goto out;
	s = db_step(st);
	if (s == DB_ROW) {
		*accepted_at_ms = db_column_int64(st, 0);
		rc = RC_OK;
	} else if (s == DB_DONE)
		rc = RC_NOT_FOUND;
out:
	if (rc == RC_DB)
		log_err("outbox_accepted_at %lld: %s", (long long)id, db_errmsg(db));
	if (st)
		db_reset(st);
	return rc;
}

enum rc outbox_sid_known(struct db *db, const char *sid, bool *known)
{
	static const char sql[] = "SELECT 1 FROM outbox WHERE sid = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*known = false;
	if (!st || db_bind_text(st, 1, sid, -1, DB_STATIC)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	s = db_step(st);
	*known = s == DB_ROW;
	db_reset(st);
	return s == DB_ROW || s == DB_DONE ? RC_OK : RC_DB;
}

enum rc outbox_by_sid(struct db *db, const char *sid, struct outbox_row *row)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox WHERE sid = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;
	int s;

	memset(row, 0, sizeof *row);
	if (!st || db_bind_text(st, 1, sid, -1, DB_STATIC)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	s = db_step(st);
	if (s == DB_ROW)
		rc = read_row(st, row);
	else if (s == DB_DONE)
		rc = RC_NOT_FOUND;
	else {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
	}
	db_reset(st);
	return rc;
}

enum rc outbox_set_status(struct db *db, int64_t id, const char *status, int seq, int error_code, int duration_s,
                          int64_t now_ms)
{
	static const char sql[] =
	        "UPDATE outbox SET status = ?2, status_seq = CASE WHEN ?3 >= 0 THEN ?3 ELSE status_seq END, "
	        "error_code = coalesce(?4, error_code), duration_s = coalesce(?5, duration_s), updated_at = ?6 / 1000 "
	        "WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, status, -1, DB_STATIC) || db_bind_int(st, 3, seq) ||
	    bind_opt_int(st, 4, error_code, 0) ||
	    (duration_s >= 0 ? db_bind_int(st, 5, duration_s) : db_bind_null(st, 5)) || db_bind_int64(st, 6, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_set_status", id);
}

enum rc outbox_note_callback(struct db *db, int64_t id, const char *raw_status, const char *error_words, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET twilio_status = ?2, twilio_status_at = ?3 / 1000, "
	                          "error_message = coalesce(?4, error_message) WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, raw_status, -1, DB_TRANSIENT) ||
	    db_bind_int64(st, 3, now_ms) ||
	    (error_words ? db_bind_text(st, 4, error_words, -1, DB_TRANSIENT) : db_bind_null(st, 4))) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_note_callback", id);
}

enum rc outbox_row_alerts(struct db *db, int64_t id, int max,
                          void (*fn)(void *ctx, int64_t alert_id, const char *summary), void *ctx)
{
	static const char sql[] = "SELECT a.id, a.summary FROM page_texts p JOIN alerts a ON a.id = p.alert_id "
	                          "WHERE p.outbox_id = ?1 ORDER BY a.id LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_OK;
	int s;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, max)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	while ((s = db_step(st)) == DB_ROW) {
		const char *summary = (const char *)db_column_text(st, 1);

		fn(ctx, db_column_int64(st, 0), summary ? summary : "");
	}
	if (s != DB_DONE) {
		rc = RC_DB;
		log_err("outbox_row_alerts %lld: %s", (long long)id, db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

/* ---- early status callbacks ---- */

enum rc outbox_early_add(struct db *db, const struct outbox_early *e, int64_t now_ms)
{
	static const char cnt[] = "SELECT count(*) FROM outbox_early_status";
	static const char ins[] = "INSERT INTO outbox_early_status (sid, status, seq, error_code, duration_s, "
	                          "answered_by, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	struct db_stmt *st = db_prepare(db, cnt);
	int64_t n;

	if (!st)
		return RC_DB;
	if (db_step(st) != DB_ROW) {
		db_reset(st);
		return RC_DB;
	}
	n = db_column_int64(st, 0);
	db_reset(st);
	if (n >= OUTBOX_EARLY_MAX) {
		log_warn("status callback for unknown %s (%s) dropped: %d early callbacks kept already", e->sid,
		         e->status, OUTBOX_EARLY_MAX);
		return RC_OK;
	}
	st = db_prepare(db, ins);
	if (!st || db_bind_text(st, 1, e->sid, -1, DB_STATIC) || db_bind_text(st, 2, e->status, -1, DB_STATIC) ||
	    db_bind_int(st, 3, e->seq) || bind_opt_int(st, 4, e->error_code, 0) ||
	    (e->duration_s >= 0 ? db_bind_int(st, 5, e->duration_s) : db_bind_null(st, 5)) ||
	    (e->answered_by[0] ? db_bind_text(st, 6, e->answered_by, -1, DB_STATIC) : db_bind_null(st, 6)) ||
	    db_bind_int64(st, 7, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_early_add", 0);
}

enum rc outbox_early_any(struct db *db, const char *sid, bool *any)
{
	static const char sql[] = "SELECT 1 FROM outbox_early_status WHERE sid = ?1 LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*any = false;
	if (!st || db_bind_text(st, 1, sid, -1, DB_STATIC))
		return db_bind_failed(db, st, "outbox_early_any");
	s = db_step(st);
	*any = s == DB_ROW;
	db_reset(st);
	if (s != DB_ROW && s != DB_DONE) {
		log_err("outbox_early_any: %s", db_errmsg(db));
		return RC_DB;
	}
	return RC_OK;
}

enum rc outbox_early_take(struct db *db, const char *sid, enum rc (*fn)(void *ctx, const struct outbox_early *e),
                          void *ctx)
{
	static const char sel[] = "SELECT sid, status, seq, coalesce(error_code, 0), coalesce(duration_s, -1), "
	                          "coalesce(answered_by, '') FROM outbox_early_status WHERE sid = ?1 ORDER BY id";
	static const char del[] = "DELETE FROM outbox_early_status WHERE sid = ?1";
	struct outbox_early *list = NULL;
	size_t n = 0, i;
	struct db_stmt *st = db_prepare(db, sel);
	enum rc rc = RC_DB;
	int s;

	if (!st || db_bind_text(st, 1, sid, -1, DB_STATIC))
		goto out;
	while ((s = db_step(st)) == DB_ROW) {
		struct outbox_early *grown = realloc(list, (n + 1) * sizeof *list);

		if (!grown) {
			rc = RC_INTERNAL;
			goto out;
		}
		list = grown;
		copy_col(st, 0, list[n].sid, sizeof list[n].sid);
		copy_col(st, 1, list[n].status, sizeof list[n].status);
		list[n].seq = db_column_int(st, 2);
		list[n].error_code = db_column_int(st, 3);
		list[n].duration_s = db_column_int(st, 4);
		copy_col(st, 5, list[n].answered_by, sizeof list[n].answered_by);
		n++;
	}
	if (s != DB_DONE)
		goto out;
	db_reset(st);
	st = NULL;
	if (n) {
		st = db_prepare(db, del);
		if (!st || db_bind_text(st, 1, sid, -1, DB_STATIC) || db_step(st) != DB_DONE)
			goto out;
	}
	rc = RC_OK;
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = fn(ctx, &list[i]);
out:
	if (st)
		db_reset(st);
	free(list);
	return rc;
}

enum rc outbox_early_prune(struct db *db, int64_t before_ms)
{
	static const char sql[] = "DELETE FROM outbox_early_status WHERE received_at < ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, before_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	rc = db_step(st) == DB_DONE ? RC_OK : RC_DB;
	db_reset(st);
	return rc;
}

/* ---- reading ---- */

enum rc outbox_list_json(struct db *db, const char *status, int64_t before_id, int limit, json_t **out)
{
	static const char sql[] =
	        "SELECT id, kind, class, priority, to_number AS \"to\", from_number AS \"from\", body, url, status, "
	        "error_message LIKE 'dead letter%' AS dead_letter, tries, next_at_ms, attempt_at_ms, sid, "
	        "error_code, error_message, encoding, segments, duration_s, owner_type, owner_id, idem_key, "
	        "twilio_status, twilio_status_at, created_at, sent_at, updated_at FROM outbox "
	        "WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1 "
	        "OR (?1 = 'dead' AND status = 'failed' AND error_message LIKE 'dead letter%')) "
	        "AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || (status ? db_bind_text(st, 1, status, -1, DB_STATIC) : db_bind_null(st, 1)) ||
	    db_bind_int64(st, 2, before_id) || db_bind_int(st, 3, limit)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return db_rows_json(db, st, out);
}

/* ---- pages of closed alerts, hang-ups, undecided rows ---- */

enum rc outbox_get(struct db *db, int64_t id, struct outbox_row *row)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;
	int s;

	memset(row, 0, sizeof *row);
	if (!st || db_bind_int64(st, 1, id)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	s = db_step(st);
	if (s == DB_ROW)
		rc = read_row(st, row);
	else if (s == DB_DONE)
		rc = RC_NOT_FOUND;
	else {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
	}
	db_reset(st);
	return rc;
}

/*
 * Whether page row o still carries an open alert (neither acknowledged nor resolved): a text,
 * one of the alerts it lists (page_texts) or, when it lists none, its owner alert; a call, one
 * of the attempts on it (call_attempts.outbox_id) not ended yet whose alert is open or, when
 * none is linked, its owner attempt's alert. A bundle goes on as long as one alert needs it.
 */
#define OPEN_ALERT "a.status NOT IN ('acknowledged', 'resolved')"
#define ROW_CARRIES_OPEN_ALERT                                                                                         \
	"(CASE WHEN o.kind = 'call' THEN EXISTS (SELECT 1 FROM call_attempts c JOIN alerts a ON a.id = c.alert_id "    \
	"WHERE c.outbox_id = o.id AND c.ended_at IS NULL AND " OPEN_ALERT ") OR (NOT EXISTS (SELECT 1 FROM "           \
	"call_attempts c WHERE c.outbox_id = o.id) AND coalesce((SELECT a.status FROM call_attempts c JOIN alerts a "  \
	"ON a.id = c.alert_id WHERE o.owner_type = 'call_attempt' AND c.id = o.owner_id), 'triggered') NOT IN "        \
	"('acknowledged', 'resolved')) "                                                                               \
	"ELSE EXISTS (SELECT 1 FROM page_texts p JOIN alerts a ON a.id = p.alert_id WHERE p.outbox_id = o.id "         \
	"AND " OPEN_ALERT                                                                                              \
	") OR (NOT EXISTS (SELECT 1 FROM page_texts p WHERE p.outbox_id = o.id) AND coalesce((SELECT "                 \
	"a.status FROM alerts a WHERE o.owner_type = 'alert' AND a.id = o.owner_id), 'triggered') NOT IN "             \
	"('acknowledged', 'resolved')) END)"

enum rc outbox_page_is_live(struct db *db, int64_t id, bool *page, bool *live)
{
	static const char sql[] = "SELECT o.class = 'alert', o.cancel_requested_ms IS NULL AND " ROW_CARRIES_OPEN_ALERT
	                          " FROM outbox o WHERE o.id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;
	int s;

	*page = false;
	*live = true;
	if (!st || db_bind_int64(st, 1, id))
		goto out;
	s = db_step(st);
	if (s == DB_ROW) {
		*page = db_column_int(st, 0) != 0;
		*live = !*page || db_column_int(st, 1) != 0;
		rc = RC_OK;
	} else if (s == DB_DONE)
		rc = RC_NOT_FOUND;
out:
	if (rc == RC_DB)
		log_err("outbox_page_is_live %lld: %s", (long long)id, db_errmsg(db));
	if (st)
		db_reset(st);
	return rc;
}

enum rc outbox_mark_canceled(struct db *db, int64_t id, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'canceled', error_message = ?2, updated_at = ?3 / 1000 "
	                          "WHERE id = ?1 AND status IN ('pending', 'retry', 'sending')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, message, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_canceled", id);
}

/* Runs a bound write statement that may change any number of rows; *n (may be NULL) gets how many. */
static enum rc write_many(struct db *db, struct db_stmt *st, const char *what, int *n)
{
	enum rc rc = RC_OK;

	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		log_err("%s: %s", what, db_errmsg(db));
	} else if (n)
		*n += db_changes(db);
	db_reset(st);
	return rc;
}

/* Page rows of alert ?1 that carry no open alert any more (its own texts and bundle texts that
 * list it, the calls of its attempts), as a subselect of ids. */
#define CLOSED_PAGES_OF_ALERT                                                                                          \
	"SELECT o.id FROM outbox o WHERE o.class = 'alert' AND ((o.owner_type = 'alert' AND o.owner_id = ?1) OR "      \
	"o.id IN (SELECT outbox_id FROM page_texts WHERE alert_id = ?1) OR o.id IN (SELECT outbox_id FROM "            \
	"call_attempts WHERE alert_id = ?1) OR (o.owner_type = 'call_attempt' AND o.owner_id IN (SELECT id FROM "      \
	"call_attempts WHERE alert_id = ?1))) AND NOT " ROW_CARRIES_OPEN_ALERT

enum rc outbox_cancel_pages(struct db *db, int64_t alert_id, int64_t spare_person_id, int64_t now_ms,
                            struct outbox_cancel_count *n)
{
	static const char waiting[] =
	        "UPDATE outbox SET status = 'canceled', error_message = ?3, updated_at = ?2 / 1000 "
	        "WHERE status IN ('pending', 'retry') AND id IN (" CLOSED_PAGES_OF_ALERT ")";
	static const char sending[] =
	        "UPDATE outbox SET cancel_requested_ms = coalesce(cancel_requested_ms, ?2), "
	        "updated_at = ?2 / 1000 WHERE status = 'sending' AND id IN (" CLOSED_PAGES_OF_ALERT ")";
	static const char ringing[] =
	        "UPDATE outbox SET hangup_at_ms = ?2, hangup_status = 'requested', updated_at = ?2 / 1000 "
	        "WHERE kind = 'call' AND sid IS NOT NULL AND status IN ('queued', 'initiated', 'ringing', "
	        "'in-progress') "
	        "AND hangup_status IS NULL AND id IN (" CLOSED_PAGES_OF_ALERT ") AND (?3 = 0 OR NOT EXISTS (SELECT 1 "
	        "FROM call_attempts c WHERE c.person_id = ?3 AND (c.outbox_id = outbox.id OR (outbox.owner_type = "
	        "'call_attempt' AND c.id = outbox.owner_id))))";
	static const char why[] = "not sent: its alert was acknowledged or resolved first";
	struct db_stmt *st;
	enum rc rc;

	memset(n, 0, sizeof *n);
	st = db_prepare(db, waiting);
	if (!st || db_bind_int64(st, 1, alert_id) || db_bind_int64(st, 2, now_ms) ||
	    db_bind_text(st, 3, why, -1, DB_STATIC))
		goto bind_failed;
	rc = write_many(db, st, "outbox_cancel_pages", &n->canceled);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sending);
	if (!st || db_bind_int64(st, 1, alert_id) || db_bind_int64(st, 2, now_ms))
		goto bind_failed;
	rc = write_many(db, st, "outbox_cancel_pages", &n->in_flight);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, ringing);
	if (!st || db_bind_int64(st, 1, alert_id) || db_bind_int64(st, 2, now_ms) ||
	    db_bind_int64(st, 3, spare_person_id))
		goto bind_failed;
	return write_many(db, st, "outbox_cancel_pages", &n->hangups);
bind_failed:
	if (st)
		db_reset(st);
	log_err("outbox_cancel_pages %lld: %s", (long long)alert_id, db_errmsg(db));
	return RC_DB;
}

enum rc outbox_request_hangup(struct db *db, int64_t id, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET hangup_at_ms = ?2, hangup_status = 'requested' "
	                          "WHERE id = ?1 AND kind = 'call' AND sid IS NOT NULL AND hangup_status IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	rc = write_one(db, st, "outbox_request_hangup", id);
	return rc == RC_CONFLICT ? RC_OK : rc;
}

enum rc outbox_hangups_due(struct db *db, int64_t now_ms, size_t max, struct outbox_row *rows, size_t *n)
{
	static const char sql[] =
	        "SELECT " ROW_COLUMNS " FROM outbox "
	        "WHERE hangup_at_ms IS NOT NULL AND hangup_at_ms <= ?1 ORDER BY hangup_at_ms LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, (int64_t)max)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

enum rc outbox_hangup_result(struct db *db, int64_t id, int64_t next_at_ms, const char *result)
{
	static const char sql[] = "UPDATE outbox SET hangup_at_ms = ?2, hangup_status = ?3 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) ||
	    (next_at_ms > 0 ? db_bind_int64(st, 2, next_at_ms) : db_bind_null(st, 2)) ||
	    db_bind_text(st, 3, result, -1, DB_TRANSIENT)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_hangup_result", id);
}

enum rc outbox_mark_undecided(struct db *db, int64_t id, const char *message, int64_t now_ms)
{
	static const char sql[] = "UPDATE outbox SET status = 'undecided', error_message = ?2, updated_at = ?3 / 1000 "
	                          "WHERE id = ?1 AND status = 'sending'";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, message, -1, DB_TRANSIENT) ||
	    db_bind_int64(st, 3, now_ms)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_mark_undecided", id);
}

enum rc outbox_siblings(struct db *db, const struct outbox_row *r, int64_t window_ms, size_t max,
                        struct outbox_row *rows, size_t *n)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox "
	                          "WHERE status IN ('sending', 'undecided') AND sid IS NULL AND kind = ?1 "
	                          "AND to_number = ?2 "
	                          "AND coalesce(from_number, '') = ?3 AND attempt_at_ms BETWEEN ?4 - ?5 AND ?4 + ?5 "
	                          "ORDER BY attempt_at_ms, id LIMIT ?6";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || db_bind_text(st, 1, kind_name(r->kind), -1, DB_STATIC) ||
	    db_bind_text(st, 2, r->to, -1, DB_STATIC) || db_bind_text(st, 3, r->from, -1, DB_STATIC) ||
	    db_bind_int64(st, 4, r->attempt_at_ms) || db_bind_int64(st, 5, window_ms) ||
	    db_bind_int64(st, 6, (int64_t)max)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return read_rows(db, st, max, rows, n);
}

/* ---- the last thing Twilio said (for /healthz) ---- */

enum rc outbox_twilio_note(struct db *db, const char *kind, int64_t at_ms, long http_status, int error_code,
                           const char *message)
{
	static const char sql[] =
	        "INSERT INTO twilio_results (kind, at_ms, http_status, error_code, message) VALUES (?1, ?2, ?3, ?4, "
	        "?5) "
	        "ON CONFLICT (kind) DO UPDATE SET at_ms = excluded.at_ms, http_status = excluded.http_status, "
	        "error_code = excluded.error_code, message = excluded.message";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_text(st, 1, kind, -1, DB_STATIC) || db_bind_int64(st, 2, at_ms) ||
	    (http_status > 0 ? db_bind_int64(st, 3, http_status) : db_bind_null(st, 3)) ||
	    bind_opt_int(st, 4, error_code, 0) ||
	    (message && *message ? db_bind_text(st, 5, message, -1, DB_TRANSIENT) : db_bind_null(st, 5))) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	return write_one(db, st, "outbox_twilio_note", 0);
}
