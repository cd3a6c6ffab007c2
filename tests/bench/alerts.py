#!/usr/bin/env python3
"""
tests/bench/alerts.py BUILD_DIR — the alert pager's figures for `make bench`:

  1. paging latency: BENCH_ALERTS alerts (default 1000) are posted at BENCH_ALERT_RATE per
     second (default 50) to a real `plantao serve` wired to the Twilio simulator; for each,
     the time from sending POST /api/alerts to the simulator receiving the first SMS request
     and the first call request (median, p99), and the POST's own round trip;
  2. intake throughput: alerts accepted per second (202) by POST /api/alerts with
     BENCH_CONNECTIONS keep-alive clients for BENCH_SECONDS (default 5), Twilio off so the
     numbers are plantao's (the engine still pages every alert into the outbox meanwhile).

The per-destination and per-sender limits are raised through the environment (the bench
pages one phone a thousand times). Prints "BENCH name | value | unit" lines.
"""

import http.client
import json
import os
import secrets
import sqlite3
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

from harness import TWILIO_FROM, Plantao  # noqa: E402
from twilio_sim import TwilioSim  # noqa: E402

N_ALERTS = int(os.environ.get("BENCH_ALERTS", "1000"))
RATE = float(os.environ.get("BENCH_ALERT_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PHONE = "+5511990000001"

LIMITS = {
    "PLANTAO_DEST_PER_MINUTE": "10000",
    "PLANTAO_DEST_PER_15MIN": "10000",
    "PLANTAO_SMS_RATE": "10000",
    "PLANTAO_CALL_RATE": "10000",
    "PLANTAO_API_RATE": "0",
    "PLANTAO_LOG_LEVEL": "warn",
}


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


class Client:
    """One keep-alive connection to plantao."""

    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def request(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def setup_team(client):
    status, body = client.request("POST", "/api/people", {"name": "Bench", "phone": PHONE})
    assert status == 201, (status, body)
    pid = body["id"]
    status, body = client.request("PUT", "/api/escalation",
                                  {"steps": [{"target": pid, "timeout_s": 30}], "rounds": 1})
    assert status == 200, (status, body)


def new_sim():
    return TwilioSim("AC" + secrets.token_hex(16), secrets.token_hex(16), owned_numbers={TWILIO_FROM}).start()


def latency():
    sim = new_sim()
    p = Plantao(sim, env=LIMITS)
    p.start()
    try:
        client = Client(p.port, p.api_token)
        setup_team(client)
        sim.phone(PHONE).is_busy()  # each alert: one text, one call, busy, then "nobody took it"
        posted = {}
        rtt = []
        t0 = time.monotonic()
        for i in range(N_ALERTS):
            target = t0 + i / RATE
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            start = time.time()
            m0 = time.monotonic()
            status, body = client.request("POST", "/api/alerts", {"summary": "bench %d" % i})
            rtt.append(time.monotonic() - m0)
            assert status == 202, (status, body)
            posted[body["id"]] = start

        def seen():
            with sim._lock:
                sms = {}
                for r in sim.requests:
                    if r.kind == "messages" and r.method == "POST":
                        b = r.form.get("Body", "")
                        if b.startswith("Alerta ") and ":" in b and "ninguém" not in b:
                            aid = int(b[7:b.index(":")])
                            sms.setdefault(aid, r.time)
                calls = {}
                for r in sim.requests:
                    if r.kind == "calls" and r.method == "POST":
                        attempt = int(r.form.get("Url", "/0").rsplit("/", 1)[1])
                        calls.setdefault(attempt, r.time)
            return sms, calls

        deadline = time.monotonic() + 120
        while True:
            sms, calls = seen()
            if (len(sms) >= N_ALERTS and len(calls) >= N_ALERTS) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        with sqlite3.connect(p.db_path, timeout=10) as db:
            attempt_alert = dict(db.execute("SELECT id, alert_id FROM call_attempts WHERE round = 0 AND step = 0"))
            try:  # when the outbox records its send attempts (ms): plantao's own share
                attempted = dict(db.execute(
                    "SELECT owner_id, min(attempt_at_ms) FROM outbox WHERE owner_type = 'alert' AND class = 'alert' "
                    "AND kind = 'sms' AND attempt_at_ms IS NOT NULL GROUP BY owner_id"))
            except sqlite3.OperationalError:
                attempted = {}
        sms_lat = [sms[a] - t for a, t in posted.items() if a in sms]
        send_lat = [attempted[a] / 1000.0 - t for a, t in posted.items() if a in attempted]
        call_lat = [calls[att] - posted[a] for att, a in attempt_alert.items() if att in calls and a in posted]
        ms = 1000.0
        print("BENCH alert POST round trip (paced %g/s) | p50 %.2f ms | p99 %.2f ms"
              % (RATE, statistics.median(rtt) * ms, pct(rtt, 99) * ms))
        if send_lat:
            print("BENCH alert -> first SMS send attempt in plantao (%d alerts) | p50 %.1f ms | p99 %.1f ms"
                  % (N_ALERTS, statistics.median(send_lat) * ms, pct(send_lat, 99) * ms))
        print("BENCH alert -> first SMS at Twilio (%d alerts) | p50 %.1f ms | p99 %.1f ms | %d/%d seen"
              % (N_ALERTS, statistics.median(sms_lat) * ms, pct(sms_lat, 99) * ms, len(sms_lat), N_ALERTS))
        print("BENCH alert -> first call request at Twilio (%d alerts) | p50 %.1f ms | p99 %.1f ms | %d/%d seen"
              % (N_ALERTS, statistics.median(call_lat) * ms, pct(call_lat, 99) * ms, len(call_lat), N_ALERTS))
        sys.stdout.flush()
    finally:
        p.stop()
        p.close()
        sim.stop()


def throughput():
    sim = new_sim()
    env = dict(LIMITS)
    env.update({"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM": None})
    p = Plantao(sim, env=env)
    p.start()
    try:
        setup_team(Client(p.port, p.api_token))
        stop = time.monotonic() + SECONDS
        counts = [0] * CONNECTIONS
        errors = [0] * CONNECTIONS

        def worker(k):
            c = Client(p.port, p.api_token)
            i = 0
            while time.monotonic() < stop:
                status, _ = c.request("POST", "/api/alerts", {"summary": "load %d-%d" % (k, i)})
                i += 1
                if status == 202:
                    counts[k] += 1
                else:
                    errors[k] += 1

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        print("BENCH alerts accepted (POST /api/alerts, %d clients, %gs) | %.0f alerts/s | %d errors"
              % (CONNECTIONS, SECONDS, sum(counts) / elapsed, sum(errors)))
        # how far the engine kept up: alerts paged (texts and first call queued) by the end
        time.sleep(1.0)
        with sqlite3.connect(p.db_path, timeout=10) as db:
            total, paged = db.execute("SELECT count(*), sum(step >= 0) FROM alerts").fetchone()
        print("BENCH alerts paged into the outbox 1 s after the load | %d of %d | alerts" % (paged or 0, total))
    finally:
        p.stop()
        p.close()
        sim.stop()


def main():
    if len(sys.argv) > 1:
        os.environ["PLANTAO_BUILD"] = sys.argv[1]
    latency()
    throughput()


if __name__ == "__main__":
    main()
