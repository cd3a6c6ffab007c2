"""
tests/integration/test_log_phones.py — phone numbers are masked in the server's log (issue 14,
item 6; LGPD): a customer's call that rings the team and ends in voicemail, the texts it causes and
the status callbacks all leave "+55 11 9****-0001" in the log, never the whole number.
Defaults everywhere (the harness logs at debug, so the most talkative lines are read too).
"""

import time

from harness import IntegrationTest

ANA, BRUNO = "+5511990000001", "+5511990000002"
CUSTOMER = "+5521988887777"


class TestPhonesMasked(IntegrationTest):
    def test_call_voicemail_and_texts_log_masked_numbers_only(self):
        ana, bruno = [self.api_ok("POST", "/api/people", json={"name": n, "phone": p}, expect=201)["id"]
                      for n, p in (("Ana", ANA), ("Bruno", BRUNO))]
        t = self.plantao.now() - 3600 - 3 * 3600
        handoff = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bruno], "shift_hours": 168, "handoff": handoff})
        self.advance(60)
        self.sim.phone(ANA).does_not_answer()
        self.sim.phone(BRUNO).does_not_answer()
        call = self.sim.incoming_call(CUSTOMER, record_seconds=8)
        self.assertEqual(len(call.recordings), 1)
        self.sim.expect_call(ANA)
        self.sim.expect_call(BRUNO)
        self.sim.expect_sms(ANA, timeout=30)
        self.sim.wait_idle()
        log = self.plantao.log_text()
        for number in (ANA, BRUNO, CUSTOMER):
            self.assertNotIn(number, log, "%s written whole in the log" % number)
            self.assertNotIn(number[1:], log, "%s written whole in the log" % number)
        self.assertIn("+55 21 9****-7777", log)  # the customer, as the support line logs the call
        self.assertIn("+55 11 9****-0002", log)  # Bruno, dialled after Ana
        self.assertIn("+55 11 9****-0001", log)  # Ana, texted the voicemail
