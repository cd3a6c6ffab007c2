"""
tests/integration/test_optout_visible.py — a person who opted out of texts (replied STOP) is
visible wherever a missing page would be looked for (issue 12, item 4), at the DEFAULT
configuration against the simulator:

- /healthz?verbose counts, in the oncall component, the people whose texts are off and says
  whether the person on call is one of them — counts only, never names or phones (it is public);
- an alert's page text skipped because its person opted out is a WARNING in the log and an
  audit row (alert.text_skipped, GET /api/audit), once per alert and person however many times
  the engine ticks; the call still goes out.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import wait_until  # noqa: E402
from test_messaging import ANA, BRUNO, MessagingTest  # noqa: E402


class TestOptedOutVisible(MessagingTest):

    def oncall_detail(self):
        status, body, _ = self.api("GET", "/healthz?verbose", token=None)
        self.assertEqual(status, 200, body)
        return body, body["components"]["oncall"]

    def skipped(self, aid):
        rows = [r for r in self.api_ok("GET", "/api/audit?limit=200")["audit"]
                if r["action"] == "alert.text_skipped" and r["entity_id"] == aid]
        for r in rows:
            if isinstance(r["detail"], str):
                r["detail"] = json.loads(r["detail"])
        return rows

    def test_healthz_counts_people_whose_texts_are_off(self):
        body, oncall = self.oncall_detail()
        self.assertEqual((oncall["texts_opted_out"], oncall["oncall_texts_opted_out"]), (0, False))
        self.assertEqual(self.sim.incoming_sms(BRUNO, "STOP"), [])  # Bruno is next, not on call
        body, oncall = self.oncall_detail()
        self.assertEqual((oncall["texts_opted_out"], oncall["oncall_texts_opted_out"]), (1, False))
        self.assertEqual(self.sim.incoming_sms(ANA, "Unsubscribe"), [])  # Ana is on call
        body, oncall = self.oncall_detail()
        self.assertEqual((oncall["texts_opted_out"], oncall["oncall_texts_opted_out"]), (2, True))
        text = str(body)
        for private in ("Ana", "Bruno", ANA, BRUNO, ANA[3:]):
            self.assertNotIn(private, text)
        self.assertEqual(self.sim.incoming_sms(ANA, "START"), [])
        body, oncall = self.oncall_detail()
        self.assertEqual((oncall["texts_opted_out"], oncall["oncall_texts_opted_out"]), (1, False))

    def test_a_page_text_skipped_for_an_opted_out_person_is_a_warning_and_audited(self):
        self.sim.phone(ANA).answers(digits="1", delay=6.0)
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        aid = self.trigger("replicação parada no db2")
        call = self.sim.expect_call(ANA, timeout=20)  # the call still goes out
        self.assertTrue(call.heard("replicação parada no db2"))
        self.sim.expect_sms(BRUNO, containing="replicação parada no db2")  # Bruno's text goes
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % aid)["status"] == "acknowledged",
                   timeout=20, what="acknowledged on the call")
        for _ in range(3):  # the engine ticks on: said once, not per tick
            self.advance(30)
        self.sim.wait_idle()
        self.assertEqual([r for r in self.sim.requests_of("messages", "POST") if r.form.get("To") == ANA], [])
        log = self.plantao.log_text()
        said = [x for x in log.splitlines() if "no text to person %d (Ana): opted out" % self.ana in x]
        self.assertEqual(len(said), 1, log[-3000:])
        self.assertIn("WARN", said[0])
        self.assertIn("calls still go out", said[0])
        skipped = self.skipped(aid)
        self.assertEqual(len(skipped), 1, skipped)
        self.assertEqual(skipped[0]["detail"], {"person_id": self.ana, "kind": "sms", "reason": "opted_out",
                                                "called": True})
        self.assertEqual(skipped[0]["actor"], "pager")
        self.consume()

    def test_a_texted_only_alert_says_the_opted_out_person_is_not_paged(self):
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        aid = self.trigger("certificado vence em 10 dias", severity="warning")
        self.sim.expect_sms(BRUNO, containing="certificado vence")
        said = wait_until(lambda: [x for x in self.plantao.log_text().splitlines()
                                   if "no text to person %d (Ana): opted out" % self.ana in x],
                          timeout=15, what="the warning about Ana")
        self.assertIn("WARN", said[0])
        self.assertIn("not paged", said[0])
        skipped = self.skipped(aid)
        self.assertEqual([(x["detail"]["person_id"], x["detail"]["called"]) for x in skipped], [(self.ana, False)])
        self.consume()
