/*
 * db/calls.c — statements on support_calls, support_legs and voicemails (see calls.h).
 */
#include "calls.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

static const char *text_col(struct db_stmt *st, int i)
{
	const unsigned char *t = db_column_text(st, i);

	return t ? (const char *)t : "";
}

#define CALL_COLS "id, call_sid, caller, status, leg, created_at"

static enum rc one_call(struct db *db, struct db_stmt *st, struct calls_call *out)
{
	enum rc rc;
	int s = db_step(st);

	memset(out, 0, sizeof *out);
	if (s == DB_ROW) {
		out->id = db_column_int64(st, 0);
		snprintf(out->call_sid, sizeof out->call_sid, "%s", text_col(st, 1));
		snprintf(out->caller, sizeof out->caller, "%s", text_col(st, 2));
		snprintf(out->status, sizeof out->status, "%s", text_col(st, 3));
		out->legs = db_column_int(st, 4);
		out->created_at = db_column_int64(st, 5);
		rc = RC_OK;
	} else {
		rc = s == DB_DONE ? RC_NOT_FOUND : db_rc(db);
	}
	db_reset(st);
	return rc;
}

enum rc calls_find_sid(struct db *db, const char *call_sid, struct calls_call *out)
{
	static const char sql[] = "SELECT " CALL_COLS " FROM support_calls WHERE call_sid = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_text(st, 1, call_sid ? call_sid : "", -1, DB_STATIC))
		return RC_DB;
	return one_call(db, st, out);
}

enum rc calls_find_first_leg(struct db *db, const char *call_sid, struct calls_call *call, struct calls_leg *leg)
{
	static const char sql[] = "SELECT c.id, c.call_sid, c.caller, c.status, c.leg, c.created_at, "
	                          "coalesce(l.person_id, 0), l.phone, l.accepted, coalesce(l.chain_position, -1) "
	                          "FROM support_calls c JOIN support_legs l ON l.call_id = c.id AND l.leg = 0 "
	                          "WHERE c.call_sid = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(call, 0, sizeof *call);
	memset(leg, 0, sizeof *leg);
	if (!st || db_bind_text(st, 1, call_sid ? call_sid : "", -1, DB_STATIC))
		return db_bind_failed(db, st, "calls_find_first_leg");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		call->id = db_column_int64(st, 0);
		snprintf(call->call_sid, sizeof call->call_sid, "%s", text_col(st, 1));
		snprintf(call->caller, sizeof call->caller, "%s", text_col(st, 2));
		snprintf(call->status, sizeof call->status, "%s", text_col(st, 3));
		call->legs = db_column_int(st, 4);
		call->created_at = db_column_int64(st, 5);
		leg->call_id = call->id;
		leg->leg = 0;
		leg->person_id = db_column_int64(st, 6);
		snprintf(leg->phone, sizeof leg->phone, "%s", text_col(st, 7));
		leg->accepted = db_column_int(st, 8) != 0;
		leg->chain_position = db_column_int(st, 9);
	}
	db_reset(st);
	return rc;
}

enum rc calls_get(struct db *db, int64_t id, struct calls_call *out)
{
	static const char sql[] = "SELECT " CALL_COLS " FROM support_calls WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	return one_call(db, st, out);
}

enum rc calls_open(struct db *db, const char *call_sid, const char *caller, const char *called, int64_t now,
                   struct calls_call *out, bool *created)
{
	static const char sql[] = "INSERT INTO support_calls (call_sid, caller, called, leg, created_at) "
	                          "VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (call_sid) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*created = false;
	if (!st || db_bind_text(st, 1, call_sid, -1, DB_STATIC) || db_bind_text(st, 2, caller, -1, DB_STATIC) ||
	    db_bind_text(st, 3, called, -1, DB_STATIC) || db_bind_int64(st, 4, now))
		return RC_DB;
	rc = db_step_done(db, st, "calls_open");
	if (rc != RC_OK)
		return rc;
	*created = db_changes(db) == 1;
	return calls_find_sid(db, call_sid, out);
}

/* The chain of n people in one INSERT (one statement per length: db_prepare keys by address). */
#define ON_CHAIN "ON CONFLICT (call_id, position) DO NOTHING"
static const char *const chain_sql[CALLS_CHAIN_MAX] = {
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7), (?1, 3, ?8, ?9) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7), (?1, 3, ?8, ?9), (?1, 4, ?10, ?11) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7), (?1, 3, ?8, ?9), (?1, 4, ?10, ?11), "
        "(?1, 5, ?12, ?13) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7), (?1, 3, ?8, ?9), (?1, 4, ?10, ?11), (?1, 5, ?12, ?13), "
        "(?1, 6, ?14, ?15) " ON_CHAIN,
        "INSERT INTO support_chain (call_id, position, person_id, phone) VALUES "
        "(?1, 0, ?2, ?3), (?1, 1, ?4, ?5), (?1, 2, ?6, ?7), (?1, 3, ?8, ?9), (?1, 4, ?10, ?11), (?1, 5, ?12, ?13), "
        "(?1, 6, ?14, ?15), (?1, 7, ?16, ?17) " ON_CHAIN,
};

enum rc calls_chain_put(struct db *db, int64_t call_id, const struct calls_link *chain, size_t n)
{
	struct db_stmt *st;
	size_t i;

	if (!n)
		return RC_OK;
	if (n > CALLS_CHAIN_MAX)
		return RC_INVALID;
	st = db_prepare(db, chain_sql[n - 1]);
	if (!st || db_bind_int64(st, 1, call_id))
		return db_bind_failed(db, st, "calls_chain_put");
	for (i = 0; i < n; i++)
		if (db_bind_int64(st, 2 + 2 * (int)i, chain[i].person_id) ||
		    db_bind_text(st, 3 + 2 * (int)i, chain[i].phone, -1, DB_STATIC))
			return db_bind_failed(db, st, "calls_chain_put");
	return db_step_done(db, st, "calls_chain_put");
}

enum rc calls_start(struct db *db, const char *call_sid, const char *caller, const char *called, int64_t now,
                    const struct calls_link *chain, size_t n, struct calls_call *out, struct calls_leg *leg,
                    bool *created)
{
	static const char call[] = "INSERT INTO support_calls (call_sid, caller, called, status, leg, created_at) "
	                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_sid) DO NOTHING RETURNING id";
	static const char first[] =
	        "INSERT INTO support_legs (call_id, leg, person_id, phone, created_at, chain_position) "
	        "VALUES (?1, 0, ?2, ?3, ?4, 0)";
	const char *status = n ? "ringing" : "voicemail";
	struct db_stmt *st = db_prepare(db, call);
	enum rc rc;

	*created = false;
	memset(out, 0, sizeof *out);
	memset(leg, 0, sizeof *leg);
	if (!st || db_bind_text(st, 1, call_sid, -1, DB_STATIC) || db_bind_text(st, 2, caller, -1, DB_STATIC) ||
	    db_bind_text(st, 3, called, -1, DB_STATIC) || db_bind_text(st, 4, status, -1, DB_STATIC) ||
	    db_bind_int(st, 5, n ? 1 : 0) || db_bind_int64(st, 6, now))
		return db_bind_failed(db, st, "calls_start");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		out->id = db_column_int64(st, 0);
	else if (rc != RC_NOT_FOUND)
		log_err("calls_start: %s", db_errmsg(db));
	db_reset(st);
	if (rc != RC_OK)
		return rc == RC_NOT_FOUND ? RC_OK : rc; /* call_sid exists: not created */
	*created = true;
	snprintf(out->call_sid, sizeof out->call_sid, "%s", call_sid);
	snprintf(out->caller, sizeof out->caller, "%s", caller);
	snprintf(out->status, sizeof out->status, "%s", status);
	out->legs = n ? 1 : 0;
	out->created_at = now;
	rc = calls_chain_put(db, out->id, chain, n);
	if (rc != RC_OK || !n)
		return rc;
	st = db_prepare(db, first);
	if (!st || db_bind_int64(st, 1, out->id) ||
	    (chain[0].person_id ? db_bind_int64(st, 2, chain[0].person_id) : db_bind_null(st, 2)) ||
	    db_bind_text(st, 3, chain[0].phone, -1, DB_STATIC) || db_bind_int64(st, 4, now))
		return db_bind_failed(db, st, "calls_start leg");
	rc = db_step_done(db, st, "calls_start leg");
	if (rc != RC_OK)
		return rc;
	leg->call_id = out->id;
	leg->leg = 0;
	leg->person_id = chain[0].person_id;
	snprintf(leg->phone, sizeof leg->phone, "%s", chain[0].phone);
	leg->chain_position = 0;
	return RC_OK;
}

enum rc calls_chain_add(struct db *db, int64_t call_id, int pos, int64_t person_id, const char *phone)
{
	static const char sql[] = "INSERT INTO support_chain (call_id, position, person_id, phone) "
	                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (call_id, position) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, pos) || db_bind_int64(st, 3, person_id) ||
	    db_bind_text(st, 4, phone, -1, DB_STATIC))
		return RC_DB;
	return db_step_done(db, st, "calls_chain_add");
}

enum rc calls_chain_get(struct db *db, int64_t call_id, int pos, int64_t *person_id)
{
	static const char sql[] =
	        "SELECT coalesce(person_id, 0) FROM support_chain WHERE call_id = ?1 AND position = ?2";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*person_id = 0;
	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, pos))
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*person_id = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

enum rc calls_chain_size(struct db *db, int64_t call_id, int *n)
{
	static const char sql[] = "SELECT count(*) FROM support_chain WHERE call_id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*n = 0;
	if (!st || db_bind_int64(st, 1, call_id))
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*n = db_column_int(st, 0);
	db_reset(st);
	return rc;
}

enum rc calls_leg_add(struct db *db, int64_t call_id, int leg, int chain_pos, int64_t person_id, const char *phone,
                      int64_t now)
{
	static const char ins[] =
	        "INSERT INTO support_legs (call_id, leg, person_id, phone, created_at, chain_position) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (call_id, leg) DO NOTHING";
	static const char upd[] =
	        "UPDATE support_calls SET leg = CASE WHEN leg > ?2 THEN leg ELSE ?2 END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, ins);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg) ||
	    (person_id ? db_bind_int64(st, 3, person_id) : db_bind_null(st, 3)) ||
	    db_bind_text(st, 4, phone, -1, DB_STATIC) || db_bind_int64(st, 5, now) ||
	    (chain_pos >= 0 ? db_bind_int(st, 6, chain_pos) : db_bind_null(st, 6)))
		return RC_DB;
	rc = db_step_done(db, st, "calls_leg_add");
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, upd);
	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg + 1))
		return RC_DB;
	return db_step_done(db, st, "calls_leg_add");
}

enum rc calls_leg_get(struct db *db, int64_t call_id, int leg, struct calls_leg *out)
{
	static const char sql[] = "SELECT coalesce(person_id, 0), phone, accepted, coalesce(chain_position, -1) "
	                          "FROM support_legs WHERE call_id = ?1 AND leg = ?2";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(out, 0, sizeof *out);
	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg))
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		out->call_id = call_id;
		out->leg = leg;
		out->person_id = db_column_int64(st, 0);
		snprintf(out->phone, sizeof out->phone, "%s", text_col(st, 1));
		out->accepted = db_column_int(st, 2) != 0;
		out->chain_position = db_column_int(st, 3);
	}
	db_reset(st);
	return rc;
}

enum rc calls_leg_accept(struct db *db, int64_t call_id, int leg, int64_t now)
{
	static const char legs[] = "UPDATE support_legs SET accepted = 1 WHERE call_id = ?1 AND leg = ?2";
	static const char call[] = "UPDATE support_calls SET status = 'answered', accepted_at = ?3, accepted_by = "
	                           "(SELECT person_id FROM support_legs WHERE call_id = ?1 AND leg = ?2) WHERE id = ?1 "
	                           "AND accepted_at IS NULL";
	struct db_stmt *st = db_prepare(db, legs);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg))
		return RC_DB;
	rc = db_step_done(db, st, "calls_leg_accept");
	if (rc != RC_OK)
		return rc;
	if (db_changes(db) != 1)
		return RC_NOT_FOUND;
	st = db_prepare(db, call);
	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg) || db_bind_int64(st, 3, now))
		return RC_DB;
	return db_step_done(db, st, "calls_leg_accept");
}

enum rc calls_leg_status(struct db *db, int64_t call_id, int leg, const char *dial_status)
{
	static const char sql[] = "UPDATE support_legs SET dial_status = ?3 WHERE call_id = ?1 AND leg = ?2";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, call_id) || db_bind_int(st, 2, leg) ||
	    db_bind_text(st, 3, dial_status, -1, DB_STATIC))
		return RC_DB;
	return db_step_done(db, st, "calls_leg_status");
}

enum rc calls_set_status(struct db *db, int64_t call_id, const char *status, int64_t now)
{
	static const char sql[] =
	        "UPDATE support_calls SET status = ?2, ended_at = CASE WHEN ?2 = 'voicemail' THEN ended_at "
	        "ELSE coalesce(ended_at, ?3) END WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, call_id) || db_bind_text(st, 2, status, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now))
		return RC_DB;
	return db_step_done(db, st, "calls_set_status");
}

enum rc calls_voicemail_add(struct db *db, const struct calls_voicemail *vm, int64_t *id, bool *created)
{
	static const char ins[] = "INSERT INTO voicemails (call_sid, caller, recording_url, recording_sid, duration_s, "
	                          "person_id, created_at) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (call_sid) DO NOTHING";
	static const char sel[] = "SELECT id FROM voicemails WHERE call_sid = ?1";
	static const char end[] = "UPDATE support_calls SET status = 'voicemail', ended_at = coalesce(ended_at, ?2) "
	                          "WHERE call_sid = ?1";
	struct db_stmt *st = db_prepare(db, ins);
	enum rc rc;

	*id = 0;
	*created = false;
	if (!st || db_bind_text(st, 1, vm->call_sid, -1, DB_STATIC) || db_bind_text(st, 2, vm->caller, -1, DB_STATIC) ||
	    db_bind_text(st, 3, vm->recording_url, -1, DB_STATIC) ||
	    db_bind_text(st, 4, vm->recording_sid, -1, DB_STATIC) || db_bind_int(st, 5, vm->duration_s) ||
	    (vm->person_id ? db_bind_int64(st, 6, vm->person_id) : db_bind_null(st, 6)) ||
	    db_bind_int64(st, 7, vm->created_at))
		return RC_DB;
	rc = db_step_done(db, st, "calls_voicemail_add");
	if (rc != RC_OK)
		return rc;
	*created = db_changes(db) == 1;
	st = db_prepare(db, sel);
	if (!st || db_bind_text(st, 1, vm->call_sid, -1, DB_STATIC))
		return RC_DB;
	if (db_step(st) == DB_ROW)
		*id = db_column_int64(st, 0);
	db_reset(st);
	st = db_prepare(db, end);
	if (!st || db_bind_text(st, 1, vm->call_sid, -1, DB_STATIC) || db_bind_int64(st, 2, vm->created_at))
		return RC_DB;
	return db_step_done(db, st, "calls_voicemail_add");
}

enum rc calls_voicemail_transcription(struct db *db, const char *call_sid, const char *text)
{
	static const char sql[] = "UPDATE voicemails SET transcription = ?2 WHERE call_sid = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_text(st, 1, call_sid, -1, DB_STATIC) || db_bind_text(st, 2, text, -1, DB_STATIC))
		return RC_DB;
	rc = db_step_done(db, st, "calls_voicemail_transcription");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_NOT_FOUND;
	return rc;
}
