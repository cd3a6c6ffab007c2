"""
tests/integration/test_uptime_stall.py — an uptime-check thread that stops ticking is visible
(issue 15 with issue 17's visibility rule: anything that stops a page must show).

The story: a team watches its site with an HTTP uptime check. The thread that runs the checks
gets stuck (a check that blocks beyond its timeouts, a database that does not answer): from then
on a site that goes down is not noticed and pages nobody. /healthz must say so (the monitors
component fails with code uptime_stalled and the reason in words, 503) and /metrics shows the age
of the thread's last tick; once the thread ticks again both recover by themselves.

The fault is a test-only hook of the uptime thread (server/monitors/uptime.h):
PLANTAO_TEST_UPTIME_STALL_S=N blocks the thread N seconds once, the first time a check is in
flight. Default configuration otherwise.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402
from test_monitors_uptime import Site  # noqa: E402

STALL = 22  # seconds the thread blocks; /healthz fails once it has not ticked for 15 s


def age(text, thread):
    m = re.search(r'\nplantao_monitor_thread_tick_age_seconds\{thread="%s"\} ([0-9.]+)\n' % thread, text)
    return float(m.group(1)) if m else None


class TestUptimeStall(IntegrationTest):
    plantao_env = {"PLANTAO_TEST_UPTIME_STALL_S": str(STALL)}

    def healthz(self):
        status, body, _ = self.api("GET", "/healthz?verbose", token=None)
        return status, body

    def test_a_stuck_uptime_thread_fails_healthz_and_shows_its_age(self):
        site = Site()
        self.addCleanup(site.stop)
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "+5511990000001"})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        t0 = time.monotonic()
        self.api_ok("POST", "/api/monitors", json={"kind": "http", "name": "site", "url": site.url,
                                                     "interval_s": 1, "severity": "warning"})

        def stalled():
            status, body = self.healthz()
            return (status, body) if body.get("monitors") == "uptime_stalled" else None
        status, body = wait_until(stalled, timeout=STALL + 10, interval=0.5, what="/healthz monitors uptime_stalled")
        self.assertEqual(status, 503, body)
        self.assertIn("uptime-check thread has not ticked", body["reasons"]["monitors"])
        self.assertIn("pages nobody", body["reasons"]["monitors"])
        self.assertGreater(body["components"]["monitors"]["uptime_last_tick_ms_ago"], 15000)
        text = self.api_ok("GET", "/metrics")
        self.assertGreater(age(text, "uptime"), 15)
        self.assertLess(age(text, "heartbeat"), 5)  # the other monitor thread is fine
        self.assertIn('\nplantao_health_ok{component="monitors"} 0\n', text)
        self.assertIn("health: monitors failing (uptime_stalled)", self.plantao.log_text())
        seen = time.monotonic() - t0
        # the thread comes back: so do /healthz and the metric, without a restart
        wait_until(lambda: self.healthz()[1].get("monitors") == "ok", timeout=STALL + 20, interval=0.5,
                   what="/healthz monitors ok again")
        self.assertLess(age(self.api_ok("GET", "/metrics"), "uptime"), 5)
        hits = site.hits
        wait_until(lambda: site.hits > hits + 1, timeout=15, what="checks running again")
        sys.stderr.write("\n[measure] uptime thread blocked %d s: /healthz failed monitors=uptime_stalled %.1f s "
                         "after the monitor was created, ok again once it ticked\n" % (STALL, seen))
