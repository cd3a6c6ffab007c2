/*
 * db/auth.h — the tables of sign-in and contact verification (migrations/0100_auth.sql):
 * one-time codes (otp_codes), sessions, and the people columns role, phone_verified_at and
 * email_verified_at. The rules (limits, attempts, expiry, hashing) live in server/auth/otp.c
 * and server/auth/session.c; this file only runs their statements. Functions that write do
 * not open transactions unless they say so: the callers group them.
 */
#ifndef PLANTAO_DB_AUTH_H
#define PLANTAO_DB_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define AUTH_HEX_MAX    65 /* hex SHA-256 and NUL */
#define AUTH_SEALED_MAX 16
#define AUTH_ROLE_MAX   16
#define AUTH_NAME_MAX   (4 * 200 + 1)

/* ---- one-time codes ---- */

struct auth_otp {
	int64_t id;
	char destination[24];
	char purpose[8];   /* signin, verify */
	char channel[8];   /* sms, voice */
	int64_t person_id; /* 0: nobody (nothing was sent) */
	char salt[AUTH_HEX_MAX];
	char hash[AUTH_HEX_MAX];
	char sealed[AUTH_SEALED_MAX]; /* "" unless sent by voice */
	int64_t created_at, expires_at;
	int attempts;
	int64_t locked_until, used_at, replaced_at; /* 0: not */
};

/*
 * Codes asked for destination (any purpose) since since_minute and since_hour: *n_minute,
 * *n_hour; *locked_until: the latest lock on the destination still in force at now (0: none).
 */
enum rc auth_otp_recent(struct db *db, const char *destination, int64_t since_minute, int64_t since_hour, int64_t now,
                        int64_t *n_minute, int64_t *n_hour, int64_t *locked_until);
/* Marks every unused code of destination for purpose as replaced at now. */
enum rc auth_otp_replace(struct db *db, const char *destination, const char *purpose, int64_t now);
/* Inserts o (id ignored); *id gets the new row's id. */
enum rc auth_otp_insert(struct db *db, const struct auth_otp *o, int64_t *id);
/* The newest code of destination for purpose neither used nor replaced. RC_NOT_FOUND: none. */
enum rc auth_otp_live(struct db *db, const char *destination, const char *purpose, struct auth_otp *out);
/* Code id by id. RC_NOT_FOUND. */
enum rc auth_otp_get(struct db *db, int64_t id, struct auth_otp *out);
/* A wrong attempt on code id: attempts + 1, and locked_until set when lock_until > 0. */
enum rc auth_otp_wrong(struct db *db, int64_t id, int64_t lock_until);
/* Code id was typed back right at now: used_at set (RC_CONFLICT when it was used already). */
enum rc auth_otp_use(struct db *db, int64_t id, int64_t now);

/* ---- people: roles and verified contacts ---- */

/*
 * The person (not archived) whose phone is phone: *id, role ("" when none), whether the phone
 * is verified. RC_NOT_FOUND otherwise.
 */
enum rc auth_person_by_phone(struct db *db, const char *phone, int64_t *id, char role[AUTH_ROLE_MAX],
                             bool *phone_verified);
/* Person id (not archived): role ("" when none), phone, name. RC_NOT_FOUND. */
enum rc auth_person(struct db *db, int64_t id, char role[AUTH_ROLE_MAX], char phone[24], char *name, size_t name_len);
/* Sets (role a valid name) or clears (NULL) person id's role, audited "people.role" by actor. Own transaction. */
enum rc auth_set_role(struct db *db, int64_t id, const char *role, const char *actor);
/* Marks person id's phone verified at now if it still is phone (RC_CONFLICT when it changed), audited. */
enum rc auth_mark_phone_verified(struct db *db, int64_t id, const char *phone, int64_t now, const char *actor);
/* Person id's role ("" when none) and when their phone was verified (0: not). RC_NOT_FOUND. */
enum rc auth_person_flags(struct db *db, int64_t id, char role[AUTH_ROLE_MAX], int64_t *phone_verified_at);
/* People (not archived) whose phone is not verified, by name: new JSON array of {id, name}. */
enum rc auth_unverified(struct db *db, json_t **out);

/* ---- sessions ---- */

struct auth_session {
	int64_t id;
	int64_t person_id;
	char role[AUTH_ROLE_MAX]; /* the person's role now ("" when taken away) */
	char name[AUTH_NAME_MAX];
	int64_t created_at, last_seen_at, expires_at;
};

/* Inserts a session for person_id with the secret's hash; *id gets its id. */
enum rc auth_session_insert(struct db *db, int64_t person_id, const char *hash, int64_t now, int64_t expires_at,
                            const char *user_agent, int64_t *id);
/* The session whose secret hashes to hash, not ended, of a person not archived. RC_NOT_FOUND. */
enum rc auth_session_find(struct db *db, const char *hash, struct auth_session *out);
/* Slides session id: last_seen_at = now, expires_at = expires_at (best effort, no transaction needed). */
enum rc auth_session_touch(struct db *db, int64_t id, int64_t now, int64_t expires_at);
/* The person of session id (open or not). RC_NOT_FOUND. */
enum rc auth_session_person(struct db *db, int64_t id, int64_t *person_id);
/* Ends session id (of person_id when person_id > 0). RC_NOT_FOUND when no such open session. */
enum rc auth_session_end(struct db *db, int64_t id, int64_t person_id, int64_t now);
/* Open, unexpired sessions at now (of person_id, or everyone's when 0), newest first: new JSON array. */
enum rc auth_sessions_list(struct db *db, int64_t person_id, int64_t now, json_t **out);

#endif
