/*
 * tests/fuzz/fuzz_auth.c — libFuzzer target for the bodies of the sign-in and verification
 * routes (server/auth/request.c), phones as people type them (server/auth/phone.c) and the
 * cookie header reader (server/auth/session.c).
 * Beyond "no crash, no leak": whatever the input, an accepted body carries an E.164 phone that
 * normalizes to itself, a code of exactly six digits and a known channel; a refused one says
 * why; phone_normalize either refuses or gives E.164; a cookie value found is a substring of
 * the header without ';'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/phone.h"
#include "auth/request.h"
#include "auth/session.h"
#include "core/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_request(const json_t *body, unsigned fields)
{
	struct auth_request r;
	char err[160], again[PHONE_E164_BYTES];
	enum rc rc = auth_request_parse(body, fields, "BR", &r, err, sizeof err);
	size_t i;

	if (rc != RC_OK) {
		check(rc == RC_INVALID || rc == RC_UNPROCESSABLE);
		check(err[0] != '\0');
		return;
	}
	if (fields & AUTH_FIELD_PHONE) {
		check(cfg_is_e164(r.phone));
		check(phone_normalize(r.phone, "BR", again) == RC_OK && strcmp(again, r.phone) == 0);
	} else {
		check(r.phone[0] == '\0');
	}
	if (fields & AUTH_FIELD_CODE) {
		check(strlen(r.code) == 6);
		for (i = 0; i < 6; i++)
			check(r.code[i] >= '0' && r.code[i] <= '9');
	}
	check(r.channel == OTP_SMS || r.channel == OTP_VOICE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), e164[PHONE_E164_BYTES], value[128];
	json_t *body;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (body) {
		check_request(body, AUTH_FIELD_PHONE | AUTH_FIELD_CHANNEL);
		check_request(body, AUTH_FIELD_PHONE | AUTH_FIELD_CODE);
		check_request(body, AUTH_FIELD_CHANNEL);
		check_request(body, AUTH_FIELD_CODE);
		json_decref(body);
	}

	if (phone_normalize(text, "BR", e164) == RC_OK)
		check(cfg_is_e164(e164));
	else
		check(e164[0] == '\0');

	if (session_cookie_value(text, SESSION_COOKIE, value, sizeof value)) {
		check(strchr(value, ';') == NULL);
		check(strstr(text, value) != NULL);
	}
	(void)session_csrf_ok("https://plantao.example.com/x", "POST", text, NULL);
	free(text);
	return 0;
}
