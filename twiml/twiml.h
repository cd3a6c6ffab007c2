/*
 * twiml/twiml.h — building TwiML answers (https://www.twilio.com/docs/voice/twiml,
 * https://www.twilio.com/docs/messaging/twiml) on libxml2's xmlTextWriter.
 * Output is UTF-8 with an XML declaration, no indentation, and byte-identical for the same
 * calls; every escape is libxml2's. Attribute names are Twilio's; an option that is 0 or
 * NULL (false for bools) is left out so Twilio's default applies.
 *
 * Text is never refused (a refused document is an error webhook, and Twilio tells the person
 * being paged "an application error has occurred"): in every text and attribute, what XML
 * 1.0 cannot carry is replaced and the rest is kept —
 *   control characters (C0 but tab, LF, CR; DEL; C1)         -> a space
 *   U+FFFE, U+FFFF, bytes that are not UTF-8 (overlong forms,
 *   encoded surrogates, past U+10FFFF), one per sequence       -> U+FFFD
 *   a character cut at the very end of the text (snprintf
 *   into a fixed buffer)                                       -> dropped
 *
 * Errors are sticky: once a call fails, later calls do nothing and twiml_finish reports the
 * first error, so a handler checks once at the end:
 *   RC_INTERNAL a verb where TwiML does not allow it (<Number> outside <Dial>, <Hangup>
 *               inside <Gather>...), a writer error, out of memory
 *   RC_INTERNAL also for a NULL text, url, number or body, or a negative number option
 * Every function accepts a NULL struct twiml (what twiml_new returns on OOM).
 * One struct twiml per request; distinct objects may be used from distinct threads.
 */
#ifndef PLANTAO_TWIML_H
#define PLANTAO_TWIML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rc.h"

struct twiml;

/* Starts a document with <Response> open. Free with twiml_free; NULL when out of memory. */
struct twiml *twiml_new(void);
void twiml_free(struct twiml *t);

/* <Say voice= language=>text</Say>; voice and language may be NULL. Allowed in <Gather>. */
void twiml_say(struct twiml *t, const char *text, const char *voice, const char *language);
/* <Play loop=>url</Play>; loop 0 leaves the attribute out. Allowed in <Gather>. */
void twiml_play(struct twiml *t, const char *url, int loop);
/* <Pause length=/>; length 0 leaves the attribute out (Twilio: 1 s). Allowed in <Gather>. */
void twiml_pause(struct twiml *t, int length);

struct twiml_dial {
	int timeout;           /* seconds, 0: omit */
	const char *caller_id; /* callerId */
	const char *action;
	const char *method;
	bool answer_on_bridge; /* answerOnBridge="true" when set */
	const char *record;    /* e.g. "record-from-answer" */
};

/* Opens <Dial> (d may be NULL: no attributes); add twiml_number()s, then twiml_dial_end. */
void twiml_dial_begin(struct twiml *t, const struct twiml_dial *d);
/* <Number url= statusCallback=>number</Number>, only inside <Dial>. */
void twiml_number(struct twiml *t, const char *number, const char *url, const char *status_callback);
void twiml_dial_end(struct twiml *t);

struct twiml_gather {
	int num_digits; /* numDigits */
	const char *action;
	const char *method;
	int timeout;
	const char *input;         /* "dtmf", "speech", "dtmf speech" */
	const char *finish_on_key; /* finishOnKey */
	const char *language;
};

/* Opens <Gather> (g may be NULL); Say/Play/Pause may follow, then twiml_gather_end. */
void twiml_gather_begin(struct twiml *t, const struct twiml_gather *g);
void twiml_gather_end(struct twiml *t);

struct twiml_record {
	int max_length; /* maxLength, seconds */
	const char *action;
	const char *method;
	int play_beep;                   /* playBeep: -1 omit, 0 "false", 1 "true" */
	bool transcribe;                 /* transcribe="true" when set */
	const char *transcribe_callback; /* transcribeCallback */
	int timeout;
	const char *finish_on_key; /* finishOnKey */
};

/* <Record .../> (r may be NULL). Note play_beep 0 means "false", not omit. */
void twiml_record(struct twiml *t, const struct twiml_record *r);

/* <Message>body</Message> (messaging TwiML). */
void twiml_message(struct twiml *t, const char *body);
/* <Redirect method=>url</Redirect>; method may be NULL. */
void twiml_redirect(struct twiml *t, const char *url, const char *method);
/* <Hangup/> */
void twiml_hangup(struct twiml *t);
/* <Reject reason=/>; reason ("rejected", "busy") may be NULL. */
void twiml_reject(struct twiml *t, const char *reason);

/*
 * Closes every open element and the document. On RC_OK *out is a new NUL-terminated
 * string of *len bytes (free() it); otherwise *out is NULL and the rc is the first error
 * (see above). After twiml_finish only twiml_free may be called on t.
 */
enum rc twiml_finish(struct twiml *t, char **out, size_t *len);

#endif
