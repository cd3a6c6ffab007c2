/*
 * db/audit.c — statements on the audit table. Rows are only ever inserted; nothing updates
 * or deletes them.
 */
#include "audit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

enum rc audit_log(struct db *db, const char *actor, const char *action, int64_t entity_id, const json_t *detail)
{
	static const char sql[] =
	        "INSERT INTO audit (at, actor, action, entity_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
	struct db_stmt *st = db_prepare(db, sql);
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	enum rc rc = RC_DB;

	if (detail && !text) {
		rc = RC_INTERNAL;
		goto out;
	}
	if (!st || db_bind_int64(st, 1, clock_now()) ||
	    db_bind_text(st, 2, actor && actor[0] ? actor : "unknown", -1, DB_STATIC) ||
	    db_bind_text(st, 3, action, -1, DB_STATIC) ||
	    (entity_id ? db_bind_int64(st, 4, entity_id) : db_bind_null(st, 4)) ||
	    db_bind_text(st, 5, text, -1, DB_STATIC))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		goto out;
	}
	rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("audit_log %s: %s", action, db_errmsg(db));
	if (st)
		db_reset(st);
	free(text);
	return rc;
}

enum rc audit_list(struct db *db, int limit, int64_t before_id, json_t **out)
{
	static const char sql[] = "SELECT id, at, actor, action, entity_id, detail FROM audit "
	                          "WHERE ?2 <= 0 OR id < ?2 ORDER BY id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *rows = NULL;
	enum rc rc;
	size_t i;
	json_t *row;

	*out = NULL;
	if (!st)
		return RC_DB;
	if (limit < 1 || limit > AUDIT_LIST_MAX)
		limit = AUDIT_LIST_DEFAULT;
	db_bind_int(st, 1, limit);
	db_bind_int64(st, 2, before_id);
	rc = db_rows_json(db, st, &rows);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(rows, i, row)
	{
		json_t *d = json_object_get(row, "detail");

		if (json_is_string(d)) {
			json_t *parsed = json_loads(json_string_value(d), 0, NULL);

			if (parsed)
				json_object_set_new(row, "detail", parsed);
		}
	}
	*out = rows;
	return RC_OK;
}

enum rc audit_query(struct db *db, const struct audit_filter *f, json_t **out)
{
	static const char sql[] =
	        "SELECT id, at, actor, action, entity_id, detail FROM audit "
	        "WHERE (?2 <= 0 OR id < ?2) AND (CAST(?3 AS TEXT) IS NULL OR action LIKE ?3) "
	        "AND (?4 <= 0 OR entity_id = ?4) "
	        "AND (CAST(?5 AS TEXT) IS NULL OR actor = ?5) AND (?6 <= 0 OR at >= ?6) AND (?7 <= 0 OR at < ?7) "
	        "AND (?8 <= 0 OR actor = ?9 OR actor LIKE ?10 OR (action LIKE 'people.%' AND entity_id = ?8) "
	        "OR actor IN (SELECT 'sms:' || phone FROM people WHERE id = ?8) "
	        "OR actor IN (SELECT 'keypad:' || phone FROM people WHERE id = ?8) OR actor LIKE ?11) "
	        "ORDER BY id DESC LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	char like[80] = "", person[40] = "", person_like[48] = "", by_phone[56] = "";
	json_t *rows = NULL, *row;
	int limit = f->limit;
	size_t i;
	enum rc rc;

	*out = NULL;
	if (f->action)
		snprintf(like, sizeof like, "%s%s", f->action,
		         f->action[0] && f->action[strlen(f->action) - 1] == '.' ? "%" : "");
	if (f->person_id > 0) {
		snprintf(person, sizeof person, "person:%lld", (long long)f->person_id);
		snprintf(person_like, sizeof person_like, "person:%lld %%", (long long)f->person_id);
		snprintf(by_phone, sizeof by_phone, "%%/person:%lld %%", (long long)f->person_id);
	}
	if (limit < 1 || limit > AUDIT_LIST_MAX)
		limit = AUDIT_LIST_DEFAULT;
	if (!st || db_bind_int(st, 1, limit) || db_bind_int64(st, 2, f->before_id) ||
	    db_bind_opt_text(st, 3, f->action ? like : NULL) || db_bind_int64(st, 4, f->entity_id) ||
	    db_bind_opt_text(st, 5, f->actor) || db_bind_int64(st, 6, f->from) || db_bind_int64(st, 7, f->to) ||
	    db_bind_int64(st, 8, f->person_id) || db_bind_text(st, 9, person, -1, DB_STATIC) ||
	    db_bind_text(st, 10, person_like, -1, DB_STATIC) || db_bind_text(st, 11, by_phone, -1, DB_STATIC))
		return db_bind_failed(db, st, "audit_query");
	rc = db_rows_json(db, st, &rows);
	if (rc != RC_OK)
		return rc;
	json_array_foreach(rows, i, row)
	{
		json_t *d = json_object_get(row, "detail");

		if (json_is_string(d)) {
			json_t *parsed = json_loads(json_string_value(d), 0, NULL);

			if (parsed)
				json_object_set_new(row, "detail", parsed);
		}
		json_object_set_new(row, "actor_info",
		                    audit_actor_json(json_string_value(json_object_get(row, "actor"))));
	}
	*out = rows;
	return RC_OK;
}

enum rc audit_find_actor(struct db *db, const char *action, int64_t entity_id, char *out, size_t len)
{
	static const char sql[] = "SELECT actor FROM audit WHERE action = ?1 AND entity_id = ?2 ORDER BY id DESC "
	                          "LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	out[0] = '\0';
	if (!st || db_bind_text(st, 1, action, -1, DB_STATIC) || db_bind_int64(st, 2, entity_id))
		return db_bind_failed(db, st, "audit_find_actor");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		const unsigned char *a = db_column_text(st, 0);

		snprintf(out, len, "%s", a ? (const char *)a : "");
	}
	db_reset(st);
	return rc;
}

/* Drops a UTF-8 sequence that a cut at the end of s left incomplete (the database refuses text
 * that is not UTF-8: PostgreSQL with an error, so the row and its transaction would be lost). */
static void cut_partial_utf8(char *s)
{
	size_t n = strlen(s), i = n, need;
	unsigned char lead;

	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	lead = (unsigned char)s[i - 1];
	if (lead < 0xC0)
		return; /* ASCII, or stray continuation bytes: nothing this cut made */
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

void audit_actor_phone(char out[AUDIT_ACTOR_MAX], const char *via, const char *phone, int64_t person_id,
                       const char *name)
{
	char masked[LOG_PHONE_MAX];
	int n = snprintf(out, AUDIT_ACTOR_MAX, "%s:%s/person:%lld %s", via, log_phone(phone ? phone : "", masked),
	                 (long long)person_id, name ? name : "");

	if (n >= AUDIT_ACTOR_MAX) /* a long name was cut: not inside a character */
		cut_partial_utf8(out);
}

/* "person:3 Ana" -> 3 and "Ana"; false when text is not that. */
static bool parse_person(const char *text, long long *id, const char **name)
{
	char *end;

	if (strncmp(text, "person:", 7) != 0)
		return false;
	*id = strtoll(text + 7, &end, 10);
	if (end == text + 7 || *id <= 0)
		return false;
	*name = *end == ' ' ? end + 1 : "";
	return true;
}

/* "sms:…" / "keypad:…": the phone, and the person when audit_actor_phone wrote it. */
static json_t *phone_actor(const char *kind, const char *rest)
{
	const char *slash = strstr(rest, "/person:"), *name;
	long long id;

	if (slash && parse_person(slash + 1, &id, &name))
		return json_pack("{s:s, s:I, s:s, s:s%}", "kind", kind, "person_id", (json_int_t)id, "name", name,
		                 "phone", rest, (size_t)(slash - rest));
	return json_pack("{s:s, s:s}", "kind", kind, "phone", rest);
}

json_t *audit_actor_json(const char *actor)
{
	const char *rest, *name;
	long long id;

	if (!actor)
		return json_null();
	if (parse_person(actor, &id, &name))
		return json_pack("{s:s, s:I, s:s}", "kind", "person", "person_id", (json_int_t)id, "name", name);
	if (strncmp(actor, "token:", 6) == 0)
		return json_pack("{s:s, s:s}", "kind", "token", "name", actor + 6);
	if (strncmp(actor, "sms:", 4) == 0) {
		rest = actor + 4;
		if (strncmp(rest, "whatsapp:", 9) == 0)
			rest += 9;
		return phone_actor("phone", rest);
	}
	if (strncmp(actor, "keypad:", 7) == 0)
		return phone_actor("keypad", actor + 7);
	return json_pack("{s:s, s:s}", "kind", "system", "name", actor);
}
