"""
tests/integration/test_monitors_uptime.py — uptime checks (monitors of kind http and tcp, issue
15) against local servers the test starts and stops, at the default configuration, with
plantao's clock moved by the test:

- a failing check is retried once a few seconds later before it counts; failures_before_alert
  counted failures put the monitor down and page, with the failure in words; the next success
  resolves it with one "voltou" text;
- failures are told apart: status, keyword, connect, DNS, timeout, TLS;
- tcp checks connect to host:port;
- a TLS certificate that expires within cert_warn_days opens a warning alert (a certificate
  made here with openssl, valid for 5 days);
- a site that goes up and down over and over is shown as flapping and stops paging each fall.
"""

import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, free_port, wait_until  # noqa: E402

ANA = "+5511990000001"


class Site:
    """A local HTTP(S) server whose answers the test sets: status, body, delay."""

    def __init__(self, certfile=None):
        self.status, self.body, self.delay, self.hits = 200, b"tudo ok por aqui", 0.0, 0
        self.script = []  # statuses for the next requests, then self.status
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.hits += 1
                if self.path == "/old":  # moved: a redirect to the page
                    self.send_response(302)
                    self.send_header("Location", "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if site.delay:
                    time.sleep(site.delay)
                status = site.script.pop(0) if site.script else site.status
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(site.body)))
                    self.end_headers()
                    self.wfile.write(site.body)
                except OSError:
                    pass  # the checker gave up (timeout): nothing to answer

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if certfile:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = "%s://127.0.0.1:%d/" % ("https" if certfile else "http", self.port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class UptimeTest(IntegrationTest):

    def team(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": ana, "timeout_s": 30}], "rounds": 1})

    def site(self, **kw):
        s = Site(**kw)
        self.addCleanup(s.stop)
        return s

    def create(self, **fields):
        body = {"kind": "http", "name": "site", "severity": "warning"}
        body.update(fields)
        status, m, _ = self.api("POST", "/api/monitors", json=body)
        self.assertEqual(status, 201, m)
        return m

    def monitor(self, mid):
        return self.api_ok("GET", "/api/monitors/%d" % mid)

    def pings(self, mid):
        return self.api_ok("GET", "/api/monitors/%d/pings" % mid)["pings"]

    def wait(self, mid, pred, what, timeout=15):
        return wait_until(lambda: (lambda m: m if pred(m) else None)(self.monitor(mid)), timeout=timeout,
                          what="monitor %d %s" % (mid, what))

    def checked(self, mid, n, timeout=15):
        """Waits until monitor mid has n counted results."""
        wait_until(lambda: len(self.pings(mid)) >= n, timeout=timeout, what="%d results of monitor %d" % (n, mid))
        return self.monitor(mid)


class TestHttpChecks(UptimeTest):

    def test_retry_then_count_then_page_then_voltou(self):
        self.team()
        site = self.site()
        m = self.create(url=site.url, keyword="tudo ok", interval_s=60, failures_before_alert=2)
        self.assertEqual((m["expect_status"], m["timeout_s"], m["tls_verify"]), ("200-399", 10, True))
        up = self.checked(m["id"], 1)  # checked at once
        self.assertEqual(up["state"], "up")
        self.assertIsNotNone(up["last_response_ms"])
        # one bad answer, fine again on the retry a few seconds later: nothing counts
        site.script = [503]
        self.advance(60)
        wait_until(lambda: site.hits >= 2, what="second check")
        time.sleep(0.5)
        self.assertEqual(len(self.pings(m["id"])), 1)
        self.advance(5)
        m1 = self.checked(m["id"], 2)
        self.assertEqual((m1["state"], m1["fail_streak"], m1["last_ping_kind"]), ("up", 0, "success"))
        # the site fails for real: the first counted failure is below failures_before_alert
        site.status = 503
        self.advance(60)
        self.advance(5)
        m2 = self.checked(m["id"], 3)
        self.assertEqual((m2["state"], m2["fail_streak"]), ("up", 1))
        self.assertEqual(m2["last_error"], "status: 503 (expected 200-399)")
        self.sim.assert_quiet(1.0)
        self.advance(60)
        self.advance(5)
        down = self.wait(m["id"], lambda x: x["state"] == "down", "down")
        sms = self.sim.expect_sms(ANA, containing='Monitor "site" fora do ar: status: 503')
        self.assertIn("Alerta %d" % down["alert_id"], sms.body)
        # back: one success resolves it, one text says so
        site.status = 200
        self.advance(60)
        self.wait(m["id"], lambda x: x["state"] == "up", "up again")
        self.sim.expect_sms(ANA, containing='Alerta %d resolvido: monitor "site" voltou' % down["alert_id"])
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % down["alert_id"])["status"], "resolved")
        kinds = [p["kind"] for p in self.pings(m["id"])]
        self.assertEqual(kinds, ["success", "fail", "fail", "success", "success"])
        self.sim.assert_quiet(1.0)

    def test_failures_in_words(self):
        site = self.site()
        slow = self.site()
        slow.delay = 4.0
        gone = self.site()
        gone.stop()
        mons = {
            "keyword": self.create(url=site.url, keyword="palavra que não está", failures_before_alert=1),
            "status": self.create(url=site.url, expect_status="201", failures_before_alert=1),
            "connect": self.create(url=gone.url, failures_before_alert=1),
            "dns": self.create(url="http://nao-existe.invalid/", failures_before_alert=1),
            "timeout": self.create(url=slow.url, timeout_s=1, failures_before_alert=1),
        }
        time.sleep(2.5)  # first tries failed (the slow one after its 1 s timeout); retries wait for the clock
        self.advance(5)
        want = {"keyword": 'keyword: "palavra que não está" missing from the page',
                "status": "status: 200 (expected 201)", "connect": "connect: ", "dns": "DNS: ",
                "timeout": "timeout: no answer within 1 s"}
        for name, m in mons.items():
            got = self.wait(m["id"], lambda x: x["state"] == "down", "down (%s)" % name)
            self.assertTrue(got["last_error"].startswith(want[name]), (name, got["last_error"]))
            self.assertIsNotNone(got["alert_id"])
            alert = self.api_ok("GET", "/api/alerts/%d" % got["alert_id"])
            self.assertIn(want[name].split(":")[0], alert["summary"])

    def test_redirects_followed_only_when_asked_and_pause(self):
        site = self.site()
        plain = self.create(name="antigo", url=site.url + "old", expect_status="200", failures_before_alert=1)
        follow = self.create(name="seguido", url=site.url + "old", expect_status="200", keyword="tudo ok",
                             follow_redirects=True, failures_before_alert=1)
        self.assertEqual(self.checked(follow["id"], 1)["state"], "up")
        time.sleep(1.0)
        self.advance(5)  # the retry of the redirect that was not followed
        got = self.wait(plain["id"], lambda x: x["state"] == "down", "down")
        self.assertEqual(got["last_error"], "status: 302 (expected 200)")
        # paused: no more checks, its alert closed; resumed: checked again at once
        hits = site.hits
        p = self.api_ok("PATCH", "/api/monitors/%d" % plain["id"], json={"paused": True})
        self.assertEqual((p["state"], p["alert_id"]), ("paused", None))
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % got["alert_id"])["status"], "resolved")
        self.api_ok("PATCH", "/api/monitors/%d" % follow["id"], json={"paused": True})
        self.advance(600)
        time.sleep(1.0)
        self.assertEqual(site.hits, hits)
        r = self.api_ok("PATCH", "/api/monitors/%d" % plain["id"], json={"paused": False, "expect_status": "200-399"})
        self.assertEqual(r["state"], "new")
        self.assertEqual(self.wait(plain["id"], lambda x: x["state"] == "up", "up after resume")["fail_streak"], 0)

    def test_tcp_check(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        port = srv.getsockname()[1]
        m = self.create(kind="tcp", target="127.0.0.1:%d" % port, failures_before_alert=1)
        self.assertEqual(self.checked(m["id"], 1)["state"], "up")
        srv.close()
        self.advance(60)
        self.advance(5)
        down = self.wait(m["id"], lambda x: x["state"] == "down", "down")
        self.assertTrue(down["last_error"].startswith("connect: "), down["last_error"])
        self.assertEqual(self.pings(m["id"])[0]["method"], "TCP")
        status, err, _ = self.api("POST", "/api/monitors", json={"kind": "tcp", "name": "x", "target": "no-port"})
        self.assertEqual(status, 422, err)

    def test_certificate_expiring_soon_warns_and_an_untrusted_one_is_a_tls_failure(self):
        d = tempfile.mkdtemp(prefix="plantao-cert-")
        pem = os.path.join(d, "site.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "5", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", pem, "-out",
                        pem + ".crt"], check=True, capture_output=True)
        with open(pem, "a") as f, open(pem + ".crt") as c:
            f.write(c.read())
        site = self.site(certfile=pem)
        self.team()
        lax = self.create(name="loja", url=site.url, tls_verify=False, severity="critical")
        strict = self.create(name="loja estrita", url=site.url, failures_before_alert=1)
        got = self.wait(lax["id"], lambda x: x.get("cert_expires_at_unix"), "certificate seen")
        self.assertEqual(got["state"], "up")
        self.assertAlmostEqual(got["cert_expires_at_unix"], time.time() + 5 * 86400, delta=2 * 86400)
        sms = self.sim.expect_sms(ANA, containing='Certificado TLS de "loja" expira em')
        self.assertIsNotNone(got["cert_alert_id"])
        alert = self.api_ok("GET", "/api/alerts/%d" % got["cert_alert_id"])
        self.assertEqual(alert["severity"], "warning")  # a warning, even on a critical monitor
        self.assertIn("Alerta %d" % alert["id"], sms.body)
        # the same site with verification on: self-signed is a TLS failure
        time.sleep(1.0)
        self.advance(5)
        bad = self.wait(strict["id"], lambda x: x["state"] == "down", "down")
        self.assertTrue(bad["last_error"].startswith("TLS: "), bad["last_error"])
        self.sim.expect_sms(ANA, containing='Monitor "loja estrita" fora do ar: TLS')
        self.sim.assert_quiet(1.0)

    def test_flapping_is_shown_and_not_paged_every_time(self):
        self.team()
        site = self.site()
        m = self.create(url=site.url, failures_before_alert=1)
        self.checked(m["id"], 1)
        pages = 0
        for i in range(8):  # down, up, down, up, ...: one check a minute
            site.status = 500 if i % 2 == 0 else 200
            self.advance(60)
            if site.status == 500:
                self.advance(5)
            self.checked(m["id"], 2 + i)
        got = self.monitor(m["id"])
        self.assertTrue(got["flapping"], got)
        texts = [s.body for s in self.sim.sms_to(ANA)]
        pages = [t for t in texts if "fora do ar" in t]
        backs = [t for t in texts if "voltou" in t]
        # the first falls page; once flapping, the alert stays open instead of paging each fall
        self.assertEqual((len(pages), len(backs)), (3, 2), texts)
        self.assertIsNotNone(got["alert_id"])
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % got["alert_id"])["status"] != "resolved", True)
        for s in self.sim.sms_to(ANA):
            s.consumed = True
