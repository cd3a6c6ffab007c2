"""
tests/integration/test_bundling.py — alert storms at the DEFAULT configuration (per-phone limits
of 1 page a minute and 5 in 15 minutes, senders paced at 1 a second): pages to one person are
bundled, nobody is skipped, and a step's time counts from when Twilio accepted its call.

The stories (issue 11, item 2):
- three alerts at once: the third one's call to the on-call person sat behind the per-phone
  limit past its step deadline, was cancelled, and the next person was called instead;
- five critical alerts a second apart: the first person must get a call at once and nobody
  further down may be called before that person's step has really timed out;
- twelve Alertmanager alerts then one critical: the critical one had no call after 9 minutes;
- a sixth page within 15 minutes waits for the 5-in-15-minutes limit: its step must not run
  out (and skip the person) while the call has not even been placed.
The rotation puts Ana on call and Bruno next; the policy is the default one (on call, next).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"


class BundleTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno]})
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], self.ana)

    def trigger(self, summary, severity="critical"):
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": summary, "severity": severity})
        self.assertEqual(status, 202, body)
        return body["id"]

    def alert(self, aid):
        return self.api_ok("GET", "/api/alerts/%d" % aid)

    def acked_by(self, ids, person, timeout=20):
        def done():
            got = [self.alert(i) for i in ids]
            return got if all(a["status"] == "acknowledged" for a in got) else None
        got = wait_until(done, timeout=timeout, what="alerts %s acknowledged" % ids)
        for a in got:
            self.assertEqual((a["acked_by"], a["acked_via"]), (person, "call"), a)
        return got

    def texts(self, phone):
        return [m.body for m in self.sim.sms_to(phone)]

    def consume_texts(self):
        """Texts are checked by each test on their own terms; what is left is not unexpected."""
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True


class TestBundledCalls(BundleTest):

    def test_three_alerts_at_once_reach_the_oncall_person_on_one_call(self):
        # Ana's phone rings a little before she answers; she presses 1
        self.sim.phone(ANA).answers(digits="1", delay=2.0)
        ids = [self.trigger("disco cheio em db%d" % i) for i in (1, 2, 3)]
        call = self.sim.expect_call(ANA, timeout=20)
        # one call read the three alerts, and 1 acknowledged every one of them
        self.assertTrue(call.heard("3 alertas abertos"), call.says)
        for i, aid in enumerate(ids, 1):
            self.assertTrue(call.heard("Alerta %d: disco cheio em db%d" % (aid, i)), call.says)
        self.assertTrue(call.heard("Pressione 1 para assumir todos"), call.says)
        self.assertEqual(call.digits, ["1"])
        self.assertTrue(call.heard("Alertas %d, %d e %d assumidos" % tuple(ids)), call.says)
        self.acked_by(ids, self.ana)
        # the on-call person was not skipped: Bruno is never called, however long we wait
        for _ in range(5):
            self.advance(120)
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 1)
        self.assertEqual(self.sim.calls_to(BRUNO), [])
        for aid in ids:
            attempts = self.alert(aid)["attempts"]
            self.assertEqual([(t["person_id"], t["outcome"]) for t in attempts], [(self.ana, "ack")])
        # the first alert reached Ana's phone by text at once (the others, arriving together,
        # rode on the same text when it had not gone yet)
        ana = " ".join(self.texts(ANA))
        self.assertTrue("Alerta %d:" % ids[0] in ana or "#%d " % ids[0] in ana, ana)
        self.consume_texts()

    def test_five_critical_alerts_a_second_apart(self):
        self.sim.phone(ANA).does_not_answer(delay=8.0)
        self.sim.phone(BRUNO).answers(digits="1")
        t0 = time.monotonic()
        ids = []
        for i in range(5):
            ids.append(self.trigger("falha %d no checkout" % (i + 1)))
            if i == 0:
                # the first page is not held back by anything
                self.sim.expect_sms(ANA, containing="Alerta %d: falha 1 no checkout" % ids[0], timeout=10)
            time.sleep(1.0)
        wait_until(lambda: self.sim.calls_to(ANA), timeout=15, what="Ana's phone ringing")
        self.assertLess(time.monotonic() - t0, 15.0 + 1.0)
        ana_call = self.sim.expect_call(ANA, timeout=20)
        self.assertEqual(ana_call.status, "no-answer")
        bruno = self.sim.expect_call(BRUNO, timeout=20)
        # Bruno's phone rang only after Ana's call had rung out
        self.assertGreaterEqual(bruno.date_created, ana_call.end_time)
        # one call to Bruno read the five alerts; his 1 took them all
        self.assertTrue(bruno.heard("5 alertas abertos"), bruno.says)
        for i, aid in enumerate(ids, 1):
            self.assertTrue(bruno.heard("Alerta %d: falha %d no checkout" % (aid, i)), bruno.says)
        self.acked_by(ids, self.bruno)
        for aid in ids:
            attempts = self.alert(aid)["attempts"]
            # each alert's first step really ran out on Ana's phone: none skipped or cut short
            self.assertEqual([(t["person_id"], t["outcome"]) for t in attempts],
                             [(self.ana, "no-answer"), (self.bruno, "ack")], attempts)
        self.assertEqual(len(self.sim.calls_to(ANA)), 1)
        self.assertEqual(len(self.sim.calls_to(BRUNO)), 1)
        self.advance(600)
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 2)
        self.consume_texts()

    def test_five_critical_alerts_a_second_apart_all_reach_the_first_person_by_text_in_30s(self):
        # Nobody answers: what the first person can read on the phone is all she has. At the
        # default 1-a-minute per-phone limit alerts 2..5 waited a minute behind alert 1's text.
        self.sim.phone(ANA).does_not_answer(delay=20.0)
        self.sim.phone(BRUNO).does_not_answer(delay=20.0)
        t0 = time.monotonic()
        ids = []
        for i in range(5):
            ids.append(self.trigger("pagamento %d recusado" % (i + 1)))
            time.sleep(1.0)

        def all_texted():
            body = " ".join(self.texts(ANA))
            return all("Alerta %d:" % a in body or "#%d " % a in body for a in ids)
        wait_until(all_texted, timeout=40, what="every alert in a text to Ana")
        self.assertLess(time.monotonic() - t0, 30.0, self.texts(ANA))
        # bundled, not one text per alert: the phone is still protected from a flood
        self.assertLessEqual(len(self.sim.sms_to(ANA)), 3, self.texts(ANA))
        for aid in ids:  # closing them ends the calls still ringing
            self.api_ok("POST", "/api/alerts/%d/resolve" % aid)
        self.consume_texts()
        with self.sim._lock:
            for c in self.sim.calls:
                c.consumed = True

    def test_a_bare_ack_confirms_every_alert_of_the_bundled_text(self):
        # The bundled text says "responda 'ack' para assumir todos": at 3 a.m. one word must
        # take the whole storm, not only its newest alert.
        self.sim.phone(ANA).does_not_answer(delay=20.0)
        self.sim.phone(BRUNO).does_not_answer(delay=20.0)
        ids = []
        for i in range(3):
            ids.append(self.trigger("fila %d parada" % (i + 1)))
            time.sleep(1.0)
        bundle = self.sim.expect_sms(ANA, containing="2 alertas abertos", timeout=30)
        self.assertIn("responda 'ack' para assumir todos", bundle.body)
        replies = self.sim.incoming_sms(ANA, "ack")
        self.assertEqual(replies, ["Alertas %d, %d e %d assumidos por você." % tuple(ids)])
        for aid in ids:
            a = self.alert(aid)
            self.assertEqual((a["status"], a["acked_by"], a["acked_via"]), ("acknowledged", self.ana, "sms"), a)
        # nothing is left for a second "ack"
        self.assertEqual(self.sim.incoming_sms(ANA, "ok"), ["Nenhum alerta aberto para você."])
        self.consume_texts()
        with self.sim._lock:
            for c in self.sim.calls:
                c.consumed = True

    def test_twelve_alertmanager_alerts_then_a_critical_one(self):
        self.sim.phone(ANA).answers(digits="1", delay=3.0)
        for i in range(12):
            payload = {
                "version": "4", "groupKey": "{}:{alertname=\"Lento%d\"}" % i, "status": "firing",
                "receiver": "plantao", "groupLabels": {"alertname": "Lento%d" % i},
                "commonLabels": {"alertname": "Lento%d" % i}, "commonAnnotations": {},
                "externalURL": "http://am:9093", "truncatedAlerts": 0,
                "alerts": [{"status": "firing",
                            "labels": {"alertname": "Lento%d" % i, "instance": "web%d" % i, "severity": "critical"},
                            "annotations": {"summary": "web%d lento" % i},
                            "startsAt": "2026-01-05T12:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                            "generatorURL": "http://prom:9090/graph", "fingerprint": "f%015d" % i}]}
            self.api_ok("POST", "/api/alerts/alertmanager", json=payload, expect=202)
        crit = self.trigger("banco principal fora do ar")
        t0 = time.monotonic()
        call = self.sim.expect_call(ANA, timeout=30)
        self.assertLess(time.monotonic() - t0, 30.0)
        # the critical alert got its call: it was read and acknowledged on Ana's first call
        self.assertTrue(call.heard("Alerta %d: banco principal fora do ar" % crit), call.says)
        self.acked_by([crit], self.ana)
        open_ = [a for a in self.api_ok("GET", "/api/alerts?status=triggered")["alerts"]]
        self.assertEqual(open_, [], "every alert read on the call was taken by the 1")
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 1)
        self.consume_texts()


class TestBundledTexts(BundleTest):

    def test_alerts_arriving_while_the_text_is_held_reach_the_phone_in_one_text(self):
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": "oncall", "timeout_s": 30}], "rounds": 1})
        self.sim.phone(ANA).does_not_answer(delay=15.0)
        first = self.trigger("fila de pedidos parada")
        self.sim.expect_sms(ANA, containing="Alerta %d: fila de pedidos parada" % first, timeout=10)
        wait_until(lambda: self.sim.calls_to(ANA), timeout=15, what="Ana's phone ringing")
        later = [self.trigger("worker %d sem resposta" % i) for i in (1, 2)]
        # the phone may get one page text a minute: the two newcomers wait in one text
        time.sleep(1.0)
        self.assertEqual(len(self.sim.sms_to(ANA)), 1)
        self.advance(61)
        text = self.sim.expect_sms(ANA, containing="2 alertas abertos", timeout=10)
        self.assertIn("#%d worker 1 sem resposta, #%d worker 2 sem resposta" % tuple(later), text.body)
        self.assertIn("responda 'ack' para assumir todos ou 'ack N' para um", text.body)
        self.assertEqual(len([m for m in self.sim.sms_to(ANA) if "Responda" in m.body or "responda" in m.body]), 2)
        # and they rode on the call that was already ringing: one call for the three
        call = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(call.status, "no-answer")
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 1)
        for aid in [first] + later:
            attempts = self.alert(aid)["attempts"]
            self.assertEqual([(t["person_id"], t["outcome"]) for t in attempts], [(self.ana, "no-answer")])
        self.consume_texts()


class TestStepClock(BundleTest):

    def test_a_call_held_by_the_15_minute_limit_does_not_skip_the_person(self):
        self.sim.phone(ANA).answers(digits="1")
        # five pages to Ana, a minute apart, each taken at once: her 5-in-15-minutes allowance is used
        for i in range(5):
            aid = self.trigger("pico %d" % (i + 1))
            self.sim.expect_call(ANA, timeout=20)
            self.acked_by([aid], self.ana)
            self.advance(61)
        # the sixth page's call waits for the allowance (until 15 minutes after the first call,
        # about 590 s from now): Ana is not skipped meanwhile
        sixth = self.trigger("pico 6")
        wait_until(lambda: self.alert(sixth)["attempts"], what="the sixth alert's attempt")
        for _ in range(5):
            self.advance(100)  # far past the old deadline of 30 + 60 + 30 s from queueing
            self.assertEqual(self.sim.calls_to(BRUNO), [])
            self.assertEqual(self.alert(sixth)["status"], "triggered")
        attempts = self.alert(sixth)["attempts"]
        self.assertEqual([(t["person_id"], t["ended_at"]) for t in attempts], [(self.ana, None)], attempts)
        # the allowance frees up: Ana's phone rings for it and she takes it
        self.advance(100)
        call = wait_until(lambda: len(self.sim.calls_to(ANA)) >= 6 and self.sim.calls_to(ANA)[5],
                          timeout=20, what="the sixth call to Ana")
        self.sim.expect_call(ANA, timeout=20)
        self.assertTrue(call.heard("pico 6"), call.says)
        self.acked_by([sixth], self.ana)
        self.assertEqual(self.sim.calls_to(BRUNO), [])
        self.consume_texts()
