"""
tests/integration/test_support.py — the support line end to end: people, rotation, overrides,
on-call and schedule API (with their validation errors and audit), the iCalendar feed, the
incoming-call flow through the Twilio simulator (whisper, backup, voicemail), the hand-off
notice across a restart, and the SMS commands.
"""

import re
import time
import urllib.parse

from harness import IntegrationTest, wait_until

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
CUSTOMER = "+5521988887777"


class SupportTest(IntegrationTest):
    def people(self, *specs):
        ids = []
        for name, phone in specs:
            body = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)
            ids.append(body["id"])
        return ids

    def rotation(self, members, **kw):
        body = {"members": members}
        body.update(kw)
        return self.api_ok("PUT", "/api/rotation", json=body)

    def error(self, method, path, status, containing=None, **kw):
        got, body, _ = self.api(method, path, **kw)
        self.assertEqual(got, status, "%s %s -> %s %r" % (method, path, got, body))
        self.assertIn("error", body)
        if containing:
            self.assertIn(containing, body["error"]["message"])
        return body

    def iso_local(self, offset_s, tz_hours=-3):
        """plantao's now + offset as ISO with a fixed offset (Sao Paulo has no DST today)."""
        t = self.plantao.now() + offset_s + tz_hours * 3600
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "%+03d:00" % tz_hours


class TestPeopleApi(SupportTest):
    def test_crud_and_validation(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA, "email": "ana@example.com",
                                                         "whatsapp": True}, expect=201)
        self.assertEqual(ana["phone"], ANA)
        self.assertIs(ana["whatsapp"], True)
        self.assertIs(ana["sms_opt_out"], False)
        body = self.error("POST", "/api/people", 422, json={"name": "X", "phone": "11 99999-0000"})
        self.assertEqual(body["error"]["code"], "unprocessable")
        self.assertTrue(body["error"]["message"].startswith("phone:"), body)
        self.error("POST", "/api/people", 422, "name", json={"phone": BRUNO})
        self.error("POST", "/api/people", 422, "email", json={"name": "B", "phone": BRUNO, "email": "nope"})
        self.error("POST", "/api/people", 409, ANA, json={"name": "Other", "phone": ANA})
        self.error("POST", "/api/people", 400, json=None, data="{", headers={"Content-Type": "application/json"})
        got = self.api_ok("PATCH", "/api/people/%d" % ana["id"], json={"name": "Ana Souza", "sms_opt_out": True})
        self.assertEqual(got["name"], "Ana Souza")
        self.assertIs(got["sms_opt_out"], False)  # read-only
        self.error("PATCH", "/api/people/%d" % ana["id"], 422, "phone:", json={"phone": "+0123"})
        self.error("GET", "/api/people/999", 404)
        self.error("PATCH", "/api/people/999", 404, json={"name": "x"})
        self.error("DELETE", "/api/people/999", 404)
        self.error("GET", "/api/people/abc", 404)
        listed = self.api_ok("GET", "/api/people")["people"]
        self.assertEqual([p["name"] for p in listed], ["Ana Souza"])
        # a person of the current rotation cannot be deleted; once out of it they are archived
        self.rotation([ana["id"]])
        self.error("DELETE", "/api/people/%d" % ana["id"], 409, "rotation")
        bruno = self.people(("Bruno", BRUNO))[0]
        self.rotation([bruno])
        gone = self.api_ok("DELETE", "/api/people/%d" % ana["id"])
        self.assertIs(gone["archived"], True)  # still named by the old rotation version
        self.error("GET", "/api/people/%d" % ana["id"], 404)
        carla = self.people(("Carla", CARLA))[0]
        self.assertIs(self.api_ok("DELETE", "/api/people/%d" % carla)["archived"], False)
        actions = [a["action"] for a in self.api_ok("GET", "/api/audit")["audit"]]
        self.assertEqual(actions[0], "people.delete")
        self.assertIn("people.create", actions)
        self.assertIn("rotation.update", actions)
        row = self.api_ok("GET", "/api/audit?limit=1")["audit"]
        self.assertEqual(len(row), 1)
        self.assertEqual(row[0]["actor"], "token:bootstrap")
        self.assertEqual(row[0]["detail"]["name"], "Carla")

    def test_viewer_cannot_edit(self):
        status, body, _ = self.api("POST", "/api/people", json={"name": "A", "phone": ANA}, token="wrong")
        self.assertEqual(status, 401)


class TestRotationApi(SupportTest):
    def test_rotation_validation_and_versions(self):
        a, b, c = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.error("PUT", "/api/rotation", 422, "members", json={"members": [a, 999]})
        self.error("PUT", "/api/rotation", 422, "shift_hours", json={"members": [a], "shift_hours": 0})
        self.error("PUT", "/api/rotation", 422, "timezone", json={"members": [a], "timezone": "Mars/Olympus"})
        self.error("PUT", "/api/rotation", 400, "handoff", json={"members": [a], "handoff": "next monday"})
        self.error("PUT", "/api/rotation", 422, "members", json={"shift_hours": 24})
        # nothing was half-written
        self.assertIsNone(self.api_ok("GET", "/api/rotation")["version_id"])
        start = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(self.plantao.now() - 3 * 3600 - 3600))
        rot = self.rotation([a, b, c], shift_hours=24, handoff=start, timezone="America/Sao_Paulo")
        self.assertEqual(rot["members"], [a, b, c])
        self.assertEqual(rot["shift_hours"], 24)
        self.assertEqual([p["name"] for p in rot["people"]], ["Ana", "Bruno", "Carla"])
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], a)
        self.assertEqual(on["next"]["person"]["id"], b)
        self.assertFalse(on["by_override"])
        self.assertRegex(on["end"], r"-03:00$")
        # tomorrow Bruno; a new version (reversed order) effective now does not change the past
        past = self.iso_local(1800)  # after the first version took effect
        self.advance(86400)
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], b)
        self.rotation([c, b, a])  # keeps handoff and shift_hours
        self.assertEqual(self.api_ok("GET", "/api/oncall?at=" + urllib.parse.quote(past))["person"]["id"], a)
        # an offset's '+' or '-' sent unescaped in the query is understood too
        self.assertEqual(self.api_ok("GET", "/api/oncall?at=" + past)["person"]["id"], a)
        now_on = self.api_ok("GET", "/api/oncall")["person"]["id"]
        self.assertEqual(now_on, b)  # shift 1 of [c, b, a] is b
        sched = self.api_ok("GET", "/api/schedule")
        self.assertGreaterEqual(len(sched["shifts"]), 28)
        self.assertEqual(sched["shifts"][1]["person"]["id"], a)
        self.error("GET", "/api/schedule?from=yesterday", 400, "from")
        self.error("GET", "/api/oncall?at=2026-13-01", 400, "at")
        self.error("GET", "/api/schedule?from=2026-01-01&to=2028-01-01", 422)
        self.error("GET", "/api/schedule?from=2026-02-01&to=2026-01-01", 422)

    def test_overrides_precedence_conflict_replace(self):
        a, b, c = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.rotation([a, b], shift_hours=168, handoff=self.iso_local(-3600)[:16])
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], a)
        start, end = self.iso_local(-3600), self.iso_local(3 * 3600)
        ov = self.api_ok("POST", "/api/overrides", json={"person_id": c, "start": start, "end": end,
                                                          "reason": "troca"}, expect=201)
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], c)
        self.assertTrue(on["by_override"])
        self.assertEqual(on["override_id"], ov["id"])
        self.assertEqual(on["next"]["person"]["id"], a)
        # an overlapping override: 409 naming it, unless replace=true
        body = {"person_id": b, "start": self.iso_local(3600), "end": self.iso_local(2 * 3600)}
        self.error("POST", "/api/overrides", 409, str(ov["id"]), json=body)
        mid = self.api_ok("POST", "/api/overrides?replace=true", json=body, expect=201)
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], c)
        later = urllib.parse.quote(self.iso_local(5400))
        self.assertEqual(self.api_ok("GET", "/api/oncall?at=" + later)["person"]["id"], b)
        after = urllib.parse.quote(self.iso_local(9000))
        self.assertEqual(self.api_ok("GET", "/api/oncall?at=" + after)["person"]["id"], c)  # split tail
        listed = self.api_ok("GET", "/api/overrides")["overrides"]
        self.assertEqual([o["person_id"] for o in listed], [c, b, c])
        self.error("POST", "/api/overrides", 400, "start", json={"person_id": b, "start": "soon", "end": end})
        self.error("POST", "/api/overrides", 422, "end", json={"person_id": b, "start": end, "end": start})
        self.error("POST", "/api/overrides", 422, "person_id",
                   json={"person_id": 999, "start": self.iso_local(86400), "end": self.iso_local(90000)})
        self.api_ok("DELETE", "/api/overrides/%d" % mid["id"])
        self.error("DELETE", "/api/overrides/%d" % mid["id"], 404)
        actions = [x["action"] for x in self.api_ok("GET", "/api/audit")["audit"]]
        self.assertIn("overrides.split", actions)
        self.assertEqual(actions[0], "overrides.delete")

    def test_ics_feed(self):
        a, b = self.people(("Ana", ANA), ("Bruno", BRUNO))
        self.rotation([a, b])
        status, body, headers = self.api("GET", "/api/schedule.ics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/calendar"))
        self.assertIn("BEGIN:VCALENDAR", body)
        self.assertIn("SUMMARY:Plantão: Ana", body)
        self.assertIn("\r\n", body)
        status, _, _ = self.api("GET", "/api/schedule.ics", token=None)
        self.assertEqual(status, 401)
        # the admin token is refused in a URL
        status, _, _ = self.api("GET", "/api/schedule.ics?token=" + self.plantao.api_token, token=None)
        self.assertIn(status, (401, 403))


class CallTest(SupportTest):
    def outbox(self, where="1=1"):
        import sqlite3
        con = sqlite3.connect(self.plantao.db_path, timeout=5)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("SELECT * FROM outbox WHERE " + where + " ORDER BY id")]
        finally:
            con.close()

    def expect_text(self, to, containing, idem_prefix):
        """The SMS reaches the simulator once the outbound sender runs; until then (and in any
        case) there is exactly one outbox row for it."""
        rows = wait_until(lambda: [r for r in self.outbox("to_number = '%s'" % to)
                                   if r["idem_key"].startswith(idem_prefix)], what="outbox row to " + to)
        self.assertEqual(len(rows), 1, rows)
        self.assertIn(containing, rows[0]["body"])
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if self.sim.sms_to(to):
                return self.sim.expect_sms(to, containing)
            if self.outbox("id = %d" % rows[0]["id"])[0]["status"] != "pending":
                return self.sim.expect_sms(to, containing)
            time.sleep(0.1)
        return rows[0]  # no sender running: the row waits in the outbox


class TestCallFlow(CallTest):
    def setUp(self):
        super().setUp()
        self.ana, self.bruno, self.carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.rotation([self.ana, self.bruno, self.carla], handoff=self.iso_local(-3600)[:16])

    def test_voicemail_of_on_call_does_not_swallow_the_call(self):
        self.sim.phone(ANA).voicemail_picks_up()
        self.sim.phone(BRUNO).does_not_answer()
        self.sim.phone(CARLA).is_busy()
        call = self.sim.incoming_call(CUSTOMER, record_seconds=9)
        self.assertTrue(call.heard("Aguarde enquanto transferimos"), call.says)
        self.assertEqual([(d["number"], d["status"]) for d in call.dials],
                         [(ANA, "completed"), (BRUNO, "no-answer"), (CARLA, "busy")])
        self.assertIsNone(call.bridged_to)
        self.assertTrue(call.heard("Deixe sua mensagem"), call.says)
        self.assertEqual(len(call.recordings), 1)
        leg = self.sim.expect_call(ANA)
        self.assertTrue(leg.heard("Chamada de suporte de 5 5 2 1 9 8 8 8 8 7 7 7 7"), leg.says)
        self.assertEqual(leg.from_, CUSTOMER)  # callerId is the customer
        self.sim.expect_call(BRUNO)
        self.sim.expect_call(CARLA)
        calls = self.api_ok("GET", "/api/calls")["calls"]
        self.assertEqual(len(calls), 1)
        c = calls[0]
        self.assertEqual(c["status"], "voicemail")
        self.assertEqual(c["caller"], CUSTOMER)
        self.assertEqual([(l["phone"], l["dial_status"], l["accepted"]) for l in c["legs"]],
                         [(ANA, "completed", False), (BRUNO, "no-answer", False), (CARLA, "busy", False)])
        self.assertEqual(c["voicemail"]["recording_url"], call.recordings[0]["url"])
        self.assertEqual(c["voicemail"]["duration_s"], 9)
        self.assertEqual(c["voicemail"]["person_id"], self.ana)
        self.expect_text(ANA, CUSTOMER, "voicemail:")
        self.assertEqual(self.outbox("to_number = '%s'" % ANA)[0]["class"], "support")

    def test_on_call_presses_1_and_is_bridged(self):
        self.sim.phone(ANA).answers(digits="1")
        call = self.sim.incoming_call(CUSTOMER)
        self.assertEqual(call.bridged_to, ANA)
        self.assertEqual([(d["number"], d["status"]) for d in call.dials], [(ANA, "completed")])
        self.assertFalse(call.recordings)
        self.sim.expect_call(ANA)
        c = self.api_ok("GET", "/api/calls")["calls"][0]
        self.assertEqual(c["status"], "answered")
        self.assertEqual(c["accepted_by"], self.ana)
        self.assertTrue(c["legs"][0]["accepted"])
        self.assertIsNone(c["voicemail"])
        self.assertEqual(self.outbox(), [])

    def test_backup_takes_it_when_on_call_ignores_the_whisper(self):
        self.sim.phone(ANA).answers(digits=None)  # answers but does not press 1
        self.sim.phone(BRUNO).answers(digits="1")
        call = self.sim.incoming_call(CUSTOMER)
        self.assertEqual(call.bridged_to, BRUNO)
        self.sim.expect_call(ANA)
        self.sim.expect_call(BRUNO)
        c = self.api_ok("GET", "/api/calls")["calls"][0]
        self.assertEqual(c["status"], "answered")
        self.assertEqual(c["accepted_by"], self.bruno)

    def test_override_person_is_dialled_first(self):
        self.api_ok("POST", "/api/overrides", json={"person_id": self.carla, "start": self.iso_local(-60),
                                                     "end": self.iso_local(3600)}, expect=201)
        self.sim.phone(CARLA).answers(digits="1")
        call = self.sim.incoming_call(CUSTOMER)
        self.assertEqual(call.bridged_to, CARLA)
        self.sim.expect_call(CARLA)

    def test_webhook_retries_are_idempotent_and_unsigned_refused(self):
        params = {"CallSid": "CA" + "1" * 32, "From": CUSTOMER, "To": "+15005550006", "CallStatus": "ringing"}
        first = self.plantao.webhook("/twilio/voice", params)
        again = self.plantao.webhook("/twilio/voice", params)
        self.assertEqual(first.status, 200)
        self.assertEqual(first.body, again.body)
        self.assertIn("/twilio/voice/whisper/1/0", first.body)
        self.assertIn('callerId="%s"' % CUSTOMER, first.body)
        self.assertIn('answerOnBridge="true"', first.body)
        self.assertIn('timeout="20"', first.body)
        self.assertIn(ANA, first.body)
        dial = dict(params, DialCallStatus="no-answer", CallStatus="in-progress")
        one = self.plantao.webhook("/twilio/voice/dial-status/1/0", dial)
        two = self.plantao.webhook("/twilio/voice/dial-status/1/0", dial)
        self.assertEqual(one.body, two.body)
        self.assertIn(BRUNO, one.body)
        c = self.api_ok("GET", "/api/calls")["calls"]
        self.assertEqual(len(c), 1)
        self.assertEqual(len(c[0]["legs"]), 2)
        forged = self.plantao.webhook("/twilio/voice", dict(params, CallSid="CA" + "2" * 32), signature="AAAA")
        self.assertEqual(forged.status, 403)
        self.assertEqual(len(self.api_ok("GET", "/api/calls")["calls"]), 1)
        self.assertEqual(self.plantao.webhook("/twilio/voice/whisper/99/0", params).status, 404)


class TestNobodyOnCall(CallTest):
    def test_polite_message_and_voicemail(self):
        call = self.sim.incoming_call(CUSTOMER, record_seconds=5)
        self.assertTrue(call.heard("não há ninguém de plantão"), call.says)
        self.assertEqual(call.dials, [])
        self.assertEqual(len(call.recordings), 1)
        c = self.api_ok("GET", "/api/calls")["calls"][0]
        self.assertEqual(c["status"], "voicemail")
        self.assertIsNone(c["voicemail"]["person_id"])
        self.assertEqual(self.outbox(), [])
