"""
tests/integration/test_messaging.py — texts as Twilio really handles them (issue 12, items 1, 4
and 8), at the DEFAULT configuration (per-phone limits and pacing on) against the simulator:

- statuses Twilio reports that plantao did not know (partially_delivered, one Twilio adds later)
  are recorded as received and shown, never dropped;
- opt-out words (Twilio's defaults) by text, and a send refused with 21610 because the person
  replied STOP where plantao never heard it: the person is marked opted out, calls still go out,
  texts are no longer attempted;
- WhatsApp's 24-hour window: free-form messages only to people who wrote in within 24 hours,
  approved templates (TWILIO_WHATSAPP_TEMPLATE_SID) otherwise; a failing WhatsApp never stops
  the same person's SMS and call.

The rotation puts Ana on call and Bruno next; the policy is the default one (on call, next).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
WA_FROM = "whatsapp:+15005550006"


class MessagingTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.team()

    def team(self, whatsapp=False):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA,
                                                             "whatsapp": whatsapp})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno]})

    def trigger(self, summary, severity="critical"):
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": summary, "severity": severity})
        self.assertEqual(status, 202, body)
        return body["id"]

    def outbox_row(self, to, kind="sms"):
        rows = [r for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["to"] == to and r["kind"] == kind]
        return rows[0] if rows else None

    def person(self, pid):
        return self.api_ok("GET", "/api/people/%d" % pid)

    def consume(self):
        """Texts and calls are checked by each test on its own terms; what is left is not unexpected."""
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True
            for c in self.sim.calls:
                c.consumed = True


class TestStatusesAsReceived(MessagingTest):

    def test_partially_delivered_is_recorded_and_shown(self):
        self.sim.phone(ANA).sms_reports("sent", "partially_delivered")
        aid = self.trigger("disco quase cheio no db1", severity="warning")
        self.sim.expect_sms(ANA, containing="disco quase cheio")
        row = wait_until(lambda: (lambda r: r if r and r["status"] == "partially_delivered" else None)(
            self.outbox_row(ANA)), timeout=15, what="the text's row partially_delivered")
        self.assertEqual(row["twilio_status"], "partially_delivered")
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"] if m["to"] == ANA]
        self.assertEqual(shown[0]["status"], "partially_delivered")
        self.consume()

    def test_a_status_plantao_does_not_know_is_kept_and_logged(self):
        self.sim.phone(ANA).sms_reports("sent", "delivered_to_carrier_hub")
        self.trigger("fila de e-mail parada", severity="warning")
        self.sim.expect_sms(ANA, containing="fila de e-mail parada")
        row = wait_until(lambda: (lambda r: r if r and r["twilio_status"] == "delivered_to_carrier_hub" else None)(
            self.outbox_row(ANA)), timeout=15, what="the unknown status recorded")
        self.assertEqual(row["status"], "sent")  # the order is kept: an unknown status moves nothing
        wait_until(lambda: "status 'delivered_to_carrier_hub'" in self.plantao.log_text(), what="the warning")
        line = [x for x in self.plantao.log_text().splitlines() if "delivered_to_carrier_hub" in x][0]
        self.assertIn("WARN", line)
        self.consume()

    def test_error_code_of_a_failed_text_is_explained_in_words(self):
        self.sim.phone(ANA).sms_undelivered(30003)
        aid = self.trigger("api lenta", severity="warning")
        self.sim.expect_sms(ANA, containing="api lenta")
        row = wait_until(lambda: (lambda r: r if r and r["status"] == "undelivered" else None)(
            self.outbox_row(ANA)), timeout=15, what="the text undelivered")
        self.assertEqual(row["error_code"], 30003)
        self.assertIn("unreachable", row["error_message"])
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"] if m["to"] == ANA]
        self.assertIn("unreachable", shown[0]["error_message"])
        self.consume()
