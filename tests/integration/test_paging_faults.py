"""
tests/integration/test_paging_faults.py — the sender's promises about pages when Twilio misbehaves
(issue 11, items 3, 4 and 7), at the default configuration: per-phone limits, pacing and retries
as shipped.

  * An acknowledged or resolved alert stops ringing: a page whose request got a 5xx is not sent
    again after the ack, a call still ringing is ended through the REST API, and a page text held
    by the per-phone limit never follows the alert's resolve notice.
  * Exactly once, with its limits: no look-up before a create's own deadline (slow creates and
    kill -9), a SID already on a row is never taken by another, the oldest row takes the oldest
    resource, and a row that cannot be told apart is reported, not guessed.
  * Wrong credentials do not drop pages: they wait (and say so) until the token is fixed.

Rows that exercise the sender alone are queued the way handlers queue them (an INSERT into the
outbox table on the live WAL database), so these tests do not depend on how the escalation
bundles pages.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
PHONE = "+5511999990007"
LOOKUP_DELAY = 12  # seconds: the create's own deadline (10 s) plus the margin, in plantao's clock


def db_rows(plantao, where="1=1", args=()):
    db = plantao.db.connect(named=True)
    try:
        return [dict(r) for r in db.execute("SELECT * FROM outbox WHERE " + where + " ORDER BY id", args)]
    finally:
        db.close()


def queue(plantao, kind="sms", klass="alert", to=PHONE, body="Mensagem", url=None, key="pf:%d", n=1):
    """Inserts n pending outbox rows (one transaction), as handlers do; returns their ids."""
    now_ms = int(plantao.now() * 1000)
    db = plantao.db.connect()
    ids = []
    try:
        with db:
            for i in range(n):
                cur = db.execute(
                    "INSERT INTO outbox (kind, class, priority, to_number, body, url, idem_key, next_at_ms, "
                    "created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, klass, to, None if kind == "call" else body, url, key % (now_ms + i), now_ms,
                     now_ms // 1000, now_ms // 1000))
                ids.append(cur.lastrowid)
    finally:
        db.close()
    return ids


def row(plantao, rid):
    return db_rows(plantao, "id = ?", (rid,))[0]


class PagingTest(IntegrationTest):
    """Default configuration: nothing in plantao_env."""

    def team(self, people=((ANA, "Ana"), (BRUNO, "Bruno"), (CARLA, "Carla")), timeout_s=30, rounds=1):
        ids = []
        for phone, name in people:
            ids.append(self.api_ok("POST", "/api/people", json={"name": name, "phone": phone})["id"])
        self.api_ok("PUT", "/api/escalation", json={
            "steps": [{"target": i, "timeout_s": timeout_s} for i in ids], "rounds": rounds})
        return ids

    def trigger(self, summary, **kw):
        payload = {"summary": summary}
        payload.update(kw)
        status, body, _ = self.api("POST", "/api/alerts", json=payload)
        self.assertEqual(status, 202, body)
        return body["id"]

    def metric(self, name, labels=None):
        status, text, _ = self.api("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        total = 0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                if labels and labels not in line:
                    continue
                total += float(line.rsplit(" ", 1)[1])
        return total

    def twilio_done_with_creates(self):
        """Waits until the simulator has finished every create it received (slow ones too)."""
        wait_until(lambda: all(r.status is not None for r in self.sim.requests_of("messages", "POST")
                               + self.sim.requests_of("calls", "POST")), timeout=20, what="Twilio idle")
        time.sleep(1.0)

    def consume_rest(self):
        """Marks every message and call seen so far as expected (after the test checked them)."""
        self.sim.wait_idle(timeout=30)
        with self.sim._lock:
            for x in self.sim.messages + self.sim.calls:
                x.consumed = True

    def forgive_lost_callbacks(self):
        with self.sim._lock:
            self.sim.errors[:] = [e for e in self.sim.errors
                                  if not ("callback" in e and ("refused" in e or "reset" in e or "closed" in e))]


class TestAckStopsPages(PagingTest):

    def test_ack_in_the_5xx_window_cancels_the_call(self):
        """Twilio answers Ana's call with a 500 (nothing created: the row waits for its look-up);
        Bruno acknowledges by text meanwhile. The look-up finds nothing: Ana must not be called."""
        self.team()
        self.sim.fail_next("calls", 500)
        aid = self.trigger("db1 fora do ar")
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d:" % aid, timeout=15)
        wait_until(lambda: [r for r in self.sim.requests_of("calls", "POST") if r.status == 500],
                   timeout=15, what="Ana's call refused with a 500")
        self.assertEqual(self.sim.incoming_sms(BRUNO, "ack %d" % aid), ["Alerta %d assumido por você." % aid])
        self.advance(LOOKUP_DELAY + 2)  # the look-up is due: Twilio has no such call
        wait_until(lambda: all(r["status"] not in ("sending", "retry", "pending")
                               for r in db_rows(self.plantao, "kind = 'call'")),
                   timeout=20, what="Ana's call row settled")
        self.advance(70)  # past any back-off and the per-phone minute
        time.sleep(1.5)
        self.assertEqual(self.sim.calls_to(ANA), [], "Ana was called after Bruno acknowledged")
        (call_row,) = db_rows(self.plantao, "kind = 'call'")
        self.assertEqual(call_row["status"], "canceled")
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 1)
        alert = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual(alert["status"], "acknowledged")
        self.assertEqual([t["status"] for t in alert["attempts"]], ["canceled"])
        for p in (ANA, CARLA):
            self.sim.expect_sms(p, containing="assumido por Bruno", timeout=15)
        self.consume_rest()

    def test_ack_by_text_ends_the_call_still_ringing(self):
        """Ana's phone rings (20 real seconds); Bruno acknowledges by text: plantao ends Ana's
        call through the REST API (Status=completed), it does not ring on."""
        self.team()
        self.sim.phone(ANA).does_not_answer(delay=20)
        aid = self.trigger("fila parada")
        for p in (ANA, BRUNO, CARLA):
            self.sim.expect_sms(p, containing="Alerta %d:" % aid, timeout=15)
        wait_until(lambda: [c for c in self.sim.calls_to(ANA) if c.status == "ringing"], timeout=15,
                   what="Ana's phone ringing")
        t0 = time.monotonic()
        self.assertEqual(self.sim.incoming_sms(BRUNO, "ack %d" % aid), ["Alerta %d assumido por você." % aid])
        call = self.sim.expect_call(ANA, timeout=12)
        self.assertLess(time.monotonic() - t0, 12)
        self.assertEqual(call.status, "canceled")
        ends = [r for r in self.sim.requests_of("call", "POST") if call.sid in r.path]
        self.assertEqual(len(ends), 1, self.sim.requests)
        self.assertEqual(ends[0].form.get("Status"), "completed")
        wait_until(lambda: row(self.plantao, db_rows(self.plantao, "kind = 'call'")[0]["id"])["hangup_status"]
                   == "done", timeout=10, what="the hang-up recorded")
        self.assertEqual(self.metric("plantao_calls_ended_total"), 1)
        self.assertEqual(len(self.sim.calls_to(BRUNO)), 0)
        self.consume_rest()

    def test_held_page_text_never_follows_the_resolve_notice(self):
        """With the default 1 text a minute per phone, alert B's page to Ana waits behind alert
        A's. B is resolved meanwhile: B's page never reaches Ana after that."""
        self.team(people=((ANA, "Ana"),), rounds=3)
        self.sim.phone(ANA).does_not_answer(delay=5)
        a = self.trigger("disco cheio em db1")
        self.sim.expect_sms(ANA, containing="Alerta %d:" % a, timeout=15)
        b = self.trigger("certificado expira amanha")
        wait_until(lambda: db_rows(self.plantao, "class = 'alert' AND kind = 'sms' AND status IN ('pending', "
                                                 "'retry') AND (owner_id = ? OR id IN (SELECT outbox_id FROM "
                                                 "page_texts WHERE alert_id = ?))", (b, b)),
                   timeout=10, what="B's page text held by the per-phone limit")
        self.api_ok("POST", "/api/alerts/%d/resolve" % b)
        resolved_at = len(self.sim.sms_to(ANA))
        for _ in range(4):
            self.advance(61)
        time.sleep(2.0)
        later = [m.body for m in self.sim.sms_to(ANA)[resolved_at:]]
        self.assertFalse([t for t in later if "Alerta %d:" % b in t or "#%d " % b in t],
                         "B's page reached Ana after B was resolved: %r" % later)
        pages_b = db_rows(self.plantao, "class = 'alert' AND kind = 'sms' AND (owner_id = ? OR id IN (SELECT "
                                        "outbox_id FROM page_texts WHERE alert_id = ?))", (b, b))
        self.assertTrue(pages_b)
        self.assertEqual({r["status"] for r in pages_b}, {"canceled"})
        self.consume_rest()


class TestExactlyOnce(PagingTest):

    def test_slow_create_and_kill9_sends_once(self):
        """Twilio takes 8 s to create a text; plantao is killed meanwhile and restarted. The
        look-up waits for the request's own deadline and finds it: one text, not two."""
        self.sim.delay_next("messages", 8)
        (rid,) = queue(self.plantao, body="Alerta 7: db1 fora do ar")
        wait_until(lambda: self.sim.requests_of("messages", "POST"), timeout=10, what="the create to reach Twilio")
        time.sleep(0.3)
        self.plantao.kill9()
        self.assertEqual(row(self.plantao, rid)["status"], "sending")
        self.plantao.start()
        msg = self.sim.expect_sms(PHONE, containing="Alerta 7", timeout=20)
        r = wait_until(lambda: (lambda x: x if x["sid"] else None)(row(self.plantao, rid)), timeout=30,
                       what="the row settled")
        self.twilio_done_with_creates()
        self.assertEqual(r["sid"], msg.sid)
        self.assertEqual(len(self.sim.sms_to(PHONE)), 1, self.sim.summary())
        self.assertEqual(len(self.sim.requests_of("messages", "POST")), 1)
        self.assertEqual(r["tries"], 1)
        self.assertIsNotNone(r["accepted_at_ms"])
        self.forgive_lost_callbacks()

    def test_two_identical_texts_slow_and_kill9(self):
        """Two identical texts to one phone, both slow at Twilio, plantao killed and restarted:
        the phone gets exactly two, each row holds its own SID, the older row the older text."""
        self.sim.delay_next("messages", 8, count=2)
        first, second = queue(self.plantao, klass="handoff", body="Seu plantão começa agora.", n=2)
        wait_until(lambda: len(self.sim.requests_of("messages", "POST")) == 2, timeout=10,
                   what="both creates at Twilio")
        time.sleep(0.3)
        self.plantao.kill9()
        self.plantao.start()
        wait_until(lambda: all(row(self.plantao, i)["sid"] for i in (first, second)), timeout=40,
                   what="both rows settled")
        self.twilio_done_with_creates()
        msgs = sorted(self.sim.sms_to(PHONE), key=lambda m: (m.date_created, self.sim.messages.index(m)))
        self.assertEqual(len(msgs), 2, self.sim.summary())
        self.assertEqual(row(self.plantao, first)["sid"], msgs[0].sid)
        self.assertEqual(row(self.plantao, second)["sid"], msgs[1].sid)
        for m in msgs:
            self.sim.expect_sms(PHONE, containing="plantão")
        self.forgive_lost_callbacks()

    def test_lost_answer_never_takes_another_rows_call(self):
        """Call C1 gets a 500 (nothing created) and Twilio's lists fail for a while, so its look-up
        is late; a minute later call C2 to the same phone is created but answered slowly. C1's
        look-up must not take C2's call: C2 is placed once, C1 once, each row its own SID."""
        self.sim.fail_next("calls", 500)
        self.sim.fail_next("calls_list", 500, count=1000)
        url1 = self.plantao.url + "/twilio/alert-call/9001"
        url2 = self.plantao.url + "/twilio/alert-call/9002"
        (c1,) = queue(self.plantao, kind="call", url=url1)
        wait_until(lambda: [r for r in self.sim.requests_of("calls", "POST") if r.status == 500], timeout=10,
                   what="C1 refused with a 500")
        self.advance(LOOKUP_DELAY + 1)
        wait_until(lambda: self.sim.requests_of("calls_list"), timeout=10, what="C1's first look-up")
        self.advance(61)  # past the per-phone minute
        self.sim.answer_late_next("calls", 6)
        (c2,) = queue(self.plantao, kind="call", url=url2)
        wait_until(lambda: len(self.sim.calls_to(PHONE)) == 1, timeout=10, what="C2 created at Twilio")
        with self.sim._lock:
            self.sim._faults[:] = [f for f in self.sim._faults if f["kind"] != "calls_list"]
        self.advance(11)  # C1's next look-up is due while C2's answer is still on its way
        wait_until(lambda: row(self.plantao, c2)["sid"], timeout=20, what="C2's answer recorded")
        for _ in range(3):
            self.advance(LOOKUP_DELAY + 1)
        self.advance(61)  # C1 is sent again once the phone's minute allows
        wait_until(lambda: row(self.plantao, c1)["sid"], timeout=30, what="C1 placed")
        time.sleep(1.0)
        calls = self.sim.calls_to(PHONE)
        self.assertEqual(sorted(c.form.get("Url") for c in calls), sorted([url1, url2]), self.sim.summary())
        by_sid = {c.sid: c for c in calls}
        self.assertEqual(by_sid[row(self.plantao, c1)["sid"]].form.get("Url"), url1)
        self.assertEqual(by_sid[row(self.plantao, c2)["sid"]].form.get("Url"), url2)
        self.assertNotIn("UNIQUE constraint failed", self.plantao.log_text())
        self.consume_rest()

    def test_look_alike_calls_that_cannot_be_told_apart_are_reported(self):
        """Two calls to one phone (different alerts) both lose their answer; Twilio has only one
        of them. Which one is unknowable: both rows are reported as undecided (API, metric, log)
        and neither is placed again."""
        self.sim.lose_response_next("calls")
        self.sim.fail_next("calls", 500)
        url1 = self.plantao.url + "/twilio/voice?c=1"
        url2 = self.plantao.url + "/twilio/voice?c=2"
        c1, = queue(self.plantao, kind="call", klass="support", url=url1)
        c2, = queue(self.plantao, kind="call", klass="support", url=url2)
        wait_until(lambda: len(self.sim.requests_of("calls", "POST")) == 2, timeout=10, what="both creates")
        self.advance(LOOKUP_DELAY + 2)
        wait_until(lambda: {row(self.plantao, c1)["status"], row(self.plantao, c2)["status"]} == {"undecided"},
                   timeout=20, what="both rows undecided")
        time.sleep(1.0)
        self.assertEqual(len(self.sim.requests_of("calls", "POST")), 2)
        listed = self.api_ok("GET", "/api/outbox?status=undecided")["outbox"]
        self.assertEqual(sorted(r["id"] for r in listed), [c1, c2])
        self.assertIn("cannot tell which", listed[0]["error_message"])
        self.assertEqual(self.metric("plantao_outbox_undecided_total"), 2)
        self.assertIn("undecided", self.plantao.log_text())
        self.consume_rest()


class TestCredentials(PagingTest):

    def test_wrong_token_keeps_the_page_until_fixed(self):
        """Every request fails with 20003. The page is not dead-lettered while its alert is
        open: it is tried again with back-off, counted and noted for /healthz; once the token is
        fixed (restart), it reaches Ana."""
        self.plantao.stop()
        good = self.plantao.env["TWILIO_AUTH_TOKEN"]
        self.plantao.env["TWILIO_AUTH_TOKEN"] = "0" * 32
        self.plantao.start()
        self.team(people=((ANA, "Ana"),))
        aid = self.trigger("pagamentos fora do ar")
        wait_until(lambda: len(self.sim.requests_of("messages", "POST")) >= 1, timeout=15, what="a first try")
        for _ in range(12):  # well past PLANTAO_MAX_TRIES (8) tries of back-off
            self.advance(61, settle=0.6)
        pages = db_rows(self.plantao, "owner_type = 'alert' AND owner_id = ? AND class = 'alert'", (aid,))
        self.assertTrue(pages)
        self.assertEqual({r["status"] for r in pages}, {"retry"}, pages)
        self.assertGreater(max(r["tries"] for r in pages), 8)
        self.assertEqual({r["error_code"] for r in pages}, {20003})
        self.assertGreaterEqual(self.metric("plantao_twilio_errors_total", 'code="20003"'), 9)
        self.assertEqual(self.metric("plantao_outbox_dead_letters_total"), 0)
        db = self.plantao.db.connect()
        try:
            (code,) = db.execute("SELECT error_code FROM twilio_results WHERE kind = 'auth'").fetchone()
        finally:
            db.close()
        self.assertEqual(code, 20003)
        self.assertIn("credentials refused", self.plantao.log_text())
        # each retry is a warning with the error in words and the phone masked (LGPD)
        retries = [x for x in self.plantao.log_text().splitlines() if "will retry" in x]
        self.assertTrue(retries)
        self.assertIn("WARN", retries[0])
        self.assertIn("Twilio refused the credentials", retries[0])
        self.assertIn("error 20003", retries[0])
        self.assertNotIn(ANA, retries[0])
        self.assertEqual(self.sim.messages, [])
        self.plantao.stop()
        self.plantao.env["TWILIO_AUTH_TOKEN"] = good
        self.plantao.start()
        self.advance(61)
        self.sim.expect_sms(ANA, containing="Alerta %d:" % aid, timeout=20)
        self.consume_rest()

    def test_wrong_token_page_stops_when_resolved(self):
        self.plantao.stop()
        self.plantao.env["TWILIO_AUTH_TOKEN"] = "0" * 32
        self.plantao.start()
        self.team(people=((ANA, "Ana"),))
        aid = self.trigger("fila parada")
        wait_until(lambda: len(self.sim.requests_of("messages", "POST")) >= 1, timeout=15, what="a first try")
        self.api_ok("POST", "/api/alerts/%d/resolve" % aid)
        self.advance(61)
        self.advance(61)
        pages = db_rows(self.plantao, "owner_type = 'alert' AND owner_id = ? AND class = 'alert'", (aid,))
        wait_until(lambda: {r["status"] for r in db_rows(
            self.plantao, "owner_type = 'alert' AND owner_id = ? AND class = 'alert'", (aid,))} == {"canceled"},
            timeout=10, what="the page cancelled (%r)" % pages)
