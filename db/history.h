/*
 * db/history.h — what happened, as the lead's pages read it: support-line calls (who called, whom
 * plantao dialled, who answered, how long, the voicemail) and deliveries (every text and call of
 * the outbox with the person it went to). Reads only; filters and a before-id cursor, newest first.
 */
#ifndef PLANTAO_HISTORY_H
#define PLANTAO_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

#define HISTORY_LIST_DEFAULT 50
#define HISTORY_LIST_MAX     1000

/* Filters; zero or NULL fields filter nothing. Strings borrowed. */
struct history_filter {
	int limit;          /* 1..HISTORY_LIST_MAX */
	int64_t before_id;  /* rows with id < before_id */
	int64_t person_id;  /* calls: dialled, answered or had the voicemail; deliveries: sent to their phone */
	const char *status; /* calls: ringing answered voicemail abandoned; deliveries: a row status or "dead" */
	const char *kind;   /* deliveries only: sms, whatsapp, call */
	int64_t from, to;   /* created_at in [from, to) */
};

/*
 * Support calls: *out a new array of {id, call_sid, caller, called, status, accepted_by,
 * accepted_by_name, accepted_at, created_at, ended_at, talk_s, total_s, legs[{leg, person_id,
 * person_name, phone, dial_status, accepted, created_at}], voicemail{…} or null}.
 */
enum rc history_calls(struct db *db, const struct history_filter *f, json_t **out);

/* Outbox rows (the columns of outbox_list_json plus person_id and person_name of the phone). */
enum rc history_deliveries(struct db *db, const struct history_filter *f, json_t **out);

#endif
