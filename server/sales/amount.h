/*
 * server/sales/amount.h — money amounts as exact int64 cents: parsing what people type into
 * spreadsheets ("R$ 55.000,00", "55000.5", "1,234.56") and formatting for messages.
 * No floating point touches a text amount; numbers a spreadsheet stores as binary reals go
 * through amount_parse_real(), which rounds in decimal. Callers: sales readers and the
 * sales route. Pure functions, thread-safe.
 *
 * Rules of amount_parse() (documented here because ambiguous input must have one answer):
 *  - Surrounding whitespace (space, tab, CR, LF, NBSP U+00A0, U+2007, U+202F) is ignored.
 *  - An optional currency mark "R$" (any case) may precede the number, with or without a
 *    space; an optional sign '+' or '-' may precede or follow "R$" ("-R$ 5", "R$ -5").
 *  - The number is digits with '.' and ',' separators. It must start with a digit.
 *  - If both '.' and ',' appear, the last one is the decimal separator and must appear once;
 *    the other one groups thousands.
 *  - If only one of them appears, more than once: it groups thousands ("1.234.567").
 *  - If only one appears once: it groups thousands when exactly 3 digits follow it and 1-3
 *    digits (not "0") precede it ("55.000" = 55000, "1,234" = 1234); otherwise it is the
 *    decimal separator ("55000,5", "57000.50", "0,500" = 0.50, "1234.567" = 1234.57).
 *  - Thousands groups must be well formed: 1-3 digits, then groups of exactly 3.
 *  - Decimals beyond the cent are rounded half away from zero ("0,005" = 1 cent).
 *  - Negative amounts are rejected (RC_UNPROCESSABLE); "-0" is zero.
 */
#ifndef PLANTAO_AMOUNT_H
#define PLANTAO_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

/* Longest text amount_format_brl() writes, NUL included ("-R$ 92.233.720.368.547.758,08"). */
#define AMOUNT_BRL_MAX 40

/* Parses a typed amount (rules above) into *cents.
 * RC_OK; RC_INVALID when text is not a number or overflows int64 cents;
 * RC_UNPROCESSABLE when it is negative. *cents is untouched on failure. */
enum rc amount_parse(const char *text, int64_t *cents);

/* Parses a plain number as stored by spreadsheets and JSON ("57000.5", "5.7E4", "-3"):
 * optional sign, digits with '.' as decimal point, optional exponent. The value is first
 * rounded to 15 significant digits (what a spreadsheet shows; this absorbs binary noise
 * such as "57000.004999999997") and then to cents, both half away from zero.
 * Same return codes as amount_parse(). */
enum rc amount_parse_real(const char *text, int64_t *cents);

/* Writes "R$ 57.320,00" ("-R$ 1,50" for negatives) into out, always NUL-terminated;
 * truncated when len < AMOUNT_BRL_MAX. */
void amount_format_brl(int64_t cents, char *out, size_t len);

#endif
