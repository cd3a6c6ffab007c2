"""
tests/integration/test_health.py — failures that stop pages must be visible: /healthz answers
503 with a reason per component (database, twilio, oncall, outbox) when a page would not go out
— wrong Twilio credentials (20003), no credentials while a page waits, nobody on call, a page
stuck behind an unreachable Twilio, the database file deleted or its disk full under a running
server — and 200 only when a page would go out. /metrics: every family has HELP and TYPE; the
paging gauges. Start-up refuses Twilio credentials without PLANTAO_PUBLIC_URL.

/healthz?verbose is not 200 on a server nobody is on call for yet; these tests start plantao
themselves and wait for /healthz?live, the liveness answer, as process supervisors do.
"""

import datetime
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import READY_TIMEOUT, TEST_DB, IntegrationTest, Plantao, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000101", "+5511990000102"


class HealthTest(IntegrationTest):
    start_plantao = False

    # ---- helpers --------------------------------------------------------------------

    def start(self, env=None, db_path=None):
        """A plantao whose /healthz?verbose may well be 503: wait until it is alive."""
        merged = dict(self.plantao_env)
        merged.update(env or {})
        p = Plantao(self.sim, env=merged)
        if db_path:
            p.db_path = db_path
            p.env["PLANTAO_DB"] = db_path
        self.plantao = p
        self.addCleanup(self._finish_plantao, p)
        p.start(wait=False)

        def answers():
            if p.proc.poll() is not None:
                raise AssertionError("plantao exited with %s\n%s" % (p.proc.returncode, p.log_tail()))
            try:
                status, body, _ = p.api("GET", "/healthz?live", token=None, timeout=1)
            except OSError:
                return False
            return status == 200 and isinstance(body, dict)
        wait_until(answers, timeout=READY_TIMEOUT, what="/healthz to answer")
        return p

    def health(self, verbose=True):
        status, body, headers = self.api("GET", "/healthz?verbose" if verbose else "/healthz", token=None)
        self.assertIn(status, (200, 503), body)
        self.assertIn("json", headers.get("content-type", ""), body)
        return status, body

    def wait_health(self, component, code, status=503, timeout=20):
        """Polls /healthz until `component` reads `code` with HTTP `status`; returns the body."""
        seen = []

        def check():
            s, b = self.health()
            seen[:] = [s, b]
            return b if s == status and b.get(component) == code else None
        try:
            return wait_until(check, timeout=timeout, what="/healthz %s=%s (%s)" % (component, code, status))
        except AssertionError:
            self.fail("/healthz never had %s=%s with %s; last: %r\n%s"
                      % (component, code, status, seen, self.plantao.log_tail()))

    def add_person(self, name, phone):
        return self.api_ok("POST", "/api/people", json={"name": name, "phone": phone})["id"]

    def team(self):
        """Ana on call (a weekly rotation of Ana and Bruno), the default escalation policy."""
        self.ana = self.add_person("Ana", ANA)
        self.bruno = self.add_person("Bruno", BRUNO)
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno], "shift_hours": 168,
                                                  "handoff": self.handoff_an_hour_ago()})

    def handoff_an_hour_ago(self):
        """Local time (the default zone) of a shift start an hour ago: Ana's shift runs now."""
        t = datetime.datetime.fromtimestamp(self.plantao.now() - 3600, zoneinfo.ZoneInfo("America/Sao_Paulo"))
        return t.strftime("%Y-%m-%dT%H:%M")

    def trigger(self, summary):
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": summary, "severity": "critical"})
        self.assertEqual(status, 202, body)
        return body

    def page_rows(self):
        status, body, _ = self.api("GET", "/api/outbox")
        self.assertEqual(status, 200, body)
        return body["outbox"]

    def consume_all(self):
        """These tests are about what plantao says of itself, not which texts went where."""
        with self.sim._lock:
            for x in self.sim.messages + self.sim.calls:
                x.consumed = True

    def assert_all_ok(self):
        status, body = self.health()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ok", body)
        for c in ("database", "twilio", "oncall", "outbox"):
            self.assertEqual(body[c], "ok", body)
            self.assertEqual(body["components"][c]["status"], "ok", body)
        self.assertEqual(body["reasons"], {})
        return body


class TestHealthz(HealthTest):
    def test_ok_only_when_a_page_would_go_out(self):
        self.start()
        self.team()
        body = self.assert_all_ok()
        self.assertEqual(body["components"]["oncall"]["oncall_id"], self.ana)
        self.assertEqual(body["components"]["oncall"]["reachable"], 2)  # on call, then next
        self.assertEqual(self.api_ok("GET", "/api/oncall")["person"]["id"], self.ana)
        self.assertNotIn("Ana", str(body))  # public: no names, phones or paths
        self.assertNotIn(ANA, str(body))
        self.assertNotIn(self.plantao.db_path, str(body))
        # the plain form names every component too, without the details
        status, plain = self.health(verbose=False)
        self.assertEqual(status, 200, plain)
        self.assertNotIn("components", plain)
        self.assertEqual(plain["database"], "ok")

    def test_wrong_twilio_credentials(self):
        # Twilio (the simulator) answers 401 with code 20003 to every send.
        self.start({"TWILIO_AUTH_TOKEN": secrets.token_hex(16)})
        self.team()
        self.assert_all_ok()  # nothing was sent yet: nothing is known to be wrong
        self.trigger("db1 caiu")
        body = self.wait_health("twilio", "auth_error")
        self.assertEqual(body["status"], "impaired")
        self.assertIn("20003", body["reasons"]["twilio"])
        self.assertIn("TWILIO_AUTH_TOKEN", body["reasons"]["twilio"])
        self.assertEqual(body["components"]["twilio"]["last_error"]["code"], 20003)
        m = self.api_ok("GET", "/metrics")  # Prometheus sees the same verdict
        self.assertIn('\nplantao_health_ok{component="twilio"} 0\n', m)
        self.assertIn("\nplantao_paging_ok 0\n", m)
        self.assertEqual(self.sim.messages, [])  # nobody was reached
        self.assertTrue(self.sim.requests_of("messages", "POST"), "plantao did try to send")
        status, plain = self.health(verbose=False)  # the plain form gives the reason as well
        self.assertEqual(status, 503)
        self.assertEqual(plain["status"], "impaired")
        self.assertIn("20003", plain["reasons"]["twilio"])
        # the log says it once, however often /healthz is asked
        for _ in range(3):
            self.health()
        lines = [x for x in self.plantao.log_text().splitlines() if "health: twilio failing (auth_error)" in x]
        self.assertEqual(len(lines), 1, self.plantao.log_tail())
        self.assertIn("WARN", lines[0])

    def test_no_credentials_with_a_page_waiting(self):
        self.start({"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM": None})
        self.team()
        status, body = self.health()
        # nothing waiting yet, but no page could go out: not healthy (the demo of `make run` says so)
        self.assertEqual(status, 503, body)
        self.assertEqual(body["twilio"], "not_configured")
        self.assertIn("nobody can be paged", body["reasons"]["twilio"])
        self.trigger("disco cheio")
        wait_until(lambda: any(r["status"] == "pending" for r in self.page_rows()), timeout=10,
                   what="a page row waiting")
        body = self.wait_health("twilio", "not_configured", 503)
        self.assertIn("TWILIO_ACCOUNT_SID", body["reasons"]["twilio"])
        self.assertRegex(body["reasons"]["twilio"], r"^\d+ page\(s\) waiting")
        self.assertEqual(self.sim.requests, [])

    def test_nobody_on_call(self):
        self.start()
        self.add_person("Ana", ANA)  # people, but no rotation: the default policy pages "oncall", "next"
        body = self.wait_health("oncall", "nobody_on_call")
        self.assertIn("nobody is on call", body["reasons"]["oncall"])
        status, live, _ = self.api("GET", "/healthz?live", token=None)  # the process itself is fine
        self.assertEqual(status, 200, live)
        self.assertEqual(live["oncall"], "nobody_on_call")
        self.assertEqual(self.health(verbose=False)[0], 503)
        self.assertEqual(body["database"], "ok")
        m = self.api_ok("GET", "/metrics")
        self.assertIn("\nplantao_oncall_reachable 0\n", m)
        self.assertIn("\nplantao_paging_ok 0\n", m)
        self.assertIn('\nplantao_health_ok{component="oncall"} 0\n', m)
        self.assertIn('\nplantao_health_ok{component="database"} 1\n', m)
        # a rotation fixes it
        self.bruno = self.add_person("Bruno", BRUNO)
        self.api_ok("PUT", "/api/rotation", json={"members": [self.bruno], "shift_hours": 168,
                                                  "handoff": "2026-01-05T09:00"})
        self.assert_all_ok()
        self.assertIn("\nplantao_oncall_reachable 1\n", self.api_ok("GET", "/metrics"))
        self.assertIn("health: oncall ok again", self.plantao.log_text())

    def test_page_stuck_behind_unreachable_twilio(self):
        self.start()
        self.team()
        self.sim.down()
        self.trigger("fila parada")
        wait_until(lambda: any(r["status"] == "retry" for r in self.page_rows()), timeout=15,
                   what="a failed send attempt")
        status, body = self.health()
        self.assertEqual(status, 200, body)  # a fresh page being retried is not late yet
        self.assertEqual(body["twilio"], "send_errors")
        self.advance(200)
        body = self.wait_health("outbox", "pages_late")
        self.assertIn("PLANTAO_HEALTH_PAGE_AGE", body["reasons"]["outbox"])
        self.assertGreaterEqual(body["components"]["outbox"]["waiting"]["alert"]["oldest_s"], 200)
        m = self.api_ok("GET", "/metrics")
        age = re.search(r'^plantao_outbox_oldest_pending_seconds\{priority="alert"\} (\d+)$', m, re.M)
        self.assertTrue(age and int(age.group(1)) >= 200, m)
        self.sim.up()
        for _ in range(10):  # back-off timers run on plantao's clock
            self.advance(60, settle=0.2)
            if self.sim.messages:
                break
        self.sim.expect_sms(ANA, containing="fila parada", timeout=20)
        self.consume_all()

    @unittest.skipIf(TEST_DB == "pg", "SQLite only: deletes the database file under the server")
    def test_database_file_deleted_under_a_running_server(self):
        p = self.start()
        self.team()
        self.assert_all_ok()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(p.db_path + suffix)
            except FileNotFoundError:
                pass
        body = self.wait_health("database", "file_replaced", timeout=10)
        self.assertIn("restart", body["reasons"]["database"])


class TestLiveWhileWriting(HealthTest):
    @unittest.skipIf(TEST_DB == "pg", "SQLite only: another process holds the database file's write lock")
    def test_live_answers_while_another_process_holds_the_write_lock(self):
        """A long write elsewhere (a backup restore, a `plantao` command, a large import) holds the
        write lock for seconds: the supervisor's liveness check must still answer at once — it
        is about the process and its reads — or the supervisor restarts a healthy server. The
        full /healthz may wait for its write probe; ?live does not run one."""
        import sqlite3
        import threading
        self.start()
        time.sleep(1.2)  # past the last write probe's reuse (one second)
        db = sqlite3.connect(self.plantao.db_path, isolation_level=None, timeout=5)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE schema_migrations SET name = name WHERE version = 1")
        answered = []

        def live():
            status, body, _ = self.api("GET", "/healthz?live", token=None, timeout=30)
            answered.append((status, body, locked.is_set()))
        locked = threading.Event()
        locked.set()
        t = threading.Thread(target=live)
        t.start()
        t.join(4)  # the write probe would wait for the lock up to DB_BUSY_TIMEOUT_MS (5 s)
        locked.clear()
        db.execute("COMMIT")
        db.close()
        t.join(15)
        self.assertTrue(answered, "no answer")
        status, body, while_locked = answered[0]
        self.assertEqual(status, 200, body)
        self.assertTrue(while_locked, "/healthz?live waited for another process's write to end")


class TestDiskFull(HealthTest):
    def setUp(self):
        super().setUp()
        self.mnt = tempfile.mkdtemp(prefix="plantao-health-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            os.rmdir(self.mnt)
            raise unittest.SkipTest("cannot mount a small tmpfs here (%s): needs root" % r.stderr.decode().strip())
        self.addCleanup(self._unmount)

    def _unmount(self):
        subprocess.run(["umount", "-l", self.mnt], capture_output=True)
        os.rmdir(self.mnt)

    def test_database_that_takes_no_writes(self):
        self.start(db_path=os.path.join(self.mnt, "plantao.db"))
        self.team()
        self.assert_all_ok()
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb", buffering=0) as f:  # unbuffered: close() has nothing left to write
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        # fill what the WAL may still have room for, as a real burst of alerts would
        for i in range(50):
            if self.api("POST", "/api/people", json={"name": "x" * 150, "phone": "+55119900%05d" % i})[0] >= 500:
                break
        body = self.wait_health("database", "not_writable", timeout=10)
        self.assertIn("full", body["reasons"]["database"])
        os.unlink(filler)
        wait_until(lambda: self.health()[0] == 200, timeout=10, what="/healthz 200 once there is room")


class TestMetrics(HealthTest):
    def test_every_family_has_help_and_type(self):
        self.start()
        self.team()
        self.trigger("metricas")
        self.sim.expect_sms(ANA, containing="metricas", timeout=15)
        text = self.api_ok("GET", "/metrics")
        helps, types, order = {}, {}, []
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, _, doc = line[7:].partition(" ")
                self.assertTrue(doc.strip(), "empty HELP for " + name)
                self.assertNotIn(name, helps, "two HELP lines for " + name)
                helps[name] = doc
            elif line.startswith("# TYPE "):
                name, _, kind = line[7:].partition(" ")
                self.assertIn(kind, ("counter", "gauge", "histogram", "summary", "untyped"), line)
                self.assertNotIn(name, types, "two TYPE lines for " + name)
                types[name] = kind
            elif line and not line.startswith("#"):
                m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+]+|\+Inf|NaN)$", line)
                self.assertTrue(m, "not a sample line: %r" % line)
                name = m.group(1)
                family = name
                if name not in types:
                    family = re.sub(r"_(bucket|sum|count)$", "", name)
                self.assertIn(family, types, "sample before or without TYPE: " + line)
                self.assertIn(family, helps, "sample without HELP: " + line)
                if not order or order[-1] != family:
                    self.assertNotIn(family, order, "series of %s are not together" % family)
                    order.append(family)
        self.assertEqual(sorted(helps), sorted(types))
        for family in ("plantao_build_info", "plantao_start_time_seconds", "plantao_outbox_oldest_pending_seconds",
                       "plantao_oncall_reachable", "plantao_paging_ok", "plantao_health_ok",
                       "plantao_twilio_errors_total", "plantao_pages_unpaged_total",
                       "plantao_outbox_dead_letters_total", "plantao_alerts_total", "plantao_outbox_sent_total",
                       "plantao_http_requests_total"):
            self.assertIn(family, types, family)
        self.assertRegex(text, r'\nplantao_build_info\{version="[^"]+"\} 1\n')
        start = float(re.search(r"\nplantao_start_time_seconds (\S+)\n", text).group(1))
        self.assertLess(abs(start - self.plantao.now()), 120)
        for prio in ("alert", "support", "sales"):
            self.assertRegex(text, r'\nplantao_outbox_oldest_pending_seconds\{priority="%s"\} \d+\n' % prio)
        self.assertIn("\nplantao_oncall_reachable 1\n", text)
        self.assertIn("\nplantao_paging_ok 1\n", text)
        for c in ("database", "twilio", "oncall", "outbox"):
            self.assertIn('\nplantao_health_ok{component="%s"} 1\n' % c, text)
        self.consume_all()


class TestStartup(HealthTest):
    def test_credentials_without_public_url_are_refused(self):
        p = Plantao(self.sim, env={"PLANTAO_PUBLIC_URL": None})
        self.addCleanup(p.close)
        p.start(wait=False)
        p.proc.wait(10)
        self.assertNotEqual(p.proc.returncode, 0)
        lines = [line for line in p.log_text().splitlines() if "PLANTAO_PUBLIC_URL" in line]
        self.assertEqual(len(lines), 1, p.log_text())
        self.assertIn("required with Twilio credentials", lines[0])

    def test_loopback_public_url_with_the_real_twilio_is_a_warning(self):
        # set explicitly (as with the simulator) but with Twilio's real API: Twilio could never
        # fetch the call TwiML or deliver a status callback
        self.start({"TWILIO_API_BASE": None})
        lines = [x for x in self.plantao.log_text().splitlines() if "is a loopback address" in x]
        self.assertEqual(len(lines), 1, self.plantao.log_tail())
        self.assertIn("WARN", lines[0])
        self.assertIn("PLANTAO_PUBLIC_URL", lines[0])

    def test_demo_without_credentials_needs_no_public_url(self):
        self.start({"PLANTAO_PUBLIC_URL": None, "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None,
                    "TWILIO_FROM": None})
        self.assertTrue(self.plantao.running())


if __name__ == "__main__":
    unittest.main()
