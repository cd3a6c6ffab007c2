"""
tests/integration/test_api_consistency_escalation.py — the API's consistency rules (issue 13,
item 7) on the escalation policy: its time is ISO 8601 with the team's offset (the epoch in
updated_at_unix); GET and PUT refuse an unknown query parameter (400 naming it); a PUT refuses an
unknown field of the policy or of a step (422 unknown_field naming it) and changes nothing; the
policy a GET answered can be sent back as it is.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-03:00$")  # America/Sao_Paulo, the default zone


class EscalationApiTest(IntegrationTest):
    def error(self, method, path, status, **kw):
        got, body, _ = self.api(method, path, **kw)
        self.assertEqual(got, status, "%s %s -> %s %r" % (method, path, got, body))
        return body["error"]

    def test_policy_time_is_iso_and_unknown_names_are_refused(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "+5511987650001"}, expect=201)
        put = self.api_ok("PUT", "/api/escalation",
                          json={"steps": [{"target": "oncall", "timeout_s": 30}, {"target": ana["id"]}], "rounds": 2})
        got = self.api_ok("GET", "/api/escalation")
        for policy in (put, got):
            self.assertRegex(policy["updated_at"], ISO, policy)
            self.assertAlmostEqual(policy["updated_at_unix"], self.plantao.now(), delta=120)
        self.assertEqual(got["steps"][1], {"target": ana["id"], "timeout_s": 30, "name": "Ana"})

        err = self.error("GET", "/api/escalation?rodadas=2", 400)
        self.assertEqual((err["code"], err["field"]), ("unknown_parameter", "rodadas"))
        err = self.error("PUT", "/api/escalation?force=1", 400, json=got)
        self.assertEqual((err["code"], err["field"]), ("unknown_parameter", "force"))
        err = self.error("PUT", "/api/escalation", 422, json={"steps": [{"target": "oncall"}], "round": 3})
        self.assertEqual((err["code"], err["field"]), ("unknown_field", "round"))
        err = self.error("PUT", "/api/escalation", 422,
                         json={"steps": [{"target": "oncall"}, {"target": "next", "timout_s": 60}]})
        self.assertEqual((err["code"], err["field"]), ("unknown_field", "steps[1].timout_s"))
        # nothing of the refused policies was kept
        self.assertEqual(self.api_ok("GET", "/api/escalation")["steps"], got["steps"])
        self.assertEqual(self.api_ok("GET", "/api/escalation")["rounds"], 2)

        # what GET answered goes back as it is, with one step changed
        got["steps"][0]["timeout_s"] = 45
        again = self.api_ok("PUT", "/api/escalation", json=got)
        self.assertEqual(again["steps"][0]["timeout_s"], 45)
