/*
 * server/auth/request.c — reading the auth routes' JSON bodies (see request.h). Unknown fields
 * are refused by name, as elsewhere in the API.
 */
#include "auth/request.h"

#include <stdio.h>
#include <string.h>

static enum rc bad(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return RC_UNPROCESSABLE;
}

enum rc auth_request_parse(const json_t *body, unsigned allowed, const char *country, struct auth_request *out,
                           char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	bool has_phone = false, has_code = false;

	memset(out, 0, sizeof *out);
	out->channel = OTP_SMS;
	err[0] = '\0';
	if (!json_is_object(body)) {
		snprintf(err, errlen, "expected a JSON object");
		return RC_INVALID;
	}
	json_object_foreach((json_t *)body, key, v)
	{
		if ((allowed & AUTH_FIELD_PHONE) && !strcmp(key, "phone")) {
			if (!json_is_string(v) || phone_normalize(json_string_value(v), country, out->phone) != RC_OK)
				return bad(err, errlen,
				           "phone: expected a phone number, such as +5511987654321 or (11) 98765-4321");
			has_phone = true;
		} else if ((allowed & AUTH_FIELD_PHONE) && !strcmp(key, "email")) {
			return bad(err, errlen,
			           "email: codes by e-mail are not available yet; use phone (SMS or voice call)");
		} else if ((allowed & AUTH_FIELD_CODE) && !strcmp(key, "code")) {
			if (!json_is_string(v) || !otp_looks_like_code(json_string_value(v), out->code))
				return bad(err, errlen, "code: expected the 6 digits that were sent, as a string");
			has_code = true;
		} else if ((allowed & AUTH_FIELD_CHANNEL) && !strcmp(key, "channel")) {
			if (json_is_string(v) && !strcmp(json_string_value(v), "email"))
				return bad(err, errlen, "channel: e-mail is not available yet; use sms or voice");
			if (!json_is_string(v) || !otp_channel_parse(json_string_value(v), &out->channel))
				return bad(err, errlen, "channel: expected sms or voice");
		} else {
			snprintf(err, errlen, "%.40s: unknown field", key);
			return RC_UNPROCESSABLE;
		}
	}
	if ((allowed & AUTH_FIELD_PHONE) && !has_phone)
		return bad(err, errlen, "phone: required");
	if ((allowed & AUTH_FIELD_CODE) && !has_code)
		return bad(err, errlen, "code: required, the 6 digits that were sent");
	return RC_OK;
}
