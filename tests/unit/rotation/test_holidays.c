/* tests/unit/rotation/test_holidays.c — Brazil's national holidays: Easter and the days that move
 * with it (Carnaval, Sexta-feira Santa, Corpus Christi), the fixed days, Consciência Negra from 2024,
 * weekdays and month lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rotation/holidays.h"

static void test_easter(void **state)
{
	/* known Easter Sundays (including the extremes 22 March 1818 and 25 April 2038) */
	static const int known[][3] = {{2019, 4, 21}, {2024, 3, 31}, {2025, 4, 20}, {2026, 4, 5},
	                               {2027, 3, 28}, {2038, 4, 25}, {1818, 3, 22}, {2285, 3, 22}};
	size_t i;
	int m, d;

	(void)state;
	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		holidays_easter(known[i][0], &m, &d);
		assert_int_equal(m, known[i][1]);
		assert_int_equal(d, known[i][2]);
	}
}

static void expect(int y, int m, int d, const char *name)
{
	const char *got = NULL;
	bool is = holidays_is_holiday("BR", y, m, d, &got);

	if (!name) {
		assert_false(is);
		assert_null(got);
		return;
	}
	assert_true(is);
	assert_non_null(got);
	assert_string_equal(got, name);
}

static void test_movable_days_2026(void **state)
{
	(void)state;
	/* Easter 2026 is 5 April: Carnaval 16-17 Feb, Sexta-feira Santa 3 Apr, Corpus Christi 4 Jun */
	expect(2026, 2, 16, "Carnaval (segunda-feira)");
	expect(2026, 2, 17, "Carnaval (terça-feira)");
	expect(2026, 2, 18, NULL); /* Ash Wednesday: half a day, not a holiday */
	expect(2026, 4, 3, "Sexta-feira Santa");
	expect(2026, 6, 4, "Corpus Christi");
	expect(2026, 4, 5, NULL); /* Easter itself is a Sunday, no holiday of its own */
	/* 2024: Easter 31 March, so Carnaval on 12-13 February and Corpus Christi on 30 May */
	expect(2024, 2, 12, "Carnaval (segunda-feira)");
	expect(2024, 2, 13, "Carnaval (terça-feira)");
	expect(2024, 3, 29, "Sexta-feira Santa");
	expect(2024, 5, 30, "Corpus Christi");
	/* 2038: Easter 25 April, Carnaval in March, Corpus Christi on 24 June */
	expect(2038, 3, 8, "Carnaval (segunda-feira)");
	expect(2038, 6, 24, "Corpus Christi");
}

static void test_fixed_days(void **state)
{
	(void)state;
	expect(2026, 1, 1, "Confraternização Universal");
	expect(2026, 4, 21, "Tiradentes");
	expect(2026, 5, 1, "Dia do Trabalho");
	expect(2026, 9, 7, "Independência do Brasil");
	expect(2026, 10, 12, "Nossa Senhora Aparecida");
	expect(2026, 11, 2, "Finados");
	expect(2026, 11, 15, "Proclamação da República");
	expect(2026, 12, 25, "Natal");
	expect(2026, 12, 24, NULL);
	expect(2026, 12, 31, NULL);
	/* Consciência Negra is national from 2024 (Lei 14.759/2023) */
	expect(2026, 11, 20, "Dia Nacional de Zumbi e da Consciência Negra");
	expect(2024, 11, 20, "Dia Nacional de Zumbi e da Consciência Negra");
	expect(2023, 11, 20, NULL);
	expect(2018, 11, 20, NULL);
}

static void test_countries(void **state)
{
	(void)state;
	assert_true(holidays_has_country("BR"));
	assert_true(holidays_has_country("br"));
	assert_true(holidays_is_holiday("br", 2026, 12, 25, NULL));
	assert_false(holidays_has_country("PT"));
	assert_false(holidays_is_holiday("PT", 2026, 12, 25, NULL)); /* no calendar: no holidays */
	assert_false(holidays_is_holiday(NULL, 2026, 12, 25, NULL));
}

static void test_weekdays_and_month_lengths(void **state)
{
	(void)state;
	assert_int_equal(holidays_weekday(1970, 1, 1), 4);  /* Thursday */
	assert_int_equal(holidays_weekday(2026, 11, 1), 0); /* Sunday */
	assert_int_equal(holidays_weekday(2026, 11, 7), 6); /* Saturday */
	assert_int_equal(holidays_weekday(2000, 2, 29), 2); /* Tuesday */
	assert_int_equal(holidays_weekday(1969, 12, 31), 3);
	assert_int_equal(holidays_month_days(2026, 2), 28);
	assert_int_equal(holidays_month_days(2024, 2), 29);
	assert_int_equal(holidays_month_days(2100, 2), 28);
	assert_int_equal(holidays_month_days(2000, 2), 29);
	assert_int_equal(holidays_month_days(2026, 12), 31);
	assert_int_equal(holidays_month_days(2026, 11), 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_easter),
	        cmocka_unit_test(test_movable_days_2026),
	        cmocka_unit_test(test_fixed_days),
	        cmocka_unit_test(test_countries),
	        cmocka_unit_test(test_weekdays_and_month_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
