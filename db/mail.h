/*
 * db/mail.h — e-mails in the outbox: rows of kind 'email' (to_number is the address, body the
 * whole message) and their table mail_messages (Message-ID, subject, the text row they go with,
 * and data_at_ms). Owns every statement particular to e-mail; the row life (pending -> sending
 * -> sent, retry, failed, canceled, undecided) and the reads shared with texts are db/outbox.h's.
 * Called by the mailer (server/outbox/mailer.c) on its own thread and connection.
 */
#ifndef PLANTAO_DB_MAIL_H
#define PLANTAO_DB_MAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "db/people.h"

#define MAIL_ALERTS_MAX 20 /* alerts listed in one page e-mail: every alert a page text carries */

/*
 * What someone also gets by e-mail: one alert of a page text (a text may list several, and a
 * waiting text takes in new alerts), or a voicemail notice (alert_id 0).
 */
struct mail_source {
	int64_t outbox_id;  /* the text row */
	int64_t alert_id;   /* a page's alert; 0: a voicemail notice */
	int64_t owner_id;   /* a voicemail notice: the voicemail */
	int64_t created_at; /* the text row's, Unix seconds */
	int64_t person_id;
	char name[PEOPLE_NAME_BYTES];
	char email[PEOPLE_EMAIL_MAX + 1];
};

/*
 * Following the texts (migration 0340). What the mailer has looked at is kept on the rows, not
 * in a cursor over ids (on PostgreSQL the ids of concurrent transactions commit out of order,
 * so a cursor skips texts committed late): page_texts.mailed for each alert of a page text
 * (a waiting page text takes in new alerts: each arrives unfollowed), outbox.mail_followed for
 * a voicemail notice. Each text is followed in one transaction of the mailer: claim what is
 * unfollowed, queue its e-mails (mail_enqueue), mark it followed, commit; an instance that dies
 * meanwhile leaves nothing claimed (its transaction ends with its session).
 */
struct mail_text {
	int64_t id;
	bool voicemail; /* a voicemail notice (else a page text) */
};
/* Texts with something unfollowed, ids ascending: at most max into out, *n the count. A read. */
enum rc mail_texts_to_follow(struct db *db, size_t max, struct mail_text *out, size_t *n);

/*
 * In the caller's transaction: claims the unfollowed alerts of page text id (PostgreSQL: FOR
 * UPDATE SKIP LOCKED: another instance's mailer passes over them until this transaction ends,
 * and none is claimed twice); their ids into alerts (at most max, ascending), *n the count. On
 * PostgreSQL each claimed alert is also locked until the transaction ends (waiting for another
 * mailer that follows another text carrying it), so an alert in two texts at once is e-mailed
 * once: mail_sources_of, read after, sees what that mailer queued.
 */
enum rc mail_claim_page_alerts(struct db *db, int64_t id, int64_t *alerts, size_t max, size_t *n);
/* In the caller's transaction: alert alert_id of page text id is followed. */
enum rc mail_mark_page_followed(struct db *db, int64_t id, int64_t alert_id);
/* In the caller's transaction: voicemail notice id is followed; RC_CONFLICT when it was already
 * (another instance followed it first). */
enum rc mail_mark_voicemail_followed(struct db *db, int64_t id);

/*
 * What text id calls for by e-mail, for the person whose phone it goes to when that person has
 * an e-mail: each alert of a page text when the person wants pages by e-mail (email_pages) and
 * has not been e-mailed that alert yet; a voicemail notice not e-mailed yet. At most max, by
 * person and alert; *n gets the count.
 */
enum rc mail_sources_of(struct db *db, int64_t id, size_t max, struct mail_source *out, size_t *n);

/* One alert of a page text, as an e-mail shows it. Strings are borrowed for the callback. */
struct mail_alert {
	int64_t id;
	const char *summary, *details, *severity, *runbook_url, *status, *source;
	int64_t created_at;
};

/* The alerts page text outbox_id carries, oldest first, at most MAIL_ALERTS_MAX: fn for each. */
enum rc mail_alerts_of(struct db *db, int64_t outbox_id, void (*fn)(void *ctx, const struct mail_alert *a), void *ctx);

/* A voicemail, for its e-mail. Strings are owned: release with mail_voicemail_release(). */
struct mail_voicemail {
	char *caller, *recording_url, *transcription; /* "" when unknown */
	int duration_s;
	int64_t created_at;
};
enum rc mail_voicemail_get(struct db *db, int64_t id, struct mail_voicemail *vm);
void mail_voicemail_release(struct mail_voicemail *vm);

/* A new e-mail row. Strings borrowed. */
struct mail_new {
	const char *class_;  /* "alert" (a page: cancelled with its alerts), "support" */
	int priority;        /* enum outbox_priority */
	const char *to;      /* address */
	const char *message; /* the whole RFC 5322 message */
	const char *message_id;
	const char *subject;  /* as written, for the outbox views */
	const char *idem_key; /* e.g. "mail:<text row>:<person>" */
	const char *owner_type;
	int64_t owner_id;
	int64_t source_id;     /* the text row it goes with */
	const int64_t *alerts; /* a page: its alerts (page_texts rows), n_alerts of them */
	int n_alerts;
};

/*
 * Inserts m as a pending outbox row of kind 'email' with its mail_messages row (and page_texts
 * rows for a page), in the caller's transaction. *created is false when idem_key existed
 * already (nothing is written).
 */
enum rc mail_enqueue(struct db *db, const struct mail_new *m, bool *created);

/*
 * Records that the whole of row id's message was handed to the SMTP connection and only its
 * end (CRLF . CRLF) remains to be written: in a transaction of its own, committed before that.
 */
enum rc mail_mark_data(struct db *db, int64_t id, int64_t now_ms);

/* Whether an outbox row with idempotency key key exists already. */
enum rc mail_key_exists(struct db *db, const char *key, bool *exists);

/* The Message-ID of e-mail row id into out (size bytes). RC_NOT_FOUND when it has none. */
enum rc mail_message_id(struct db *db, int64_t id, char *out, size_t size);

/*
 * An e-mail row left 'sending' whose deadline passed (next_at_ms <= now_ms): a crash or a hang.
 * On PostgreSQL only this instance's rows, as outbox_stuck (db/outbox.h, leases): rows whose
 * holder's lease expired are first taken over by this instance (a warning); those of live
 * instances (their engine renews the lease) are left to them, so an e-mail on the wire of a live
 * instance is never settled, and so never sent again, by another one.
 */
struct mail_stuck {
	int64_t id;
	int64_t data_at_ms; /* 0: the message's end was never about to be written */
	int tries;
	char message_id[160];
};
enum rc mail_stuck(struct db *db, int64_t now_ms, size_t max, struct mail_stuck *out, size_t *n);

/* The latest e-mail attempt, for logs and health: status and error of the row last tried. */
struct mail_last {
	bool any;
	char status[32];
	char error[256];
	int64_t at_ms;
};
enum rc mail_last_attempt(struct db *db, struct mail_last *out);

#endif
