#!/usr/bin/env python3
"""
tests/bench/outbox.py BUILD_DIR — the outbox's figures for `make bench`:

  1. throughput: BENCH_OUTBOX (default 2000) SMS rows are committed at once into the outbox of a
     running `plantao serve` (pacing off: PLANTAO_SMS_RATE=0) wired to the Twilio simulator;
     messages per second from that commit to the simulator's receipt of the last one, and the
     median / p99 time from the commit to the simulator's receipt of each. The simulator is
     Python (a thread per request and per message's callbacks), so this is a floor for
     plantao, not a ceiling;
  2. insert latency as a webhook handler sees it: BEGIN IMMEDIATE + outbox_enqueue() + COMMIT
     on a WAL file (tests/bench/outbox_enqueue.c, built here against libplantao.a), median and
     p99, and inserts per second in a loop.

Prints "BENCH name | value | unit" lines.
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

from harness import TWILIO_FROM, Plantao  # noqa: E402
from twilio_sim import TwilioSim  # noqa: E402

N = int(os.environ.get("BENCH_OUTBOX", "2000"))
N_INSERT = int(os.environ.get("BENCH_OUTBOX_INSERTS", "20000"))
PHONE = "+5511990000001"


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def throughput(build):
    sim = TwilioSim("AC" + "b" * 32, "benchtoken", owned_numbers={TWILIO_FROM}, callback_delay=0).start()
    p = Plantao(sim, env={"PLANTAO_SMS_RATE": "0", "PLANTAO_LOG_LEVEL": "warn"}, build=build)
    try:
        p.start()
        now_ms = int(time.time() * 1000)
        db = sqlite3.connect(p.db_path, timeout=10)
        with db:
            db.executemany(
                "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, next_at_ms, created_at, "
                "updated_at) VALUES ('sms', 'support', 1, ?, ?, ?, ?, ?, ?)",
                [(PHONE, "Mensagem de teste %d" % i, "bench:%d" % i, now_ms, now_ms // 1000, now_ms // 1000)
                 for i in range(N)])
        t0 = time.time()
        db.close()
        deadline = time.monotonic() + 300
        while len(sim.messages) < N and time.monotonic() < deadline:
            time.sleep(0.01)
        got = list(sim.messages)
        if len(got) != N:
            raise SystemExit("outbox bench: %d of %d messages reached the simulator" % (len(got), N))
        bodies = {m.body for m in got}
        if len(bodies) != N:
            raise SystemExit("outbox bench: duplicates reached the simulator")
        lat = [m.date_created - t0 for m in got]
        span = max(lat)
        print("BENCH outbox: insert to Twilio, pacing off (%d SMS) | %.0f | messages/s" % (N, N / span))
        print("BENCH outbox: commit to Twilio receipt, p50 / p99 | %.0f / %.0f | ms"
              % (pct(lat, 50) * 1000, pct(lat, 99) * 1000))
    finally:
        p.close()
        sim.stop()


def insert_latency(build):
    exe = os.path.join(build, "bench-outbox-enqueue")
    cflags = subprocess.check_output(["pkg-config", "--cflags", "libmicrohttpd", "libcurl", "libxml-2.0", "sqlite3",
                                      "jansson", "libcrypto", "libzip"], text=True).split()
    libs = subprocess.check_output(["pkg-config", "--libs", "libmicrohttpd", "libcurl", "libxml-2.0", "sqlite3",
                                    "jansson", "libcrypto", "libzip"], text=True).split()
    subprocess.check_call(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-I" + ROOT, "-I" + os.path.join(ROOT, "server")] + cflags +
                          [os.path.join(ROOT, "tests", "bench", "outbox_enqueue.c"),
                           os.path.join(build, "libplantao.a")] + libs + ["-lpthread", "-lm", "-o", exe])
    with tempfile.TemporaryDirectory(prefix="plantao-bench-outbox-") as tmp:
        out = subprocess.check_output([exe, os.path.join(tmp, "bench.db"), str(N_INSERT)], text=True,
                                      stderr=subprocess.DEVNULL).split()
    p50, p99, rate = out
    print("BENCH outbox: insert in a handler's transaction, p50 / p99 | %s / %s | us" % (p50, p99))
    print("BENCH outbox: inserts, one transaction each | %s | per second" % rate)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PLANTAO_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    insert_latency(build)
    throughput(build)


if __name__ == "__main__":
    main()
