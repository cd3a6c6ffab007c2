/*
 * db/audit.h — the audit table: who changed what and when. Every edit of people, the
 * rotation, overrides (and whatever else other modules decide to audit) writes one row in the
 * same transaction as the change, so an edit and its audit row commit or roll back together.
 */
#ifndef PLANTAO_AUDIT_H
#define PLANTAO_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

#define AUDIT_LIST_DEFAULT 100
#define AUDIT_LIST_MAX     1000

/*
 * Appends a row at clock_now(): actor ("token:ops", "sms:+5511…", "twilio"), action
 * ("people.create", "rotation.update", …), entity_id (0: none), detail (borrowed, may be
 * NULL; stored as compact JSON). Call it inside the caller's transaction. RC_DB on error (logged).
 */
enum rc audit_log(struct db *db, const char *actor, const char *action, int64_t entity_id, const json_t *detail);

/*
 * The newest rows first, at most limit (1..AUDIT_LIST_MAX), only those with id < before_id
 * when before_id > 0 (paging). *out: new JSON array of {id, at, actor, action, entity_id,
 * detail}, detail parsed back into JSON.
 */
enum rc audit_list(struct db *db, int limit, int64_t before_id, json_t **out);

#endif
