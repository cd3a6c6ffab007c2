/*
 * db/mail.c — e-mail rows of the outbox and their mail_messages (contract in mail.h).
 */
#include "db/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "db/instance.h"
#include "db/outbox.h"

/* Several instances may share the database (PostgreSQL): claims lock rows, leases hold. */
static bool shared_db(struct db *db)
{
	return strcmp(db_driver_name(db), "sqlite") != 0;
}

static void copy_text(struct db_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *t = db_column_text(st, col);

	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static char *dup_text(struct db_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

/* A page text's alerts for its person, not e-mailed to that person yet. */
#define PAGE_SOURCES                                                                                                   \
	"SELECT o.id, pt.alert_id, 0, p.id, p.name, p.email, o.created_at FROM outbox o "                              \
	"JOIN page_texts pt ON pt.outbox_id = o.id "                                                                   \
	"JOIN people p ON p.phone = o.to_number AND p.deleted_at IS NULL AND p.email IS NOT NULL AND p.email <> '' "   \
	"AND p.email_pages = 1 WHERE o.kind IN ('sms', 'whatsapp') AND o.class = 'alert' AND "                         \
	"NOT EXISTS (SELECT 1 FROM page_texts pe JOIN outbox e ON e.id = pe.outbox_id WHERE pe.alert_id = "            \
	"pt.alert_id "                                                                                                 \
	"AND e.kind = 'email' AND e.to_number = p.email) AND "

static enum rc read_sources(struct db *db, struct db_stmt *st, size_t max, struct mail_source *out, size_t *n)
{
	int s = DB_DONE;

	while (*n < max && (s = db_step(st)) == DB_ROW) {
		struct mail_source *m = &out[(*n)++];

		memset(m, 0, sizeof *m);
		m->outbox_id = db_column_int64(st, 0);
		m->alert_id = db_column_int64(st, 1);
		m->owner_id = db_column_int64(st, 2);
		m->person_id = db_column_int64(st, 3);
		copy_text(st, 4, m->name, sizeof m->name);
		copy_text(st, 5, m->email, sizeof m->email);
		m->created_at = db_column_int64(st, 6);
	}
	if (*n < max && s != DB_DONE) {
		log_err("mail_sources: %s", db_errmsg(db));
		db_reset(st);
		return db_rc(db);
	}
	db_reset(st);
	return RC_OK;
}

enum rc mail_texts_to_follow(struct db *db, size_t max, struct mail_text *out, size_t *n)
{
	/* served by the partial indexes page_texts_unmailed and outbox_voicemail_unmailed */
	static const char sql[] =
	        "SELECT id, 0 FROM (SELECT DISTINCT outbox_id AS id FROM page_texts WHERE mailed = 0 "
	        "ORDER BY outbox_id LIMIT ?1) p UNION ALL SELECT id, 1 FROM (SELECT id FROM outbox WHERE "
	        "mail_followed = 0 AND owner_type = 'voicemail' AND kind IN ('sms', 'whatsapp') ORDER BY id LIMIT ?1) "
	        "v "
	        "ORDER BY 1 LIMIT ?1";
	struct db_stmt *st = db_prepare(db, sql);
	int s = DB_DONE;

	*n = 0;
	if (!st || db_bind_int64(st, 1, (int64_t)max))
		return db_bind_failed(db, st, "mail_texts_to_follow");
	while (*n < max && (s = db_step(st)) == DB_ROW) {
		out[*n].id = db_column_int64(st, 0);
		out[*n].voicemail = db_column_int(st, 1) != 0;
		(*n)++;
	}
	db_reset(st);
	if (*n < max && s != DB_DONE) {
		log_err("mail_texts_to_follow: %s", db_errmsg(db));
		return db_rc(db);
	}
	return RC_OK;
}

/*
 * PostgreSQL: the alerts alerts[0..n) (ascending) are this transaction's to e-mail until it
 * ends. An alert goes out in several texts at once (SMS and WhatsApp to one person, a waiting
 * text and a new one): the row claims keep each text's alerts to one instance, these keep each
 * alert to one, so that whoever comes second reads (READ COMMITTED: a statement's own snapshot)
 * the e-mail the first one queued and queues none. Taken in ascending order by every mailer, so
 * two never wait on each other. Keys: the two-int form, its own space; an id past 2^31 shares a
 * key with a smaller one, which only makes them take turns.
 */
static enum rc lock_alerts(struct db *db, const int64_t *alerts, size_t n)
{
	static const char sql[] = "SELECT pg_advisory_xact_lock(1835100524, CAST(?1 AS integer))"; /* 'mail' */
	enum rc rc = RC_OK;
	size_t i;

	for (i = 0; i < n && rc == RC_OK; i++) {
		struct db_stmt *st = db_prepare(db, sql);

		if (!st || db_bind_int64(st, 1, alerts[i] % 2147483647))
			return db_bind_failed(db, st, "mail lock alert");
		rc = db_step_row(db, st);
		db_reset(st);
		if (rc != RC_OK)
			log_err("mail lock alert %lld: %s", (long long)alerts[i], db_errmsg(db));
	}
	return rc;
}

enum rc mail_claim_page_alerts(struct db *db, int64_t id, int64_t *alerts, size_t max, size_t *n)
{
	static const char lite[] =
	        "SELECT alert_id FROM page_texts WHERE outbox_id = ?1 AND mailed = 0 ORDER BY alert_id LIMIT ?2";
	static const char locked[] = "SELECT alert_id FROM page_texts WHERE outbox_id = ?1 AND mailed = 0 "
	                             "ORDER BY alert_id LIMIT ?2 FOR UPDATE SKIP LOCKED";
	struct db_stmt *st = db_prepare(db, shared_db(db) ? locked : lite);
	int s = DB_DONE;

	*n = 0;
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, (int64_t)max))
		return db_bind_failed(db, st, "mail_claim_page_alerts");
	while (*n < max && (s = db_step(st)) == DB_ROW)
		alerts[(*n)++] = db_column_int64(st, 0);
	db_reset(st);
	if (*n < max && s != DB_DONE) {
		log_err("mail_claim_page_alerts %lld: %s", (long long)id, db_errmsg(db));
		return db_rc(db);
	}
	return shared_db(db) ? lock_alerts(db, alerts, *n) : RC_OK;
}

enum rc mail_mark_page_followed(struct db *db, int64_t id, int64_t alert_id)
{
	static const char sql[] = "UPDATE page_texts SET mailed = 1 WHERE outbox_id = ?1 AND alert_id = ?2";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, alert_id))
		return db_bind_failed(db, st, "mail_mark_page_followed");
	return db_step_done(db, st, "mail_mark_page_followed");
}

enum rc mail_mark_voicemail_followed(struct db *db, int64_t id)
{
	static const char sql[] = "UPDATE outbox SET mail_followed = 1 WHERE id = ?1 AND mail_followed = 0";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "mail_mark_voicemail_followed");
	rc = db_step_done(db, st, "mail_mark_voicemail_followed");
	return rc == RC_OK && db_changes(db) != 1 ? RC_CONFLICT : rc;
}

enum rc mail_sources_of(struct db *db, int64_t id, size_t max, struct mail_source *out, size_t *n)
{
	static const char page[] = PAGE_SOURCES "o.id = ?1 ORDER BY p.id, pt.alert_id LIMIT ?2";
	static const char voicemail[] =
	        "SELECT o.id, 0, coalesce(o.owner_id, 0), p.id, p.name, p.email, o.created_at FROM outbox o "
	        "JOIN people p ON p.phone = o.to_number AND p.deleted_at IS NULL AND p.email IS NOT NULL AND "
	        "p.email <> '' WHERE o.id = ?1 AND o.kind IN ('sms', 'whatsapp') AND "
	        "o.class = 'support' AND o.owner_type = 'voicemail' AND "
	        "NOT EXISTS (SELECT 1 FROM mail_messages m WHERE m.source_id = o.id) ORDER BY p.id LIMIT ?2";
	struct db_stmt *st;
	enum rc rc;

	*n = 0;
	st = db_prepare(db, page);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, (int64_t)max))
		return db_bind_failed(db, st, "mail_sources_of");
	rc = read_sources(db, st, max, out, n);
	if (rc != RC_OK || *n >= max)
		return rc;
	st = db_prepare(db, voicemail);
	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, (int64_t)(max - *n)))
		return db_bind_failed(db, st, "mail_sources_of voicemail");
	return read_sources(db, st, max, out, n);
}

enum rc mail_alerts_of(struct db *db, int64_t outbox_id, void (*fn)(void *ctx, const struct mail_alert *a), void *ctx)
{
	static const char sql[] =
	        "SELECT a.id, a.summary, coalesce(a.details, ''), coalesce(a.severity, ''), "
	        "coalesce(a.runbook_url, ''), a.status, coalesce(a.source, ''), a.created_at "
	        "FROM page_texts t JOIN alerts a ON a.id = t.alert_id WHERE t.outbox_id = ?1 ORDER BY a.id LIMIT ?2";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	if (!st || db_bind_int64(st, 1, outbox_id) || db_bind_int(st, 2, MAIL_ALERTS_MAX))
		return db_bind_failed(db, st, "mail_alerts_of");
	while ((s = db_step(st)) == DB_ROW) {
		struct mail_alert a = {
		        db_column_int64(st, 0),
		        (const char *)db_column_text(st, 1),
		        (const char *)db_column_text(st, 2),
		        (const char *)db_column_text(st, 3),
		        (const char *)db_column_text(st, 4),
		        (const char *)db_column_text(st, 5),
		        (const char *)db_column_text(st, 6),
		        db_column_int64(st, 7),
		};

		fn(ctx, &a);
	}
	db_reset(st);
	if (s != DB_DONE) {
		log_err("mail_alerts_of %lld: %s", (long long)outbox_id, db_errmsg(db));
		return db_rc(db);
	}
	return RC_OK;
}

enum rc mail_voicemail_get(struct db *db, int64_t id, struct mail_voicemail *vm)
{
	static const char sql[] = "SELECT caller, coalesce(recording_url, ''), coalesce(transcription, ''), "
	                          "coalesce(duration_s, 0), created_at FROM voicemails WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(vm, 0, sizeof *vm);
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "mail_voicemail_get");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		vm->caller = dup_text(st, 0);
		vm->recording_url = dup_text(st, 1);
		vm->transcription = dup_text(st, 2);
		vm->duration_s = db_column_int(st, 3);
		vm->created_at = db_column_int64(st, 4);
		if (!vm->caller || !vm->recording_url || !vm->transcription)
			rc = RC_INTERNAL;
	}
	db_reset(st);
	if (rc != RC_OK)
		mail_voicemail_release(vm);
	return rc;
}

void mail_voicemail_release(struct mail_voicemail *vm)
{
	free(vm->caller);
	free(vm->recording_url);
	free(vm->transcription);
	memset(vm, 0, sizeof *vm);
}

enum rc mail_enqueue(struct db *db, const struct mail_new *m, bool *created)
{
	static const char ins[] =
	        "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, owner_type, owner_id, "
	        "next_at_ms, created_at, updated_at) VALUES ('email', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
	        "ON CONFLICT (idem_key) DO NOTHING";
	static const char msg[] = "INSERT INTO mail_messages (outbox_id, message_id, subject, source_id) VALUES "
	                          "(?1, ?2, ?3, ?4)";
	/* an e-mail's own alerts are no text to follow: mailed = 1 */
	static const char page[] = "INSERT INTO page_texts (outbox_id, alert_id, mailed) VALUES (?1, ?2, 1)";
	struct db_stmt *st = db_prepare(db, ins);
	int64_t now_ms = clock_now_ms(), id;
	enum rc rc;
	int i;

	*created = false;
	if (!st || db_bind_text(st, 1, m->class_, -1, DB_STATIC) || db_bind_int(st, 2, m->priority) ||
	    db_bind_text(st, 3, m->to, -1, DB_STATIC) || db_bind_text(st, 4, m->message, -1, DB_STATIC) ||
	    db_bind_text(st, 5, m->idem_key, -1, DB_STATIC) || db_bind_opt_text(st, 6, m->owner_type) ||
	    (m->owner_id ? db_bind_int64(st, 7, m->owner_id) : db_bind_null(st, 7)) || db_bind_int64(st, 8, now_ms) ||
	    db_bind_int64(st, 9, now_ms / 1000))
		return db_bind_failed(db, st, "mail_enqueue");
	rc = db_step_done(db, st, "mail_enqueue");
	if (rc != RC_OK || db_changes(db) != 1)
		return rc;
	id = db_last_id(db);
	st = db_prepare(db, msg);
	if (!st || db_bind_int64(st, 1, id) || db_bind_text(st, 2, m->message_id, -1, DB_STATIC) ||
	    db_bind_text(st, 3, m->subject, -1, DB_STATIC) ||
	    (m->source_id ? db_bind_int64(st, 4, m->source_id) : db_bind_null(st, 4)))
		return db_bind_failed(db, st, "mail_enqueue message");
	rc = db_step_done(db, st, "mail_enqueue message");
	for (i = 0; i < m->n_alerts && rc == RC_OK; i++) {
		st = db_prepare(db, page);
		if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, m->alerts[i]))
			return db_bind_failed(db, st, "mail_enqueue page");
		rc = db_step_done(db, st, "mail_enqueue page");
	}
	if (rc == RC_OK)
		*created = true;
	return rc;
}

enum rc mail_mark_data(struct db *db, int64_t id, int64_t now_ms)
{
	static const char sql[] = "UPDATE mail_messages SET data_at_ms = ?2 WHERE outbox_id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, now_ms))
		return db_bind_failed(db, st, "mail_mark_data");
	return db_step_done(db, st, "mail_mark_data");
}

enum rc mail_key_exists(struct db *db, const char *key, bool *exists)
{
	static const char sql[] = "SELECT 1 FROM outbox WHERE idem_key = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*exists = false;
	if (!st || db_bind_text(st, 1, key, -1, DB_STATIC))
		return db_bind_failed(db, st, "mail_key_exists");
	rc = db_step_row(db, st);
	db_reset(st);
	*exists = rc == RC_OK;
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}

enum rc mail_message_id(struct db *db, int64_t id, char *out, size_t size)
{
	static const char sql[] = "SELECT message_id FROM mail_messages WHERE outbox_id = ?1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (size)
		out[0] = '\0';
	if (!st || db_bind_int64(st, 1, id))
		return db_bind_failed(db, st, "mail_message_id");
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		copy_text(st, 0, out, size);
	db_reset(st);
	return rc;
}

enum rc mail_stuck(struct db *db, int64_t now_ms, size_t max, struct mail_stuck *out, size_t *n)
{
	/* ?3 = 0 (SQLite, one instance): every row; else only this instance's */
	static const char sql[] = "SELECT o.id, coalesce(m.data_at_ms, 0), o.tries, coalesce(m.message_id, '') "
	                          "FROM outbox o LEFT JOIN mail_messages m ON m.outbox_id = o.id "
	                          "WHERE o.status = 'sending' AND o.kind = 'email' AND o.next_at_ms <= ?1 "
	                          "AND (?3 = 0 OR o.claimed_by = ?4) ORDER BY o.id LIMIT ?2";
	bool shared = shared_db(db);
	struct db_stmt *st;
	enum rc rc;
	int s = DB_DONE;

	*n = 0;
	if (shared) {
		rc = outbox_adopt_expired(db, now_ms, max, true); /* a dead instance's become ours */
		if (rc != RC_OK)
			return rc;
	}
	st = db_prepare(db, sql);
	if (!st || db_bind_int64(st, 1, now_ms) || db_bind_int64(st, 2, (int64_t)max) ||
	    db_bind_int(st, 3, shared ? 1 : 0) || db_bind_text(st, 4, instance_id(), -1, DB_STATIC))
		return db_bind_failed(db, st, "mail_stuck");
	while (*n < max && (s = db_step(st)) == DB_ROW) {
		struct mail_stuck *r = &out[(*n)++];

		r->id = db_column_int64(st, 0);
		r->data_at_ms = db_column_int64(st, 1);
		r->tries = db_column_int(st, 2);
		copy_text(st, 3, r->message_id, sizeof r->message_id);
	}
	if (*n < max && s != DB_DONE) {
		log_err("mail_stuck: %s", db_errmsg(db));
		db_reset(st);
		return db_rc(db);
	}
	db_reset(st);
	return RC_OK;
}

enum rc mail_last_attempt(struct db *db, struct mail_last *out)
{
	static const char sql[] =
	        "SELECT status, coalesce(error_message, ''), attempt_at_ms FROM outbox "
	        "WHERE kind = 'email' AND attempt_at_ms IS NOT NULL ORDER BY attempt_at_ms DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	memset(out, 0, sizeof *out);
	if (!st)
		return db_bind_failed(db, st, "mail_last_attempt");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		out->any = true;
		copy_text(st, 0, out->status, sizeof out->status);
		copy_text(st, 1, out->error, sizeof out->error);
		out->at_ms = db_column_int64(st, 2);
	}
	db_reset(st);
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}
