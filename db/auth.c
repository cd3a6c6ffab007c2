/*
 * db/auth.c — statements on otp_codes, sessions and the sign-in columns of people (see auth.h).
 * No rule is decided here: server/auth/ says what to write and when.
 */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include "db/audit.h"
#include "core/clock.h"
#include "core/log.h"

static void col_text(struct db_stmt *st, int col, char *dst, size_t size)
{
	const char *v = (const char *)db_column_text(st, col);

	snprintf(dst, size, "%s", v ? v : "");
}

/* ---------------------------------------------------------------- one-time codes */

enum rc auth_otp_recent(struct db *db, const char *destination, int64_t since_minute, int64_t since_hour, int64_t now,
                        int64_t *n_minute, int64_t *n_hour, int64_t *locked_until)
{
	static const char sql[] = "SELECT coalesce(sum(CASE WHEN created_at >= ?2 THEN 1 ELSE 0 END), 0), "
	                          "coalesce(sum(CASE WHEN created_at >= ?3 THEN 1 ELSE 0 END), 0), "
	                          "coalesce(max(CASE WHEN locked_until > ?4 THEN locked_until END), 0) "
	                          "FROM otp_codes WHERE destination = ?1 AND (created_at >= ?3 OR locked_until > ?4)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*n_minute = *n_hour = *locked_until = 0;
	if (!st || db_bind_text(st, 1, destination, -1, DB_STATIC) || db_bind_int64(st, 2, since_minute) ||
	    db_bind_int64(st, 3, since_hour) || db_bind_int64(st, 4, now))
		return db_bind_failed(db, st, "auth_otp_recent");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*n_minute = db_column_int64(st, 0);
		*n_hour = db_column_int64(st, 1);
		*locked_until = db_column_int64(st, 2);
	} else if (rc != RC_NOT_FOUND) {
		log_err("auth_otp_recent: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc auth_otp_replace(struct db *db, const char *destination, const char *purpose, int64_t now)
{
	static const char sql[] = "UPDATE otp_codes SET replaced_at = ?3 WHERE destination = ?1 AND purpose = ?2 "
	                          "AND used_at IS NULL AND replaced_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_text(st, 1, destination, -1, DB_STATIC) || db_bind_text(st, 2, purpose, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now))
		return db_bind_failed(db, st, "auth_otp_replace");
	return db_step_done(db, st, "auth_otp_replace");
}

enum rc auth_otp_insert(struct db *db, const struct auth_otp *o, int64_t *id)
{
	static const char sql[] =
	        "INSERT INTO otp_codes (destination, purpose, channel, person_id, salt, hash, sealed, created_at, "
	        "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || db_bind_text(st, 1, o->destination, -1, DB_STATIC) ||
	    db_bind_text(st, 2, o->purpose, -1, DB_STATIC) || db_bind_text(st, 3, o->channel, -1, DB_STATIC) ||
	    (o->person_id ? db_bind_int64(st, 4, o->person_id) : db_bind_null(st, 4)) ||
	    db_bind_text(st, 5, o->salt, -1, DB_STATIC) || db_bind_text(st, 6, o->hash, -1, DB_STATIC) ||
	    db_bind_opt_text(st, 7, o->sealed[0] ? o->sealed : NULL) || db_bind_int64(st, 8, o->created_at) ||
	    db_bind_int64(st, 9, o->expires_at))
		return db_bind_failed(db, st, "auth_otp_insert");
	rc = db_step_done(db, st, "auth_otp_insert");
	if (rc == RC_OK)
		*id = db_last_id(db);
	return rc;
}

#define OTP_COLS                                                                                                       \
	"id, destination, purpose, channel, coalesce(person_id, 0), salt, hash, coalesce(sealed, ''), created_at, "    \
	"expires_at, attempts, coalesce(locked_until, 0), coalesce(used_at, 0), coalesce(replaced_at, 0)"

static enum rc otp_one(struct db *db, struct db_stmt *st, struct auth_otp *o)
{
	enum rc rc = db_step_row(db, st);

	if (rc == RC_OK) {
		o->id = db_column_int64(st, 0);
		col_text(st, 1, o->destination, sizeof o->destination);
		col_text(st, 2, o->purpose, sizeof o->purpose);
		col_text(st, 3, o->channel, sizeof o->channel);
		o->person_id = db_column_int64(st, 4);
		col_text(st, 5, o->salt, sizeof o->salt);
		col_text(st, 6, o->hash, sizeof o->hash);
		col_text(st, 7, o->sealed, sizeof o->sealed);
		o->created_at = db_column_int64(st, 8);
		o->expires_at = db_column_int64(st, 9);
		o->attempts = db_column_int(st, 10);
		o->locked_until = db_column_int64(st, 11);
		o->used_at = db_column_int64(st, 12);
		o->replaced_at = db_column_int64(st, 13);
	} else if (rc != RC_NOT_FOUND) {
		log_err("otp_codes: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

enum rc auth_otp_live(struct db *db, const char *destination, const char *purpose, struct auth_otp *out)
{
	static const char sql[] = "SELECT " OTP_COLS " FROM otp_codes WHERE destination = ?1 AND purpose = ?2 "
	                          "AND used_at IS NULL AND replaced_at IS NULL ORDER BY id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	if (!st || db_bind_text(st, 1, destination, -1, DB_STATIC) || db_bind_text(st, 2, purpose, -1, DB_STATIC))
		return db_bind_failed(db, st, "auth_otp_live");
	return otp_one(db, st, out);
}

enum rc auth_otp_get(struct db *db, int64_t id, struct auth_otp *out)
{
	static const char sql[] = "SELECT " OTP_COLS " FROM otp_codes WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "auth_otp_get");
	return otp_one(db, st, out);
}

enum rc auth_otp_wrong(struct db *db, int64_t id, int64_t lock_until)
{
	static const char sql[] = "UPDATE otp_codes SET attempts = attempts + 1, "
	                          "locked_until = CASE WHEN ?2 > 0 THEN ?2 ELSE locked_until END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, lock_until))
		return db_bind_failed(db, st, "auth_otp_wrong");
	return db_step_done(db, st, "auth_otp_wrong");
}

enum rc auth_otp_use(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE otp_codes SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "auth_otp_use");
	rc = db_step_done(db, st, "auth_otp_use");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_CONFLICT;
	return rc;
}

/* ---------------------------------------------------------------- people */

enum rc auth_person_by_phone(struct db *db, const char *phone, int64_t *id, char role[AUTH_ROLE_MAX],
                             bool *phone_verified)
{
	static const char sql[] =
	        "SELECT id, coalesce(role, ''), CASE WHEN phone_verified_at IS NULL THEN 0 ELSE 1 END FROM people "
	        "WHERE phone = ?1 AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	role[0] = '\0';
	*phone_verified = false;
	if (!st || db_bind_text(st, 1, phone, -1, DB_STATIC))
		return db_bind_failed(db, st, "auth_person_by_phone");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*id = db_column_int64(st, 0);
		col_text(st, 1, role, AUTH_ROLE_MAX);
		*phone_verified = db_column_int(st, 2) != 0;
	} else if (rc != RC_NOT_FOUND) {
		log_err("auth_person_by_phone: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

enum rc auth_person(struct db *db, int64_t id, char role[AUTH_ROLE_MAX], char phone[24], char *name, size_t name_len)
{
	static const char sql[] =
	        "SELECT coalesce(role, ''), phone, name FROM people WHERE id = ?1 AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	role[0] = phone[0] = '\0';
	if (name_len)
		name[0] = '\0';
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "auth_person");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		col_text(st, 0, role, AUTH_ROLE_MAX);
		col_text(st, 1, phone, 24);
		col_text(st, 2, name, name_len);
	} else if (rc != RC_NOT_FOUND) {
		log_err("auth_person: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

enum rc auth_set_role(struct db *db, int64_t id, const char *role, const char *actor)
{
	static const char sql[] = "UPDATE people SET role = ?2, updated_at = ?3 WHERE id = ?1 AND deleted_at IS NULL";
	struct db_stmt *st;
	json_t *detail = NULL;
	enum rc rc = db_begin(db);

	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, id) || db_bind_opt_text(st, 2, role) || db_bind_int64(st, 3, clock_now())) {
		rc = db_bind_failed(db, st, "auth_set_role");
		goto out;
	}
	rc = db_step_done(db, st, "auth_set_role");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_NOT_FOUND;
	if (rc != RC_OK)
		goto out;
	detail = json_pack("{s:o}", "role", role ? json_string(role) : json_null());
	rc = audit_log(db, actor, "people.role", id, detail);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK)
		db_rollback(db);
	json_decref(detail);
	return rc;
}

enum rc auth_mark_phone_verified(struct db *db, int64_t id, const char *phone, int64_t now, const char *actor)
{
	static const char sql[] = "UPDATE people SET phone_verified_at = ?3 WHERE id = ?1 AND phone = ?2 "
	                          "AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *detail;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, phone, -1, DB_STATIC) || db_bind_int64(st, 3, now))
		return db_bind_failed(db, st, "auth_mark_phone_verified");
	rc = db_step_done(db, st, "auth_mark_phone_verified");
	if (rc == RC_OK && db_changes(db) != 1)
		return RC_CONFLICT;
	if (rc != RC_OK)
		return rc;
	detail = json_pack("{s:s}", "phone", phone);
	rc = audit_log(db, actor, "people.phone_verified", id, detail);
	json_decref(detail);
	return rc;
}

enum rc auth_person_flags(struct db *db, int64_t id, char role[AUTH_ROLE_MAX], int64_t *phone_verified_at)
{
	static const char sql[] = "SELECT coalesce(role, ''), coalesce(phone_verified_at, 0) FROM people WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	role[0] = '\0';
	*phone_verified_at = 0;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "auth_person_flags");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		col_text(st, 0, role, AUTH_ROLE_MAX);
		*phone_verified_at = db_column_int64(st, 1);
	}
	db_reset(st);
	return rc;
}

enum rc auth_unverified(struct db *db, json_t **out)
{
	static const char sql[] = "SELECT id, name FROM people WHERE deleted_at IS NULL AND phone_verified_at IS NULL "
	                          "ORDER BY name, id";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st)
		return RC_DB;
	return db_rows_json(db, st, out);
}

/* ---------------------------------------------------------------- sessions */

enum rc auth_session_insert(struct db *db, int64_t person_id, const char *hash, int64_t now, int64_t expires_at,
                            const char *user_agent, int64_t *id)
{
	static const char sql[] = "INSERT INTO sessions (person_id, hash, created_at, last_seen_at, expires_at, "
	                          "user_agent) VALUES (?1, ?2, ?3, ?3, ?4, ?5)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*id = 0;
	if (!st || db_bind_int64(st, 1, person_id) || db_bind_text(st, 2, hash, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now) || db_bind_int64(st, 4, expires_at) || db_bind_opt_text(st, 5, user_agent))
		return db_bind_failed(db, st, "auth_session_insert");
	rc = db_step_done(db, st, "auth_session_insert");
	if (rc == RC_OK)
		*id = db_last_id(db);
	return rc;
}

enum rc auth_session_find(struct db *db, const char *hash, struct auth_session *out)
{
	static const char sql[] =
	        "SELECT s.id, s.person_id, coalesce(p.role, ''), p.name, s.created_at, s.last_seen_at, s.expires_at "
	        "FROM sessions s JOIN people p ON p.id = s.person_id "
	        "WHERE s.hash = ?1 AND s.ended_at IS NULL AND p.deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(out, 0, sizeof *out);
	if (!st || db_bind_text(st, 1, hash, -1, DB_STATIC))
		return db_bind_failed(db, st, "auth_session_find");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		out->id = db_column_int64(st, 0);
		out->person_id = db_column_int64(st, 1);
		col_text(st, 2, out->role, sizeof out->role);
		col_text(st, 3, out->name, sizeof out->name);
		out->created_at = db_column_int64(st, 4);
		out->last_seen_at = db_column_int64(st, 5);
		out->expires_at = db_column_int64(st, 6);
	} else if (rc != RC_NOT_FOUND) {
		log_err("auth_session_find: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

enum rc auth_session_touch(struct db *db, int64_t id, int64_t now, int64_t expires_at)
{
	static const char sql[] = "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3 WHERE id = ?1 "
	                          "AND ended_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now) || db_bind_int64(st, 3, expires_at))
		return db_bind_failed(db, st, "auth_session_touch");
	return db_step_done(db, st, "auth_session_touch");
}

enum rc auth_session_person(struct db *db, int64_t id, int64_t *person_id)
{
	static const char sql[] = "SELECT person_id FROM sessions WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*person_id = 0;
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "auth_session_person");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*person_id = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

enum rc auth_session_end(struct db *db, int64_t id, int64_t person_id, int64_t now)
{
	static const char sql[] = "UPDATE sessions SET ended_at = ?3 WHERE id = ?1 AND (?2 = 0 OR person_id = ?2) "
	                          "AND ended_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, person_id) || db_bind_int64(st, 3, now))
		return db_bind_failed(db, st, "auth_session_end");
	rc = db_step_done(db, st, "auth_session_end");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_NOT_FOUND;
	return rc;
}

enum rc auth_sessions_list(struct db *db, int64_t person_id, int64_t now, json_t **out)
{
	static const char sql[] =
	        "SELECT s.id, s.person_id, p.name AS person_name, s.created_at, s.last_seen_at, s.expires_at, "
	        "s.user_agent FROM sessions s JOIN people p ON p.id = s.person_id "
	        "WHERE s.ended_at IS NULL AND s.expires_at > ?2 AND (?1 = 0 OR s.person_id = ?1) ORDER BY s.id DESC";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || db_bind_int64(st, 1, person_id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "auth_sessions_list");
	return db_rows_json(db, st, out);
}
