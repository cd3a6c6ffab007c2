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


HANDOFF_TEXTS = ("Plantão: você está de plantão desde", "Plantão: seu plantão terminou")


class SupportTest(IntegrationTest):
    def tearDown(self):
        # An override that starts now is a hand-off: its notices are tested in TestHandoff and
        # TestSmsCommands; elsewhere they are expected traffic, not a failure.
        with self.sim._lock:
            for m in self.sim.messages:
                if not m.consumed and m.body.startswith(HANDOFF_TEXTS):
                    m.consumed = True
        super().tearDown()

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
        body = self.error("POST", "/api/people", 422, json={"name": "X", "phone": "11 9999-00"})
        self.assertEqual(body["error"]["code"], "phone_invalid")
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
        self.error("PUT", "/api/rotation", 422, "handoff", json={"members": [a], "handoff": "next monday"})
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
        self.error("POST", "/api/overrides", 422, "start", json={"person_id": b, "start": "soon", "end": end})
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
        con = self.plantao.db.connect(named=True)
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
        unknown = self.plantao.webhook("/twilio/voice/whisper/99/0", params)  # TwiML, never a 404 (issue 12.7)
        self.assertEqual((unknown.status, "<Hangup" in unknown.body), (200, True), unknown.body)

    def test_voicemail_and_transcription_callbacks(self):
        params = {"CallSid": "CA" + "4" * 32, "From": CUSTOMER, "To": "+15005550006", "CallStatus": "ringing"}
        self.assertEqual(self.plantao.webhook("/twilio/voice", params).status, 200)
        rec = dict(params, CallStatus="completed", RecordingUrl="https://api.twilio.com/rec/RE1",
                   RecordingSid="RE" + "1" * 32, RecordingDuration="12", Digits="hangup")
        first = self.plantao.webhook("/twilio/voice/voicemail", rec)
        again = self.plantao.webhook("/twilio/voice/voicemail", rec)  # Twilio retrying
        self.assertEqual(first.status, 200)
        self.assertIn("<Hangup/>", first.body)
        self.assertEqual(first.body, again.body)
        rows = self.outbox("idem_key = 'voicemail:%s'" % params["CallSid"])
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["to_number"], ANA)
        self.assertIn("https://api.twilio.com/rec/RE1", rows[0]["body"])
        tr = dict(params, TranscriptionText="meu servidor caiu", TranscriptionStatus="completed")
        self.assertEqual(self.plantao.webhook("/twilio/voice/transcription", tr).status, 200)
        vm = self.api_ok("GET", "/api/calls")["calls"][0]["voicemail"]
        self.assertEqual(vm["transcription"], "meu servidor caiu")
        self.assertEqual(vm["duration_s"], 12)
        self.expect_text(ANA, CUSTOMER, "voicemail:")


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


class TestSmsCommands(CallTest):
    def setUp(self):
        super().setUp()
        self.ana, self.bruno = self.people(("Ana", ANA), ("Bruno", BRUNO))
        self.rotation([self.ana, self.bruno], handoff=self.iso_local(-3600)[:16])
        self.advance(60)  # the rotation is not brand new

    def test_who_take_help_and_unknown(self):
        [r] = self.sim.incoming_sms(ANA, "Quem?")
        self.assertIn("De plantão: Ana até", r)
        self.assertIn("Depois: Bruno", r)
        audit_before = len(self.api_ok("GET", "/api/audit")["audit"])
        [r] = self.sim.incoming_sms("+5511900000099", "assumir")
        self.assertIn("não está cadastrado", r)
        self.assertEqual(self.api_ok("GET", "/api/overrides")["overrides"], [])
        self.assertEqual(len(self.api_ok("GET", "/api/audit")["audit"]), audit_before)
        [r] = self.sim.incoming_sms(BRUNO, "plantao assumir")  # taking the shift asks for a SIM
        self.assertIn("responda SIM", r)
        self.assertEqual(self.api_ok("GET", "/api/overrides")["overrides"], [])
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("OK: você está de plantão até", r)
        self.assertIn("no lugar de Ana", r)
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], self.bruno)
        self.assertTrue(on["by_override"])
        # a second "sim" (or Twilio retrying the same MessageSid) creates nothing more
        params = {"MessageSid": "SM" + "3" * 32, "From": BRUNO, "To": "+15005550006", "Body": "sim"}
        again = self.plantao.webhook("/twilio/sms", params)
        self.assertIn("já está de plantão", again.body)
        self.assertEqual(len(self.api_ok("GET", "/api/overrides")["overrides"]), 1)
        audit = self.api_ok("GET", "/api/audit")["audit"]
        self.assertEqual(audit[0]["action"], "overrides.create")
        self.assertEqual((audit[0]["actor_info"]["kind"], audit[0]["actor_info"]["person_id"]), ("phone", self.bruno))
        self.assertNotIn(BRUNO, audit[0]["actor"])  # masked as in the logs
        [r] = self.sim.incoming_sms(ANA, "ajuda")
        self.assertIn("QUEM", r)
        self.assertIn("ASSUMIR", r)
        [r] = self.sim.incoming_sms(ANA, "bom dia")
        self.assertIn("AJUDA", r)
        # the override began a new piece: Bruno arrives, Ana leaves
        self.expect_text(BRUNO, "desde", "handoff:")
        self.expect_text(ANA, "Agora com Bruno", "handoff:")

    def test_stop_and_start(self):
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.ana)["sms_opt_out"], True)
        self.assertEqual(self.sim.incoming_sms(ANA, " start "), [])
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.ana)["sms_opt_out"], False)
        self.assertEqual(self.sim.incoming_sms("+5511900000099", "STOP"), [])
        actions = [a["action"] for a in self.api_ok("GET", "/api/audit")["audit"]]
        self.assertEqual(actions[:2], ["people.sms_opt_out", "people.sms_opt_out"])
        # "stop" inside a sentence is not an opt-out
        self.sim.incoming_sms(ANA, "stop calling me")
        self.assertIs(self.api_ok("GET", "/api/people/%d" % self.ana)["sms_opt_out"], False)


class TestEnglish(CallTest):
    plantao_env = {"PLANTAO_LANG": "en"}

    def test_voicemail_transcribed(self):
        call = self.sim.incoming_call(CUSTOMER, transcription="my server is down")
        self.assertTrue(call.heard("Nobody is on call right now"), call.says)
        self.assertTrue(call.heard("leave a message"), call.says)
        vm = self.api_ok("GET", "/api/calls")["calls"][0]["voicemail"]
        self.assertEqual(vm["transcription"], "my server is down")

    def test_who_in_english(self):
        a = self.people(("Ana", ANA))[0]
        [r] = self.sim.incoming_sms(ANA, "who")
        self.assertIn("Nobody is on call", r)
        self.rotation([a])
        [r] = self.sim.incoming_sms(ANA, "WHO")
        self.assertIn("On call: Ana until", r)


class TestHandoff(CallTest):
    def handoff_rows(self):
        return self.outbox("idem_key LIKE 'handoff:%'")

    def test_notice_once_across_restart_and_downtime(self):
        ana, bruno = self.people(("Ana", ANA), ("Bruno", BRUNO))
        self.rotation([ana, bruno], shift_hours=24, handoff=self.iso_local(-3600)[:16])
        time.sleep(1.5)
        self.assertEqual(self.handoff_rows(), [])  # creating the rotation is not a hand-off
        self.advance(23 * 3600 + 60, settle=1.5)  # Bruno's shift began a minute ago
        self.expect_text(BRUNO, "você está de plantão desde", "handoff:")
        self.expect_text(ANA, "seu plantão terminou", "handoff:")
        self.assertEqual(len(self.handoff_rows()), 2)
        self.plantao.restart()
        self.advance(60, settle=1.5)
        self.plantao.kill9()
        self.plantao.start()
        time.sleep(1.5)
        self.assertEqual(len(self.handoff_rows()), 2)  # never twice
        # Ana opts out, then plantao is down across two boundaries: one notice, for the latest
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        self.plantao.stop()
        self.plantao.set_clock_offset(self.plantao.clock_offset + 48 * 3600, settle=0)
        self.plantao.start()
        time.sleep(1.5)
        rows = self.handoff_rows()
        self.assertEqual(len(rows), 3, rows)
        self.assertEqual(rows[2]["to_number"], BRUNO)  # Ana (leaving) opted out
        self.expect_text(BRUNO, "você está de plantão desde", rows[2]["idem_key"])
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], bruno)
        self.assertIn(str(self._start_of(on)), rows[2]["idem_key"])

    def _start_of(self, on):
        import datetime
        return int(datetime.datetime.fromisoformat(on["start"]).timestamp())
