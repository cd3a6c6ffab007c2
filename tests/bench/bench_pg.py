#!/usr/bin/env python3
"""
tests/bench/bench_pg.py BUILD — `make bench-pg`: the webhook and alert figures of `make bench`
(tests/bench/bench.py, whose helpers this reuses) on PostgreSQL next to SQLite, with one
instance and with two instances on one database (issue 17, "Done means").

Set-ups, each measured BENCH_PG_RUNS times (2) so the report gives a range on a shared machine:
  sqlite-1  one plantao on a SQLite file (what `make bench` measures);
  pg-1      one plantao on PostgreSQL;
  pg-2      two plantao on the same PostgreSQL database, the client spreading its requests
            across both (as a round-robin load balancer would, without one in the way: each
            instance gets half the connections, two wrk processes at once; the alert burst's
            client processes alternate between the instances).
PostgreSQL: a throw-away cluster started here (tests/pg/cluster, PG_DURABLE=1: fsync and
full-page writes on, as a production server has them) on the same machine, over loopback TCP.
Figures:
  webhook   signed POST /twilio/voice with wrk: Twilio's retry of a known call at -c16 and a new
            call per request (a rotation look-up and a write each) at -c16 (split over the
            instances for pg-2); req/s and p99.
  alerts    BENCH_PG_ALERTS (4000) critical alerts by 8 client processes to a team of one,
            limits per phone raised, Twilio the C fake (tests/bench/fake_twilio.c): alerts
            accepted per second, and when each alert's first page reached the fake after the
            last 202.
Environment: BENCH_SECONDS (10), BENCH_THREADS (2), BENCH_PG_RUNS (2), BENCH_PG_ALERTS (4000),
BENCH_PG_SETUPS (comma list, default "sqlite-1,pg-1,pg-2"), BENCH_PG_SKIP (webhook, alerts).
"""

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

import bench  # noqa: E402
from harness import Plantao  # noqa: E402

RUNS = int(os.environ.get("BENCH_PG_RUNS", "2"))
N_ALERTS = int(os.environ.get("BENCH_PG_ALERTS", "4000"))
SETUPS = [x for x in os.environ.get("BENCH_PG_SETUPS", "sqlite-1,pg-1,pg-2").split(",") if x]
SKIP = set(x for x in os.environ.get("BENCH_PG_SKIP", "").split(",") if x)
PUBLIC = "http://plantao.bench"  # the load balancer's address: every instance signs against it
CLUSTER = os.path.join(ROOT, "tests", "pg", "cluster")


class Cluster:
    """A durable throw-away PostgreSQL for the bench; a new database per set-up."""

    def __init__(self, build):
        self.dir = os.path.join(os.path.abspath(build), "bench-pg")
        env = dict(os.environ, PG_DURABLE="1")
        self.admin_url = subprocess.check_output(["bash", CLUSTER, "start", self.dir], env=env, text=True).strip()
        self.n = 0

    def database(self):
        self.n += 1
        name = "plantao_bench_%d_%d" % (os.getpid(), self.n)
        subprocess.run(["psql", "-q", "-d", self.admin_url, "-c", 'CREATE DATABASE "%s"' % name], check=True)
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        subprocess.run(["bash", CLUSTER, "stop", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- webhook

def serve(build, tmp, tag, db, demo):
    port = bench.free_port()
    env = dict(os.environ)
    env.update({"PLANTAO_LISTEN": "127.0.0.1:%d" % port, "PLANTAO_PUBLIC_URL": PUBLIC, "PLANTAO_DB": db,
                "TWILIO_AUTH_TOKEN": bench.TOKEN, "PLANTAO_THREADS": "4"})
    for k in ("PLANTAO_LOG_LEVEL", "TWILIO_ACCOUNT_SID", "TWILIO_API_BASE", "PLANTAO_METRICS_INSTANCE"):
        env.pop(k, None)
    log = open(os.path.join(tmp, tag + ".log"), "w")
    proc = subprocess.Popen([os.path.join(build, "plantao"), "serve"] + (["--demo"] if demo else []), env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    bench.wait_http(port, "/healthz?live", proc=proc, what="plantao (%s)" % tag)
    return proc, port


def wrk_all(ports, script_for, conns, tmp, name):
    """wrk against each port at once, conns split evenly; summed req/s, worst p99."""
    procs = []
    for i, port in enumerate(ports):
        url = "http://127.0.0.1:%d/twilio/voice" % port
        out = open(os.path.join(tmp, "%s-%d.wrk" % (name, i)), "w+")
        procs.append((out, subprocess.Popen(["wrk", "-t%d" % bench.WRK_THREADS, "-c%d" % (conns // len(ports)),
                                             "-d%ds" % bench.DUR, "--latency", "-s", script_for(i), url],
                                            stdout=out, stderr=subprocess.STDOUT, text=True)))
    res = []
    for out, p in procs:
        p.wait()
        out.seek(0)
        res.append(bench.parse_wrk(out.read()))
        out.close()
    bad = sum(r["non2xx"] for r in res)
    if bad or any(r["errors"] for r in res):
        print("bench-pg: %s: %d non-2xx, %s" % (name, bad, [r["errors"] for r in res]), file=sys.stderr)
    return {"rps": sum(r["rps"] for r in res), "p99_ms": max(r["p99_ms"] for r in res),
            "p50_ms": max(r["p50_ms"] for r in res), "non2xx": bad}


def webhook(build, tmp, tag, db, n_inst):
    procs = []
    try:
        for i in range(n_inst):
            procs.append(serve(build, tmp, "%s-%d" % (tag, i), db, demo=(i == 0)))
        ports = [p for _, p in procs]
        url = PUBLIC + "/twilio/voice"
        params = bench.voice_body("CA" + "0" * 31 + "1")
        body = urllib.parse.urlencode(params)
        lua = os.path.join(tmp, "voice-%s.lua" % tag)
        bench.lua_static(lua, body, bench.sign(url, params))
        c = bench.http.client.HTTPConnection("127.0.0.1", ports[0], timeout=10)
        c.request("POST", "/twilio/voice", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": bench.sign(url, params)})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("bench-pg: signed webhook answered %d" % r.status)
        res = {"retry16": wrk_all(ports, lambda i: lua, 16, tmp, tag + "-retry16")}
        n = max(50000, 40000 * bench.DUR)
        scripts = []
        for i in range(n_inst):
            reqfile = os.path.join(tmp, "newcalls-%s-%d.txt" % (tag, i))
            with open(reqfile, "w") as f:
                for k in range(n):
                    p = bench.voice_body("CA%02x%s%08x" % (i, tag.encode().hex()[:6], k) + "0" * 20)
                    f.write("%s\t%s\n" % (urllib.parse.urlencode(p), bench.sign(url, p)))
            script = os.path.join(tmp, "newcalls-%s-%d.lua" % (tag, i))
            bench.lua_new_calls(script, reqfile, n)
            scripts.append(script)
        res["new16"] = wrk_all(ports, lambda i: scripts[i], 16, tmp, tag + "-new16")
        for i in range(n_inst):
            os.unlink(os.path.join(tmp, "newcalls-%s-%d.txt" % (tag, i)))
        return res
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


# ---------------------------------------------------------------- alerts

def post_alerts(port, token, k, n):
    """One client process: alerts k, k + 8, …; (accepted, errors, time of the last 202)."""
    cl = bench.Client(port, token)
    ok = err = 0
    last = 0.0
    for i in range(k, n, bench.ALERT_CLIENTS):
        st, _ = cl.request("POST", "/api/alerts", {"summary": "burst %d" % i, "severity": "critical"})
        if st == 202:
            ok += 1
            last = time.time()
        else:
            err += 1
    return ok, err, last


def alert_burst(build, db, n_inst):
    fake = bench.FakeTwilio(build)
    insts = []
    try:
        env = dict(bench.LIMITS, PLANTAO_METRICS_INSTANCE=None)
        if db:
            env["PLANTAO_DB"] = db
        first = Plantao(fake, env=env, build=build)
        first.start()
        insts.append(first)
        for _ in range(n_inst - 1):
            env2 = dict(env, PLANTAO_DB=first.env["PLANTAO_DB"], PLANTAO_API_TOKEN=first.api_token)
            p = Plantao(fake, env=env2, build=build)
            p.api_token = first.api_token
            p.start()
            insts.append(p)
        c = bench.Client(first.port, first.api_token)
        status, body = c.request("POST", "/api/people", {"name": "Bench", "phone": "+5511990000001"})
        assert status == 201, (status, body)
        status, body = c.request("PUT", "/api/escalation", {"steps": [{"target": body["id"], "timeout_s": 300}],
                                                            "rounds": 1})
        assert status == 200, (status, body)
        t0 = time.time()
        with multiprocessing.Pool(bench.ALERT_CLIENTS) as pool:
            out = pool.starmap(post_alerts, [(insts[k % n_inst].port, first.api_token, k, N_ALERTS)
                                             for k in range(bench.ALERT_CLIENTS)])
        n_ok = sum(o[0] for o in out)
        n_err = sum(o[1] for o in out)
        t_last = max(o[2] for o in out)
        dbh = first.db
        deadline = time.monotonic() + 180
        while True:
            arrival = {sid: ms for _, sid, ms, _ in fake.log()}
            rows = dbh.query(
                "SELECT a.id AS aid, o.sid AS sid FROM alerts a JOIN page_texts t ON t.alert_id = a.id JOIN outbox o "
                "ON o.id = t.outbox_id WHERE o.sid IS NOT NULL UNION ALL SELECT c.alert_id, o.sid FROM call_attempts c "
                "JOIN outbox o ON o.id = c.outbox_id WHERE o.sid IS NOT NULL")
            first_page = {}
            for r in rows:
                if r["sid"] in arrival:
                    first_page[r["aid"]] = min(first_page.get(r["aid"], 1e18), arrival[r["sid"]])
            if len(first_page) >= n_ok or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        lag = (max(first_page.values()) / 1000.0 - t_last) if first_page else float("inf")
        return {"accepted": n_ok, "errors": n_err, "accept_rate": n_ok / max(1e-3, t_last - t0),
                "paged": len(first_page), "lag_s": max(0.0, lag)}
    finally:
        for p in insts:
            p.close()
        fake.stop()


# ---------------------------------------------------------------- report

def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def rng(values, fmt):
    lo, hi = min(values), max(values)
    return fmt % lo if fmt % lo == fmt % hi else (fmt % lo) + "–" + (fmt % hi)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    bench.build_tools(build)
    cluster = Cluster(build) if any(s.startswith("pg") for s in SETUPS) else None
    res = {s: [] for s in SETUPS}
    loads = []
    try:
        with tempfile.TemporaryDirectory(prefix="plantao-bench-pg-") as tmp:
            for run in range(RUNS):
                for s in SETUPS:
                    kind, n_inst = s.split("-")
                    n_inst = int(n_inst)
                    r = {}
                    loads.append(loadavg())
                    if "webhook" not in SKIP:
                        db = cluster.database() if kind == "pg" else os.path.join(tmp, "%s-%d.db" % (s, run))
                        r["web"] = webhook(build, tmp, "%s-%d" % (s, run), db, n_inst)
                    if "alerts" not in SKIP:
                        r["alerts"] = alert_burst(build, cluster.database() if kind == "pg" else None, n_inst)
                    res[s].append(r)
                    print("bench-pg: run %d %s: %s" % (run + 1, s, r), file=sys.stderr)
                    sys.stderr.flush()
    finally:
        if cluster:
            cluster.stop()
    print()
    print("plantao bench-pg — %s, %d cores, wrk -t%d -d%ds, %d runs (ranges), %d alerts, load average at each "
          "set-up's start: %s" % (time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), os.cpu_count(), bench.WRK_THREADS,
                                  bench.DUR, RUNS, N_ALERTS, "; ".join(loads)))
    print("| set-up | webhook retry -c16 req/s (p99 ms) | webhook new call -c16 req/s (p99 ms) | alerts accepted/s | "
          "last first page after the last 202 (s) |")
    print("|---|---|---|---|---|")
    for s in SETUPS:
        rs = res[s]
        cells = [s]
        if "webhook" not in SKIP:
            for key in ("retry16", "new16"):
                cells.append("%s (%s)" % (rng([r["web"][key]["rps"] for r in rs], "%.0f"),
                                          rng([r["web"][key]["p99_ms"] for r in rs], "%.1f")))
        else:
            cells += ["-", "-"]
        if "alerts" not in SKIP:
            cells.append(rng([r["alerts"]["accept_rate"] for r in rs], "%.0f"))
            cells.append("%s (%s of %s paged)" % (rng([r["alerts"]["lag_s"] for r in rs], "%.2f"),
                                                  rng([r["alerts"]["paged"] for r in rs], "%d"),
                                                  rng([r["alerts"]["accepted"] for r in rs], "%d")))
        else:
            cells += ["-", "-"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
