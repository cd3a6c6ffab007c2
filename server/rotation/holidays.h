/*
 * server/rotation/holidays.h — national holidays of the team's country (PLANTAO_COUNTRY), for
 * the sobreaviso report. Pure calendar arithmetic: no clock, no zone, no database.
 *
 * Brazil (BR), the only built-in calendar: the fixed national holidays of Lei 662/1949 and its
 * amendments (1 Jan, 21 Apr, 1 May, 7 Sep, 12 Oct — Lei 6.802/1980 —, 2 Nov, 15 Nov, 25 Dec),
 * Dia Nacional de Zumbi e da Consciência Negra on 20 Nov from 2024 (Lei 14.759/2023), and the
 * days that move with Easter: Carnaval Monday and Tuesday (Easter − 48 and − 47), Sexta-feira
 * Santa (Easter − 2) and Corpus Christi (Easter + 60). Carnaval and Corpus Christi are "pontos
 * facultativos" in federal law but days off in practice, and on-call pay treats them as
 * holidays. State and city holidays are not included. Any other country has no holidays here
 * (weekends still count as weekends).
 */
#ifndef PLANTAO_HOLIDAYS_H
#define PLANTAO_HOLIDAYS_H

#include <stdbool.h>

/* Easter Sunday of a Gregorian year (1583..9999): *month 3 or 4, *day. */
void holidays_easter(int year, int *month, int *day);

/*
 * Whether year-month-day is a national holiday of country ("BR"; case-insensitive). *name (may
 * be NULL) receives its Portuguese name (a static string) when it is one.
 */
bool holidays_is_holiday(const char *country, int year, int month, int day, const char **name);

/* Day of the week of a Gregorian date: 0 Sunday .. 6 Saturday. */
int holidays_weekday(int year, int month, int day);

/* Days in month (1..12) of year. */
int holidays_month_days(int year, int month);

/* Whether country has a built-in calendar. */
bool holidays_has_country(const char *country);

#endif
