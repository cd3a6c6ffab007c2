/*
 * server/twilio/sms_cost.c — GSM 03.38 membership and SMS part counting (see the header for the
 * rules). The tables are code points of the default alphabet that are not plain ASCII, and
 * the extension table (each of those costs an escape septet plus its own).
 */
#include "twilio/sms_cost.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Non-ASCII code points of the GSM 03.38 basic set. */
static const uint32_t gsm_basic_extra[] = {
        0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8, 0x00C5, 0x00E5, 0x0394,
        0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
        0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Septets a code point costs in GSM-7: 1 (basic), 2 (extension table) or 0 (not GSM-7). */
static int gsm_septets(uint32_t c)
{
	size_t i;

	if (c == '\n' || c == '\r')
		return 1;
	if (c == '\f' || c == 0x20AC || (c < 0x80 && strchr("^{}\\[~]|", (int)c)))
		return c ? 2 : 0;
	if (c >= 0x20 && c < 0x7F)
		return c == '`' ? 0 : 1;
	for (i = 0; i < sizeof gsm_basic_extra / sizeof gsm_basic_extra[0]; i++)
		if (gsm_basic_extra[i] == c)
			return 1;
	return 0;
}

/* Decodes one UTF-8 sequence at *s; returns false on malformed input. */
static bool next_cp(const unsigned char **s, uint32_t *cp)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int n, i;

	if (c < 0x80)
		n = 0;
	else if (c >= 0xC2 && c <= 0xDF)
		n = 1, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, c &= 0x07;
	else
		return false;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return false;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 2 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (n == 3 && (c < 0x10000 || c > 0x10FFFF)))
		return false;
	*cp = c;
	*s = p + n + 1;
	return true;
}

enum rc sms_cost_of(const char *text, struct sms_cost *out)
{
	const unsigned char *s = (const unsigned char *)text;
	bool gsm = true;
	uint32_t c;
	size_t single, part, used = 0, units = 0;
	int parts = 1;

	memset(out, 0, sizeof *out);
	/* First pass: validate and decide the encoding for the whole text. */
	while (*s) {
		if (!next_cp(&s, &c))
			return RC_INVALID;
		if (!gsm_septets(c))
			gsm = false;
	}
	out->encoding = gsm ? SMS_GSM7 : SMS_UCS2;
	single = gsm ? SMS_GSM7_SINGLE : SMS_UCS2_SINGLE;
	part = gsm ? SMS_GSM7_PART : SMS_UCS2_PART;
	/* Second pass: pack characters into parts; a 2-unit character never straddles parts. */
	s = (const unsigned char *)text;
	while (*s) {
		size_t cost;

		next_cp(&s, &c);
		cost = gsm ? (size_t)gsm_septets(c) : (c > 0xFFFF ? 2 : 1);
		units += cost;
		if (used + cost > part) {
			parts++;
			used = 0;
		}
		used += cost;
	}
	out->units = units;
	out->segments = units <= single ? 1 : parts;
	return RC_OK;
}

const char *sms_cost_encoding_name(enum sms_encoding e)
{
	return e == SMS_GSM7 ? "GSM-7" : "UCS-2";
}
