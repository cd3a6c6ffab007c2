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
