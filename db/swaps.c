/*
 * db/swaps.c — statements on shift_swaps (swaps.h). Each change reads the row inside the
 * caller's write transaction, so two confirmations at once cannot both see "the other side is
 * missing".
 */
#include "db/swaps.h"

#include <stdio.h>
#include <string.h>

#include "db/audit.h"

#define SWAP_COLS                                                                                                      \
	"SELECT id, from_person, to_person, start_at, end_at, status, coalesce(from_confirmed_at, 0), "                \
	"coalesce(to_confirmed_at, 0), coalesce(override_id, 0), coalesce(expires_at, 0) FROM shift_swaps "

static bool is_expired(const struct swap *s, int64_t now)
{
	return strcmp(s->status, "pending") == 0 && s->expires_at > 0 && s->expires_at <= now;
}

enum rc swaps_get(struct db *db, int64_t id, int64_t now, struct swap *out)
{
	static const char sql[] = SWAP_COLS "WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "swaps_get");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		const unsigned char *s = db_column_text(st, 5);

		out->id = db_column_int64(st, 0);
		out->from_person = db_column_int64(st, 1);
		out->to_person = db_column_int64(st, 2);
		out->start = db_column_int64(st, 3);
		out->end = db_column_int64(st, 4);
		snprintf(out->status, sizeof out->status, "%s", s ? (const char *)s : "");
		out->from_confirmed_at = db_column_int64(st, 6);
		out->to_confirmed_at = db_column_int64(st, 7);
		out->override_id = db_column_int64(st, 8);
		out->expires_at = db_column_int64(st, 9);
		if (is_expired(out, now))
			snprintf(out->status, sizeof out->status, "expired");
	}
	db_reset(st);
	return rc;
}

static enum rc audit_swap(struct db *db, const char *actor, const char *action, const struct swap *s, const char *why)
{
	json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:s}", "from_person", (json_int_t)s->from_person, "to_person",
	                      (json_int_t)s->to_person, "start_at", (json_int_t)s->start, "end_at", (json_int_t)s->end,
	                      "status", s->status);
	enum rc rc;

	if (d && why)
		json_object_set_new(d, "reason", json_string(why));
	rc = d ? audit_log(db, actor, action, s->id, d) : RC_INTERNAL;
	json_decref(d);
	return rc;
}

enum rc swaps_create_tx(struct db *db, const struct swap *in, bool confirmed_by_from, const char *actor, int64_t now,
                        int64_t *id)
{
	static const char sql[] = "INSERT INTO shift_swaps (from_person, to_person, start_at, end_at, status, "
	                          "from_confirmed_at, created_at, created_by, expires_at) VALUES (?1, ?2, ?3, ?4, "
	                          "'pending', ?5, ?6, ?7, ?8)";
	int64_t expires = now + SWAP_TTL < in->end ? now + SWAP_TTL : in->end;
	struct db_stmt *st = db_prepare(db, sql);
	struct swap s;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, in->from_person) || db_bind_int64(st, 2, in->to_person) ||
	    db_bind_int64(st, 3, in->start) || db_bind_int64(st, 4, in->end) ||
	    (confirmed_by_from ? db_bind_int64(st, 5, now) : db_bind_null(st, 5)) || db_bind_int64(st, 6, now) ||
	    db_bind_text(st, 7, actor, -1, DB_STATIC) || db_bind_int64(st, 8, expires))
		return db_bind_failed(db, st, "swaps_create");
	rc = db_step_done(db, st, "swaps_create");
	if (rc == RC_OK) {
		*id = db_last_id(db);
		rc = swaps_get(db, *id, now, &s);
	}
	if (rc == RC_OK)
		rc = audit_swap(db, actor, "swaps.create", &s, NULL);
	return rc;
}

enum rc swaps_answer_tx(struct db *db, int64_t id, int64_t person_id, bool yes, const char *actor, int64_t now,
                        struct swap *out, bool *changed)
{
	static const char confirm_from[] = "UPDATE shift_swaps SET from_confirmed_at = ?2 WHERE id = ?1";
	static const char confirm_to[] = "UPDATE shift_swaps SET to_confirmed_at = ?2 WHERE id = ?1";
	static const char close[] = "UPDATE shift_swaps SET status = ?2, closed_at = ?3 WHERE id = ?1";
	bool from = false;
	struct db_stmt *st;
	enum rc rc = swaps_get(db, id, now, out);

	*changed = false;
	if (rc != RC_OK)
		return rc;
	if (person_id != out->from_person && person_id != out->to_person)
		return RC_FORBIDDEN;
	if (strcmp(out->status, "pending") != 0)
		return RC_CONFLICT;
	from = person_id == out->from_person;
	if (yes && (from ? out->from_confirmed_at : out->to_confirmed_at))
		return RC_OK; /* said yes already (Twilio retrying the text, a second click) */
	if (yes) {
		st = db_prepare(db, from ? confirm_from : confirm_to);
		if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
			return db_bind_failed(db, st, "swaps_confirm");
	} else {
		st = db_prepare(db, close);
		if (!st || db_bind_int64(st, 1, id) ||
		    db_bind_text(st, 2, from ? "canceled" : "declined", -1, DB_STATIC) || db_bind_int64(st, 3, now))
			return db_bind_failed(db, st, "swaps_decline");
	}
	rc = db_step_done(db, st, "swaps_answer");
	if (rc == RC_OK)
		rc = swaps_get(db, id, now, out);
	if (rc == RC_OK)
		rc = audit_swap(db, actor, yes ? "swaps.confirm" : from ? "swaps.cancel" : "swaps.decline", out, NULL);
	if (rc == RC_OK)
		*changed = true;
	return rc;
}

enum rc swaps_accept_tx(struct db *db, int64_t id, int64_t override_id, const char *actor, int64_t now)
{
	static const char sql[] = "UPDATE shift_swaps SET status = 'accepted', override_id = ?2, closed_at = ?3 "
	                          "WHERE id = ?1 AND status = 'pending'";
	struct db_stmt *st = db_prepare(db, sql);
	struct swap s;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, override_id) || db_bind_int64(st, 3, now))
		return db_bind_failed(db, st, "swaps_accept");
	rc = db_step_done(db, st, "swaps_accept");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_CONFLICT;
	if (rc == RC_OK)
		rc = swaps_get(db, id, now, &s);
	if (rc == RC_OK)
		rc = audit_swap(db, actor, "swaps.accept", &s, NULL);
	return rc;
}

enum rc swaps_void_tx(struct db *db, int64_t id, const char *why, const char *actor, int64_t now)
{
	static const char sql[] = "UPDATE shift_swaps SET status = 'canceled', closed_at = ?2 "
	                          "WHERE id = ?1 AND status = 'pending'";
	struct db_stmt *st = db_prepare(db, sql);
	struct swap s;
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now))
		return db_bind_failed(db, st, "swaps_void");
	rc = db_step_done(db, st, "swaps_void");
	if (rc == RC_OK && db_changes(db) != 1)
		rc = RC_CONFLICT;
	if (rc == RC_OK)
		rc = swaps_get(db, id, now, &s);
	if (rc == RC_OK)
		rc = audit_swap(db, actor, "swaps.cancel", &s, why);
	return rc;
}

enum rc swaps_list(struct db *db, int64_t person_id, const char *status, int limit, int64_t before, int64_t now,
                   json_t **out)
{
	static const char sql[] =
	        "SELECT * FROM (SELECT s.id, s.from_person, f.name AS from_name, s.to_person, t.name AS to_name, "
	        "s.start_at, s.end_at, CASE WHEN s.status = 'pending' AND s.expires_at IS NOT NULL AND s.expires_at <= "
	        "?5 "
	        "THEN 'expired' ELSE s.status END AS status, s.from_confirmed_at, s.to_confirmed_at, s.override_id, "
	        "s.created_at, s.created_by, s.closed_at, s.expires_at FROM shift_swaps s "
	        "LEFT JOIN people f ON f.id = s.from_person LEFT JOIN people t ON t.id = s.to_person "
	        "WHERE (?1 <= 0 OR s.from_person = ?1 OR s.to_person = ?1) AND (?4 <= 0 OR s.id < ?4)) x "
	        "WHERE (CAST(?2 AS TEXT) IS NULL OR x.status = ?2) ORDER BY x.id DESC LIMIT ?3";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || db_bind_int64(st, 1, person_id) || db_bind_opt_text(st, 2, status) || db_bind_int(st, 3, limit) ||
	    db_bind_int64(st, 4, before) || db_bind_int64(st, 5, now))
		return db_bind_failed(db, st, "swaps_list");
	return db_rows_json(db, st, out);
}
