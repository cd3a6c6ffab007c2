"""
tests/integration/test_hot_paths.py — hot paths that must not wait for the database's writer
(issue 18): Twilio's retry of a support call already dialled is answered from a read, so it
gets its TwiML at once even while another process holds SQLite's write lock (a backup, a
`plantao token create`, a long import), where a write transaction would wait its 5 s bound
and answer 503. A new call reads who is on call before it waits for the writer lock; a change
to the rotation, an override or someone's number committed while it waits is not missed: the
call dials whoever is on call when its write commits.
"""

import sqlite3
import threading
import time
import unittest

from harness import TEST_DB, IntegrationTest

ANA = "+5511990000001"
BIA = "+5511990000002"
CUSTOMER = "+5521988887777"


@unittest.skipIf(TEST_DB == "pg", "holds SQLite's file lock")
class TestRetryReadsOnly(IntegrationTest):
    def setUp(self):
        super().setUp()
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        t = self.plantao.now() - 3600 - 3 * 3600
        handoff = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "handoff": handoff})

    def test_retry_answered_while_the_writer_lock_is_held(self):
        params = {"CallSid": "CA" + "7" * 32, "From": CUSTOMER, "To": "+15005550006", "CallStatus": "ringing"}
        first = self.plantao.webhook("/twilio/voice", params)
        self.assertEqual(first.status, 200)
        self.assertIn(ANA, first.body)
        holder = sqlite3.connect(self.plantao.db_path, timeout=10, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            t0 = time.monotonic()
            again = self.plantao.webhook("/twilio/voice", params)
            elapsed = time.monotonic() - t0
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.body, first.body)
        self.assertLess(elapsed, 2.0, "the retry waited for the writer lock")
        calls = self.api_ok("GET", "/api/calls")["calls"]
        self.assertEqual(len(calls), 1)
        self.assertEqual([leg["phone"] for leg in calls[0]["legs"]], [ANA])


@unittest.skipIf(TEST_DB == "pg", "holds SQLite's file lock")
class TestNewCallWhileTheRotationChanges(IntegrationTest):
    """The failure story: Ana is on call; Bia takes over with an override (from the console,
    `plantao`, another instance) at the moment a customer calls. The call read the rotation
    before the override committed and waited for the writer lock while it did: it rang Ana,
    who had just handed over."""

    def setUp(self):
        super().setUp()
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.bia = self.api_ok("POST", "/api/people", json={"name": "Bia", "phone": BIA}, expect=201)["id"]
        t = self.plantao.now() - 3600
        handoff = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t))
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bia], "handoff": handoff,
                                                  "timezone": "UTC", "shift_hours": 168})
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], self.ana)

    def call_while(self, change):
        """A new call whose write waits while another process commits `change` (a function of
        a sqlite3 connection inside its write transaction); returns the TwiML answer."""
        params = {"CallSid": "CA" + "8" * 32, "From": CUSTOMER, "To": "+15005550006", "CallStatus": "ringing"}
        holder = sqlite3.connect(self.plantao.db_path, timeout=10, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        change(holder)
        answer = {}
        t = threading.Thread(target=lambda: answer.update(r=self.plantao.webhook("/twilio/voice", params)))
        t.start()
        try:
            time.sleep(1.0)  # the call has read the rotation and waits for the write lock
            self.assertTrue(t.is_alive(), "the call did not wait for the write lock")
            holder.execute("COMMIT")
        finally:
            if holder.in_transaction:
                holder.execute("ROLLBACK")
            holder.close()
            t.join(15)
        r = answer["r"]
        self.assertEqual(r.status, 200, r.body)
        return r.body

    def test_override_committed_while_the_call_waits(self):
        now = self.plantao.now()

        def override(c):
            c.execute("INSERT INTO overrides (person_id, start_at, end_at, reason, created_at) VALUES (?, ?, ?, ?, ?)",
                      (self.bia, now - 60, now + 3600, "troca", now))

        body = self.call_while(override)
        self.assertIn(BIA, body)
        self.assertNotIn(ANA, body)
        legs = self.api_ok("GET", "/api/calls")["calls"][0]["legs"]
        self.assertEqual([leg["phone"] for leg in legs], [BIA])

    def test_number_corrected_while_the_call_waits(self):
        fixed = "+5511990000009"

        def correct(c):
            c.execute("UPDATE people SET phone = ? WHERE id = ?", (fixed, self.ana))

        body = self.call_while(correct)
        self.assertIn(fixed, body)
        self.assertNotIn(ANA, body)


class TestNewCallsAcrossAHandoff(IntegrationTest):
    """New calls read the rotation from memory while it is unchanged (rotation/chain_memo.c).
    The failure story: Ana's shift ends at 10:00 with nothing written to the database; calls
    after 10:00 must ring Bia, not the chain remembered from a call at 09:45."""

    def test_the_call_after_the_handoff_rings_the_next_person(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        bia = self.api_ok("POST", "/api/people", json={"name": "Bia", "phone": BIA}, expect=201)["id"]
        start = self.plantao.now() - 168 * 3600 + 30 * 60  # Ana's week ends in 30 minutes
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bia], "timezone": "UTC", "shift_hours": 168,
                                                  "handoff": time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start))})
        first = self.plantao.webhook("/twilio/voice", {"CallSid": "CA" + "1" * 32, "From": CUSTOMER,
                                                       "To": "+15005550006", "CallStatus": "ringing"})
        self.assertEqual(first.status, 200, first.body)
        self.assertIn(ANA, first.body)
        self.advance(31 * 60)
        second = self.plantao.webhook("/twilio/voice", {"CallSid": "CA" + "2" * 32, "From": CUSTOMER,
                                                        "To": "+15005550006", "CallStatus": "ringing"})
        self.assertEqual(second.status, 200, second.body)
        self.assertIn(BIA, second.body)
        self.assertNotIn(ANA, second.body.split("<Number")[1])
        calls = {c["call_sid"]: c for c in self.api_ok("GET", "/api/calls")["calls"]}
        self.assertEqual(calls["CA" + "2" * 32]["legs"][0]["phone"], BIA)
        self.sim.expect_sms(BIA, "você está de plantão desde")  # the handoff's own notice


class TestNewCallsAfterChanges(IntegrationTest):
    """On SQLite and PostgreSQL alike (each its own triggers): between two new calls, a change made
    through the API that moves who is on call is seen by the second call, whatever the first
    one left in memory; an edit that cannot move it (a name) leaves the memo in use."""

    def setUp(self):
        super().setUp()
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.bia = self.api_ok("POST", "/api/people", json={"name": "Bia", "phone": BIA}, expect=201)["id"]
        handoff = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(self.plantao.now() - 3600))
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bia], "handoff": handoff,
                                                  "timezone": "UTC", "shift_hours": 168})
        self.n = 0

    def tearDown(self):
        # the override's start and end are hand-offs: their notices are tested in test_support
        with self.sim._lock:
            for m in self.sim.messages:
                if not m.consumed and m.body.startswith(("Plantão: você está de plantão desde",
                                                          "Plantão: seu plantão terminou")):
                    m.consumed = True
        super().tearDown()

    def first_dialled(self):
        self.n += 1
        r = self.plantao.webhook("/twilio/voice", {"CallSid": "CA%032d" % self.n, "From": CUSTOMER,
                                                   "To": "+15005550006", "CallStatus": "ringing"})
        self.assertEqual(r.status, 200, r.body)
        return r.body.split("<Number")[1].split(">")[1].split("<")[0]

    def generation(self):
        n = self.plantao.db.scalar("SELECT n FROM rotation_generation WHERE id = 1")
        self.assertIsNotNone(n)
        return n

    def test_name_number_and_override(self):
        self.assertEqual(self.first_dialled(), ANA)
        # a name cannot move who is on call: the generation keeps its value (the memo stays in use),
        # though PATCH writes phone too; a new number gives it a new one
        generation = self.generation()
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"name": "Ana Maria"})
        self.assertEqual(self.generation(), generation, "a name edit changed rotation_generation")
        self.assertEqual(self.first_dialled(), ANA)
        fixed = "+5511990000009"
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"phone": fixed})
        self.assertNotEqual(self.generation(), generation)
        self.assertEqual(self.first_dialled(), fixed)
        now = self.plantao.now()
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
        ov = self.api_ok("POST", "/api/overrides", json={"person_id": self.bia, "start": start, "end": end},
                         expect=201)
        self.assertEqual(self.first_dialled(), BIA)
        self.api_ok("DELETE", "/api/overrides/%d" % ov["id"])
        self.assertEqual(self.first_dialled(), fixed)
