#!/usr/bin/env python3
"""
tests/bench/bench.py BUILD [BEFORE_BUILD] — `make bench`: plantao's hot paths measured side by
side with their ceiling in the same run, each goal of issue 18 printed with its ratio and
PASS/FAIL. With BEFORE_BUILD (a build folder holding an older `plantao`, e.g. of the commit
before a change) every plantao figure is measured for both builds in this run, one after the
other on the same machine, and printed as "before -> after".

Figures (all at plantao's default configuration unless said):
  webhook   signed POST /twilio/voice with wrk (-t BENCH_THREADS, BENCH_SECONDS each):
            the Twilio retry of a known CallSid at -c16 and -c64, and a new call per request
            (a new CallSid each, so each one looks up the rotation) at -c16, next to
            tests/bench/ceiling.c (bare libmicrohttpd answering fixed TwiML) at the same
            settings. plantao runs with --demo (three people, a weekly rotation), its log at the
            default level INFO to a file (access lines are DEBUG records, so none are
            written) and 4 worker threads.
  start-up  from exec to the first 200 of /healthz?live; idle RSS after that.
  outbox    N SMS rows committed at once (pacing off: PLANTAO_SMS_RATE=0) into a running
            plantao wired to tests/bench/fake_twilio.c; sends per second from the fake's first
            request to its last, for N = 2,000, 20,000 and 100,000 (the wait for the engine's
            next tick to find rows another process wrote is printed apart).
  alerts    8,000 critical alerts POSTed by 8 client processes (keep-alive) to a team of one, limits per
            phone and sender raised (one phone paged 8,000 times) and Twilio the C fake:
            all must be accepted (202), and each alert's first page (the text or call that
            carries it) must reach the fake within 2 s of the last 202.
  import    tests/bench/sales.py: a 1M-row CSV streamed to POST /api/sales; rows/s and the
            server's peak RSS.
Environment: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_OUTBOX_SIZES ("2000,20000,100000"),
BENCH_ALERTS (8000), BENCH_SALES_ROWS (1000000), BENCH_SKIP (comma list of webhook, outbox,
alerts, import).
"""

import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

from harness import TWILIO_FROM, Plantao  # noqa: E402

DUR = int(os.environ.get("BENCH_SECONDS", "10"))
WRK_THREADS = int(os.environ.get("BENCH_THREADS", "2"))
OUTBOX_SIZES = [int(x) for x in os.environ.get("BENCH_OUTBOX_SIZES", "2000,20000,100000").split(",") if x]
N_ALERTS = int(os.environ.get("BENCH_ALERTS", "8000"))
ALERT_CLIENTS = 8  # client processes (Python threads would share one core)
SKIP = set(x for x in os.environ.get("BENCH_SKIP", "").split(",") if x)
TOKEN = "benchtoken"
PKGS = ["libmicrohttpd", "libcurl", "libxml-2.0", "sqlite3", "libpq", "jansson", "libcrypto", "libzip", "gnutls"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sign(url, params):
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def build_tools(build):
    mhd = subprocess.check_output(["pkg-config", "--cflags", "--libs", "libmicrohttpd"], text=True).split()
    for src, exe in (("ceiling.c", "bench-ceiling"), ("fake_twilio.c", "bench-fake-twilio")):
        subprocess.check_call(["gcc", "-O2", "-std=c11", "-D_GNU_SOURCE", os.path.join(HERE, src)] + mhd +
                              ["-lpthread", "-o", os.path.join(build, exe)])


def wait_http(port, path="/", timeout=60, proc=None, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("bench: %s exited with status %s before answering" % (what, proc.returncode))
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.002)
    raise SystemExit("bench: %s did not answer on port %d within %ds" % (what, port, timeout))


class FakeTwilio:
    """tests/bench/fake_twilio.c in a process; quacks enough like TwilioSim for harness.Plantao."""

    def __init__(self, build):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.plantao_url = ""
        self.support_number = TWILIO_FROM
        self.proc = subprocess.Popen([os.path.join(build, "bench-fake-twilio"), str(self.port), "2"])
        wait_http(self.port, "/_stats", proc=self.proc, what="fake Twilio")

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", path)
        r = c.getresponse()
        data = r.read()
        c.close()
        return data

    def stats(self):
        return json.loads(self.get("/_stats"))

    def log(self):
        """[(kind, sid, ms, {form})] of every create, in arrival order."""
        out = []
        for line in self.get("/_log").decode().splitlines():
            kind, sid, ms, body = (line.split(" ", 3) + [""])[:4]
            out.append((kind, sid, int(ms), dict(urllib.parse.parse_qsl(body))))
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


# ---------------------------------------------------------------- webhook (wrk)

def parse_wrk(text):
    def dur(v):
        for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
            if v.endswith(unit) and v[:-len(unit)].replace(".", "", 1).isdigit():
                return float(v[:-len(unit)]) * f
        return float("nan")
    rps, p99, p50, total, non2xx, errors = 0.0, float("nan"), float("nan"), 0, 0, ""
    for line in text.splitlines():
        w = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(w[1])
        elif len(w) == 2 and w[0] == "99%":
            p99 = dur(w[1])
        elif len(w) == 2 and w[0] == "50%":
            p50 = dur(w[1])
        elif "requests in" in line:
            total = int(w[0])
        elif line.strip().startswith("Non-2xx"):
            non2xx = int(w[-1])
        elif line.strip().startswith("Socket errors"):
            errors = line.strip()
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "non2xx": non2xx, "errors": errors}


def wrk(url, script, conns, tmp, name):
    out = subprocess.run(["wrk", "-t%d" % WRK_THREADS, "-c%d" % conns, "-d%ds" % DUR, "--latency", "-s", script, url],
                         capture_output=True, text=True)
    with open(os.path.join(tmp, name + ".wrk"), "w") as f:
        f.write(out.stdout + out.stderr)
    r = parse_wrk(out.stdout)
    if r["non2xx"] or r["errors"]:
        print("bench: %s: %s non-2xx, %s" % (name, r["non2xx"], r["errors"]), file=sys.stderr)
    return r


def voice_body(sid):
    return [("CallSid", sid), ("From", "+5511988887777"), ("To", "+5511999990000"), ("CallStatus", "ringing"),
            ("Direction", "inbound"), ("AccountSid", "AC" + "0" * 32)]


def lua_static(path, body, sig):
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = "%s"\nwrk.headers["Content-Type"] = '
                '"application/x-www-form-urlencoded"\nwrk.headers["X-Twilio-Signature"] = "%s"\n' % (body, sig))


def lua_new_calls(path, reqfile, n):
    """Each wrk thread walks its own share of n pre-signed requests, each a new CallSid."""
    with open(path, "w") as f:
        f.write('''
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
local reqs, idx, step = {}, 1, %d
function init(args)
  for line in io.lines("%s") do
    local b, s = line:match("^([^\\t]+)\\t(.+)$")
    reqs[#reqs + 1] = {b, s}
  end
  idx = tonumber(tid) + 1
end
function request()
  local r = reqs[idx]
  idx = idx + step
  if idx > #reqs then idx = idx - #reqs end
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[2]}, r[1])
end
''' % (WRK_THREADS, reqfile))


def serve_for_webhooks(build, tmp, tag):
    port = free_port()
    env = dict(os.environ)
    env.update({"PLANTAO_LISTEN": "127.0.0.1:%d" % port, "PLANTAO_PUBLIC_URL": "http://127.0.0.1:%d" % port,
                "PLANTAO_DB": os.path.join(tmp, tag + ".db"), "TWILIO_AUTH_TOKEN": TOKEN, "PLANTAO_THREADS": "4"})
    for k in ("PLANTAO_LOG_LEVEL", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE"):
        env.pop(k, None)
    log = open(os.path.join(tmp, tag + ".log"), "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([os.path.join(build, "plantao"), "serve", "--demo"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=tmp)
    wait_http(port, "/healthz?live", proc=proc, what="plantao (%s)" % tag)
    start_ms = (time.monotonic() - t0) * 1000
    time.sleep(0.3)
    with open("/proc/%d/status" % proc.pid) as f:
        rss = [int(l.split()[1]) for l in f if l.startswith("VmRSS:")][0] / 1024.0
    return proc, port, start_ms, rss


def webhook(build, tmp, tag):
    proc, port, start_ms, rss = serve_for_webhooks(build, tmp, tag)
    try:
        url = "http://127.0.0.1:%d/twilio/voice" % port
        params = voice_body("CA" + "0" * 31 + "1")
        body = urllib.parse.urlencode(params)
        lua = os.path.join(tmp, "voice.lua")
        lua_static(lua, body, sign(url, params))
        # the known call: its first request creates it, then every one is Twilio's retry
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/twilio/voice", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sign(url, params)})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("bench: signed webhook answered %d" % r.status)
        res = {"start_ms": start_ms, "idle_rss": rss}
        res["retry16"] = wrk(url, lua, 16, tmp, tag + "-retry16")
        res["retry64"] = wrk(url, lua, 64, tmp, tag + "-retry64")
        n = max(50000, 40000 * DUR)
        reqfile = os.path.join(tmp, "newcalls-%s.txt" % tag)
        with open(reqfile, "w") as f:
            for i in range(n):
                p = voice_body("CA%s%08x" % (tag[:1].encode().hex(), i) + "0" * 22)
                f.write("%s\t%s\n" % (urllib.parse.urlencode(p), sign(url, p)))
        lua2 = os.path.join(tmp, "newcalls.lua")
        lua_new_calls(lua2, reqfile, n)
        res["new16"] = wrk(url, lua2, 16, tmp, tag + "-new16")
        if res["new16"]["requests"] > n:
            print("bench: new-call run made %d requests over %d distinct calls: the rest were retries"
                  % (res["new16"]["requests"], n), file=sys.stderr)
        os.unlink(reqfile)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return res


def ceiling(build, tmp):
    port = free_port()
    proc = subprocess.Popen([os.path.join(build, "bench-ceiling"), str(port), "4"])
    try:
        wait_http(port, proc=proc, what="ceiling")
        url = "http://127.0.0.1:%d/twilio/voice" % port
        params = voice_body("CA" + "0" * 31 + "1")
        lua = os.path.join(tmp, "voice-ceiling.lua")
        lua_static(lua, urllib.parse.urlencode(params), sign(url, params))
        return {"c16": wrk(url, lua, 16, tmp, "ceiling16"), "c64": wrk(url, lua, 64, tmp, "ceiling64")}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


# ---------------------------------------------------------------- outbox

def outbox(build, tool_build, n):
    fake = FakeTwilio(tool_build)
    p = Plantao(fake, env={"PLANTAO_SMS_RATE": "0", "PLANTAO_LOG_LEVEL": None, "PLANTAO_CLOCK_FILE": None},
                build=build)
    try:
        p.start()
        now_ms = int(time.time() * 1000)
        db = sqlite3.connect(p.db_path, timeout=30)
        with db:
            db.executemany(
                "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, next_at_ms, created_at, "
                "updated_at, encoding, segments) VALUES ('sms', 'support', 1, ?, ?, ?, ?, ?, ?, 'GSM-7', 1)",
                [("+55119%08d" % (i % 50), "Mensagem de teste %d" % i, "bench:%d" % i, now_ms, now_ms // 1000,
                  now_ms // 1000) for i in range(n)])
        t0 = time.time()
        db.close()
        deadline = time.monotonic() + max(60, n / 1000)
        while time.monotonic() < deadline:
            st = fake.stats()
            if st["messages"] >= n:
                break
            time.sleep(0.05)
        st = fake.stats()
        bodies = {f.get("Body") for _, _, _, f in fake.log()}
        if len(bodies) != st["messages"]:
            raise SystemExit("bench: outbox %d: duplicates reached the fake" % n)
        if st["messages"] < n:
            # too slow to finish in time: the rate so far (a ceiling of what it would have been)
            print("bench: outbox %d: only %d sent in %.0f s" % (n, st["messages"], time.time() - t0), file=sys.stderr)
            return st["messages"] / max(1e-3, time.time() - t0)
        # sends/s from the first request the fake received to the last: the rows were written by
        # another process, which the engine finds at its next tick (ENGINE_TICK_MS; plantao's own
        # enqueues wake it at once), and that wait is the run's start-up, not its rate
        print("bench: outbox %d: first send %.0f ms after the rows were committed" % (
            n, st["first_ms"] - t0 * 1000.0), file=sys.stderr)
        return (n - 1) / max(1e-3, (st["last_ms"] - st["first_ms"]) / 1000.0)
    finally:
        p.close()
        fake.stop()


# ---------------------------------------------------------------- alert burst

LIMITS = {
    "PLANTAO_DEST_PER_MINUTE": "10000",
    "PLANTAO_DEST_PER_15MIN": "10000",
    "PLANTAO_SMS_RATE": "0",
    "PLANTAO_CALL_RATE": "0",
    "PLANTAO_API_RATE": "0",
    "PLANTAO_LOG_LEVEL": None,
    "PLANTAO_CLOCK_FILE": None,
}


class Client:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def request(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def post_alerts(port, token, k):
    """One client process of the burst: alerts k, k + ALERT_CLIENTS, …; (accepted, errors, time of last 202)."""
    cl = Client(port, token)
    ok = err = 0
    last = 0.0
    for i in range(k, N_ALERTS, ALERT_CLIENTS):
        st, _ = cl.request("POST", "/api/alerts", {"summary": "burst %d" % i, "severity": "critical"})
        if st == 202:
            ok += 1
            last = time.time()
        else:
            err += 1
    return ok, err, last


def alert_burst(build, tool_build):
    fake = FakeTwilio(tool_build)
    p = Plantao(fake, env=LIMITS, build=build)
    try:
        p.start()
        c = Client(p.port, p.api_token)
        status, body = c.request("POST", "/api/people", {"name": "Bench", "phone": "+5511990000001"})
        assert status == 201, (status, body)
        status, body = c.request("PUT", "/api/escalation", {"steps": [{"target": body["id"], "timeout_s": 300}],
                                                            "rounds": 1})
        assert status == 200, (status, body)
        t0 = time.time()
        with multiprocessing.Pool(ALERT_CLIENTS) as pool:
            out = pool.starmap(post_alerts, [(p.port, p.api_token, k) for k in range(ALERT_CLIENTS)])
        n_ok = sum(o[0] for o in out)
        n_err = sum(o[1] for o in out)
        t_last = max(o[2] for o in out)
        # each alert's first page: the earliest arrival at the fake of a row that carries it
        db = sqlite3.connect(p.db_path, timeout=30)
        deadline = time.monotonic() + 120
        while True:
            arrival = {sid: ms for _, sid, ms, _ in fake.log()}
            rows = db.execute(
                "SELECT a.id, o.sid FROM alerts a JOIN page_texts t ON t.alert_id = a.id JOIN outbox o ON "
                "o.id = t.outbox_id WHERE o.sid IS NOT NULL UNION ALL SELECT c.alert_id, o.sid FROM call_attempts c "
                "JOIN outbox o ON o.id = c.outbox_id WHERE o.sid IS NOT NULL").fetchall()
            first = {}
            for aid, sid in rows:
                if sid in arrival:
                    first[aid] = min(first.get(aid, 1e18), arrival[sid])
            if len(first) >= n_ok or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        db.close()
        lag = (max(first.values()) / 1000.0 - t_last) if first else float("inf")
        return {"accepted": n_ok, "errors": n_err, "accept_rate": n_ok / max(1e-3, t_last - t0),
                "paged": len(first), "lag_s": max(0.0, lag)}
    finally:
        p.close()
        fake.stop()


# ---------------------------------------------------------------- import

def csv_import(build):
    import sales
    return sales.run(build, quiet=True)


# ---------------------------------------------------------------- report

def progress(what, value):
    """Each figure as soon as it is measured (stderr), so a run cut short still tells something."""
    print("bench: %s: %s" % (what, json.dumps(value, default=str)), file=sys.stderr)
    sys.stderr.flush()


def fmt_ba(before, after, f):
    if before is None:
        return f(after)
    return "%s -> %s" % (f(before), f(after))


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    before = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
    builds = [("before", before), ("after", build)] if before else [("after", build)]
    build_tools(build)
    res = {tag: {} for tag, _ in builds}
    with tempfile.TemporaryDirectory(prefix="plantao-bench-") as tmp:
        ceil = None
        if "webhook" not in SKIP:
            ceil = ceiling(build, tmp)
            progress("ceiling", ceil)
            for tag, b in builds:
                res[tag]["web"] = webhook(b, tmp, tag)
                progress(tag + " webhook", res[tag]["web"])
        if "outbox" not in SKIP:
            for tag, b in builds:
                res[tag]["outbox"] = {}
                for n in OUTBOX_SIZES:
                    res[tag]["outbox"][n] = outbox(b, build, n)
                    progress("%s outbox %d" % (tag, n), res[tag]["outbox"][n])
        if "alerts" not in SKIP:
            for tag, b in builds:
                res[tag]["alerts"] = alert_burst(b, build)
                progress(tag + " alerts", res[tag]["alerts"])
        if "import" not in SKIP:
            for tag, b in builds:
                res[tag]["import"] = csv_import(b)
                progress(tag + " import", res[tag]["import"])

    B = res.get("before") if before else None
    A = res["after"]
    rows = []  # (goal, measured, target, ratio text, pass)

    def val(d, *path):
        for k in path:
            if d is None or k not in d:
                return None
            d = d[k]
        return d

    if ceil:
        for conns in (16, 64):
            key = "retry%d" % conns
            c = ceil["c%d" % conns]["rps"]
            a = A["web"][key]["rps"]
            rows.append(("webhook retry of a known call, -c%d" % conns,
                         "%s req/s (ceiling %.0f)" % (fmt_ba(val(B, "web", key, "rps"), a, lambda v: "%.0f" % v), c),
                         ">= 0.5x ceiling", "%sx" % fmt_ba(val(B, "web", key, "rps") and val(B, "web", key, "rps") / c,
                                                          a / c, lambda v: "%.2f" % v), a / c >= 0.5))
        p99 = A["web"]["retry16"]["p99_ms"]
        # the ceiling's own p99 in the same run: what the machine's scheduling allows a server at all
        rows.append(("webhook retry p99, -c16", "%s ms (ceiling %.2f)" % (
                         fmt_ba(val(B, "web", "retry16", "p99_ms"), p99, lambda v: "%.2f" % v), ceil["c16"]["p99_ms"]),
                     "<= 1 ms", "%.2fx" % (p99 / 1.0), p99 <= 1.0))
        c = ceil["c16"]["rps"]
        a = A["web"]["new16"]["rps"]
        rows.append(("webhook new call (rotation look-up), -c16",
                     "%s req/s (ceiling %.0f)" % (fmt_ba(val(B, "web", "new16", "rps"), a, lambda v: "%.0f" % v), c),
                     ">= 0.15x ceiling", "%sx" % fmt_ba(val(B, "web", "new16", "rps") and val(B, "web", "new16", "rps")
                                                       / c, a / c, lambda v: "%.3f" % v), a / c >= 0.15))
        s_b, s_a = val(B, "web", "start_ms"), A["web"]["start_ms"]
        r_b, r_a = val(B, "web", "idle_rss"), A["web"]["idle_rss"]
        ref_s = s_b if s_b is not None else 11.0
        ref_r = r_b if r_b is not None else 15.0
        rows.append(("start-up to first /healthz?live", "%s ms" % fmt_ba(s_b, s_a, lambda v: "%.0f" % v),
                     "<= %.0f ms (+5 ms noise)" % ref_s, "%.2fx" % (s_a / ref_s), s_a <= ref_s + 5))
        rows.append(("idle RSS", "%s MiB" % fmt_ba(r_b, r_a, lambda v: "%.1f" % v), "<= %.1f MiB (+1 MiB)" % ref_r,
                     "%.2fx" % (r_a / ref_r), r_a <= ref_r + 1))
    if "outbox" in A:
        for n in OUTBOX_SIZES:
            a = A["outbox"][n]
            rows.append(("outbox sends/s, pacing off, %d queued" % n,
                         "%s /s" % fmt_ba(val(B, "outbox", n), a, lambda v: "%.0f" % v), ">= 10000/s",
                         "%.2fx" % (a / 10000), a >= 10000))
        lo, hi = A["outbox"][OUTBOX_SIZES[0]], A["outbox"][OUTBOX_SIZES[-1]]
        bl = val(B, "outbox", OUTBOX_SIZES[0])
        bh = val(B, "outbox", OUTBOX_SIZES[-1])
        rows.append(("outbox flat: rate at %d / at %d" % (OUTBOX_SIZES[-1], OUTBOX_SIZES[0]),
                     fmt_ba(bl and bh / bl, hi / lo, lambda v: "%.2f" % v), ">= 0.8", "%.2fx" % (hi / lo / 0.8),
                     hi / lo >= 0.8))
    if "alerts" in A:
        a = A["alerts"]
        b = val(B, "alerts")
        rows.append(("alert burst: %d accepted" % N_ALERTS,
                     "%s (%s alerts/s)" % (fmt_ba(b and b["accepted"], a["accepted"], str),
                                           fmt_ba(b and b["accept_rate"], a["accept_rate"], lambda v: "%.0f" % v)),
                     "all %d" % N_ALERTS, "%.2fx" % (a["accepted"] / N_ALERTS), a["accepted"] == N_ALERTS))
        rows.append(("alert burst: last first page at Twilio after the last 202",
                     "%s s (%s paged)" % (fmt_ba(b and b["lag_s"], a["lag_s"], lambda v: "%.2f" % v),
                                          fmt_ba(b and b["paged"], a["paged"], str)),
                     "<= 2 s, all paged", "%.2fx" % (a["lag_s"] / 2.0),
                     a["lag_s"] <= 2.0 and a["paged"] == a["accepted"]))
    if "import" in A:
        a_rate, a_rss = A["import"]
        b_imp = val(B, "import")
        rows.append(("CSV import, %s rows" % os.environ.get("BENCH_SALES_ROWS", "1000000"),
                     "%s rows/s" % fmt_ba(b_imp and b_imp[0], a_rate, lambda v: "%.2fM" % (v / 1e6)),
                     ">= 2.5M rows/s", "%.2fx" % (a_rate / 2.5e6), a_rate >= 2.5e6))
        ref = b_imp[1] if b_imp else a_rss
        rows.append(("CSV import peak RSS", "%s MiB" % fmt_ba(b_imp and b_imp[1], a_rss, lambda v: "%.0f" % v),
                     "same memory (<= before + 10%)", "%.2fx" % (a_rss / ref), a_rss <= ref * 1.1))

    print()
    print("plantao bench — %s, %d cores, wrk -t%d -d%ds%s" % (time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
                                                            os.cpu_count(), WRK_THREADS, DUR,
                                                            ", before -> after" if before else ""))
    w = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    for goal, measured, target, ratio, ok in rows:
        print("%-*s  %-*s  %-*s  %-*s  %s" % (w[0], goal, w[1], measured, w[2], target, w[3], ratio,
                                              "PASS" if ok else "FAIL"))
    for tag, _ in builds:
        if "web" in res[tag]:
            web = res[tag]["web"]
            print("%s: retry -c16 p50 %.2f ms, new call -c16 p50 %.2f ms p99 %.2f ms" % (
                tag, web["retry16"]["p50_ms"], web["new16"]["p50_ms"], web["new16"]["p99_ms"]))
    sys.stdout.flush()
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
