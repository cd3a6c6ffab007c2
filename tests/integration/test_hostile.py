"""
tests/integration/test_hostile.py — clients that must not stall or blind the pager (issue 12,
items 10, 11, 12 and the HTTP parts of 14), each against a real `plantao serve` at its default
configuration: rate limits that a flood of garbage cannot turn against valid tokens, bodies
refused early that the client still gets to read the answer to, slow clients that cannot hold
the connection slots Twilio needs, hostile paths in the log and in error bodies, HEAD, the
console's folder on disk, and stop/start under traffic.

Extra clients live here (not in harness.py): raw http.client connections that can bind any
127.0.0.0/8 source address, so one machine plays many client addresses.
"""

import http.client
import json
import os
import socket
import threading
import time

from harness import IntegrationTest, wait_until


def fnv1a_slot(text, slots=1024):
    """The slot the server's rate table used to give an address (64-bit FNV-1a mod slots)."""
    h = 1469598103934665603
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % slots


def colliding_loopback_pair():
    """Two 127.0.0.0/8 addresses other than 127.0.0.1 that share a rate-table slot."""
    seen = {}
    for b in range(0, 256):
        for c in range(2, 256):
            addr = "127.0.%d.%d" % (b, c)
            slot = fnv1a_slot(addr)
            if slot in seen:
                return seen[slot], addr
            seen[slot] = addr
    raise AssertionError("no colliding pair")


class Client:
    """A keep-alive HTTP/1.1 client bound to one source address."""

    def __init__(self, plantao, source="127.0.0.1", timeout=10):
        self.host, self.port = "127.0.0.1", plantao.port
        self.source, self.timeout = source, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                       source_address=(self.source, 0))
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, data, {k.lower(): v for k, v in r.getheaders()}
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class TestRateLimits(IntegrationTest):
    """PLANTAO_API_RATE at its default (50/s, burst 100)."""

    def test_garbage_from_one_address_does_not_lock_out_valid_tokens(self):
        # a misconfigured monitor (or anyone behind the same proxy) floods bad tokens while a
        # valid token is used from the very same address
        garbage, good = Client(self.plantao), Client(self.plantao)
        bad, ok, limited = [], [], None
        for i in range(3000):  # until limited: a loaded machine may be slow to exceed 50/s
            status, body, headers = garbage.request("GET", "/api/people",
                                                    headers={"Authorization": "Bearer plt_wrong"})
            bad.append(status)
            if status == 429:
                limited = (body, headers)
            if i % 10 == 0:
                ok.append(good.request("GET", "/api/people",
                                       headers={"Authorization": "Bearer " + self.plantao.api_token})[0])
            if limited and i >= 300:
                break
        self.assertIn(401, bad)
        self.assertIn(429, bad)  # failed authentications are limited...
        self.assertEqual(set(ok), {200})  # ...and never spill over onto the valid token
        body, headers = limited
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertIn("failed authentications", json.loads(body)["error"]["message"])

    def test_a_flooding_token_is_limited_on_its_own(self):
        made = self.api_ok("POST", "/api/tokens", json={"name": "noisy", "role": "viewer"}, expect=201)
        noisy = Client(self.plantao)
        codes = []
        while 429 not in codes and len(codes) < 3000:
            codes.append(noisy.request("GET", "/api/people", headers={"Authorization": "Bearer " + made["token"]})[0])
        self.assertIn(429, codes)
        # refused requests of a token (maybe a monitor's alerts) are a warning that names it
        wait_until(lambda: "too many requests with this token (token:noisy)" in self.plantao.log_text(),
                   what="the warning naming the limited token")
        # another token from the same address is not affected
        status, body, _ = self.api("GET", "/api/people")
        self.assertEqual(status, 200, body)

    def test_colliding_addresses_do_not_reset_each_other(self):
        a, b = colliding_loopback_pair()
        ca, cb = Client(self.plantao, source=a), Client(self.plantao, source=b)
        codes = []
        while 429 not in codes and len(codes) < 3000:  # alternate: each used to hand the slot a fresh bucket
            for c in (ca, cb):
                codes.append(c.request("GET", "/api/people", headers={"Authorization": "Bearer plt_bad"})[0])
        self.assertIn(429, codes, "addresses %s and %s share a slot and were never limited" % (a, b))


def chunked_post(plantao, path, total, token=None, chunk=64 * 1024):
    """POST `total` bytes with Transfer-Encoding: chunked (no Expect); returns (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", plantao.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", "text/plain")
        conn.putheader("Transfer-Encoding", "chunked")
        if token:
            conn.putheader("Authorization", "Bearer " + token)
        conn.endheaders()
        sent = 0
        while sent < total:
            n = min(chunk, total - sent)
            conn.send(b"%x\r\n" % n + b"x" * n + b"\r\n")
            sent += n
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class TestEarlyAnswers(IntegrationTest):
    """Bodies refused before they are read: the client, which sends its whole body before
    reading (Python's urllib, most HTTP libraries: no Expect: 100-continue), reads the answer."""

    def error_of(self, status_body):
        status, body = status_body[0], status_body[1]
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        return status, body["error"]["message"]

    def test_oversized_body_without_expect_reads_413(self):
        # urllib, the way a cron job posting a huge log as an alert would
        status, msg = self.error_of(self.api("POST", "/api/alerts", data=b"x" * (3 * 1024 * 1024),
                                             headers={"Content-Type": "text/plain"}))
        self.assertEqual(status, 413)
        self.assertIn("exceeds the limit", msg)
        # a Twilio-sized route refuses past 64 KiB, signed or not
        status, msg = self.error_of(self.api("POST", "/twilio/sms", data=b"Body=" + b"x" * (1024 * 1024),
                                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                                             token=None))
        self.assertEqual(status, 413)
        # the server is still fine and nothing was created
        self.assertEqual(self.api_ok("GET", "/api/alerts")["alerts"], [])

    def test_large_bodies_read_401_and_404(self):
        big = b"x" * (6 * 1024 * 1024)  # more than the kernel's socket buffers take in at once
        status, msg = self.error_of(self.api("POST", "/api/sales?period=2026-01", data=big, token="plt_wrong",
                                             headers={"Content-Type": "text/csv"}))
        self.assertEqual(status, 401)
        status, msg = self.error_of(self.api("POST", "/api/nothing-here", data=big,
                                             headers={"Content-Type": "text/plain"}))
        self.assertEqual(status, 404)
        self.assertIn("no route", msg)

    def test_chunked_body_over_the_limit_gets_an_answer(self):
        status, body = chunked_post(self.plantao, "/api/alerts", 3 * 1024 * 1024, token=self.plantao.api_token)
        self.assertEqual(status, 413, body)
        self.assertIn("exceeds the limit", json.loads(body)["error"]["message"])

    def test_expect_100_continue_is_answered_without_the_body(self):
        # curl's way: announce 100 MiB, wait for 100 Continue; the 413 comes instead
        s = socket.create_connection(("127.0.0.1", self.plantao.port), timeout=10)
        try:
            s.sendall(b"POST /api/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                      b"Content-Type: text/plain\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                      % (self.plantao.api_token.encode(), 100 * 1024 * 1024))
            head = s.recv(4096)
        finally:
            s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head)


class SlowLoris:
    """`per_addr` connections from each address in `addrs`, each sending a request head one
    header line every `interval` seconds and never finishing it; any connection the server
    closes is opened again at once, as attack tools do."""

    def __init__(self, port, addrs, per_addr, interval=2.0):
        self.port, self.addrs, self.per_addr, self.interval = port, addrs, per_addr, interval
        self.socks = {}
        self.opened = self.closed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def open_now(self):
        return len(self.socks)

    def _open(self, addr):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.bind((addr, 0))
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"POST /twilio/voice HTTP/1.1\r\nHost: plantao\r\n")
        except OSError:
            s.close()
            return None
        s.setblocking(False)
        self.opened += 1
        return s

    def run(self):
        import select
        poller = select.poll()
        last_line = {}
        while not self.stop.is_set():
            now = time.monotonic()
            for addr in self.addrs:
                for i in range(self.per_addr):
                    key = (addr, i)
                    if key in self.socks:
                        continue
                    s = self._open(addr)
                    if s is not None:
                        self.socks[key] = s
                        last_line[key] = now
                        poller.register(s.fileno(), select.POLLIN)
            byfd = {s.fileno(): k for k, s in self.socks.items()}
            for fd, _ in poller.poll(100):
                key = byfd.get(fd)
                if key is None:
                    continue
                s = self.socks.pop(key)
                poller.unregister(fd)
                s.close()
                self.closed += 1
            for key, s in list(self.socks.items()):
                if now - last_line[key] >= self.interval:
                    last_line[key] = now
                    try:
                        s.send(b"X-Pad: %d\r\n" % int(now))
                    except OSError:
                        poller.unregister(s.fileno())
                        s.close()
                        del self.socks[key]
                        self.closed += 1
            time.sleep(0.05)
        for s in self.socks.values():
            s.close()

    def close(self):
        self.stop.set()
        self.thread.join(10)


class TestSlowClients(IntegrationTest):
    """Default limits: 512 connections, 64 per address, 15 s idle timeout."""

    def voice_webhook(self, n):
        return self.plantao.webhook("/twilio/voice", {"CallSid": "CA%032d" % n, "From": "+5511988880000",
                                                      "To": "+15005550006", "CallStatus": "ringing"})

    def test_twilio_is_served_while_slow_connections_hold_every_slot(self):
        # eight addresses, 64 trickling connections each: every slot of the default 512
        loris = SlowLoris(self.plantao.port, ["127.0.9.%d" % i for i in range(1, 9)], 64).start()
        self.addCleanup(loris.close)
        wait_until(lambda: loris.open_now() >= 500, timeout=30, what="the slow connections to be open")
        results = []
        t_end = time.monotonic() + 25  # past the head deadline: slots are cut and refilled meanwhile
        n = 0
        while time.monotonic() < t_end:
            n += 1
            wh = self.voice_webhook(n)
            results.append((wh.status, round(wh.elapsed, 3), wh.error))
            time.sleep(0.5)
        lat = sorted(r[1] for r in results)
        import sys
        sys.stderr.write("\n  voice webhook under slowloris: %d requests, median %.3fs, max %.3fs, failed %d; "
                         "slow connections opened %d, closed by plantao %d\n"
                         % (len(results), lat[len(lat) // 2], lat[-1],
                            sum(1 for r in results if r[0] != 200), loris.opened, loris.closed))
        failed = [r for r in results if r[0] != 200]
        self.assertEqual(failed, [], "webhooks that did not get TwiML: %r" % failed)
        self.assertLess(lat[-1], 5.0, results)
        wait_until(lambda: "slow clients cut off" in self.plantao.log_text(), timeout=15,
                   what="the warning about slow clients")

    def test_slow_connections_from_twilios_own_address_do_not_lock_it_out(self):
        # all 64 connections one address may hold, trickling, from the address the webhooks
        # come from (as when plantao sits behind a proxy that forwards everyone)
        loris = SlowLoris(self.plantao.port, ["127.0.0.1"], 64).start()
        self.addCleanup(loris.close)
        wait_until(lambda: loris.open_now() >= 64, timeout=30, what="the slow connections to be open")
        results = []
        for n in range(10):
            wh = self.voice_webhook(1000 + n)
            results.append((wh.status, round(wh.elapsed, 3), wh.error))
            time.sleep(0.3)
        failed = [r for r in results if r[0] != 200]
        self.assertEqual(failed, [], "webhooks that did not get TwiML: %r" % failed)
        self.assertLess(max(r[1] for r in results), 5.0, results)

    def test_slow_head_and_slow_body_are_cut(self):
        head = socket.create_connection(("127.0.0.1", self.plantao.port), timeout=2)
        body = socket.create_connection(("127.0.0.1", self.plantao.port), timeout=2)
        self.addCleanup(head.close)
        self.addCleanup(body.close)
        head.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        body.sendall(b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 60000\r\n\r\nBody=")
        t0 = time.monotonic()
        closed = {}
        while len(closed) < 2 and time.monotonic() - t0 < 40:
            for name, s in (("head", head), ("body", body)):
                if name in closed:
                    continue
                try:
                    s.send(b"X-a: b\r\n" if name == "head" else b"x")  # one line / one byte a second:
                    s.settimeout(0.01)                                  # never idle long enough for
                    if s.recv(4096) == b"":                             # the 15 s idle timeout
                        closed[name] = time.monotonic() - t0
                except socket.timeout:
                    pass
                except OSError:
                    closed[name] = time.monotonic() - t0
            time.sleep(1)
        self.assertIn("head", closed, "a request head trickled for 40 s without being cut")
        self.assertIn("body", closed, "a body trickled for 40 s without being cut")
        self.assertLess(closed["head"], 20)
        self.assertLess(closed["body"], 25)
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)


class TestHostilePaths(IntegrationTest):
    def test_control_characters_in_paths_are_escaped_in_the_log(self):
        c = Client(self.plantao)
        status, body, _ = c.request("GET", "/api/x%0a2026-01-01T00:00:00.000Z%20ERROR%20forged%0d%1b[2J",
                                    headers={"Authorization": "Bearer " + self.plantao.api_token})
        self.assertEqual(status, 404)
        log = wait_until(lambda: "/api/x\\n2026" in self.plantao.log_text() and self.plantao.log_text(),
                         what="the escaped access log line")
        self.assertNotIn("\n2026-01-01T00:00:00.000Z ERROR forged", log)
        self.assertIn("ERROR forged\\r\\x1b[2J", log)

    def test_error_body_has_a_message_for_invalid_utf8_paths(self):
        c = Client(self.plantao)
        for path in ("/api/%ff%fe", "/twilio/%c3%28", "/api/people/%80"):
            status, body, headers = c.request("GET", path,
                                              headers={"Authorization": "Bearer " + self.plantao.api_token})
            self.assertIn(status, (404, 405), path)
            err = json.loads(body)["error"]
            self.assertTrue(err["message"], (path, body))
            self.assertTrue(err["code"], (path, body))

    def test_head_works_wherever_get_does(self):
        c = Client(self.plantao)
        for path, auth in (("/healthz?live", False), ("/", False), ("/api/oncall", True), ("/metrics", False)):
            headers = {"Authorization": "Bearer " + self.plantao.api_token} if auth else {}
            gs, gbody, gh = c.request("GET", path, headers=headers)
            hs, hbody, hh = c.request("HEAD", path, headers=headers)
            self.assertEqual(gs, 200, path)
            self.assertEqual(hs, 200, (path, hbody))
            self.assertEqual(hbody, b"", path)
            self.assertEqual(hh.get("content-type"), gh.get("content-type"), path)
        status, _, headers = c.request("PUT", "/healthz")
        self.assertEqual(status, 405)
        self.assertIn("HEAD", headers.get("allow", ""))


class TestStaticDir(IntegrationTest):
    start_plantao = False

    def test_only_regular_files_inside_the_folder(self):
        import tempfile
        root = tempfile.mkdtemp(prefix="plantao-static-")
        self.addCleanup(lambda: __import__("shutil").rmtree(root, ignore_errors=True))
        web = os.path.join(root, "web")
        os.makedirs(os.path.join(web, "sub"))
        os.makedirs(os.path.join(web, ".git"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<h1>console</h1>")
        with open(os.path.join(web, "sub", "page.html"), "w") as f:
            f.write("inner page")
        with open(os.path.join(web, ".env"), "w") as f:
            f.write("TWILIO_AUTH_TOKEN=secret")
        with open(os.path.join(web, ".git", "config"), "w") as f:
            f.write("[core]")
        with open(os.path.join(root, "outside.txt"), "w") as f:
            f.write("outside secret")
        os.symlink(os.path.join(root, "outside.txt"), os.path.join(web, "leak.txt"))
        os.symlink(root, os.path.join(web, "up"))
        os.symlink(os.path.join(web, "index.html"), os.path.join(web, "home.html"))  # inside: fine
        self.start_plantao_now(env={"PLANTAO_STATIC_DIR": web})
        c = Client(self.plantao)
        self.assertEqual(c.request("GET", "/")[0:2], (200, b"<h1>console</h1>"))
        self.assertEqual(c.request("GET", "/sub/page.html")[0:2], (200, b"inner page"))
        self.assertEqual(c.request("GET", "/home.html")[0], 200)
        for path in ("/.env", "/.git/config", "/sub/.hidden", "/leak.txt", "/up/outside.txt", "/sub",
                     "/%2eenv"):
            status, body, _ = c.request("GET", path)
            self.assertEqual(status, 404, (path, body))
            self.assertNotIn(b"secret", body)
            self.assertNotIn(b"[core]", body)


class TestStopStart(IntegrationTest):
    start_plantao = False

    def test_sigterm_under_traffic_exits_cleanly_every_time(self):
        p = self.start_plantao_now()
        for round_ in range(int(os.environ.get("PLANTAO_STOP_ROUNDS", "20"))):
            stop = threading.Event()
            errors = []

            def traffic():  # a new connection each time: every worker wakes on the listen socket
                c = Client(p, timeout=5)
                while not stop.is_set():
                    try:
                        c.request("GET", "/healthz")
                    except OSError:
                        time.sleep(0.005)
                    c.close()
            threads = [threading.Thread(target=traffic) for _ in range(6)]
            for t in threads:
                t.start()
            time.sleep(0.15)
            status = p.stop()
            stop.set()
            for t in threads:
                t.join(10)
            log = p.log_text()
            self.assertNotIn("Fatal error", log, "round %d" % round_)
            self.assertEqual(status, 0, "round %d: exit status %s\n%s" % (round_, status, p.log_tail(20)))
            p.start()
