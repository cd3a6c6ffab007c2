"""
tests/integration/test_ack_word.py — one word for acknowledging (issue 13, item 3), at the
default configuration. Every page says "para assumir": a reply of "assumir" acknowledges that
page and never touches the rotation. Taking the on-call shift by text is its own command,
"PLANTAO ASSUMIR", answered with until when and instead of whom, and only a "SIM" from the same
person within 10 minutes (the controllable clock moves past it here) takes the shift.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"


class AckWordTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.ana, self.bruno, self.carla = [
            self.api_ok("POST", "/api/people", json={"name": n, "phone": p}, expect=201)["id"]
            for n, p in (("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))]
        t = self.plantao.now() - 3600 - 3 * 3600
        handoff = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t))
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno, self.carla], "handoff": handoff,
                                                  "timezone": "America/Sao_Paulo"})
        self.advance(60)
        self.assertEqual(self.oncall(), self.ana)

    def tearDown(self):
        # hand-off notices and the pages' follow-ups are expected traffic here, not failures
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True
        super().tearDown()

    def oncall(self):
        return self.api_ok("GET", "/api/oncall")["person"]["id"]

    def overrides(self):
        return self.api_ok("GET", "/api/overrides")["overrides"]

    def test_assumir_in_reply_to_a_page_acknowledges_it_and_leaves_the_shift(self):
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": self.ana, "timeout_s": 30},
                                                              {"target": self.bruno, "timeout_s": 30}],
                                                    "rounds": 1})
        self.sim.phone(ANA).does_not_answer(delay=1.0)
        status, alert, _ = self.api("POST", "/api/alerts", json={"summary": "db1 fora do ar"})
        self.assertEqual(status, 202, alert)
        aid = alert["id"]
        page = self.sim.expect_sms(BRUNO, containing="Alerta %d:" % aid, timeout=30)
        self.assertIn("para assumir", page.body)

        # Bruno answers the page with the word it suggests
        [r] = self.sim.incoming_sms(BRUNO, "Assumir")
        self.assertEqual(r, "Alerta %d assumido por você." % aid)
        a = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual((a["status"], a["acked_by"]), ("acknowledged", self.bruno), a)
        self.assertEqual(self.oncall(), self.ana, "the rotation did not move")
        self.assertEqual(self.overrides(), [])
        self.sim.expect_call(ANA, timeout=30)  # Ana's phone rang meanwhile: the call is over
        # Bruno's step also calls him; Twilio may have taken that call before his reply came
        # (a slower database makes it likelier): at most one, never a second after the ack
        self.sim.wait_idle()
        bruno_calls = self.sim.calls_to(BRUNO)
        self.assertLessEqual(len(bruno_calls), 1, bruno_calls)
        for c in bruno_calls:
            c.consumed = True

        # with no page open, "assumir" says how to take the shift and changes nothing
        [r] = self.sim.incoming_sms(BRUNO, "assumir")
        self.assertIn("Nenhum alerta aberto para você", r)
        self.assertIn("PLANTAO ASSUMIR", r)
        self.assertEqual(self.oncall(), self.ana)
        self.assertEqual(self.overrides(), [])

    def test_taking_the_shift_asks_for_a_sim(self):
        # "sim" out of the blue confirms nothing
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("Nada a confirmar", r)
        self.assertEqual(self.overrides(), [])

        [r] = self.sim.incoming_sms(BRUNO, "Plantão assumir")
        self.assertIn("responda SIM em até 10 minutos", r)
        self.assertIn("no lugar de Ana", r)
        self.assertEqual(self.oncall(), self.ana, "asking alone takes nothing")
        self.assertEqual(self.overrides(), [])

        # someone else's "sim" does not confirm Bruno's request
        [r] = self.sim.incoming_sms(CARLA, "SIM")
        self.assertIn("Nada a confirmar", r)
        self.assertEqual(self.oncall(), self.ana)

        [r] = self.sim.incoming_sms(BRUNO, "Sim!")
        self.assertIn("OK: você está de plantão até", r)
        self.assertIn("no lugar de Ana", r)
        self.assertEqual(self.oncall(), self.bruno)
        self.assertEqual(len(self.overrides()), 1)
        audit = self.api_ok("GET", "/api/audit")["audit"]
        self.assertEqual((audit[0]["action"], audit[0]["actor_info"]["kind"], audit[0]["actor_info"]["person_id"]),
                         ("overrides.create", "phone", self.bruno))
        self.assertNotIn(BRUNO, audit[0]["actor"])  # masked as in the logs

        # the same "sim" again (Twilio retrying) creates nothing more
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("já está de plantão", r)
        self.assertEqual(len(self.overrides()), 1)

        # a request older than 10 minutes is not confirmed by a late "sim"
        [r] = self.sim.incoming_sms(CARLA, "plantao assumir")
        self.assertIn("no lugar de Bruno", r)
        self.advance(11 * 60)
        [r] = self.sim.incoming_sms(CARLA, "sim")
        self.assertIn("Nada a confirmar", r)
        self.assertEqual(self.oncall(), self.bruno)
        self.assertEqual(len(self.overrides()), 1)

    def test_sim_takes_exactly_the_shift_that_was_asked(self):
        """Bruno asks for Ana's shift five minutes before it ends; the clock passes the hand-off to
        Carla's week before his SIM: the SIM must not take Carla's week (a different person and
        end than he was told), it says the shift changed and asks again."""
        handoff = int(self.plantao.now()) - 168 * 3600 + 5 * 60  # Ana's week ends in 5 minutes
        self.api_ok("PUT", "/api/rotation", json={
            "members": [self.ana, self.carla, self.bruno], "shift_hours": 168,
            "handoff": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(handoff - 3 * 3600)),
            "timezone": "America/Sao_Paulo"})
        self.assertEqual(self.oncall(), self.ana)
        [r] = self.sim.incoming_sms(BRUNO, "plantao assumir")
        self.assertIn("no lugar de Ana", r)
        self.advance(6 * 60)  # within the 10 minutes, but past the hand-off to Carla
        wait_until(lambda: self.oncall() == self.carla, what="Carla's week began")
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("O plantão mudou", r)
        self.assertIn("no lugar de Carla", r)
        self.assertIn("responda SIM", r)
        self.assertEqual(self.overrides(), [], "nothing taken that Bruno was not told about")
        self.assertEqual(self.oncall(), self.carla)
        # asked again, with the shift as it is now: his SIM takes Carla's week, until its end
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("OK: você está de plantão até", r)
        self.assertIn("no lugar de Carla", r)
        [o] = self.overrides()
        self.assertEqual(o["person_id"], self.bruno)
        self.assertEqual(o["end_at_unix"] if "end_at_unix" in o else o["end_at"], handoff + 2 * 168 * 3600)

        # an override made in the console meanwhile is a change too
        [r] = self.sim.incoming_sms(ANA, "plantao assumir")
        self.assertIn("no lugar de Bruno", r)
        self.api_ok("POST", "/api/overrides?replace=true", json={
            "person_id": self.carla, "start": self.iso(self.plantao.now() - 60),
            "end": self.iso(self.plantao.now() + 3600)})
        [r] = self.sim.incoming_sms(ANA, "sim")
        self.assertIn("O plantão mudou", r)
        self.assertIn("no lugar de Carla", r)
        self.assertEqual(self.oncall(), self.carla)

    def iso(self, t):
        return time.strftime("%Y-%m-%dT%H:%M:%S-03:00", time.gmtime(t - 3 * 3600))

    def test_help_names_one_verb_for_alerts_and_the_shift_command(self):
        [r] = self.sim.incoming_sms(ANA, "ajuda")
        self.assertIn("ASSUMIR N", r)
        self.assertIn("PLANTAO ASSUMIR", r)
        self.assertNotIn("reconhecer", r)


if __name__ == "__main__":
    import unittest
    unittest.main()
