/*
 * db/history.c — the support-line and delivery histories of the lead's pages (history.h).
 * Statements on support_calls, support_legs, voicemails and outbox; reads only.
 */
#include "db/history.h"

static int clamp(int limit)
{
	return limit < 1 || limit > HISTORY_LIST_MAX ? HISTORY_LIST_DEFAULT : limit;
}

enum rc history_calls(struct db *db, const struct history_filter *f, json_t **out)
{
	static const char calls[] =
	        "SELECT c.id, c.call_sid, c.caller, c.called, c.status, c.accepted_by, p.name AS accepted_by_name, "
	        "c.accepted_at, c.created_at, c.ended_at, "
	        "CASE WHEN c.accepted_at IS NOT NULL AND c.ended_at IS NOT NULL THEN c.ended_at - c.accepted_at END "
	        "AS talk_s, CASE WHEN c.ended_at IS NOT NULL THEN c.ended_at - c.created_at END AS total_s "
	        "FROM support_calls c LEFT JOIN people p ON p.id = c.accepted_by "
	        "WHERE (?2 <= 0 OR c.id < ?2) AND (CAST(?3 AS TEXT) IS NULL OR c.status = ?3) "
	        "AND (?4 <= 0 OR c.created_at >= ?4) "
	        "AND (?5 <= 0 OR c.created_at < ?5) AND (?6 <= 0 OR c.accepted_by = ?6 "
	        "OR c.id IN (SELECT call_id FROM support_legs WHERE person_id = ?6) "
	        "OR c.call_sid IN (SELECT call_sid FROM voicemails WHERE person_id = ?6)) "
	        "ORDER BY c.id DESC LIMIT ?1";
	static const char legs[] =
	        "SELECT l.leg, l.person_id, p.name AS person_name, l.phone, l.dial_status, l.accepted, l.created_at "
	        "FROM support_legs l LEFT JOIN people p ON p.id = l.person_id WHERE l.call_id = ?1 ORDER BY l.leg";
	static const char vm[] =
	        "SELECT v.id, v.recording_url, v.recording_sid, v.duration_s, v.transcription, v.person_id, "
	        "p.name AS person_name, v.created_at FROM voicemails v LEFT JOIN people p ON p.id = v.person_id "
	        "WHERE v.call_sid = ?1";
	struct db_stmt *st = db_prepare(db, calls);
	json_t *a = NULL, *row;
	enum rc rc;
	size_t i;

	*out = NULL;
	if (!st || db_bind_int(st, 1, clamp(f->limit)) || db_bind_int64(st, 2, f->before_id) ||
	    db_bind_opt_text(st, 3, f->status) || db_bind_int64(st, 4, f->from) || db_bind_int64(st, 5, f->to) ||
	    db_bind_int64(st, 6, f->person_id))
		return db_bind_failed(db, st, "history_calls");
	rc = db_rows_json(db, st, &a);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(a, i, row)
	{
		json_t *l = NULL, *v = NULL, *leg;
		size_t j;

		st = db_prepare(db, legs);
		if (!st || db_bind_int64(st, 1, json_integer_value(json_object_get(row, "id")))) {
			rc = db_bind_failed(db, st, "history_calls legs");
			break;
		}
		rc = db_rows_json(db, st, &l);
		if (rc != RC_OK)
			break;
		json_array_foreach(l, j, leg)
		{
			json_object_set_new(leg, "accepted",
			                    json_boolean(json_integer_value(json_object_get(leg, "accepted"))));
		}
		json_object_set_new(row, "legs", l);
		st = db_prepare(db, vm);
		if (!st || db_bind_text(st, 1, json_string_value(json_object_get(row, "call_sid")), -1, DB_TRANSIENT)) {
			rc = db_bind_failed(db, st, "history_calls voicemail");
			break;
		}
		rc = db_rows_json(db, st, &v);
		if (rc != RC_OK)
			break;
		json_object_set_new(row, "voicemail",
		                    json_array_size(v) ? json_incref(json_array_get(v, 0)) : json_null());
		json_decref(v);
	}
	if (rc != RC_OK) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return RC_OK;
}

enum rc history_deliveries(struct db *db, const struct history_filter *f, json_t **out)
{
	static const char sql[] =
	        "SELECT o.id, o.kind, o.class, o.priority, o.to_number AS \"to\", o.from_number AS \"from\", "
	        "CASE WHEN o.kind = 'email' THEN (SELECT m.subject FROM mail_messages m WHERE m.outbox_id = o.id) "
	        "ELSE o.body END AS body, "
	        "o.url, o.status, o.next_at_ms, o.attempt_at_ms, o.idem_key, "
	        "o.error_message LIKE 'dead letter%' AS dead_letter, o.tries, o.sid, o.error_code, o.error_message, "
	        "o.encoding, o.segments, o.duration_s, o.owner_type, o.owner_id, o.twilio_status, o.twilio_status_at, "
	        "o.created_at, o.sent_at, o.updated_at, "
	        "(SELECT p.id FROM people p WHERE p.phone = o.to_number OR 'whatsapp:' || p.phone = o.to_number "
	        "OR (o.kind = 'email' AND p.email = o.to_number) "
	        "ORDER BY p.id LIMIT 1) AS person_id, "
	        "(SELECT p.name FROM people p WHERE p.phone = o.to_number OR 'whatsapp:' || p.phone = o.to_number "
	        "OR (o.kind = 'email' AND p.email = o.to_number) "
	        "ORDER BY p.id LIMIT 1) AS person_name "
	        "FROM outbox o "
	        "WHERE (?2 <= 0 OR o.id < ?2) AND (CAST(?3 AS TEXT) IS NULL OR o.status = ?3 "
	        "OR (?3 = 'dead' AND o.status = 'failed' AND o.error_message LIKE 'dead letter%')) "
	        "AND (CAST(?4 AS TEXT) IS NULL OR o.kind = ?4) "
	        "AND (?5 <= 0 OR o.created_at >= ?5) AND (?6 <= 0 OR o.created_at < ?6) "
	        "AND (?7 <= 0 OR o.to_number IN (SELECT phone FROM people WHERE id = ?7) "
	        "OR o.to_number IN (SELECT 'whatsapp:' || phone FROM people WHERE id = ?7) "
	        "OR (o.kind = 'email' AND o.to_number IN (SELECT email FROM people WHERE id = ?7))) "
	        "ORDER BY o.id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || db_bind_int(st, 1, clamp(f->limit)) || db_bind_int64(st, 2, f->before_id) ||
	    db_bind_opt_text(st, 3, f->status) || db_bind_opt_text(st, 4, f->kind) || db_bind_int64(st, 5, f->from) ||
	    db_bind_int64(st, 6, f->to) || db_bind_int64(st, 7, f->person_id))
		return db_bind_failed(db, st, "history_deliveries");
	return db_rows_json(db, st, out);
}
