/*
 * server/rotation/ics.c — iCalendar text for the schedule (RFC 5545 sections 3.1 content lines and
 * folding, 3.3.11 TEXT escaping, 3.6.1 VEVENT). Each content line is built whole in a
 * scratch buffer, then folded into the output.
 */
#include "rotation/ics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rotation/tz.h"

#define ICS_LINE_CAP 8192 /* one content line before folding */
#define ICS_FOLD     75   /* octets per physical line, excluding CRLF */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned c = s[0];
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/* Appends text escaped as an RFC 5545 TEXT value; invalid UTF-8 becomes U+FFFD, control
 * characters other than newlines are dropped. */
static enum rc put_text(struct buf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0, len;
	enum rc rc = RC_OK;

	while (i < n && rc == RC_OK) {
		unsigned char c = s[i];

		if (c == '\\' || c == ';' || c == ',') {
			char esc[2] = {'\\', (char)c};

			rc = buf_append(b, esc, 2);
			i++;
		} else if (c == '\r' || c == '\n') {
			rc = buf_puts(b, "\\n");
			i += (c == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
		} else if (c < 0x20 && c != '\t') {
			i++;
		} else if (c == 0x7F) {
			i++;
		} else {
			len = utf8_len(s + i, n - i);
			if (len == 0) {
				rc = buf_puts(b, "\xEF\xBF\xBD");
				i++;
			} else {
				rc = buf_append(b, s + i, len);
				i += len;
			}
		}
	}
	return rc;
}

/* Writes the content line in `line` to out, folded, with CRLF. */
static enum rc put_folded(struct buf *out, const struct buf *line)
{
	const unsigned char *s = (const unsigned char *)line->data;
	size_t pos = 0, len = line->len, limit = ICS_FOLD, cut;
	enum rc rc = RC_OK;

	while (rc == RC_OK) {
		cut = len - pos > limit ? pos + limit : len;
		/* never cut inside a UTF-8 sequence */
		while (cut < len && cut > pos && (s[cut] & 0xC0) == 0x80)
			cut--;
		if (cut == pos)
			cut = pos + limit;
		if (pos > 0)
			rc = buf_append(out, " ", 1);
		if (rc == RC_OK)
			rc = buf_append(out, s + pos, cut - pos);
		if (rc == RC_OK)
			rc = buf_append(out, "\r\n", 2);
		pos = cut;
		if (pos >= len)
			break;
		limit = ICS_FOLD - 1; /* continuation lines start with a space */
	}
	return rc;
}

static enum rc put_time(struct buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < TZ_MIN_SECONDS || t > TZ_MAX_SECONDS || !gmtime_r(&tt, &tm))
		return RC_INVALID;
	return buf_printf(b, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                  tm.tm_min, tm.tm_sec);
}

/* Builds one content line "NAME:" + value (escaped text when text != NULL) and folds it. */
static enum rc emit(struct buf *out, struct buf *line, const char *name, const char *text)
{
	enum rc rc = buf_puts(line, name);

	if (rc == RC_OK && text)
		rc = put_text(line, text);
	if (rc == RC_OK)
		rc = put_folded(out, line);
	buf_release(line);
	return rc;
}

static enum rc event(struct buf *out, struct buf *line, const struct schedule_shift *sh,
                     const char *(*name_of)(void *ctx, int64_t person_id), void *ctx, int64_t dtstamp)
{
	const char *name = name_of ? name_of(ctx, sh->person_id) : NULL;
	char fallback[32];
	enum rc rc;

	rc = emit(out, line, "BEGIN:VEVENT", NULL);
	if (rc != RC_OK)
		return rc;
	if (sh->is_override)
		rc = buf_printf(line, "UID:override-%" PRId64 "-%" PRId64 "-%" PRId64 "@plantao", sh->override_id,
		                sh->start, sh->person_id);
	else
		rc = buf_printf(line, "UID:shift-%" PRId64 "-%" PRId64 "@plantao", sh->start, sh->person_id);
	if (rc == RC_OK)
		rc = emit(out, line, "", NULL);
	if (rc == RC_OK)
		rc = buf_puts(line, "DTSTAMP:");
	if (rc == RC_OK)
		rc = put_time(line, dtstamp);
	if (rc == RC_OK)
		rc = emit(out, line, "", NULL);
	if (rc == RC_OK)
		rc = buf_puts(line, "DTSTART:");
	if (rc == RC_OK)
		rc = put_time(line, sh->start);
	if (rc == RC_OK)
		rc = emit(out, line, "", NULL);
	if (rc == RC_OK)
		rc = buf_puts(line, "DTEND:");
	if (rc == RC_OK)
		rc = put_time(line, sh->end);
	if (rc == RC_OK)
		rc = emit(out, line, "", NULL);
	if (rc != RC_OK)
		return rc;
	if (!name) {
		snprintf(fallback, sizeof(fallback), "#%" PRId64, sh->person_id);
		name = fallback;
	}
	rc = buf_puts(line, "SUMMARY:");
	if (rc == RC_OK)
		rc = put_text(line, "Plantão: ");
	if (rc == RC_OK)
		rc = put_text(line, name);
	if (rc == RC_OK && sh->is_override)
		rc = put_text(line, " (substituição)");
	if (rc == RC_OK)
		rc = emit(out, line, "", NULL);
	if (rc == RC_OK)
		rc = emit(out, line, "TRANSP:TRANSPARENT", NULL);
	if (rc == RC_OK)
		rc = emit(out, line, "END:VEVENT", NULL);
	return rc;
}

enum rc ics_render(const struct schedule_shift *shifts, size_t n, const char *(*name_of)(void *ctx, int64_t person_id),
                   void *ctx, const char *calname, int64_t dtstamp, struct buf *out)
{
	struct buf line;
	size_t i;
	enum rc rc;

	buf_init(&line, ICS_LINE_CAP);
	rc = emit(out, &line, "BEGIN:VCALENDAR", NULL);
	if (rc == RC_OK)
		rc = emit(out, &line, "VERSION:2.0", NULL);
	if (rc == RC_OK)
		rc = emit(out, &line, "PRODID:-//plantao//schedule//PT", NULL);
	if (rc == RC_OK)
		rc = emit(out, &line, "CALSCALE:GREGORIAN", NULL);
	if (rc == RC_OK)
		rc = emit(out, &line, "METHOD:PUBLISH", NULL);
	if (rc == RC_OK)
		rc = emit(out, &line, "X-WR-CALNAME:", calname ? calname : "plantao");
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = event(out, &line, &shifts[i], name_of, ctx, dtstamp);
	if (rc == RC_OK)
		rc = emit(out, &line, "END:VCALENDAR", NULL);
	buf_release(&line);
	return rc;
}
