"""
tests/integration/test_monitors_visibility.py — heartbeat monitors as operators and their
neighbours see them, at the default configuration:

- someone guessing ping secrets from one address is answered 429 past the limit, while a job on
  another address with a mistyped secret still hears 404 (it can tell its URL is wrong), and a
  job with the right secret always gets 200;
- /metrics counts pings by kind and monitors by state;
- /healthz fails its "monitors" component when the monitor thread stops ticking (only when
  monitors exist).
"""

import http.client
import os
import secrets
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

OTHER_ADDRESS = "127.0.0.2"  # another loopback address: the server listens on 127.0.0.1


class MonitorVisibilityTest(IntegrationTest):

    def create(self, **fields):
        body = {"kind": "heartbeat", "name": "backup", "period_s": 60, "grace_s": 60}
        body.update(fields)
        status, m, _ = self.api("POST", "/api/monitors", json=body)
        self.assertEqual(status, 201, m)
        return m

    def ping_from(self, source, url, method="GET"):
        """A ping on url sent from the local address `source` (None: the default one).
        Returns (status, text)."""
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                          source_address=(source, 0) if source else None)
        try:
            conn.request(method, u.path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()


class TestUnknownSecretsPerAddress(MonitorVisibilityTest):

    def test_a_guesser_does_not_hold_back_a_mistyped_job_elsewhere(self):
        m = self.create()
        base = m["ping_url"].rsplit("/", 1)[0]

        def guess():
            return base + "/" + secrets.token_hex(16)

        # the guesser, from 127.0.0.1, keeps going until it is held back
        statuses = [self.ping_from("127.0.0.1", guess())[0] for _ in range(150)]
        self.assertIn(429, statuses)
        self.assertEqual(set(statuses), {404, 429})
        self.assertEqual(self.ping_from("127.0.0.1", guess())[0], 429)
        # a job on another address with a mistyped secret is told its URL is wrong, not to wait
        typo = m["ping_url"][:-1] + ("0" if m["ping_url"][-1] != "0" else "1")
        self.assertEqual(self.ping_from(OTHER_ADDRESS, typo), (404, "not found\n"))
        for _ in range(5):
            self.assertEqual(self.ping_from(OTHER_ADDRESS, guess())[0], 404)
        # the guesser is still held back (the bucket refills 20 a second while the other address
        # was served, so a guess or two may pass again; ten in a row never do), and a right
        # secret is never limited, from either address
        self.assertIn(429, [self.ping_from("127.0.0.1", guess())[0] for _ in range(10)])
        for source in ("127.0.0.1", OTHER_ADDRESS):
            for method in ("GET", "POST", "HEAD"):
                status, text = self.ping_from(source, m["ping_url"], method)
                self.assertEqual(status, 200, (source, method, text))
        pings = wait_until(lambda: (lambda p: p if len(p) >= 6 else None)(
            self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]), what="six pings recorded")
        self.assertEqual(len(pings), 6)


def metric(text, series):
    """The value of one series line ('name{labels}') in a /metrics text; None when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ", 1)[1])
    return None


class TestMonitorMetrics(MonitorVisibilityTest):

    def test_pings_by_kind_and_monitors_by_state(self):
        text = self.api_ok("GET", "/metrics")
        self.assertIn("# TYPE plantao_monitors gauge\n", text)
        self.assertIn("# HELP plantao_monitor_pings_total ", text)
        self.assertIn("# TYPE plantao_monitor_pings_total counter\n", text)
        self.assertEqual(metric(text, 'plantao_monitors{state="up"}'), 0)
        nightly = self.create(name="nightly")
        backup = self.create(name="backup")
        self.create(name="idle")
        paused = self.create(name="paused")
        self.api_ok("PATCH", "/api/monitors/%d" % paused["id"], json={"paused": True})
        for m, suffix in ((nightly, ""), (nightly, "/start"), (nightly, "/0"), (backup, "/fail"), (backup, "/3")):
            self.assertEqual(self.ping_from(None, m["ping_url"] + suffix), (200, "OK"))
        expect = {
            'plantao_monitor_pings_total{kind="success"}': 2,
            'plantao_monitor_pings_total{kind="start"}': 1,
            'plantao_monitor_pings_total{kind="fail"}': 2,
            'plantao_monitors{state="up"}': 1,
            'plantao_monitors{state="down"}': 1,
            'plantao_monitors{state="new"}': 1,
            'plantao_monitors{state="paused"}': 1,
            'plantao_monitors{state="late"}': 0,
        }
        seen = {}

        def all_there():
            text = self.api_ok("GET", "/metrics")
            seen.clear()
            seen.update({k: metric(text, k) for k in expect})
            return seen == expect
        try:
            wait_until(all_there, timeout=30, what="pings and states in /metrics")
        except AssertionError:
            self.fail("/metrics: %r, expected %r" % (seen, expect))


class TestMonitorHealth(MonitorVisibilityTest):

    def health(self):
        status, body, _ = self.api("GET", "/healthz?verbose", token=None, timeout=30)
        self.assertIn(status, (200, 503), body)
        return status, body

    def test_a_monitor_thread_that_stopped_ticking_fails_healthz(self):
        if self.plantao.db.kind != "sqlite":
            self.skipTest("holds SQLite's write lock")
        status, body = self.health()
        self.assertNotIn("monitors", body)  # no monitors: nothing to watch, no component
        m = self.create(period_s=5, grace_s=5)
        body = wait_until(lambda: (lambda b: b if b.get("monitors") == "ok" else None)(self.health()[1]),
                          timeout=30, what="/healthz monitors ok")
        self.assertEqual(body["components"]["monitors"]["monitors"], 1)
        # something holds the database's write lock (a stuck backup, a runaway script): the
        # monitor thread cannot fold pings nor notice the job that stopped
        lock = self.plantao.db.connect(timeout=1, isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            body = wait_until(lambda: (lambda b: b if b.get("monitors") == "stalled" else None)(self.health()[1]),
                              timeout=60, what="/healthz monitors stalled")
            self.assertIn("monitors", body["reasons"])
            self.assertIn("not ticked", body["reasons"]["monitors"])
            text = self.api_ok("GET", "/metrics", timeout=30)
            self.assertEqual(metric(text, 'plantao_health_ok{component="monitors"}'), 0)
            status, _ = self.health()
            self.assertEqual(status, 503)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        wait_until(lambda: self.health()[1].get("monitors") == "ok", timeout=30, what="/healthz monitors ok again")
        self.assertIn("health: monitors failing (stalled)", self.plantao.log_text())
        self.assertEqual(self.ping_from(None, m["ping_url"]), (200, "OK"))
