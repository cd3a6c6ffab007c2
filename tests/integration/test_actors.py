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
        # the phone as the logs show it (LGPD), the person by id and name
        self.assertEqual((a["acked_actor"]["phone"], a["acked_actor"]["name"], a["acked_actor"]["person_id"]),
                         ("+55 11 9****-0001", "Ana Souza", self.ana))


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


CARLA = "+5511990000003"
BRUNO_MASKED, CARLA_MASKED = "+55 11 9****-0002", "+55 11 9****-0003"


class TestPhoneAndKeypadActors(ActorTest):
    """Bruno acknowledges a page by replying the word it suggests, Carla by pressing 1 on the
    call: the audit log lists both with who (person, name, the phone masked as in the logs) and
    how (sms, keypad), and each alert's timeline names them."""

    def test_acks_by_sms_and_keypad_are_audited_with_who_and_how(self):
        carla = self.api_ok("POST", "/api/people", json={"name": "Carla Dias", "phone": CARLA}, expect=201)["id"]
        # a warning texts Bruno; he replies "assumir" (the word the page suggests)
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": self.bruno, "timeout_s": 60}],
                                                    "rounds": 1})
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": "fila parada", "severity": "warning"})
        self.assertEqual(status, 202, body)
        by_sms = body["id"]
        page = self.sim.expect_sms(BRUNO, containing="Alerta %d" % by_sms)
        self.assertIn("assumir", page.body)
        [r] = self.sim.incoming_sms(BRUNO, "assumir")
        self.assertIn("Alerta %d assumido por você" % by_sms, r)
        self.sim.expect_sms(BRUNO, containing="Alerta %d assumido por Bruno Lima" % by_sms)

        # a critical alert calls Carla, who presses 1
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": carla, "timeout_s": 60}], "rounds": 1})
        self.sim.phone(CARLA).answers(digits="1")
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": "db1 fora do ar", "severity": "critical"})
        self.assertEqual(status, 202, body)
        by_keypad = body["id"]
        call = self.sim.expect_call(CARLA, timeout=30)
        self.assertEqual(call.pressed, "1")
        wait_until(lambda: self.alert(by_keypad)["status"] == "acknowledged", timeout=30, what="keypad ack")

        rows = self.api_ok("GET", "/api/audit?action=alert.ack")["audit"]
        got = {r["entity_id"]: r for r in rows}
        self.assertEqual(set(got), {by_sms, by_keypad}, rows)
        self.assertEqual(got[by_sms]["actor_info"], {"kind": "phone", "person_id": self.bruno, "name": "Bruno Lima",
                                                     "phone": BRUNO_MASKED})
        self.assertEqual((got[by_sms]["detail"]["via"], got[by_sms]["detail"]["before"],
                          got[by_sms]["detail"]["after"]), ("sms", "triggered", "acknowledged"))
        self.assertEqual(got[by_keypad]["actor_info"], {"kind": "keypad", "person_id": carla, "name": "Carla Dias",
                                                        "phone": CARLA_MASKED})
        self.assertEqual(got[by_keypad]["detail"]["via"], "keypad")
        # the whole phone is nowhere in the audit rows (as in the logs)
        for r in rows:
            self.assertNotIn(BRUNO, repr(r))
            self.assertNotIn(CARLA, repr(r))
        # each one's audit page lists what they did
        self.assertIn(by_sms, [r["entity_id"] for r in self.api_ok(
            "GET", "/api/audit?person=%d&action=alert.ack" % self.bruno)["audit"]])
        self.assertEqual([r["entity_id"] for r in self.api_ok(
            "GET", "/api/audit?person=%d&action=alert.ack" % carla)["audit"]], [by_keypad])

        # the alerts' timelines say who
        self.assertEqual(self.alert(by_sms)["acked_actor"], got[by_sms]["actor_info"])
        self.assertEqual(self.alert(by_keypad)["acked_actor"], got[by_keypad]["actor_info"])

        # Bruno resolves his by SMS: audited the same way
        [r] = self.sim.incoming_sms(BRUNO, "resolver %d" % by_sms)
        self.assertIn("resolvido", r)
        [row] = self.api_ok("GET", "/api/audit?action=alert.resolve&entity_id=%d" % by_sms)["audit"]
        self.assertEqual((row["actor_info"]["kind"], row["actor_info"]["person_id"], row["detail"]["via"]),
                         ("phone", self.bruno, "sms"))
        self.assertEqual(self.alert(by_sms)["resolved_actor"]["name"], "Bruno Lima")
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True


class TestSmsActors(ActorTest):
    """Every change a person makes by texting the team's number is audited the same way as an
    ack by SMS: who (person, name) and the phone masked as in the logs — a STOP, a START, a
    VERIFICAR code and a shift taken with "sim" included, never the whole number."""

    def test_stop_start_and_verify_by_sms_name_the_person_with_the_phone_masked(self):
        self.sim.incoming_sms(BRUNO, "STOP")
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.bruno)["sms_opt_out"], True)
        self.sim.incoming_sms(BRUNO, "START")
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.bruno)["sms_opt_out"], False)
        self.sim.incoming_sms(BRUNO, "Verificar")
        code = code_of(self.sim.expect_sms(BRUNO, "plantao"))
        self.assertTrue(any("verificado" in r for r in self.sim.incoming_sms(BRUNO, code)))

        rows = self.api_ok("GET", "/api/audit?entity_id=%d" % self.bruno)["audit"]
        by_sms = [r for r in rows if r["action"] in ("people.sms_opt_out", "people.phone_verified")]
        self.assertEqual(sorted(r["action"] for r in by_sms),
                         ["people.phone_verified", "people.sms_opt_out", "people.sms_opt_out"], rows)
        for r in by_sms:
            self.assertEqual(r["actor_info"], {"kind": "phone", "person_id": self.bruno, "name": "Bruno Lima",
                                               "phone": BRUNO_MASKED}, r)
            self.assertNotIn(BRUNO, r["actor"])  # (the verified number itself is the detail's subject)
        # Bruno's own audit page lists them
        mine = self.api_ok("GET", "/api/audit?person=%d" % self.bruno)["audit"]
        self.assertTrue({r["id"] for r in by_sms} <= {r["id"] for r in mine}, mine)
