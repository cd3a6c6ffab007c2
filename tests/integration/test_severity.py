"""
tests/integration/test_severity.py — what an alert's severity and the on-call situation do to
paging, end to end against the Twilio simulator, at the default configuration (per-phone limits
and pacing on):

- `critical` texts and calls, `warning` only texts, `info` is recorded and pages nobody; the
  escalation policy's `call_min_severity` (GET/PUT /api/escalation) moves the line;
- an alert nobody can be paged for (nobody on call) is not `exhausted`: it stays triggered,
  says why (`unpaged_reason`), is counted in plantao_pages_unpaged_total, and is paged as soon
  as somebody is on call.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"


class SeverityTest(IntegrationTest):

    def add_person(self, name, phone):
        return self.api_ok("POST", "/api/people", json={"name": name, "phone": phone})["id"]

    def team(self, **policy):
        self.ana = self.add_person("Ana", ANA)
        self.bruno = self.add_person("Bruno", BRUNO)
        body = {"steps": [{"target": self.ana, "timeout_s": 30}, {"target": self.bruno, "timeout_s": 30}],
                "rounds": 1}
        body.update(policy)
        return self.api_ok("PUT", "/api/escalation", json=body)

    def trigger(self, summary, **kw):
        payload = {"summary": summary}
        payload.update(kw)
        status, body, _ = self.api("POST", "/api/alerts", json=payload)
        self.assertEqual(status, 202, body)
        return body["id"]

    def alert(self, aid):
        return self.api_ok("GET", "/api/alerts/%d" % aid)

    def settled(self, aid):
        """Waits until the engine has looked at the alert (it left step -1 or says why not)."""
        return wait_until(lambda: (lambda a: a if a["step"] >= 0 or a.get("unpaged_reason") else None)(
            self.alert(aid)), what="alert %d handled by the engine" % aid)

    def unpaged_count(self):
        for line in self.metrics().splitlines():
            if line.startswith("plantao_pages_unpaged_total "):
                return int(float(line.split()[-1]))
        return 0

    def metrics(self):
        status, body, _ = self.api("GET", "/metrics")
        self.assertEqual(status, 200)
        return body


class TestSeverity(SeverityTest):

    def test_warning_texts_only_info_pages_nobody_critical_calls(self):
        self.team()
        self.assertEqual(self.api_ok("GET", "/api/escalation")["call_min_severity"], "critical")
        # Ana takes a moment to answer: the texts (paced at one a second) reach both phones first
        self.sim.phone(ANA).answers(digits="1", delay=3.0)
        warn = self.trigger("disco em 85%", severity="warning")
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d: disco em 85%%" % warn)
        info = self.trigger("backup terminou", severity="info")
        a = self.settled(info)
        self.assertEqual(a["status"], "triggered")
        self.assertIn("info", a["unpaged_reason"])
        # nobody is called for the warning, nor paged at all for the info, however long we wait
        self.advance(600)
        self.sim.assert_quiet(1.0)
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 0)
        self.assertEqual(self.alert(warn)["attempts"], [])
        self.assertEqual(self.alert(info)["timeline"], [])
        # a critical one still calls (and texts)
        crit = self.trigger("db1 fora do ar", severity="critical")
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d: db1 fora do ar" % crit)
        call = self.sim.expect_call(ANA, timeout=15)
        self.assertTrue(call.heard("Alerta %d: db1 fora do ar" % crit), call.says)
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Ana" % crit)

    def test_policy_moves_the_line(self):
        body = self.team(call_min_severity="warning")
        self.assertEqual(body["call_min_severity"], "warning")
        # a PUT without the field keeps it
        again = self.api_ok("PUT", "/api/escalation", json={"steps": body["steps"], "rounds": 1})
        self.assertEqual(again["call_min_severity"], "warning")
        for bad in ("urgent", 3, ""):
            status, err, _ = self.api("PUT", "/api/escalation",
                                      json={"steps": body["steps"], "call_min_severity": bad})
            self.assertEqual(status, 422, err)
            self.assertIn("call_min_severity", err["error"]["message"])
        self.sim.phone(ANA).answers(digits="1", delay=3.0)
        warn = self.trigger("fila crescendo", severity="warning")
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d: fila crescendo" % warn)
        call = self.sim.expect_call(ANA, timeout=15)
        self.assertTrue(call.heard("fila crescendo"), call.says)
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Ana" % warn)
        # info still pages nobody
        info = self.trigger("deploy feito", severity="info")
        self.assertIn("info", self.settled(info)["unpaged_reason"])
        self.advance(120)
        self.sim.assert_quiet(0.5)


class TestNobodyOnCall(SeverityTest):

    def test_unpaged_alert_waits_for_somebody_instead_of_exhausting(self):
        # the default policy pages "oncall" then "next": with no rotation nobody is on call
        ana = self.add_person("Ana", ANA)
        aid = self.trigger("db1 fora do ar", severity="critical")
        a = self.settled(aid)
        self.assertEqual(a["status"], "triggered")  # not exhausted: nobody was ever tried
        self.assertEqual(a["unpaged_reason"], "nobody is on call")
        counted = self.unpaged_count()
        self.assertGreaterEqual(counted, 1)
        self.assertIn("NOBODY PAGED", self.plantao.log_text())
        self.advance(300)  # five more looks for somebody
        a = self.alert(aid)
        self.assertEqual(a["status"], "triggered")
        self.assertEqual(self.unpaged_count(), counted)  # counted once per alert, not per look
        self.sim.assert_quiet(0.5)
        # somebody goes on call: the alert is paged at the next look
        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        self.sim.phone(ANA).answers(digits="1")
        self.advance(61)
        self.sim.expect_sms(ANA, containing="Alerta %d: db1 fora do ar" % aid)
        self.sim.expect_call(ANA, timeout=15)
        self.sim.expect_sms(ANA, containing="Alerta %d assumido por Ana" % aid)
        a = self.alert(aid)
        self.assertEqual(a["status"], "acknowledged")
        self.assertIsNone(a["unpaged_reason"])


class TestPageText(SeverityTest):

    def test_runbook_link_reaches_the_phone(self):
        self.team()
        self.sim.phone(ANA).answers(digits="1", delay=3.0)
        aid = self.trigger("db1 lento", severity="critical", runbook_url="https://wiki.example.com/runbooks/db1")
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d: db1 lento. Runbook: https://wiki.example.com/runbooks/db1 "
                                % aid)
        self.sim.expect_call(ANA, timeout=15)
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Ana" % aid)
