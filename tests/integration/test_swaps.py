"""
tests/integration/test_swaps.py — "trocar turno" (issue 13, item 6) at the default configuration:
Ana, signed in, offers part of her on-call time to Bruno; Bruno, signed in, confirms; the time
becomes Bruno's override (who is on call then is Bruno), every step audited with its person.
A colleague can decline; only the two people of a swap answer it; one cannot give away time that
is not theirs, or time that is over; a swap answered once cannot be answered again.
By SMS: the colleague (and the giver, when someone else asked for them) is texted what is asked
and how to answer ("ACEITO 12" / "RECUSO 12", words no page or the shift-take uses); the reply
confirms or declines; the override comes only when both confirmed; a reply from a phone that is
not part of the swap changes nothing; a reply after the swap expired changes nothing.
"""

import re
import time

from harness import IntegrationTest

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"


def local(t):
    return time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t - 3 * 3600))


class SwapBase(IntegrationTest):
    def setUp(self):
        super().setUp()
        ids = []
        for name, phone in (("Ana Souza", ANA), ("Bruno Lima", BRUNO), ("Carla Dias", CARLA)):
            pid = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"]
            self.api_ok("PUT", "/api/people/%d/role" % pid, json={"role": "editor"})
            ids.append(pid)
        self.ana, self.bruno, self.carla = ids
        now = self.plantao.now()
        # Ana's week started an hour ago; Bruno's starts in 167 hours
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno], "shift_hours": 168,
                                                  "handoff": local(now - 3600)})
        self.t0 = now - 3600

    def sign_in(self, phone):
        self.assertEqual(self.api("POST", "/api/auth/code", json={"phone": phone}, token=None)[0], 202)
        code = re.search(r"\b(\d{6})\b", self.sim.expect_sms(phone, "plantao").body).group(1)
        status, body, headers = self.api("POST", "/api/auth/verify", json={"phone": phone, "code": code}, token=None)
        self.assertEqual(status, 200, body)
        return re.match(r"plantao_session=([^;]*)", headers["set-cookie"]).group(1)

    def as_(self, secret, method, path, **kw):
        return self.api(method, path, headers={"Cookie": "plantao_session=" + secret, "X-Plantao-CSRF": "1"},
                        token=None, **kw)

    def oncall_at(self, t):
        body = self.api_ok("GET", "/api/oncall?at=" + local(t))
        return body["person"]["id"] if body.get("person") else None


class TestSwaps(SwapBase):
    def test_both_confirm_then_the_colleague_is_on_call(self):
        ana, bruno = self.sign_in(ANA), self.sign_in(BRUNO)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600  # tomorrow, 12 hours of Ana's week
        status, s, _ = self.as_(ana, "POST", "/api/swaps", json={"to_person_id": self.bruno, "start": local(start),
                                                                  "end": local(end)})
        self.assertEqual(status, 201, s)
        self.assertEqual((s["status"], s["from_person"], s["from_confirmed"], s["to_confirmed"]),
                         ("pending", self.ana, True, False))
        self.assertEqual(self.oncall_at(start + 3600), self.ana)  # nothing changes before Bruno says yes
        status, s, _ = self.as_(bruno, "POST", "/api/swaps/%d/confirm" % s["id"], json={})
        self.assertEqual(status, 200, s)
        self.assertEqual(s["status"], "accepted")
        self.assertIsNotNone(s["override_id"])
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)
        self.assertEqual(self.oncall_at(end + 3600), self.ana)  # the rest of the week stays Ana's
        ov = [o for o in self.api_ok("GET", "/api/overrides")["overrides"] if o["id"] == s["override_id"]]
        self.assertEqual(ov[0]["reason"], "troca de turno #%d" % s["id"])
        rows = self.api_ok("GET", "/api/audit?action=swaps.&entity_id=%d" % s["id"])["audit"]
        self.assertEqual([(r["action"], r["actor"]) for r in reversed(rows)],
                         [("swaps.create", "person:%d Ana Souza" % self.ana),
                          ("swaps.confirm", "person:%d Bruno Lima" % self.bruno),
                          ("swaps.accept", "person:%d Bruno Lima" % self.bruno)])
        # answered once: no second answer
        self.assertEqual(self.as_(ana, "POST", "/api/swaps/%d/decline" % s["id"], json={})[0], 409)
        listed = self.api_ok("GET", "/api/swaps?person=%d&status=accepted" % self.bruno)["swaps"]
        self.assertEqual([(x["id"], x["from_name"], x["to_name"]) for x in listed],
                         [(s["id"], "Ana Souza", "Bruno Lima")])

    def test_decline_outsiders_and_time_that_is_not_yours(self):
        ana, carla = self.sign_in(ANA), self.sign_in(CARLA)
        start, end = self.t0 + 48 * 3600, self.t0 + 60 * 3600
        status, s, _ = self.as_(ana, "POST", "/api/swaps", json={"to_person_id": self.carla, "start": local(start),
                                                                  "end": local(end)})
        self.assertEqual(status, 201, s)
        bruno = self.sign_in(BRUNO)
        self.assertEqual(self.as_(bruno, "POST", "/api/swaps/%d/confirm" % s["id"], json={})[0], 403)
        status, d, _ = self.as_(carla, "POST", "/api/swaps/%d/decline" % s["id"], json={})
        self.assertEqual((status, d["status"], d["override_id"]), (200, "declined", None))
        self.assertEqual(self.oncall_at(start + 3600), self.ana)
        # Carla cannot give away Ana's time; Ana cannot give away time that is over or Bruno's week
        for who, body, word in (
                (carla, {"to_person_id": self.bruno, "start": local(start), "end": local(end)}, "start"),
                (ana, {"to_person_id": self.bruno, "start": local(self.t0 - 7200), "end": local(self.t0 - 3600)},
                 "end"),
                (ana, {"to_person_id": self.carla, "start": local(self.t0 + 160 * 3600),
                       "end": local(self.t0 + 170 * 3600)}, "start"),
                (ana, {"to_person_id": self.ana, "start": local(start), "end": local(end)}, "to_person_id"),
                (ana, {"to_person_id": self.bruno, "start": local(start), "end": local(end), "motivo": "x"}, "motivo")):
            status, err, _ = self.as_(who, "POST", "/api/swaps", json=body)
            self.assertEqual(status, 422, (body, err))
            self.assertIn(word, err["error"]["message"])
        # a token must say whose shift it is; an admin token may, and then both still confirm
        status, err, _ = self.api("POST", "/api/swaps", json={"to_person_id": self.bruno, "start": local(start),
                                                              "end": local(end)})
        self.assertEqual(status, 422)
        status, s2, _ = self.api("POST", "/api/swaps", json={"from_person_id": self.ana, "to_person_id": self.bruno,
                                                             "start": local(start), "end": local(end)})
        self.assertEqual((status, s2["from_confirmed"]), (201, False))
        self.assertEqual(self.api("POST", "/api/swaps/%d/confirm" % s2["id"], json={"person_id": self.bruno})[1]["status"],
                         "pending")
        self.assertEqual(self.api("POST", "/api/swaps/%d/confirm" % s2["id"], json={"person_id": self.ana})[1]["status"],
                         "accepted")
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)


def schedule_person_at(sched, t):
    from datetime import datetime
    for sh in sched["shifts"]:
        if datetime.fromisoformat(sh["start"]).timestamp() <= t < datetime.fromisoformat(sh["end"]).timestamp():
            return sh["person"]["id"]
    return None


class TestSwapsBySms(SwapBase):
    def tearDown(self):
        # hand-off notices are expected traffic here
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True
        super().tearDown()

    def ask(self, secret=None, to=None, start=None, end=None, giver=None):
        body = {"to_person_id": to or self.bruno, "start": local(start), "end": local(end)}
        if giver:
            body["from_person_id"] = giver
        status, s, _ = self.as_(secret, "POST", "/api/swaps", json=body) if secret else \
            self.api("POST", "/api/swaps", json=body)
        self.assertEqual(status, 201, s)
        return s["id"]

    def swap(self, sid):
        return [x for x in self.api_ok("GET", "/api/swaps")["swaps"] if x["id"] == sid][0]

    def test_colleague_accepts_by_sms_then_the_time_is_theirs(self):
        ana = self.sign_in(ANA)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600
        sid = self.ask(ana, start=start, end=end)
        text = self.sim.expect_sms(BRUNO, containing="Troca de turno #%d" % sid)
        self.assertIn("Ana Souza", text.body)
        self.assertIn("ACEITO %d" % sid, text.body)
        self.assertIn("RECUSO %d" % sid, text.body)
        self.assertEqual([m for m in self.sim.sms_to(ANA) if "Troca" in m.body], [], "Ana asked: nothing to ask her")
        self.assertEqual(self.oncall_at(start + 3600), self.ana)

        [r] = self.sim.incoming_sms(BRUNO, "Aceito %d" % sid)
        self.assertIn("Troca %d confirmada" % sid, r)
        s = self.swap(sid)
        self.assertEqual(s["status"], "accepted")
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)
        self.assertEqual(self.oncall_at(end + 3600), self.ana)
        [o] = [o for o in self.api_ok("GET", "/api/overrides")["overrides"] if o["id"] == s["override_id"]]
        self.assertEqual((o["person_id"], o["reason"]), (self.bruno, "troca de turno #%d" % sid))
        sched = self.api_ok("GET", "/api/schedule?from=%s&to=%s" % (local(start - 3600), local(end + 3600)))
        self.assertEqual(schedule_person_at(sched, start + 60), self.bruno)
        self.assertEqual(schedule_person_at(sched, start - 60), self.ana)
        # Ana hears that Bruno accepted
        self.sim.expect_sms(ANA, containing="Bruno Lima aceitou a troca de turno #%d" % sid)
        # the audit names Bruno, by SMS
        [row] = self.api_ok("GET", "/api/audit?action=swaps.confirm&entity_id=%d" % sid)["audit"]
        self.assertEqual((row["actor_info"]["kind"], row["actor_info"]["person_id"]), ("phone", self.bruno))
        # the same reply again (Twilio retrying) changes nothing more
        [r] = self.sim.incoming_sms(BRUNO, "aceito %d" % sid)
        self.assertIn("já foi aceita", r)
        self.assertEqual(len(self.api_ok("GET", "/api/overrides")["overrides"]), 1)

    def test_a_colleague_removed_before_the_last_answer_gets_a_reply_not_an_error(self):
        dani = self.api_ok("POST", "/api/people", json={"name": "Dani Reis", "phone": "+5511990000004"},
                           expect=201)["id"]
        start, end = self.t0 + 48 * 3600, self.t0 + 60 * 3600
        sid = self.ask(to=dani, start=start, end=end, giver=self.ana)  # the admin token asks for Ana
        self.sim.expect_sms(ANA, containing="Troca de turno #%d" % sid)
        self.sim.expect_sms("+5511990000004", containing="Troca de turno #%d" % sid)
        [r] = self.sim.incoming_sms("+5511990000004", "aceito %d" % sid)
        self.assertIn("Falta Ana Souza confirmar", r)
        self.assertEqual(self.api("DELETE", "/api/people/%d" % dani)[0], 200)
        # Ana's yes cannot give the time to someone removed: she is told so (before: a 500 to
        # Twilio and no reply at all, again at every yes)
        [r] = self.sim.incoming_sms(ANA, "aceito %d" % sid)
        self.assertIn("não pode ser feita agora; nada mudou", r)
        self.assertEqual(self.oncall_at(start + 3600), self.ana)
        self.assertEqual(self.api_ok("GET", "/api/overrides")["overrides"], [])

    def test_asked_by_an_admin_both_answer_by_sms_and_a_decline_changes_nothing(self):
        start, end = self.t0 + 48 * 3600, self.t0 + 60 * 3600
        sid = self.ask(start=start, end=end, giver=self.ana)  # the admin token asks for Ana
        to_ana = self.sim.expect_sms(ANA, containing="Troca de turno #%d" % sid)
        self.assertIn("ACEITO %d" % sid, to_ana.body)
        self.sim.expect_sms(BRUNO, containing="Troca de turno #%d" % sid)
        [r] = self.sim.incoming_sms(BRUNO, "aceito %d" % sid)
        self.assertIn("Falta Ana Souza confirmar", r)
        self.assertEqual(self.swap(sid)["status"], "pending")
        self.assertEqual(self.oncall_at(start + 3600), self.ana, "no override before both confirmed")
        [r] = self.sim.incoming_sms(ANA, "aceito %d" % sid)
        self.assertIn("Troca %d confirmada" % sid, r)
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)

        # a second swap that Carla declines: Ana is told, nothing changes
        start2, end2 = self.t0 + 100 * 3600, self.t0 + 110 * 3600
        ana = self.sign_in(ANA)
        sid2 = self.ask(ana, to=self.carla, start=start2, end=end2)
        self.sim.expect_sms(CARLA, containing="Troca de turno #%d" % sid2)
        [r] = self.sim.incoming_sms(CARLA, "RECUSO %d" % sid2)
        self.assertIn("Troca %d recusada" % sid2, r)
        self.assertEqual(self.swap(sid2)["status"], "declined")
        self.sim.expect_sms(ANA, containing="Carla Dias recusou a troca de turno #%d" % sid2)
        self.assertEqual(self.oncall_at(start2 + 3600), self.ana)
        [r] = self.sim.incoming_sms(CARLA, "aceito %d" % sid2)
        self.assertIn("já foi recusada", r)
        self.assertEqual(self.oncall_at(start2 + 3600), self.ana)

    def test_a_phone_that_is_not_part_of_the_swap_is_refused(self):
        ana = self.sign_in(ANA)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600
        sid = self.ask(ana, start=start, end=end)
        self.sim.expect_sms(BRUNO, containing="Troca de turno #%d" % sid)
        [r] = self.sim.incoming_sms(CARLA, "aceito %d" % sid)
        self.assertIn("não é sua", r)
        [r] = self.sim.incoming_sms("+5511990000099", "aceito %d" % sid)  # nobody's phone
        self.assertIn("não está cadastrado", r)
        s = self.swap(sid)
        self.assertEqual((s["status"], s["to_confirmed_at"]), ("pending", None))
        self.assertEqual(self.oncall_at(start + 3600), self.ana)
        self.assertEqual(self.api_ok("GET", "/api/audit?action=swaps.confirm")["audit"], [])
        # a swap that does not exist, and a reply without its number
        [r] = self.sim.incoming_sms(BRUNO, "aceito %d" % (sid + 50))
        self.assertIn("Não há troca %d" % (sid + 50), r)
        [r] = self.sim.incoming_sms(BRUNO, "aceito")
        self.assertIn("ACEITO %d" % sid, r)
        # neither is the reply an alert's acknowledgment or the shift-take's SIM
        self.assertEqual(self.api_ok("GET", "/api/overrides")["overrides"], [])
        [r] = self.sim.incoming_sms(ANA, "ajuda")
        self.assertIn("ACEITO N", r)

    def test_a_reply_after_the_swap_expired_changes_nothing(self):
        ana = self.sign_in(ANA)
        start, end = self.t0 + 48 * 3600, self.t0 + 60 * 3600
        sid = self.ask(ana, start=start, end=end)
        text = self.sim.expect_sms(BRUNO, containing="Troca de turno #%d" % sid)
        self.assertIn("até", text.body)
        self.advance(25 * 3600)  # a day passes without an answer
        [r] = self.sim.incoming_sms(BRUNO, "aceito %d" % sid)
        self.assertIn("venceu", r)
        self.assertEqual(self.swap(sid)["status"], "expired")
        self.assertEqual(self.oncall_at(start + 3600), self.ana)
        self.assertEqual(self.api_ok("GET", "/api/overrides")["overrides"], [])
        status, err, _ = self.api("POST", "/api/swaps/%d/confirm" % sid, json={"person_id": self.bruno})
        self.assertEqual(status, 409, err)
        self.assertIn("expired", err["error"]["message"])

    def test_time_that_stopped_being_the_givers_is_not_given(self):
        """Ana offers tomorrow's 12 hours to Bruno; before Bruno answers, the lead gives two of
        those hours to Carla in the console. Bruno's ACEITO must not take Carla's hours: the swap is
        canceled, both are told, and the schedule stays as the lead left it."""
        ana = self.sign_in(ANA)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600
        sid = self.ask(ana, start=start, end=end)
        self.sim.expect_sms(BRUNO, containing="Troca de turno #%d" % sid)
        self.api_ok("POST", "/api/overrides", json={"person_id": self.carla, "start": local(start + 3600),
                                                    "end": local(start + 3 * 3600)})
        [r] = self.sim.incoming_sms(BRUNO, "aceito %d" % sid)
        self.assertIn("foi cancelada", r)
        self.assertIn("Ana Souza não está mais de plantão", r)
        s = self.swap(sid)
        self.assertEqual((s["status"], s["override_id"]), ("canceled", None))
        self.assertEqual(self.oncall_at(start + 2 * 3600), self.carla)
        self.assertEqual(self.oncall_at(start + 5 * 3600), self.ana)
        self.assertEqual([o["person_id"] for o in self.api_ok("GET", "/api/overrides")["overrides"]], [self.carla])
        self.sim.expect_sms(ANA, containing="troca de turno #%d foi cancelada" % sid)
        [row] = self.api_ok("GET", "/api/audit?action=swaps.cancel&entity_id=%d" % sid)["audit"]
        self.assertEqual(row["detail"]["reason"], "time no longer the giver's")
