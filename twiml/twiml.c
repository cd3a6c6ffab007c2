/*
 * twiml/twiml.c — the TwiML builder: one function per verb over an xmlTextWriter writing
 * into an xmlBuffer. Owns the only xmlTextWriter of plantao.
 * Invariants: t->err is the first error and, once set, every call is a no-op; t->in is the
 * element new verbs go into, which is how nesting rules are enforced.
 * libxml2 escapes but does not validate, so text is checked here first (UTF-8 and XML 1.0
 * Char production, both with libxml2's own routines): Twilio answers 12100 to a document
 * that does not parse, and a caller would rather hear about it from us.
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

/* UTF-8 whose every code point is an XML 1.0 Char, without overlong forms. */
static bool is_xml_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	int len, c;

	while (left > 0) {
		len = left > 4 ? 4 : (int)left;
		c = xmlGetUTF8Char(p, &len);
		if (c < 0 || !xmlIsCharQ(c))
			return false;
		/* xmlGetUTF8Char accepts overlong sequences: insist on the shortest form */
		if (len != (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4))
			return false;
		p += len;
		left -= (size_t)len;
	}
	return true;
}

/* Checks a string that must be present (text of an element). */
static bool check_required(struct twiml *t, const char *s)
{
	if (!s) {
		fail(t, RC_INTERNAL);
		return false;
	}
	if (!is_xml_text(s)) {
		fail(t, RC_INVALID);
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
	if (t->err == RC_OK && value)
		writer_rc(t, xmlTextWriterWriteAttribute(t->w, BAD_CAST name, BAD_CAST value));
}

static void attr_int(struct twiml *t, const char *name, int value)
{
	if (t->err == RC_OK && value != 0)
		writer_rc(t, xmlTextWriterWriteFormatAttribute(t->w, BAD_CAST name, "%d", value));
}

static void text(struct twiml *t, const char *s)
{
	if (t->err == RC_OK)
		writer_rc(t, xmlTextWriterWriteString(t->w, BAD_CAST s));
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
