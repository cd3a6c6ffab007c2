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
        # the guesser is still held back, and a right secret is never limited, from either address
        self.assertEqual(self.ping_from("127.0.0.1", guess())[0], 429)
        for source in ("127.0.0.1", OTHER_ADDRESS):
            for method in ("GET", "POST", "HEAD"):
                status, text = self.ping_from(source, m["ping_url"], method)
                self.assertEqual(status, 200, (source, method, text))
        pings = wait_until(lambda: (lambda p: p if len(p) >= 6 else None)(
            self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]), what="six pings recorded")
        self.assertEqual(len(pings), 6)
