/*
 * server/auth/phone.c — typed phone numbers to E.164 (see phone.h). The national rules are
 * the few that matter to a team typing its own numbers: drop punctuation, drop the trunk
 * prefix, add the country's calling code; a Brazilian number must have its area code and 8 or
 * 9 digits. Anything else is refused, never guessed.
 */
#include "auth/phone.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/cfg.h"

static const struct {
	const char iso[3];
	int code;
} countries[] = {
        {"AR", 54},  {"AU", 61},  {"BO", 591}, {"BR", 55},  {"CA", 1},  {"CL", 56},  {"CO", 57},  {"DE", 49},
        {"ES", 34},  {"FR", 33},  {"GB", 44},  {"IE", 353}, {"IT", 39}, {"MX", 52},  {"NL", 31},  {"PE", 51},
        {"PT", 351}, {"PY", 595}, {"US", 1},   {"UY", 598}, {"VE", 58}, {"AO", 244}, {"MZ", 258}, {"IN", 91},
};

int phone_country_code(const char *country)
{
	size_t i;

	if (!country)
		return 0;
	for (i = 0; i < sizeof countries / sizeof countries[0]; i++)
		if (!strcmp(countries[i].iso, country))
			return countries[i].code;
	return 0;
}

enum rc phone_normalize(const char *typed, const char *country, char out[PHONE_E164_BYTES])
{
	char digits[32], e164[48];
	size_t n = 0;
	bool plus = false;
	const char *p = typed, *d;
	int cc = phone_country_code(country);

	out[0] = '\0';
	if (!typed)
		return RC_UNPROCESSABLE;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+') {
		plus = true;
		p++;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= sizeof digits)
				return RC_UNPROCESSABLE;
			digits[n++] = *p;
		} else if (!strchr(" \t.-/()", *p)) {
			return RC_UNPROCESSABLE;
		}
	}
	digits[n] = '\0';
	d = digits;
	if (!plus && !strncmp(d, "00", 2)) { /* international prefix */
		plus = true;
		d += 2;
	}
	if (plus) {
		snprintf(e164, sizeof e164, "+%s", d);
	} else {
		if (!cc)
			return RC_UNPROCESSABLE;
		if (d[0] == '0') {
			d++;
			/* Brazil: 0 + carrier code (2 digits) + area code (2) + number (8 or 9) */
			if (cc == 55 && strlen(d) >= 12)
				d += 2;
		}
		snprintf(e164, sizeof e164, "+%d%s", cc, d);
	}
	if (strlen(e164) >= PHONE_E164_BYTES || !cfg_is_e164(e164))
		return RC_UNPROCESSABLE;
	/* Brazil: area code (2 digits, no 0) and 8 or 9 digits; "11 9999" is a typo, not a phone */
	if (!strncmp(e164, "+55", 3) && (strlen(e164 + 3) < 10 || strlen(e164 + 3) > 11 || e164[3] == '0'))
		return RC_UNPROCESSABLE;
	memcpy(out, e164, strlen(e164) + 1);
	return RC_OK;
}
