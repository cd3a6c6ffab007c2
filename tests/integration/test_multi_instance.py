"""
tests/integration/test_multi_instance.py — two and three plantao instances on one PostgreSQL
database, behind a round-robin load balancer, sharing the work (issue 17).

The stories:
- a team runs two or three instances so that a dead machine pages nobody twice and nobody
  late: 200 alerts posted across the instances, every page reaches Twilio exactly once;
- Twilio calls back whichever instance the load balancer picks: the call one instance placed
  is answered, read and acknowledged through another one;
- kill -9 of the instance in the middle of a send, of an escalation, or holding the IMAP poller:
  another instance finishes the work, nothing is sent twice, no step is skipped, and the mail
  poller's work moves within a bounded time (measured and printed);
- PostgreSQL restarts under load: requests fail clearly (503) while it is down, every alert
  answered 202 is in the database afterwards, and the instances reconnect by themselves.

Every instance gets the same environment (database, API token, Twilio, PLANTAO_PUBLIC_URL =
the load balancer) and reads the same clock file, as instances behind one load balancer would
see the same wall clock. The load balancer (LoadBalancer below) is a TCP round robin that skips
instances refusing connections, like a load balancer's passive health check.

Runs only with PLANTAO_TEST_DB=pg (make test-pg): several instances on one SQLite file are not
a supported set-up.
"""

import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TEST_DB, IntegrationTest, Plantao, free_port, pg_cluster, wait_until  # noqa: E402
from test_email import ANA_MAIL, SmtpServer, aiosmtpd_installed  # noqa: E402
from test_imap import MONITOR, Dovecot, dovecot_installed, mail  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
LOOKUP_DELAY = 12  # seconds of plantao's clock: a send's own deadline (10 s) plus the margin
LEASE = 20  # seconds of plantao's clock a claim holds without renewal (db/outbox.h OUTBOX_LEASE_MS)
LEASE_RENEW = 15  # its holder renews it once less than this is left (OUTBOX_LEASE_RENEW_MS)


class LoadBalancer:
    """Round robin over the instances' ports, one backend per TCP connection; a backend that
    refuses the connection is skipped (tried again for the next connection)."""

    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.backends = []  # Plantao objects (their port may change at start)
        self.served = {}  # port -> connections forwarded
        self._next = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(256)
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._stopping = True
        try:
            self._sock.close()
        except OSError:
            pass

    def _pick(self):
        with self._lock:
            order = [self.backends[(self._next + i) % len(self.backends)] for i in range(len(self.backends))]
            self._next += 1
        for p in order:
            try:
                up = socket.create_connection(("127.0.0.1", p.port), timeout=2)
            except OSError:
                continue
            with self._lock:
                self.served[p.port] = self.served.get(p.port, 0) + 1
            return up
        return None

    def _accept(self):
        while not self._stopping:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        up = self._pick() if self.backends else None
        if up is None:
            client.close()
            return
        up.settimeout(None)

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pipe, args=(up, client), daemon=True)
        t.start()
        pipe(client, up)
        t.join(30)
        client.close()
        up.close()


@unittest.skipUnless(TEST_DB == "pg", "several instances share one PostgreSQL database (make test-pg)")
class MultiInstanceTest(IntegrationTest):
    start_plantao = False
    plantao_env = {}

    def setUp(self):
        super().setUp()
        self.lb = LoadBalancer()
        self.addCleanup(self.lb.stop)
        self.instances = []
        self.sim.plantao_url = self.lb.url

    def start_instances(self, n, env=None, wait=True):
        """n instances on one new database, behind self.lb; returns them."""
        for _ in range(n):
            self.add_instance(env, wait=wait)
        return self.instances

    def add_instance(self, env=None, wait=True):
        merged = dict(self.plantao_env)
        merged.update(env or {})
        merged["PLANTAO_PUBLIC_URL"] = self.lb.url
        first = self.instances[0] if self.instances else None
        if first:
            merged["PLANTAO_API_TOKEN"] = first.api_token
            merged["PLANTAO_CLOCK_FILE"] = first.clock_path
        p = Plantao(self.sim, env=merged, db=first.db if first else None)
        if first:
            p.api_token = first.api_token
            p.clock_path = first.clock_path
            p.clock_offset = first.clock_offset
        self.sim.plantao_url = self.lb.url
        self.addCleanup(self._finish_plantao, p)
        if not first:
            self.plantao = p
        self.instances.append(p)
        self.lb.backends.append(p)
        p.start(wait=wait)
        self.sim.plantao_url = self.lb.url
        return p

    def advance(self, seconds, settle=0.3):
        """Moves the one clock every instance reads."""
        first = self.instances[0]
        first.advance(seconds, settle=0)
        for p in self.instances[1:]:
            p.clock_offset = first.clock_offset
        if settle:
            time.sleep(settle)

    def via(self, i, method, path, **kw):
        """One API request straight to instance i (not through the load balancer)."""
        return self.instances[i].api(method, path, **kw)

    def lb_api(self, method, path, **kw):
        """One API request through the load balancer."""
        p = self.instances[0]
        saved = p.url
        p.url = self.lb.url
        try:
            return p.api(method, path, **kw)
        finally:
            p.url = saved

    def team(self):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno]})

    def alert(self, aid, i=0):
        status, body, _ = self.via(i, "GET", "/api/alerts/%d" % aid)
        self.assertEqual(status, 200, body)
        return body

    def assert_sent_once(self):
        """Every outbox row Twilio accepted has one SID of its own, and the simulator holds no
        resource beyond those SIDs, save one per row still `sending` (its request was in flight
        when the instances stopped) to the same phone: no row was created twice at Twilio.
        Waits for the pages to settle, then stops every instance so that nothing moves."""
        def settled():
            # no page in doubt (an interrupted send is looked up after its deadline) or waiting;
            # notices may still wait for their turn
            left = self.plantao.db.scalar("SELECT count(*) FROM outbox WHERE class = 'alert' AND "
                                          "status IN ('sending', 'pending', 'retry')")
            if left:
                self.advance(LOOKUP_DELAY + 1, settle=0.5)
            return left == 0
        wait_until(settled, timeout=60, interval=0.5, what="every page settled")
        for p in self.instances:
            if p.running():
                p.stop()
        self.sim.wait_idle(timeout=30)
        self.forgive_cut_callbacks("callback after the instances were stopped")
        rows = self.plantao.db.query("SELECT id, kind, class, status, sid, to_number FROM outbox ORDER BY id")
        self.assertEqual([r for r in rows if r["status"] == "undecided"], [])
        row_sids = [r["sid"] for r in rows if r["sid"]]
        self.assertEqual(len(row_sids), len(set(row_sids)), "a SID on two rows")
        with self.sim._lock:
            made = {m.sid: m.to for m in self.sim.messages if m.direction == "outbound-api"}
            made.update({c.sid: c.to for c in self.sim.calls if c.direction == "outbound-api"})
        self.assertEqual(set(row_sids) - set(made), set(), "rows name SIDs Twilio never gave")
        in_flight = [r["to_number"] for r in rows if r["status"] == "sending" and not r["sid"]]
        for sid in set(made) - set(row_sids):
            self.assertIn(made[sid], in_flight, "Twilio holds %s to %s that no row accounts for: sent twice"
                          % (sid, made[sid]))
            in_flight.remove(made[sid])
        return rows

    def kill(self, p):
        """kill -9 of one instance; the load balancer stops sending to it. Callbacks Twilio had
        in flight to it at that instant fail (a connection reset): that is the fault injected,
        so those errors are printed and not counted as unexpected traffic."""
        self.lb.backends.remove(p)
        p.kill9()
        time.sleep(0.5)
        self.forgive_cut_callbacks("in flight to the killed instance")

    def forgive_cut_callbacks(self, why):
        """Callbacks, and TwiML fetches of calls (Twilio's 11200), that failed because the test
        stopped or killed instances (reset, refused): a call answered as its instance died."""
        with self.sim._lock:
            cut = [e for e in self.sim.errors if ("callback" in e or "error 11200" in e) and
                   any(w in e for w in ("reset", "RemoteDisconnected", "Broken pipe", "refused"))]
            self.sim.errors[:] = [e for e in self.sim.errors if e not in cut]
        for e in cut:
            sys.stderr.write("\n[%s] %s\n" % (why, e))

    def consume(self):
        """Stops the instances (nothing more is sent) and marks what reached the phones as seen."""
        for p in self.instances:
            if p.running():
                p.stop()
        self.sim.wait_idle(timeout=30)
        self.forgive_cut_callbacks("callback after the instances were stopped")
        with self.sim._lock:
            for x in self.sim.messages + self.sim.calls:
                x.consumed = True


class TestSharedWork(MultiInstanceTest):
    def test_200_alerts_across_three_instances_each_page_reaches_twilio_once(self):
        self.start_instances(3)
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        ids, t0 = [], time.monotonic()
        for i in range(200):
            for _ in range(50):  # a monitoring tool retries what the API rate limit refused (429)
                status, body, headers = self.lb_api("POST", "/api/alerts",
                                                    json={"summary": "falha %d no checkout" % i})
                if status != 429:
                    break
                time.sleep(float(headers.get("retry-after", "1")) / 4)
            self.assertEqual(status, 202, body)
            ids.append(body["id"])
        self.assertEqual(len(set(ids)), 200)
        self.assertEqual(sum(self.lb.served.get(p.port, 0) > 0 for p in self.instances), 3)

        def open_alerts():
            return self.plantao.db.scalar("SELECT count(*) FROM alerts WHERE status <> 'acknowledged'")
        for _ in range(30):
            if not open_alerts():
                break
            self.advance(61, settle=2.0)
        wait_until(lambda: open_alerts() == 0, timeout=60, what="every alert acknowledged")
        rows = self.assert_sent_once()
        acked = self.plantao.db.query("SELECT acked_by, acked_via FROM alerts")
        self.assertEqual({(a["acked_by"], a["acked_via"]) for a in acked}, {(self.ana, "call")})
        sent = [r for r in rows if r["sid"]]
        sys.stderr.write("\n[measure] 200 alerts over 3 instances (API requests per instance %s): %d page texts, "
                         "%d calls, %d other texts reached Twilio, each once; %.0f s\n"
                         % (sorted(self.lb.served.values()),
                            sum(r["class"] == "alert" and r["kind"] == "sms" for r in sent),
                            sum(r["kind"] == "call" for r in sent),
                            sum(r["class"] != "alert" for r in sent), time.monotonic() - t0))
        self.consume()


class TestWebhooksAnywhere(MultiInstanceTest):
    def test_call_placed_by_one_instance_is_answered_and_acknowledged_through_another(self):
        a = self.start_instances(1)[0]
        self.team()
        self.sim.phone(ANA).answers(digits="1", delay=3)
        aid = self.trigger_on(0, "fila parada")
        # wait until instance A has placed the call and recorded Twilio's SID
        wait_until(lambda: self.plantao.db.scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'call' AND sid IS NOT NULL"), timeout=20,
            what="the call placed by instance A")
        b = self.add_instance()
        self.kill(a)  # from now on Twilio reaches only B
        got = wait_until(lambda: self.alert(aid, 1)["status"] == "acknowledged" and self.alert(aid, 1),
                         timeout=30, what="the alert acknowledged through B")
        self.assertEqual((got["acked_by"], got["acked_via"]), (self.ana, "call"))
        call = self.sim.expect_call(ANA)
        self.assertTrue(call.heard("fila parada"), call.says)
        self.assertIn("POST /twilio/alert-call/", b.log_text())
        self.assertGreater(self.lb.served.get(b.port, 0), 0)
        self.sim.expect_sms(ANA, containing="fila parada")
        self.assert_sent_once()
        self.consume()

    def trigger_on(self, i, summary):
        status, body, _ = self.via(i, "POST", "/api/alerts", json={"summary": summary})
        self.assertEqual(status, 202, body)
        return body["id"]


class TestLease(MultiInstanceTest):
    def test_send_in_flight_on_a_live_instance_is_never_looked_up_by_another(self):
        """Twilio holds A's create past the old look-up deadline (10 + 2 s of plantao's clock)
        and past a first lease: B, alive and sharing the work, never looks it up; A records the
        answer when it comes, and the text exists once."""
        a = self.start_instances(1)[0]
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        self.sim.answer_late_next("messages", 9)  # under A's 10 s request timeout
        aid = self.via(0, "POST", "/api/alerts", json={"summary": "disco cheio em db1"})[1]["id"]
        wait_until(lambda: self.sim.requests_of("messages", "POST"), timeout=20, what="A's create at Twilio")
        t0 = time.monotonic()
        b = self.add_instance()
        moved = 0

        def page():
            return self.plantao.db.query("SELECT * FROM outbox WHERE kind = 'sms' AND class = 'alert' "
                                         "ORDER BY id LIMIT 1")[0]

        def renewed():
            # A has ticked with the new time: its lease has at least LEASE_RENEW - 1 s left
            r = page()
            if r["status"] != "sending":
                return True
            if "lease_until_ms" not in r:  # a build without leases: give it time to tick
                time.sleep(1.0)
                return True
            return r["lease_until_ms"] > (self.plantao.now() + LEASE_RENEW - 1) * 1000
        while moved < LEASE + 4 and page()["status"] == "sending":
            wait_until(renewed, timeout=10, interval=0.05, what="A renewing its lease")
            self.advance(4, settle=0)
            moved += 4
        time.sleep(0.5)
        self.assertGreater(moved, LOOKUP_DELAY, "Twilio answered before the clock passed the old look-up "
                           "deadline: the test proved nothing (%.1f s)" % (time.monotonic() - t0))
        self.assertEqual(self.sim.requests_of("messages_list", "GET"), [],
                         "an instance looked up a send still in flight on a live instance")
        wait_until(lambda: page()["sid"], timeout=20, what="A recording Twilio's late answer")
        sms = self.sim.expect_sms(ANA, containing="disco cheio em db1")
        row = page()
        self.assertEqual(row["sid"], sms.sid)
        pages = [m for m in self.sim.sms_to(ANA) if m.body.startswith("Alerta %d:" % aid)]
        self.assertEqual(len(pages), 1, "the page was sent twice")
        self.assertNotIn("interrupted send", b.log_text())
        self.assertNotIn("interrupted send", a.log_text())
        sys.stderr.write("\n[measure] a create held %d s by Twilio while the clock moved %d s: no look-up by "
                         "the other live instance, one text\n" % (9, moved))
        self.assert_sent_once()
        self.consume()


class TestKill(MultiInstanceTest):
    def trigger_on(self, i, summary):
        status, body, _ = self.via(i, "POST", "/api/alerts", json={"summary": summary})
        self.assertEqual(status, 202, body)
        return body["id"]

    def page_row(self):
        return self.plantao.db.query("SELECT * FROM outbox WHERE kind = 'sms' AND class = 'alert' "
                                     "ORDER BY id LIMIT 1")[0]

    def test_kill9_mid_send_another_instance_finishes_it_once(self):
        a = self.start_instances(1)[0]
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        self.sim.answer_late_next("messages", 5)  # Twilio creates the text but answers late: A dies meanwhile
        aid = self.trigger_on(0, "disco cheio em db1")
        wait_until(lambda: self.sim.requests_of("messages", "POST"), timeout=20, what="A's create at Twilio")
        b = self.add_instance()
        self.kill(a)
        t0 = time.monotonic()
        row = self.page_row()
        # Past the send's own deadline (its look-up time) but inside A's lease: A is dead, yet its
        # claim still holds, so B leaves the row alone (a live A could still be waiting for Twilio).
        self.plantao.set_clock_offset(self.plantao.clock_offset + (row["next_at_ms"] + 1000) / 1000 -
                                      self.plantao.now() + 1, settle=0)
        self.advance(0, settle=2.0)
        self.assertEqual(self.sim.requests_of("messages_list", "GET"), [],
                         "B looked the row up while A's lease still held")
        self.assertLess(self.plantao.now() * 1000, row["lease_until_ms"], "the test took too long to check")
        self.advance(LEASE - LOOKUP_DELAY)  # A's lease has expired: B takes the row over
        sms = self.sim.expect_sms(ANA, containing="disco cheio em db1", timeout=30)
        wait_until(lambda: self.plantao.db.scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'sms' AND class = 'alert' AND sid = ?", (sms.sid,)),
            timeout=30, what="B recorded the SID A never got back")
        self.assertIn("interrupted send found at Twilio", b.log_text())
        self.assertIn("whose lease expired taken over", b.log_text())
        taken = time.monotonic() - t0
        self.advance(61)
        wait_until(lambda: self.alert(aid, 1)["status"] == "acknowledged", timeout=30, what="acknowledged via B")
        sys.stderr.write("\n[measure] kill -9 mid-send: B left the row alone past its look-up time while A's lease "
                         "held (%d s of plantao's clock from the claim), then took it over once the clock passed "
                         "it and recorded the SID A never got back (%.1f s real after the kill)\n" % (LEASE, taken))
        pages = [m for m in self.sim.sms_to(ANA) if m.body.startswith("Alerta %d:" % aid)]
        self.assertEqual(len(pages), 1, "the page was sent twice")
        self.assert_sent_once()
        self.consume()

    def test_kill9_mid_escalation_no_step_skipped_none_repeated(self):
        a = self.start_instances(1)[0]
        self.team()
        self.sim.phone(ANA).does_not_answer(delay=2)
        self.sim.phone(BRUNO).answers(digits="1")
        aid = self.trigger_on(0, "banco fora do ar")
        # A placed Ana's call and recorded it; then A dies
        wait_until(lambda: self.plantao.db.scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'call' AND to_number = ? AND sid IS NOT NULL", (ANA,)),
            timeout=20, what="Ana's call placed by A")
        b = self.add_instance()
        self.kill(a)
        t0 = time.monotonic()
        ana_call = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(ana_call.status, "no-answer")
        got = None
        for _ in range(4):  # the no-answer callback moves the step; a lost one, the step's deadline
            try:
                got = wait_until(lambda: self.alert(aid, 1)["status"] == "acknowledged" and self.alert(aid, 1),
                                 timeout=15, what="Bruno acknowledges through B")
                break
            except AssertionError:
                self.advance(61, settle=1.0)
        self.assertIsNotNone(got, "the escalation never reached Bruno")
        self.assertEqual((got["acked_by"], got["acked_via"]), (self.bruno, "call"))
        sys.stderr.write("\n[measure] kill -9 mid-escalation: next step reached %.1f s (real) after the kill\n"
                         % (time.monotonic() - t0))
        self.assertEqual(len(self.sim.calls_to(ANA)), 1, "Ana called twice")
        self.assertEqual(len(self.sim.calls_to(BRUNO)), 1, "Bruno called twice")
        attempts = self.plantao.db.query("SELECT person_id, outcome FROM call_attempts WHERE alert_id = ? "
                                         "ORDER BY round, step", (aid,))
        self.assertEqual([(r["person_id"], r["outcome"]) for r in attempts][:2],
                         [(self.ana, "no-answer"), (self.bruno, "ack")])
        self.assertTrue(b.running())
        self.assert_sent_once()
        self.consume()


@unittest.skipUnless(dovecot_installed(), "dovecot is not installed: `scripts/deps test` installs dovecot-imapd")
class TestSingletonJobs(MultiInstanceTest):
    def imap_alerts(self, i):
        status, body, _ = self.via(i, "GET", "/api/alerts?limit=100")
        self.assertEqual(status, 200, body)
        return [a for a in body["alerts"] if a.get("source") == "imap"]

    def test_kill9_of_the_mail_poller_moves_the_job_and_each_mail_is_read_once(self):
        d = Dovecot()
        self.addCleanup(d.close)
        d.start()
        env = {"PLANTAO_IMAP_URL": d.url, "PLANTAO_IMAP_USER": d.user, "PLANTAO_IMAP_PASSWORD": d.password,
               "PLANTAO_IMAP_FROM": MONITOR, "PLANTAO_IMAP_SUBJECT": "ALERTA", "PLANTAO_IMAP_INTERVAL": "1",
               "PLANTAO_IMAP_CA_FILE": d.cert}
        a = self.add_instance(env)
        time.sleep(1.5)  # A polls first: the job is A's
        self.add_instance(env)
        self.add_instance(env)
        d.deliver(mail("ALERTA replica parada", "db2 parou\n", msgid="um@monitor.example.com"))
        got = wait_until(lambda: self.imap_alerts(1), timeout=20, what="the first mail as an alert")
        time.sleep(3)  # every instance has had several polls meanwhile
        got = self.imap_alerts(1)
        self.assertEqual([(x["summary"], x["hits"]) for x in got], [("ALERTA replica parada", 1)],
                         "the mail was read by more than one instance")
        # /healthz of each instance says who reads the mailbox and who stands by
        self.assertEqual([self.role(i, "imap") for i in range(3)], ["leader", "standby", "standby"])
        ids = [self.via(i, "GET", "/healthz?live", token=None)[1]["instance"] for i in range(3)]
        self.assertEqual(len(set(ids)), 3, ids)
        self.kill(a)
        t0 = time.monotonic()
        d.deliver(mail("ALERTA fila parada", "fila\n", msgid="dois@monitor.example.com"))
        wait_until(lambda: len(self.imap_alerts(1)) == 2, timeout=60, interval=0.2,
                   what="the second mail read after the poller's instance died")
        moved = time.monotonic() - t0
        time.sleep(3)
        got = self.imap_alerts(2)
        self.assertEqual(sorted((x["summary"], x["hits"]) for x in got),
                         [("ALERTA fila parada", 1), ("ALERTA replica parada", 1)])
        sys.stderr.write("\n[measure] kill -9 of the mail poller's instance: the next mail became an alert "
                         "%.1f s later (poll interval 1 s)\n" % moved)
        self.assertLess(moved, 30)
        self.assertEqual(sorted(self.role(i, "imap") for i in (1, 2)), ["leader", "standby"])

    def role(self, i, job):
        status, body, _ = self.via(i, "GET", "/healthz?live", token=None)
        self.assertEqual(status, 200, body)
        return body["jobs"].get(job)

    def test_default_interval_kill9_of_the_poller_the_standby_reads_the_waiting_mail_at_once(self):
        """At the default poll interval (20 s): an alert mail lands after A, the instance reading
        the mailbox, polled; A is killed before its next poll, just after B stood by. B takes the
        mailbox over within an engine tick of A's death and pages the waiting mail at once, not
        at B's own next poll; each mail pages the on-call person once."""
        d = Dovecot()
        self.addCleanup(d.close)
        d.start()
        env = {"PLANTAO_IMAP_URL": d.url, "PLANTAO_IMAP_USER": d.user, "PLANTAO_IMAP_PASSWORD": d.password,
               "PLANTAO_IMAP_FROM": MONITOR, "PLANTAO_IMAP_SUBJECT": "ALERTA", "PLANTAO_IMAP_CA_FILE": d.cert}
        a = self.add_instance(env)
        self.team()
        self.sim.phone(ANA).answers(digits="1")
        wait_until(lambda: self.role(0, "imap") == "leader", timeout=20, what="A reading the mailbox")
        d.deliver(mail("ALERTA replica parada", "db2 parou\n", msgid="um@monitor.example.com"))
        self.advance(21)  # A's next poll
        self.sim.expect_sms(ANA, containing="ALERTA replica parada", timeout=30)
        self.add_instance(env)
        d.deliver(mail("ALERTA fila parada", "fila\n", msgid="dois@monitor.example.com"))
        wait_until(lambda: self.role(1, "imap") == "standby", timeout=20, interval=0.02,
                   what="B standing by for the mailbox")
        self.kill(a)  # A's last poll was a few seconds ago: its next one would have been in ~20 s
        t0 = time.monotonic() - 0.5  # kill() waits 0.5 s after the signal
        wait_until(lambda: self.plantao.db.scalar("SELECT count(*) FROM alerts WHERE summary = ?",
                                                  ("ALERTA fila parada",)), timeout=60, interval=0.05,
                   what="the waiting mail read by B")
        moved = time.monotonic() - t0
        # the page itself may wait for Ana's per-destination limit (she was paged seconds ago)
        self.sim.expect_sms(ANA, containing="ALERTA fila parada", timeout=90)
        paged = time.monotonic() - t0
        self.assertEqual(self.role(1, "imap"), "leader")
        sys.stderr.write("\n[measure] kill -9 of the mail poller's instance at the default interval (20 s): the "
                         "mail waiting in the mailbox was an alert %.1f s after the kill, on the on-call phone "
                         "%.1f s after it (per-destination limit)\n" % (moved, paged))
        self.assertLess(moved, 5, "the standby waited for its own next poll to take the mailbox over")
        self.advance(61, settle=1.0)  # past B's next poll and past the pages' steps
        time.sleep(2)
        for subject in ("ALERTA replica parada", "ALERTA fila parada"):
            texts = [m for m in self.sim.sms_to(ANA) if subject in m.body]
            self.assertEqual(len(texts), 1, "%s paged %d times" % (subject, len(texts)))
        got = self.plantao.db.query("SELECT summary, hits FROM alerts WHERE source = 'imap' ORDER BY id")
        self.assertEqual([(x["summary"], x["hits"]) for x in got],
                         [("ALERTA replica parada", 1), ("ALERTA fila parada", 1)])
        self.assert_sent_once()
        self.consume()


class TestMonitorsSingleton(MultiInstanceTest):
    N = 40

    def role(self, i, job):
        status, body, _ = self.via(i, "GET", "/healthz?live", token=None)
        self.assertEqual(status, 200, body)
        return body["jobs"].get(job)

    def ping_all(self, ms):
        for m in ms:
            status, body, _ = self.lb_api("GET", m["ping_url"][len(self.lb.url):], token=None)
            self.assertEqual((status, body), (200, "OK"))

    def in_state(self, state):
        return self.plantao.db.scalar("SELECT count(*) FROM monitors WHERE state = ?", (state,))

    def monitor_alerts(self):
        return self.plantao.db.query("SELECT dedup_key, hits, status FROM alerts WHERE dedup_key LIKE 'monitor:%' "
                                     "ORDER BY id")

    def test_heartbeats_are_judged_by_one_instance_and_move_on_kill9(self):
        """Two instances watch the same heartbeats: each missed heartbeat opens one alert (hits
        1), not one per instance; kill -9 of the instance that moves the monitors hands the job
        to the other, which folds the next pings and opens the next alerts."""
        self.start_instances(2)
        ms = [self.api_ok("POST", "/api/monitors", json={"kind": "heartbeat", "name": "job %d" % i,
                                                          "period_s": 60, "grace_s": 30, "severity": "info"})
              for i in range(self.N)]  # info: alerts recorded, nobody paged
        self.ping_all(ms)
        wait_until(lambda: self.in_state("up") == self.N, timeout=30, what="every monitor up")
        self.advance(95)  # past period + grace: every monitor down
        wait_until(lambda: self.in_state("down") == self.N, timeout=30, what="every monitor down")
        time.sleep(1.0)  # both instances have ticked several times with the new time
        got = self.monitor_alerts()
        self.assertEqual(len(got), self.N, got)
        self.assertEqual([a["hits"] for a in got if a["hits"] != 1], [], "a missed heartbeat judged twice")
        roles = [self.role(i, "monitors") for i in range(2)]
        self.assertEqual(sorted(roles), ["leader", "standby"])
        leader = roles.index("leader")

        self.kill(self.instances[leader])
        t0 = time.monotonic()
        other = 1 - leader
        self.ping_all(ms)  # through the load balancer: only the survivor answers
        wait_until(lambda: self.in_state("up") == self.N, timeout=60, interval=0.1,
                   what="the survivor folding the pings")
        moved = time.monotonic() - t0
        self.assertEqual(self.role(other, "monitors"), "leader")
        self.assertEqual(self.plantao.db.scalar("SELECT count(*) FROM alerts WHERE dedup_key LIKE 'monitor:%' "
                                                "AND status <> 'resolved'"), 0)
        self.advance(95)
        wait_until(lambda: self.in_state("down") == self.N, timeout=30, what="every monitor down again")
        time.sleep(1.0)
        got = self.monitor_alerts()
        self.assertEqual(len(got), 2 * self.N)
        self.assertEqual([a["hits"] for a in got if a["hits"] != 1], [])
        sys.stderr.write("\n[measure] %d heartbeats on 2 instances: each missed one opened one alert; kill -9 of "
                         "the monitors' instance: the survivor folded %d pings %.1f s after the kill\n"
                         % (self.N, self.N, moved))
        self.assertLess(moved, 10)


class TestDatabaseRestart(MultiInstanceTest):
    def test_postgresql_restart_under_load_503_then_reconnect_nothing_lost(self):
        cluster = pg_cluster()
        if not cluster.dir:
            self.skipTest("restarting PostgreSQL needs its directory (PLANTAO_TEST_PG_DIR)")
        self.start_instances(2)
        results, stop = [], threading.Event()

        def load(i):
            n = 0
            while not stop.is_set():
                n += 1
                summary = "carga %d-%d" % (i, n)
                try:
                    status, body, headers = self.via(i, "POST", "/api/alerts", json={
                        "summary": summary, "severity": "info"}, timeout=15)
                except OSError as e:
                    status, body, headers = None, str(e), {}
                results.append((time.monotonic(), i, summary, status, body, headers))
                time.sleep(0.02)
        reads = []
        read_paths = ["/api/alerts?limit=20", "/api/alerts/1", "/api/people", "/api/oncall", "/api/monitors",
                      "/api/escalation", "/api/rotation", "/api/outbox?limit=20"]

        def read(i):
            n = 0
            while not stop.is_set():
                path = read_paths[n % len(read_paths)]
                n += 1
                try:
                    status, body, _ = self.via(i, "GET", path, timeout=15)
                except OSError as e:
                    status, body = None, str(e)
                reads.append((time.monotonic(), i, path, status, body))
                time.sleep(0.1)  # with the writes, under the token's rate limit (PLANTAO_API_RATE)
        threads = [threading.Thread(target=load, args=(i,), daemon=True) for i in range(2)]
        threads += [threading.Thread(target=read, args=(i,), daemon=True) for i in range(2)]
        for t in threads:
            t.start()
        time.sleep(2)
        t_down = time.monotonic()
        cluster.restart("immediate", down=2)  # a crash of PostgreSQL, 2 s away, then its recovery
        t_up = time.monotonic()
        # both instances answer again by themselves
        for i in range(2):
            wait_until(lambda: self.via(i, "POST", "/api/alerts", json={"summary": "depois %d" % i,
                                                                       "severity": "info"})[0] == 202,
                       timeout=30, interval=0.2, what="instance %d writing again" % i)
        t_back = time.monotonic()
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(20)
        statuses = [r[3] for r in results]
        self.assertTrue(any(s == 202 for s in statuses))
        failed = [r for r in results if r[3] != 202]
        for _, _, _, status, body, headers in failed:
            self.assertEqual(status, 503, "while PostgreSQL was down: %r %r" % (status, body))
            self.assertIn("error", body)
        self.assertTrue([r for r in failed if t_down <= r[0] <= t_up + 1],
                        "no request failed while PostgreSQL was down: the load did not reach it")
        # the read API too: 200 or, while PostgreSQL is away, 503 with a JSON error; never a 500
        bad_reads = [(path, status, body) for _, _, path, status, body in reads
                     if status != 200 and not (status == 503 and isinstance(body, dict) and "error" in body)]
        self.assertEqual(bad_reads, [], "read paths while PostgreSQL was down")
        self.assertTrue([r for r in reads if r[3] == 503], "no read failed while PostgreSQL was down")
        accepted = {r[2] for r in results if r[3] == 202}
        stored = {r["summary"] for r in self.plantao.db.query("SELECT summary FROM alerts")}
        self.assertEqual(accepted - stored, set(), "alerts answered 202 and lost")
        sys.stderr.write("\n[measure] PostgreSQL restart (immediate): down->up %.1f s, instances writing again "
                         "%.1f s after it was up; %d requests, %d answered 503 meanwhile; %d reads, %d answered "
                         "503\n" % (t_up - t_down, t_back - t_up, len(results), len(failed), len(reads),
                                    sum(r[3] == 503 for r in reads)))


@unittest.skipUnless(aiosmtpd_installed(), "python3-aiosmtpd is not installed (scripts/deps test installs it)")
class TestMailer(MultiInstanceTest):
    """Page e-mails with two instances: each instance's mailer follows the texts and sends
    e-mails; every alert reaches the on-call person's mailbox once, whoever dies."""
    MAIL_LOOKUP = 90  # seconds of plantao's clock before an e-mail 'sending' is settled (MAILER_LOOKUP_MS)

    def setUp(self):
        super().setUp()
        self.smtp = SmtpServer()
        self.addCleanup(self.smtp.close)

    def mail_team(self):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana Souza", "phone": ANA,
                                                             "email": ANA_MAIL})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana]})

    def mail_rows(self):
        return self.plantao.db.query("SELECT o.id, o.status, o.claimed_by, o.lease_until_ms, o.next_at_ms, "
                                     "m.message_id, m.data_at_ms FROM outbox o JOIN mail_messages m ON "
                                     "m.outbox_id = o.id WHERE o.kind = 'email' ORDER BY o.id")

    def delivered(self):
        """{alert id: [Message-ID of each delivered message listing it]}, and the Message-IDs."""
        per_alert, ids = {}, []
        for msg, envelope in self.smtp.messages():
            self.assertEqual(envelope["rcpt_tos"], [ANA_MAIL])
            ids.append(str(msg["Message-ID"]))
            text = msg.get_body(("plain",)).get_content()
            for aid in set(int(x) for x in re.findall(r"^Alerta (\d+)", text, re.M)):
                per_alert.setdefault(aid, []).append(str(msg["Message-ID"]))
        return per_alert, ids

    def post_alerts(self, n):
        ids = []
        for i in range(n):
            for _ in range(50):  # a monitoring tool retries what the API rate limit refused (429)
                status, body, headers = self.lb_api("POST", "/api/alerts", json={
                    "summary": "disco %d cheio" % i, "severity": "warning"})
                if status != 429:
                    break
                time.sleep(float(headers.get("retry-after", "1")) / 4)
            self.assertEqual(status, 202, body)
            ids.append(body["id"])
        return ids

    def test_kill9_mid_send_every_alert_reaches_the_mailbox_once(self):
        """50 alerts posted across two instances to Ana, who gets pages by e-mail, through a slow
        SMTP server (each RCPT answered after 1 s); kill -9 of A while its e-mail is on the wire.
        B settles A's e-mail once A's lease has expired (sent again when the server never had it,
        `undecided` when the whole message had gone) and sends the rest: every alert is in
        exactly one delivered e-mail, no message arrives twice."""
        self.smtp.start("--stall-rcpt", "1")
        a = self.add_instance(self.smtp.env())
        self.add_instance(self.smtp.env())
        self.mail_team()
        aids = self.post_alerts(50)
        mine = a.api("GET", "/healthz?live", token=None)[1]["instance"]
        wait_until(lambda: [r for r in self.mail_rows() if r["status"] == "sending" and r["claimed_by"] == mine],
                   timeout=60, interval=0.05, what="an e-mail of A on the wire")
        self.kill(a)
        t0 = time.monotonic()

        def done():
            rows = self.mail_rows()
            left = [r for r in rows if r["status"] not in ("sent", "undecided")]
            unfollowed = 0
            if "mailed" in self.plantao.db.query("SELECT * FROM page_texts LIMIT 1")[0]:
                unfollowed = self.plantao.db.scalar("SELECT count(*) FROM page_texts pt JOIN outbox o ON o.id = "
                                                    "pt.outbox_id WHERE o.kind = 'sms' AND pt.mailed = 0")
            per_alert, _ = self.delivered()
            state["left"] = [(r["id"], r["status"]) for r in left]
            state["unfollowed"] = unfollowed
            state["missing"] = sorted(set(aids) - set(per_alert))
            if left or unfollowed or state["missing"]:
                self.advance(5, settle=0.5)  # A's lease and its e-mail's deadline pass; B's lease is renewed
                return False
            return rows
        state = {}
        try:
            rows = wait_until(done, timeout=240, interval=0.5, what="every e-mail sent or settled")
        except AssertionError as e:
            raise AssertionError("%s: e-mails not sent %s, page texts not followed %s, alerts in no e-mail %s"
                                 % (e, state.get("left"), state.get("unfollowed"), state.get("missing")))
        took = time.monotonic() - t0
        per_alert, ids = self.delivered()
        self.assertEqual(len(ids), len(set(ids)), "a message delivered twice")
        self.assertEqual({aid: len(m) for aid, m in per_alert.items() if len(m) != 1}, {},
                         "alerts e-mailed more than once")
        self.assertEqual(sorted(per_alert), sorted(aids))
        for r in rows:
            if r["status"] == "undecided":  # its whole message had gone: the server has it, once
                self.assertTrue(r["data_at_ms"])
                self.assertEqual(ids.count(r["message_id"]), 1)
            else:
                self.assertEqual(ids.count(r["message_id"]), 1, r)
        sys.stderr.write("\n[measure] kill -9 of an instance mid-send: %d alerts in %d e-mails, each alert "
                         "delivered once (%d undecided: their whole message had gone); the rest sent by the other "
                         "instance %.1f s after the kill\n"
                         % (len(aids), len(rows), sum(r["status"] == "undecided" for r in rows), took))
        self.consume_all()

    def test_email_on_the_wire_of_a_live_instance_is_never_settled_by_another(self):
        """The SMTP server holds an e-mail's RCPT for 30 s while plantao's clock moves past the
        e-mail's deadline (90 s): the other instance, alive and sharing the work, leaves it alone
        (the holder renews its lease), and the e-mail arrives once."""
        self.smtp.start("--stall-rcpt", "30")
        self.add_instance(self.smtp.env())
        self.add_instance(self.smtp.env())
        self.mail_team()
        aid = self.post_alerts(1)[0]
        row = wait_until(lambda: [r for r in self.mail_rows() if r["status"] == "sending"], timeout=30,
                         interval=0.05, what="the e-mail on the wire")[0]
        t0 = time.monotonic()
        moved = 0

        def renewed():
            r = [x for x in self.mail_rows() if x["id"] == row["id"]][0]
            # more than the next step left: the holder renews its lease (20 s) once less than
            # 5 s is left (db/outbox.c), so the lease never runs out under the steps of the clock
            return r["status"] != "sending" or r["lease_until_ms"] > (self.plantao.now() + 5) * 1000
        while moved <= self.MAIL_LOOKUP + 3:
            wait_until(renewed, timeout=10, interval=0.02, what="the holder renewing its lease")
            self.advance(3, settle=0)
            moved += 3
        time.sleep(2)  # the other instance's mailer has had several turns
        self.assertLess(time.monotonic() - t0, 27, "the test took too long: the stall ended first")
        wait_until(lambda: [r for r in self.mail_rows() if r["status"] == "sent"], timeout=60,
                   what="the e-mail sent")
        time.sleep(32)  # a second copy, had one been started, would be past its own stall too
        per_alert, ids = self.delivered()
        self.assertEqual(per_alert, {aid: ids[:1]})
        self.assertEqual(len(ids), 1, "the e-mail was sent twice")
        self.assertEqual([r["status"] for r in self.mail_rows()], ["sent"])
        sys.stderr.write("\n[measure] an e-mail held 30 s by the SMTP server while the clock moved %d s: not "
                         "settled by the other live instance, delivered once\n" % moved)
        self.consume_all()

    def test_an_alert_texted_by_sms_and_whatsapp_at_once_is_emailed_once(self):
        """Ana gets pages by SMS, by WhatsApp and by e-mail: each alert goes out in two texts at
        once, and the two instances' mailers follow them side by side (one may take the SMS, the
        other the WhatsApp text). Each alert reaches her mailbox in one e-mail, not one per text."""
        self.smtp.start()
        env = dict(self.smtp.env(), TWILIO_WHATSAPP_FROM="whatsapp:+15005550006")
        self.add_instance(env)
        self.add_instance(env)
        self.mail_team()
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"whatsapp": True})
        aids = self.post_alerts(40)

        def followed():
            rows = self.plantao.db.query("SELECT o.kind, count(*) AS n, sum(pt.mailed) AS m FROM page_texts pt "
                                         "JOIN outbox o ON o.id = pt.outbox_id WHERE o.kind IN ('sms', 'whatsapp') "
                                         "GROUP BY o.kind ORDER BY o.kind")
            return rows if len(rows) == 2 and all(r["n"] == r["m"] for r in rows) else None
        wait_until(followed, timeout=60, interval=0.5, what="every page text followed by a mailer")
        wait_until(lambda: all(r["status"] == "sent" for r in self.mail_rows()), timeout=60, interval=0.5,
                   what="every e-mail sent")
        per_alert, ids = self.delivered()
        self.assertEqual({aid: len(m) for aid, m in per_alert.items() if len(m) != 1}, {},
                         "alerts e-mailed more than once")
        self.assertEqual(sorted(per_alert), sorted(aids))
        self.consume_all()

    def consume_all(self):
        for p in self.instances:
            if p.running():
                p.stop()
        self.sim.wait_idle(timeout=30)
        self.forgive_cut_callbacks("callback after the instances were stopped")
        with self.sim._lock:
            for x in self.sim.messages + self.sim.calls:
                x.consumed = True
