/*
 * db/intake.c — statements on what alert intake keeps beyond the alert row: alerts.runbook_url,
 * alerts.test, alerts.group_key and the alert_members table (see db/intake.h). No transaction
 * is opened here: server/api/api_alerts.c wraps each payload in one.
 */
#include "intake.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

enum rc intake_set_extra(struct db *db, int64_t id, const char *runbook_url, bool test)
{
	static const char sql[] = "UPDATE alerts SET runbook_url = coalesce(runbook_url, ?2), test = CASE WHEN test > "
	                          "?3 THEN test ELSE ?3 END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_opt_text(st, 2, runbook_url) || db_bind_int(st, 3, test))
		return db_bind_failed(db, st, "intake_set_extra");
	return db_step_done(db, st, "intake_set_extra");
}

enum rc intake_find_group(struct db *db, const char *group_key, int64_t *id)
{
	static const char sql[] =
	        "SELECT id FROM alerts WHERE group_key = ?1 AND status IN ('triggered', 'acknowledged')";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || db_bind_text(st, 1, group_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "intake_find_group");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*id = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

/* Steps a bound one-id SELECT: *id, or RC_NOT_FOUND. */
static enum rc one_id(struct db *db, struct db_stmt *st, int64_t *id)
{
	enum rc rc = db_step_row(db, st);

	if (rc == RC_OK)
		*id = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

enum rc intake_find_unresolved(struct db *db, const char *dedup_key, int64_t *id)
{
	static const char sql[] = "SELECT id FROM alerts WHERE dedup_key = ?1 AND status IN ('triggered', "
	                          "'acknowledged', 'exhausted') ORDER BY id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);

	*id = 0;
	if (!st || db_bind_text(st, 1, dedup_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "intake_find_unresolved");
	return one_id(db, st, id);
}

enum rc intake_find_group_unresolved(struct db *db, const char *group_key, int64_t *id)
{
	static const char sql[] = "SELECT id FROM alerts WHERE group_key = ?1 AND status IN ('triggered', "
	                          "'acknowledged', 'exhausted') ORDER BY id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);

	*id = 0;
	if (!st || db_bind_text(st, 1, group_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "intake_find_group_unresolved");
	return one_id(db, st, id);
}

enum rc intake_set_group(struct db *db, int64_t id, const char *group_key)
{
	static const char sql[] = "UPDATE alerts SET group_key = ?2 WHERE id = ?1 AND group_key IS NULL";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, group_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "intake_set_group");
	return db_step_done(db, st, "intake_set_group");
}

enum rc intake_member_set(struct db *db, int64_t id, const char *member_key, const char *status, const char *summary,
                          const char *details, const char *runbook_url, int64_t now, bool *is_new, bool *was_firing)
{
	static const char get[] = "SELECT status FROM alert_members WHERE alert_id = ?1 AND member_key = ?2";
	static const char put[] =
	        "INSERT INTO alert_members (alert_id, member_key, status, summary, details, runbook_url, created_at, "
	        "updated_at) VALUES (?1, ?2, ?3, coalesce(?4, ''), ?5, ?6, ?7, ?7) "
	        "ON CONFLICT (alert_id, member_key) DO UPDATE SET status = excluded.status, "
	        "summary = coalesce(?4, alert_members.summary), details = coalesce(?5, alert_members.details), "
	        "runbook_url = coalesce(?6, alert_members.runbook_url), updated_at = excluded.updated_at";
	struct db_stmt *st = db_prepare(db, get);
	bool found = false, firing = false;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, member_key, -1, DB_STATIC))
		return db_bind_failed(db, st, "intake_member_set");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		found = true;
		firing = strcmp((const char *)db_column_text(st, 0), "firing") == 0;
	}
	db_reset(st);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		return rc;
	if (is_new)
		*is_new = !found;
	if (was_firing)
		*was_firing = firing;
	st = db_prepare(db, put);
	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, member_key, -1, DB_STATIC) ||
	    db_bind_text(st, 3, status, -1, DB_STATIC) || db_bind_opt_text(st, 4, summary) ||
	    db_bind_opt_text(st, 5, details) || db_bind_opt_text(st, 6, runbook_url) || db_bind_int64(st, 7, now))
		return db_bind_failed(db, st, "intake_member_set");
	return db_step_done(db, st, "intake_member_set");
}

enum rc intake_member_counts(struct db *db, int64_t id, int *firing, int *total)
{
	static const char sql[] =
	        "SELECT count(*) FILTER (WHERE status = 'firing'), count(*) FROM alert_members WHERE alert_id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*firing = *total = 0;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "intake_member_counts");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*firing = db_column_int(st, 0);
		*total = db_column_int(st, 1);
	}
	db_reset(st);
	return rc;
}

/* Appends s to b, or as many whole lines of it as fit; *full turns true when something was cut. */
static enum rc append_lines(struct buf *b, const char *s, bool *full)
{
	size_t room = b->cap - b->len, len = strlen(s);
	const char *cut;

	if (*full)
		return RC_OK;
	if (len <= room)
		return buf_append(b, s, len);
	*full = true;
	for (cut = s + room; cut > s && cut[-1] != '\n'; cut--)
		;
	return buf_append(b, s, (size_t)(cut - s));
}

enum rc intake_group_update(struct db *db, int64_t id, const char *summary, size_t max, int64_t now)
{
	static const char members[] =
	        "SELECT status, summary, coalesce(details, '') FROM alert_members WHERE alert_id = ?1 "
	        "ORDER BY status = 'resolved', id";
	static const char update[] = "UPDATE alerts SET summary = ?2, details = ?3, updated_at = ?4 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, members);
	struct buf b, line;
	bool full = false;
	int s = DB_DONE, firing, total;
	enum rc rc = intake_member_counts(db, id, &firing, &total);

	if (rc != RC_OK)
		return rc;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "intake_group_update");
	buf_init(&b, max);
	buf_init(&line, 1024);
	while (rc == RC_OK && !full && (s = db_step(st)) == DB_ROW) {
		const char *details = (const char *)db_column_text(st, 2);

		if (total == 1) { /* a group of one: the member's own details */
			rc = append_lines(&b, details, &full);
			break;
		}
		line.len = 0;
		rc = buf_printf(&line, "%s[%s] %s\n", b.len ? "\n" : "", (const char *)db_column_text(st, 0),
		                (const char *)db_column_text(st, 1));
		if (rc == RC_TOO_BIG) /* a summary is at most a few hundred bytes: cannot happen */
			rc = RC_OK;
		if (rc == RC_OK)
			rc = append_lines(&b, line.data, &full);
		if (rc == RC_OK && details[0])
			rc = append_lines(&b, details, &full);
		if (rc == RC_OK && details[0] && details[strlen(details) - 1] != '\n')
			rc = append_lines(&b, "\n", &full);
	}
	if (rc == RC_OK && !full && total != 1 && s != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	buf_release(&line);
	if (rc != RC_OK) {
		log_err("intake_group_update: %s", rc_str(rc));
		buf_release(&b);
		return rc;
	}
	st = db_prepare(db, update);
	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, summary, -1, DB_STATIC) ||
	    db_bind_opt_text(st, 3, b.data) || db_bind_int64(st, 4, now)) {
		buf_release(&b);
		return db_bind_failed(db, st, "intake_group_update");
	}
	rc = db_step_done(db, st, "intake_group_update");
	buf_release(&b);
	return rc;
}

enum rc intake_alert_json(struct db *db, int64_t id, json_t *a, bool members)
{
	static const char extra[] = "SELECT runbook_url, group_key, test FROM alerts WHERE id = ?1";
	static const char list[] =
	        "SELECT member_key AS key, status, summary, runbook_url, created_at, updated_at FROM alert_members "
	        "WHERE alert_id = ?1 ORDER BY status = 'resolved', id LIMIT ?2";
	struct db_stmt *st = db_prepare(db, extra);
	json_t *rows = NULL;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "intake_alert_json");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		const unsigned char *runbook = db_column_text(st, 0), *group = db_column_text(st, 1);

		json_object_set_new(a, "runbook_url", runbook ? json_string((const char *)runbook) : json_null());
		json_object_set_new(a, "group_key", group ? json_string((const char *)group) : json_null());
		json_object_set_new(a, "test", json_boolean(db_column_int(st, 2)));
	}
	db_reset(st);
	if (rc != RC_OK || !members)
		return rc;
	st = db_prepare(db, list);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, INTAKE_MEMBERS_MAX))
		return db_bind_failed(db, st, "intake_alert_json");
	rc = db_rows_json(db, st, &rows);
	if (rc == RC_OK)
		json_object_set_new(a, "members", rows);
	return rc;
}
