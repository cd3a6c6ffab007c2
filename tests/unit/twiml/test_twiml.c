/* tests/unit/twiml/test_twiml.c — the TwiML builder: exact output of every verb, nesting, escaping,
 * and the replacement of what XML 1.0 cannot carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twiml/twiml.h"

#define DECL      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define DOC(body) DECL "<Response>" body "</Response>\n"

/* Finishes t, checks the document is exactly expected, frees t. */
static void assert_doc(struct twiml *t, const char *expected)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(twiml_finish(t, &out, &len), RC_OK);
	assert_non_null(out);
	assert_string_equal(out, expected);
	assert_int_equal(len, strlen(expected));
	free(out);
	twiml_free(t);
}

static void assert_fails(struct twiml *t, enum rc expected)
{
	char *out = (char *)"sentinel";
	size_t len = 1;

	assert_int_equal(twiml_finish(t, &out, &len), expected);
	assert_null(out);
	assert_int_equal(len, 0);
	twiml_free(t);
}

static void test_empty_response(void **state)
{
	(void)state;
	assert_doc(twiml_new(), DECL "<Response/>\n");
}

static void test_say(void **state)
{
	struct twiml *t = twiml_new();

	(void)state;
	twiml_say(t, "Hello", NULL, NULL);
	twiml_say(t, "Ol\xc3\xa1", "Polly.Camila", "pt-BR");
	twiml_say(t, "only voice", "alice", NULL);
	assert_doc(t, DOC("<Say>Hello</Say>"
	                  "<Say voice=\"Polly.Camila\" language=\"pt-BR\">Ol\xc3\xa1</Say>"
	                  "<Say voice=\"alice\">only voice</Say>"));
}

static void test_play_pause(void **state)
{
	struct twiml *t = twiml_new();

	(void)state;
	twiml_play(t, "https://example.com/a.mp3", 0);
	twiml_play(t, "https://example.com/b.mp3", 3);
	twiml_pause(t, 0);
	twiml_pause(t, 2);
	assert_doc(t, DOC("<Play>https://example.com/a.mp3</Play>"
	                  "<Play loop=\"3\">https://example.com/b.mp3</Play>"
	                  "<Pause/><Pause length=\"2\"/>"));
}

static void test_dial(void **state)
{
	const struct twiml_dial d = {
	        .timeout = 20,
	        .caller_id = "+5511987654321",
	        .action = "/twilio/voice/dial-status?step=1",
	        .method = "POST",
	        .answer_on_bridge = true,
	        .record = "record-from-answer",
	};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_dial_begin(t, &d);
	twiml_number(t, "+5511900000001", NULL, NULL);
	twiml_number(t, "+5511900000002", "/twilio/whisper", "/twilio/status/call");
	twiml_dial_end(t);
	assert_doc(t, DOC("<Dial timeout=\"20\" callerId=\"+5511987654321\" "
	                  "action=\"/twilio/voice/dial-status?step=1\" method=\"POST\" "
	                  "answerOnBridge=\"true\" record=\"record-from-answer\">"
	                  "<Number>+5511900000001</Number>"
	                  "<Number url=\"/twilio/whisper\" statusCallback=\"/twilio/status/call\">"
	                  "+5511900000002</Number>"
	                  "</Dial>"));
}

static void test_dial_defaults_omitted(void **state)
{
	const struct twiml_dial d = {0};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_dial_begin(t, &d);
	twiml_number(t, "+5511900000001", NULL, NULL);
	twiml_dial_end(t);
	twiml_dial_begin(t, NULL);
	twiml_number(t, "+5511900000002", NULL, NULL);
	twiml_dial_end(t);
	assert_doc(t, DOC("<Dial><Number>+5511900000001</Number></Dial>"
	                  "<Dial><Number>+5511900000002</Number></Dial>"));
}

static void test_gather_nesting(void **state)
{
	const struct twiml_gather g = {
	        .num_digits = 1,
	        .action = "/twilio/alert-call/42/gather",
	        .method = "POST",
	        .timeout = 8,
	        .input = "dtmf",
	        .finish_on_key = "#",
	        .language = "pt-BR",
	};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_gather_begin(t, &g);
	twiml_say(t, "Alerta: disco cheio. Pressione 1.", "Polly.Camila", "pt-BR");
	twiml_pause(t, 1);
	twiml_play(t, "https://example.com/beep.mp3", 0);
	twiml_gather_end(t);
	twiml_redirect(t, "/twilio/alert-call/42", "POST");
	assert_doc(t, DOC("<Gather numDigits=\"1\" action=\"/twilio/alert-call/42/gather\" "
	                  "method=\"POST\" timeout=\"8\" input=\"dtmf\" finishOnKey=\"#\" "
	                  "language=\"pt-BR\">"
	                  "<Say voice=\"Polly.Camila\" language=\"pt-BR\">"
	                  "Alerta: disco cheio. Pressione 1.</Say>"
	                  "<Pause length=\"1\"/>"
	                  "<Play>https://example.com/beep.mp3</Play>"
	                  "</Gather>"
	                  "<Redirect method=\"POST\">/twilio/alert-call/42</Redirect>"));
}

static void test_open_elements_closed_by_finish(void **state)
{
	const struct twiml_gather g = {.num_digits = 1};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_gather_begin(t, &g);
	twiml_say(t, "x", NULL, NULL);
	assert_doc(t, DOC("<Gather numDigits=\"1\"><Say>x</Say></Gather>"));
}

static void test_record(void **state)
{
	const struct twiml_record all = {
	        .max_length = 120,
	        .action = "/twilio/voice/voicemail",
	        .method = "POST",
	        .play_beep = 1,
	        .transcribe = true,
	        .transcribe_callback = "/twilio/transcription",
	        .timeout = 5,
	        .finish_on_key = "*",
	};
	const struct twiml_record no_beep = {.play_beep = 0};
	const struct twiml_record omit = {.play_beep = -1};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_record(t, &all);
	twiml_record(t, &no_beep);
	twiml_record(t, &omit);
	twiml_record(t, NULL);
	assert_doc(t, DOC("<Record maxLength=\"120\" action=\"/twilio/voice/voicemail\" "
	                  "method=\"POST\" playBeep=\"true\" transcribe=\"true\" "
	                  "transcribeCallback=\"/twilio/transcription\" timeout=\"5\" "
	                  "finishOnKey=\"*\"/>"
	                  "<Record playBeep=\"false\"/>"
	                  "<Record/>"
	                  "<Record/>"));
}

static void test_message_redirect_hangup_reject(void **state)
{
	struct twiml *t = twiml_new();

	(void)state;
	twiml_message(t, "Plant\xc3\xa3o: voc\xc3\xaa assumiu.");
	twiml_redirect(t, "/twilio/voice", NULL);
	twiml_hangup(t);
	twiml_reject(t, NULL);
	twiml_reject(t, "busy");
	assert_doc(t, DOC("<Message>Plant\xc3\xa3o: voc\xc3\xaa assumiu.</Message>"
	                  "<Redirect>/twilio/voice</Redirect>"
	                  "<Hangup/><Reject/><Reject reason=\"busy\"/>"));
}

static void test_escaping(void **state)
{
	const struct twiml_dial d = {.action = "/a?x=1&y=<2>\"'"};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_say(t, "a < b && c > \"d\" 'e'", "v\"<&>'", NULL);
	twiml_message(t, "</Message><Hangup/>");
	twiml_dial_begin(t, &d);
	twiml_number(t, "+55&11", "/u?a=1&b=2", NULL);
	twiml_dial_end(t);
	twiml_say(t, "tab\tnew\nline", NULL, NULL);
	assert_doc(t, DOC("<Say voice=\"v&quot;&lt;&amp;&gt;'\">"
	                  "a &lt; b &amp;&amp; c &gt; &quot;d&quot; 'e'</Say>"
	                  "<Message>&lt;/Message&gt;&lt;Hangup/&gt;</Message>"
	                  "<Dial action=\"/a?x=1&amp;y=&lt;2&gt;&quot;'\">"
	                  "<Number url=\"/u?a=1&amp;b=2\">+55&amp;11</Number></Dial>"
	                  "<Say>tab\tnew\nline</Say>"));
}

static void test_utf8_portuguese(void **state)
{
	static const char text[] = "Aten\xc3\xa7\xc3\xa3o: o servi\xc3\xa7o est\xc3\xa1 fora do ar. "
	                           "Voc\xc3\xaa \xc3\xa9 o plantonista? \xc3\x80 \xc3\xb4 \xc3\xb5 "
	                           "\xc3\xba \xe2\x82\xac \xf0\x9f\x93\x9e";
	struct twiml *t = twiml_new();

	(void)state;
	twiml_say(t, text, NULL, "pt-BR");
	/* bytes pass through unchanged: no character references */
	assert_doc(t, DOC("<Say language=\"pt-BR\">"
	                  "Aten\xc3\xa7\xc3\xa3o: o servi\xc3\xa7o "
	                  "est\xc3\xa1 fora do ar. Voc\xc3\xaa \xc3\xa9 o plantonista? \xc3\x80 "
	                  "\xc3\xb4 \xc3\xb5 \xc3\xba \xe2\x82\xac \xf0\x9f\x93\x9e</Say>"));
}

static void build_sample(char **out, size_t *len)
{
	const struct twiml_dial d = {.timeout = 15, .caller_id = "+5511987654321"};
	struct twiml *t = twiml_new();

	twiml_say(t, "Liga\xc3\xa7\xc3\xa3o & espera", "Polly.Camila", "pt-BR");
	twiml_dial_begin(t, &d);
	twiml_number(t, "+5511900000001", NULL, NULL);
	twiml_dial_end(t);
	assert_int_equal(twiml_finish(t, out, len), RC_OK);
	twiml_free(t);
}

static void test_deterministic(void **state)
{
	char *a, *b;
	size_t la, lb;
	int i;

	(void)state;
	build_sample(&a, &la);
	for (i = 0; i < 50; i++) {
		build_sample(&b, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(b);
	}
	free(a);
}

/* One <Say> of text: the document it must give. */
static void assert_said(const char *text, const char *expected_text)
{
	struct twiml *t = twiml_new();
	char expected[512];

	twiml_say(t, text, NULL, NULL);
	snprintf(expected, sizeof expected, DOC("<Say>%s</Say>"), expected_text);
	assert_doc(t, expected);
}

#define FFFD "\xef\xbf\xbd"

static void test_forbidden_characters_replaced(void **state)
{
	(void)state;
	/* what XML 1.0 forbids: U+FFFF, U+FFFE */
	assert_said("disk\xef\xbf\xbf full\xef\xbf\xbe now", "disk" FFFD " full" FFFD " now");
	/* control characters: a space (tab, LF, CR stay) */
	assert_said("escape \x1b[31m red\x07!", "escape  [31m red !");
	assert_said("a\x01\x02\x1f"
	            "b\x7f"
	            "c\xc2\x80\xc2\x9f"
	            "d",
	            "a   b c  d");
	assert_said("tab\tnew\nline", "tab\tnew\nline");
	/* just past the control ranges: kept */
	assert_said("\xc2\xa0 \xef\xbf\xbd \xef\xbf\xbc \xf4\x8f\xbf\xbf",
	            "\xc2\xa0 \xef\xbf\xbd \xef\xbf\xbc \xf4\x8f\xbf\xbf");
}

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	assert_said("bad \xff utf-8", "bad " FFFD " utf-8");
	assert_said("overlong \xc1\x81 \xe0\x80\x80 \xf0\x80\x80\x80!", "overlong " FFFD " " FFFD " " FFFD "!");
	/* encoded surrogates (lone or paired, CESU-8): one U+FFFD each */
	assert_said("lone \xed\xa0\x80 pair \xed\xa0\xbd\xed\xb2\x9f end", "lone " FFFD " pair " FFFD FFFD " end");
	/* past U+10FFFF, stray continuation bytes (one U+FFFD for the run), a lead byte cut short */
	/* xmlGetUTF8Char alone would read a continuation byte pair as one character */
	assert_said("pair Z\x93\x9f end", "pair Z" FFFD " end");
	assert_said("big \xf4\x90\x80\x80 stray \x80\xbf x \xc3y \xe2\x82 z",
	            "big " FFFD " stray " FFFD " x " FFFD "y " FFFD " z");
}

static void test_cut_at_the_end_dropped(void **state)
{
	char msg[] = "by \xf0\x9f\x93\x9f\xf0\x9f\x93\x9f\xf0\x9f\x93\x9f";

	(void)state;
	assert_said("cut \xc3", "cut ");
	assert_said("cut \xf0\x9f\x93", "cut ");
	/* what snprintf into a 12-byte buffer does to a name of 4-byte characters */
	msg[11] = '\0';
	assert_said(msg, "by \xf0\x9f\x93\x9f\xf0\x9f\x93\x9f");
	/* a complete character then a lone lead byte is no cut: only the end counts */
	assert_said("\xc3 x", FFFD " x");
}

static void test_attributes_and_every_verb_replaced(void **state)
{
	const struct twiml_dial d = {.caller_id = "+55\x01", .action = "/a\xef\xbf\xbf"};
	struct twiml *t = twiml_new();

	(void)state;
	twiml_say(t, "ok", "voice\x01", "pt\xff");
	twiml_message(t, "Ana\xef\xbf\xbf Souza");
	twiml_dial_begin(t, &d);
	twiml_number(t,
	             "+55\x0b"
	             "11",
	             "/u\xc3", NULL);
	twiml_dial_end(t);
	twiml_play(t, "https://x/\x1b", 0);
	twiml_redirect(t, "/r\xef\xbf\xbe", "PO\x02ST");
	assert_doc(t, DOC("<Say voice=\"voice \" language=\"pt" FFFD "\">ok</Say>"
	                  "<Message>Ana" FFFD " Souza</Message>"
	                  "<Dial callerId=\"+55 \" action=\"/a" FFFD "\"><Number url=\"/u\">+55 11</Number></Dial>"
	                  "<Play>https://x/ </Play>"
	                  "<Redirect method=\"PO ST\">/r" FFFD "</Redirect>"));
}

static void test_misuse(void **state)
{
	struct twiml *t;

	(void)state;
	t = twiml_new();
	twiml_number(t, "+5511900000001", NULL, NULL); /* outside <Dial> */
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	twiml_gather_begin(t, NULL);
	twiml_hangup(t); /* not allowed inside <Gather> */
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	twiml_dial_begin(t, NULL);
	twiml_say(t, "x", NULL, NULL); /* not allowed inside <Dial> */
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	twiml_dial_end(t);
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	twiml_say(t, NULL, NULL, NULL);
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	twiml_pause(t, -1);
	assert_fails(t, RC_INTERNAL);

	t = twiml_new();
	{
		const struct twiml_record r = {.play_beep = 2};
		twiml_record(t, &r);
	}
	assert_fails(t, RC_INTERNAL);
}

static void test_error_is_sticky(void **state)
{
	struct twiml *t = twiml_new();

	(void)state;
	twiml_say(t, NULL, NULL, NULL);
	twiml_hangup(t);
	twiml_pause(t, 1); /* fine on its own: after an error, nothing is written */
	assert_fails(t, RC_INTERNAL);
}

static void test_finish_twice_and_null(void **state)
{
	struct twiml *t = twiml_new();
	char *out;
	size_t len;

	(void)state;
	twiml_hangup(t);
	assert_int_equal(twiml_finish(t, &out, &len), RC_OK);
	free(out);
	twiml_hangup(t);
	assert_int_equal(twiml_finish(t, &out, &len), RC_INTERNAL);
	assert_null(out);
	twiml_free(t);

	/* what a failed twiml_new gives: everything is a safe no-op */
	twiml_say(NULL, "x", NULL, NULL);
	twiml_dial_begin(NULL, NULL);
	twiml_record(NULL, NULL);
	twiml_free(NULL);
	assert_int_equal(twiml_finish(NULL, &out, &len), RC_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty_response),
	        cmocka_unit_test(test_say),
	        cmocka_unit_test(test_play_pause),
	        cmocka_unit_test(test_dial),
	        cmocka_unit_test(test_dial_defaults_omitted),
	        cmocka_unit_test(test_gather_nesting),
	        cmocka_unit_test(test_open_elements_closed_by_finish),
	        cmocka_unit_test(test_record),
	        cmocka_unit_test(test_message_redirect_hangup_reject),
	        cmocka_unit_test(test_escaping),
	        cmocka_unit_test(test_utf8_portuguese),
	        cmocka_unit_test(test_deterministic),
	        cmocka_unit_test(test_forbidden_characters_replaced),
	        cmocka_unit_test(test_invalid_utf8_replaced),
	        cmocka_unit_test(test_cut_at_the_end_dropped),
	        cmocka_unit_test(test_attributes_and_every_verb_replaced),
	        cmocka_unit_test(test_misuse),
	        cmocka_unit_test(test_error_is_sticky),
	        cmocka_unit_test(test_finish_twice_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
