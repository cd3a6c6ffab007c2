"""
tests/integration/test_hot_paths.py — hot paths that must not wait for the database's writer
(issue 18): Twilio's retry of a support call already dialled is answered from a read, so it
gets its TwiML at once even while another process holds SQLite's write lock (a backup, a
`plantao token create`, a long import), where a write transaction would wait its 5 s bound
and answer 503.
"""

import sqlite3
import time
import unittest

from harness import TEST_DB, IntegrationTest

ANA = "+5511990000001"
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
