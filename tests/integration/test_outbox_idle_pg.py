"""
tests/integration/test_outbox_idle_pg.py — an idle sender on PostgreSQL opens no transaction.

The failure story (issue 18): with nothing to send, every engine tick on PostgreSQL opened the
sender's claim transaction anyway — BEGIN under the process's writer lock, the six "what is
due" reads of each kind with FOR UPDATE SKIP LOCKED, COMMIT — about twenty round trips a tick,
each one holding back a webhook that wanted to write. Now the sender first asks with one plain
read whether anything is due and opens the claim transaction only then. Read from
PostgreSQL's own statement log of the server's database (log_statement = all): while idle no
locking read runs; once a text is queued it is sent, claimed with those reads as before.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TEST_DB, Database, IntegrationTest, Plantao, pg_cluster  # noqa: E402


@unittest.skipUnless(TEST_DB == "pg", "PostgreSQL only (make test-pg): SQLite reads what is due without locking")
class IdleSenderOnPostgresTest(IntegrationTest):
    start_plantao = False

    def statements(self, name):
        with open(os.path.join(pg_cluster().dir, "postgres.log"), "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        # simple queries are logged as "statement: …", prepared ones as "execute <name>: …"
        return [l for l in lines if " %s " % name in l and ("statement: " in l or "execute " in l)]

    def test_idle_ticks_open_no_claim_transaction(self):
        cluster = pg_cluster()
        url = cluster.create_database()
        name = url.rsplit("/", 1)[1]
        self.addCleanup(cluster.drop_database, url)
        cluster.admin("ALTER DATABASE \"%s\" SET log_statement = 'all'" % name)
        self.plantao = Plantao(self.sim, db=Database(url))
        self.addCleanup(self.plantao.close)
        self.plantao.start()
        # a few seconds of idle engine ticks (it ticks about every ENGINE_TICK_MS)
        time.sleep(3)
        before = len(self.statements(name))
        time.sleep(3)
        idle = self.statements(name)[before:]
        self.assertGreater(len(idle), 0, "no statement of the idle server in PostgreSQL's log")
        locking = [l for l in idle if "SKIP LOCKED" in l]
        self.assertEqual(len(locking), 0, "idle ticks ran %d locking reads, e.g. %s" % (len(locking), locking[:1]))
        # and a text queued now is claimed and sent as before
        self.plantao.db.execute(
            "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, next_at_ms, created_at, "
            "updated_at) VALUES ('sms', 'support', 1, '+5511990000001', 'Teste', 'idle:1', 0, 0, 0)")
        self.sim.expect_sms("+5511990000001", containing="Teste", timeout=30)
        after = self.statements(name)[before:]
        self.assertTrue(any("SKIP LOCKED" in l for l in after), "no locking read logged: %s" % after[-5:])
