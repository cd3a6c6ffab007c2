/*
 * server/auth/request.h — the JSON bodies of the sign-in and verification routes, read and
 * checked in one place (server/api/api_auth.c uses it; tests/fuzz/fuzz_auth.c fuzzes it).
 *
 *   POST /api/auth/code                 {"phone": "(11) 98765-4321", "channel": "sms"|"voice"}
 *   POST /api/auth/verify               {"phone": …, "code": "481516"}
 *   POST /api/people/{id}/verify        {"channel": "sms"|"voice"}
 *   POST /api/people/{id}/verify/confirm {"code": "481516"}
 *
 * "email" is understood and refused with a clear message: the e-mail channel does not exist yet.
 */
#ifndef PLANTAO_AUTH_REQUEST_H
#define PLANTAO_AUTH_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/otp.h"
#include "auth/phone.h"
#include "core/rc.h"

/* Fields a route takes. */
#define AUTH_FIELD_PHONE   1u
#define AUTH_FIELD_CODE    2u
#define AUTH_FIELD_CHANNEL 4u

struct auth_request {
	char phone[PHONE_E164_BYTES]; /* E.164, "" when not given */
	char code[OTP_DIGITS + 1];    /* "" when not given */
	enum otp_channel channel;     /* OTP_SMS when not given */
};

/*
 * Reads body (a JSON object) into out, taking only the fields in allowed, each required but
 * channel. Phones as people type them are made E.164 with country. RC_INVALID when body is
 * not an object; RC_UNPROCESSABLE with err naming the field otherwise.
 */
enum rc auth_request_parse(const json_t *body, unsigned allowed, const char *country, struct auth_request *out,
                           char *err, size_t errlen);

#endif
