"""
tests/integration/test_answering_machine.py — alert calls and answering machines, as Twilio
really behaves.

The failure story: alert calls used MachineDetection=Enable. A person who picked up waited in
silence for detection (up to seconds) before hearing anything, and an answering machine was
detected as its greeting *started*: plantao's short message was spoken over the greeting and
the voicemail recorded its tail, or nothing. Now calls are placed with
MachineDetection=DetectMessageEnd, AsyncAmd=true and an AsyncAmdStatusCallback: the TwiML is
fetched the moment the call is answered (a person hears the alert at once), and when the
callback says the machine's greeting ended (machine_end_beep) plantao updates the live call
through the REST API so the whole message is left after the beep. A machine is never an
acknowledgment: the next person is called at once.

Default configuration (per-phone limits, pacing on); the simulator plays the machine's greeting
over the first TwiML and records what is said after its beep (call.voicemail).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"


class AnsweringMachineTest(IntegrationTest):

    def team(self):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO}, expect=201)["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": self.ana, "timeout_s": 30},
                                                              {"target": self.bruno, "timeout_s": 30}],
                                                    "rounds": 1})

    def alert(self, summary):
        return self.api_ok("POST", "/api/alerts", json={"summary": summary, "severity": "critical"}, expect=202)["id"]

    def test_a_machine_gets_the_whole_message_after_the_beep_and_the_next_person_is_called(self):
        self.team()
        self.sim.phone(ANA).is_machine()
        self.sim.phone(BRUNO).answers(digits="1", delay=3)  # (an ack ends the machine's call)
        aid = self.alert("replicação parada em db2")
        self.sim.expect_sms(ANA, containing="Alerta %d" % aid, timeout=15)
        self.sim.expect_sms(BRUNO, containing="Alerta %d" % aid, timeout=15)
        machine = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(machine.form.get("MachineDetection"), "DetectMessageEnd")
        self.assertEqual(machine.form.get("AsyncAmd"), "true")
        self.assertTrue(machine.form.get("AsyncAmdStatusCallback", "").endswith("/amd"), machine.form)
        self.assertEqual(machine.answered_by, "machine_end_beep")
        # plantao gave the live call new TwiML through the API, and the machine recorded all of it
        updates = [r for c, r in self.sim.call_updates if c is machine]
        self.assertEqual(len(updates), 1, self.sim.call_updates)
        self.assertTrue(updates[0].form.get("Url", "").endswith("/machine"), updates[0].form)
        said = " ".join(machine.voicemail)
        self.assertIn("Alerta %d do plantão: replicação parada em db2" % aid, said)
        self.assertIn("Responda ack %d por SMS" % aid, said)
        self.assertEqual(machine.errors, [])
        # a machine is not a person: Bruno is called at once and acknowledges
        bruno = self.sim.expect_call(BRUNO, timeout=30)
        self.assertEqual(bruno.digits, ["1"])
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="assumido por Bruno", timeout=15)
        body = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual(body["acked_by"], self.bruno)
        self.assertEqual([t["outcome"] for t in body["attempts"]], ["machine", "ack"])
        text = self.api("GET", "/metrics", token=None)[1]
        self.assertIn('plantao_call_redirects_total{result="done"} 1', text)

    def test_a_person_hears_the_alert_at_once_and_acknowledges(self):
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        aid = self.alert("fila parada")
        call = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(call.form.get("AsyncAmd"), "true")
        # the TwiML was asked for when the call was answered, before detection said anything
        fetch = call.webhooks[0]
        self.assertTrue(fetch.url.endswith("/twilio/alert-call/1"), fetch)
        self.assertNotIn("AnsweredBy", fetch.params)
        amd = [w for w in call.webhooks if w.purpose == "amd"]
        self.assertEqual([(w.params["AnsweredBy"], w.status) for w in amd], [("human", 200)])
        self.assertTrue(call.heard("Alerta %d: fila parada" % aid), call.says)
        self.assertEqual(call.digits, ["1"])
        self.assertEqual(self.sim.call_updates, [])
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % aid)["status"] == "acknowledged", timeout=15,
                   what="acknowledged by Ana")
        self.sim.expect_sms(ANA, containing="Alerta %d" % aid, timeout=15)
        self.sim.expect_sms(ANA, containing="assumido por Ana", timeout=15)

    def test_twilio_down_when_the_beep_comes_is_retried(self):
        self.team()
        self.sim.phone(ANA).is_machine()
        self.sim.phone(BRUNO).answers(digits="1", delay=6)
        self.sim.fail_next("call", 503, count=2)  # the update of the live call, twice
        aid = self.alert("disco cheio")
        machine = self.sim.expect_call(ANA, timeout=40)
        self.assertIn("Responda ack %d por SMS" % aid, " ".join(machine.voicemail))
        self.assertEqual(len([r for c, r in self.sim.call_updates if c is machine]), 1)
        self.assertIn("new TwiML not given yet", self.plantao.log_text())
        self.sim.expect_sms(ANA, containing="Alerta %d" % aid, timeout=15)
        self.sim.expect_sms(BRUNO, containing="Alerta %d" % aid, timeout=15)
        self.assertEqual(self.sim.expect_call(BRUNO, timeout=40).digits, ["1"])
        for p in (ANA, BRUNO):
            self.sim.expect_sms(p, containing="assumido por Bruno", timeout=15)
