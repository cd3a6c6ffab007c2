"""
tests/integration/test_visibility.py — what keeps pages from going out is visible.

The failure stories:
- Requests refused because the database's writer lock was not had within 5 s, and connections
  the slow-client guard cut, were only log lines: Prometheus could not alert on a pager whose
  webhooks are being crowded out. They are counters in /metrics now.
- The IMAP mail poller that cannot log in (a password changed on the mail server), cannot get
  TLS, or cannot reach its server kept failing in the log while /healthz said all was well:
  alert e-mails were silently not read. It is a /healthz component now: 503 with the reason.
"""

import os
import re
import socket
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TEST_DB, IntegrationTest, wait_until  # noqa: E402
from test_imap import MONITOR, Dovecot, dovecot_installed  # noqa: E402

ANA = "+5511990000001"


def metric(text, name, labels=""):
    m = re.search(r"^%s%s (\d+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return int(m.group(1)) if m else None


class MetricsTest(IntegrationTest):

    def metrics(self):
        status, body, _ = self.api("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        return body

    def test_slow_clients_cut_are_counted(self):
        self.assertEqual(metric(self.metrics(), "plantao_http_slow_clients_cut_total", '{reason="head"}'), 0)
        head = socket.create_connection(("127.0.0.1", self.plantao.port), timeout=2)
        self.addCleanup(head.close)
        head.sendall(b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        closed = False
        while not closed and time.monotonic() - t0 < 40:  # one header line a second: never idle
            try:
                head.sendall(b"X-a: b\r\n")
                head.settimeout(0.01)
                closed = head.recv(4096) == b""
            except socket.timeout:
                pass
            except OSError:
                closed = True
            time.sleep(1)
        self.assertTrue(closed, "a trickling request head was not cut")
        text = wait_until(lambda: (lambda t: metric(t, "plantao_http_slow_clients_cut_total", '{reason="head"}')
                                   and t)(self.metrics()), timeout=10, what="the cut in /metrics")
        self.assertEqual(metric(text, "plantao_http_slow_clients_cut_total", '{reason="head"}'), 1)
        self.assertIn("# TYPE plantao_http_slow_clients_cut_total counter", text)

    @unittest.skipIf(TEST_DB == "pg", "SQLite only: holds the database file's lock from outside")
    def test_writer_lock_timeouts_are_counted(self):
        self.assertEqual(metric(self.metrics(), "plantao_db_writer_timeouts_total"), 0)
        # Another process holds SQLite's lock: the first API write waits on it inside plantao's
        # writer lock (SQLite's 5 s busy timeout) and the others queue behind it past their 5 s.
        db = sqlite3.connect(self.plantao.db_path, isolation_level=None, timeout=5)
        db.execute("BEGIN IMMEDIATE")
        results = []

        def create(i):
            results.append(self.api("POST", "/api/people", json={"name": "P%d" % i, "phone": "+551199000%04d" % i},
                                    timeout=30))
        threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join(30)
        db.execute("ROLLBACK")
        db.close()
        statuses = sorted(r[0] for r in results)
        self.assertIn(503, statuses, results)
        busy = [r for r in results if r[0] == 503]
        self.assertTrue(all(r[2].get("retry-after") == "1" for r in busy), busy)
        text = self.metrics()
        self.assertGreaterEqual(metric(text, "plantao_db_writer_timeouts_total"), 1, text[-2000:])
        self.assertIn("# TYPE plantao_db_writer_timeouts_total counter", text)


@unittest.skipUnless(dovecot_installed(), "dovecot is not installed: `scripts/deps test` installs dovecot-imapd")
class ImapHealthTest(IntegrationTest):
    start_plantao = False

    def start(self, d, password=None, **env):
        merged = {"PLANTAO_IMAP_URL": d.url, "PLANTAO_IMAP_USER": d.user,
                  "PLANTAO_IMAP_PASSWORD": password or d.password, "PLANTAO_IMAP_FROM": MONITOR,
                  "PLANTAO_IMAP_SUBJECT": "ALERTA", "PLANTAO_IMAP_INTERVAL": "1", "PLANTAO_IMAP_CA_FILE": d.cert}
        merged.update(env)
        self.start_plantao_now(merged)
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 168})

    def dovecot(self, mode="starttls"):
        d = Dovecot(mode=mode)
        self.addCleanup(d.close)
        return d.start()

    def health(self):
        status, body, _ = self.api("GET", "/healthz", token=None)
        return status, body

    def wait_imap(self, code, status, timeout=20):
        return wait_until(lambda: (lambda h: h[1].get("imap") == code and h[0] == status and h)(self.health()),
                          timeout=timeout, what="/healthz imap %s with %d" % (code, status))

    def test_a_refused_login_fails_healthz_with_the_reason(self):
        d = self.dovecot()
        self.start(d, password="wrong-" + d.password)
        status, body = self.wait_imap("auth_error", 503)
        self.assertIn("refuses the login", body["reasons"]["imap"])
        self.assertIn("PLANTAO_IMAP_PASSWORD", body["reasons"]["imap"])
        self.assertNotIn("127.0.0.1", body["reasons"]["imap"])  # public: no host names
        for other in ("database", "twilio", "oncall", "outbox"):
            self.assertEqual(body[other], "ok", body)
        text = self.api("GET", "/metrics", token=None)[1]
        self.assertEqual(metric(text, "plantao_health_ok", '{component="imap"}'), 0)
        self.assertEqual(metric(text, "plantao_paging_ok"), 0)

    def test_a_server_without_tls_fails_healthz(self):
        d = self.dovecot("plain")
        self.start(d, PLANTAO_IMAP_CA_FILE=None)
        status, body = self.wait_imap("tls_required", 503)
        self.assertIn("clear text", body["reasons"]["imap"])

    def test_a_server_down_warns_then_fails_and_recovers(self):
        d = self.dovecot()
        self.start(d)
        self.wait_imap("ok", 200)
        d.stop()
        status, body = self.wait_imap("unreachable", 200, timeout=10)  # a blip is a warning
        self.assertEqual(body["status"], "warning", body)
        status, body = self.wait_imap("unreachable", 503, timeout=30)  # three polls in a row: failing
        self.assertIn("has not answered", body["reasons"]["imap"])
        d.start()
        self.wait_imap("ok", 200, timeout=30)

    def test_no_imap_component_without_imap(self):
        self.start_plantao_now()
        status, body = self.health()
        self.assertNotIn("imap", body)
