/* tests/unit/http/test_form.c — form-urlencoded parsing: decoding, order, limits, rejections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"

static enum rc parse(struct form *f, const char *body)
{
	return form_parse(f, body, strlen(body));
}

static void test_twilio_body(void **state)
{
	static const char body[] = "AccountSid=AC0123&ApiVersion=2010-04-01&CallSid=CA42&CallStatus=ringing"
	                           "&Called=%2B551130000000&Caller=%2B5511987654321&Direction=inbound"
	                           "&From=%2B5511987654321&FromCity=S%C3%83O+PAULO&To=%2B551130000000";
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, body), RC_OK);
	assert_int_equal(f.n, 10);
	assert_string_equal(f.pairs[0].name, "AccountSid");
	assert_string_equal(f.pairs[9].name, "To");
	assert_string_equal(form_get(&f, "From"), "+5511987654321");
	assert_string_equal(form_get(&f, "FromCity"), "S\xc3\x83O PAULO");
	assert_string_equal(form_get(&f, "CallStatus"), "ringing");
	assert_null(form_get(&f, "Digits"));
	assert_null(form_get(&f, "from")); /* names are case-sensitive */
	form_release(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.pairs);
}

static void test_plus_and_escapes(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, "a=1+2&b=1%2B2&c=%25&d=%26%3D&e+f=%20x+"), RC_OK);
	assert_string_equal(form_get(&f, "a"), "1 2");
	assert_string_equal(form_get(&f, "b"), "1+2");
	assert_string_equal(form_get(&f, "c"), "%");
	assert_string_equal(form_get(&f, "d"), "&=");
	assert_string_equal(form_get(&f, "e f"), " x ");
	form_release(&f);
}

static void test_repeated_keys_in_order(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, "Digits=5678&Sid=CA1&Digits=1234&Digits=1234"), RC_OK);
	assert_int_equal(f.n, 4);
	assert_string_equal(form_get(&f, "Digits"), "5678"); /* the first one */
	assert_string_equal(f.pairs[2].value, "1234");
	assert_string_equal(f.pairs[3].value, "1234");
	form_release(&f);
}

static void test_empty_and_missing_values(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(form_parse(&f, "", 0), RC_OK);
	assert_int_equal(f.n, 0);
	assert_int_equal(form_parse(&f, NULL, 0), RC_OK);
	assert_int_equal(parse(&f, "&&flag&x=&=v&y=a=b&"), RC_OK);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.pairs[0].name, "flag");
	assert_string_equal(f.pairs[0].value, "");
	assert_string_equal(form_get(&f, "x"), "");
	assert_string_equal(f.pairs[2].name, "");
	assert_string_equal(f.pairs[2].value, "v");
	assert_string_equal(form_get(&f, "y"), "a=b");
	form_release(&f);
}

static void test_length_not_nul(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	/* only the first len bytes count */
	assert_int_equal(form_parse(&f, "a=1&b=2", 5), RC_OK);
	assert_int_equal(f.n, 2);
	assert_string_equal(form_get(&f, "b"), "");
	form_release(&f);
}

static void test_malformed_escapes(void **state)
{
	static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=1&b=%G0"};
	struct form f;
	size_t i;

	(void)state;
	form_init(&f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&f, bad[i]), RC_INVALID);
		assert_int_equal(f.n, 0); /* nothing kept, not even "a=1" */
	}
	form_release(&f);
}

static void test_nul_rejected(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, "a=x%00y"), RC_INVALID);
	assert_int_equal(parse(&f, "a%00=1"), RC_INVALID);
	assert_int_equal(form_parse(&f, "a=x\0y", 5), RC_INVALID);
	assert_int_equal(f.n, 0);
	form_release(&f);
}

static void test_bad_utf8_rejected(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, "a=%C3"), RC_INVALID);       /* truncated */
	assert_int_equal(parse(&f, "a=%C0%80"), RC_INVALID);    /* overlong NUL */
	assert_int_equal(parse(&f, "a=%ED%A0%80"), RC_INVALID); /* surrogate */
	assert_int_equal(parse(&f, "a=%FF"), RC_INVALID);
	assert_int_equal(parse(&f, "a=\xe9"), RC_INVALID); /* raw Latin-1 */
	assert_int_equal(parse(&f, "%E9=1"), RC_INVALID);  /* names too */
	assert_int_equal(parse(&f, "a=%E2%98%8E+%F0%9F%93%9E"), RC_OK);
	assert_string_equal(form_get(&f, "a"), "\xe2\x98\x8e \xf0\x9f\x93\x9e");
	form_release(&f);
}

static void test_error_keeps_previous_pairs(void **state)
{
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(parse(&f, "a=1&b=2"), RC_OK);
	assert_int_equal(parse(&f, "c=3&d=%"), RC_INVALID);
	assert_int_equal(f.n, 2);
	assert_null(form_get(&f, "c"));
	assert_int_equal(parse(&f, "c=3"), RC_OK);
	assert_int_equal(f.n, 3);
	form_release(&f);
}

static void test_pair_cap(void **state)
{
	char body[FORM_MAX_PAIRS * 4 + 8];
	size_t i, len = 0;
	struct form f;

	(void)state;
	for (i = 0; i < FORM_MAX_PAIRS; i++) {
		memcpy(body + len, "a=1&", 4);
		len += 4;
	}
	form_init(&f);
	assert_int_equal(form_parse(&f, body, len), RC_OK);
	assert_int_equal(f.n, FORM_MAX_PAIRS);
	assert_int_equal(form_add(&f, "one", "more"), RC_TOO_BIG);
	assert_int_equal(parse(&f, "b=2"), RC_TOO_BIG);
	assert_int_equal(f.n, FORM_MAX_PAIRS);
	form_release(&f);

	memcpy(body + len, "b=2", 3);
	form_init(&f);
	assert_int_equal(form_parse(&f, body, len + 3), RC_TOO_BIG);
	assert_int_equal(f.n, 0);
	form_release(&f);
}

static void test_add_copies(void **state)
{
	char name[] = "To", value[] = "+5511900000000";
	struct form f;

	(void)state;
	form_init(&f);
	assert_int_equal(form_add(&f, name, value), RC_OK);
	name[0] = 'X';
	value[1] = '0';
	assert_string_equal(form_get(&f, "To"), "+5511900000000");
	form_release(&f);
}

static void test_is_utf8(void **state)
{
	(void)state;
	assert_true(form_is_utf8("", 0));
	assert_true(form_is_utf8("plant\xc3\xa3o", 8));
	assert_true(form_is_utf8("\xef\xbf\xbd", 3));
	assert_true(form_is_utf8("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
	assert_false(form_is_utf8("\xf4\x90\x80\x80", 4)); /* U+110000 */
	assert_false(form_is_utf8("\xe0\x9f\xbf", 3));     /* overlong */
	assert_false(form_is_utf8("\xf0\x8f\xbf\xbf", 4)); /* overlong */
	assert_false(form_is_utf8("\xc1\x81", 2));
	assert_false(form_is_utf8("\x80", 1));
	assert_false(form_is_utf8("\xc3\xa3", 1)); /* cut by len */
	assert_false(form_is_utf8("\xe2\x28\xa1", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_twilio_body),
	        cmocka_unit_test(test_plus_and_escapes),
	        cmocka_unit_test(test_repeated_keys_in_order),
	        cmocka_unit_test(test_empty_and_missing_values),
	        cmocka_unit_test(test_length_not_nul),
	        cmocka_unit_test(test_malformed_escapes),
	        cmocka_unit_test(test_nul_rejected),
	        cmocka_unit_test(test_bad_utf8_rejected),
	        cmocka_unit_test(test_error_keeps_previous_pairs),
	        cmocka_unit_test(test_pair_cap),
	        cmocka_unit_test(test_add_copies),
	        cmocka_unit_test(test_is_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
