/*
 * server/rotation/holidays.c — national holiday calendars (see holidays.h). Easter by the
 * anonymous Gregorian algorithm (Meeus/Jones/Butcher); the other movable days are offsets from
 * it, counted on a day number so they cross month ends correctly.
 */
#include "rotation/holidays.h"

#include <stddef.h>
#include <strings.h>

void holidays_easter(int year, int *month, int *day)
{
	int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
	int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;

	*month = (h + l - 7 * m + 114) / 31;
	*day = (h + l - 7 * m + 114) % 31 + 1;
}

/* Days since 1970-01-01 of a Gregorian date (Howard Hinnant's days_from_civil). */
static long days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int holidays_weekday(int year, int month, int day)
{
	long n = days_from_civil(year, month, day) % 7;

	return (int)((n + 4 + 7) % 7); /* 1970-01-01 was a Thursday */
}

int holidays_month_days(int year, int month)
{
	int ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;

	return (int)(days_from_civil(ny, nm, 1) - days_from_civil(year, month, 1));
}

bool holidays_has_country(const char *country)
{
	return country && strcasecmp(country, "BR") == 0;
}

static bool brazil(int year, int month, int day, const char **name)
{
	static const struct {
		int month, day, from_year;
		const char *name;
	} fixed[] = {
	        {1, 1, 0, "Confraternização Universal"},
	        {4, 21, 0, "Tiradentes"},
	        {5, 1, 0, "Dia do Trabalho"},
	        {9, 7, 0, "Independência do Brasil"},
	        {10, 12, 1980, "Nossa Senhora Aparecida"},
	        {11, 2, 0, "Finados"},
	        {11, 15, 0, "Proclamação da República"},
	        {11, 20, 2024, "Dia Nacional de Zumbi e da Consciência Negra"},
	        {12, 25, 0, "Natal"},
	};
	static const struct {
		int offset;
		const char *name;
	} movable[] = {
	        {-48, "Carnaval (segunda-feira)"},
	        {-47, "Carnaval (terça-feira)"},
	        {-2, "Sexta-feira Santa"},
	        {60, "Corpus Christi"},
	};
	int em, ed;
	long easter, today;
	size_t i;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (fixed[i].month == month && fixed[i].day == day && year >= fixed[i].from_year) {
			*name = fixed[i].name;
			return true;
		}
	holidays_easter(year, &em, &ed);
	easter = days_from_civil(year, em, ed);
	today = days_from_civil(year, month, day);
	for (i = 0; i < sizeof movable / sizeof movable[0]; i++)
		if (today - easter == movable[i].offset) {
			*name = movable[i].name;
			return true;
		}
	return false;
}

bool holidays_is_holiday(const char *country, int year, int month, int day, const char **name)
{
	const char *dummy;

	if (!name)
		name = &dummy;
	*name = NULL;
	if (holidays_has_country(country))
		return brazil(year, month, day, name);
	return false;
}
