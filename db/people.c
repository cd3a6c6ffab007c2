/*
 * db/people.c — statements on the people table, validation of the API's person fields and
 * the archive-instead-of-delete rule (see people.h).
 */
#include "people.h"

#include <stdio.h>
#include <string.h>

#include "db/audit.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"

/* ---------------------------------------------------------------- validation */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* C0, DEL, C1 (U+0080..U+009F) and the non-characters U+FFFE/U+FFFF: a name reaches SMS texts
 * and TwiML, where these are invisible, boxes, or not XML at all. The input is valid UTF-8
 * (jansson checked it). */
static bool has_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7F)
			return true;
		if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
			return true;
		if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))
			return true;
	}
	return false;
}

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* A pragmatic check: one '@' with something on both sides, no spaces, control characters or
 * the characters that delimit addresses in mail headers and SMTP (<>()[],;:\"), since the
 * address is written into both when pages go by e-mail. */
static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > PEOPLE_EMAIL_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7F || strchr("<>()[],;:\\\"", *s))
			return false;
	return true;
}

/* Records why (code and field static, msg the sentence) and returns rc. */
static enum rc refuse(struct people_err *err, enum rc rc, const char *code, const char *field, const char *msg)
{
	if (err) {
		err->code = code;
		snprintf(err->field, sizeof err->field, "%s", field);
		snprintf(err->msg, sizeof err->msg, "%s", msg);
	}
	return rc;
}

static void err_clear(struct people_err *err)
{
	if (err) {
		err->code = NULL;
		err->field[0] = '\0';
		err->msg[0] = '\0';
	}
}

enum rc people_input_check(const json_t *body, bool partial, struct person_input *in, struct people_err *err)
{
	const char *key;
	json_t *v;

	memset(in, 0, sizeof *in);
	err_clear(err);
	if (!json_is_object(body))
		return refuse(err, RC_INVALID, "invalid", "", "expected a JSON object");
	json_object_foreach((json_t *)body, key, v)
	{
		if (!strcmp(key, "name")) {
			if (!json_is_string(v))
				return refuse(err, RC_UNPROCESSABLE, "name_invalid", "name", "name: expected a string");
			in->name = json_string_value(v);
			in->has_name = true;
			if (is_blank(in->name) || utf8_chars(in->name) > PEOPLE_NAME_MAX || has_control(in->name))
				return refuse(err, RC_UNPROCESSABLE, "name_invalid", "name",
				              "name: expected 1 to 200 characters, no control characters");
		} else if (!strcmp(key, "phone")) {
			if (!json_is_string(v) || !cfg_is_e164(json_string_value(v)))
				return refuse(err, RC_UNPROCESSABLE, "phone_invalid", "phone",
				              "phone: expected E.164 such as +5511999990000");
			in->phone = json_string_value(v);
			in->has_phone = true;
		} else if (!strcmp(key, "email")) {
			in->has_email = true;
			if (json_is_null(v) || (json_is_string(v) && !json_string_value(v)[0]))
				in->email = NULL;
			else if (json_is_string(v) && email_ok(json_string_value(v)))
				in->email = json_string_value(v);
			else
				return refuse(err, RC_UNPROCESSABLE, "email_invalid", "email",
				              "email: expected an address such as ana@example.com, or null");
		} else if (!strcmp(key, "whatsapp")) {
			if (!json_is_boolean(v))
				return refuse(err, RC_UNPROCESSABLE, "invalid_value", "whatsapp",
				              "whatsapp: expected true or false");
			in->whatsapp = json_is_true(v);
			in->has_whatsapp = true;
		} else if (!strcmp(key, "email_pages")) {
			if (!json_is_boolean(v))
				return refuse(err, RC_UNPROCESSABLE, "invalid_value", "email_pages",
				              "email_pages: expected true or false");
			in->email_pages = json_is_true(v);
			in->has_email_pages = true;
		} else if (!strcmp(key, "id") || !strcmp(key, "sms_opt_out") || !strcmp(key, "created_at") ||
		           !strcmp(key, "updated_at")) {
			/* read-only: ignored, so a client may send back what it read */
		} else {
			char msg[PEOPLE_ERR_MAX];

			snprintf(msg, sizeof msg, "%.40s: unknown field (name, phone, email, whatsapp, email_pages)",
			         key);
			refuse(err, RC_UNPROCESSABLE, "unknown_field", "", msg);
			if (err)
				snprintf(err->field, sizeof err->field, "%.40s", key);
			return RC_UNPROCESSABLE;
		}
	}
	if (!partial && !in->has_name)
		return refuse(err, RC_UNPROCESSABLE, "required", "name", "name: required");
	if (!partial && !in->has_phone)
		return refuse(err, RC_UNPROCESSABLE, "required", "phone",
		              "phone: required, E.164 such as +5511999990000");
	return RC_OK;
}

enum rc people_input_parse(const json_t *body, bool partial, struct person_input *in, char *err, size_t errlen)
{
	struct people_err why;
	enum rc rc = people_input_check(body, partial, in, &why);

	snprintf(err, errlen, "%s", why.msg);
	return rc;
}

/* ---------------------------------------------------------------- reading */

#define PERSON_COLS                                                                                                    \
	"id, name, phone, coalesce(email, ''), whatsapp, sms_opt_out, coalesce(sms_opt_out_at, 0), "                   \
	"coalesce(sms_opt_out_via, ''), coalesce(whatsapp_inbound_at, 0), email_pages"

static void read_row(struct db_stmt *st, struct person *p)
{
	p->id = db_column_int64(st, 0);
	snprintf(p->name, sizeof p->name, "%s", (const char *)db_column_text(st, 1));
	snprintf(p->phone, sizeof p->phone, "%s", (const char *)db_column_text(st, 2));
	snprintf(p->email, sizeof p->email, "%s", (const char *)db_column_text(st, 3));
	p->whatsapp = db_column_int(st, 4) != 0;
	p->sms_opt_out = db_column_int(st, 5) != 0;
	p->sms_opt_out_at = p->sms_opt_out ? db_column_int64(st, 6) : 0;
	snprintf(p->sms_opt_out_via, sizeof p->sms_opt_out_via, "%s",
	         p->sms_opt_out ? (const char *)db_column_text(st, 7) : "");
	p->whatsapp_inbound_at = db_column_int64(st, 8);
	p->email_pages = db_column_int(st, 9) != 0;
}

static enum rc one(struct db *db, struct db_stmt *st, struct person *out)
{
	enum rc rc;
	int s = db_step(st);

	if (s == DB_ROW) {
		read_row(st, out);
		rc = RC_OK;
	} else if (s == DB_DONE) {
		rc = RC_NOT_FOUND;
	} else {
		rc = db_rc(db);
		log_err("people: %s", db_errmsg(db));
	}
	db_reset(st);
	return rc;
}

enum rc people_get(struct db *db, int64_t id, struct person *out)
{
	static const char sql[] = "SELECT " PERSON_COLS " FROM people WHERE id = ?1 AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	return one(db, st, out);
}

enum rc people_find_phone(struct db *db, const char *phone, struct person *out)
{
	static const char sql[] = "SELECT " PERSON_COLS " FROM people WHERE phone = ?1 AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	if (!phone)
		return RC_NOT_FOUND;
	if (!st || db_bind_text(st, 1, phone, -1, DB_STATIC))
		return RC_DB;
	return one(db, st, out);
}

void people_name(struct db *db, int64_t id, char *out, size_t len)
{
	static const char sql[] = "SELECT name FROM people WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	out[0] = '\0';
	if (!st)
		return;
	if (!db_bind_int64(st, 1, id) && db_step(st) == DB_ROW)
		snprintf(out, len, "%s", (const char *)db_column_text(st, 0));
	db_reset(st);
}

json_t *people_to_json(const struct person *p)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:b,s:b}", "id", (json_int_t)p->id, "name", p->name, "phone", p->phone,
	                      "email", p->email[0] ? json_string(p->email) : json_null(), "whatsapp", p->whatsapp,
	                      "sms_opt_out", p->sms_opt_out);

	/* How and when texts were turned off: the console and the API say why someone gets no text. */
	if (o) {
		json_object_set_new(o, "sms_opt_out_at",
		                    p->sms_opt_out && p->sms_opt_out_at ? json_integer(p->sms_opt_out_at)
		                                                        : json_null());
		json_object_set_new(o, "email_pages", json_boolean(p->email_pages));
		json_object_set_new(o, "whatsapp_inbound_at",
		                    p->whatsapp_inbound_at ? json_integer(p->whatsapp_inbound_at) : json_null());
		json_object_set_new(o, "sms_opt_out_via",
		                    p->sms_opt_out && p->sms_opt_out_via[0] ? json_string(p->sms_opt_out_via)
		                                                            : json_null());
	}
	return o;
}

/* q as a LIKE pattern that finds it anywhere, lower-case, its own % _ and ! taken literally
 * (ESCAPE '!'): "Ana_1" -> "%ana!_1%". */
static void like_pattern(const char *q, char *out, size_t len)
{
	size_t n = 0;

	if (len < 4)
		return;
	out[n++] = '%';
	for (; *q && n + 3 < len; q++) {
		if (*q == '%' || *q == '_' || *q == '!')
			out[n++] = '!';
		out[n++] = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
	}
	out[n++] = '%';
	out[n] = '\0';
}

enum rc people_list(struct db *db, const struct people_filter *f, json_t **out)
{
	/* The cursor is the last person of the previous page: the next page starts after their
	 * (name, id) in the same order; archived people keep their row, so the cursor stays valid. */
	static const char sql[] = "SELECT " PERSON_COLS " FROM people WHERE deleted_at IS NULL "
	                          "AND (?2 = 0 OR name > (SELECT c.name FROM people c WHERE c.id = ?2) "
	                          "OR (name = (SELECT c.name FROM people c WHERE c.id = ?2) AND id > ?2)) "
	                          "AND (?3 = '' OR (?3 = 'none' AND coalesce(role, '') = '') OR role = ?3) "
	                          "AND (?4 = '' OR lower(name) LIKE ?4 ESCAPE '!' OR phone LIKE ?4 ESCAPE '!') "
	                          "ORDER BY name, id LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *a = json_array();
	char pattern[2 * PEOPLE_NAME_BYTES + 3] = "";
	struct person p;
	int s;

	*out = NULL;
	if (f->q && f->q[0])
		like_pattern(f->q, pattern, sizeof pattern);
	if (!st || !a || db_bind_int64(st, 1, f->limit) || db_bind_int64(st, 2, f->after_id) ||
	    db_bind_text(st, 3, f->role ? f->role : "", -1, DB_STATIC) || db_bind_text(st, 4, pattern, -1, DB_STATIC)) {
		json_decref(a);
		return a ? db_bind_failed(db, st, "people_list") : RC_INTERNAL;
	}
	while ((s = db_step(st)) == DB_ROW) {
		read_row(st, &p);
		json_array_append_new(a, people_to_json(&p));
	}
	db_reset(st);
	if (s != DB_DONE) {
		log_err("people_list: %s", db_errmsg(db));
		json_decref(a);
		return db_rc(db);
	}
	*out = a;
	return RC_OK;
}

/* ---------------------------------------------------------------- writing */

/* RC_CONFLICT with a message when phone belongs to someone other than self (0: anyone). */
static enum rc phone_free(struct db *db, const char *phone, int64_t self, struct people_err *err)
{
	static const char sql[] = "SELECT id, name, deleted_at IS NOT NULL FROM people WHERE phone = ?1 AND id != ?2";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_OK;
	int s;

	if (!st || db_bind_text(st, 1, phone, -1, DB_STATIC) || db_bind_int64(st, 2, self))
		return RC_DB;
	s = db_step(st);
	if (s == DB_ROW) {
		char msg[PEOPLE_ERR_MAX];

		snprintf(msg, sizeof msg, "phone: %s already belongs to %s#%lld (%s)", phone,
		         db_column_int(st, 2) ? "deleted person " : "person ", (long long)db_column_int64(st, 0),
		         (const char *)db_column_text(st, 1));
		rc = refuse(err, RC_CONFLICT, "phone_taken", "phone", msg);
	} else if (s != DB_DONE) {
		rc = db_rc(db);
	}
	db_reset(st);
	return rc;
}

static json_t *input_json(const struct person_input *in)
{
	json_t *o = json_object();

	if (in->has_name)
		json_object_set_new(o, "name", json_string(in->name));
	if (in->has_phone)
		json_object_set_new(o, "phone", json_string(in->phone));
	if (in->has_email)
		json_object_set_new(o, "email", in->email ? json_string(in->email) : json_null());
	if (in->has_whatsapp)
		json_object_set_new(o, "whatsapp", json_boolean(in->whatsapp));
	if (in->has_email_pages)
		json_object_set_new(o, "email_pages", json_boolean(in->email_pages));
	return o;
}

enum rc people_insert(struct db *db, const struct person_input *in, const char *actor, int64_t *id,
                      struct people_err *err)
{
	static const char sql[] =
	        "INSERT INTO people (name, phone, email, whatsapp, created_at, updated_at, email_pages) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)";
	struct db_stmt *st = NULL;
	json_t *detail = NULL;
	enum rc rc;

	*id = 0;
	err_clear(err);
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = phone_free(db, in->phone, 0, err);
	if (rc != RC_OK)
		goto out;
	rc = RC_DB;
	st = db_prepare(db, sql);
	if (!st || db_bind_text(st, 1, in->name, -1, DB_STATIC) || db_bind_text(st, 2, in->phone, -1, DB_STATIC) ||
	    db_bind_text(st, 3, in->has_email ? in->email : NULL, -1, DB_STATIC) ||
	    db_bind_int(st, 4, in->has_whatsapp && in->whatsapp) || db_bind_int64(st, 5, clock_now()) ||
	    db_bind_int(st, 6, !in->has_email_pages || in->email_pages))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		log_err("people_create: %s", db_errmsg(db));
		goto out;
	}
	*id = db_last_id(db);
	detail = input_json(in);
	rc = audit_log(db, actor, "people.create", *id, detail);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (st)
		db_reset(st);
	if (rc != RC_OK)
		db_rollback(db);
	json_decref(detail);
	return rc;
}

enum rc people_create(struct db *db, const struct person_input *in, const char *actor, int64_t *id, char *err,
                      size_t errlen)
{
	struct people_err why;
	enum rc rc = people_insert(db, in, actor, id, &why);

	snprintf(err, errlen, "%s", why.msg);
	return rc;
}

enum rc people_update(struct db *db, int64_t id, const struct person_input *in, const char *actor,
                      struct people_err *err)
{
	static const char sql[] =
	        "UPDATE people SET name = CASE WHEN ?2 THEN ?3 ELSE name END, "
	        "phone = CASE WHEN ?4 THEN ?5 ELSE phone END, email = CASE WHEN ?6 THEN ?7 ELSE email END, "
	        /* a changed contact is no longer verified (issue 16) */
	        "phone_verified_at = CASE WHEN ?4 AND ?5 != phone THEN NULL ELSE phone_verified_at END, "
	        "email_verified_at = CASE WHEN ?6 AND coalesce(?7, '') != coalesce(email, '') THEN NULL "
	        "ELSE email_verified_at END, "
	        "whatsapp = CASE WHEN ?8 THEN ?9 ELSE whatsapp END, updated_at = ?10, "
	        "email_pages = CASE WHEN ?11 THEN ?12 ELSE email_pages END "
	        "WHERE id = ?1 AND deleted_at IS NULL";
	struct db_stmt *st = NULL;
	json_t *detail = NULL;
	struct person p;
	enum rc rc;

	err_clear(err);
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = people_get(db, id, &p);
	if (rc != RC_OK)
		goto out;
	if (in->has_phone) {
		rc = phone_free(db, in->phone, id, err);
		if (rc != RC_OK)
			goto out;
	}
	rc = RC_DB;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, in->has_name) ||
	    db_bind_text(st, 3, in->name, -1, DB_STATIC) || db_bind_int(st, 4, in->has_phone) ||
	    db_bind_text(st, 5, in->phone, -1, DB_STATIC) || db_bind_int(st, 6, in->has_email) ||
	    db_bind_text(st, 7, in->email, -1, DB_STATIC) || db_bind_int(st, 8, in->has_whatsapp) ||
	    db_bind_int(st, 9, in->whatsapp) || db_bind_int64(st, 10, clock_now()) ||
	    db_bind_int(st, 11, in->has_email_pages) || db_bind_int(st, 12, in->email_pages))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		log_err("people_update: %s", db_errmsg(db));
		goto out;
	}
	detail = input_json(in);
	rc = audit_log(db, actor, "people.update", id, detail);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (st)
		db_reset(st);
	if (rc != RC_OK)
		db_rollback(db);
	json_decref(detail);
	return rc;
}

/* Why person id may not be removed now (err filled, RC_CONFLICT), or RC_OK. */
static enum rc removable(struct db *db, int64_t id, struct people_err *err)
{
	static const char in_rotation[] =
	        "SELECT 1 FROM rotation_members WHERE person_id = ?1 AND version_id = "
	        "(SELECT id FROM rotation_versions ORDER BY effective_at DESC, id DESC LIMIT 1)";
	static const char in_override[] =
	        "SELECT id FROM overrides WHERE person_id = ?1 AND end_at > ?2 ORDER BY start_at LIMIT 1";
	static const char in_escalation[] = "SELECT position FROM escalation_steps WHERE person_id = ?1 LIMIT 1";
	char msg[PEOPLE_ERR_MAX];
	struct db_stmt *st;
	enum rc rc = RC_OK;
	int s;

	st = db_prepare(db, in_rotation);
	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	s = db_step(st);
	db_reset(st);
	if (s == DB_ROW) {
		snprintf(msg, sizeof msg,
		         "person %lld is a member of the current rotation: remove them with PUT /api/rotation first",
		         (long long)id);
		return refuse(err, RC_CONFLICT, "person_in_rotation", "", msg);
	}
	if (s != DB_DONE)
		return db_rc(db);
	st = db_prepare(db, in_override);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, clock_now()))
		return RC_DB;
	s = db_step(st);
	if (s == DB_ROW) {
		snprintf(msg, sizeof msg,
		         "person %lld has override %lld that has not ended: delete it first (DELETE "
		         "/api/overrides/%lld)",
		         (long long)id, (long long)db_column_int64(st, 0), (long long)db_column_int64(st, 0));
		rc = refuse(err, RC_CONFLICT, "person_has_override", "", msg);
	} else if (s != DB_DONE) {
		rc = db_rc(db);
	}
	db_reset(st);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, in_escalation);
	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	s = db_step(st);
	if (s == DB_ROW) {
		snprintf(msg, sizeof msg,
		         "person %lld is step %d of the escalation policy: change it with PUT /api/escalation first",
		         (long long)id, db_column_int(st, 0));
		rc = refuse(err, RC_CONFLICT, "person_in_escalation", "", msg);
	} else if (s != DB_DONE) {
		rc = db_rc(db);
	}
	db_reset(st);
	return rc;
}

enum rc people_delete(struct db *db, int64_t id, const char *actor, bool *archived, struct people_err *err)
{
	static const char del[] = "DELETE FROM people WHERE id = ?1";
	static const char arc[] = "UPDATE people SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1";
	struct db_stmt *st = NULL;
	struct person p;
	json_t *detail = NULL;
	bool arch = false;
	enum rc rc;
	int s;

	err_clear(err);
	if (archived)
		*archived = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = people_get(db, id, &p);
	if (rc == RC_OK)
		rc = removable(db, id, err);
	if (rc != RC_OK)
		goto out;
	/* The delete runs under a savepoint: a refused statement aborts the whole transaction on
	 * PostgreSQL (SQLite undoes only the statement), and the archive below must still go in. */
	rc = db_savepoint(db);
	if (rc != RC_OK)
		goto out;
	rc = RC_DB;
	st = db_prepare(db, del);
	if (!st || db_bind_int64(st, 1, id))
		goto out;
	s = db_step(st);
	db_reset(st);
	if (s != DB_DONE) {
		/* A foreign key from the history (old rotation versions, past overrides, alerts) holds
		 * the row: archive it instead. */
		if (!db_err_is_foreign_key(db)) {
			rc = db_rc(db);
			log_err("people_delete: %s", db_errmsg(db));
			goto out;
		}
		if (db_rollback_to(db) != RC_OK || db_release(db) != RC_OK)
			goto out;
		st = db_prepare(db, arc);
		if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, clock_now()))
			goto out;
		s = db_step(st);
		db_reset(st);
		if (s != DB_DONE) {
			rc = db_rc(db);
			goto out;
		}
		arch = true;
	}
	st = NULL;
	detail = json_pack("{s:s,s:s,s:b}", "name", p.name, "phone", p.phone, "archived", arch);
	rc = audit_log(db, actor, "people.delete", id, detail);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc == RC_OK && archived)
		*archived = arch;
out:
	if (rc != RC_OK)
		db_rollback(db);
	json_decref(detail);
	return rc;
}

enum rc people_set_opt_out(struct db *db, int64_t id, bool opt_out, const char *actor)
{
	return people_set_opt_out_via(db, id, opt_out, NULL, actor, NULL);
}

/* The opt-out write and its audit row, in the caller's transaction. */
static enum rc set_opt_out(struct db *db, int64_t id, bool opt_out, const char *via, const char *actor, bool *changed)
{
	static const char sql[] = "UPDATE people SET sms_opt_out = ?2, updated_at = ?3, "
	                          "sms_opt_out_at = CASE WHEN ?2 = 1 THEN ?3 ELSE NULL END, "
	                          "sms_opt_out_via = CASE WHEN ?2 = 1 THEN ?4 ELSE NULL END "
	                          "WHERE id = ?1 AND sms_opt_out != ?2";
	struct db_stmt *st = db_prepare(db, sql);
	json_t *detail = NULL;
	enum rc rc = RC_OK;

	if (changed)
		*changed = false;
	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, opt_out) || db_bind_int64(st, 3, clock_now()) ||
	    (via ? db_bind_text(st, 4, via, -1, DB_TRANSIENT) : db_bind_null(st, 4))) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		return db_rc(db) == RC_OK ? RC_DB : db_rc(db);
	}
	db_reset(st);
	if (db_changes(db) == 1) {
		detail = via ? json_pack("{s:b,s:s}", "sms_opt_out", opt_out, "via", via)
		             : json_pack("{s:b}", "sms_opt_out", opt_out);
		rc = audit_log(db, actor, "people.sms_opt_out", id, detail);
		if (rc == RC_OK && changed)
			*changed = true;
	}
	json_decref(detail);
	return rc;
}

enum rc people_set_opt_out_via(struct db *db, int64_t id, bool opt_out, const char *via, const char *actor,
                               bool *changed)
{
	enum rc rc = db_begin(db);

	if (changed)
		*changed = false;
	if (rc != RC_OK)
		return rc;
	rc = set_opt_out(db, id, opt_out, via, actor, changed);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		if (changed)
			*changed = false;
	}
	return rc;
}

enum rc people_opt_out_phone(struct db *db, const char *phone, const char *via, const char *actor, int64_t *id,
                             bool *changed)
{
	struct person p;
	enum rc rc = people_find_phone(db, phone, &p);

	*id = 0;
	if (changed)
		*changed = false;
	if (rc != RC_OK)
		return rc;
	*id = p.id;
	return set_opt_out(db, p.id, true, via, actor, changed);
}

enum rc people_phone_opted_out(struct db *db, const char *phone, bool *opted_out)
{
	struct person p;
	enum rc rc = people_find_phone(db, phone, &p);

	*opted_out = rc == RC_OK && p.sms_opt_out;
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc people_opted_out_count(struct db *db, int64_t *count)
{
	static const char sql[] = "SELECT count(*) FROM people WHERE sms_opt_out = 1 AND deleted_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	*count = 0;
	if (st && db_step(st) == DB_ROW) {
		*count = db_column_int64(st, 0);
		rc = RC_OK;
	}
	if (st)
		db_reset(st);
	return rc;
}

enum rc people_whatsapp_inbound(struct db *db, const char *phone, int64_t at)
{
	static const char sql[] = "UPDATE people SET whatsapp_inbound_at = ?2 WHERE phone = ?1 AND deleted_at IS NULL "
	                          "AND (whatsapp_inbound_at IS NULL OR whatsapp_inbound_at < ?2)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	if (!st || db_bind_text(st, 1, phone, -1, DB_TRANSIENT) || db_bind_int64(st, 2, at)) {
		if (st)
			db_reset(st);
		return RC_DB;
	}
	if (db_step(st) == DB_DONE)
		rc = RC_OK;
	else
		log_err("people_whatsapp_inbound: %s", db_errmsg(db));
	db_reset(st);
	return rc;
}

enum rc people_whatsapp_window(struct db *db, const char *phone, int64_t now, bool *inside)
{
	struct person p;
	enum rc rc = people_find_phone(db, phone, &p);

	*inside = rc == RC_OK && p.whatsapp_inbound_at > 0 && now - p.whatsapp_inbound_at < PEOPLE_WHATSAPP_WINDOW_S;
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc people_set_whatsapp_via(struct db *db, int64_t id, bool on, const char *via, const char *actor, bool *changed)
{
	static const char sql[] = "UPDATE people SET whatsapp = ?2, updated_at = ?3 WHERE id = ?1 AND whatsapp != ?2";
	struct db_stmt *st;
	json_t *detail = NULL;
	enum rc rc;

	if (changed)
		*changed = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int(st, 2, on) || db_bind_int64(st, 3, clock_now()))
		goto out;
	if (db_step(st) != DB_DONE) {
		db_reset(st);
		rc = db_rc(db);
		goto out;
	}
	db_reset(st);
	rc = RC_OK;
	if (db_changes(db) == 1) {
		detail = json_pack("{s:b,s:s}", "whatsapp", on, "via", via ? via : "");
		rc = audit_log(db, actor, "people.whatsapp", id, detail);
		if (changed)
			*changed = true;
	}
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK)
		db_rollback(db);
	json_decref(detail);
	return rc;
}
