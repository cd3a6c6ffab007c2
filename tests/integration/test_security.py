"""
tests/integration/test_security.py — access control and abuse limits of the running server:
token roles, per-address rate limits on the API, HTTPS straight from libmicrohttpd, secrets
kept out of logs and error bodies, a database locked by another process.
"""

import os
import sqlite3
import ssl
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import TEST_DB, IntegrationTest, Plantao, wait_until


class TestTokens(IntegrationTest):
    def test_roles(self):
        made = {}
        for role in ("admin", "editor", "viewer", "alerts"):
            body = self.api_ok("POST", "/api/tokens", json={"name": "t-" + role, "role": role}, expect=201)
            self.assertTrue(body["token"].startswith("plt_"))
            made[role] = body["token"]
        # admin-only route
        for role, want in (("admin", 200), ("editor", 403), ("viewer", 403), ("alerts", 403)):
            status, body, _ = self.api("GET", "/api/tokens", token=made[role])
            self.assertEqual(status, want, role)
            if want == 403:
                self.assertEqual(body["error"]["code"], "forbidden")
        # the list shows tokens but never their secrets or hashes
        status, body, _ = self.api("GET", "/api/tokens")
        text = str(body)
        for secret in made.values():
            self.assertNotIn(secret, text)
        self.assertNotIn("hash", text)
        # stored as SHA-256 only
        stored = [r["hash"] for r in self.plantao.db.query("SELECT hash FROM api_tokens")]
        self.assertTrue(all(len(h) == 64 for h in stored))
        for secret in made.values():
            self.assertNotIn(secret, stored)

    def test_revoked_token_refused(self):
        body = self.api_ok("POST", "/api/tokens", json={"name": "gone", "role": "admin"}, expect=201)
        self.assertEqual(self.api("GET", "/api/tokens", token=body["token"])[0], 200)
        self.api_ok("DELETE", "/api/tokens/%d" % body["id"])
        status, err, headers = self.api("GET", "/api/tokens", token=body["token"])
        self.assertEqual(status, 401)
        self.assertIn("bearer", headers.get("www-authenticate", "").lower())

    def test_cli_token(self):
        out = subprocess.run([self.plantao.binary, "token", "create", "--role", "viewer", "--name", "tv"],
                             cwd=self.plantao.tmp, env=self.plantao.env, capture_output=True, text=True, check=True)
        token = out.stdout.strip()
        self.assertTrue(token.startswith("plt_"))
        self.assertIn("shown only this once", out.stderr)
        self.assertEqual(self.api("GET", "/api/tokens", token=token)[0], 403)  # a viewer is not admin


class TestRateLimit(IntegrationTest):
    plantao_env = {"PLANTAO_API_RATE": "5"}

    def test_flood_gets_429_then_recovers(self):
        codes = [self.api("GET", "/api/tokens", token="nope")[0] for _ in range(40)]
        self.assertIn(429, codes)
        self.assertLessEqual(codes.count(401), 12)  # burst of 2 x rate, plus what refilled meanwhile
        status, body, headers = self.api("GET", "/api/tokens")
        if status == 429:
            self.assertEqual(headers.get("retry-after"), "1")
            self.assertEqual(body["error"]["code"], "rate_limited")
        # webhooks and health are not rate limited
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)
        time.sleep(1.2)
        self.assertEqual(self.api("GET", "/api/tokens")[0], 200)


class TestSecretsNotLogged(IntegrationTest):
    def test_tokens_never_in_logs_or_errors(self):
        self.api("GET", "/api/tokens", token="plt_guessing")
        self.plantao.webhook("/twilio/voice", {"CallSid": "CA1", "From": "+5511988887777"}, signature="forged")
        status, body, _ = self.api("GET", "/api/tokens", token="plt_guessing")
        self.assertNotIn("plt_guessing", str(body))
        # the access log line is written when the response is complete: wait for it
        log = wait_until(lambda: "POST /twilio/voice 403" in self.plantao.log_text() and self.plantao.log_text(),
                         what="access log line of the forged webhook")
        self.assertNotIn(self.plantao.api_token, log)
        self.assertNotIn(self.sim.auth_token, log)
        self.assertNotIn("plt_guessing", log)
        self.assertIn("403", log)


class TestTls(IntegrationTest):
    start_plantao = False

    def test_https(self):
        tmp = self.sim_tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "plantao-tls-%d" % os.getpid())
        os.makedirs(tmp, exist_ok=True)
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
        p = Plantao(self.sim, env={"PLANTAO_TLS_CERT": cert, "PLANTAO_TLS_KEY": key})
        p.url = p.url.replace("http://", "https://")
        self.addCleanup(p.close)
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        p.start(wait=False)
        self.addCleanup(p.stop)

        def up():
            try:
                with urllib.request.urlopen(p.url + "/healthz?live", context=ctx, timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_until(up, timeout=10, what="HTTPS /healthz")
        with self.assertRaises(OSError):  # plain HTTP on the TLS port is refused
            urllib.request.urlopen(p.url.replace("https://", "http://") + "/healthz?live", timeout=2).read()
        subprocess.run(["rm", "-rf", tmp], check=False)

    def test_half_tls_config_refused(self):
        p = Plantao(self.sim, env={"PLANTAO_TLS_CERT": "/nonexistent.pem"})
        self.addCleanup(p.close)
        with self.assertRaises(RuntimeError) as e:
            p.start()
        self.assertIn("PLANTAO_TLS_CERT", str(e.exception))


class TestDatabaseLocked(IntegrationTest):
    @unittest.skipIf(TEST_DB == "pg", "SQLite only: holds the database file's lock (BEGIN EXCLUSIVE) and checks "
                     "the file's integrity; PostgreSQL has neither")
    def test_requests_wait_for_a_lock_then_succeed(self):
        db = sqlite3.connect(self.plantao.db_path, isolation_level=None, timeout=5)
        db.execute("BEGIN EXCLUSIVE")
        results = []

        def create():
            results.append(self.api("POST", "/api/tokens", json={"name": "while-locked", "role": "viewer"}))
        t = threading.Thread(target=create)
        t.start()
        time.sleep(2)
        db.execute("COMMIT")
        t.join(15)
        status, body, headers = results[0]
        self.assertIn(status, (201, 503), body)  # waited, or a clear 503 with Retry-After
        if status == 503:
            self.assertEqual(headers.get("retry-after"), "1")
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        self.assertEqual(ok, "ok")
        db.close()
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)
