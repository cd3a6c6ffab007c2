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

/* Records (or renews) person_id's request at now, valid until now + SHIFT_REQUEST_TTL. */
enum rc shift_requests_put(struct db *db, int64_t person_id, int64_t now);
/*
 * Consumes person_id's request: *open is true when there was one still valid at now. The row
 * is gone afterwards either way, so one confirmation takes the shift once.
 */
enum rc shift_requests_take(struct db *db, int64_t person_id, int64_t now, bool *open);

#endif
