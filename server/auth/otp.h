/*
 * server/auth/otp.h — one-time codes (issue 16), the building block of sign-in and of contact
 * verification.
 *
 * Rules: 6 digits from OpenSSL's CSPRNG, uniform; only a salted SHA-256 is stored; valid
 * OTP_TTL_S (10 minutes); OTP_MAX_ATTEMPTS (5) wrong tries lock the destination until the
 * code would have expired; at most OTP_PER_MINUTE (1) code a minute and OTP_PER_HOUR (5) an
 * hour per destination (whatever the purpose); a new code replaces the previous one of the
 * same purpose. Codes go out through the outbox (class 'otp', priority of pages) by SMS or
 * by a voice call whose TwiML (server/twilio/otp_call.c) reads the digits; the e-mail channel
 * does not exist yet.
 *
 * Callers: server/api/api_auth.c (sign-in), server/api/api_people.c and server/twilio/sms.c
 * (verification).
 */
#ifndef PLANTAO_AUTH_OTP_H
#define PLANTAO_AUTH_OTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/auth.h"

struct app;
struct db;

#define OTP_DIGITS       6
#define OTP_TTL_S        600
#define OTP_MAX_ATTEMPTS 5
#define OTP_PER_MINUTE   1
#define OTP_PER_HOUR     5

enum otp_purpose { OTP_SIGNIN, OTP_VERIFY };
enum otp_channel { OTP_SMS, OTP_VOICE };

/* What became of a request (never told to the asker of a sign-in code: no account discovery). */
enum otp_outcome {
	OTP_SENT,    /* a code is on its way */
	OTP_NOBODY,  /* recorded, nothing sent: the destination is nobody who may have one */
	OTP_LIMITED, /* too many codes for this destination lately: nothing done */
	OTP_LOCKED,  /* too many wrong tries: nothing done until the lock ends */
};

const char *otp_purpose_name(enum otp_purpose p);
/* "sms" or "voice" into *out; false for anything else (e-mail has no channel yet). */
bool otp_channel_parse(const char *s, enum otp_channel *out);

/*
 * Issues a code to destination (E.164) for person_id, or, with person_id 0, does the same work
 * and sends nothing. One transaction; wakes the engine when something was queued. *outcome
 * says what happened; *retry_after (may be NULL) the seconds until another request can work
 * (0 when it could now).
 */
enum rc otp_request(struct app *app, struct db *db, enum otp_purpose purpose, const char *destination,
                    int64_t person_id, enum otp_channel channel, enum otp_outcome *outcome, int64_t *retry_after);

/*
 * Checks code against the live code of destination for purpose. RC_OK: the code is used up
 * and *person_id names whom it was sent to. RC_AUTH: wrong, expired, none, or sent to nobody
 * (a wrong try is counted). RC_RATE: the destination is locked; *retry_after seconds remain.
 */
enum rc otp_check(struct db *db, enum otp_purpose purpose, const char *destination, const char *code,
                  int64_t *person_id, int64_t *retry_after);

/* The digits of code o sent by voice (for its TwiML), into digits. RC_NOT_FOUND when o has none. */
enum rc otp_spoken_digits(struct app *app, const struct auth_otp *o, char digits[OTP_DIGITS + 1]);

/* True when text is exactly OTP_DIGITS digits, spaces around allowed (an SMS reply). */
bool otp_looks_like_code(const char *text, char code[OTP_DIGITS + 1]);

#endif
