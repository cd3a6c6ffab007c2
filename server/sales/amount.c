/*
 * server/sales/amount.c — exact money parsing and BRL formatting (rules in amount.h).
 * Everything is integer arithmetic on int64 cents with explicit overflow checks.
 */
#include "sales/amount.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Length of the whitespace sequence at s (ASCII blanks, NBSP, figure and narrow NBSP). */
static size_t space_len(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (*u == ' ' || *u == '\t' || *u == '\r' || *u == '\n')
		return 1;
	if (u[0] == 0xC2 && u[1] == 0xA0)
		return 2;
	if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x87 || u[2] == 0xAF))
		return 3;
	return 0;
}

static const char *skip_space(const char *s)
{
	size_t n;

	while ((n = space_len(s)) > 0)
		s += n;
	return s;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* *v = *v * 10 + d, false on int64 overflow. */
static bool push_digit(int64_t *v, int d)
{
	if (*v > (INT64_MAX - d) / 10)
		return false;
	*v = *v * 10 + d;
	return true;
}

/* Checks thousands grouping of s[0..n): 1-3 digits, then (sep + 3 digits)*. */
static bool grouping_ok(const char *s, size_t n, char sep)
{
	size_t i = 0, run = 0;
	bool first = true;

	for (i = 0; i < n; i++) {
		if (s[i] == sep) {
			if (run == 0 || run > 3 || (!first && run != 3))
				return false;
			first = false;
			run = 0;
		} else if (is_digit(s[i])) {
			run++;
		} else {
			return false;
		}
	}
	return first ? run > 0 : run == 3;
}

/* Parses the bare number s[0..n) of digits, '.' and ','. */
static enum rc parse_number(const char *s, size_t n, int64_t *cents)
{
	size_t ndot = 0, ncomma = 0, lastdot = 0, lastcomma = 0, i, intlen, before, after;
	char dec = 0, sep = 0;
	int64_t v = 0;

	if (n == 0 || !is_digit(s[0]))
		return RC_INVALID;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			ndot++;
			lastdot = i;
		} else if (s[i] == ',') {
			ncomma++;
			lastcomma = i;
		} else if (!is_digit(s[i])) {
			return RC_INVALID;
		}
	}
	if (ndot && ncomma) {
		dec = lastdot > lastcomma ? '.' : ',';
		sep = dec == '.' ? ',' : '.';
		if ((dec == '.' ? ndot : ncomma) != 1)
			return RC_INVALID;
	} else if (ndot + ncomma > 1) {
		sep = ndot ? '.' : ',';
	} else if (ndot + ncomma == 1) {
		char c = ndot ? '.' : ',';
		size_t pos = ndot ? lastdot : lastcomma;

		before = pos;
		after = n - pos - 1;
		if (after == 3 && before >= 1 && before <= 3 && !(before == 1 && s[0] == '0'))
			sep = c;
		else
			dec = c;
	}
	intlen = n;
	if (dec)
		intlen = (size_t)(strchr(s, dec) - s);
	if (sep && !grouping_ok(s, intlen, sep))
		return RC_INVALID;
	if (dec && intlen + 1 >= n)
		return RC_INVALID; /* "55000," : a separator must be followed by digits */
	for (i = 0; i < intlen; i++)
		if (s[i] != sep && !push_digit(&v, s[i] - '0'))
			return RC_INVALID;
	/* cents from up to two decimals, then round on the third */
	for (i = 0; i < 2; i++) {
		size_t k = intlen + 1 + i;
		int d = dec && k < n ? s[k] - '0' : 0;

		if (!push_digit(&v, d))
			return RC_INVALID;
	}
	if (dec && intlen + 3 < n && s[intlen + 3] >= '5') {
		if (v == INT64_MAX)
			return RC_INVALID;
		v++;
	}
	*cents = v;
	return RC_OK;
}

enum rc amount_parse(const char *text, int64_t *cents)
{
	const char *p = skip_space(text), *start;
	bool neg = false, sign = false;
	int64_t v = 0;
	size_t n;
	enum rc rc;

	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		sign = true;
		p = skip_space(p + 1);
	}
	if ((p[0] == 'R' || p[0] == 'r') && p[1] == '$')
		p = skip_space(p + 2);
	if (!sign && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p = skip_space(p + 1);
	}
	start = p;
	while (is_digit(*p) || *p == '.' || *p == ',')
		p++;
	n = (size_t)(p - start);
	if (*skip_space(p) != '\0')
		return RC_INVALID;
	{
		/* parse_number uses strchr, so give it a terminated copy of the number */
		char num[64];

		if (n == 0 || n >= sizeof(num))
			return RC_INVALID;
		memcpy(num, start, n);
		num[n] = '\0';
		rc = parse_number(num, n, &v);
	}
	if (rc != RC_OK)
		return rc;
	if (neg && v != 0)
		return RC_UNPROCESSABLE;
	*cents = v;
	return RC_OK;
}

enum rc amount_parse_real(const char *text, int64_t *cents)
{
	/* value = digits * 10^exp, digits holding the first 16 significant digits */
	char digits[17];
	size_t nd = 0;
	long exp = 0, e = 0;
	bool neg = false, any = false, esign = false;
	const char *p = skip_space(text);
	int64_t n = 0, v;
	long k;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; is_digit(*p); p++) {
		any = true;
		if (nd == 0 && *p == '0')
			continue;
		if (nd < sizeof(digits) - 1)
			digits[nd++] = *p;
		else
			exp++;
	}
	if (*p == '.') {
		for (p++; is_digit(*p); p++) {
			any = true;
			if (nd == 0 && *p == '0') {
				exp--;
				continue;
			}
			if (nd < sizeof(digits) - 1) {
				digits[nd++] = *p;
				exp--;
			}
		}
	}
	if (!any)
		return RC_INVALID;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			esign = *p++ == '-';
		if (!is_digit(*p))
			return RC_INVALID;
		for (; is_digit(*p); p++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
		exp += esign ? -e : e;
	}
	if (*skip_space(p) != '\0')
		return RC_INVALID;
	/* round to 15 significant digits, half away from zero */
	if (nd == 16) {
		bool up = digits[15] >= '5';

		nd = 15;
		exp++;
		for (size_t i = 0; i < nd; i++)
			n = n * 10 + (digits[i] - '0');
		if (up)
			n++;
	} else {
		for (size_t i = 0; i < nd; i++)
			n = n * 10 + (digits[i] - '0');
	}
	/* n < 10^16 here; cents = n * 10^(exp + 2), rounded half away from zero */
	k = exp + 2;
	if (n == 0) {
		v = 0;
	} else if (k >= 0) {
		v = n;
		for (long i = 0; i < k; i++)
			if (!push_digit(&v, 0))
				return RC_INVALID;
	} else if (k < -16) {
		v = 0;
	} else {
		int64_t pow = 1;

		for (long i = 0; i < -k; i++)
			pow *= 10;
		v = n / pow;
		if ((n % pow) * 2 >= pow)
			v++;
	}
	if (neg && v != 0)
		return RC_UNPROCESSABLE;
	*cents = v;
	return RC_OK;
}

void amount_format_brl(int64_t cents, char *out, size_t len)
{
	char digits[24], txt[AMOUNT_BRL_MAX];
	uint64_t u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
	uint64_t whole = u / 100;
	unsigned frac = (unsigned)(u % 100);
	size_t nd, i, o = 0;

	if (!out || len == 0)
		return;
	nd = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)whole);
	if (cents < 0)
		txt[o++] = '-';
	memcpy(txt + o, "R$ ", 3);
	o += 3;
	for (i = 0; i < nd; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			txt[o++] = '.';
		txt[o++] = digits[i];
	}
	snprintf(txt + o, sizeof(txt) - o, ",%02u", frac);
	snprintf(out, len, "%s", txt);
}
