"""
tests/integration/test_api_consistency_alerts.py — the API's consistency rules (issue 13, item 7)
on the alert pager's and the monitors' routes, at the default configuration: every time in their
JSON is ISO 8601 with the team's offset (the number kept only as <name>_unix); GET /api/alerts and
GET /api/monitors (and a monitor's pings) page with the same limit/before cursor as every list
("next_before") and take the filters they can show; an unknown query parameter is a 400 naming it
(code unknown_parameter), an unknown body field a 422 naming it (code unknown_field), and a field
with a wrong value a 422 with its code and field.
"""

import re

from harness import IntegrationTest, wait_until

ANA, BRUNO = "+5511990000001", "+5511990000002"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-03:00$")
HOUR = 3600


class ConsistencyTest(IntegrationTest):
    plantao_env = {"PLANTAO_TZ": "America/Sao_Paulo"}

    def post_alert(self, summary, **fields):
        status, body, _ = self.api("POST", "/api/alerts", json=dict(summary=summary, **fields))
        self.assertEqual(status, 202, body)
        return body

    def assert_iso(self, obj, name, where):
        """obj[name] is ISO 8601 with the team's offset and obj[name + '_unix'] the same instant."""
        self.assertRegex(obj[name], ISO, (where, name, obj))
        self.assertIsInstance(obj[name + "_unix"], int, (where, name, obj))

    def assert_no_epochs(self, obj, where):
        """No time field of obj answers a bare number: epochs live only in *_unix."""
        for k, v in obj.items():
            if k.endswith("_at") or k in ("state_since", "next_at", "at"):
                self.assertFalse(isinstance(v, (int, float)) and not isinstance(v, bool),
                                 "%s: %s is an epoch number %r" % (where, k, v))
            self.assertFalse(k.endswith("_ms") and k not in ("last_duration_ms", "last_response_ms", "response_ms"),
                             "%s: %s is an epoch in milliseconds" % (where, k))

    def assert_error(self, resp, status, code, field):
        got_status, body, _ = resp
        self.assertEqual(got_status, status, body)
        self.assertEqual((body["error"]["code"], body["error"].get("field")), (code, field), body)
        self.assertIn(field, body["error"]["message"], body)


class TestAlerts(ConsistencyTest):
    def test_every_alert_time_is_iso_with_the_team_offset(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": ana, "timeout_s": 30}], "rounds": 1})
        posted = self.post_alert("fila de e-mails parada", severity="warning")
        aid = posted["id"]
        self.assert_iso(posted, "created_at", "POST /api/alerts")
        self.assert_iso(posted, "updated_at", "POST /api/alerts")
        self.assertAlmostEqual(posted["created_at_unix"], self.plantao.now(), delta=60)
        self.assert_no_epochs(posted, "POST /api/alerts")
        self.sim.expect_sms(ANA, containing="Alerta %d" % aid)

        acked = self.api_ok("POST", "/api/alerts/%d/ack" % aid, json={"person_id": ana})
        self.assert_iso(acked, "acked_at", "ack")
        self.sim.expect_sms(ANA, containing="Alerta %d assumido" % aid)
        self.advance(HOUR)
        resolved = self.api_ok("POST", "/api/alerts/%d/resolve" % aid)
        self.assert_iso(resolved, "resolved_at", "resolve")
        self.assertAlmostEqual(resolved["resolved_at_unix"] - resolved["acked_at_unix"], HOUR, delta=60, msg=resolved)
        self.sim.expect_sms(ANA, containing="Alerta %d resolvido" % aid)

        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        for name in ("created_at", "updated_at", "acked_at", "resolved_at"):
            self.assert_iso(a, name, "GET /api/alerts/{id}")
        self.assert_no_epochs(a, "GET /api/alerts/{id}")
        wait_until(lambda: any(r["sent_at"] for r in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"]),
                   what="the page text sent")
        timeline = self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"]
        self.assertTrue(timeline)
        for row in timeline:
            self.assert_iso(row, "created_at", "timeline")
            self.assert_no_epochs(row, "timeline")
        self.assert_iso([r for r in timeline if r["sent_at"]][0], "sent_at", "timeline")

        listed = self.api_ok("GET", "/api/alerts")["alerts"]
        self.assertEqual([x["id"] for x in listed], [aid])
        for name in ("created_at", "acked_at", "resolved_at"):
            self.assert_iso(listed[0], name, "GET /api/alerts")
        self.assert_no_epochs(listed[0], "GET /api/alerts")

    def test_the_cursor_pages_through_25_alerts_without_duplicates_or_gaps(self):
        ids = [self.post_alert("disco cheio em db%d" % i, dedup_key="db%d" % i)["id"] for i in range(25)]
        seen, pages, cursor = [], 0, None
        while True:
            page = self.api_ok("GET", "/api/alerts?limit=10" + ("&before=%d" % cursor if cursor else ""))
            pages += 1
            seen += [a["id"] for a in page["alerts"]]
            cursor = page["next_before"]
            if cursor is None:
                break
            self.assertEqual(cursor, page["alerts"][-1]["id"], page)
            self.assertLess(pages, 5, "the cursor does not end")
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(ids, reverse=True), "newest first, each alert once")
        # an alert that arrives while somebody pages does not shift the pages already read
        first = self.api_ok("GET", "/api/alerts?limit=10")
        self.post_alert("mais um")
        second = self.api_ok("GET", "/api/alerts?limit=10&before=%d" % first["next_before"])
        self.assertEqual([a["id"] for a in second["alerts"]], sorted(ids, reverse=True)[10:20])

    def test_filters_it_can_show(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        old = self.post_alert("backup atrasado", severity="info")["id"]
        self.advance(2 * 86400)
        crit = self.post_alert("site fora do ar", severity="critical", dedup_key="site")["id"]
        warn = self.post_alert("fila crescendo", severity="warning", dedup_key="fila")["id"]
        self.api_ok("POST", "/api/alerts/%d/ack" % warn, json={"person_id": ana})
        self.api_ok("POST", "/api/alerts/%d/resolve" % crit)

        def ids(query):
            return [a["id"] for a in self.api_ok("GET", "/api/alerts?" + query)["alerts"]]

        self.assertEqual(ids("severity=critical"), [crit])
        self.assertEqual(ids("status=acknowledged"), [warn])
        self.assertEqual(ids("status=resolved&severity=critical"), [crit])
        self.assertEqual(ids("person=%d" % ana), [warn])
        # a period in the team's zone: from is inclusive, to exclusive
        now = self.api_ok("GET", "/api/alerts/%d" % crit)["created_at"]
        self.assertEqual(ids("from=" + now[:10]), [warn, crit])
        self.assertEqual(ids("to=" + now[:10]), [old])
        self.assertEqual(ids("from=" + now.replace("-03:00", "%2B00:00")), [warn, crit])
        self.assert_error(self.api("GET", "/api/alerts?status=aberto"), 400, "invalid", "status")
        self.assert_error(self.api("GET", "/api/alerts?from=ontem"), 400, "invalid", "from")
        self.assert_error(self.api("GET", "/api/alerts?before=x"), 400, "invalid", "before")

    def test_person_finds_the_alerts_texted_to_them(self):
        """A lead asks "what was Ana paged for?": the alerts whose page text went to her phone,
        not only those she acknowledged."""
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO}, expect=201)["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": ana, "timeout_s": 30}], "rounds": 1})
        aid = self.post_alert("fila de e-mails parada", severity="warning")["id"]
        self.sim.expect_sms(ANA, containing="Alerta %d" % aid)
        self.assertEqual([a["id"] for a in self.api_ok("GET", "/api/alerts?person=%d" % ana)["alerts"]], [aid])
        self.assertEqual(self.api_ok("GET", "/api/alerts?person=%d" % bruno)["alerts"], [])

    def test_unknown_query_parameters_are_a_400_naming_them(self):
        aid = self.post_alert("disco cheio")["id"]
        self.assert_error(self.api("GET", "/api/alerts?status=triggered&pessoa=1"), 400, "unknown_parameter",
                          "pessoa")
        self.assert_error(self.api("GET", "/api/alerts/%d?detalhes=1" % aid), 400, "unknown_parameter", "detalhes")

    def test_unknown_body_fields_are_a_422_naming_them(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        aid = self.post_alert("disco cheio")["id"]
        # "person" for "person_id": refused, not taken as an acknowledgment by nobody
        self.assert_error(self.api("POST", "/api/alerts/%d/ack" % aid, json={"person": ana}), 422, "unknown_field",
                          "person")
        self.assert_error(self.api("POST", "/api/alerts/%d/resolve" % aid, json={"motivo": "ok"}), 422,
                          "unknown_field", "motivo")
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % aid)["status"], "triggered")
        self.assert_error(self.api("POST", "/api/alerts", json={"summary": "x", "sevrity": "critical"}), 422,
                          "unknown_field", "sevrity")
        # a wrong value: 422 with the field and a code
        self.assert_error(self.api("POST", "/api/alerts/%d/ack" % aid, json={"person_id": "Ana"}), 422,
                          "invalid_value", "person_id")
        self.assert_error(self.api("POST", "/api/alerts/%d/ack" % aid, json={"person_id": 999}), 422,
                          "invalid_value", "person_id")
        self.assert_error(self.api("POST", "/api/alerts", json={"details": "sem resumo"}), 422, "required",
                          "summary")
        self.assert_error(self.api("POST", "/api/alerts", json={"summary": "x", "severity": 3}), 422,
                          "invalid_value", "severity")
        self.api_ok("POST", "/api/alerts/%d/ack" % aid, json={"person_id": ana})
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % aid)["acked_by"], ana)


class TestMonitors(ConsistencyTest):
    def heartbeat(self, name, **fields):
        return self.api_ok("POST", "/api/monitors",
                           json=dict(kind="heartbeat", name=name, period_s=3600, **fields), expect=201)

    def test_monitor_times_are_iso_with_the_team_offset(self):
        m = self.heartbeat("backup noturno")
        for name in ("created_at", "updated_at", "state_since"):
            self.assert_iso(m, name, "POST /api/monitors")
        self.assertIsNone(m["last_ping_at"])
        self.assert_no_epochs(m, "POST /api/monitors")
        secret = m["ping_url"].rsplit("/", 1)[1]
        status, _, _ = self.plantao.api("GET", "/ping/" + secret, token=None)
        self.assertEqual(status, 200)
        up = wait_until(lambda: (lambda x: x if x["state"] == "up" else None)(
            self.api_ok("GET", "/api/monitors/%d" % m["id"])), what="the monitor up")
        for name in ("last_ping_at", "due_at", "state_since"):
            self.assert_iso(up, name, "GET /api/monitors/{id}")
        self.assertAlmostEqual(up["due_at_unix"], self.plantao.now() + 3600, delta=60)
        self.assert_no_epochs(up, "GET /api/monitors/{id}")
        listed = self.api_ok("GET", "/api/monitors")["monitors"]
        self.assert_iso(listed[0], "last_ping_at", "GET /api/monitors")
        self.assert_no_epochs(listed[0], "GET /api/monitors")
        pings = self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]
        self.assertEqual(len(pings), 1)
        self.assert_iso(pings[0], "at", "pings")
        self.assert_no_epochs(pings[0], "pings")

    def test_the_cursor_pages_through_25_monitors_and_their_pings(self):
        ids = [self.heartbeat("tarefa %02d" % i, paused=(i % 5 == 0))["id"] for i in range(25)]
        seen, cursor = [], None
        for _ in range(4):
            page = self.api_ok("GET", "/api/monitors?limit=10" + ("&before=%d" % cursor if cursor else ""))
            seen += [x["id"] for x in page["monitors"]]
            cursor = page["next_before"]
            if cursor is None:
                break
        self.assertIsNone(cursor)
        self.assertEqual(seen, sorted(ids, reverse=True), "newest first, each monitor once")
        self.assertEqual(len(self.api_ok("GET", "/api/monitors?state=paused")["monitors"]), 5)
        self.assertEqual(len(self.api_ok("GET", "/api/monitors?kind=heartbeat&state=new")["monitors"]), 20)
        self.assertEqual(self.api_ok("GET", "/api/monitors?kind=http")["monitors"], [])
        self.assert_error(self.api("GET", "/api/monitors?kind=ftp"), 400, "invalid", "kind")
        self.assert_error(self.api("GET", "/api/monitors?state=sleeping"), 400, "invalid", "state")

        secret = self.api_ok("GET", "/api/monitors/%d" % ids[1])["ping_url"].rsplit("/", 1)[1]
        for _ in range(12):
            self.assertEqual(self.plantao.api("GET", "/ping/" + secret, token=None)[0], 200)
        wait_until(lambda: len(self.api_ok("GET", "/api/monitors/%d/pings" % ids[1])["pings"]) == 12,
                   what="12 pings recorded")
        page = self.api_ok("GET", "/api/monitors/%d/pings?limit=5" % ids[1])
        got = [p["id"] for p in page["pings"]]
        while page["next_before"]:
            page = self.api_ok("GET", "/api/monitors/%d/pings?limit=5&before=%d" % (ids[1], page["next_before"]))
            got += [p["id"] for p in page["pings"]]
        self.assertEqual(len(got), 12)
        self.assertEqual(got, sorted(set(got), reverse=True))

    def test_unknown_parameters_and_fields_are_named(self):
        m = self.heartbeat("backup")
        self.assert_error(self.api("GET", "/api/monitors?tipo=http"), 400, "unknown_parameter", "tipo")
        self.assert_error(self.api("GET", "/api/monitors/%d?x=1" % m["id"]), 400, "unknown_parameter", "x")
        self.assert_error(self.api("GET", "/api/monitors/%d/pings?desde=1" % m["id"]), 400, "unknown_parameter",
                          "desde")
        self.assert_error(self.api("PATCH", "/api/monitors/%d" % m["id"], json={"periodo": 60}), 422,
                          "unknown_field", "periodo")
        self.assert_error(self.api("POST", "/api/monitors", json={"kind": "heartbeat", "name": "x", "period_s": 60,
                                                                  "url": "http://x"}), 422, "unknown_field", "url")
        self.assert_error(self.api("PATCH", "/api/monitors/%d" % m["id"], json={"period_s": 0}), 422,
                          "invalid_value", "period_s")
        self.assert_error(self.api("POST", "/api/monitors", json={"kind": "heartbeat", "period_s": 60}), 422,
                          "required", "name")
        self.assertEqual(self.api_ok("GET", "/api/monitors/%d" % m["id"])["period_s"], 3600)
