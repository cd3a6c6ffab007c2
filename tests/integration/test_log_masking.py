"""
tests/integration/test_log_masking.py — what reaches the log of a person's contact details is
masked (issue 14, item 6; LGPD), also inside the texts plantao does not write itself: Twilio's
error messages name the number they refused ("The 'To' number +55… is not a valid phone
number."), and the e-mail lines name the address. The log shows "+55 11 9****-0001" and
"a***@example.com", never the whole number or address.

Defaults everywhere: a real SMTP server (tests/smtp/server.py, STARTTLS and AUTH) and the Twilio
simulator refusing the page's first text the way Twilio does.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_email import ANA, ANA_MAIL, EmailTest  # noqa: E402
from harness import wait_until  # noqa: E402


class TestContactsMaskedInLog(EmailTest):
    def test_twilio_error_and_email_lines_mask_the_number_and_the_address(self):
        # Twilio refuses the page's text with 21211, naming the number in its message; the
        # e-mail goes
        self.sim.fail_next("messages", 400, code=21211)
        self.trigger("Banco de dados fora do ar")
        self.wait_mails(1)
        row = self.wait_row("sent")
        log = wait_until(lambda: (lambda t: t if "accepted by the SMTP server" in t and "21211" in t else None)(
            self.plantao.log_text()), timeout=30, what="the e-mail's and the refused text's log lines")
        self.assertNotIn(ANA, log, "the phone number written whole in the log")
        self.assertNotIn(ANA[1:], log, "the phone number written whole in the log")
        self.assertNotIn(ANA_MAIL, log, "the e-mail address written whole in the log")
        # the Twilio error is still there in words, with the number masked inside it
        self.assertIn("The 'To' number +55 11 9****-0001 is not a valid phone number", log)
        # the e-mail lines say to whom, masked
        self.assertIn("a***@example.com", log)
        # …and the e-mail's Message-ID, plantao's own, is left whole to trace it at the SMTP server
        self.assertIn(row["sid"], log)

    def test_numbers_url_encoded_or_without_plus_are_masked_too(self):
        # a monitoring tool's alert names the customer's number as its URL or a person typed
        # it: URL-encoded, with the country code but no "+", or with the area code only; Twilio
        # refuses the page's text echoing the number as it came in the form (%2B...) and without
        # "+". The harness logs at debug: no level shows the number whole.
        digits = ANA[1:]  # 5511990000001
        self.sim.fail_next("messages", 400, code=21211,
                           message="Invalid 'To' Phone Number: %s (To=%%2B%s)" % (digits, digits))
        aid = self.trigger("Cliente %s sem retorno; callback=%%2B%s&alt=%s" % (digits, digits, digits[2:]))
        self.wait_mails(1)
        log = wait_until(lambda: (lambda t: t if "accepted by the SMTP server" in t and "21211" in t else None)(
            self.plantao.log_text()), timeout=30, what="the e-mail's and the refused text's log lines")
        self.assertNotIn(digits[2:], log, "the phone number written whole in the log")
        self.assertNotIn(digits[4:], log, "the phone number written whole in the log")
        self.assertIn("alert %d triggered: Cliente +55 11 9****-0001 sem retorno; callback=+55 11 9****-0001"
                      "&alt=+55 11 9****-0001" % aid, log)
        self.assertIn("Invalid 'To' Phone Number: +55 11 9****-0001 (To=+55 11 9****-0001)", log)
