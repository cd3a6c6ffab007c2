/*
 * db/health.c — the statements behind db/health.h. Everything here reads, except the probe,
 * which rewrites the single health_probe row in a short BEGIN IMMEDIATE transaction so that a
 * database that only answers reads (read-only file system, full disk, lost file) shows up.
 */
#include "db/health.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

enum rc health_file_moved(struct db *db, char *err, size_t errlen)
{
	/* A deleted or replaced file still takes writes through the descriptor SQLite holds (WAL
	 * mode never notices): ask the VFS, or they would vanish at the next start. */
	if (db_file_moved(db)) {
		snprintf(err, errlen, "the database file was deleted or replaced while plantao had it open");
		return RC_CONFLICT;
	}
	return RC_OK;
}

enum rc health_write_probe(struct db *db, int64_t now, char *err, size_t errlen)
{
	static const char sql[] = "INSERT INTO health_probe (id, at) VALUES (1, ?1) "
	                          "ON CONFLICT (id) DO UPDATE SET at = excluded.at";
	struct db_stmt *st;
	enum rc rc;

	err[0] = '\0';
	rc = health_file_moved(db, err, errlen);
	if (rc != RC_OK) {
		log_warn("health: %s", err);
		return rc;
	}
	rc = db_begin(db);
	if (rc != RC_OK)
		goto out;
	st = db_prepare(db, sql);
	rc = RC_DB;
	if (!st || db_bind_int64(st, 1, now))
		goto out;
	rc = db_step(st) == DB_DONE ? RC_OK : db_rc(db);
	db_reset(st);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK) {
		snprintf(err, errlen, "%s", db_errmsg(db));
		log_warn("health: the database does not take writes: %s", err);
		db_rollback(db);
	}
	return rc;
}

enum rc health_outbox_waiting(struct db *db, struct health_waiting *out)
{
	static const char sql[] = "SELECT priority, count(*), min(created_at), status = 'undecided' FROM outbox "
	                          "WHERE status IN ('pending', 'retry', 'sending', 'undecided') AND kind <> 'email' "
	                          "GROUP BY priority, status = 'undecided'";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;
	int r;

	memset(out, 0, sizeof *out);
	if (!st)
		return RC_DB;
	while ((r = db_step(st)) == DB_ROW) {
		int p = db_column_int(st, 0);

		if (p < 0 || p >= HEALTH_PRIORITIES)
			p = HEALTH_PRIORITIES - 1; /* an unknown priority counts with the lowest */
		if (db_column_int(st, 3)) {
			out->undecided[p] += db_column_int64(st, 1);
			continue;
		}
		out->count[p] += db_column_int64(st, 1);
		if (!out->oldest_at[p] || db_column_int64(st, 2) < out->oldest_at[p])
			out->oldest_at[p] = db_column_int64(st, 2);
	}
	rc = r == DB_DONE ? RC_OK : db_rc(db);
	if (rc != RC_OK)
		log_err("health_outbox_waiting: %s", db_errmsg(db));
	db_reset(st);
	return rc;
}

bool health_is_auth_error(int code)
{
	/* 20003 authentication failed, 20005 account not active, 20006 access denied, 20008 test
	 * credentials used for a live resource. */
	return code == 20003 || code == 20005 || code == 20006 || code == 20008;
}

static void take_error(struct health_twilio *out, int64_t at_ms, int code, const char *msg, bool auth)
{
	if (at_ms <= out->last_error_ms)
		return;
	out->last_error_ms = at_ms;
	out->last_error_code = code;
	out->last_error_auth = auth || health_is_auth_error(code);
	snprintf(out->last_error_message, sizeof out->last_error_message, "%s", msg ? msg : "");
}

enum rc health_twilio_results(struct db *db, int64_t since_ms, struct health_twilio *out)
{
	static const char accepted[] = "SELECT max(sent_at) FROM outbox WHERE kind <> 'email'";
	/* Refused before Twilio accepted anything: retries (network, 429, 5xx, auth while pages are
	 * retried) and failures without a SID. Failures with a SID came from status callbacks: the
	 * phone's or the carrier's trouble, not Twilio's answer to plantao. */
	static const char errors[] = "SELECT coalesce(error_code, 0), coalesce(error_message, ''), updated_at "
	                             "FROM outbox WHERE status = ?1 AND updated_at >= ?2 AND tries > 0 "
	                             "AND sid IS NULL AND kind <> 'email' ORDER BY updated_at DESC, id DESC LIMIT 1";
	static const char results[] = "SELECT kind, at_ms, coalesce(error_code, 0), coalesce(message, '') "
	                              "FROM twilio_results WHERE kind = 'ok' OR at_ms >= ?1";
	static const char *const statuses[] = {"retry", "failed"};
	struct db_stmt *st = db_prepare(db, accepted);
	enum rc rc;
	size_t i;
	int r;

	memset(out, 0, sizeof *out);
	if (!st)
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		out->last_accepted_ms = db_column_int64(st, 0) * 1000;
	db_reset(st);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		goto out;
	rc = RC_OK;
	st = db_prepare(db, errors);
	for (i = 0; rc == RC_OK && i < sizeof statuses / sizeof statuses[0]; i++) {
		rc = RC_DB;
		if (!st || db_bind_text(st, 1, statuses[i], -1, DB_STATIC) || db_bind_int64(st, 2, since_ms / 1000))
			goto out;
		rc = db_step_row(db, st);
		if (rc == RC_OK)
			take_error(out, db_column_int64(st, 2) * 1000, db_column_int(st, 0),
			           (const char *)db_column_text(st, 1), false);
		db_reset(st);
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
	}
	if (rc != RC_OK)
		goto out;
	st = db_prepare(db, results);
	rc = RC_DB;
	if (!st || db_bind_int64(st, 1, since_ms))
		goto out;
	while ((r = db_step(st)) == DB_ROW) {
		const char *kind = (const char *)db_column_text(st, 0);
		int64_t at = db_column_int64(st, 1);

		if (!strcmp(kind, "ok")) {
			if (at > out->last_accepted_ms)
				out->last_accepted_ms = at;
		} else {
			take_error(out, at, db_column_int(st, 2), (const char *)db_column_text(st, 3),
			           !strcmp(kind, "auth"));
		}
	}
	rc = r == DB_DONE ? RC_OK : db_rc(db);
	db_reset(st);
out:
	if (rc != RC_OK)
		log_err("health_twilio_results: %s", db_errmsg(db));
	return rc;
}

/* ---- background pollers ---- */

enum rc health_poller_note(struct db *db, const char *name, const char *code, const char *reason, int64_t now)
{
	static const char ok_sql[] =
	        "INSERT INTO poller_status (name, code, reason, failures, failing_since, updated_at) "
	        "VALUES (?1, 'ok', '', 0, 0, ?2) ON CONFLICT (name) DO UPDATE SET code = 'ok', "
	        "reason = '', failures = 0, failing_since = 0, updated_at = excluded.updated_at";
	static const char fail_sql[] =
	        "INSERT INTO poller_status (name, code, reason, failures, failing_since, updated_at) "
	        "VALUES (?1, ?3, ?4, 1, ?2, ?2) ON CONFLICT (name) DO UPDATE SET code = excluded.code, "
	        "reason = excluded.reason, failures = poller_status.failures + 1, "
	        "failing_since = CASE WHEN poller_status.failures = 0 THEN excluded.failing_since "
	        "ELSE poller_status.failing_since END, updated_at = excluded.updated_at";
	bool ok = strcmp(code, "ok") == 0;
	struct db_stmt *st;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, ok ? ok_sql : fail_sql);
	if (!st || db_bind_text(st, 1, name, -1, DB_STATIC) || db_bind_int64(st, 2, now) ||
	    (!ok && (db_bind_text(st, 3, code, -1, DB_STATIC) || db_bind_text(st, 4, reason, -1, DB_STATIC))))
		rc = db_bind_failed(db, st, "health_poller_note");
	else
		rc = db_step_done(db, st, "health_poller_note");
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc health_poller_get(struct db *db, const char *name, struct health_poller *out)
{
	static const char sql[] =
	        "SELECT code, reason, failures, failing_since, updated_at FROM poller_status WHERE name = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(out, 0, sizeof *out);
	if (!st || db_bind_text(st, 1, name, -1, DB_STATIC))
		return db_bind_failed(db, st, "health_poller_get");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		snprintf(out->code, sizeof out->code, "%s", (const char *)db_column_text(st, 0));
		snprintf(out->reason, sizeof out->reason, "%s", (const char *)db_column_text(st, 1));
		out->failures = db_column_int(st, 2);
		out->failing_since = db_column_int64(st, 3);
		out->updated_at = db_column_int64(st, 4);
	}
	db_reset(st);
	return rc;
}
