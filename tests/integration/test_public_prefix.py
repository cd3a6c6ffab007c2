"""
tests/integration/test_public_prefix.py — plantao published under a path prefix.

The failure story: plantao runs behind nginx at https://example.com/plantao, so
PLANTAO_PUBLIC_URL=https://example.com/plantao. Some proxies strip the prefix before passing
the request on (`proxy_pass http://127.0.0.1:8080/;`), others pass the path unchanged
(`proxy_pass http://127.0.0.1:8080;`). With the second style every webhook arrived as
/plantao/twilio/…: no route matched (404) and the signature was checked against
…/plantao/plantao/twilio/…, so Twilio played "an application error has occurred" and no
alert call could be acknowledged. Both styles must route, validate signatures and page.
"""

import http.server
import os
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, Plantao, wait_until  # noqa: E402

ANA, CUSTOMER = "+5511990000001", "+5511988887777"
PREFIX = "/plantao"
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StrippingProxy:
    """A reverse proxy that removes PREFIX from the path before passing the request on (nginx
    `location /plantao/ { proxy_pass http://backend/; }`); anything else is a 404."""

    def __init__(self, backend):
        self.backend = backend
        self.forwarded = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                self.forward()

            def do_POST(self):
                self.forward()

            def forward(self):
                if not self.path.startswith(PREFIX + "/"):
                    self.send_error(404)
                    return
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                path = self.path[len(PREFIX):]
                proxy.forwarded.append(path)
                req = urllib.request.Request(proxy.backend() + path, data=body, method=self.command, headers=headers)
                try:
                    with _direct.open(req, timeout=20) as r:
                        status, data, rh = r.status, r.read(), r.headers
                except urllib.error.HTTPError as e:
                    status, data, rh = e.code, e.read(), e.headers
                self.send_response(status)
                for k, v in rh.items():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PrefixTest(IntegrationTest):
    start_plantao = False

    def start_with_public(self, public_base):
        """Starts plantao with PLANTAO_PUBLIC_URL = public_base() + PREFIX (the simulator, as
        Twilio, reaches plantao at that URL and signs it)."""
        p = Plantao(self.sim)
        self.plantao = p
        self.addCleanup(self._finish_plantao, p)
        p.env["PLANTAO_PUBLIC_URL"] = public_base(p) + PREFIX
        self.sim.plantao_url = public_base(p) + PREFIX
        p.start()
        return p

    def page_and_acknowledge(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 168})
        self.sim.phone(ANA).answers(digits="1")
        a = self.api_ok("POST", "/api/alerts", json={"summary": "db1 down", "severity": "critical"}, expect=202)
        self.sim.expect_sms(ANA, containing="db1 down", timeout=15)
        call = self.sim.expect_call(ANA, timeout=30)
        self.assertTrue(call.heard("db1 down"), call.says)
        self.assertEqual(call.pressed, "1")
        self.assertTrue(call.heard("assumido"), call.says)
        self.assertEqual(call.errors, [])
        self.assertTrue(call.form["Url"].startswith(self.sim.plantao_url + "/twilio/alert-call/"), call.form)
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % a["id"])["status"] == "acknowledged",
                   timeout=15, what="alert acknowledged on the call")
        # the support line too: the caller hears the greeting and is put through to Ana
        incoming = self.sim.incoming_call(CUSTOMER)
        self.assertEqual(incoming.errors, [])
        self.assertTrue(incoming.heard("suporte"), incoming.says)
        self.assertEqual([d["number"] for d in incoming.dials], [ANA])
        self.sim.expect_call(ANA)  # the dialled leg
        # a signature made for another URL is still refused
        wh = self.sim.webhook("raw", self.sim.plantao_url + "/twilio/voice", {"CallSid": "CA" + "9" * 32},
                              signature_override="forged", record=False)
        self.assertEqual(wh.status, 403)

    def test_proxy_that_passes_the_prefix(self):
        p = self.start_with_public(lambda p: p.url)
        self.page_and_acknowledge()
        # the API and the health check are reachable under the prefix as well
        status, body, _ = p.api("GET", PREFIX + "/api/oncall")
        self.assertEqual(status, 200, body)
        self.assertEqual(p.api("GET", PREFIX + "/healthz?live", token=None)[0], 200)

    def test_proxy_that_strips_the_prefix(self):
        proxy = StrippingProxy(lambda: self.plantao.url)
        self.addCleanup(proxy.close)
        self.start_with_public(lambda p: proxy.url)
        self.page_and_acknowledge()
        self.assertTrue(any(f.startswith("/twilio/alert-call/") for f in proxy.forwarded), proxy.forwarded)
        self.assertTrue(any(f.startswith("/twilio/status/call") for f in proxy.forwarded), proxy.forwarded)
