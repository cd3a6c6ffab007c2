/*
 * tests/unit/core/test_log_mask.c — log_mask() (server/core/log.c): phone numbers and e-mail
 * addresses inside any text are masked, other text is left alone, and the result always fits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"

static const char *mask(const char *in)
{
	static char out[512];

	return log_mask(in, out, sizeof out);
}

static void test_twilio_messages(void **state)
{
	(void)state;
	assert_string_equal(mask("The 'To' number +5511987654321 is not a valid phone number."),
	                    "The 'To' number +55 11 9****-4321 is not a valid phone number.");
	assert_string_equal(mask("Attempt to send to unsubscribed recipient whatsapp:+14158675309"),
	                    "Attempt to send to unsubscribed recipient whatsapp:+14 *****5309");
	assert_string_equal(mask("(+551133334444)"), "(+55 11 ****-4444)");
	assert_string_equal(mask("to=+5511987654321&x=1 from:+5511987654321"),
	                    "to=+55 11 9****-4321&x=1 from:+55 11 9****-4321");
}

static void test_url_encoded_and_without_plus(void **state)
{
	(void)state;
	/* a form body or a query string: "+" written %2B */
	assert_string_equal(mask("From=%2B5511987654321&To=whatsapp%3A%2B14158675309&Body=ack"),
	                    "From=+55 11 9****-4321&To=whatsapp%3A+14 *****5309&Body=ack");
	assert_string_equal(mask("to=%2b551133334444"), "to=+55 11 ****-4444");
	/* typed without "+": with the country code, or a mobile with its area code */
	assert_string_equal(mask("phone=5511987654321&x=1"), "phone=+55 11 9****-4321&x=1");
	assert_string_equal(mask("ligar para 551133334444."), "ligar para +55 11 ****-4444.");
	assert_string_equal(mask("cliente 11987654321 sem retorno"), "cliente +55 11 9****-4321 sem retorno");
	assert_string_equal(mask("whatsapp:5511987654321"), "whatsapp:+55 11 9****-4321");
}

static void test_emails(void **state)
{
	(void)state;
	assert_string_equal(
	        mask("e-mail to ana.souza@example.com refused: 550 <bob@mail.example.com.br>: no such user."),
	        "e-mail to a***@example.com refused: 550 <b***@mail.example.com.br>: no such user.");
	assert_string_equal(mask("write to b@x.io."), "write to b***@x.io.");
	/* plantao's own Message-IDs name nobody */
	assert_string_equal(mask("e-mail <83105286de8ed1e83f047f34f280bff9.1796200917@example.com> queued"),
	                    "e-mail <83105286de8ed1e83f047f34f280bff9.1796200917@example.com> queued");
}

static void test_left_alone(void **state)
{
	(void)state;
	/* ids, short numbers, offsets, already masked numbers, URLs without a mailbox, user@host */
	assert_string_equal(mask("outbox 12345678901: retry at +0300, +1234567, alert +42"),
	                    "outbox 12345678901: retry at +0300, +1234567, alert +42");
	assert_string_equal(mask("page to +55 11 9****-4321"), "page to +55 11 9****-4321");
	assert_string_equal(mask("imaps://imap.example.com/INBOX plantao@localhost"),
	                    "imaps://imap.example.com/INBOX plantao@localhost");
	assert_string_equal(mask("1+5511987654321"), "1+5511987654321");
	/* bare runs that are no phone: times in seconds and milliseconds, long ids, hex, SIDs */
	assert_string_equal(mask("lease until 1796200917123 (1796200917) host:123:1764700000"),
	                    "lease until 1796200917123 (1796200917) host:123:1764700000");
	assert_string_equal(mask("SM5511987654321aa x5511987654321 5511987654321x 55119876543210"),
	                    "SM5511987654321aa x5511987654321 5511987654321x 55119876543210");
	assert_string_equal(mask("%2B1234567 +5511"), "%2B1234567 +5511");
	assert_string_equal(mask(""), "");
}

static void test_always_fits(void **state)
{
	char small[12];

	(void)state;
	assert_string_equal(log_mask("ring +5511987654321 now", small, sizeof small), "ring +55 11");
	assert_int_equal(strlen(log_mask("ana@example.com", small, sizeof small)), sizeof small - 1);
	assert_string_equal(log_mask("x", small, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_twilio_messages), cmocka_unit_test(test_url_encoded_and_without_plus),
	        cmocka_unit_test(test_emails),          cmocka_unit_test(test_left_alone),
	        cmocka_unit_test(test_always_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
