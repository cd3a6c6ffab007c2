"""
tests/integration/test_log_levels.py — a log an operator can read (issue 14, item 6): at the
default level (PLANTAO_LOG_LEVEL unset, INFO) requests leave no access lines, which were 93% of a
day's log, while warnings still do; PLANTAO_LOG_LEVEL=debug brings the access lines back.
"""

from harness import IntegrationTest
from twilio_sim import signature


class TestAccessLinesAtDebug(IntegrationTest):
    start_plantao = False

    def traffic(self):
        for _ in range(20):
            self.api("GET", "/healthz", token=None)
            self.plantao.webhook("/twilio/sms", {"From": "+5521988887777", "To": "+15005550006", "Body": "oi",
                                                 "MessageSid": "SM" + "0" * 32})
        self.api("GET", "/api/people", token="not-a-token")  # refused: a WARN record

    def test_default_level_keeps_warnings_and_drops_access_lines(self):
        self.start_plantao_now(env={"PLANTAO_LOG_LEVEL": None})
        self.traffic()
        self.assertEqual(self.plantao.stop(), 0)
        log = self.plantao.log_text()
        self.assertIn(" serving on ", log)
        self.assertIn(" WARN ", log)
        self.assertNotIn("GET /healthz ", log)
        self.assertNotIn("POST /twilio/sms 200", log)

    def test_debug_level_shows_access_lines(self):
        self.start_plantao_now(env={"PLANTAO_LOG_LEVEL": "debug"})
        self.traffic()
        self.assertEqual(self.plantao.stop(), 0)
        log = self.plantao.log_text()
        self.assertGreaterEqual(log.count(" DEBUG GET /healthz "), 20, log[-2000:])
        self.assertEqual(log.count(" DEBUG POST /twilio/sms 200 "), 20)


class TestSignatureFailureSaysWhy(IntegrationTest):
    def test_refused_webhook_names_the_url_it_checked(self):
        # Twilio signed the https address a proxy forwards, plantao is set up with another one
        params = {"From": "+5521988887777", "To": "+15005550006", "Body": "oi", "MessageSid": "SM" + "2" * 32}
        forged = signature(self.sim.auth_token, "https://plantao.example.com/twilio/sms", params)
        wh = self.plantao.webhook("/twilio/sms", params, signature=forged)
        self.assertEqual(wh.status, 403)
        line = [ln for ln in self.plantao.log_text().splitlines() if "X-Twilio-Signature" in ln][-1]
        self.assertIn(" WARN ", line)
        self.assertIn("for %s/twilio/sms" % self.plantao.url, line)
        self.assertIn("PLANTAO_PUBLIC_URL", line)
