/*
 * db/health.h — the facts /healthz and /metrics judge paging by: a write probe (the database
 * takes a write now, through the file PLANTAO_DB names), the pages and notices waiting in the
 * outbox and how old the oldest is, and what Twilio answered to the latest sends.
 * Read-only statements on the outbox (which db/outbox.c owns) plus the one-row health_probe
 * table (migration 0070). Called by server/http/ops.c on each request's own connection.
 */
#ifndef PLANTAO_DB_HEALTH_H
#define PLANTAO_DB_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Outbox priorities (enum outbox_priority): 0 alert pages, 1 support line, 2 sales. */
#define HEALTH_PRIORITIES 3
#define HEALTH_ERR_MAX    256

/*
 * Proves that a write reaches the database file: RC_OK after rewriting the probe row in its own
 * transaction. RC_CONFLICT when the file this connection writes to was deleted, renamed or
 * replaced since it was opened (the writes would be lost); else the mapped SQLite error
 * (RC_DB for read-only, full or broken files, RC_BUSY when the lock was not had in time).
 * err receives a one-line cause either way ("" on success).
 */
enum rc health_write_probe(struct db *db, int64_t now, char *err, size_t errlen);

/* What waits in the outbox, per priority: rows pending, retrying or being sent. */
struct health_waiting {
	int64_t count[HEALTH_PRIORITIES];
	int64_t oldest_at[HEALTH_PRIORITIES]; /* created_at of the oldest waiting row; 0 when none */
};
enum rc health_outbox_waiting(struct db *db, struct health_waiting *out);

/* What Twilio answered lately. Times are seconds (plantao's clock); 0 when there is none. */
struct health_twilio {
	int64_t last_accepted_at; /* latest send Twilio accepted (it has a SID) */
	int64_t last_error_at;    /* latest send refused or failed before Twilio accepted it, at or after since */
	int64_t last_error_id;    /* its outbox row */
	int last_error_code;      /* Twilio's error code; 0 for network errors and HTTP errors without one */
	char last_error_message[HEALTH_ERR_MAX];
};
/* Fills out from the outbox; errors older than since (seconds) are ignored. */
enum rc health_twilio_results(struct db *db, int64_t since, struct health_twilio *out);

#endif
