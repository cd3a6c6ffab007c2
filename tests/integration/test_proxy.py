"""
tests/integration/test_proxy.py — the reverse proxy examples of docs/proxy/ (issue 14, item 8),
each run for real: Caddy (docs/proxy/Caddyfile) and nginx (docs/proxy/nginx.conf) are started on
loopback from the example file with only the ports, names and certificate paths substituted;
a Twilio webhook signed for the proxy's https:// URL goes through the proxy, plantao (with
PLANTAO_PUBLIC_URL set to that URL) validates the signature and the TwiML comes back; a forged
signature is refused through the proxy too.

Caddy's automatic certificates need the public internet (ACME), so the test replaces them with
`tls internal` (Caddy's own local CA, whose root the client trusts); nginx gets a self-signed
certificate made with openssl. Both are skipped when the program is not installed.
"""

import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import ROOT, TWILIO_FROM, IntegrationTest, free_port, wait_until
from twilio_sim import signature

ANA, CUSTOMER = "+5511990000001", "+5511988887777"
DOCS = os.path.join(ROOT, "docs", "proxy")
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ProxyTest(IntegrationTest):
    start_plantao = False
    program = None

    def setUp(self):
        if not shutil.which(self.program):
            self.skipTest("%s is not installed" % self.program)
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="plantao-it-proxy-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.https_port = free_port()
        self.public = "https://localhost:%d" % self.https_port
        self.proc = None

    def start_proxy(self, args, env=None):
        log = open(os.path.join(self.dir, "proxy.log"), "wb")
        self.proc = subprocess.Popen(args, cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.addCleanup(self.stop_proxy)

    def stop_proxy(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def proxy_log(self):
        with open(os.path.join(self.dir, "proxy.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def post(self, path, params, sig, cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        req = urllib.request.Request(self.public + path, data=urllib.parse.urlencode(params).encode(), method="POST",
                                     headers={"X-Twilio-Signature": sig,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx)).open(req, timeout=20) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def wait_proxy(self, cafile):
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("%s exited:\n%s" % (self.program, self.proxy_log()))
            if cafile and not os.path.exists(cafile):
                return False
            try:
                ctx = ssl.create_default_context(cafile=cafile)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                     urllib.request.HTTPSHandler(context=ctx))
                with opener.open(self.public + "/healthz?live", timeout=3) as r:
                    return r.status == 200
            except (OSError, ssl.SSLError):
                return False
        wait_until(up, timeout=60, interval=0.2, what="%s serving %s" % (self.program, self.public))

    def check_webhook_through_proxy(self, cafile):
        """plantao with PLANTAO_PUBLIC_URL = the proxy's URL; Ana on call; a customer calls."""
        p = self.plantao
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        params = {"CallSid": "CA" + "7" * 32, "AccountSid": self.sim.account_sid, "From": CUSTOMER,
                  "To": TWILIO_FROM, "CallStatus": "ringing", "Direction": "inbound"}
        url = self.public + "/twilio/voice"
        status, body, headers = self.post("/twilio/voice", params, signature(self.sim.auth_token, url, params), cafile)
        self.assertEqual(status, 200, body + "\n" + p.log_tail())
        self.assertIn("xml", headers.get("Content-Type", ""))
        self.assertIn("<Response>", body)
        self.assertIn(ANA, body)  # the support line dials the person on call
        self.assertIn(self.public + "/twilio/", body)  # callbacks through the proxy's URL
        forged = self.post("/twilio/voice", dict(params, CallSid="CA" + "8" * 32), "AAAA" + "=" * 24, cafile)
        self.assertEqual(forged[0], 403, forged[1])
        # signed for plantao's own address instead of the public one: refused (the proxy passes
        # X-Forwarded-*; plantao checks against PLANTAO_PUBLIC_URL, never against those headers)
        inner = "http://127.0.0.1:%d/twilio/voice" % p.port
        wrong = self.post("/twilio/voice", dict(params, CallSid="CA" + "9" * 32),
                          signature(self.sim.auth_token, inner, params), cafile)
        self.assertEqual(wrong[0], 403, wrong[1])
        print("[measure] %s: signed webhook through the proxy answered %d with %d bytes of TwiML"
              % (self.program, status, len(body)))


class TestCaddy(ProxyTest):
    program = "caddy"

    def test_signed_webhook_through_caddy(self):
        p = self.start_plantao_now({"PLANTAO_PUBLIC_URL": self.public})
        with open(os.path.join(DOCS, "Caddyfile")) as f:
            text = f.read()
        self.assertIn("plantao.example.com {", text)
        self.assertIn("reverse_proxy 127.0.0.1:8080", text)
        storage = os.path.join(self.dir, "caddy")
        text = text.replace("plantao.example.com {", "localhost:%d {\n\ttls internal" % self.https_port)
        text = text.replace("127.0.0.1:8080", "127.0.0.1:%d" % p.port)
        glob = ("{\n\tadmin off\n\tskip_install_trust\n\tstorage file_system %s\n\thttp_port %d\n\thttps_port %d\n"
                "\tauto_https disable_redirects\n}\n" % (storage, free_port(), self.https_port))
        conf = os.path.join(self.dir, "Caddyfile")
        with open(conf, "w") as f:
            f.write(glob + text)
        env = dict(os.environ, HOME=self.dir, XDG_DATA_HOME=self.dir, XDG_CONFIG_HOME=self.dir)
        self.start_proxy(["caddy", "run", "--config", conf, "--adapter", "caddyfile"], env=env)
        cafile = os.path.join(storage, "pki", "authorities", "local", "root.crt")
        self.wait_proxy(cafile)
        self.check_webhook_through_proxy(cafile)


class TestNginx(ProxyTest):
    program = "nginx"

    def test_signed_webhook_through_nginx(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        p = self.start_plantao_now({"PLANTAO_PUBLIC_URL": self.public})
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        out = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                              "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out",
                              cert], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout)
        with open(os.path.join(DOCS, "nginx.conf")) as f:
            site = f.read()
        for needle in ("listen 80;", "listen 443 ssl;", "proxy_pass http://127.0.0.1:8080;",
                       "/etc/letsencrypt/live/plantao.example.com/fullchain.pem"):
            self.assertIn(needle, site)
        site = site.replace("listen 80;", "listen 127.0.0.1:%d;" % free_port())
        site = site.replace("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % self.https_port)
        site = site.replace("server_name plantao.example.com;", "server_name localhost;")
        site = site.replace("/etc/letsencrypt/live/plantao.example.com/fullchain.pem", cert)
        site = site.replace("/etc/letsencrypt/live/plantao.example.com/privkey.pem", key)
        site = site.replace("http://127.0.0.1:8080;", "http://127.0.0.1:%d;" % p.port)
        d = self.dir
        temps = "".join("    %s_temp_path %s/%s;\n" % (t, d, t) for t in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                              "scgi"))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off;\nmaster_process off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
                    "events {}\nhttp {\n    access_log %s/access.log;\n%s%s\n}\n" % (d, d, d, temps, site))
        test = subprocess.run(["nginx", "-t", "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, text=True)
        self.assertEqual(test.returncode, 0, test.stdout)
        self.start_proxy(["nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf])
        self.wait_proxy(cert)
        self.check_webhook_through_proxy(cert)
        with open(os.path.join(d, "access.log")) as f:
            self.assertIn("POST /twilio/voice", f.read())
