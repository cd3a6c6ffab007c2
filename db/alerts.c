/*
 * db/alerts.c — statements on alerts and call_attempts, and the reads of the outbox rows an
 * alert owns (see db/alerts.h). No transaction is opened here: the state machine in
 * server/pager/alerts.c and server/pager/escalation.c wraps each change in its own short one.
 */
#include "alerts.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static void copy_col(struct db_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char *s = db_column_text(st, col);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static int bind_opt_id(struct db_stmt *st, int i, int64_t id)
{
	return id > 0 ? db_bind_int64(st, i, id) : db_bind_null(st, i);
}

/* ---------------------------------------------------------------- alerts */

enum rc alerts_find_open(struct db *db, const char *dedup_key, int64_t *id)
{
	static const char sql[] =
	        "SELECT id FROM alerts WHERE dedup_key = ?1 AND status IN ('triggered', 'acknowledged')";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || db_bind_text(st, 1, dedup_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "alerts_find_open");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*id = db_column_int64(st, 0);
	}
	db_reset(st);
	return rc;
}

enum rc alerts_insert(struct db *db, const char *summary, const char *details, const char *severity, const char *source,
                      const char *dedup_key, int64_t now, int64_t *id)
{
	static const char sql[] =
	        "INSERT INTO alerts (summary, details, severity, source, dedup_key, created_at, updated_at) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || db_bind_text(st, 1, summary, -1, DB_STATIC) || db_bind_opt_text(st, 2, details) ||
	    db_bind_opt_text(st, 3, severity) || db_bind_opt_text(st, 4, source) ||
	    db_bind_opt_text(st, 5, dedup_key) || db_bind_int64(st, 6, now))
		return db_bind_failed(db, st, "alerts_insert");
	rc = db_step_done(db, st, "alerts_insert");
	if (rc == RC_OK)
		*id = db_last_id(db);
	return rc;
}

enum rc alerts_bump(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE alerts SET hits = hits + 1, updated_at = ?2 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_bump");
	return db_step_done(db, st, "alerts_bump");
}

enum rc alerts_load(struct db *db, int64_t id, struct alerts_row *out)
{
	static const char sql[] = "SELECT id, status, summary, step, round, coalesce(step_deadline, 0), "
	                          "coalesce(acked_by, 0), coalesce(severity, ''), unpaged_reason IS NOT NULL, "
	                          "coalesce(runbook_url, '') FROM alerts WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(out, 0, sizeof *out);
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_load");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		out->id = db_column_int64(st, 0);
		copy_col(st, 1, out->status, sizeof out->status);
		copy_col(st, 2, out->summary, sizeof out->summary);
		out->step = db_column_int(st, 3);
		out->round = db_column_int(st, 4);
		out->step_deadline = db_column_int64(st, 5);
		out->acked_by = db_column_int64(st, 6);
		copy_col(st, 7, out->severity, sizeof out->severity);
		out->unpaged = db_column_int(st, 8) != 0;
		if (db_column_bytes(st, 9) <= ALERTS_RUNBOOK_MAX) /* a cut link is no link */
			copy_col(st, 9, out->runbook_url, sizeof out->runbook_url);
	}
	db_reset(st);
	return rc;
}

/* Collects the ids of a bound statement; resets it. */
static enum rc collect_ids(struct db *db, struct db_stmt *st, int64_t *ids, size_t max, size_t *n)
{
	int s;

	*n = 0;
	while (*n < max && (s = db_step(st)) == DB_ROW)
		ids[(*n)++] = db_column_int64(st, 0);
	if (*n == max)
		s = DB_DONE;
	db_reset(st);
	return s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc alerts_due(struct db *db, int64_t now, int64_t *ids, size_t max, size_t *n)
{
	/*
	 * Two index-served reads instead of a scan of every open alert: those not paged yet (step
	 * -1, the only negative step; partial index alerts_open_step of migration 0111) and those
	 * whose step deadline passed (alerts_status on status, step_deadline). Each gives its
	 * oldest max; merged by id, the first max of both are the first max of all that is due.
	 */
	static const char unpaged[] = "SELECT id FROM alerts WHERE status = 'triggered' AND step = -1 "
	                              "AND coalesce(recheck_at, 0) <= ?1 ORDER BY id LIMIT ?2";
	static const char late[] =
	        "SELECT id FROM alerts WHERE status = 'triggered' AND step_deadline <= ?1 ORDER BY id LIMIT ?2";
	const char *const sql[2] = {unpaged, late};
	int64_t *got[2] = {NULL, NULL};
	size_t k[2] = {0, 0}, i = 0, j = 0, q;
	enum rc rc = RC_OK;

	*n = 0;
	if (max == 0)
		return RC_OK;
	got[0] = malloc(2 * max * sizeof(int64_t));
	if (!got[0])
		return RC_INTERNAL;
	got[1] = got[0] + max;
	for (q = 0; q < 2 && rc == RC_OK; q++) {
		struct db_stmt *st = db_prepare(db, sql[q]);

		if (!st || db_bind_int64(st, 1, now) || db_bind_int64(st, 2, (int64_t)max))
			rc = db_bind_failed(db, st, "alerts_due");
		else
			rc = collect_ids(db, st, got[q], max, &k[q]);
	}
	while (rc == RC_OK && *n < max && (i < k[0] || j < k[1])) {
		int64_t next;

		if (j >= k[1] || (i < k[0] && got[0][i] <= got[1][j]))
			next = got[0][i++];
		else
			next = got[1][j++];
		if (*n == 0 || ids[*n - 1] != next)
			ids[(*n)++] = next;
	}
	free(got[0]);
	if (rc != RC_OK)
		*n = 0;
	return rc;
}

enum rc alerts_stalled(struct db *db, int64_t *ids, size_t max, size_t *n)
{
	static const char sql[] =
	        "SELECT a.id FROM alerts a JOIN call_attempts c ON c.alert_id = a.id AND c.round = a.round "
	        "AND c.step = a.step LEFT JOIN outbox o ON o.id = c.outbox_id "
	        "WHERE a.status = 'triggered' AND a.step >= 0 AND (c.ended_at IS NOT NULL "
	        "OR o.status IN ('failed', 'canceled', 'undelivered', 'completed', 'busy', 'no-answer')) "
	        "ORDER BY a.id LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || db_bind_int64(st, 1, (int64_t)max))
		return db_bind_failed(db, st, "alerts_stalled");
	return collect_ids(db, st, ids, max, n);
}

enum rc alerts_set_step(struct db *db, int64_t id, int round, int step, int64_t deadline, int64_t now)
{
	static const char sql[] =
	        "UPDATE alerts SET round = ?2, step = ?3, step_deadline = ?4, updated_at = ?5, unpaged_reason = NULL, "
	        "recheck_at = NULL WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, round) || db_bind_int(st, 3, step) ||
	    (deadline ? db_bind_int64(st, 4, deadline) : db_bind_null(st, 4)) || db_bind_int64(st, 5, now))
		return db_bind_failed(db, st, "alerts_set_step");
	return db_step_done(db, st, "alerts_set_step");
}

enum rc alerts_set_unpaged(struct db *db, int64_t id, const char *reason, int64_t recheck_at, int64_t now, bool *first)
{
	static const char sel[] = "SELECT unpaged_reason IS NULL FROM alerts WHERE id = ?1";
	static const char upd[] = "UPDATE alerts SET unpaged_reason = ?2, recheck_at = ?3, updated_at = ?4 "
	                          "WHERE id = ?1 AND status = 'triggered'";
	struct db_stmt *st = db_prepare(db, sel);
	bool was_null = false;
	enum rc rc;

	if (first)
		*first = false;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_set_unpaged");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		was_null = db_column_int(st, 0) != 0;
	db_reset(st);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, upd);
	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, reason, -1, DB_STATIC) ||
	    (recheck_at ? db_bind_int64(st, 3, recheck_at) : db_bind_null(st, 3)) || db_bind_int64(st, 4, now))
		return db_bind_failed(db, st, "alerts_set_unpaged");
	rc = db_step_done(db, st, "alerts_set_unpaged");
	if (rc == RC_OK && first)
		*first = was_null && db_changes(db) == 1;
	return rc;
}

enum rc alerts_has_attempts(struct db *db, int64_t id, bool *any)
{
	static const char sql[] = "SELECT 1 FROM call_attempts WHERE alert_id = ?1 LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*any = false;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_has_attempts");
	s = db_step(st);
	*any = s == DB_ROW;
	db_reset(st);
	return s == DB_ROW || s == DB_DONE ? RC_OK : db_rc(db);
}

/* Runs an UPDATE guarded by the current status: RC_CONFLICT when no row changed. */
static enum rc transition(struct db *db, struct db_stmt *st, const char *what)
{
	enum rc rc = db_step_done(db, st, what);

	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_CONFLICT;
	return rc;
}

enum rc alerts_set_exhausted(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE alerts SET status = 'exhausted', step_deadline = NULL, updated_at = ?2 "
	                          "WHERE id = ?1 AND status = 'triggered'";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_set_exhausted");
	return transition(db, st, "alerts_set_exhausted");
}

enum rc alerts_set_acked(struct db *db, int64_t id, int64_t person_id, const char *via, int64_t now)
{
	static const char sql[] =
	        "UPDATE alerts SET status = 'acknowledged', acked_by = ?2, acked_via = ?3, acked_at = ?4, "
	        "step_deadline = NULL, updated_at = ?4 WHERE id = ?1 AND status IN ('triggered', 'exhausted')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || bind_opt_id(st, 2, person_id) ||
	    db_bind_text(st, 3, via, -1, DB_STATIC) || db_bind_int64(st, 4, now))
		return db_bind_failed(db, st, "alerts_set_acked");
	return transition(db, st, "alerts_set_acked");
}

enum rc alerts_set_resolved(struct db *db, int64_t id, const char *via, int64_t now)
{
	static const char sql[] =
	        "UPDATE alerts SET status = 'resolved', resolved_at = ?3, resolved_via = ?2, step_deadline = NULL, "
	        "updated_at = ?3 WHERE id = ?1 AND status IN ('triggered', 'acknowledged', 'exhausted')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, via, -1, DB_STATIC) || db_bind_int64(st, 3, now))
		return db_bind_failed(db, st, "alerts_set_resolved");
	return transition(db, st, "alerts_set_resolved");
}

enum rc alerts_newest_for(struct db *db, int64_t person_id, const char *phone, int64_t *id)
{
	static const char sql[] =
	        "SELECT a.id FROM alerts a WHERE a.status IN ('triggered', 'exhausted') AND ("
	        "EXISTS (SELECT 1 FROM call_attempts c WHERE c.alert_id = a.id AND c.person_id = ?1) OR "
	        "EXISTS (SELECT 1 FROM outbox o WHERE o.owner_type = 'alert' AND o.owner_id = a.id "
	        "AND o.to_number = ?2) OR EXISTS (SELECT 1 FROM page_texts pt JOIN outbox o ON o.id = pt.outbox_id "
	        "WHERE pt.alert_id = a.id AND o.to_number = ?2)) ORDER BY a.id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || bind_opt_id(st, 1, person_id) || db_bind_opt_text(st, 2, phone))
		return db_bind_failed(db, st, "alerts_newest_for");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*id = db_column_int64(st, 0);
	}
	db_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- JSON views */

enum rc alerts_json(struct db *db, int64_t id, json_t **out)
{
	static const char sql[] =
	        "SELECT a.id, a.status, a.summary, a.details, a.severity, a.source, a.dedup_key, a.hits, "
	        "a.created_at, a.updated_at, a.round, a.step, a.step_deadline, a.acked_by, p.name AS acked_by_name, "
	        "a.acked_via, a.acked_at, a.resolved_at, a.resolved_via, a.unpaged_reason "
	        "FROM alerts a LEFT JOIN people p ON p.id = a.acked_by WHERE a.id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*out = NULL;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_json");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*out = db_row_json(st);
		rc = *out ? RC_OK : RC_INTERNAL;
	}
	db_reset(st);
	return rc;
}

enum rc alerts_detail_json(struct db *db, int64_t id, json_t **out)
{
	static const char attempts[] =
	        "SELECT c.id, c.round, c.step, c.person_id, p.name AS person_name, c.phone, c.status, c.outcome, "
	        "c.answered_by, c.digits, c.call_sid, c.outbox_id, c.created_at, c.read_at, c.ended_at "
	        "FROM call_attempts c LEFT JOIN people p ON p.id = c.person_id WHERE c.alert_id = ?1 "
	        "ORDER BY c.round, c.step";
	static const char timeline[] =
	        "SELECT o.id, o.kind, o.class, o.to_number AS \"to\", o.status, o.sid, o.error_code, o.error_message, "
	        "o.encoding, o.segments, o.duration_s, o.tries, o.created_at, o.sent_at, o.updated_at, "
	        "c.id AS attempt_id, c.round, c.step, c.person_id, c.status AS call_status, c.outcome, c.answered_by, "
	        "c.digits, c.ended_at "
	        "FROM outbox o LEFT JOIN call_attempts c ON c.outbox_id = o.id AND c.alert_id = ?1 "
	        "WHERE (o.owner_type = 'alert' AND o.owner_id = ?1) OR o.id IN (SELECT outbox_id FROM page_texts "
	        "WHERE alert_id = ?1) OR o.id IN (SELECT outbox_id FROM call_attempts WHERE alert_id = ?1) "
	        "ORDER BY o.id";
	json_t *a = NULL, *list = NULL;
	struct db_stmt *st;
	enum rc rc;

	*out = NULL;
	rc = alerts_json(db, id, &a);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, attempts);
	if (!st || db_bind_int64(st, 1, id)) {
		rc = db_bind_failed(db, st, "alerts_detail_json");
		goto out;
	}
	rc = db_rows_json(db, st, &list);
	if (rc != RC_OK)
		goto out;
	json_object_set_new(a, "attempts", list);
	st = db_prepare(db, timeline);
	if (!st || db_bind_int64(st, 1, id)) {
		rc = db_bind_failed(db, st, "alerts_detail_json");
		goto out;
	}
	rc = db_rows_json(db, st, &list);
	if (rc != RC_OK)
		goto out;
	json_object_set_new(a, "timeline", list);
	*out = a;
	a = NULL;
out:
	json_decref(a);
	return rc;
}

enum rc alerts_list_json(struct db *db, const struct alerts_filter *f, json_t **out)
{
	/* Newest first by id, so ?before=<id> pages without gaps while alerts keep arriving. A person
	 * is on an alert when they acknowledged it, were called for it or were texted its page. */
	static const char sql[] =
	        "SELECT a.id, a.status, a.summary, a.severity, a.source, a.dedup_key, a.hits, a.created_at, "
	        "a.updated_at, a.round, a.step, a.acked_by, p.name AS acked_by_name, a.acked_via, a.acked_at, "
	        "a.resolved_at, a.resolved_via, a.unpaged_reason FROM alerts a LEFT JOIN people p ON p.id = a.acked_by "
	        "WHERE (?2 <= 0 OR a.id < ?2) AND (CAST(?3 AS TEXT) IS NULL OR a.status = ?3) "
	        "AND (CAST(?4 AS TEXT) IS NULL OR a.severity = ?4) "
	        "AND (?5 <= 0 OR a.created_at >= ?5) AND (?6 <= 0 OR a.created_at < ?6) "
	        "AND (?7 <= 0 OR a.acked_by = ?7 "
	        "OR EXISTS (SELECT 1 FROM call_attempts c WHERE c.alert_id = a.id AND c.person_id = ?7) "
	        "OR EXISTS (SELECT 1 FROM page_texts t JOIN outbox o ON o.id = t.outbox_id "
	        "JOIN people q ON q.id = ?7 AND (o.to_number = q.phone OR o.to_number = 'whatsapp:' || q.phone) "
	        "WHERE t.alert_id = a.id)) "
	        "ORDER BY a.id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	int limit = f->limit < 1 ? 1 : f->limit > ALERTS_LIST_MAX ? ALERTS_LIST_MAX : f->limit;

	*out = NULL;
	if (!st || db_bind_int(st, 1, limit) || db_bind_int64(st, 2, f->before_id) ||
	    db_bind_opt_text(st, 3, f->status) || db_bind_opt_text(st, 4, f->severity) ||
	    db_bind_int64(st, 5, f->from) || db_bind_int64(st, 6, f->to) || db_bind_int64(st, 7, f->person_id))
		return db_bind_failed(db, st, "alerts_list_json");
	return db_rows_json(db, st, out);
}

/* ---------------------------------------------------------------- call attempts */

#define ATTEMPT_COLS                                                                                                   \
	"SELECT id, alert_id, round, step, coalesce(person_id, 0), phone, status, coalesce(outcome, ''), "             \
	"coalesce(answered_by, ''), coalesce(digits, ''), coalesce(outbox_id, 0), coalesce(ended_at, 0) "              \
	"FROM call_attempts "

static void read_attempt(struct db_stmt *st, struct alerts_attempt *out)
{
	out->id = db_column_int64(st, 0);
	out->alert_id = db_column_int64(st, 1);
	out->round = db_column_int(st, 2);
	out->step = db_column_int(st, 3);
	out->person_id = db_column_int64(st, 4);
	copy_col(st, 5, out->phone, sizeof out->phone);
	copy_col(st, 6, out->status, sizeof out->status);
	copy_col(st, 7, out->outcome, sizeof out->outcome);
	copy_col(st, 8, out->answered_by, sizeof out->answered_by);
	copy_col(st, 9, out->digits, sizeof out->digits);
	out->outbox_id = db_column_int64(st, 10);
	out->ended_at = db_column_int64(st, 11);
}

/* Steps a bound attempt SELECT once: RC_OK with *out, RC_NOT_FOUND, or a db error. */
static enum rc one_attempt(struct db *db, struct db_stmt *st, struct alerts_attempt *out)
{
	enum rc rc;
	int s = db_step(st);

	memset(out, 0, sizeof *out);
	if (s == DB_ROW) {
		read_attempt(st, out);
		rc = RC_OK;
	} else {
		rc = s == DB_DONE ? RC_NOT_FOUND : db_rc(db);
	}
	db_reset(st);
	return rc;
}

enum rc alerts_attempt_load(struct db *db, int64_t id, struct alerts_attempt *out)
{
	static const char sql[] = ATTEMPT_COLS "WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_attempt_load");
	return one_attempt(db, st, out);
}

enum rc alerts_attempt_at(struct db *db, int64_t alert_id, int round, int step, struct alerts_attempt *out)
{
	static const char sql[] = ATTEMPT_COLS "WHERE alert_id = ?1 AND round = ?2 AND step = ?3";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, alert_id) || db_bind_int(st, 2, round) || db_bind_int(st, 3, step))
		return db_bind_failed(db, st, "alerts_attempt_at");
	return one_attempt(db, st, out);
}

enum rc alerts_attempt_ensure(struct db *db, int64_t alert_id, int round, int step, int64_t person_id,
                              const char *phone, int64_t now, struct alerts_attempt *out, bool *created)
{
	static const char sql[] = "INSERT INTO call_attempts (alert_id, round, step, person_id, phone, created_at) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (alert_id, round, step) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*created = false;
	if (!st || db_bind_int64(st, 1, alert_id) || db_bind_int(st, 2, round) || db_bind_int(st, 3, step) ||
	    bind_opt_id(st, 4, person_id) || db_bind_text(st, 5, phone, -1, DB_STATIC) || db_bind_int64(st, 6, now))
		return db_bind_failed(db, st, "alerts_attempt_ensure");
	rc = db_step_done(db, st, "alerts_attempt_ensure");
	if (rc != RC_OK)
		return rc;
	*created = db_changes(db) == 1;
	return alerts_attempt_at(db, alert_id, round, step, out);
}

enum rc alerts_attempt_set_outbox(struct db *db, int64_t id, int64_t outbox_id)
{
	static const char sql[] = "UPDATE call_attempts SET outbox_id = ?2 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, outbox_id))
		return db_bind_failed(db, st, "alerts_attempt_set_outbox");
	return db_step_done(db, st, "alerts_attempt_set_outbox");
}

enum rc alerts_attempt_update(struct db *db, int64_t id, const char *status, const char *answered_by,
                              const char *call_sid, bool ended, int64_t now)
{
	static const char sql[] = "UPDATE call_attempts SET "
	                          "status = CASE WHEN ended_at IS NULL THEN coalesce(?2, status) ELSE status END, "
	                          "answered_by = coalesce(?3, answered_by), call_sid = coalesce(?4, call_sid), "
	                          "ended_at = CASE WHEN ?5 THEN coalesce(ended_at, ?6) ELSE ended_at END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_opt_text(st, 2, status) ||
	    db_bind_opt_text(st, 3, answered_by) || db_bind_opt_text(st, 4, call_sid) || db_bind_int(st, 5, ended) ||
	    db_bind_int64(st, 6, now))
		return db_bind_failed(db, st, "alerts_attempt_update");
	return db_step_done(db, st, "alerts_attempt_update");
}

enum rc alerts_attempt_outcome(struct db *db, int64_t id, const char *outcome, const char *digits, bool overwrite)
{
	static const char sql[] =
	        "UPDATE call_attempts SET outcome = CASE WHEN ?4 OR outcome IS NULL THEN ?2 ELSE outcome END, "
	        "digits = coalesce(?3, digits) WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, outcome, -1, DB_STATIC) ||
	    db_bind_opt_text(st, 3, digits) || db_bind_int(st, 4, overwrite))
		return db_bind_failed(db, st, "alerts_attempt_outcome");
	return db_step_done(db, st, "alerts_attempt_outcome");
}

enum rc alerts_cancel_calls(struct db *db, int64_t id, int64_t now, int *n)
{
	/* Attempts first (they are found through their still-pending outbox rows), then the rows. */
	static const char attempts[] =
	        "UPDATE call_attempts SET status = 'canceled', outcome = coalesce(outcome, 'canceled'), ended_at = ?2 "
	        "WHERE alert_id = ?1 AND ended_at IS NULL AND outbox_id IN (SELECT id FROM outbox "
	        "WHERE status IN ('pending', 'retry'))";
	static const char rows[] =
	        "UPDATE outbox SET status = 'canceled', updated_at = ?2 WHERE kind = 'call' "
	        "AND id IN (SELECT outbox_id FROM call_attempts WHERE alert_id = ?1) AND status IN ('pending', "
	        "'retry') "
	        "AND NOT EXISTS (SELECT 1 FROM call_attempts c WHERE c.outbox_id = outbox.id AND c.ended_at IS NULL)";
	static const char texts[] =
	        "UPDATE outbox SET status = 'canceled', updated_at = ?2 WHERE status IN ('pending', 'retry') "
	        "AND id IN (SELECT outbox_id FROM page_texts WHERE alert_id = ?1) AND NOT EXISTS (SELECT 1 FROM "
	        "page_texts pt JOIN alerts a ON a.id = pt.alert_id WHERE pt.outbox_id = outbox.id "
	        "AND a.status IN ('triggered', 'exhausted'))";
	struct db_stmt *st = db_prepare(db, attempts);
	enum rc rc;

	if (n)
		*n = 0;
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_cancel_calls");
	rc = db_step_done(db, st, "alerts_cancel_calls");
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, rows);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_cancel_calls");
	rc = db_step_done(db, st, "alerts_cancel_calls");
	if (rc == RC_OK && n)
		*n = db_changes(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, texts);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_cancel_calls");
	return db_step_done(db, st, "alerts_cancel_calls");
}

enum rc alerts_attempt_call_status(struct db *db, int64_t attempt_id, char status[16])
{
	static const char sql[] =
	        "SELECT o.status FROM call_attempts c JOIN outbox o ON o.id = c.outbox_id WHERE c.id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	status[0] = '\0';
	if (!st || db_bind_int64(st, 1, attempt_id))
		return db_bind_failed(db, st, "alerts_attempt_call_status");
	s = db_step(st);
	if (s == DB_ROW)
		copy_col(st, 0, status, 16);
	db_reset(st);
	return s == DB_ROW || s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc alerts_attempt_call(struct db *db, int64_t attempt_id, char status[16], int64_t *accepted_at)
{
	static const char sql[] =
	        "SELECT o.status, coalesce(o.accepted_at_ms / 1000, o.sent_at, 0) FROM call_attempts c "
	        "JOIN outbox o ON o.id = c.outbox_id WHERE c.id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	status[0] = '\0';
	*accepted_at = 0;
	if (!st || db_bind_int64(st, 1, attempt_id))
		return db_bind_failed(db, st, "alerts_attempt_call");
	s = db_step(st);
	if (s == DB_ROW) {
		copy_col(st, 0, status, 16);
		*accepted_at = db_column_int64(st, 1);
	}
	db_reset(st);
	return s == DB_ROW || s == DB_DONE ? RC_OK : db_rc(db);
}

/* ---------------------------------------------------------------- bundles */

enum rc alerts_joinable_call(struct db *db, const char *phone, int64_t *outbox_id, char status[16])
{
	static const char sql[] =
	        "SELECT o.id, o.status FROM outbox o WHERE o.to_number = ?1 AND o.kind = 'call' AND o.class = 'alert' "
	        "AND o.status IN ('pending', 'retry', 'sending', 'queued', 'initiated', 'ringing') "
	        "AND EXISTS (SELECT 1 FROM call_attempts c WHERE c.outbox_id = o.id AND c.ended_at IS NULL) "
	        "AND NOT EXISTS (SELECT 1 FROM call_attempts c WHERE c.outbox_id = o.id AND (c.read_at IS NOT NULL "
	        "OR c.status IN ('in-progress', 'completed'))) "
	        "AND (SELECT count(*) FROM call_attempts c WHERE c.outbox_id = o.id) < ?2 ORDER BY o.id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*outbox_id = 0;
	status[0] = '\0';
	if (!st || db_bind_text(st, 1, phone, -1, DB_STATIC) || db_bind_int(st, 2, ALERTS_BUNDLE_MAX))
		return db_bind_failed(db, st, "alerts_joinable_call");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*outbox_id = db_column_int64(st, 0);
		copy_col(st, 1, status, 16);
	}
	db_reset(st);
	return rc;
}

enum rc alerts_on_call(struct db *db, int64_t outbox_id, struct alerts_on_call *out, size_t max, size_t *n)
{
	static const char sql[] =
	        "SELECT c.id, c.alert_id, c.round, c.step, coalesce(c.person_id, 0), a.status, a.summary, "
	        "c.read_at IS NOT NULL, c.ended_at IS NOT NULL FROM call_attempts c JOIN alerts a ON a.id = c.alert_id "
	        "WHERE c.outbox_id = ?1 ORDER BY c.id";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*n = 0;
	if (!st || db_bind_int64(st, 1, outbox_id))
		return db_bind_failed(db, st, "alerts_on_call");
	while (*n < max && (s = db_step(st)) == DB_ROW) {
		struct alerts_on_call *c = &out[(*n)++];

		c->attempt_id = db_column_int64(st, 0);
		c->alert_id = db_column_int64(st, 1);
		c->round = db_column_int(st, 2);
		c->step = db_column_int(st, 3);
		c->person_id = db_column_int64(st, 4);
		copy_col(st, 5, c->status, sizeof c->status);
		copy_col(st, 6, c->summary, sizeof c->summary);
		c->read = db_column_int(st, 7) != 0;
		c->ended = db_column_int(st, 8) != 0;
	}
	if (*n == max)
		s = DB_DONE;
	db_reset(st);
	return s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc alerts_attempt_read(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] =
	        "UPDATE call_attempts SET read_at = coalesce(read_at, ?2), "
	        "status = CASE WHEN ended_at IS NULL THEN 'in-progress' ELSE status END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "alerts_attempt_read");
	return db_step_done(db, st, "alerts_attempt_read");
}

enum rc alerts_call_wanted(struct db *db, int64_t outbox_id, bool *wanted)
{
	static const char sql[] = "SELECT 1 FROM call_attempts c JOIN alerts a ON a.id = c.alert_id "
	                          "WHERE c.outbox_id = ?1 AND c.ended_at IS NULL AND a.status = 'triggered' LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*wanted = false;
	if (!st || db_bind_int64(st, 1, outbox_id))
		return db_bind_failed(db, st, "alerts_call_wanted");
	s = db_step(st);
	*wanted = s == DB_ROW;
	db_reset(st);
	return s == DB_ROW || s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc alerts_open_page_text(struct db *db, const char *kind, const char *phone, int64_t *outbox_id)
{
	static const char sql[] =
	        "SELECT o.id FROM outbox o WHERE o.to_number = ?2 AND o.kind = ?1 AND o.class = 'alert' "
	        "AND o.status IN ('pending', 'retry') AND EXISTS (SELECT 1 FROM page_texts pt WHERE pt.outbox_id = "
	        "o.id) "
	        "AND (SELECT count(*) FROM page_texts pt WHERE pt.outbox_id = o.id) < ?3 ORDER BY o.id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*outbox_id = 0;
	if (!st || db_bind_text(st, 1, kind, -1, DB_STATIC) || db_bind_text(st, 2, phone, -1, DB_STATIC) ||
	    db_bind_int(st, 3, ALERTS_BUNDLE_MAX))
		return db_bind_failed(db, st, "alerts_open_page_text");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*outbox_id = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

enum rc alerts_page_text_link(struct db *db, int64_t outbox_id, int64_t alert_id)
{
	static const char sql[] = "INSERT INTO page_texts (outbox_id, alert_id) VALUES (?1, ?2) "
	                          "ON CONFLICT (outbox_id, alert_id) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, outbox_id) || db_bind_int64(st, 2, alert_id))
		return db_bind_failed(db, st, "alerts_page_text_link");
	return db_step_done(db, st, "alerts_page_text_link");
}

enum rc alerts_page_text_alerts(struct db *db, int64_t outbox_id, int64_t *ids,
                                char (*summaries)[ALERTS_SUMMARY_MAX + 1], size_t max, size_t *n)
{
	static const char sql[] = "SELECT a.id, a.summary FROM page_texts pt JOIN alerts a ON a.id = pt.alert_id "
	                          "WHERE pt.outbox_id = ?1 AND a.status IN ('triggered', 'exhausted') ORDER BY a.id";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*n = 0;
	if (!st || db_bind_int64(st, 1, outbox_id))
		return db_bind_failed(db, st, "alerts_page_text_alerts");
	while (*n < max && (s = db_step(st)) == DB_ROW) {
		ids[*n] = db_column_int64(st, 0);
		copy_col(st, 1, summaries[*n], sizeof summaries[*n]);
		(*n)++;
	}
	if (*n == max)
		s = DB_DONE;
	db_reset(st);
	return s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc alerts_page_text_update(struct db *db, int64_t outbox_id, const char *body, int64_t owner_id)
{
	static const char sql[] = "UPDATE outbox SET body = ?2, owner_id = ?3, encoding = NULL, segments = NULL "
	                          "WHERE id = ?1 AND status IN ('pending', 'retry')";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, outbox_id) || db_bind_text(st, 2, body, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, owner_id))
		return db_bind_failed(db, st, "alerts_page_text_update");
	return transition(db, st, "alerts_page_text_update");
}

enum rc alerts_page_texts_stale(struct db *db, int64_t *ids, size_t max, size_t *n)
{
	static const char sql[] =
	        "SELECT DISTINCT o.id FROM outbox o JOIN page_texts pt ON pt.outbox_id = o.id JOIN alerts a "
	        "ON a.id = pt.alert_id WHERE o.status IN ('pending', 'retry') AND o.kind IN ('sms', 'whatsapp') "
	        "AND o.class = 'alert' AND a.status IN ('acknowledged', 'resolved') "
	        "ORDER BY o.id LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || db_bind_int64(st, 1, (int64_t)max))
		return db_bind_failed(db, st, "alerts_page_texts_stale");
	return collect_ids(db, st, ids, max, n);
}

enum rc alerts_page_text_prune(struct db *db, int64_t outbox_id)
{
	static const char sql[] = "DELETE FROM page_texts WHERE outbox_id = ?1 AND alert_id IN "
	                          "(SELECT id FROM alerts WHERE status IN ('acknowledged', 'resolved'))";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, outbox_id))
		return db_bind_failed(db, st, "alerts_page_text_prune");
	return db_step_done(db, st, "alerts_page_text_prune");
}

enum rc alerts_open_for(struct db *db, int64_t person_id, const char *phone, int64_t *ids, size_t max, size_t *n)
{
	static const char sql[] =
	        "SELECT a.id FROM alerts a WHERE a.status IN ('triggered', 'exhausted') AND ("
	        "EXISTS (SELECT 1 FROM call_attempts c WHERE c.alert_id = a.id AND c.person_id = ?1) OR "
	        "EXISTS (SELECT 1 FROM outbox o WHERE o.owner_type = 'alert' AND o.owner_id = a.id "
	        "AND o.to_number = ?2) OR EXISTS (SELECT 1 FROM page_texts pt JOIN outbox o ON o.id = pt.outbox_id "
	        "WHERE pt.alert_id = a.id AND o.to_number = ?2)) ORDER BY a.id DESC LIMIT ?3";
	struct db_stmt *st = db_prepare(db, sql);

	*n = 0;
	if (!st || bind_opt_id(st, 1, person_id) || db_bind_opt_text(st, 2, phone) ||
	    db_bind_int64(st, 3, (int64_t)max))
		return db_bind_failed(db, st, "alerts_open_for");
	return collect_ids(db, st, ids, max, n);
}

/* ---------------------------------------------------------------- texts */

struct texted {
	char kind[16];
	char to[40];
	bool opted_out;
};

enum rc alerts_texted(struct db *db, int64_t id,
                      void (*fn)(void *ctx, const char *kind, const char *to, bool opted_out), void *ctx)
{
	static const char sql[] =
	        "SELECT o.kind, o.to_number, coalesce((SELECT max(p.sms_opt_out) FROM people p "
	        "WHERE p.phone = o.to_number), 0) FROM outbox o WHERE ((o.owner_type = 'alert' AND o.owner_id = ?1) "
	        "OR o.id IN (SELECT outbox_id FROM page_texts WHERE alert_id = ?1)) AND o.status <> 'canceled' "
	        "AND o.class = 'alert' AND o.kind IN ('sms', 'whatsapp') GROUP BY o.kind, o.to_number ORDER BY "
	        "min(o.id)";
	struct db_stmt *st = db_prepare(db, sql);
	struct texted *list = NULL, *grown;
	size_t n = 0, alloc = 0, i;
	enum rc rc = RC_OK;
	int s;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "alerts_texted");
	/* Collected first: fn usually inserts into the outbox, which this statement reads. */
	while ((s = db_step(st)) == DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			grown = realloc(list, alloc * sizeof *list);
			if (!grown) {
				rc = RC_INTERNAL;
				break;
			}
			list = grown;
		}
		copy_col(st, 0, list[n].kind, sizeof list[n].kind);
		copy_col(st, 1, list[n].to, sizeof list[n].to);
		list[n].opted_out = db_column_int(st, 2) != 0;
		n++;
	}
	if (rc == RC_OK && s != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	if (rc == RC_OK)
		for (i = 0; i < n; i++)
			fn(ctx, list[i].kind, list[i].to, list[i].opted_out);
	free(list);
	return rc;
}
