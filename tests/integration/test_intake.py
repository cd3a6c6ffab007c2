"""
tests/integration/test_intake.py — alert intake as monitoring tools really use it, against a
real `plantao serve` at its default configuration and the Twilio simulator: a hostile
Alertmanager payload must not stall the support line's webhooks, Alertmanager groups become
one alert, Grafana test notifications page nobody, the generic API resolves by key and
refuses unknown fields, cron's plain text dedups by its first line, runbook links are kept,
and an alert with nobody to page says so in its 202.
"""

import json
import os
import secrets
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TWILIO_FROM, IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
CALLER = "+5511988880000"
# Twilio gives up on a webhook after 15 s; a support-line answer must come well before that.
WEBHOOK_BUDGET_S = 3.0


def alertmanager(status, alerts, group_key=None, **extra):
    """An Alertmanager webhook payload (version 4) carrying `alerts`."""
    body = {"version": "4", "groupKey": group_key, "status": status, "receiver": "plantao",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am:9093", "truncatedAlerts": 0, "alerts": alerts}
    if group_key is None:
        del body["groupKey"]
    body.update(extra)
    return body


def am_alert(fp, status="firing", summary=None, **labels):
    annotations = {"summary": summary} if summary else {}
    return {"status": status, "labels": dict(labels), "annotations": annotations,
            "startsAt": "2026-01-05T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-05T12:05:00Z",
            "generatorURL": "http://prom:9090/graph", "fingerprint": fp}


class IntakeTest(IntegrationTest):
    """Default configuration: no limit or pacing turned off."""

    def add_person(self, name, phone):
        return self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"]

    def policy(self, *people, timeout_s=30):
        self.api_ok("PUT", "/api/escalation", json={
            "steps": [{"target": p, "timeout_s": timeout_s} for p in people], "rounds": 1})

    def db_rows(self, sql, *args):
        conn = self.plantao.db.connect()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def drain(self, *phones, rounds=12):
        """Lets the outbox send what is queued (moving the clock past the per-phone limits),
        waits for the phones, then marks what reached `phones` as seen: the pages of a chain
        that the test does not look at."""
        for _ in range(rounds):
            left = self.db_rows("SELECT count(*) FROM outbox WHERE status IN ('pending', 'retry', 'sending')")
            if not left[0][0]:
                break
            self.advance(61, settle=1.0)
        self.sim.wait_idle(timeout=30)
        with self.sim._lock:
            for x in self.sim.messages + self.sim.calls:
                if x.to in phones:
                    x.consumed = True

    def voice_webhook(self):
        """One signed incoming call to the support line, as Twilio sends it; returns the
        simulator's Webhook (status, body, elapsed)."""
        return self.plantao.webhook("/twilio/voice", {
            "CallSid": "CA" + secrets.token_hex(16), "AccountSid": self.sim.account_sid, "From": CALLER,
            "To": TWILIO_FROM, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"})


class TestHostilePayload(IntakeTest):

    def test_huge_label_set_does_not_stall_the_support_line(self):
        """A 1 MB Alertmanager payload whose ~78,000 labels arrive in descending order was
        sorted under the writer lock in quadratic time: every signed voice webhook waited
        for it, long past Twilio's 15 s."""
        n = 78000
        labels = {"l%05d" % i: "" for i in range(n - 1, -1, -1)}
        labels["alertname"] = "Flood"
        payload = alertmanager("firing", [{"status": "firing", "labels": labels, "annotations": {},
                                           "fingerprint": "f100d"}], group_key="{}:{alertname=\"Flood\"}")
        raw = json.dumps(payload, separators=(",", ":")).encode()
        self.assertLess(len(raw), 1024 * 1024)
        self.assertGreater(len(raw), 800 * 1024)
        # warm the webhook path once: its first answer prepares statements
        self.assertEqual(self.voice_webhook().status, 200)
        result = {}

        def post():
            t0 = time.monotonic()
            result["status"], result["body"], _ = self.api("POST", "/api/alerts/alertmanager", data=raw,
                                                           headers={"Content-Type": "application/json"},
                                                           timeout=300)
            result["elapsed"] = time.monotonic() - t0

        poster = threading.Thread(target=post)
        poster.start()
        latencies = []
        try:
            # calls keep arriving while the payload is being taken in
            while poster.is_alive() or not latencies:
                wh = self.voice_webhook()
                self.assertIsNone(wh.error, "voice webhook: %s after %.1fs" % (wh.error, wh.elapsed))
                self.assertEqual(wh.status, 200, wh.body)
                self.assertIn("<Response>", wh.body)
                latencies.append(wh.elapsed)
                time.sleep(0.05)
        finally:
            poster.join(300)
        worst = max(latencies)
        sys.stderr.write("\n  intake of %d labels: %.2fs; %d voice webhooks meanwhile, slowest %.3fs\n"
                         % (n, result["elapsed"], len(latencies), worst))
        self.assertEqual(result["status"], 202, result.get("body"))
        self.assertLess(worst, WEBHOOK_BUDGET_S, "a voice webhook waited %.1fs behind the payload" % worst)
        aid = result["body"]["alerts"][0]["alert_id"]
        details = self.api_ok("GET", "/api/alerts/%d" % aid)["details"]
        lines = details.splitlines()
        # every label kept, in order
        self.assertEqual(lines[0], "alertname=Flood")
        self.assertEqual(lines[1], "l00000=")
        self.assertEqual(lines[n], "l%05d=" % (n - 1))


class TestGenericApi(IntakeTest):

    def test_resolve_and_acknowledge_by_dedup_key(self):
        """A script that opened an alert with a dedup_key closes it with the same key, as
        PagerDuty's Events API does; it used to be refused for lack of a summary."""
        ana = self.add_person("Ana", ANA)
        self.policy(ana)
        first = self.api_ok("POST", "/api/alerts", json={"summary": "db1 fora do ar", "dedup_key": "db1",
                                                         "severity": "critical"}, expect=202)
        self.sim.expect_sms(ANA, containing="Alerta %d:" % first["id"])
        body = self.api_ok("POST", "/api/alerts", json={"dedup_key": "db1", "status": "resolved"}, expect=200)
        self.assertEqual(body["id"], first["id"])
        self.assertEqual(body["status"], "resolved")
        self.assertEqual(body["resolved_via"], "api")
        self.sim.expect_sms(ANA, containing="Alerta %d resolvido" % first["id"])
        # nothing open with that key any more: answered, nothing changes
        body = self.api_ok("POST", "/api/alerts", json={"dedup_key": "db1", "event_action": "resolve"},
                           expect=202)
        self.assertEqual(body["action"], "ignored")
        # PagerDuty Events v2 words: trigger, acknowledge, resolve
        second = self.api_ok("POST", "/api/alerts", json={"summary": "db1 lento", "dedup_key": "db1",
                                                          "event_action": "trigger"}, expect=202)
        self.assertNotEqual(second["id"], first["id"])
        body = self.api_ok("POST", "/api/alerts", json={"dedup_key": "db1", "event_action": "acknowledge"},
                           expect=200)
        self.assertEqual(body["status"], "acknowledged")
        body = self.api_ok("POST", "/api/alerts", data="dedup_key=db1&event_action=resolve",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, expect=200)
        self.assertEqual((body["id"], body["status"]), (second["id"], "resolved"))
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % first["id"])["status"], "resolved")
        # a resolve needs the key; words are checked
        status, err, _ = self.api("POST", "/api/alerts", json={"status": "resolved"})
        self.assertEqual(status, 422)
        self.assertIn("dedup_key", err["error"]["message"])
        status, err, _ = self.api("POST", "/api/alerts", json={"dedup_key": "db1", "event_action": "close"})
        self.assertEqual(status, 422)
        self.assertIn("event_action", err["error"]["message"])
        self.drain(ANA)

    def test_unknown_fields_are_named(self):
        """A typo in a field name used to be dropped silently: the alert went out without it."""
        status, err, _ = self.api("POST", "/api/alerts", json={"summary": "disco cheio", "sevrity": "warning"})
        self.assertEqual(status, 422)
        self.assertEqual((err["error"]["code"], err["error"]["field"]), ("unknown_field", "sevrity"))
        self.assertIn("sevrity", err["error"]["message"])
        status, err, _ = self.api("POST", "/api/alerts", data="summary=disco+cheio&dedup=db1",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 422)
        self.assertEqual((err["error"]["code"], err["error"]["field"]), ("unknown_field", "dedup"))
        self.assertIn("dedup", err["error"]["message"])
        self.assertEqual(self.api_ok("GET", "/api/alerts")["alerts"], [])

    def test_cron_text_dedups_by_first_line_while_open(self):
        """A cron job that fails every minute posts the same first line each time: one alert,
        not one per minute."""
        self.policy(self.add_person("Ana", ANA))
        text = {"Content-Type": "text/plain"}
        first = self.api_ok("POST", "/api/alerts", data="backup noturno falhou\nexit 1", headers=text, expect=202)
        again = self.api_ok("POST", "/api/alerts", data="backup noturno falhou  \nexit 2", headers=text,
                            expect=202)
        self.assertEqual(again["id"], first["id"])
        self.assertTrue(again["deduped"])
        self.assertEqual(again["hits"], 2)
        # curl -d 'text' sends a form body with one bare value: the same text, the same alert
        bare = self.api_ok("POST", "/api/alerts", data="backup noturno falhou",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, expect=202)
        self.assertEqual(bare["id"], first["id"])
        other = self.api_ok("POST", "/api/alerts", data="disco cheio em db2", headers=text, expect=202)
        self.assertNotEqual(other["id"], first["id"])
        # once resolved, the same text is a new problem
        self.api_ok("POST", "/api/alerts/%d/resolve" % first["id"])
        new = self.api_ok("POST", "/api/alerts", data="backup noturno falhou\nexit 1", headers=text, expect=202)
        self.assertNotIn(new["id"], (first["id"], other["id"]))
        self.assertFalse(new["deduped"])
        self.drain(ANA)

    def test_runbook_url_is_kept(self):
        body = self.api_ok("POST", "/api/alerts", json={"summary": "fila parada",
                                                        "runbook_url": "https://wiki.example.com/rb/fila"},
                           expect=202)
        self.assertEqual(body["runbook_url"], "https://wiki.example.com/rb/fila")
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % body["id"])["runbook_url"],
                         "https://wiki.example.com/rb/fila")
        listed = self.api_ok("GET", "/api/alerts")["alerts"]
        self.assertEqual(listed[0]["runbook_url"], "https://wiki.example.com/rb/fila")
        status, err, _ = self.api("POST", "/api/alerts", json={"summary": "x", "runbook_url": "javascript:alert(1)"})
        self.assertEqual(status, 422)
        self.assertIn("runbook_url", err["error"]["message"])


class TestNobodyToPage(IntakeTest):

    def unpaged_metric(self):
        status, text, _ = self.api("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        for line in text.splitlines():
            if line.startswith("plantao_pages_unpaged_total "):
                return int(line.split()[-1])
        return None

    def test_alert_with_nobody_on_call_says_so(self):
        """Nobody on call: the alert was answered 202 "triggered" and went exhausted at once,
        with nothing telling the sender that nobody would be woken."""
        ana = self.add_person("Ana", ANA)  # a person, but no rotation: nobody is on call
        body = self.api_ok("POST", "/api/alerts", json={"summary": "api fora do ar", "severity": "critical"},
                           expect=202)
        self.assertIs(body["paged"], False)
        self.assertEqual(body["reason"], "nobody_on_call")
        self.assertIn("nobody is on call", body["reason_message"])
        wait_until(lambda: self.unpaged_metric() == 1, timeout=15, what="plantao_pages_unpaged_total 1")
        # the same through the text door
        body = self.api_ok("POST", "/api/alerts", data="cron falhou", headers={"Content-Type": "text/plain"},
                           expect=202)
        self.assertEqual((body["paged"], body["reason"]), (False, "nobody_on_call"))
        wait_until(lambda: self.unpaged_metric() == 2, timeout=15, what="plantao_pages_unpaged_total 2")
        # severity info is recorded by design: not paged, not counted as a failure
        body = self.api_ok("POST", "/api/alerts", json={"summary": "deploy feito", "severity": "info"},
                           expect=202)
        self.assertEqual((body["paged"], body["reason"]), (False, "info"))
        # someone reachable: paged
        self.policy(ana)
        body = self.api_ok("POST", "/api/alerts", json={"summary": "api fora de novo", "severity": "critical"},
                           expect=202)
        self.assertIs(body["paged"], True)
        self.assertNotIn("reason", body)
        self.sim.expect_sms(ANA, containing="api fora de novo")
        self.assertEqual(self.unpaged_metric(), 2)
        self.drain(ANA)

DISKS = ["db%d" % i for i in range(1, 6)]
GROUP = "{}/{severity=\"critical\"}:{alertname=\"DiskFull\"}"


def disk_alerts(status_of):
    """The DiskFull alerts of DISKS; status_of(disk) says firing or resolved."""
    return [dict(am_alert("fp-" + d, status=status_of(d), summary="Disco cheio em " + d, alertname="DiskFull",
                          instance=d + ":9100", severity="critical"),
                 annotations={"summary": "Disco cheio em " + d, "description": "/var 98% usado em " + d,
                              "runbook_url": "https://wiki.example.com/rb/disk"})
            for d in DISKS]


class TestGroups(IntakeTest):

    def page_texts(self, phone):
        return [m.body for m in self.sim.sms_to(phone) if ":" in m.body and "resolvido" not in m.body]

    def test_one_alertmanager_group_is_one_alert(self):
        """One notification group of 5 alerts became 5 alerts, 5 texts and 5 calls."""
        self.policy(self.add_person("Ana", ANA))
        payload = alertmanager("firing", disk_alerts(lambda d: "firing"), group_key=GROUP,
                               commonLabels={"alertname": "DiskFull", "severity": "critical"},
                               groupLabels={"alertname": "DiskFull"})
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        ids = {r["alert_id"] for r in body["alerts"]}
        self.assertEqual(len(ids), 1, body)
        aid = ids.pop()
        self.assertEqual([r["action"] for r in body["alerts"]], ["triggered"] + ["grouped"] * 4)
        self.assertIs(body["alerts"][0]["paged"], True)
        self.assertEqual(len(self.api_ok("GET", "/api/alerts")["alerts"]), 1)
        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual(a["summary"], "DiskFull (5 alertas)")
        self.assertEqual(a["severity"], "critical")
        self.assertEqual(a["runbook_url"], "https://wiki.example.com/rb/disk")
        self.assertEqual(len(a["members"]), 5)
        self.assertEqual({m["status"] for m in a["members"]}, {"firing"})
        for d in DISKS:
            self.assertIn("Disco cheio em " + d, a["details"])
        self.sim.expect_sms(ANA, containing="Alerta %d:" % aid)
        # Alertmanager repeats the group: folded in, still one alert
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual({r["alert_id"] for r in body["alerts"]}, {aid})
        self.assertEqual({r["action"] for r in body["alerts"]}, {"deduped"})
        # three disks recover: the alert stays open with the two still full
        payload["alerts"] = disk_alerts(lambda d: "resolved" if d in ("db1", "db2", "db3") else "firing")
        self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual(a["status"], "triggered")
        self.assertEqual(a["summary"], "DiskFull (2 alertas)")
        self.assertEqual(sorted(m["key"] for m in a["members"] if m["status"] == "firing"),
                         ["am:fp-db4", "am:fp-db5"])
        # the whole group resolves: so does the alert
        payload["status"] = "resolved"
        payload["alerts"] = disk_alerts(lambda d: "resolved")
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual({r["action"] for r in body["alerts"]}, {"resolved"})
        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual((a["status"], a["resolved_via"]), ("resolved", "alertmanager"))
        self.sim.expect_sms(ANA, containing="Alerta %d resolvido" % aid)
        self.drain(ANA)
        self.assertEqual(len(self.page_texts(ANA)), 1, self.page_texts(ANA))
        self.assertLessEqual(len(self.sim.calls_to(ANA)), 1)
        # the same group firing again later is a new problem
        payload["status"] = "firing"
        payload["alerts"] = disk_alerts(lambda d: "firing" if d == "db1" else "resolved")
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        again = body["alerts"][0]["alert_id"]
        self.assertNotEqual(again, aid)
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % again)["summary"], "Disco cheio em db1")
        self.api_ok("POST", "/api/alerts/%d/resolve" % again)
        self.drain(ANA)


class TestGroupSeverity(IntakeTest):

    def test_gravest_member_sets_the_group_severity(self):
        """A severity the policy does not know ("page") is paged as critical: a group of a
        warning and a "page" alert must be called, not only texted."""
        self.policy(self.add_person("Ana", ANA))
        alerts = [am_alert("fp-w", summary="fila lenta", alertname="Queue", severity="warning"),
                  am_alert("fp-p", summary="fila parada", alertname="Queue", severity="page")]
        body = self.api_ok("POST", "/api/alerts/alertmanager", expect=202,
                           json=alertmanager("firing", alerts, group_key="{}:{alertname=\"Queue\"}"))
        aid = body["alerts"][0]["alert_id"]
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % aid)["severity"], "page")
        self.sim.expect_sms(ANA, containing="Alerta %d:" % aid)
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % aid)["attempts"] or self.advance(61) or False,
                   timeout=60, interval=0.5, what="a call to Ana")
        self.api_ok("POST", "/api/alerts/%d/resolve" % aid)
        self.drain(ANA)


class TestGrafanaTest(IntakeTest):

    def test_contact_point_test_is_recorded_and_pages_nobody(self):
        """Grafana's "Test" button on the contact point paged the whole team."""
        self.policy(self.add_person("Ana", ANA))
        payload = {"receiver": "plantao", "status": "firing", "orgId": 1, "version": "1",
                   "groupKey": "test-2a9f1c-1733090000", "truncatedAlerts": 0,
                   "title": "[FIRING:1]  (TestAlert Grafana)", "state": "alerting",
                   "message": "**Firing**\n\nValue: [no value]\nLabels:\n - alertname = TestAlert\n",
                   "alerts": [{"status": "firing", "labels": {"alertname": "TestAlert", "instance": "Grafana"},
                               "annotations": {"summary": "Notification test"},
                               "startsAt": "2026-12-01T22:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                               "generatorURL": "", "fingerprint": "57c6d9296de2ad39"}]}
        body = self.api_ok("POST", "/api/alerts/grafana", json=payload, expect=202)
        r = body["alerts"][0]
        self.assertEqual((r["action"], r["paged"], r["reason"]), ("triggered", False, "test"))
        a = self.api_ok("GET", "/api/alerts/%d" % r["alert_id"])
        self.assertEqual(a["severity"], "info")
        self.assertIs(a["test"], True)
        self.assertEqual(a["summary"], "Notification test")
        # a test titled as such by a notification template
        payload = dict(payload, title="[TEST] plantao", groupKey="test-2",
                       alerts=[dict(payload["alerts"][0], labels={"alertname": "Custom"}, fingerprint="aa11")])
        body = self.api_ok("POST", "/api/alerts/grafana", json=payload, expect=202)
        self.assertEqual(body["alerts"][0]["reason"], "test")
        # recorded and answered; nobody's phone rings or beeps
        self.advance(120, settle=1.0)
        self.sim.assert_quiet(1.0)
        self.assertEqual(self.sim.requests_of("messages", "POST") + self.sim.requests_of("calls", "POST"), [])


class TestResolvedAfterExhausted(IntakeTest):

    def exhausted_alert(self, post):
        """Ana, alone in a one-round policy, does not answer: the alert `post()` opens (its id
        returned) ends exhausted."""
        self.policy(self.add_person("Ana", ANA), timeout_s=10)
        self.sim.phone(ANA).does_not_answer()
        aid = post()
        self.sim.expect_sms(ANA, containing="Alerta %d:" % aid)

        def exhausted():
            if self.api_ok("GET", "/api/alerts/%d" % aid)["status"] == "exhausted":
                return True
            self.advance(61, settle=0.5)  # past the per-phone limit and the step's deadline
            return False

        wait_until(exhausted, timeout=60, interval=0.2, what="the alert exhausted")
        self.sim.expect_call(ANA)
        self.sim.expect_sms(ANA, containing="Alerta %d: ninguém assumiu" % aid, timeout=30)
        return aid

    def test_group_resolved_after_nobody_answered(self):
        """Nobody answered, the alert went exhausted; when Alertmanager said the group was
        resolved, the alert stayed open for ever ("ignored")."""
        payload = alertmanager("firing", disk_alerts(lambda d: "firing" if d == "db1" else "resolved"),
                               group_key=GROUP)
        aid = self.exhausted_alert(
            lambda: self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)["alerts"][0]["alert_id"])
        payload["status"] = "resolved"
        payload["alerts"] = disk_alerts(lambda d: "resolved")
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual(body["alerts"][0]["action"], "resolved")
        self.assertEqual(body["alerts"][0]["alert_id"], aid)
        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual((a["status"], a["resolved_via"]), ("resolved", "alertmanager"))
        self.sim.expect_sms(ANA, containing="Alerta %d resolvido" % aid, timeout=90)
        self.drain(ANA)

    def test_resolve_by_key_after_nobody_answered(self):
        aid = self.exhausted_alert(lambda: self.api_ok("POST", "/api/alerts", json={
            "summary": "db1 fora do ar", "dedup_key": "db1"}, expect=202)["id"])
        body = self.api_ok("POST", "/api/alerts", json={"dedup_key": "db1", "event_action": "resolve"}, expect=200)
        self.assertEqual((body["id"], body["status"]), (aid, "resolved"))
        self.drain(ANA)
