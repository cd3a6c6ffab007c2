/*
 * tests/unit/core/test_log_phone.c — log_phone(): phone numbers masked in logs (LGPD).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"

static void masks(const char *in, const char *want)
{
	char out[LOG_PHONE_MAX];

	assert_string_equal(log_phone(in, out), want);
}

static void test_brazil(void **state)
{
	(void)state;
	masks("+5511987654321", "+55 11 9****-4321");
	masks("+551133334444", "+55 11 ****-4444");
	masks("whatsapp:+5521998887777", "whatsapp:+55 21 9****-7777");
}

static void test_elsewhere_and_odd(void **state)
{
	(void)state;
	masks("+14158675309", "+14 *****5309");
	masks("+447700900123", "+44 ******0123");
	masks("+123", "+***");
	masks("", "+***");
	masks(NULL, "+***");
}

/* a number longer than any phone is cut, never written past out */
static void test_too_long(void **state)
{
	char out[LOG_PHONE_MAX];
	const char *m = log_phone("+999999999999999999999999999999999999999999999999999999999999", out);
	size_t n = strlen(m);

	(void)state;
	assert_true(n < LOG_PHONE_MAX);
	assert_memory_equal(m, "+99 *", 5);
	assert_string_equal(m + n - 4, "9999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_brazil),
	        cmocka_unit_test(test_elsewhere_and_odd),
	        cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
