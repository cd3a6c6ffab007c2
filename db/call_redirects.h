/*
 * db/call_redirects.h — the call_redirects table (migration 0091): live calls to be given new
 * TwiML through the REST API, queued by the AsyncAmd webhook of alert calls
 * (server/twilio/alert_call.c) and sent by the call-redirect job (server/twilio/redirect.c).
 * A row is claimed ('sending') in a committed transaction before its request, so two instances
 * never send the same one; a claim older than CALL_REDIRECT_CLAIM_MS (a crash mid-request) is
 * due again — giving a call the same URL twice does no harm.
 */
#ifndef PLANTAO_DB_CALL_REDIRECTS_H
#define PLANTAO_DB_CALL_REDIRECTS_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define CALL_REDIRECT_CLAIM_MS 30000
#define CALL_REDIRECT_SID_MAX  64
#define CALL_REDIRECT_URL_MAX  1024

struct call_redirect {
	int64_t id;
	char call_sid[CALL_REDIRECT_SID_MAX];
	char url[CALL_REDIRECT_URL_MAX];
	int tries;
	int64_t created_at_ms;
};

/* Queues url for call_sid (in the caller's transaction); *queued false when the call has one
 * already (a retried callback). */
enum rc call_redirects_add(struct db *db, const char *call_sid, const char *url, int64_t now_ms, bool *queued);
/*
 * Claims up to max rows due at now_ms (pending with next_at_ms <= now_ms, or claimed longer
 * than CALL_REDIRECT_CLAIM_MS ago), oldest first, in its own transaction: each is 'sending'
 * with tries + 1 when it comes back in rows[0..*n).
 */
enum rc call_redirects_claim(struct db *db, int64_t now_ms, size_t max, struct call_redirect *rows, size_t *n);
/* Records the outcome of row id, in its own transaction: status 'done' or 'failed', or
 * 'pending' again from next_at_ms; message says what Twilio answered. */
enum rc call_redirects_result(struct db *db, int64_t id, const char *status, int64_t next_at_ms, const char *message);

#endif
