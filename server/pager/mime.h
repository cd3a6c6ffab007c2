/*
 * server/pager/mime.h — reading an Internet message (RFC 5322) as a person would: the decoded
 * Subject, the Message-ID and the text of the body, all as valid UTF-8.
 *
 * What it decodes: header encoded words (RFC 2047, B and Q, adjacent words joined), the
 * transfer encodings quoted-printable and base64 (RFC 2045; base64 through OpenSSL), the
 * charsets UTF-8, US-ASCII, ISO-8859-x and Windows-125x (through iconv), multipart entities
 * (RFC 2046) from which it picks the first inline text/plain part, else the first text/html
 * part reduced to its text (libxml2's HTML parser). Anything malformed is read leniently and
 * never fails the parse: bytes that are not valid in their charset become U+FFFD, NUL and
 * other control characters are dropped. Caller: the IMAP poller (server/pager/imap.c).
 */
#ifndef PLANTAO_MIME_H
#define PLANTAO_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/rc.h"

/* Bytes of a message that are read; the rest is ignored and the result says truncated. */
#define MIME_MAX_INPUT (8u << 20)
/* Deepest multipart nesting followed, and most body parts looked at in one message. */
#define MIME_MAX_DEPTH 16
#define MIME_MAX_PARTS 256

struct mime_msg {
	char *subject;    /* decoded, on one line, trimmed; "" when absent. Owned. */
	char *from;       /* the From header decoded, one line; "" when absent. Owned. */
	char *message_id; /* the Message-ID without angle brackets, printable ASCII; NULL when absent */
	char *text;       /* decoded body text, '\n' line ends, trimmed; "" when there is none. Owned. */
	bool html;        /* text came from a text/html part */
	bool truncated;   /* the input was longer than MIME_MAX_INPUT */
};

/*
 * Parses the message raw[0..len) (need not be NUL-terminated, may hold NULs) into m, which
 * the caller releases with mime_release() whatever the result. RC_INTERNAL only when out of
 * memory; malformed mail is never an error.
 */
enum rc mime_parse(const char *raw, size_t len, struct mime_msg *m);
void mime_release(struct mime_msg *m);

/*
 * The building blocks, each appending to out (a struct buf with its own cap: RC_TOO_BIG when
 * it is hit, RC_INTERNAL when out of memory).
 */

/* Decodes an unfolded header value with RFC 2047 encoded words into UTF-8. */
enum rc mime_header_decode(const char *value, size_t len, struct buf *out);

/*
 * Quoted-printable (RFC 2045 6.7): =XX (either case), soft line breaks "=\r\n" / "=\n",
 * trailing blanks of a line dropped; a '=' not followed by two hex digits is kept as is.
 * With q_word set it is the "Q" of an encoded word instead (RFC 2047 4.2): '_' is a space.
 */
enum rc mime_qp_decode(const char *in, size_t len, bool q_word, struct buf *out);

/* Base64 (RFC 2045 6.8) ignoring line breaks and other characters outside the alphabet. */
enum rc mime_base64_decode(const char *in, size_t len, struct buf *out);

/*
 * Converts in[0..len) from charset (NULL or "" when unknown) to UTF-8. UTF-8 and US-ASCII
 * text that is not valid UTF-8 is read as Windows-1252 unless it claimed to be UTF-8, where
 * the invalid bytes become U+FFFD; ISO-8859-1 is read as Windows-1252, its superset in
 * practice (as the WHATWG encoding standard does). Unknown charsets are read like US-ASCII.
 */
enum rc mime_to_utf8(const char *charset, const char *in, size_t len, struct buf *out);

/* The text of an HTML document (UTF-8): no tags, scripts or styles, entities decoded. */
enum rc mime_html_text(const char *html, size_t len, struct buf *out);

/* Length in bytes of the first max_chars characters of the UTF-8 string s. */
size_t mime_utf8_prefix(const char *s, size_t max_chars);

#endif
