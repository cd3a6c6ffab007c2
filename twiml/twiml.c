/*
 * twiml/twiml.c — the TwiML builder: one function per verb over an xmlTextWriter writing
 * into an xmlBuffer. Owns the only xmlTextWriter of plantao.
 * Invariants: t->err is the first error and, once set, every call is a no-op; t->in is the
 * element new verbs go into, which is how nesting rules are enforced.
 * libxml2 escapes but does not validate, and Twilio answers a document that does not parse
 * with 12100 ("an application error has occurred" to the person being paged). Refusing the
 * document is no better: the webhook would answer an error instead. So every text and
 * attribute goes through clean() first (UTF-8 decoding and the XML 1.0 Char production are
 * libxml2's own routines) and what XML cannot carry is replaced: the rest of the alert is
 * still spoken, and the person can still press 1.
 */
#include "twiml.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/chvalid.h>
#include <libxml/parser.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

enum in { IN_RESPONSE, IN_DIAL, IN_GATHER, IN_NOTHING /* finished */ };

struct twiml {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	enum rc err;
	enum in in;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libxml2 initialises lazily and not thread-safely unless xmlInitParser ran first. */
static void init_libxml(void)
{
	xmlInitParser();
}

static void fail(struct twiml *t, enum rc rc)
{
	if (t->err == RC_OK)
		t->err = rc;
}

/* True when t accepts a verb while its current element is one of the allowed ones. */
static bool may_add(struct twiml *t, bool in_response, bool in_dial, bool in_gather)
{
	if (!t || t->err != RC_OK)
		return false;
	if ((t->in == IN_RESPONSE && in_response) || (t->in == IN_DIAL && in_dial) || (t->in == IN_GATHER && in_gather))
		return true;
	fail(t, RC_INTERNAL);
	return false;
}

/* U+FFFD REPLACEMENT CHARACTER in UTF-8 */
#define REPLACEMENT "\xef\xbf\xbd"

/*
 * What one character of s becomes. Returns the bytes of s it covers (*len) and what to write
 * instead: NULL to keep them, "" to drop them, " " or REPLACEMENT.
 *   - a control character (C0 but tab, LF, CR; DEL and C1, which XML allows but a voice or a
 *     phone cannot render) is a separator in practice (vertical tab, form feed, ESC): a space;
 *   - a code point XML 1.0 forbids (U+FFFE, U+FFFF, a UTF-8-encoded surrogate, past
 *     U+10FFFF), an overlong form or a byte that starts no character: U+FFFD, one per
 *     sequence (a lead byte and the continuation bytes after it);
 *   - a character cut at the very end of s is dropped: that is snprintf() truncating a
 *     message into a fixed buffer, not something the sender wrote.
 */
static const char *clean_char(const unsigned char *p, size_t left, int *len)
{
	int n = left > 4 ? 4 : (int)left, c, want;

	/* xmlGetUTF8Char takes a continuation byte (0x80-0xbf) for a lead byte: rule it out first */
	c = p[0] < 0x80 || p[0] >= 0xc0 ? xmlGetUTF8Char(p, &n) : -1;
	if (c >= 0) {
		/* xmlGetUTF8Char accepts overlong sequences: insist on the shortest form */
		want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		*len = n;
		if (n != want || (!xmlIsCharQ(c) && c >= 0x20))
			return REPLACEMENT;
		if (!xmlIsCharQ(c) || (c >= 0x7f && c <= 0x9f))
			return " ";
		return NULL;
	}
	/* not a character: this byte and the continuation bytes that follow it */
	for (n = 1; n < 4 && (size_t)n < left && (p[n] & 0xc0) == 0x80; n++)
		;
	*len = n;
	want = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
	       : p[0] >= 0xe0 && p[0] <= 0xef ? 3
	       : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
	                                      : 0;
	return (size_t)n == left && n < want ? "" : REPLACEMENT;
}

/*
 * s as text XML 1.0 and a voice can take (see clean_char). Returns s itself when nothing
 * changes (the usual case), else a new string in *copy (free() it); NULL when out of memory.
 */
static const char *clean(const char *s, char **copy)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), at = 0, n;
	const char *with;
	char *out = NULL;
	int len;

	*copy = NULL;
	while (left > 0) {
		/* the usual text is printable ASCII: taken as it is, without decoding (was 3.5 % of a
		 * retried webhook) */
		if ((*p >= 0x20 && *p < 0x7f) || *p == '\t' || *p == '\n' || *p == '\r') {
			if (out)
				out[at++] = (char)*p;
			p++;
			left--;
			continue;
		}
		with = clean_char(p, left, &len);
		if (with && !out) {
			/* every input byte becomes at most 3 output bytes (U+FFFD) */
			out = malloc(3 * (left + (size_t)(p - (const unsigned char *)s)) + 1);
			if (!out)
				return NULL;
			at = (size_t)(p - (const unsigned char *)s);
			memcpy(out, s, at);
		}
		if (out) {
			n = with ? strlen(with) : (size_t)len;
			memcpy(out + at, with ? with : (const char *)p, n);
			at += n;
		}
		p += len;
		left -= (size_t)len;
	}
	if (!out)
		return s;
	out[at] = '\0';
	*copy = out;
	return out;
}

/* Checks a string that must be present (text of an element). */
static bool check_required(struct twiml *t, const char *s)
{
	if (!s) {
		fail(t, RC_INTERNAL);
		return false;
	}
	return true;
}

/* Checks an optional string attribute (NULL is fine: it is left out). */
static bool check_optional(struct twiml *t, const char *s)
{
	return !s || check_required(t, s);
}

static bool check_count(struct twiml *t, int v)
{
	if (v < 0) {
		fail(t, RC_INTERNAL);
		return false;
	}
	return true;
}

static void writer_rc(struct twiml *t, int r)
{
	if (r < 0)
		fail(t, RC_INTERNAL);
}

static void start(struct twiml *t, const char *name)
{
	if (t->err == RC_OK)
		writer_rc(t, xmlTextWriterStartElement(t->w, BAD_CAST name));
}

static void end(struct twiml *t)
{
	if (t->err == RC_OK)
		writer_rc(t, xmlTextWriterEndElement(t->w));
}

static void attr(struct twiml *t, const char *name, const char *value)
{
	const char *v;
	char *copy;

	if (t->err != RC_OK || !value)
		return;
	v = clean(value, &copy);
	if (!v)
		fail(t, RC_INTERNAL);
	else
		writer_rc(t, xmlTextWriterWriteAttribute(t->w, BAD_CAST name, BAD_CAST v));
	free(copy);
}

static void attr_int(struct twiml *t, const char *name, int value)
{
	if (t->err == RC_OK && value != 0)
		writer_rc(t, xmlTextWriterWriteFormatAttribute(t->w, BAD_CAST name, "%d", value));
}

static void text(struct twiml *t, const char *s)
{
	const char *v;
	char *copy;

	if (t->err != RC_OK)
		return;
	v = clean(s, &copy);
	if (!v)
		fail(t, RC_INTERNAL);
	else
		writer_rc(t, xmlTextWriterWriteString(t->w, BAD_CAST v));
	free(copy);
}

struct twiml *twiml_new(void)
{
	struct twiml *t;

	pthread_once(&init_once, init_libxml);
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->in = IN_RESPONSE;
	t->buf = xmlBufferCreate();
	t->w = t->buf ? xmlNewTextWriterMemory(t->buf, 0) : NULL;
	if (!t->w)
		goto fail;
	if (xmlTextWriterStartDocument(t->w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElement(t->w, BAD_CAST "Response") < 0)
		goto fail;
	return t;
fail:
	twiml_free(t);
	return NULL;
}

void twiml_free(struct twiml *t)
{
	if (!t)
		return;
	if (t->w)
		xmlFreeTextWriter(t->w);
	if (t->buf)
		xmlBufferFree(t->buf);
	free(t);
}

void twiml_say(struct twiml *t, const char *s, const char *voice, const char *language)
{
	if (!may_add(t, true, false, true) || !check_required(t, s) || !check_optional(t, voice) ||
	    !check_optional(t, language))
		return;
	start(t, "Say");
	attr(t, "voice", voice);
	attr(t, "language", language);
	text(t, s);
	end(t);
}

void twiml_play(struct twiml *t, const char *url, int loop)
{
	if (!may_add(t, true, false, true) || !check_required(t, url) || !check_count(t, loop))
		return;
	start(t, "Play");
	attr_int(t, "loop", loop);
	text(t, url);
	end(t);
}

void twiml_pause(struct twiml *t, int length)
{
	if (!may_add(t, true, false, true) || !check_count(t, length))
		return;
	start(t, "Pause");
	attr_int(t, "length", length);
	end(t);
}

void twiml_dial_begin(struct twiml *t, const struct twiml_dial *d)
{
	static const struct twiml_dial none = {0};

	if (!d)
		d = &none;
	if (!may_add(t, true, false, false) || !check_count(t, d->timeout) || !check_optional(t, d->caller_id) ||
	    !check_optional(t, d->action) || !check_optional(t, d->method) || !check_optional(t, d->record))
		return;
	start(t, "Dial");
	attr_int(t, "timeout", d->timeout);
	attr(t, "callerId", d->caller_id);
	attr(t, "action", d->action);
	attr(t, "method", d->method);
	if (d->answer_on_bridge)
		attr(t, "answerOnBridge", "true");
	attr(t, "record", d->record);
	t->in = IN_DIAL;
}

void twiml_number(struct twiml *t, const char *number, const char *url, const char *status_callback)
{
	if (!may_add(t, false, true, false) || !check_required(t, number) || !check_optional(t, url) ||
	    !check_optional(t, status_callback))
		return;
	start(t, "Number");
	attr(t, "url", url);
	attr(t, "statusCallback", status_callback);
	text(t, number);
	end(t);
}

void twiml_dial_end(struct twiml *t)
{
	if (!may_add(t, false, true, false))
		return;
	end(t);
	t->in = IN_RESPONSE;
}

void twiml_gather_begin(struct twiml *t, const struct twiml_gather *g)
{
	static const struct twiml_gather none = {0};

	if (!g)
		g = &none;
	if (!may_add(t, true, false, false) || !check_count(t, g->num_digits) || !check_optional(t, g->action) ||
	    !check_optional(t, g->method) || !check_count(t, g->timeout) || !check_optional(t, g->input) ||
	    !check_optional(t, g->finish_on_key) || !check_optional(t, g->language))
		return;
	start(t, "Gather");
	attr_int(t, "numDigits", g->num_digits);
	attr(t, "action", g->action);
	attr(t, "method", g->method);
	attr_int(t, "timeout", g->timeout);
	attr(t, "input", g->input);
	attr(t, "finishOnKey", g->finish_on_key);
	attr(t, "language", g->language);
	t->in = IN_GATHER;
}

void twiml_gather_end(struct twiml *t)
{
	if (!may_add(t, false, false, true))
		return;
	end(t);
	t->in = IN_RESPONSE;
}

void twiml_record(struct twiml *t, const struct twiml_record *r)
{
	static const struct twiml_record none = {.play_beep = -1};

	if (!r)
		r = &none;
	if (!may_add(t, true, false, false))
		return;
	if (r->play_beep < -1 || r->play_beep > 1) {
		fail(t, RC_INTERNAL);
		return;
	}
	if (!check_count(t, r->max_length) || !check_optional(t, r->action) || !check_optional(t, r->method) ||
	    !check_optional(t, r->transcribe_callback) || !check_count(t, r->timeout) ||
	    !check_optional(t, r->finish_on_key))
		return;
	start(t, "Record");
	attr_int(t, "maxLength", r->max_length);
	attr(t, "action", r->action);
	attr(t, "method", r->method);
	if (r->play_beep >= 0)
		attr(t, "playBeep", r->play_beep ? "true" : "false");
	if (r->transcribe)
		attr(t, "transcribe", "true");
	attr(t, "transcribeCallback", r->transcribe_callback);
	attr_int(t, "timeout", r->timeout);
	attr(t, "finishOnKey", r->finish_on_key);
	end(t);
}

void twiml_message(struct twiml *t, const char *body)
{
	if (!may_add(t, true, false, false) || !check_required(t, body))
		return;
	start(t, "Message");
	text(t, body);
	end(t);
}

void twiml_redirect(struct twiml *t, const char *url, const char *method)
{
	if (!may_add(t, true, false, false) || !check_required(t, url) || !check_optional(t, method))
		return;
	start(t, "Redirect");
	attr(t, "method", method);
	text(t, url);
	end(t);
}

void twiml_hangup(struct twiml *t)
{
	if (!may_add(t, true, false, false))
		return;
	start(t, "Hangup");
	end(t);
}

void twiml_reject(struct twiml *t, const char *reason)
{
	if (!may_add(t, true, false, false) || !check_optional(t, reason))
		return;
	start(t, "Reject");
	attr(t, "reason", reason);
	end(t);
}

enum rc twiml_finish(struct twiml *t, char **out, size_t *len)
{
	const xmlChar *content;
	int n;

	*out = NULL;
	*len = 0;
	if (!t)
		return RC_INTERNAL;
	if (t->in == IN_NOTHING)
		fail(t, RC_INTERNAL); /* finished twice */
	t->in = IN_NOTHING;
	if (t->err != RC_OK)
		return t->err;
	/* closes <Gather>/<Dial> if left open, then <Response>, and flushes */
	writer_rc(t, xmlTextWriterEndDocument(t->w));
	if (t->err != RC_OK)
		return t->err;
	content = xmlBufferContent(t->buf);
	n = xmlBufferLength(t->buf);
	if (content && n > 0)
		*out = malloc((size_t)n + 1);
	if (!*out) {
		fail(t, RC_INTERNAL);
		return t->err;
	}
	memcpy(*out, content, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return RC_OK;
}
