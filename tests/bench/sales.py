#!/usr/bin/env python3
"""
tests/bench/sales.py BUILD_DIR — the sales import's figures for `make bench` (run() is called by
tests/bench/bench.py for each build it measures).

Writes a CSV of BENCH_SALES_ROWS (default 1,000,000) rows to a temporary file — semicolons,
Brazilian amounts ("R$ 1.234,56", "987,10"), 50 sellers whose spellings vary in case and
accents so the rows of each must be summed — starts `plantao serve` (harness.Plantao, wired
to the Twilio simulator, one manager phone), and POSTs the file as one streamed request
(http.client reading the file in 64 KiB blocks: Python never holds it whole). It checks the
answer (row count, 50 sellers, the exact total) and prints

    BENCH CSV import 1M rows | <rows/s> rows/s | peak RSS <MiB> MiB

where rows/s counts from the first byte sent to the answer (upload, parsing, staging, the
commit and the notifications) and peak RSS is the server's VmHWM from /proc/<pid>/status
after the import (its value before the import is printed too). The import must stream: the
peak stays in the tens of MiB whatever the file size.
"""

import http.client
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sim"))

from harness import TWILIO_FROM, Plantao  # noqa: E402
from twilio_sim import TwilioSim  # noqa: E402

ROWS = int(os.environ.get("BENCH_SALES_ROWS", "1000000"))
SELLERS = 50
FIRST = ["Ana", "Bruno", "Carla", "Davi", "Érica", "Fábio", "Gisele", "Hélio", "Iara", "João"]
LAST = ["Souza", "Lima", "Conceição", "Araújo", "Pereira"]


def seller_names():
    """50 sellers, each with three spellings that fold to the same key."""
    out = []
    for i in range(SELLERS):
        name = "%s %s" % (FIRST[i % 10], LAST[i // 10])
        plain = name.translate(str.maketrans("ÉáéíóúãçÁÍÓÚÃÇ", "EaeiouacAIOUAC"))
        out.append((name, name.upper(), plain.lower()))
    return out


def brl(cents):
    reais, c = divmod(cents, 100)
    groups = []
    while reais >= 1000:
        reais, g = divmod(reais, 1000)
        groups.append("%03d" % g)
    groups.append(str(reais))
    return ".".join(reversed(groups)) + ",%02d" % c


def write_csv(path):
    """Returns (bytes written, {seller index: total cents})."""
    names = seller_names()
    totals = [0] * SELLERS
    x = 2463534242
    with open(path, "w", encoding="utf-8", newline="") as f:
        buf = ["\ufeffVendedor;Vendas (R$);Observação\r\n"]
        for i in range(ROWS):
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            s = x % SELLERS
            cents = 100 + x % 250000  # R$ 1,00 .. R$ 2.501,00
            totals[s] += cents
            amount = brl(cents)
            if i % 3 == 0:
                amount = "R$ " + amount
            buf.append("%s;%s;pedido %d\r\n" % (names[s][i % 3], amount, i))
            if len(buf) >= 20000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))
    return os.path.getsize(path), totals


def vm_hwm_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run(build, quiet=False):
    """Imports the CSV once into a fresh server of `build`; returns (rows/s, peak RSS MiB)."""
    with tempfile.TemporaryDirectory(prefix="plantao-bench-sales-") as tmp:
        csv_path = os.path.join(tmp, "vendas-2026-01.csv")
        size, totals = write_csv(csv_path)
        sim = TwilioSim("AC" + "c" * 32, "benchtoken", owned_numbers={TWILIO_FROM}).start()
        p = Plantao(sim, env={"PLANTAO_SMS_RATE": "0", "PLANTAO_LOG_LEVEL": None, "PLANTAO_CLOCK_FILE": None},
                    build=build)
        try:
            p.start()
            status, _, _ = p.api("PUT", "/api/sales/settings", json={"notify": ["+5511988880001"]})
            if status != 200:
                raise SystemExit("sales bench: settings answered %s" % status)
            rss_before = vm_hwm_mib(p.proc.pid)
            conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=600, blocksize=65536)
            with open(csv_path, "rb") as body:
                t0 = time.monotonic()
                conn.request("POST", "/api/sales?period=2026-01", body=body, headers={
                    "Authorization": "Bearer " + p.api_token,
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Length": str(size),
                })
                resp = conn.getresponse()
                raw = resp.read()
                elapsed = time.monotonic() - t0
            conn.close()
            rss_after = vm_hwm_mib(p.proc.pid)
            if resp.status != 201:
                raise SystemExit("sales bench: import answered %s: %s" % (resp.status, raw[:300]))
            answer = json.loads(raw)
            period = answer["periods"][0]
            if (answer["files"][0]["rows"] != ROWS or period["sellers"] != SELLERS
                    or period["total_cents"] != sum(totals)):
                raise SystemExit("sales bench: wrong figures: %s" % json.dumps(answer)[:400])
            label = "1M rows" if ROWS == 1000000 else "%d rows" % ROWS
            if not quiet:
                print("BENCH CSV import %s | %.0f rows/s | peak RSS %.0f MiB" % (label, ROWS / elapsed, rss_after))
                print("BENCH CSV import %s: file, time, server peak RSS before | %.0f MiB in %.2f s | %.0f MiB"
                      % (label, size / 1048576.0, elapsed, rss_before))
            return ROWS / elapsed, rss_after
        finally:
            p.close()
            sim.stop()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PLANTAO_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    run(build)


if __name__ == "__main__":
    main()
