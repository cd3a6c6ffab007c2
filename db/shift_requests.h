/*
 * db/shift_requests.h — the shift_requests table (migration 0200): a person's request, by SMS,
 * to take the on-call shift, waiting for their confirming reply (server/twilio/sms.c). At most
 * one per person; each function runs in a short transaction of its own.
 */
#ifndef PLANTAO_DB_SHIFT_REQUESTS_H
#define PLANTAO_DB_SHIFT_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* How long a request waits for its confirmation, in seconds. */
#define SHIFT_REQUEST_TTL 600

/* The shift a request was answered about: who was on call then and until when. */
struct shift_request {
	int64_t replaces_person; /* 0: a request recorded before migration 0320 */
	int64_t shift_end;
};

/*
 * Records (or renews) person_id's request at now for the shift *asked, valid until now +
 * SHIFT_REQUEST_TTL.
 */
enum rc shift_requests_put(struct db *db, int64_t person_id, const struct shift_request *asked, int64_t now);
/*
 * Consumes person_id's request: *open is true when there was one still valid at now, and *asked
 * is the shift it was about. The row is gone afterwards either way, so one confirmation takes the
 * shift once.
 */
enum rc shift_requests_take(struct db *db, int64_t person_id, int64_t now, bool *open, struct shift_request *asked);

#endif
