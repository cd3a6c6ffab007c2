"""
tests/integration/test_faults.py — plantao under faults: the Twilio API down for a while and
then back (everything queued meanwhile is delivered exactly once), and the disk filling up
under the database (a clear error, no corruption, service again once there is room).
Other faults live with their features: kill -9 mid-send (test_outbound), mid-escalation
(test_alerts), a locked database (test_security), the clock jumping over shift boundaries
(test_support); kill -9 mid-import is here.
"""

import http.client
import os
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import IntegrationTest, Plantao, wait_until
from test_outbound import PHONE, queue, rows


class TestTwilioOutage(IntegrationTest):
    plantao_env = {"PLANTAO_SMS_RATE": "0"}

    def test_down_then_back_everything_once(self):
        self.sim.down()
        queue(self.plantao, n=30, body="Durante a queda %d", key="outage:%d")
        time.sleep(1.5)
        self.assertEqual(len(self.sim.messages), 0)
        waiting = rows(self.plantao, "status IN ('pending', 'retry', 'sending')")
        self.assertEqual(len(waiting), 30, "nothing is dropped while Twilio is unreachable")
        self.assertTrue(any(r["tries"] > 0 for r in waiting), "sends were attempted")
        self.sim.up()
        for _ in range(12):  # let back-off timers run out on plantao's clock
            self.advance(60, settle=0.2)
            if len(self.sim.messages) >= 30:
                break
        wait_until(lambda: len(self.sim.messages) >= 30, timeout=30, what="all 30 messages after the outage")
        time.sleep(1.0)
        bodies = sorted(m.body for m in self.sim.messages)
        self.assertEqual(bodies, sorted("Durante a queda %d" % i for i in range(30)))  # each exactly once
        for m in list(self.sim.messages):
            self.sim.expect_sms(PHONE, containing=m.body)
        wait_until(lambda: not rows(self.plantao, "status IN ('pending', 'retry', 'sending')"), timeout=20,
                   what="every row settled")


class TestDiskFull(IntegrationTest):
    start_plantao = False

    def setUp(self):
        super().setUp()
        self.mnt = tempfile.mkdtemp(prefix="plantao-full-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            os.rmdir(self.mnt)
            raise unittest.SkipTest("cannot mount a small tmpfs here (%s): disk-full test needs root"
                                    % r.stderr.decode().strip())
        self.addCleanup(self._unmount)

    def _unmount(self):
        subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        os.rmdir(self.mnt)

    def test_full_disk_clear_error_no_corruption(self):
        p = self.start_plantao_now(env={"PLANTAO_DB": os.path.join(self.mnt, "plantao.db")})
        p.db_path = os.path.join(self.mnt, "plantao.db")
        person = p.api("POST", "/api/people", json={"name": "Ana", "phone": PHONE})
        self.assertEqual(person[0], 201, person)
        # fill the file system, leaving a few pages
        filler = os.path.join(self.mnt, "filler")
        # unbuffered: a write that only partly fits must not leave bytes for close() to retry
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            chunk = b"\0" * 65536
            while True:
                try:
                    if os.write(fd, chunk) == 0:
                        break
                except OSError:
                    if len(chunk) == 512:
                        break
                    chunk = chunk[:len(chunk) // 2]
        finally:
            os.close(fd)
        os.truncate(filler, os.path.getsize(filler) - 8 * 1024)
        statuses = []
        for i in range(200):
            status, body, _ = p.api("POST", "/api/alerts", json={"summary": "disco cheio %d" % i,
                                                                 "details": "x" * 2000})
            statuses.append(status)
            if status >= 500:
                self.assertIn("error", body)  # a clear JSON error, not a dropped connection
                self.assertIn(body["error"]["code"], ("database", "busy", "internal"))
                break
        self.assertTrue(any(s >= 500 for s in statuses), "the disk never filled: %s" % statuses[-3:])
        self.assertEqual(p.api("GET", "/healthz?live", token=None)[0], 200)  # still serving
        os.unlink(filler)
        status, body, _ = p.api("POST", "/api/alerts", json={"summary": "depois do disco"})
        self.assertEqual(status, 202, body)
        p.stop()
        db = sqlite3.connect(p.db_path)
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        summaries = [r[0] for r in db.execute("SELECT summary FROM alerts ORDER BY id")]
        db.close()
        self.assertIn("depois do disco", summaries)
        # every alert acknowledged with 202 is in the database: nothing accepted was lost
        self.assertEqual(len(summaries), statuses.count(202) + 1)
        p.start()
        self.assertEqual(p.api("GET", "/healthz?live", token=None)[0], 200)
        # what was paged meanwhile is not our concern here
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True
            for c in self.sim.calls:
                c.consumed = True


class TestKillDuringImport(IntegrationTest):
    plantao_env = {"PLANTAO_SMS_RATE": "0"}

    def upload_part(self, rows):
        """Starts a chunked CSV upload and sends `rows` rows without finishing it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.plantao.port, timeout=30)
        conn.putrequest("POST", "/api/sales?period=2026-05")
        conn.putheader("Authorization", "Bearer " + self.plantao.api_token)
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        piece = b"vendedor;valor\r\n" + b"".join(b"Vendedor %d;60.000,00\r\n" % (i % 7) for i in range(rows))
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        return conn

    def test_kill9_mid_upload_imports_nothing_then_once(self):
        self.api_ok("PUT", "/api/sales/settings", json={"notify": ["+5511970000001"]})
        conn = self.upload_part(20000)
        time.sleep(0.5)  # the server has read and staged part of the file
        self.plantao.kill9()
        conn.close()
        self.plantao.start()
        db = self.plantao.db.connect()
        if self.plantao.db.kind == "sqlite":
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(db.execute("SELECT count(*) FROM sales").fetchone()[0], 0)  # nothing half-imported
        self.assertEqual(db.execute("SELECT count(*) FROM outbox").fetchone()[0], 0)
        db.close()
        # the same file again, whole: imported once, each seller announced once
        body = "vendedor;valor\n" + "".join("Vendedor %d;60.000,00\n" % i for i in range(7))
        status, answer, _ = self.api("POST", "/api/sales?period=2026-05", data=body,
                                     headers={"Content-Type": "text/csv"})
        self.assertEqual(status, 201, answer)
        for i in range(7):
            self.sim.expect_sms("+5511970000001", containing="Vendedor %d vendeu" % i)
        self.sim.assert_quiet(0.5)


class TestSlowMailServer(IntegrationTest):
    """A mail server that accepts connections and never answers holds each IMAP poll until its
    timeout; paging must not wait for it (the poller has its own thread)."""

    start_plantao = False

    def test_alert_is_paged_while_imap_hangs(self):
        import socket
        import threading
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        held = []
        stop = threading.Event()

        def accept():
            silent.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(silent.accept()[0])  # keep it open, say nothing
                except OSError:
                    pass
        t = threading.Thread(target=accept, daemon=True)
        t.start()
        self.addCleanup(lambda: (stop.set(), t.join(), [c.close() for c in held], silent.close()))
        self.start_plantao_now(env={
            "PLANTAO_IMAP_URL": "imap://127.0.0.1:%d/INBOX" % silent.getsockname()[1],
            "PLANTAO_IMAP_USER": "u", "PLANTAO_IMAP_PASSWORD": "p", "PLANTAO_IMAP_INTERVAL": "1",
            "PLANTAO_SMS_RATE": "0", "PLANTAO_CALL_RATE": "0"})
        wait_until(lambda: held, timeout=5, what="the IMAP poller to connect")
        pid = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": PHONE}, expect=201)["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [pid]})
        self.sim.phone(PHONE).answers(digits="1")
        t0 = time.monotonic()
        aid = self.api_ok("POST", "/api/alerts", json={"summary": "paging during a mail outage"}, expect=202)["id"]
        self.sim.expect_sms(PHONE, containing="Alerta %d" % aid, timeout=3)
        self.assertLess(time.monotonic() - t0, 3.0)
        self.sim.expect_call(PHONE, timeout=5)
        self.sim.expect_sms(PHONE, containing="assumido", timeout=5)
