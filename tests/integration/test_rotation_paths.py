"""
tests/integration/test_rotation_paths.py — every path that asks "who is on call" keeps working
when the rotation is short and an override is long: /api/oncall, the support line, the pager's
on-call look-ups, /api/schedule, /api/schedule.ics, the SMS commands and the hand-off notices
(issue 11, item 1). Defaults everywhere (limits, pacing); the clock is moved, never slept on.
"""

import threading
import time
import urllib.parse

from harness import IntegrationTest, wait_until

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
CUSTOMER = "+5521988887777"
FOREVER = "2099-12-31T23:59-03:00"


class RotationTest(IntegrationTest):
    """Helpers of this file; no tests of its own."""

    def people(self, *specs):
        return [self.api_ok("POST", "/api/people", json={"name": n, "phone": p}, expect=201)["id"]
                for n, p in specs]

    def iso_local(self, offset_s, tz_hours=-3):
        """plantao's now + offset as ISO with Sao Paulo's fixed offset (no DST there today)."""
        t = self.plantao.now() + offset_s + tz_hours * 3600
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "%+03d:00" % tz_hours

    def outbox(self, where="1=1"):
        con = self.plantao.db.connect(named=True)
        try:
            return [dict(r) for r in con.execute("SELECT * FROM outbox WHERE " + where + " ORDER BY id")]
        finally:
            con.close()

    def assert_no_too_big(self):
        log = self.plantao.log_text()
        self.assertNotIn("too_big", log)
        self.assertNotIn(" 413 ", log)



class TestLongOverride(RotationTest):
    """Issue 11, item 1: an override to 2099 over one- and twelve-hour shifts."""

    def walk_every_path(self, shift_hours):
        ana, bruno, carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bruno], "shift_hours": shift_hours,
                                                  "handoff": self.iso_local(-1800)[:16]})
        self.advance(60)  # the rotation is not brand new: its cut is not a hand-off
        ov = self.api_ok("POST", "/api/overrides", json={"person_id": carla, "start": self.iso_local(0),
                                                         "end": FOREVER, "reason": "licença"}, expect=201)

        # /api/oncall, now and at a point in the middle of the override
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], carla)
        self.assertTrue(on["by_override"])
        self.assertEqual(on["override_id"], ov["id"])
        self.assertTrue(on["end"].startswith("2099-12-31T23:59"), on)
        self.assertIn(on["next"]["person"]["id"], (ana, bruno))
        mid = self.api_ok("GET", "/api/oncall?at=" + urllib.parse.quote("2060-06-15T03:00-03:00"))
        self.assertEqual(mid["person"]["id"], carla)
        after = self.api_ok("GET", "/api/oncall?at=" + urllib.parse.quote("2100-01-01T00:30-03:00"))
        self.assertIn(after["person"]["id"], (ana, bruno))
        self.assertFalse(after["by_override"])

        # the hand-off notices of the override's start: Carla arrives, Ana leaves
        self.sim.expect_sms(CARLA, "você está de plantão desde", timeout=15)
        self.sim.expect_sms(ANA, "seu plantão terminou", timeout=15)

        # schedule: the override piece with its true end, then the rotation after it
        sched = self.api_ok("GET", "/api/schedule")
        self.assertEqual(sched["shifts"][0]["person"]["id"], carla)
        self.assertTrue(sched["shifts"][0]["end"].startswith("2099-12-31T23:59"), sched["shifts"][0])
        tail = self.api_ok("GET", "/api/schedule?from=2099-12-31T00:00-03:00&to=2100-01-01T12:00-03:00")
        self.assertEqual(tail["shifts"][0]["person"]["id"], carla)
        self.assertIn(tail["shifts"][1]["person"]["id"], (ana, bruno))
        self.assertFalse(tail["shifts"][1]["by_override"])
        # a range that is too long is a clear 422, never a 413
        status, body, _ = self.api("GET", "/api/schedule?from=2026-01-01&to=2099-01-01")
        self.assertEqual(status, 422, body)
        self.assertIn("days", body["error"]["message"])
        # a full year of one-hour shifts is still answered
        year = self.api_ok("GET", "/api/schedule?from=2100-01-01&to=2100-12-31")
        self.assertIn(len(year["shifts"]), (364 * 24 // shift_hours, 364 * 24 // shift_hours + 1))

        # the calendar feed
        status, ics, headers = self.api("GET", "/api/schedule.ics")
        self.assertEqual(status, 200, ics)
        self.assertIn("SUMMARY:Plantão: Carla (substituição)", ics)
        self.assertIn("DTEND:21000101T025900Z", ics)

        # SMS "quem"
        [r] = self.sim.incoming_sms(BRUNO, "quem")
        self.assertIn("De plantão: Carla até", r)
        self.assertIn("31/12 23:59", r)

        # the support line dials Carla
        self.sim.phone(CARLA).answers(digits="1")
        call = self.sim.incoming_call(CUSTOMER)
        self.assertEqual(call.bridged_to, CARLA)
        self.assertEqual([d["number"] for d in call.dials], [CARLA])
        self.sim.expect_call(CARLA)

        # the pager: the alert reaches Carla (step "oncall") by text and by call; she presses 1
        self.advance(16 * 60)  # out of the default per-phone window of the texts above
        status, alert, _ = self.api("POST", "/api/alerts", json={"summary": "db1 fora do ar"})
        self.assertEqual(status, 202, alert)
        self.sim.expect_sms(CARLA, "db1 fora do ar", timeout=30)
        leg = self.sim.expect_call(CARLA, timeout=30)
        self.assertTrue(leg.heard("db1 fora do ar"), leg.says)
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % alert["id"])["status"] == "acknowledged",
                   timeout=15, what="alert acknowledged by Carla")
        self.advance(16 * 60)
        self.sim.expect_sms(CARLA, "Alerta %d assumido por Carla" % alert["id"], timeout=30)
        # nobody else was called; whether the escalation's "next" (Ana or Bruno, never Carla) is
        # texted up front is the policy's business: such texts are consumed, not required
        self.assertEqual(self.sim.calls_to(ANA) + self.sim.calls_to(BRUNO), [])
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                if m.to in (ANA, BRUNO) and "Alerta %d" % alert["id"] in m.body:
                    m.consumed = True

        # SMS "plantao assumir" and "sim": Bruno takes the shift until the override's end
        self.advance(16 * 60)
        [r] = self.sim.incoming_sms(BRUNO, "plantao assumir")
        self.assertIn("no lugar de Carla", r)
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("OK: você está de plantão até", r)
        self.assertIn("no lugar de Carla", r)
        on = self.api_ok("GET", "/api/oncall")
        self.assertEqual(on["person"]["id"], bruno)
        self.assertTrue(on["end"].startswith("2099-12-31T23:59"), on)
        self.sim.expect_sms(BRUNO, "você está de plantão desde", timeout=30)
        self.sim.expect_sms(CARLA, "seu plantão terminou", timeout=30)
        self.assert_no_too_big()

    def test_override_to_2099_with_one_hour_shifts(self):
        self.walk_every_path(1)

    def test_override_to_2099_with_twelve_hour_shifts(self):
        self.walk_every_path(12)


class TestHandoffWhenOverridesChange(RotationTest):
    """Issue 11, item 5: notices are keyed by (boundary, person)."""

    def test_replace_then_delete_tells_who_is_on_and_who_left(self):
        ana, bruno, carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 24,
                                                  "handoff": self.iso_local(-3600)[:16]})
        self.advance(60)
        start, end = self.iso_local(0), self.iso_local(8 * 3600)
        self.api_ok("POST", "/api/overrides", json={"person_id": bruno, "start": start, "end": end}, expect=201)
        self.sim.expect_sms(BRUNO, "você está de plantão desde", timeout=30)
        self.sim.expect_sms(ANA, "seu plantão terminou", timeout=30)
        # Carla replaces Bruno from the same start
        self.advance(120)
        ov = self.api_ok("POST", "/api/overrides?replace=true",
                         json={"person_id": carla, "start": start, "end": end}, expect=201)
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], carla)
        self.sim.expect_sms(CARLA, "você está de plantão desde", timeout=30)
        self.sim.expect_sms(BRUNO, "Agora com Carla", timeout=30)
        # the override is deleted: Ana has the shift back and is told so; Carla is told she is off
        self.advance(120)
        self.api_ok("DELETE", "/api/overrides/%d" % ov["id"])
        self.sim.expect_sms(ANA, "você está de plantão desde", timeout=30)
        self.sim.expect_sms(CARLA, "Agora com Ana", timeout=30)
        # once each, across a restart
        self.sim.wait_idle()
        self.plantao.restart()
        self.advance(60, settle=2)
        self.sim.assert_quiet(1.0)
        rows = self.outbox("idem_key LIKE 'handoff:%'")
        self.assertEqual(len(rows), 6, rows)


class TestSupportChainFixedWhenTheCallArrives(RotationTest):
    """Issue 11, item 5: the chain of a support call does not move while the call rings."""

    def setUp(self):
        super().setUp()
        self.ana, self.bruno, self.carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno, self.carla], "shift_hours": 24,
                                                  "handoff": self.iso_local(-3600)[:16]})
        self.advance(60)
        self.params = {"CallSid": "CA" + "7" * 32, "From": CUSTOMER, "To": "+15005550006",
                       "CallStatus": "ringing"}

    def tearDown(self):
        # the override of the first test starts now: its hand-off texts are not what is tested here
        with self.sim._lock:
            for m in self.sim.messages:
                if m.body.startswith("Plantão: "):
                    m.consumed = True
        super().tearDown()

    def no_answer(self, leg):
        wh = self.plantao.webhook("/twilio/voice/dial-status/1/%d" % leg,
                                  dict(self.params, DialCallStatus="no-answer", CallStatus="in-progress"))
        self.assertEqual(wh.status, 200, wh.body)
        return wh.body

    def dialled(self):
        return [leg["phone"] for leg in self.api_ok("GET", "/api/calls")["calls"][0]["legs"]]

    def test_override_deleted_mid_call(self):
        ov = self.api_ok("POST", "/api/overrides", json={"person_id": self.bruno, "start": self.iso_local(-30),
                                                         "end": self.iso_local(7200)}, expect=201)
        first = self.plantao.webhook("/twilio/voice", self.params)
        self.assertIn(BRUNO, first.body)
        self.advance(5)
        self.api_ok("DELETE", "/api/overrides/%d" % ov["id"])  # Ana is on call again
        self.assertIn(CARLA, self.no_answer(0))  # chain [Bruno, Carla, Ana]: not Bruno again
        self.assertIn(ANA, self.no_answer(1))
        self.assertIn("<Record", self.no_answer(2))
        self.assertEqual(self.dialled(), [BRUNO, CARLA, ANA])

    def test_person_archived_mid_call(self):
        first = self.plantao.webhook("/twilio/voice", self.params)
        self.assertIn(ANA, first.body)
        self.assertIn(BRUNO, self.no_answer(0))
        self.advance(5)
        # while Bruno rings, Ana leaves the team
        self.api_ok("PUT", "/api/rotation", json={"members": [self.bruno, self.carla]})
        self.assertIs(self.api_ok("DELETE", "/api/people/%d" % self.ana)["archived"], True)
        self.assertIn(CARLA, self.no_answer(1))  # Carla is not skipped
        self.assertIn("<Record", self.no_answer(2))
        self.assertEqual(self.dialled(), [ANA, BRUNO, CARLA])


class TestConcurrentEdits(RotationTest):
    """Issue 11, item 5: read-then-write happens inside one transaction."""

    def tearDown(self):
        with self.sim._lock:  # the hand-off texts of the overrides taken here are not what is tested
            for m in self.sim.messages:
                if m.body.startswith("Plantão: "):
                    m.consumed = True
        super().tearDown()

    def at_once(self, *calls):
        go = threading.Barrier(len(calls))
        out = [None] * len(calls)

        def run(i, fn):
            go.wait()
            out[i] = fn()

        threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return out

    def test_two_partial_rotation_edits_both_land(self):
        ana, bruno = self.people(("Ana", ANA), ("Bruno", BRUNO))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bruno], "shift_hours": 24,
                                                  "handoff": self.iso_local(-3600)[:16]})
        zones = ("America/New_York", "Europe/Lisbon", "Asia/Tokyo", "America/Sao_Paulo")
        for r in range(60):  # the race is narrow: many rounds, paced under the default API rate limit
            time.sleep(0.07)
            hours, zone = 2 + r, zones[r % len(zones)]
            a, b = self.at_once(
                lambda: self.api("PUT", "/api/rotation", json={"members": [ana, bruno], "shift_hours": hours}),
                lambda: self.api("PUT", "/api/rotation", json={"members": [ana, bruno], "timezone": zone}))
            self.assertEqual((a[0], b[0]), (200, 200), (a, b))
            self.assertEqual(a[1]["shift_hours"], hours)  # each answer is the version it wrote
            self.assertEqual(b[1]["timezone"], zone)
            rot = self.api_ok("GET", "/api/rotation")
            self.assertEqual((rot["shift_hours"], rot["timezone"]), (hours, zone), "round %d" % r)

    def test_two_people_take_at_once(self):
        ana, bruno, carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 24,
                                                  "handoff": self.iso_local(-3600)[:16]})
        for r in range(80):
            time.sleep(0.07)
            for o in self.api_ok("GET", "/api/overrides")["overrides"]:
                self.api_ok("DELETE", "/api/overrides/%d" % o["id"])
            self.advance(5, settle=0)
            self.sim.incoming_sms(BRUNO, "plantao assumir")
            self.sim.incoming_sms(CARLA, "plantao assumir")
            rb, rc = self.at_once(lambda: self.sim.incoming_sms(BRUNO, "sim"),
                                  lambda: self.sim.incoming_sms(CARLA, "sim"))
            replies = sorted(rb + rc)
            self.assertEqual(len(replies), 2, replies)
            # one of them took the shift from Ana, the other from whoever took it first
            self.assertEqual(sum("no lugar de Ana" in x for x in replies), 1, "round %d: %r" % (r, replies))
            self.assertEqual(sum("no lugar de Bruno" in x or "no lugar de Carla" in x for x in replies), 1,
                             replies)
