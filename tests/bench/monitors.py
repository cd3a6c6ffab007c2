#!/usr/bin/env python3
"""
tests/bench/monitors.py BUILD — issue 15's heartbeat goal: 10,000 heartbeat monitors pinged once a
minute must cost plantao under 5% of one core.

Creates BENCH_MONITORS (10000) heartbeats (period 60 s, grace 60 s) in a fresh database (through
the API, then started), then pings each once a minute, evenly spread (N/60 pings a second) from
BENCH_CLIENTS (4) keep-alive clients, for BENCH_SECONDS (90) after a warm-up, and reads plantao's
CPU time (utime + stime of /proc/<pid>/stat) over the measured window. The monitor thread folds
every ping and moves each monitor's due time; none may go late. Prints the CPU share of one core
and PASS/FAIL against 5%.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time

N = int(os.environ.get("BENCH_MONITORS", "10000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "90"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
WARMUP = 20.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    tmp = tempfile.mkdtemp(prefix="plantao-bench-mon-")
    port = free_port()
    token = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANTAO_", "TWILIO_"))}
    env.update({"PLANTAO_LISTEN": "127.0.0.1:%d" % port, "PLANTAO_DB": os.path.join(tmp, "plantao.db"),
                "PLANTAO_API_TOKEN": token, "PLANTAO_API_RATE": "0", "PLANTAO_LOG_LEVEL": "warn",
                "PLANTAO_PUBLIC_URL": "http://127.0.0.1:%d" % port})
    log = open(os.path.join(tmp, "plantao.log"), "ab")
    proc = subprocess.Popen([os.path.join(build, "plantao"), "serve"], cwd=tmp, env=env, stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz?live")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        paths = []
        t0 = time.monotonic()
        for i in range(N):
            body = json.dumps({"kind": "heartbeat", "name": "job %d" % i, "period_s": 60, "grace_s": 60})
            c.request("POST", "/api/monitors", body, {"Authorization": "Bearer " + token,
                                                      "Content-Type": "application/json"})
            r = c.getresponse()
            m = json.loads(r.read())
            assert r.status == 201, m
            paths.append("/ping/" + m["ping_url"].rsplit("/", 1)[1])
        print("monitors: %d created in %.1f s" % (N, time.monotonic() - t0))

        stop = time.monotonic() + WARMUP + SECONDS
        sent = [0] * CLIENTS
        errors = []

        def client(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine = paths[k::CLIENTS]
            gap = 60.0 / len(mine)
            start = time.monotonic()
            i = 0
            while time.monotonic() < stop:
                due = start + i * gap
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                conn.request("GET", mine[i % len(mine)])
                r = conn.getresponse()
                if r.read() != b"OK":
                    errors.append(r.status)
                sent[k] += 1
                i += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(WARMUP)
        cpu0, t0, n0 = cpu_seconds(proc.pid), time.monotonic(), sum(sent)
        time.sleep(SECONDS)
        cpu1, t1, n1 = cpu_seconds(proc.pid), time.monotonic(), sum(sent)
        for t in threads:
            t.join()
        share = (cpu1 - cpu0) / (t1 - t0)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # the first one idled out
        c.request("GET", "/api/monitors", headers={"Authorization": "Bearer " + token})
        states = {}
        for m in json.loads(c.getresponse().read())["monitors"]:
            states[m["state"]] = states.get(m["state"], 0) + 1
        print("pings: %.0f/s over %.0f s (%d errors); plantao CPU %.2f%% of one core; monitor states %s"
              % ((n1 - n0) / (t1 - t0), t1 - t0, len(errors), 100 * share, states))
        ok = share < 0.05 and not errors and states.get("late", 0) + states.get("down", 0) == 0
        print("heartbeats: %s (goal: under 5%% of one core, none late)" % ("PASS" if ok else "FAIL"))
        return 0 if ok else 1
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
