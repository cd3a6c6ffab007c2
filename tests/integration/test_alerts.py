"""
tests/integration/test_alerts.py — the alert pager end to end: a real `plantao serve` pages
simulated phones through the Twilio simulator (texts, the call chain, the keypad, lost
callbacks, restarts after kill -9), plus the intake formats and their errors.

People are created through POST /api/people.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
# Every step: 30 s of ringing; plantao gives a call 60 s beyond that, plus the callback grace.
STEP_TIMEOUT = 30
CALL_ALLOWANCE = 60
GRACE = 30
STEP_DEADLINE = STEP_TIMEOUT + CALL_ALLOWANCE + GRACE

PAGER_ENV = {
    # the per-destination and per-sender limits would space the chain out by minutes
    "PLANTAO_DEST_PER_MINUTE": "1000",
    "PLANTAO_DEST_PER_15MIN": "10000",
    "PLANTAO_SMS_RATE": "1000",
    "PLANTAO_CALL_RATE": "1000",
    "PLANTAO_CALLBACK_GRACE": str(GRACE),
}


class PagerTest(IntegrationTest):
    plantao_env = PAGER_ENV

    # ---- fixtures -------------------------------------------------------------------

    def add_person(self, name, phone, whatsapp=False, sms_opt_out=False):
        pid = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone, "whatsapp": whatsapp})["id"]
        if sms_opt_out:  # read-only in the API: set by texting STOP
            self.assertEqual(self.sim.incoming_sms(phone, "STOP"), [])
        return pid

    def db(self):
        conn = self.plantao.db.connect(isolation_level=None)
        return _Closing(conn)

    def team(self, rounds=2, **people_kw):
        self.ana = self.add_person("Ana", ANA, **people_kw.get("ana", {}))
        self.bruno = self.add_person("Bruno", BRUNO, **people_kw.get("bruno", {}))
        self.carla = self.add_person("Carla", CARLA, **people_kw.get("carla", {}))
        body = self.api_ok("PUT", "/api/escalation", json={
            "steps": [{"target": self.ana, "timeout_s": STEP_TIMEOUT},
                      {"target": self.bruno, "timeout_s": STEP_TIMEOUT},
                      {"target": self.carla, "timeout_s": STEP_TIMEOUT}],
            "rounds": rounds})
        self.assertEqual(len(body["steps"]), 3)

    def trigger(self, summary, **kw):
        payload = {"summary": summary}
        payload.update(kw)
        status, body, _ = self.api("POST", "/api/alerts", json=payload)
        self.assertEqual(status, 202, body)
        return body

    def alert(self, aid):
        return self.api_ok("GET", "/api/alerts/%d" % aid)

    def expect_pages(self, aid, phones=(ANA, BRUNO, CARLA), timeout=10):
        for p in phones:
            self.sim.expect_sms(p, containing="Alerta %d:" % aid, timeout=timeout)

    def forget_lost_callbacks(self):
        """Status callbacks the simulator could not deliver while plantao was down are not
        errors of plantao's: drop them (and only them) from the simulator's error list."""
        self.sim.wait_idle()
        with self.sim._lock:
            self.sim.errors[:] = [e for e in self.sim.errors
                                  if not ("callback" in e and ("refused" in e or "reset" in e or "closed" in e))]

    def post_head_only(self, path, length):
        """Sends only the head of a POST announcing `length` bytes and returns the status
        (sending a real oversized body races the server closing the connection)."""
        with socket.create_connection(("127.0.0.1", self.plantao.port), timeout=10) as s:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                       % (path, self.plantao.api_token, length)).encode())
            head = s.recv(4096).decode("latin-1")
        return int(head.split()[1])

    def calls_placed(self):
        return len(self.sim.requests_of("calls", "POST"))


class _Closing:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


class TestChain(PagerTest):

    def test_no_answer_busy_then_third_presses_1(self):
        self.team()
        self.sim.phone(ANA).does_not_answer()
        self.sim.phone(BRUNO).is_busy()
        self.sim.phone(CARLA).answers(digits="1")
        a = self.trigger("disco cheio em db1", severity="critical")
        aid = a["id"]
        self.assertEqual(a["status"], "triggered")
        self.expect_pages(aid)
        self.assertEqual(self.sim.expect_call(ANA).status, "no-answer")
        self.assertEqual(self.sim.expect_call(BRUNO).status, "busy")
        call = self.sim.expect_call(CARLA)
        # each step rings for its own timeout, with answering-machine detection in the background
        self.assertEqual(call.form.get("Timeout"), str(STEP_TIMEOUT))
        self.assertEqual((call.form.get("MachineDetection"), call.form.get("AsyncAmd")), ("DetectMessageEnd", "true"))
        self.assertTrue(call.heard("Alerta %d: disco cheio em db1" % aid), call.says)
        self.assertTrue(call.heard("Pressione 1 para assumir"), call.says)
        self.assertEqual(call.digits, ["1"])
        self.assertTrue(call.heard("assumido"), call.says)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Carla" % aid)
        body = wait_until(lambda: (lambda b: b if b["status"] == "acknowledged" else None)(self.alert(aid)),
                          what="acknowledged")
        self.assertEqual(body["acked_by"], self.carla)
        self.assertEqual(body["acked_by_name"], "Carla")
        self.assertEqual(body["acked_via"], "call")
        self.assertEqual([t["outcome"] for t in body["attempts"]], ["no-answer", "busy", "ack"])
        self.assertEqual([t["digits"] for t in body["attempts"]][2], "1")
        # the timeline shows every text and call with Twilio's SIDs and statuses
        kinds = [(t["kind"], t["class"]) for t in body["timeline"]]
        self.assertEqual(kinds.count(("sms", "alert")), 3)
        self.assertEqual(kinds.count(("call", "alert")), 3)
        self.assertEqual(kinds.count(("sms", "ack")), 3)
        for t in body["timeline"]:
            self.assertTrue(t["sid"], t)
        # exactly three calls, and none after the ack, however long we wait
        self.assertEqual(self.calls_placed(), 3)
        self.advance(STEP_DEADLINE * 10)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 3)

    def test_lost_status_callback_moves_on_after_the_timeout(self):
        self.team()
        # Ana's phone rings out, but Twilio's final status callback never reaches plantao
        self.sim.phone(ANA).does_not_answer().call_callbacks(drop=["completed"])
        self.sim.phone(BRUNO).answers(digits="1")
        aid = self.trigger("backup atrasado")["id"]
        self.expect_pages(aid)
        self.sim.expect_call(ANA)
        self.sim.assert_quiet(0.5)  # nothing happens while the step is still within its time
        self.advance(STEP_DEADLINE - 5)
        self.sim.assert_quiet(0.3)
        self.advance(10)
        self.sim.expect_call(BRUNO)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Bruno" % aid)
        body = self.alert(aid)
        self.assertEqual(body["attempts"][0]["outcome"], "timeout")
        self.assertEqual(body["status"], "acknowledged")
        self.assertEqual(self.calls_placed(), 2)

    def test_machine_is_not_a_person_and_star_repeats(self):
        self.team()
        self.sim.phone(ANA).is_machine()
        self.sim.phone(BRUNO).answers(digits=["*", "2"])
        self.sim.phone(CARLA).answers(digits="1")
        aid = self.trigger("fila parada")["id"]
        self.expect_pages(aid)
        machine = self.sim.expect_call(ANA)
        self.assertEqual(machine.answered_by, "machine_end_beep")
        self.assertTrue(any("Responda ack %d por SMS" % aid in s for s in machine.voicemail), machine.voicemail)
        self.assertEqual(machine.digits, [])
        bruno = self.sim.expect_call(BRUNO)
        self.assertEqual(bruno.digits, ["*", "2"])
        self.assertEqual(sum(1 for s in bruno.says if "Pressione 1" in s), 4)  # twice, then twice again
        self.assertTrue(bruno.heard("próxima pessoa"), bruno.says)
        self.sim.expect_call(CARLA)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="assumido por Carla")
        outcomes = [t["outcome"] for t in self.alert(aid)["attempts"]]
        self.assertEqual(outcomes, ["machine", "pass", "ack"])

    def test_all_rounds_unanswered_then_exhausted(self):
        self.team(rounds=2)
        for p in (ANA, BRUNO, CARLA):
            self.sim.phone(p).does_not_answer()
        aid = self.trigger("ninguém em casa")["id"]
        self.expect_pages(aid)
        for _ in range(2):
            for p in (ANA, BRUNO, CARLA):
                self.sim.expect_call(p)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d: ninguém assumiu" % aid)
        self.assertEqual(self.alert(aid)["status"], "exhausted")
        self.advance(STEP_DEADLINE * 3)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 6)

    def test_opted_out_is_still_called_and_whatsapp_opt_in(self):
        self.plantao.stop()
        self.start_plantao_now({"TWILIO_WHATSAPP_FROM": "whatsapp:+15005550006"})
        self.team(ana={"sms_opt_out": True}, bruno={"whatsapp": True})
        self.sim.phone(ANA).answers(digits="1")
        aid = self.trigger("sem SMS para a Ana")["id"]
        self.sim.expect_sms(BRUNO, containing="Alerta %d:" % aid)
        self.sim.expect_whatsapp(BRUNO, containing="Alerta %d:" % aid)
        self.sim.expect_sms(CARLA, containing="Alerta %d:" % aid)
        self.sim.expect_call(ANA)
        self.sim.expect_sms(BRUNO, containing="assumido por Ana")
        self.sim.expect_whatsapp(BRUNO, containing="assumido por Ana")
        self.sim.expect_sms(CARLA, containing="assumido por Ana")
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.sim.sms_to(ANA), [])


class TestRestart(PagerTest):

    def test_kill9_in_the_middle_of_the_chain(self):
        self.team()
        self.sim.phone(ANA).does_not_answer()
        # Bruno's phone rings until plantao is dead (a ring of fixed length could end before the
        # kill on a busy machine, and the chain would go on to Carla with plantao still up)
        bruno_rings = threading.Event()
        self.addCleanup(bruno_rings.set)
        self.sim.phone(BRUNO).does_not_answer(delay=bruno_rings)
        self.sim.phone(CARLA).answers(digits="1")
        aid = self.trigger("queda no meio da cadeia")["id"]
        self.expect_pages(aid)
        self.sim.expect_call(ANA)
        wait_until(lambda: self.sim.calls_to(BRUNO), what="Bruno's phone ringing")
        self.plantao.kill9()
        bruno_rings.set()
        bruno = self.sim.expect_call(BRUNO)  # ends while plantao is down: its callback is lost
        self.assertEqual(bruno.status, "no-answer")
        self.plantao.start()
        # The chain goes on to Carla: either the engine learns the end of Bruno's call from
        # Twilio (the outbox reconciles calls whose callbacks it missed) or the step's deadline
        # passes. Either way nobody is called again for a step already made.
        self.advance(STEP_DEADLINE + 1)
        self.sim.expect_call(CARLA)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="assumido por Carla")
        body = self.alert(aid)
        self.assertEqual(body["status"], "acknowledged")
        steps = [(t["round"], t["step"], t["person_name"]) for t in body["attempts"]]
        self.assertEqual(steps, [(0, 0, "Ana"), (0, 1, "Bruno"), (0, 2, "Carla")])
        self.assertEqual(len(self.sim.calls_to(ANA)), 1)
        self.assertEqual(len(self.sim.calls_to(BRUNO)), 1)
        self.assertEqual(len(self.sim.calls_to(CARLA)), 1)
        self.assertEqual(len(self.sim.sms_to(ANA)), 2)  # page and ack notice, once each
        self.forget_lost_callbacks()

    def test_kill9_right_after_intake(self):
        self.team()
        # Ana picks up after 1.5 real seconds, when plantao is back (a call whose TwiML
        # request meets a dead server is a different story: Twilio plays an error)
        self.sim.phone(ANA).answers(digits="1", delay=1.5)
        aid = self.trigger("logo antes da queda")["id"]
        self.plantao.kill9()  # the engine may or may not have paged yet
        self.plantao.start()
        # a page caught between its claim and its request is looked up at Twilio only after the
        # request's own deadline (10 s + 2 s), then sent
        self.expect_pages(aid, timeout=25)
        self.sim.expect_call(ANA, timeout=25)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="assumido por Ana")
        self.forget_lost_callbacks()
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 1)


class TestIntake(PagerTest):

    def test_dedup_folds_into_the_open_alert(self):
        self.team()
        self.sim.phone(ANA).answers(digits="1", delay=1.0)
        first = self.trigger("disco cheio", dedup_key="disk:db1")
        second = self.trigger("disco cheio de novo", dedup_key="disk:db1")
        self.assertEqual(second["id"], first["id"])
        self.assertTrue(second["deduped"])
        self.assertFalse(first["deduped"])
        self.assertEqual(second["hits"], 2)
        self.expect_pages(first["id"])
        self.sim.expect_call(ANA)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="assumido por Ana")
        # still open (acknowledged): folds again, pages nobody
        third = self.trigger("disco cheio", dedup_key="disk:db1")
        self.assertEqual(third["id"], first["id"])
        self.assertEqual(third["hits"], 3)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 1)

    def test_alertmanager_firing_then_resolved(self):
        self.team()
        self.sim.phone(ANA).does_not_answer(delay=1.5)
        payload = {
            "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": "firing",
            "receiver": "plantao", "groupLabels": {"alertname": "DiskFull"},
            "commonLabels": {"alertname": "DiskFull"}, "commonAnnotations": {},
            "externalURL": "http://am:9093", "truncatedAlerts": 0,
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"},
                "annotations": {"summary": "Disco cheio em db1", "description": "/var 98% usado"},
                "startsAt": "2026-01-05T12:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom:9090/graph", "fingerprint": "a1b2c3d4e5f60718"}]}
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        aid = body["alerts"][0]["alert_id"]
        self.assertEqual(body["alerts"][0]["action"], "triggered")
        a = self.alert(aid)
        self.assertEqual(a["dedup_key"], "am:a1b2c3d4e5f60718")
        self.assertEqual(a["summary"], "Disco cheio em db1")
        self.assertEqual(a["severity"], "critical")
        self.assertIn("/var 98% usado", a["details"])
        self.assertIn("instance=db1:9100", a["details"])
        self.expect_pages(aid)
        # Alertmanager repeats a firing notification: folded in
        again = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual(again["alerts"][0]["action"], "deduped")
        wait_until(lambda: self.sim.calls_to(ANA), what="Ana's phone ringing")
        payload["status"] = "resolved"
        payload["alerts"][0]["status"] = "resolved"
        payload["alerts"][0]["endsAt"] = "2026-01-05T12:05:00Z"
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual(body["alerts"][0]["action"], "resolved")
        a = self.alert(aid)
        self.assertEqual(a["status"], "resolved")
        self.assertEqual(a["resolved_via"], "alertmanager")
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d resolvido" % aid)
        self.sim.expect_call(ANA)
        # the chain stops: Bruno is never called, even after the deadline
        self.advance(STEP_DEADLINE * 2)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 1)
        # resolved again: nothing open with that fingerprint, ignored
        body = self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        self.assertEqual(body["alerts"][0]["action"], "ignored")

    def test_alertmanager_bad_payloads(self):
        status, body, _ = self.api("POST", "/api/alerts/alertmanager", json={"version": "3", "alerts": []})
        self.assertEqual(status, 422)
        self.assertIn("version", body["error"]["message"])
        status, body, _ = self.api("POST", "/api/alerts/alertmanager", json={"alerts": []})
        self.assertEqual(status, 422)
        # one bad alert among good ones: nothing of the payload is written
        status, body, _ = self.api("POST", "/api/alerts/alertmanager", json={
            "version": "4", "alerts": [
                {"status": "firing", "labels": {"alertname": "A"}, "annotations": {}, "fingerprint": "f1"},
                {"status": "bogus", "labels": {"alertname": "B"}, "annotations": {}, "fingerprint": "f2"}]})
        self.assertEqual(status, 422)
        self.assertIn("alerts[1].status", body["error"]["message"])
        self.assertEqual(self.api_ok("GET", "/api/alerts")["alerts"], [])

    def test_grafana_webhook(self):
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        payload = {
            "receiver": "plantao", "status": "firing", "orgId": 1, "version": "1",
            "title": "[FIRING:1] HighLatency", "message": "Latência alta na API",
            "state": "alerting", "groupKey": "{}", "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "team": "api"},
                        "annotations": {}, "fingerprint": "ff00aa", "startsAt": "2026-01-05T12:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://grafana/alerting"}]}
        body = self.api_ok("POST", "/api/alerts/grafana", json=payload, expect=202)
        aid = body["alerts"][0]["alert_id"]
        a = self.alert(aid)
        self.assertEqual(a["summary"], "HighLatency")
        self.assertEqual(a["source"], "grafana")
        self.assertIn("Latência alta na API", a["details"])
        self.expect_pages(aid)
        self.sim.expect_call(ANA)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="assumido por Ana")
        status, body, _ = self.api("POST", "/api/alerts/grafana", json=dict(payload, version="0"))
        self.assertEqual(status, 422)

    def test_form_text_and_errors(self):
        # form body, as `curl -d summary=...` sends it
        status, body, _ = self.api("POST", "/api/alerts", data="summary=Monit%3A+nginx+caiu&severity=warning",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 202, body)
        self.assertEqual(body["summary"], "Monit: nginx caiu")
        self.assertEqual(body["severity"], "warning")
        # text/plain: first line summary, the rest details
        status, body, _ = self.api("POST", "/api/alerts", data="cron falhou\nexit 2\nlog em /var/log/x",
                                   headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 202, body)
        self.assertEqual(body["summary"], "cron falhou")
        self.assertEqual(body["details"], "exit 2\nlog em /var/log/x")
        # missing summary
        status, body, _ = self.api("POST", "/api/alerts", json={"details": "sem resumo"})
        self.assertEqual(status, 422)
        status, body, _ = self.api("POST", "/api/alerts", data="details=x",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 422)
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": 12})
        self.assertEqual(status, 422)
        # over the limit: refused from the Content-Length, before the body is read
        self.assertEqual(self.post_head_only("/api/alerts", 1024 * 1024 + 1), 413)
        # unknown alert, ack of a resolved one
        self.assertEqual(self.api("GET", "/api/alerts/999")[0], 404)
        self.assertEqual(self.api("POST", "/api/alerts/999/ack")[0], 404)
        aid = self.api_ok("GET", "/api/alerts?limit=1")["alerts"][0]["id"]
        self.api_ok("POST", "/api/alerts/%d/resolve" % aid)
        status, body, _ = self.api("POST", "/api/alerts/%d/ack" % aid)
        self.assertEqual(status, 409)
        # listing with filters
        self.assertEqual([a["id"] for a in self.api_ok("GET", "/api/alerts?status=resolved")["alerts"]], [aid])
        self.assertEqual(self.api("GET", "/api/alerts?status=bogus")[0], 400)
        # an alerts-only token may trigger but not acknowledge
        tok = self.api_ok("POST", "/api/tokens", json={"name": "monit", "role": "alerts"})
        secret = tok.get("token") or tok.get("secret")
        status, _, _ = self.api("POST", "/api/alerts", json={"summary": "via monit"}, token=secret)
        self.assertEqual(status, 202)
        status, _, _ = self.api("POST", "/api/alerts/%d/resolve" % aid, token=secret)
        self.assertEqual(status, 403)

    def test_api_ack_with_person(self):
        self.team()
        self.sim.phone(ANA).does_not_answer(delay=1.0)
        aid = self.trigger("ack pela API")["id"]
        self.expect_pages(aid)
        status, body, _ = self.api("POST", "/api/alerts/%d/ack" % aid, json={"person_id": 999})
        self.assertEqual(status, 422)
        body = self.api_ok("POST", "/api/alerts/%d/ack" % aid, json={"person_id": self.bruno})
        self.assertEqual(body["status"], "acknowledged")
        self.assertEqual(body["acked_via"], "api")
        self.assertEqual(body["acked_by_name"], "Bruno")
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Bruno" % aid)
        self.sim.expect_call(ANA)
        self.advance(STEP_DEADLINE * 2)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 1)


class TestPolicy(PagerTest):

    def test_policy_validation_and_audit(self):
        ana = self.add_person("Ana", ANA)
        body = self.api_ok("GET", "/api/escalation")
        self.assertEqual(body["rounds"], 3)
        self.assertEqual([s["target"] for s in body["steps"]], ["oncall", "next"])
        bad = [
            {"steps": [], "rounds": 3},
            {"steps": [{"target": 999}], "rounds": 3},
            {"steps": [{"target": "oncall", "timeout_s": 4}]},
            {"steps": [{"target": "oncall", "timeout_s": 601}]},
            {"steps": [{"target": "oncall"}], "rounds": 0},
            {"steps": [{"target": "oncall"}], "rounds": 21},
            {"steps": [{"target": "somebody"}]},
        ]
        for b in bad:
            status, err, _ = self.api("PUT", "/api/escalation", json=b)
            self.assertEqual(status, 422, (b, err))
        self.assertEqual(self.api_ok("GET", "/api/escalation")["rounds"], 3)  # unchanged
        body = self.api_ok("PUT", "/api/escalation", json={
            "steps": [{"target": "oncall", "timeout_s": 20}, {"target": ana}, {"target": "next"}], "rounds": 5})
        self.assertEqual(body["rounds"], 5)
        self.assertEqual(body["steps"][1], {"target": ana, "timeout_s": 30, "name": "Ana"})
        self.assertEqual(self.api_ok("GET", "/api/escalation"), body)
        with self.db() as db:
            rows = db.execute("SELECT actor, action, detail FROM audit WHERE action = 'escalation.update'").fetchall()
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "token:bootstrap")
        self.assertIn('"rounds":5', rows[0][2])
        # a viewer may read but not change it
        tok = self.api_ok("POST", "/api/tokens", json={"name": "v", "role": "viewer"})
        secret = tok.get("token") or tok.get("secret")
        self.assertEqual(self.api("GET", "/api/escalation", token=secret)[0], 200)
        self.assertEqual(self.api("PUT", "/api/escalation", json=body, token=secret)[0], 403)

    def test_english(self):
        self.plantao.stop()
        self.start_plantao_now({"PLANTAO_LANG": "en"})
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        aid = self.trigger("disk full")["id"]
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alert %d: disk full. Reply 'ack %d'" % (aid, aid))
        call = self.sim.expect_call(ANA)
        self.assertTrue(call.heard("Press 1 to acknowledge"), call.says)
        self.assertEqual(call.transcript[0][2], "en-US")
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="acknowledged by Ana")


class TestSms(PagerTest):

    def test_ack_and_resolve_by_sms(self):
        self.team()
        self.sim.phone(ANA).does_not_answer(delay=1.5)
        first = self.trigger("primeiro")["id"]
        self.expect_pages(first)
        second = self.trigger("segundo")["id"]
        self.expect_pages(second)
        # "ack N" takes one alert; a bare "ok" takes every open alert paged to that person
        self.assertEqual(self.sim.incoming_sms(CARLA, "ack %d" % first), ["Alerta %d assumido por você." % first])
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Carla" % first)
        self.assertEqual(self.sim.incoming_sms(BRUNO, "OK"), ["Alerta %d assumido por você." % second])
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Bruno" % second)
        self.assertEqual(self.sim.incoming_sms(CARLA, "ack %d" % second),
                         ["Alerta %d já foi assumido por Bruno." % second])
        self.assertEqual(self.sim.incoming_sms(BRUNO, "ok"), ["Nenhum alerta aberto para você."])
        self.assertEqual(self.sim.incoming_sms(CARLA, "resolver %d" % first), ["Alerta %d resolvido." % first])
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d resolvido" % first)
        self.assertEqual(self.sim.incoming_sms(ANA, "ack %d" % first), ["Alerta %d já foi resolvido." % first])
        self.assertEqual(self.sim.incoming_sms("+5521999990000", "ack %d" % first),
                         ["Este número não está cadastrado no plantão."])
        a = self.alert(second)
        self.assertEqual((a["status"], a["acked_by_name"], a["acked_via"]), ("acknowledged", "Bruno", "sms"))
        # the first calls of both alerts were placed before the acks; nothing after
        self.sim.expect_call(ANA)
        self.sim.expect_call(ANA)
        self.advance(STEP_DEADLINE * 2)
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.calls_placed(), 2)

    def test_stop_means_no_texts_but_still_called(self):
        self.team()
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        people = self.api_ok("GET", "/api/people")
        people = people["people"] if isinstance(people, dict) else people
        self.assertTrue([p for p in people if p["phone"] == ANA][0]["sms_opt_out"])
        self.sim.phone(ANA).answers(digits="1")
        aid = self.trigger("Ana não recebe SMS")["id"]
        self.expect_pages(aid, phones=(BRUNO, CARLA))
        self.sim.expect_call(ANA)
        self.sim.expect_sms(BRUNO, containing="assumido por Ana")
        self.sim.expect_sms(CARLA, containing="assumido por Ana")
        self.sim.assert_quiet(0.5)
        self.assertEqual(self.sim.sms_to(ANA), [])
        # START again: texted on the next alert
        self.sim.incoming_sms(ANA, "START")
        aid = self.trigger("Ana recebe de novo")["id"]
        self.expect_pages(aid)
        self.sim.expect_call(ANA)
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d assumido por Ana" % aid)
