/*
 * server/mail/compose.h — e-mail messages as RFC 5322 / MIME text, built once when an e-mail is
 * queued (the outbox keeps the whole message, so a retry sends the very same bytes, Message-ID
 * included). Pure functions, no I/O; used by server/outbox/mailer.c.
 *
 * What a message looks like: Date, From (display name "Plantão"), To, Subject (UTF-8 as RFC 2047
 * encoded-words, B encoding, each word at most 75 characters and never splitting a character),
 * Message-ID, MIME-Version, Auto-Submitted: auto-generated (RFC 3834), Content-Language, and a
 * multipart/alternative body (RFC 2046) with a text/plain and a text/html part, both UTF-8 in
 * base64 lines of 76 characters (RFC 2045). Base64 is OpenSSL's EVP encoder; the HTML part's
 * user text is escaped by libxml2 (xmlEncodeSpecialChars), never by hand.
 */
#ifndef PLANTAO_COMPOSE_H
#define PLANTAO_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define COMPOSE_MESSAGE_ID_MAX 160
#define COMPOSE_MAX_BYTES      (512 * 1024) /* a whole message; longer text is refused (RC_TOO_BIG) */

/* One message. Every string is UTF-8 and borrowed. */
struct compose_msg {
	const char *from;       /* the sender's address (PLANTAO_SMTP_FROM) */
	const char *to;         /* one recipient address */
	const char *subject;    /* any UTF-8; encoded per RFC 2047 */
	const char *text;       /* the text/plain part */
	const char *html_title; /* the HTML part: a heading … */
	const char *html_text;  /* … and paragraphs (blank-line separated), escaped; NULL: text */
	const char *link;       /* an http(s) link shown under the paragraphs (NULL: none) */
	const char *link_label; /* its words */
	const char *lang;       /* Content-Language, "pt-BR" or "en" */
	const char *message_id; /* "<…@…>", from compose_message_id() */
	int64_t date;           /* Unix seconds, written in UTC */
};

/*
 * A new Message-ID for an address of domain from's: "<" 32 random hex digits "." unix time
 * "@" domain ">". out must hold COMPOSE_MESSAGE_ID_MAX bytes. RC_INTERNAL when no random bytes.
 */
enum rc compose_message_id(const char *from, int64_t now, char *out, size_t size);

/*
 * Subject (or any header text) as RFC 2047 encoded-words folded with CRLF SP. Returns a new
 * string (free()), NULL when out of memory.
 */
char *compose_encode_header(const char *text);

/* The whole message, CRLF line ends; *out gets a new string (free()). RC_TOO_BIG over COMPOSE_MAX_BYTES. */
enum rc compose_message(const struct compose_msg *m, char **out);

#endif
