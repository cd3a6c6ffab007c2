/*
 * db/health.h — the facts /healthz and /metrics judge paging by: a write probe (the database
 * takes a write now, through the file PLANTAO_DB names), the pages and notices waiting in the
 * outbox and how old the oldest is, and what Twilio answered to the latest sends.
 * Read-only statements on the outbox (which db/outbox.c owns) plus the one-row health_probe
 * table (migration 0070). Called by server/http/ops.c on each request's own connection.
 */
#ifndef PLANTAO_DB_HEALTH_H
#define PLANTAO_DB_HEALTH_H

#include <stdbool.h>
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
 * err receives a one-line cause either way ("" on success); failures are logged as warnings.
 */
enum rc health_write_probe(struct db *db, int64_t now, char *err, size_t errlen);
/* RC_CONFLICT (err says why) when the file db writes to was deleted or replaced since it was
 * opened, else RC_OK (err untouched). A stat: cheap enough for every request. */
enum rc health_file_moved(struct db *db, char *err, size_t errlen);

/* What waits in the outbox, per priority: rows pending, retrying or being sent; and rows whose
 * outcome Twilio could not confirm (status 'undecided': reported, never resent by guess). */
struct health_waiting {
	int64_t count[HEALTH_PRIORITIES];
	int64_t oldest_at[HEALTH_PRIORITIES]; /* created_at of the oldest waiting row; 0 when none */
	int64_t undecided[HEALTH_PRIORITIES];
};
enum rc health_outbox_waiting(struct db *db, struct health_waiting *out);

/* What Twilio answered lately, in milliseconds of plantao's clock; 0 when there is none. */
struct health_twilio {
	int64_t last_accepted_ms; /* latest send Twilio accepted */
	int64_t last_error_ms;    /* latest send refused, or failed before Twilio accepted it */
	int last_error_code;      /* Twilio's error code; 0 for network errors and bare HTTP errors */
	bool last_error_auth;     /* that refusal was about the credentials or the account (20003, …) */
	char last_error_message[HEALTH_ERR_MAX];
};
/*
 * Fills out from the sender's record of Twilio's last answers (table twilio_results) and from
 * the outbox rows themselves (sent_at, and the error of rows retried or refused without a SID),
 * whichever is newer. Errors before since_ms are ignored: a restart with new credentials starts
 * with a clean slate.
 */
enum rc health_twilio_results(struct db *db, int64_t since_ms, struct health_twilio *out);

/* True for Twilio's error codes that mean the credentials or the account are refused. */
bool health_is_auth_error(int code);

/* ---- background pollers (table poller_status, migration 0090) ---- */

#define HEALTH_POLLER_CODE_MAX 32

/* How a poller fares: code "ok", or a short word for the failure of its latest polls. */
struct health_poller {
	char code[HEALTH_POLLER_CODE_MAX];
	char reason[HEALTH_ERR_MAX];
	int failures;          /* polls failed in a row (0 when code is "ok") */
	int64_t failing_since; /* when that streak began, Unix seconds; 0 when ok */
	int64_t updated_at;    /* when the poller last wrote, Unix seconds */
};
/*
 * Records poller name's latest poll in its own transaction: code "ok" ends a streak; any other
 * code adds one failure to it (the streak begins at now) with reason. The writer waits its turn
 * (pollers run off the request path).
 */
enum rc health_poller_note(struct db *db, const char *name, const char *code, const char *reason, int64_t now);
/* Reads poller name's row: RC_NOT_FOUND when it never wrote. */
enum rc health_poller_get(struct db *db, const char *name, struct health_poller *out);

#endif
