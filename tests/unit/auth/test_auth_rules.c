/*
 * tests/unit/auth/test_auth_rules.c — the pure rules of server/auth/: phones as people type them
 * (phone.c), the CSRF rule, the cookie and actor strings (session.c), code-shaped replies
 * (otp.c) and the request bodies (request.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "auth/otp.h"
#include "auth/phone.h"
#include "auth/request.h"
#include "auth/session.h"

static void phones_as_typed(void **state)
{
	char out[PHONE_E164_BYTES];

	(void)state;
	assert_int_equal(phone_normalize("(11) 98765-4321", "BR", out), RC_OK);
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(phone_normalize("011 98765 4321", "BR", out), RC_OK);
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(phone_normalize("0 21 11 98765-4321", "BR", out), RC_OK); /* carrier code */
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(phone_normalize("+55 (11) 98765.4321", "US", out), RC_OK);
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(phone_normalize("0055 11 98765-4321", "BR", out), RC_OK);
	assert_string_equal(out, "+5511987654321");
	assert_int_equal(phone_normalize("(415) 555-2671", "US", out), RC_OK);
	assert_string_equal(out, "+14155552671");
	assert_int_equal(phone_normalize("call me", "BR", out), RC_UNPROCESSABLE);
	assert_int_equal(phone_normalize("123", "BR", out), RC_UNPROCESSABLE);
	assert_int_equal(phone_normalize("+1234567890123456789", "BR", out), RC_UNPROCESSABLE);
	assert_int_equal(phone_normalize("98765-4321", "XX", out), RC_UNPROCESSABLE);
	assert_int_equal(phone_normalize("", "BR", out), RC_UNPROCESSABLE);
	assert_int_equal(phone_country_code("BR"), 55);
	assert_int_equal(phone_country_code("ZZ"), 0);
}

static void csrf_rule(void **state)
{
	const char *pub = "https://plantao.example.com/prefix";

	(void)state;
	assert_true(session_csrf_ok(pub, "GET", NULL, NULL));
	assert_true(session_csrf_ok(pub, "HEAD", "https://evil.example", NULL));
	assert_false(session_csrf_ok(pub, "POST", NULL, NULL));
	assert_false(session_csrf_ok(pub, "DELETE", "https://evil.example", NULL));
	assert_false(session_csrf_ok(pub, "POST", "https://plantao.example.com.evil.example", NULL));
	assert_false(session_csrf_ok(pub, "POST", "http://plantao.example.com", NULL));
	assert_false(session_csrf_ok(pub, "POST", NULL, "yes"));
	assert_true(session_csrf_ok(pub, "POST", "https://plantao.example.com", NULL));
	assert_true(session_csrf_ok(pub, "PATCH", NULL, "1"));
	assert_true(session_csrf_ok("http://127.0.0.1:8080", "PUT", "http://127.0.0.1:8080", NULL));
}

static void cookies_and_actors(void **state)
{
	char v[80];
	int64_t id;
	struct auth_session s;

	(void)state;
	assert_true(session_cookie_value("a=1; plantao_session=plts_abc; b=2", SESSION_COOKIE, v, sizeof v));
	assert_string_equal(v, "plts_abc");
	assert_true(session_cookie_value("plantao_session=x", SESSION_COOKIE, v, sizeof v));
	assert_string_equal(v, "x");
	assert_false(session_cookie_value("xplantao_session=x", SESSION_COOKIE, v, sizeof v));
	assert_false(session_cookie_value(NULL, SESSION_COOKIE, v, sizeof v));
	assert_false(session_cookie_value("plantao_session=0123456789", SESSION_COOKIE, v, 4));

	memset(&s, 0, sizeof s);
	s.person_id = 12;
	/* a name cut in the middle of "ã" must not leave half a character */
	snprintf(s.name, sizeof s.name, "%s", "Ana Souza da Conceição e Silva Albuquerque São João ão");
	session_actor(&s, v, 64);
	assert_true(strlen(v) < 64);
	assert_true(((unsigned char)v[strlen(v) - 1] & 0x80) == 0 || ((unsigned char)v[strlen(v) - 2] & 0xE0) == 0xC0);
	assert_true(session_actor_person(v, &id));
	assert_int_equal(id, 12);
	assert_false(session_actor_person("token:person:1", &id));
	assert_false(session_actor_person("person:", &id));
	assert_false(session_actor_person("person:0", &id));
	assert_false(session_actor_person("person:7x", &id));
}

static void codes(void **state)
{
	char c[OTP_DIGITS + 1];
	enum otp_channel ch;

	(void)state;
	assert_true(otp_looks_like_code(" 012345 \n", c));
	assert_string_equal(c, "012345");
	assert_false(otp_looks_like_code("12345", c));
	assert_false(otp_looks_like_code("1234567", c));
	assert_false(otp_looks_like_code("12 3456", c));
	assert_false(otp_looks_like_code("ack 12", c));
	assert_true(otp_channel_parse("voice", &ch) && ch == OTP_VOICE);
	assert_false(otp_channel_parse("email", &ch));
}

static void bodies(void **state)
{
	struct auth_request r;
	char err[160];
	json_t *b;

	(void)state;
	b = json_pack("{s:s,s:s}", "phone", "(11) 98765-4321", "channel", "voice");
	assert_int_equal(auth_request_parse(b, AUTH_FIELD_PHONE | AUTH_FIELD_CHANNEL, "BR", &r, err, sizeof err),
	                 RC_OK);
	assert_string_equal(r.phone, "+5511987654321");
	assert_int_equal(r.channel, OTP_VOICE);
	json_decref(b);
	b = json_pack("{s:s}", "email", "ana@example.com");
	assert_int_equal(auth_request_parse(b, AUTH_FIELD_PHONE, "BR", &r, err, sizeof err), RC_UNPROCESSABLE);
	assert_non_null(strstr(err, "e-mail"));
	json_decref(b);
	b = json_pack("{s:s,s:i}", "phone", "+5511987654321", "code", 123456);
	assert_int_equal(auth_request_parse(b, AUTH_FIELD_PHONE | AUTH_FIELD_CODE, "BR", &r, err, sizeof err),
	                 RC_UNPROCESSABLE);
	assert_non_null(strstr(err, "code"));
	json_decref(b);
	b = json_pack("{s:s,s:s}", "phone", "+5511987654321", "role", "admin");
	assert_int_equal(auth_request_parse(b, AUTH_FIELD_PHONE, "BR", &r, err, sizeof err), RC_UNPROCESSABLE);
	assert_non_null(strstr(err, "role"));
	json_decref(b);
	b = json_pack("[]");
	assert_int_equal(auth_request_parse(b, AUTH_FIELD_PHONE, "BR", &r, err, sizeof err), RC_INVALID);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(phones_as_typed), cmocka_unit_test(csrf_rule), cmocka_unit_test(cookies_and_actors),
	        cmocka_unit_test(codes),           cmocka_unit_test(bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
