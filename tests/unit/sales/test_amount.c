/* tests/unit/sales/test_amount.c — exact amount parsing (Brazilian and plain), rounding, BRL format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sales/amount.h"

static int64_t ok(const char *text)
{
	int64_t c = -1;

	if (amount_parse(text, &c) != RC_OK)
		fail_msg("amount_parse('%s') failed", text);
	return c;
}

static void test_brazilian_and_plain(void **state)
{
	(void)state;
	assert_int_equal(ok("55.000,00"), 5500000);
	assert_int_equal(ok("R$ 55.000,00"), 5500000);
	assert_int_equal(ok("R$55000"), 5500000);
	assert_int_equal(ok("r$ 10"), 1000);
	assert_int_equal(ok("55000,5"), 5500050);
	assert_int_equal(ok("55000.00"), 5500000);
	assert_int_equal(ok("57000.5"), 5700050);
	assert_int_equal(ok("57.320,00"), 5732000);
	assert_int_equal(ok("1.234.567"), 123456700);
	assert_int_equal(ok("1.234.567,89"), 123456789);
	assert_int_equal(ok("0"), 0);
	assert_int_equal(ok("+10"), 1000);
	assert_int_equal(ok("-0"), 0);
	assert_int_equal(ok("R$ -0,00"), 0);
}

static void test_ambiguous_separators(void **state)
{
	(void)state;
	/* both present: the last one is the decimal separator */
	assert_int_equal(ok("1,234.56"), 123456);
	assert_int_equal(ok("1.234,56"), 123456);
	/* one separator followed by exactly 3 digits groups thousands */
	assert_int_equal(ok("55.000"), 5500000);
	assert_int_equal(ok("55,000"), 5500000);
	assert_int_equal(ok("1,234"), 123400);
	/* ... unless what precedes cannot be a thousands group */
	assert_int_equal(ok("0,500"), 50);
	assert_int_equal(ok("1234.567"), 123457);
	/* otherwise decimal */
	assert_int_equal(ok("5,5"), 550);
	assert_int_equal(ok("5.55"), 555);
	assert_int_equal(ok("12,3456"), 1235);
}

static void test_rounding(void **state)
{
	(void)state;
	assert_int_equal(ok("0,005"), 1);
	assert_int_equal(ok("0,004"), 0);
	assert_int_equal(ok("0,0049999"), 0);
	assert_int_equal(ok("10,995"), 1099500); /* 3 digits: thousands */
	assert_int_equal(ok("10,9951"), 1100);
	assert_int_equal(ok("10.99499"), 1099);
}

static void test_whitespace(void **state)
{
	(void)state;
	assert_int_equal(ok("  57.320,00 "), 5732000);
	assert_int_equal(ok("\tR$\xc2\xa0"
	                    "57.320,00\xc2\xa0\r\n"),
	                 5732000); /* NBSP */
	assert_int_equal(ok("\xe2\x80\xaf"
	                    "100"),
	                 10000); /* narrow NBSP */
	assert_int_equal(ok("R$   5"), 500);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
	        "",
	        " ",
	        "abc",
	        "R$",
	        "R$ ",
	        "1.2.3,4",
	        "55000,",
	        ",5",
	        ".5",
	        "1,2,3",
	        "12,34,567.00",
	        "55 000",
	        "1e3",
	        "55000.00.00",
	        "1.234,56,7",
	        "--5",
	        "R$ R$ 5",
	        "5-",
	        "5 reais",
	        "US$ 5",
	        "1,,2",
	        "1..2",
	        "0x10",
	        "١٢",
	        "5\x01",
	        "92233720368547758,08",
	        "99999999999999999999",
	        "1.234.56",
	};
	int64_t c = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (amount_parse(bad[i], &c) != RC_INVALID)
			fail_msg("'%s' should be RC_INVALID", bad[i]);
		assert_int_equal(c, 42); /* untouched on failure */
	}
}

static void test_negative_and_limits(void **state)
{
	int64_t c = 0;

	(void)state;
	assert_int_equal(amount_parse("-5", &c), RC_UNPROCESSABLE);
	assert_int_equal(amount_parse("-R$ 5,00", &c), RC_UNPROCESSABLE);
	assert_int_equal(amount_parse("R$ -5,00", &c), RC_UNPROCESSABLE);
	assert_int_equal(amount_parse("-55.000,00", &c), RC_UNPROCESSABLE);
	assert_int_equal(ok("92233720368547758,07"), INT64_MAX);
	assert_int_equal(ok("92.233.720.368.547.758,07"), INT64_MAX);
	assert_int_equal(amount_parse("92233720368547758,075", &c), RC_INVALID); /* rounds over */
}

static int64_t real_ok(const char *text)
{
	int64_t c = -1;

	if (amount_parse_real(text, &c) != RC_OK)
		fail_msg("amount_parse_real('%s') failed", text);
	return c;
}

static void test_real(void **state)
{
	int64_t c = 7;

	(void)state;
	assert_int_equal(real_ok("57000.5"), 5700050);
	assert_int_equal(real_ok("5.7E4"), 5700000);
	assert_int_equal(real_ok("1.5e2"), 15000);
	assert_int_equal(real_ok("57000"), 5700000);
	assert_int_equal(real_ok("0.005"), 1);
	assert_int_equal(real_ok("0.0049"), 0);
	assert_int_equal(real_ok("-0.001"), 0);
	assert_int_equal(real_ok("1e-300"), 0);
	assert_int_equal(real_ok("0.000"), 0);
	/* binary noise written with 17 digits is what the spreadsheet shows at 15 */
	assert_int_equal(real_ok("57000.004999999997"), 5700001);
	assert_int_equal(real_ok("55000.010000000002"), 5500001);
	assert_int_equal(real_ok("0.29999999999999999"), 30);
	assert_int_equal(real_ok("57000.00499"), 5700000);
	assert_int_equal(real_ok("12345678901234567"), 1234567890123460000);
	assert_int_equal(amount_parse_real("123456789012345678", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("1e300", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("-3", &c), RC_UNPROCESSABLE);
	assert_int_equal(amount_parse_real("abc", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("1e", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("1,5", &c), RC_INVALID);
	assert_int_equal(amount_parse_real("1e99999999999999999999", &c), RC_INVALID);
	assert_int_equal(c, 7);
}

static void test_format(void **state)
{
	char out[AMOUNT_BRL_MAX];

	(void)state;
	amount_format_brl(5732000, out, sizeof(out));
	assert_string_equal(out, "R$ 57.320,00");
	amount_format_brl(0, out, sizeof(out));
	assert_string_equal(out, "R$ 0,00");
	amount_format_brl(5, out, sizeof(out));
	assert_string_equal(out, "R$ 0,05");
	amount_format_brl(99999, out, sizeof(out));
	assert_string_equal(out, "R$ 999,99");
	amount_format_brl(100000000, out, sizeof(out));
	assert_string_equal(out, "R$ 1.000.000,00");
	amount_format_brl(-150, out, sizeof(out));
	assert_string_equal(out, "-R$ 1,50");
	amount_format_brl(INT64_MAX, out, sizeof(out));
	assert_string_equal(out, "R$ 92.233.720.368.547.758,07");
	amount_format_brl(INT64_MIN, out, sizeof(out));
	assert_string_equal(out, "-R$ 92.233.720.368.547.758,08");
	amount_format_brl(5732000, out, 5);
	assert_string_equal(out, "R$ 5");
}

static void test_format_parse_round_trip(void **state)
{
	char out[AMOUNT_BRL_MAX];

	(void)state;
	for (int64_t v = 0; v < 4000000000000LL; v = v * 3 + 7) {
		amount_format_brl(v, out, sizeof(out));
		if (ok(out) != v)
			fail_msg("%lld -> %s -> %lld", (long long)v, out, (long long)ok(out));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_brazilian_and_plain),
	        cmocka_unit_test(test_ambiguous_separators),
	        cmocka_unit_test(test_rounding),
	        cmocka_unit_test(test_whitespace),
	        cmocka_unit_test(test_invalid),
	        cmocka_unit_test(test_negative_and_limits),
	        cmocka_unit_test(test_real),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_format_parse_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
