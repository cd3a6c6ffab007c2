/*
 * db/outbox.h — the outbox table: every SMS, WhatsApp message and call plantao makes.
 * Handlers and engine jobs only insert rows (outbox_enqueue) inside their own transaction;
 * the engine's outbox job sends them. The idempotency key makes an insert happen once:
 * enqueueing a key that exists already is a no-op that returns the existing row id.
 */
#ifndef PLANTAO_OUTBOX_H
#define PLANTAO_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

enum outbox_kind { OUTBOX_SMS, OUTBOX_WHATSAPP, OUTBOX_CALL };

/* Send order: lower first. */
enum outbox_priority { OUTBOX_PRIO_ALERT = 0, OUTBOX_PRIO_SUPPORT = 1, OUTBOX_PRIO_SALES = 2 };

struct outbox_msg {
	enum outbox_kind kind;
	const char *class_;     /* "alert" (rate-limited per destination), "ack" (exempt), "support",
				 * "handoff", "sales", "reply" */
	enum outbox_priority priority;
	const char *to;         /* E.164 (the "whatsapp:" prefix is added when sending) */
	const char *body;       /* messages */
	const char *url;        /* calls: absolute TwiML URL */
	bool machine_detection; /* calls */
	const char *idem_key;   /* unique per intended send, e.g. "alert:12:sms:+5511…" */
	const char *owner_type; /* "call_attempt", "alert", "voicemail", "sales", "handoff", … */
	int64_t owner_id;
	int64_t not_before_ms;  /* 0: now */
};

/* Inserts m as pending; *id (may be NULL) gets the row id (new or existing for the same key). */
enum rc outbox_enqueue(struct db *db, const struct outbox_msg *m, int64_t *id);

/* Counts by status for /metrics: calls fn(ctx, status, count) for each status present. */
enum rc outbox_depth(struct db *db, void (*fn)(void *ctx, const char *status, int64_t n), void *ctx);

#endif
