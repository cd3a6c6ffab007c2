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
 * Appends a row at clock_now(): actor ("token:ops", "person:3 Ana", "sms:+5511…", "keypad:+5511…",
 * "twilio"; see audit_actor_json), action
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

/* Filters of audit_query; zero or NULL fields filter nothing. Strings are borrowed. */
struct audit_filter {
	int limit;          /* 1..AUDIT_LIST_MAX (else AUDIT_LIST_DEFAULT) */
	int64_t before_id;  /* rows with id < before_id (the next page) */
	const char *action; /* exact action, or a prefix ending in '.' ("alert.") */
	int64_t entity_id;
	int64_t person_id; /* rows whose actor is this person (session, SMS, keypad) or whose entity is them */
	const char *actor; /* exact actor text ("token:ops") */
	int64_t from, to;  /* at in [from, to); 0: open */
};

/*
 * audit_list with filters, newest first. *out: new JSON array of rows as audit_list gives
 * them, each also with "actor_info" (audit_actor_json of its actor).
 */
enum rc audit_query(struct db *db, const struct audit_filter *f, json_t **out);

/*
 * Actor of the newest row of action on entity_id, into out (len bytes, NUL-terminated).
 * RC_NOT_FOUND when there is none.
 */
enum rc audit_find_actor(struct db *db, const char *action, int64_t entity_id, char *out, size_t len);

/*
 * What an actor text says, as a new JSON object: {"kind":"person","person_id":3,"name":"Ana"}
 * for "person:3 Ana", {"kind":"token","name":"ops"} for "token:ops", {"kind":"phone",
 * "phone":"+55…"} for "sms:+55…", {"kind":"keypad","phone":"+55…"} for "keypad:+55…", the
 * same with "person_id" and "name" for audit_actor_phone's texts, else
 * {"kind":"system","name":actor} ("pager", "twilio", "engine").
 */
json_t *audit_actor_json(const char *actor);

/* Longest text audit_actor_phone writes, with its NUL. */
#define AUDIT_ACTOR_MAX 160

/*
 * The actor of something a person did from their phone, into out: via is "sms" (a text reply)
 * or "keypad" (a key pressed on an alert call); the phone is masked as the logs show it (LGPD,
 * log_phone), then the person: "sms:+55 11 9****-4321/person:3 Bruno Lima". audit_query's
 * person filter finds these rows by the person id; audit_actor_json reads them back.
 */
void audit_actor_phone(char out[AUDIT_ACTOR_MAX], const char *via, const char *phone, int64_t person_id,
                       const char *name);

#endif
