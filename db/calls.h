/*
 * db/calls.h — the support line's records: support_calls (one per incoming CallSid),
 * support_chain (the people that call may dial, in order, fixed when it arrived),
 * support_legs (each person dialled for a call, with the chain position and the acceptance
 * pressed in the whisper) and voicemails. Written by the voice webhooks (server/twilio/voice.c); GET
 * /api/calls reads them through db/history.c.
 *
 * Twilio retries a webhook whose answer it did not get: every insert here is keyed (CallSid,
 * (call, leg), voicemail CallSid) so a retry finds the row it made the first time.
 */
#ifndef PLANTAO_CALLS_H
#define PLANTAO_CALLS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

#define CALLS_SID_MAX   64
#define CALLS_CHAIN_MAX 8 /* ROTATION_CHAIN_MAX */

struct calls_call {
	int64_t id;
	char call_sid[CALLS_SID_MAX];
	char caller[64];
	char status[16]; /* ringing answered voicemail abandoned */
	int legs;        /* people dialled so far */
	int64_t created_at;
};

struct calls_leg {
	int64_t call_id;
	int leg; /* 0: the person on call, 1…: the backups */
	int64_t person_id;
	char phone[24];
	bool accepted;      /* pressed 1 in the whisper */
	int chain_position; /* position in support_chain dialled; -1 for calls older than the chain */
};

/* The call with call_sid, created (status ringing) when new; *created tells which. */
enum rc calls_open(struct db *db, const char *call_sid, const char *caller, const char *called, int64_t now,
                   struct calls_call *out, bool *created);
/* One person of a call's chain: who, at which number (their record's when the call came in). */
struct calls_link {
	int64_t person_id;
	char phone[24];
};
/*
 * A new call in one go, for the support line's hot path: the support_calls row (leg 0 counted as
 * dialled, or status voicemail when chain is empty), its chain (positions 0…n-1, one statement)
 * and leg 0 dialling chain position 0, *leg filled. *created false, nothing written and *out
 * zeroed when call_sid exists already (a retry, or the same call twice at once): the caller then
 * goes the calls_open way. n <= ROTATION_CHAIN_MAX (8).
 */
enum rc calls_start(struct db *db, const char *call_sid, const char *caller, const char *called, int64_t now,
                    const struct calls_link *chain, size_t n, struct calls_call *out, struct calls_leg *leg,
                    bool *created);
/* By id / by CallSid. RC_NOT_FOUND. */
enum rc calls_get(struct db *db, int64_t id, struct calls_call *out);
enum rc calls_find_sid(struct db *db, const char *call_sid, struct calls_call *out);
/*
 * The call with call_sid and its first leg (the person dialled first), in one read and no
 * transaction: how Twilio's retry of a webhook already answered is answered again.
 * RC_NOT_FOUND when the call is unknown or has no first leg yet (nobody was on call).
 */
enum rc calls_find_first_leg(struct db *db, const char *call_sid, struct calls_call *call, struct calls_leg *leg);

/*
 * The chain of a call: calls_chain_add stores position pos (no-op when it exists); calls_chain_get
 * reads it (RC_NOT_FOUND past the end; *person_id 0 when that person was deleted since);
 * calls_chain_size counts the positions stored (0: none yet, or a call older than the chain).
 */
enum rc calls_chain_add(struct db *db, int64_t call_id, int pos, int64_t person_id, const char *phone);
/* Stores positions 0…n-1 of call_id's chain in one statement (each a no-op when it exists). */
enum rc calls_chain_put(struct db *db, int64_t call_id, const struct calls_link *chain, size_t n);
enum rc calls_chain_get(struct db *db, int64_t call_id, int pos, int64_t *person_id);
enum rc calls_chain_size(struct db *db, int64_t call_id, int *n);

/* Records leg `leg` of call_id dialling chain position chain_pos (-1: none) (no-op when it
 * exists) and counts it in support_calls.leg. */
enum rc calls_leg_add(struct db *db, int64_t call_id, int leg, int chain_pos, int64_t person_id, const char *phone,
                      int64_t now);
/* RC_NOT_FOUND when the leg was never dialled. */
enum rc calls_leg_get(struct db *db, int64_t call_id, int leg, struct calls_leg *out);
/* The person of the leg pressed 1: leg accepted, call answered by them (first acceptance wins). */
enum rc calls_leg_accept(struct db *db, int64_t call_id, int leg, int64_t now);
/* Stores the leg's DialCallStatus. */
enum rc calls_leg_status(struct db *db, int64_t call_id, int leg, const char *dial_status);
/* Sets the call's status (answered, voicemail, abandoned); ended_at too unless status is voicemail. */
enum rc calls_set_status(struct db *db, int64_t call_id, const char *status, int64_t now);

struct calls_voicemail {
	const char *call_sid;
	const char *caller;
	const char *recording_url;
	const char *recording_sid;
	int duration_s;
	int64_t person_id; /* on call when it was left; 0: nobody */
	int64_t created_at;
};
/* Stores a voicemail once per CallSid; *id its row, *created whether it is new. */
enum rc calls_voicemail_add(struct db *db, const struct calls_voicemail *vm, int64_t *id, bool *created);
/* Sets the transcription of the voicemail of call_sid. RC_NOT_FOUND when there is none. */
enum rc calls_voicemail_transcription(struct db *db, const char *call_sid, const char *text);

#endif
