/*
 * server/mail/compose.c — e-mail messages as MIME text (contract in compose.h). RFC 5322 (message
 * format), RFC 2045/2046 (MIME, multipart/alternative), RFC 2047 (encoded-words), RFC 3834
 * (Auto-Submitted). Base64 through OpenSSL's EVP_EncodeBlock, HTML escaping through libxml2.
 */
#include "mail/compose.h"

#include <libxml/xmlstring.h>
#include <libxml/entities.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

#define B64_LINE_IN 57 /* bytes per 76-character base64 line */
#define WORD_IN_MAX 45 /* bytes per encoded-word: "=?UTF-8?B?" + 60 + "?=" = 72 <= 75 */

enum rc compose_message_id(const char *from, int64_t now, char *out, size_t size)
{
	unsigned char rnd[16];
	char hex[33];
	const char *at = from ? strchr(from, '@') : NULL;
	size_t i;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return RC_INTERNAL;
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	if ((size_t)snprintf(out, size, "<%s.%lld@%s>", hex, (long long)now,
	                     at && at[1] ? at + 1 : "plantao.invalid") >= size)
		return RC_TOO_BIG;
	return RC_OK;
}

/* Length of the longest prefix of s (at most max bytes) that does not cut a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n ? n : max; /* not UTF-8 at all: cut anyway */
}

/* Appends base64 of data[0..len) with no line breaks. */
static enum rc put_b64(struct buf *b, const unsigned char *data, size_t len)
{
	unsigned char out[4 * ((B64_LINE_IN + 2) / 3) + 1];
	enum rc rc = RC_OK;
	size_t off;

	for (off = 0; off < len && rc == RC_OK; off += B64_LINE_IN) {
		size_t n = len - off < B64_LINE_IN ? len - off : B64_LINE_IN;
		int w = EVP_EncodeBlock(out, data + off, (int)n);

		rc = buf_append(b, out, (size_t)w);
	}
	return rc;
}

/* Appends base64 of text in lines of 76 characters, each ended by CRLF (RFC 2045 6.8). */
static enum rc put_b64_lines(struct buf *b, const char *text)
{
	size_t len = strlen(text), off;
	enum rc rc = RC_OK;

	for (off = 0; off < len && rc == RC_OK; off += B64_LINE_IN) {
		size_t n = len - off < B64_LINE_IN ? len - off : B64_LINE_IN;

		rc = put_b64(b, (const unsigned char *)text + off, n);
		if (rc == RC_OK)
			rc = buf_puts(b, "\r\n");
	}
	return rc;
}

/* Plain ASCII that fits one line and cannot be read as an encoded-word goes as it is. */
static bool needs_encoding(const char *s)
{
	const char *p;

	if (strlen(s) > 60 || strstr(s, "=?"))
		return true;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
			return true;
	return false;
}

static enum rc put_header_text(struct buf *b, const char *text)
{
	size_t len = strlen(text), off = 0;
	enum rc rc = RC_OK;

	if (!needs_encoding(text))
		return buf_puts(b, text);
	if (!len)
		return RC_OK;
	while (off < len && rc == RC_OK) {
		size_t n = utf8_cut(text + off, len - off, WORD_IN_MAX);

		if (off)
			rc = buf_puts(b, "\r\n ");
		if (rc == RC_OK)
			rc = buf_puts(b, "=?UTF-8?B?");
		if (rc == RC_OK)
			rc = put_b64(b, (const unsigned char *)text + off, n);
		if (rc == RC_OK)
			rc = buf_puts(b, "?=");
		off += n;
	}
	return rc;
}

char *compose_encode_header(const char *text)
{
	struct buf b;

	buf_init(&b, COMPOSE_MAX_BYTES);
	if (put_header_text(&b, text ? text : "") != RC_OK || buf_puts(&b, "") != RC_OK) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Text made safe for a header line: control characters (CR, LF …) become spaces. */
static void header_safe(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			*s = ' ';
}

/* Appends text escaped for HTML by libxml2, each line break a <br>. */
static enum rc put_escaped(struct buf *b, const char *text, size_t len)
{
	char *copy = strndup(text, len);
	xmlChar *esc;
	const char *p;
	enum rc rc = RC_OK;

	if (!copy)
		return RC_INTERNAL;
	esc = xmlEncodeSpecialChars(NULL, (const xmlChar *)copy);
	free(copy);
	if (!esc)
		return RC_INTERNAL;
	/* libxml2 writes CR as "&#13;"; line breaks are LF */
	for (p = (const char *)esc; *p && rc == RC_OK;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		rc = buf_append(b, p, n);
		if (rc == RC_OK && nl)
			rc = buf_puts(b, "<br>");
		p += n + (nl ? 1 : 0);
	}
	xmlFree(esc);
	return rc;
}

/* Paragraphs of text (separated by a blank line) as <p> elements. */
static enum rc put_paragraphs(struct buf *b, const char *text)
{
	enum rc rc = RC_OK;

	while (*text && rc == RC_OK) {
		const char *end = strstr(text, "\n\n");
		size_t n = end ? (size_t)(end - text) : strlen(text);

		if (n) {
			rc = buf_puts(b, "<p>");
			if (rc == RC_OK)
				rc = put_escaped(b, text, n);
			if (rc == RC_OK)
				rc = buf_puts(b, "</p>\r\n");
		}
		text += n;
		while (*text == '\n')
			text++;
	}
	return rc;
}

static enum rc html_part(struct buf *b, const struct compose_msg *m)
{
	enum rc rc = buf_printf(b, "<!DOCTYPE html>\r\n<html lang=\"%s\">\r\n<head><meta charset=\"utf-8\"><title>",
	                        !strcmp(m->lang, "en") ? "en" : "pt-BR");

	if (rc == RC_OK)
		rc = put_escaped(b, m->subject, strlen(m->subject));
	if (rc == RC_OK)
		rc = buf_puts(b, "</title></head>\r\n<body style=\"font-family:sans-serif\">\r\n<h2>");
	if (rc == RC_OK)
		rc = put_escaped(b, m->html_title ? m->html_title : m->subject,
		                 strlen(m->html_title ? m->html_title : m->subject));
	if (rc == RC_OK)
		rc = buf_puts(b, "</h2>\r\n");
	if (rc == RC_OK)
		rc = put_paragraphs(b, m->html_text ? m->html_text : m->text);
	if (rc == RC_OK && m->link && (!strncmp(m->link, "https://", 8) || !strncmp(m->link, "http://", 7))) {
		rc = buf_puts(b, "<p><a href=\"");
		if (rc == RC_OK)
			rc = put_escaped(b, m->link, strlen(m->link));
		if (rc == RC_OK)
			rc = buf_puts(b, "\">");
		if (rc == RC_OK)
			rc = put_escaped(b, m->link_label ? m->link_label : m->link,
			                 strlen(m->link_label ? m->link_label : m->link));
		if (rc == RC_OK)
			rc = buf_puts(b, "</a></p>\r\n");
	}
	if (rc == RC_OK)
		rc = buf_puts(b, "</body>\r\n</html>\r\n");
	return rc;
}

static void rfc5322_date(int64_t t, char *out, size_t size)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
	         months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum rc compose_message(const struct compose_msg *m, char **out)
{
	unsigned char rnd[12];
	char boundary[64], date[64], *to = NULL, *from = NULL;
	struct buf b, html;
	enum rc rc = RC_INTERNAL;
	size_t i;

	*out = NULL;
	buf_init(&b, COMPOSE_MAX_BYTES);
	buf_init(&html, COMPOSE_MAX_BYTES);
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		goto out;
	snprintf(boundary, sizeof boundary, "=_plantao_");
	for (i = 0; i < sizeof rnd; i++)
		snprintf(boundary + strlen(boundary), sizeof boundary - strlen(boundary), "%02x", rnd[i]);
	rfc5322_date(m->date, date, sizeof date);
	to = strdup(m->to);
	from = strdup(m->from);
	if (!to || !from)
		goto out;
	header_safe(to);
	header_safe(from);
	rc = buf_printf(&b, "Date: %s\r\nFrom: ", date);
	if (rc == RC_OK)
		rc = put_header_text(&b, "Plantão");
	if (rc == RC_OK)
		rc = buf_printf(&b, " <%s>\r\nTo: <%s>\r\nSubject: ", from, to);
	if (rc == RC_OK)
		rc = put_header_text(&b, m->subject);
	if (rc == RC_OK)
		rc = buf_printf(&b,
		                "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
		                "Content-Language: %s\r\n"
		                "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
		                "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		                "Content-Transfer-Encoding: base64\r\n\r\n",
		                m->message_id, !strcmp(m->lang, "en") ? "en" : "pt-BR", boundary, boundary);
	if (rc == RC_OK)
		rc = put_b64_lines(&b, m->text);
	if (rc == RC_OK)
		rc = buf_printf(&b,
		                "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
		                "Content-Transfer-Encoding: base64\r\n\r\n",
		                boundary);
	if (rc == RC_OK)
		rc = html_part(&html, m);
	if (rc == RC_OK)
		rc = put_b64_lines(&b, html.data);
	if (rc == RC_OK)
		rc = buf_printf(&b, "--%s--\r\n", boundary);
	if (rc == RC_OK)
		*out = buf_steal(&b);
out:
	free(to);
	free(from);
	buf_release(&b);
	buf_release(&html);
	return rc;
}
