"""
tests/integration/test_monitors.py — heartbeat monitors (dead man's switches, issue 15), end to
end at the default configuration against the Twilio simulator, with plantao's clock moved by the
test (PLANTAO_CLOCK_FILE):

- a job pings /ping/<secret>; when the pings stop the monitor is late after its period and down
  after its grace: an alert (dedup_key monitor:<id>, the monitor's severity) pages through the
  normal escalation; the next ping resolves it with one "voltou" text;
- /fail and exit statuses 1-255 are down at once, with the POSTed log tail in the alert;
- a cron schedule is read in the monitor's zone, across a DST change;
- a monitor that went down while plantao was stopped pages right after start;
- paused monitors never page; unknown secrets are 404 and rate limited.
"""

import calendar
import os
import secrets
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA = "+5511990000001"

_no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def utc(y, mo, d, h, mi, s=0):
    return calendar.timegm((y, mo, d, h, mi, s))


class MonitorTest(IntegrationTest):

    def team(self):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.api_ok("PUT", "/api/escalation", json={"steps": [{"target": self.ana, "timeout_s": 30}], "rounds": 1})

    def create(self, **fields):
        body = {"kind": "heartbeat", "name": "backup"}
        body.update(fields)
        status, m, _ = self.api("POST", "/api/monitors", json=body)
        self.assertEqual(status, 201, m)
        return m

    def monitor(self, mid):
        return self.api_ok("GET", "/api/monitors/%d" % mid)

    def wait_state(self, mid, state, timeout=10):
        return wait_until(lambda: (lambda m: m if m["state"] == state else None)(self.monitor(mid)), timeout=timeout,
                          what="monitor %d %s" % (mid, state))

    def ping(self, m, suffix="", method="GET", body=None):
        """The job's side: curl on the ping URL. Returns (status, text)."""
        url = m["ping_url"] + suffix
        req = urllib.request.Request(url, data=body, method=method)
        try:
            with _no_proxy.open(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def ping_ok(self, m, suffix="", **kw):
        status, text = self.ping(m, suffix, **kw)
        self.assertEqual((status, text), (200, "OK"))

    def monitor_alerts(self, mid):
        alerts = self.api_ok("GET", "/api/alerts")["alerts"]
        return [a for a in alerts if a.get("dedup_key") == "monitor:%d" % mid]


class TestHeartbeat(MonitorTest):

    def test_late_then_down_pages_then_voltou(self):
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        m = self.create(period_s=60, grace_s=30, severity="critical")
        self.assertEqual(m["state"], "new")
        self.assertRegex(m["ping_url"], r"^http://127\.0\.0\.1:\d+/ping/[0-9a-f]{32}$")
        # a new monitor never pages, however long nobody pings it
        self.advance(3600)
        self.assertEqual(self.monitor(m["id"])["state"], "new")
        self.ping_ok(m)
        up = self.wait_state(m["id"], "up")
        self.assertAlmostEqual(up["due_at_unix"], self.plantao.now() + 60, delta=5)
        self.advance(45)
        self.assertEqual(self.monitor(m["id"])["state"], "up")
        self.advance(20)  # 65 s after the ping: late, within grace, nobody paged yet
        self.wait_state(m["id"], "late")
        self.sim.assert_quiet(1.0)
        self.advance(30)  # 95 s: past period + grace
        down = self.wait_state(m["id"], "down")
        sms = self.sim.expect_sms(ANA, containing='Monitor "backup" sem sinal')
        call = self.sim.expect_call(ANA)
        self.assertTrue(call.heard("backup"), (call, call.says))
        [alert] = self.monitor_alerts(m["id"])
        self.assertEqual(alert["id"], down["alert_id"])
        self.assertEqual(alert["severity"], "critical")
        self.assertIn("Alerta %d" % alert["id"], sms.body)
        self.sim.expect_sms(ANA, containing="assumido")  # Ana pressed 1
        # the job is back: the alert resolves, Ana reads one text that says so
        self.ping_ok(m)
        self.wait_state(m["id"], "up")
        self.sim.expect_sms(ANA, containing='Alerta %d resolvido: monitor "backup" voltou' % alert["id"])
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % alert["id"])["status"], "resolved")
        self.sim.assert_quiet(1.5)
        self.assertIsNone(self.monitor(m["id"])["alert_id"])

    def test_fail_and_exit_status_pings_with_the_log_tail(self):
        self.team()
        m = self.create(period_s=3600, grace_s=600, severity="warning")
        self.ping_ok(m, "/start")
        self.advance(42)
        log = "rsync: connection unexpectedly closed\nERROR: backup of db1 failed\n"
        self.ping_ok(m, "/fail", method="POST", body=log.encode())
        down = self.wait_state(m["id"], "down")
        self.assertEqual(down["last_ping_kind"], "fail")
        self.assertAlmostEqual(down["last_duration_ms"], 42000, delta=3000)
        sms = self.sim.expect_sms(ANA, containing='Monitor "backup" falhou')
        [alert] = self.monitor_alerts(m["id"])
        self.assertEqual(alert["severity"], "warning")
        self.assertIn("ERROR: backup of db1 failed", self.api_ok("GET", "/api/alerts/%d" % alert["id"])["details"])
        self.assertIn("Alerta %d" % alert["id"], sms.body)
        # exit status 0 is a success: back up, resolved with the voltou text
        self.ping_ok(m, "/0")
        self.wait_state(m["id"], "up")
        self.sim.expect_sms(ANA, containing="voltou")
        # exit status 3: down again at once, a new alert naming the status; HEAD counts as a ping
        self.ping_ok(m, "/3", method="POST", body=b"exit 3")
        self.wait_state(m["id"], "down")
        self.sim.expect_sms(ANA, containing="código de saída 3")
        status, _ = self.ping(m, method="HEAD")
        self.assertEqual(status, 200)
        self.wait_state(m["id"], "up")
        self.sim.expect_sms(ANA, containing="voltou")
        # a warning texts, never calls
        self.sim.assert_quiet(1.0)
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 0)
        pings = self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]
        self.assertEqual([(p["kind"], p["exit_status"], p["method"]) for p in pings],
                         [("success", None, "HEAD"), ("fail", 3, "POST"), ("success", 0, "GET"),
                          ("fail", None, "POST"), ("start", None, "GET")])
        self.assertEqual(pings[3]["body"], log)

    def test_big_body_is_kept_cut_to_100_kb(self):
        m = self.create(period_s=60, grace_s=60)
        body = ("x" * 1000 + "\n") * 300  # 300 KB of log
        self.ping_ok(m, "", method="POST", body=body.encode())
        wait_until(lambda: self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"], what="ping recorded")
        [p] = self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]
        self.assertEqual(len(p["body"]), 100 * 1024)
        self.assertTrue(body.startswith(p["body"]))

    def test_cron_schedule_across_dst(self):
        """New York springs forward on 2026-03-08: the 06:00 run comes an hour earlier in UTC."""
        self.team()
        m = self.create(schedule="0 6 * * *", tz="America/New_York", grace_s=600, severity="warning")
        self.plantao.set_clock_offset(utc(2026, 3, 7, 10, 30) - time.time())  # Sat 05:30 EST
        self.ping_ok(m)
        self.assertEqual(self.wait_state(m["id"], "up")["due_at_unix"], utc(2026, 3, 7, 11, 0))  # 06:00 EST
        self.plantao.set_clock_offset(utc(2026, 3, 7, 11, 5) - time.time())  # 06:05 EST: the run's ping
        self.ping_ok(m)
        wait_until(lambda: self.monitor(m["id"])["due_at_unix"] == utc(2026, 3, 8, 10, 0),  # 06:00 EDT
                   what="due at 06:00 EDT (10:00Z), not 11:00Z: %r" % self.monitor(m["id"]))
        self.plantao.set_clock_offset(utc(2026, 3, 8, 10, 5) - time.time())
        self.wait_state(m["id"], "late")
        self.sim.assert_quiet(1.0)
        self.plantao.set_clock_offset(utc(2026, 3, 8, 10, 11) - time.time())  # past the grace
        self.wait_state(m["id"], "down")
        self.sim.expect_sms(ANA, containing='Monitor "backup" sem sinal')

    def test_down_while_stopped_pages_right_after_start(self):
        self.team()
        m = self.create(period_s=300, grace_s=60, severity="warning")
        self.ping_ok(m)
        self.wait_state(m["id"], "up")
        self.plantao.kill9()
        self.plantao.set_clock_offset(self.plantao.clock_offset + 3600, settle=0)
        self.plantao.start()
        self.sim.expect_sms(ANA, containing='Monitor "backup" sem sinal', timeout=10)
        self.assertEqual(self.monitor(m["id"])["state"], "down")
        self.assertEqual(len(self.monitor_alerts(m["id"])), 1)

    def test_paused_never_pages(self):
        self.team()
        m = self.create(period_s=60, grace_s=10, severity="warning")
        self.ping_ok(m)
        self.wait_state(m["id"], "up")
        p = self.api_ok("PATCH", "/api/monitors/%d" % m["id"], json={"paused": True})
        self.assertEqual(p["state"], "paused")
        self.advance(3600)
        self.ping_ok(m, "/fail")  # recorded, not paged
        wait_until(lambda: self.monitor(m["id"])["last_ping_kind"] == "fail", what="fail ping folded")
        self.sim.assert_quiet(1.0)
        self.assertEqual(self.monitor_alerts(m["id"]), [])
        # resumed: it owes its next ping one period from now, then pages as usual
        r = self.api_ok("PATCH", "/api/monitors/%d" % m["id"], json={"paused": False})
        self.assertEqual(r["state"], "up")
        self.assertAlmostEqual(r["due_at_unix"], self.plantao.now() + 60, delta=5)
        self.advance(75)
        self.wait_state(m["id"], "down")
        self.sim.expect_sms(ANA, containing="sem sinal")


class TestMonitorApi(MonitorTest):

    def test_unknown_secret_is_404_and_rate_limited_known_ones_still_ok(self):
        m = self.create(period_s=60, grace_s=60)
        base = m["ping_url"].rsplit("/", 1)[0]
        status, text = self.ping({"ping_url": base + "/" + secrets.token_hex(16)})
        self.assertEqual((status, text), (404, "not found\n"))
        statuses = [self.ping({"ping_url": base + "/" + secrets.token_hex(16)})[0] for _ in range(150)]
        self.assertIn(429, statuses)
        self.assertEqual(set(statuses), {404, 429})
        self.ping_ok(m)  # a job with the right secret is never held back by guessers
        self.assertEqual(self.ping(m, "/256")[0], 400)

    def test_the_secret_never_reaches_the_log(self):
        """The ping URL's secret is the monitor's only credential: whoever reads the log (an
        operator, a log shipper) must not be able to ping for the job."""
        m = self.create(period_s=60)
        secret = m["ping_url"].rsplit("/", 1)[1]
        self.ping_ok(m)
        self.ping_ok(m, "/fail", method="POST", body=b"x")
        self.ping_ok(m, "/0")
        wait_until(lambda: len(self.api_ok("GET", "/api/monitors/%d/pings" % m["id"])["pings"]) >= 3,
                   what="three pings")
        # access lines are written in batches: wait for the last one
        log = wait_until(lambda: (lambda t: t if "/ping/***/0 " in t else None)(self.plantao.log_text()),
                         timeout=10, what="the pings' access lines")
        self.assertIn("POST /ping/***/fail 200", log)
        self.assertNotIn(secret, log)

    def test_validation_listing_and_delete(self):
        for body, word in (({"kind": "heartbeat", "name": "x"}, "period_s or schedule"),
                           ({"kind": "heartbeat", "name": "x", "period_s": 0}, "period_s"),
                           ({"kind": "heartbeat", "name": "x", "period_s": 60, "schedule": "* * * * *"}, "not both"),
                           ({"kind": "heartbeat", "name": "x", "schedule": "0 25 * * *"}, "hour"),
                           ({"kind": "heartbeat", "name": "x", "period_s": 60, "colour": "red"}, "colour"),
                           ({"kind": "heartbeat", "name": "x", "period_s": 60, "severity": "huge"}, "severity"),
                           ({"kind": "heartbeat", "name": "x", "period_s": 60, "tz": "Mars/Olympus"}, "tz")):
            status, err, _ = self.api("POST", "/api/monitors", json=body)
            self.assertEqual(status, 422, (body, err))
            self.assertIn(word, err["error"]["message"])
        a = self.create(period_s=60)
        b = self.create(name="etl", schedule="0 6 * * 1-5")
        self.assertEqual(a["grace_s"], 60)
        self.assertEqual(b["grace_s"], 3600)
        self.assertEqual(b["tz"], "America/Sao_Paulo")
        self.assertNotEqual(a["ping_url"], b["ping_url"])
        names = [x["name"] for x in self.api_ok("GET", "/api/monitors")["monitors"]]
        self.assertEqual(names, ["etl", "backup"])  # newest first, like every list
        p = self.api_ok("PATCH", "/api/monitors/%d" % b["id"], json={"period_s": 120})
        self.assertEqual((p["period_s"], p["schedule"]), (120, None))
        self.api_ok("DELETE", "/api/monitors/%d" % a["id"])
        self.assertEqual(self.api("GET", "/api/monitors/%d" % a["id"])[0], 404)
        self.assertEqual(self.ping(a)[0], 404)
        status, _, _ = self.api("GET", "/api/monitors", token=None)
        self.assertEqual(status, 401)
