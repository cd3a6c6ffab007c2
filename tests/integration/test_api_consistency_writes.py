"""
tests/integration/test_api_consistency_writes.py — the API's rules (issue 13, item 7) on the
writes of monitors and swaps: a query parameter the route does not know is a 400 naming it and
nothing is written (`?force=1` is not silently ignored); a body field it does not know is a 422
"unknown_field" naming it (a swap answer with `{"person": 3}`, a typo of person_id, is not taken
as the signed-in person's answer); a missing or wrong value is a 422 with its code and field.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402


class WritesTest(IntegrationTest):
    def error(self, method, path, status, **kw):
        got, body, _ = self.api(method, path, **kw)
        self.assertEqual(got, status, "%s %s -> %s %r" % (method, path, got, body))
        return body["error"]["code"], body["error"].get("field")

    def test_monitor_writes_refuse_unknown_parameters_and_write_nothing(self):
        hb = {"kind": "heartbeat", "name": "backup noturno", "period_s": 3600, "grace_s": 600}
        self.assertEqual(self.error("POST", "/api/monitors?force=1", 400, json=hb), ("unknown_parameter", "force"))
        self.assertEqual(self.api_ok("GET", "/api/monitors")["monitors"], [])
        m = self.api_ok("POST", "/api/monitors", json=hb, expect=201)
        self.assertEqual(self.error("PATCH", "/api/monitors/%d?dry_run=1" % m["id"], 400, json={"period_s": 60}),
                         ("unknown_parameter", "dry_run"))
        self.assertEqual(self.error("DELETE", "/api/monitors/%d?force=1" % m["id"], 400),
                         ("unknown_parameter", "force"))
        kept = self.api_ok("GET", "/api/monitors/%d" % m["id"])
        self.assertEqual(kept["period_s"], 3600)

    def test_an_ack_with_a_parameter_it_does_not_know_acknowledges_nothing(self):
        status, alert, _ = self.api("POST", "/api/alerts", json={"summary": "disco cheio", "severity": "warning"})
        self.assertEqual(status, 202, alert)
        self.assertEqual(self.error("POST", "/api/alerts/%d/ack?quiet=1" % alert["id"], 400),
                         ("unknown_parameter", "quiet"))
        self.assertEqual(self.error("POST", "/api/alerts/%d/resolve?force=1" % alert["id"], 400),
                         ("unknown_parameter", "force"))
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % alert["id"])["status"], "triggered")
        self.sim.wait_idle()
        with self.sim._lock:  # the page itself is not this test's concern
            for m in self.sim.messages:
                m.consumed = True
            for c in self.sim.calls:
                c.consumed = True

    def test_swap_writes_name_what_they_do_not_know(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "+5511987650001"}, expect=201)
        bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": "+5511987650002"}, expect=201)
        ask = {"from_person_id": ana["id"], "to_person_id": bruno["id"], "start": "2030-01-01T09:00",
               "end": "2030-01-01T18:00"}
        self.assertEqual(self.error("POST", "/api/swaps?notify=0", 400, json=ask), ("unknown_parameter", "notify"))
        self.assertEqual(self.error("POST", "/api/swaps", 422, json=dict(ask, motivo="médico")),
                         ("unknown_field", "motivo"))
        self.assertEqual(self.error("POST", "/api/swaps", 422, json=dict(ask, start="amanhã")),
                         ("invalid_value", "start"))
        no_end = dict(ask)
        del no_end["end"]
        self.assertEqual(self.error("POST", "/api/swaps", 422, json=no_end), ("required", "end"))
        self.assertEqual(self.error("POST", "/api/swaps", 422, json=dict(ask, to_person_id="Bruno")),
                         ("invalid_value", "to_person_id"))
        self.assertEqual(self.error("POST", "/api/swaps/1/confirm", 422, json={"person": bruno["id"]}),
                         ("unknown_field", "person"))
        self.assertEqual(self.error("POST", "/api/swaps/1/decline?as=2", 400), ("unknown_parameter", "as"))
        self.assertEqual(self.api_ok("GET", "/api/swaps")["swaps"], [])
