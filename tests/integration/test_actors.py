"""
tests/integration/test_actors.py — who did what (issue 13, item 4), at the default
configuration: an alert acknowledged through a console session names the signed-in person, one
acknowledged with an API token names the token (never "through the API or console"), one
acknowledged by an SMS reply names the phone's person; resolves too; every change lands in the
audit log with its actor, filterable by person, action, entity and period and paginated with
limit/before (unknown parameters are a 400 naming them).
"""

import re

from harness import IntegrationTest, wait_until

ANA, BRUNO = "+5511990000001", "+5511990000002"


def code_of(msg):
    m = re.search(r"\b(\d{6})\b", msg.body)
    assert m, "no code in %r" % msg.body
    return m.group(1)


class ActorTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana Souza", "phone": ANA}, expect=201)["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno Lima", "phone": BRUNO}, expect=201)["id"]
        self.api_ok("PUT", "/api/people/%d/role" % self.ana, json={"role": "editor"})
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": self.ana, "timeout_s": 30}], "rounds": 1})

    def page(self, summary):
        """A warning alert: Ana gets its page text (warnings text, they do not call)."""
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": summary, "severity": "warning"})
        self.assertEqual(status, 202, body)
        self.sim.expect_sms(ANA, containing="Alerta %d" % body["id"])
        return body["id"]

    def sign_in_ana(self):
        self.assertEqual(self.api("POST", "/api/auth/code", json={"phone": ANA}, token=None)[0], 202)
        code = code_of(self.sim.expect_sms(ANA, "plantao"))
        status, body, headers = self.api("POST", "/api/auth/verify", json={"phone": ANA, "code": code}, token=None)
        self.assertEqual(status, 200, body)
        return re.match(r"plantao_session=([^;]*)", headers["set-cookie"]).group(1)

    def as_ana(self, method, path, secret, **kw):
        return self.api(method, path, headers={"Cookie": "plantao_session=" + secret, "X-Plantao-CSRF": "1"},
                        token=None, **kw)

    def alert(self, aid):
        return self.api_ok("GET", "/api/alerts/%d" % aid)


class TestAckActors(ActorTest):
    def test_ack_in_the_console_names_the_signed_in_person(self):
        secret = self.sign_in_ana()
        aid = self.page("fila de e-mails parada")
        status, body, _ = self.as_ana("POST", "/api/alerts/%d/ack" % aid, secret, json={})
        self.assertEqual(status, 200, body)
        self.sim.expect_sms(ANA, containing="Alerta %d assumido por Ana Souza" % aid)
        a = self.alert(aid)
        self.assertEqual(a["acked_actor"], {"kind": "person", "person_id": self.ana, "name": "Ana Souza"})
        row = self.api_ok("GET", "/api/audit?action=alert.ack&entity_id=%d" % aid)["audit"]
        self.assertEqual([(r["actor"], r["detail"]["before"], r["detail"]["after"]) for r in row],
                         [("person:%d Ana Souza" % self.ana, "triggered", "acknowledged")])
        # the audit page of Ana lists what she did, and the sign-in itself
        mine = [r["action"] for r in self.api_ok("GET", "/api/audit?person=%d" % self.ana)["audit"]]
        self.assertIn("alert.ack", mine)
        self.assertIn("auth.signin", mine)
        self.assertNotIn("alert.ack", [r["action"] for r in self.api_ok(
            "GET", "/api/audit?person=%d" % self.bruno)["audit"]])

    def test_ack_and_resolve_with_a_token_name_the_token(self):
        tok = self.api_ok("POST", "/api/tokens", json={"name": "grafana-ops", "role": "editor"}, expect=(200, 201))
        aid = self.page("latência alta no checkout")
        status, body, _ = self.api("POST", "/api/alerts/%d/ack" % aid, token=tok["token"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["acked_actor"], {"kind": "token", "name": "grafana-ops"})
        self.sim.expect_sms(ANA, containing="Alerta %d assumido" % aid)
        status, body, _ = self.api("POST", "/api/alerts/%d/resolve" % aid, token=tok["token"])
        self.assertEqual(status, 200, body)
        self.sim.expect_sms(ANA, containing="Alerta %d resolvido" % aid)
        a = self.alert(aid)
        self.assertEqual(a["acked_actor"], {"kind": "token", "name": "grafana-ops"})
        self.assertEqual(a["resolved_actor"], {"kind": "token", "name": "grafana-ops"})
        # in the list too, and the audit log filters by the token
        listed = [x for x in self.api_ok("GET", "/api/alerts")["alerts"] if x["id"] == aid][0]
        self.assertEqual(listed["resolved_actor"]["name"], "grafana-ops")
        rows = self.api_ok("GET", "/api/audit?actor=token:grafana-ops")["audit"]
        self.assertEqual([r["action"] for r in rows], ["alert.resolve", "alert.ack"])
        self.assertEqual(rows[0]["actor_info"], {"kind": "token", "name": "grafana-ops"})

    def test_ack_by_sms_names_the_person_of_the_phone(self):
        aid = self.page("backup não rodou")
        replies = self.sim.incoming_sms(ANA, "ack %d" % aid)
        self.assertEqual(len(replies), 1, replies)
        wait_until(lambda: self.alert(aid)["status"] == "acknowledged", what="acknowledged")
        a = self.alert(aid)
        self.assertEqual(a["acked_actor"]["kind"], "phone")
        self.assertEqual((a["acked_actor"]["phone"], a["acked_actor"]["name"], a["acked_actor"]["person_id"]),
                         (ANA, "Ana Souza", self.ana))


class TestAuditList(ActorTest):
    def test_filters_period_pagination_and_unknown_parameters(self):
        for i in range(5):
            self.api_ok("PATCH", "/api/people/%d" % self.bruno, json={"name": "Bruno %d" % i})
        self.advance(3 * 86400)
        self.api_ok("PATCH", "/api/people/%d" % self.bruno, json={"name": "Bruno Lima"})
        rows = self.api_ok("GET", "/api/audit?action=people.update&limit=2")
        self.assertEqual(len(rows["audit"]), 2)
        self.assertIsNotNone(rows["next_before"])
        seen = [r["id"] for r in rows["audit"]]
        cursor = rows["next_before"]
        while cursor:
            page = self.api_ok("GET", "/api/audit?action=people.update&limit=2&before=%d" % cursor)
            seen += [r["id"] for r in page["audit"]]
            cursor = page["next_before"]
        self.assertEqual(len(seen), 6)
        self.assertEqual(seen, sorted(seen, reverse=True))
        # times with their offset, epoch only as at_unix; a period in the team's zone
        first = rows["audit"][0]
        self.assertRegex(first["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-03:00$")
        self.assertIsInstance(first["at_unix"], int)
        import time as _t
        today = _t.strftime("%Y-%m-%d", _t.gmtime(self.plantao.now() - 3 * 3600))
        recent = self.api_ok("GET", "/api/audit?action=people.&from=%s" % today)["audit"]
        self.assertEqual([r["detail"].get("name") for r in recent if r["action"] == "people.update"], ["Bruno Lima"])
        # the group filter "people." takes every people.* action
        self.assertTrue({"people.create", "people.update", "people.role"} <= {
            r["action"] for r in self.api_ok("GET", "/api/audit?action=people.&limit=100")["audit"]})
        status, err, _ = self.api("GET", "/api/audit?acton=people.update")
        self.assertEqual(status, 400)
        self.assertIn("acton", err["error"]["message"])
        self.assertEqual(self.api("GET", "/api/audit?from=ontem")[0], 400)
        self.assertEqual(self.api("GET", "/api/audit?limit=0")[0], 400)
