"""
tests/soak/soak.py SECONDS — drives plantao (normally the sanitizer build) with mixed traffic
through the Twilio simulator: signed voice and SMS webhooks, API reads and writes, alerts
that page and get acknowledged by the simulated phones. Samples the server's RSS; at the end
stops it with SIGTERM (LeakSanitizer runs at exit) and fails on any error, sanitizer report,
leak, or memory that keeps growing.
"""

import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Plantao, TwilioSim, TWILIO_FROM  # noqa: E402
import secrets  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 300
PEOPLE = ["+5511990000001", "+5511990000002", "+5511990000003"]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    sim = TwilioSim("AC" + secrets.token_hex(16), secrets.token_hex(16), owned_numbers={TWILIO_FROM}).start()
    sim.default_behaviour = "answers:1" if hasattr(sim, "default_behaviour") else None
    for n in PEOPLE:
        sim.phone(n).answers(digits="1")
    p = Plantao(sim, env={"PLANTAO_SMS_RATE": "0", "PLANTAO_CALL_RATE": "0", "PLANTAO_DEST_PER_MINUTE": "0",
                          "PLANTAO_DEST_PER_15MIN": "0", "PLANTAO_LOG_LEVEL": "warn", "PLANTAO_API_RATE": "0"})
    p.start()
    stats = {"requests": 0, "errors": 0, "by_kind": {}}
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS
    for i, n in enumerate(PEOPLE):
        p.api("POST", "/api/people", json={"name": "Soak %d" % i, "phone": n})
    status, people, _ = p.api("GET", "/api/people")
    ids = [x["id"] for x in (people.get("people", people) if isinstance(people, dict) else people)]
    p.api("PUT", "/api/rotation", json={"members": ids, "shift_hours": 168})

    def record(kind, ok):
        with lock:
            stats["requests"] += 1
            k = stats["by_kind"].setdefault(kind, [0, 0])
            k[0] += 1
            if not ok:
                stats["errors"] += 1
                k[1] += 1

    def worker(seed):
        rnd = random.Random(seed)
        n = 0
        while time.monotonic() < stop:
            n += 1
            r = rnd.random()
            if r < 0.35:
                w = p.webhook("/twilio/voice", {"CallSid": "CA%032x" % rnd.getrandbits(128),
                                                 "From": "+5511988887777", "To": TWILIO_FROM,
                                                 "CallStatus": "ringing", "Direction": "inbound"})
                record("voice webhook", w.status == 200)
            elif r < 0.5:
                w = p.webhook("/twilio/sms", {"MessageSid": "SM%032x" % rnd.getrandbits(128),
                                               "From": rnd.choice(PEOPLE), "To": TWILIO_FROM, "Body": "quem"})
                record("sms webhook", w.status == 200)
            elif r < 0.8:
                path = rnd.choice(["/api/oncall", "/api/people", "/api/schedule", "/api/alerts", "/healthz?live",
                                   "/metrics"])
                record("api read", p.api("GET", path)[0] == 200)
            elif r < 0.95:
                st = p.api("POST", "/api/overrides" if rnd.random() < 0.5 else "/api/people/%d" % rnd.choice(ids),
                           json={"person_id": rnd.choice(ids), "start": "2030-01-01T09:00",
                                 "end": "2030-01-01T10:00", "reason": "soak"} if rnd.random() < 0.5 else None)[0]
                record("api write", st < 500)
            else:
                st = p.api("POST", "/api/alerts", json={"summary": "soak alert %d" % n,
                                                        "dedup_key": "soak-%d" % rnd.randint(0, 20)})[0]
                record("alert", st == 202)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    samples = []
    while time.monotonic() < stop:
        samples.append(rss_kib(p.proc.pid))
        time.sleep(min(5, max(0.5, SECONDS / 20)))
    for t in threads:
        t.join()
    samples.append(rss_kib(p.proc.pid))
    p.stop()
    log = p.log_text()
    sanitizer = [l for l in log.splitlines() if "Sanitizer" in l or "runtime error:" in l]
    quarter = samples[len(samples) // 4] if samples else 0
    growth = (samples[-1] - quarter) / quarter if quarter else 0
    print("soak: %d requests in %ds (%.0f/s), %d errors" % (stats["requests"], SECONDS,
                                                               stats["requests"] / SECONDS, stats["errors"]))
    for k, (n, e) in sorted(stats["by_kind"].items()):
        print("  %-14s %7d  errors %d" % (k, n, e))
    print("soak: RSS KiB samples %s" % samples)
    print("soak: RSS growth after warm-up %.1f%%" % (growth * 100))
    print("soak: sanitizer reports: %d" % len(sanitizer))
    for l in sanitizer[:20]:
        print("  " + l)
    sim.stop()
    failed = stats["errors"] > 0 or sanitizer or growth > 0.25
    p.close(keep=bool(failed))
    if failed:
        print("soak: FAILED (log kept in %s)" % p.tmp)
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
