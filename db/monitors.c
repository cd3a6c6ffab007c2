/*
 * db/monitors.c — statements on monitors and monitor_pings (see db/monitors.h). Optional
 * integers travel as 0 and are stored as NULL (nullif), so the struct needs no flags. A ping's
 * insert is the only write on the request path; everything else runs in the caller's
 * transaction (the API's or the monitor thread's).
 */
#include "db/monitors.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* The columns read into a struct monitor, in the order read_row() takes them. */
#define MONITOR_COLUMNS                                                                                                \
	"id, kind, name, coalesce(secret, ''), coalesce(period_s, 0), grace_s, coalesce(schedule, ''), tz, "           \
	"severity, paused, state, state_since_ms, coalesce(last_ping_ms, 0), coalesce(last_ping_kind, ''), "           \
	"coalesce(last_start_ms, 0), coalesce(last_duration_ms, 0), coalesce(due_ms, 0), coalesce(next_ms, 0), "       \
	"coalesce(alert_id, 0), created_at, updated_at, coalesce(target, ''), coalesce(interval_s, 0), "               \
	"coalesce(timeout_s, 0), coalesce(expect_status, ''), coalesce(keyword, ''), follow_redirects, "               \
	"tls_verify, failures_before_alert, cert_warn_days, fail_streak, coalesce(last_error, ''), "                   \
	"coalesce(last_response_ms, 0), coalesce(cert_expires_at, 0), coalesce(cert_alert_id, 0), flips, "             \
	"coalesce(flips_since_ms, 0), flapping"

static void text_col(struct db_stmt *st, int i, char *out, size_t len)
{
	const char *s = (const char *)db_column_text(st, i);

	snprintf(out, len, "%s", s ? s : "");
}

static void read_row(struct db_stmt *st, struct monitor *m)
{
	memset(m, 0, sizeof *m);
	m->id = db_column_int64(st, 0);
	text_col(st, 1, m->kind, sizeof m->kind);
	text_col(st, 2, m->name, sizeof m->name);
	text_col(st, 3, m->secret, sizeof m->secret);
	m->period_s = db_column_int64(st, 4);
	m->grace_s = db_column_int64(st, 5);
	text_col(st, 6, m->schedule, sizeof m->schedule);
	text_col(st, 7, m->tz, sizeof m->tz);
	text_col(st, 8, m->severity, sizeof m->severity);
	m->paused = db_column_int64(st, 9) != 0;
	text_col(st, 10, m->state, sizeof m->state);
	m->state_since_ms = db_column_int64(st, 11);
	m->last_ping_ms = db_column_int64(st, 12);
	text_col(st, 13, m->last_ping_kind, sizeof m->last_ping_kind);
	m->last_start_ms = db_column_int64(st, 14);
	m->last_duration_ms = db_column_int64(st, 15);
	m->due_ms = db_column_int64(st, 16);
	m->next_ms = db_column_int64(st, 17);
	m->alert_id = db_column_int64(st, 18);
	m->created_at = db_column_int64(st, 19);
	m->updated_at = db_column_int64(st, 20);
	text_col(st, 21, m->target, sizeof m->target);
	m->interval_s = db_column_int64(st, 22);
	m->timeout_s = db_column_int64(st, 23);
	text_col(st, 24, m->expect_status, sizeof m->expect_status);
	text_col(st, 25, m->keyword, sizeof m->keyword);
	m->follow_redirects = db_column_int64(st, 26) != 0;
	m->tls_verify = db_column_int64(st, 27) != 0;
	m->failures_before_alert = db_column_int(st, 28);
	m->cert_warn_days = db_column_int(st, 29);
	m->fail_streak = db_column_int(st, 30);
	text_col(st, 31, m->last_error, sizeof m->last_error);
	m->last_response_ms = db_column_int64(st, 32);
	m->cert_expires_at = db_column_int64(st, 33);
	m->cert_alert_id = db_column_int64(st, 34);
	m->flips = db_column_int(st, 35);
	m->flips_since_ms = db_column_int64(st, 36);
	m->flapping = db_column_int64(st, 37) != 0;
}

static const char *opt(const char *s)
{
	return s && *s ? s : NULL;
}

enum rc monitors_insert(struct db *db, const struct monitor *m, int64_t now, int64_t *id)
{
	static const char sql[] = "INSERT INTO monitors (kind, name, secret, grace_s, tz, severity, state_since_ms, "
	                          "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";
	struct db_stmt *st = db_prepare(db, sql);
	struct monitor full;
	enum rc rc;

	*id = 0;
	if (!st || db_bind_text(st, 1, m->kind, -1, DB_STATIC) || db_bind_text(st, 2, m->name, -1, DB_STATIC) ||
	    db_bind_opt_text(st, 3, opt(m->secret)) || db_bind_int64(st, 4, m->grace_s) ||
	    db_bind_text(st, 5, m->tz, -1, DB_STATIC) || db_bind_text(st, 6, m->severity, -1, DB_STATIC) ||
	    db_bind_int64(st, 7, now * 1000) || db_bind_int64(st, 8, now))
		return db_bind_failed(db, st, "monitors_insert");
	rc = db_step_done(db, st, "monitors_insert");
	if (rc != RC_OK)
		return rc;
	full = *m; /* then every other field, as an update writes them */
	full.id = db_last_id(db);
	if (!full.state[0])
		snprintf(full.state, sizeof full.state, "new");
	if (!full.state_since_ms)
		full.state_since_ms = now * 1000;
	rc = monitors_update(db, &full, now);
	if (rc == RC_OK)
		*id = full.id;
	return rc;
}

enum rc monitors_update(struct db *db, const struct monitor *m, int64_t now)
{
	static const char sql[] =
	        "UPDATE monitors SET name = ?2, period_s = nullif(?3, 0), grace_s = ?4, schedule = ?5, tz = ?6, "
	        "severity = ?7, paused = ?8, state = ?9, state_since_ms = ?10, last_ping_ms = nullif(?11, 0), "
	        "last_ping_kind = ?12, last_start_ms = nullif(?13, 0), last_duration_ms = nullif(?14, 0), "
	        "due_ms = nullif(?15, 0), next_ms = nullif(?16, 0), alert_id = nullif(?17, 0), updated_at = ?18, "
	        "target = ?19, interval_s = nullif(?20, 0), timeout_s = nullif(?21, 0), expect_status = ?22, "
	        "keyword = ?23, follow_redirects = ?24, tls_verify = ?25, failures_before_alert = ?26, "
	        "cert_warn_days = ?27, fail_streak = ?28, last_error = ?29, last_response_ms = nullif(?30, 0), "
	        "cert_expires_at = nullif(?31, 0), cert_alert_id = nullif(?32, 0), flips = ?33, "
	        "flips_since_ms = nullif(?34, 0), flapping = ?35 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, m->id) || db_bind_text(st, 2, m->name, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, m->period_s) || db_bind_int64(st, 4, m->grace_s) ||
	    db_bind_opt_text(st, 5, opt(m->schedule)) || db_bind_text(st, 6, m->tz, -1, DB_STATIC) ||
	    db_bind_text(st, 7, m->severity, -1, DB_STATIC) || db_bind_int(st, 8, m->paused) ||
	    db_bind_text(st, 9, m->state, -1, DB_STATIC) || db_bind_int64(st, 10, m->state_since_ms) ||
	    db_bind_int64(st, 11, m->last_ping_ms) || db_bind_opt_text(st, 12, opt(m->last_ping_kind)) ||
	    db_bind_int64(st, 13, m->last_start_ms) || db_bind_int64(st, 14, m->last_duration_ms) ||
	    db_bind_int64(st, 15, m->due_ms) || db_bind_int64(st, 16, m->next_ms) ||
	    db_bind_int64(st, 17, m->alert_id) || db_bind_int64(st, 18, now) ||
	    db_bind_opt_text(st, 19, opt(m->target)) || db_bind_int64(st, 20, m->interval_s) ||
	    db_bind_int64(st, 21, m->timeout_s) || db_bind_opt_text(st, 22, opt(m->expect_status)) ||
	    db_bind_opt_text(st, 23, opt(m->keyword)) || db_bind_int(st, 24, m->follow_redirects) ||
	    db_bind_int(st, 25, m->tls_verify) || db_bind_int(st, 26, m->failures_before_alert) ||
	    db_bind_int(st, 27, m->cert_warn_days) || db_bind_int(st, 28, m->fail_streak) ||
	    db_bind_opt_text(st, 29, opt(m->last_error)) || db_bind_int64(st, 30, m->last_response_ms) ||
	    db_bind_int64(st, 31, m->cert_expires_at) || db_bind_int64(st, 32, m->cert_alert_id) ||
	    db_bind_int(st, 33, m->flips) || db_bind_int64(st, 34, m->flips_since_ms) ||
	    db_bind_int(st, 35, m->flapping))
		return db_bind_failed(db, st, "monitors_update");
	rc = db_step_done(db, st, "monitors_update");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_NOT_FOUND;
	return rc;
}

enum rc monitors_get(struct db *db, int64_t id, struct monitor *out)
{
	static const char sql[] = "SELECT " MONITOR_COLUMNS " FROM monitors WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "monitors_get");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		read_row(st, out);
	db_reset(st);
	return rc;
}

enum rc monitors_delete(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM monitors WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "monitors_delete");
	rc = db_step_done(db, st, "monitors_delete");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_NOT_FOUND;
	return rc;
}

enum rc monitors_each(struct db *db, void (*fn)(void *ctx, const struct monitor *m), void *ctx)
{
	static const char sql[] = "SELECT " MONITOR_COLUMNS " FROM monitors ORDER BY id LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	struct monitor m;
	enum rc rc;

	if (!st || db_bind_int(st, 1, MONITORS_LIST_MAX))
		return db_bind_failed(db, st, "monitors_each");
	while ((rc = db_step_row(db, st)) == RC_OK) {
		read_row(st, &m);
		fn(ctx, &m);
	}
	db_reset(st);
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc monitors_list(struct db *db, const struct monitors_filter *f, void (*fn)(void *ctx, const struct monitor *m),
                      void *ctx)
{
	/* newest first by id, so ?before=<id> pages like every list */
	static const char sql[] = "SELECT " MONITOR_COLUMNS " FROM monitors WHERE (?2 <= 0 OR id < ?2) "
	                          "AND (CAST(?3 AS TEXT) IS NULL OR kind = ?3) "
	                          "AND (CAST(?4 AS TEXT) IS NULL OR (?4 = 'paused' AND paused <> 0) "
	                          "OR (paused = 0 AND state = ?4)) ORDER BY id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	struct monitor m;
	enum rc rc;

	if (!st || db_bind_int(st, 1, f->limit) || db_bind_int64(st, 2, f->before_id) ||
	    db_bind_opt_text(st, 3, f->kind) || db_bind_opt_text(st, 4, f->state))
		return db_bind_failed(db, st, "monitors_list");
	while ((rc = db_step_row(db, st)) == RC_OK) {
		read_row(st, &m);
		fn(ctx, &m);
	}
	db_reset(st);
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc monitors_find_secret(struct db *db, const char *secret, int64_t *id, bool *paused)
{
	static const char sql[] = "SELECT id, paused FROM monitors WHERE secret = ?1 AND kind = 'heartbeat'";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (paused)
		*paused = false;
	if (!st || db_bind_text(st, 1, secret, -1, DB_STATIC))
		return db_bind_failed(db, st, "monitors_find_secret");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*id = db_column_int64(st, 0);
		if (paused)
			*paused = db_column_int64(st, 1) != 0;
	}
	db_reset(st);
	return rc;
}

enum rc monitors_ping_add(struct db *db, int64_t monitor_id, int64_t at_ms, const char *kind, int exit_status,
                          const char *method, const char *body, size_t body_len)
{
	static const char sql[] = "INSERT INTO monitor_pings (monitor_id, at_ms, kind, exit_status, method, body) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct db_stmt *st;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, monitor_id) || db_bind_int64(st, 2, at_ms) ||
	    db_bind_text(st, 3, kind, -1, DB_STATIC) ||
	    (exit_status < 0 ? db_bind_null(st, 4) : db_bind_int(st, 4, exit_status)) ||
	    db_bind_text(st, 5, method, -1, DB_STATIC) ||
	    (body && body_len ? db_bind_text(st, 6, body, (int)body_len, DB_STATIC) : db_bind_null(st, 6))) {
		rc = db_bind_failed(db, st, "monitors_ping_add");
		goto out;
	}
	rc = db_step_done(db, st, "monitors_ping_add");
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc monitors_pings_unfolded(struct db *db, struct monitor_ping *out, size_t max, size_t *n)
{
	static const char sql[] = "SELECT id, monitor_id, at_ms, kind, coalesce(exit_status, -1) FROM monitor_pings "
	                          "WHERE folded = 0 ORDER BY id LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_NOT_FOUND;

	*n = 0;
	if (!st || db_bind_int64(st, 1, (int64_t)max))
		return db_bind_failed(db, st, "monitors_pings_unfolded");
	while (*n < max && (rc = db_step_row(db, st)) == RC_OK) {
		struct monitor_ping *p = &out[(*n)++];

		p->id = db_column_int64(st, 0);
		p->monitor_id = db_column_int64(st, 1);
		p->at_ms = db_column_int64(st, 2);
		text_col(st, 3, p->kind, sizeof p->kind);
		p->exit_status = db_column_int(st, 4);
	}
	if (*n < max && rc != RC_NOT_FOUND) {
		db_reset(st);
		return rc;
	}
	db_reset(st);
	return RC_OK;
}

/* Drops all but the newest MONITORS_PINGS_KEPT pings of p's monitor (folded ones only). */
static enum rc trim(struct db *db, const struct monitor_ping *p)
{
	/* every ping older than the newest MONITORS_PINGS_KEPT (none when there are fewer: id < NULL) */
	static const char sql[] = "DELETE FROM monitor_pings WHERE monitor_id = ?1 AND folded = 1 AND id < "
	                          "(SELECT id FROM monitor_pings WHERE monitor_id = ?1 ORDER BY id DESC "
	                          "LIMIT 1 OFFSET ?2)";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, p->monitor_id) || db_bind_int(st, 2, MONITORS_PINGS_KEPT - 1))
		return db_bind_failed(db, st, "monitors trim");
	return db_step_done(db, st, "monitors trim");
}

enum rc monitors_ping_claim(struct db *db, const struct monitor_ping *p)
{
	static const char fold[] = "UPDATE monitor_pings SET folded = 1 WHERE id = ?1 AND folded = 0";
	struct db_stmt *st = db_prepare(db, fold);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, p->id))
		return db_bind_failed(db, st, "monitors_ping_claim");
	rc = db_step_done(db, st, "monitors_ping_claim");
	if (rc != RC_OK)
		return rc;
	if (db_changes(db) != 1)
		return RC_CONFLICT;
	return trim(db, p);
}

enum rc monitors_ping_body(struct db *db, int64_t id, char *out, size_t len)
{
	static const char sql[] = "SELECT coalesce(body, '') FROM monitor_pings WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	out[0] = '\0';
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "monitors_ping_body");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		text_col(st, 0, out, len);
	db_reset(st);
	return rc;
}

enum rc monitors_pings_json(struct db *db, int64_t monitor_id, int limit, json_t **out)
{
	return monitors_pings_page_json(db, monitor_id, 0, limit, out);
}

enum rc monitors_pings_page_json(struct db *db, int64_t monitor_id, int64_t before_id, int limit, json_t **out)
{
	static const char sql[] =
	        "SELECT id, at_ms / 1000 AS at, kind, exit_status, method, body, response_ms FROM monitor_pings "
	        "WHERE monitor_id = ?1 AND (?3 <= 0 OR id < ?3) ORDER BY id DESC LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || db_bind_int64(st, 1, monitor_id) || db_bind_int(st, 2, limit) || db_bind_int64(st, 3, before_id))
		return db_bind_failed(db, st, "monitors_pings_json");
	return db_rows_json(db, st, out);
}

/* The ids of one query "?1 = now, ?2 = limit", in its order. */
static enum rc due_ids(struct db *db, const char *sql, const char *what, int64_t now_ms, int64_t *ids, size_t max,
                       size_t *n)
{
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_OK;

	*n = 0;
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, (int64_t)max))
		return db_bind_failed(db, st, what);
	while (*n < max && (rc = db_step_row(db, st)) == RC_OK)
		ids[(*n)++] = db_column_int64(st, 0);
	db_reset(st);
	return rc == RC_NOT_FOUND || rc == RC_OK ? RC_OK : rc;
}

enum rc monitors_due(struct db *db, int64_t now_ms, int64_t *ids, size_t max, size_t *n)
{
	static const char sql[] =
	        "SELECT m.id FROM monitors m WHERE m.next_ms IS NOT NULL AND m.next_ms <= ?1 AND m.paused = 0 "
	        "AND m.kind = 'heartbeat' "
	        "AND NOT EXISTS (SELECT 1 FROM monitor_pings p WHERE p.monitor_id = m.id AND p.folded = 0) "
	        "ORDER BY m.next_ms LIMIT ?2";
	return due_ids(db, sql, "monitors_due", now_ms, ids, max, n);
}

enum rc monitors_checks_due(struct db *db, int64_t now_ms, int64_t *ids, size_t max, size_t *n)
{
	static const char sql[] = "SELECT id FROM monitors WHERE next_ms IS NOT NULL AND next_ms <= ?1 AND paused = 0 "
	                          "AND kind IN ('http', 'tcp') ORDER BY next_ms LIMIT ?2";
	return due_ids(db, sql, "monitors_checks_due", now_ms, ids, max, n);
}

enum rc monitors_result_add(struct db *db, int64_t monitor_id, int64_t at_ms, const char *kind, const char *method,
                            const char *error, int64_t response_ms)
{
	static const char sql[] =
	        "INSERT INTO monitor_pings (monitor_id, at_ms, kind, method, body, response_ms, folded) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)";
	struct monitor_ping p = {0};
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, monitor_id) || db_bind_int64(st, 2, at_ms) ||
	    db_bind_text(st, 3, kind, -1, DB_STATIC) || db_bind_text(st, 4, method, -1, DB_STATIC) ||
	    db_bind_opt_text(st, 5, error) ||
	    (response_ms < 0 ? db_bind_null(st, 6) : db_bind_int64(st, 6, response_ms)))
		return db_bind_failed(db, st, "monitors_result_add");
	rc = db_step_done(db, st, "monitors_result_add");
	if (rc != RC_OK)
		return rc;
	p.monitor_id = monitor_id;
	return trim(db, &p);
}
