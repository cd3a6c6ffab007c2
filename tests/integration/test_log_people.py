"""
tests/integration/test_log_people.py — log lines name people by name (and id), and show times as
RFC 3339, never as epoch numbers (issue 14, item 6).

The story: Ana is on call; Bruno texts PLANTAO ASSUMIR and SIM to take her shift, the hand-off
goes out, then Bruno texts STOP. An operator reading the log learns who took whose shift until
when, who is on call now and who stopped texts; Ana signs in to the console and gives part of her
week to Bruno, who accepts — "Bruno (person 2 …) takes the shift of Ana
(person 1) until 2026-…Z", not "person 2 … until 1796200889".
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_support import ANA, BRUNO, CallTest  # noqa: E402
from test_swaps import SwapBase, local  # noqa: E402
from harness import wait_until  # noqa: E402

RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class TestPeopleByName(CallTest):
    def test_take_handoff_and_stop_name_the_people_and_show_times(self):
        ana, bruno = self.people(("Ana", ANA), ("Bruno", BRUNO))
        self.rotation([ana, bruno], handoff=self.iso_local(-3600)[:16])
        self.advance(60)
        [r] = self.sim.incoming_sms(BRUNO, "plantao assumir")
        self.assertIn("responda SIM", r)
        [r] = self.sim.incoming_sms(BRUNO, "sim")
        self.assertIn("no lugar de Ana", r)
        self.expect_text(ANA, "Agora com Bruno", "handoff:")
        self.assertEqual(self.sim.incoming_sms(BRUNO, "STOP"), [])

        def lines(needle):
            return [x for x in self.plantao.log_text().splitlines() if needle in x]

        take = wait_until(lambda: lines("takes the shift"), what="the take's log line")[0]
        self.assertRegex(take, r"Bruno \(person %d, \+55 11 9\*\*\*\*-0002\) takes the shift of Ana \(person %d\) "
                               r"until %s" % (bruno, ana, RFC3339))
        handoff = wait_until(lambda: lines("hand-off at"), what="the hand-off's log line")[-1]
        self.assertRegex(handoff, r"hand-off at %s: Bruno \(person %d\) on call, Ana \(person %d\) leaving"
                         % (RFC3339, bruno, ana))
        stop = wait_until(lambda: lines("no more texts"), what="the STOP's log line")[0]
        self.assertIn("(Bruno, person %d) texted STOP" % bruno, stop)

        # no line names a person by id alone, and none of these shows an epoch
        for line in self.plantao.log_text().splitlines():
            for m in re.finditer(r"person (\d+)", line):
                who = {ana: "Ana", bruno: "Bruno"}.get(int(m.group(1)))
                self.assertIsNotNone(who, line)
                self.assertIn(who, line[max(0, m.start() - 40):m.start()], "a person by id alone: " + line)
        for line in (take, handoff, stop):
            self.assertNotRegex(line.split(" ", 1)[1], r"\b1\d{9}\b", "an epoch in the log: " + line)


class TestSwapByName(SwapBase):
    def test_sign_in_and_a_swap_name_the_people_and_show_times(self):
        self.sign_in(ANA)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600
        status, s, _ = self.api("POST", "/api/swaps", json={"from_person_id": self.ana, "to_person_id": self.bruno,
                                                            "start": local(start), "end": local(end)})
        self.assertEqual(status, 201, s)
        self.api_ok("POST", "/api/swaps/%d/confirm" % s["id"], json={"person_id": self.bruno})
        self.assertEqual(self.api_ok("POST", "/api/swaps/%d/confirm" % s["id"], json={"person_id": self.ana})["status"],
                         "accepted")
        log = self.plantao.log_text()
        self.assertRegex(log, r"Ana Souza \(person %d\) signed in \(session \d+, role editor\)" % self.ana)
        self.assertRegex(log, r"swap %d asked by .+?: Ana Souza \(person %d\) to Bruno Lima \(person %d\), %s to %s"
                         % (s["id"], self.ana, self.bruno, RFC3339, RFC3339))
        self.assertRegex(log, r"swap %d accepted: override \d+ for Bruno Lima \(person %d\)" % (s["id"], self.bruno))
        for line in log.splitlines():
            if "swap %d" % s["id"] in line:
                self.assertNotRegex(line.split(" ", 1)[1], r"\b1\d{9}\b", "an epoch in the log: " + line)
