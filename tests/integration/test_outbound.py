"""
tests/integration/test_outbound.py — the outbound path end to end: the real `plantao serve`
sends outbox rows to the Twilio simulator and records what happens to them.

Rows are queued the way handlers queue them (an INSERT into the outbox table, here through
the harness's `plantao.db` on the live database, SQLite or PostgreSQL), and the engine picks
them up on its next tick.
What is checked is what the phones see (the simulator's messages and calls) and what
GET /api/outbox shows.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TWILIO_FROM, IntegrationTest, wait_until  # noqa: E402

PHONE = "+5511999990001"


def queue(plantao, n=1, to=PHONE, kind="sms", klass="support", body="Mensagem %d", priority=1, key="t:%d",
          url=None, owner_type=None, owner_id=None, first=0):
    """Inserts n pending outbox rows directly (one transaction); returns their ids."""
    now_ms = int(plantao.now() * 1000)
    ids = []
    db = plantao.db.connect()
    try:
        with db:
            for i in range(first, first + n):
                cur = db.execute(
                    "INSERT INTO outbox (kind, class, priority, to_number, body, url, idem_key, owner_type, owner_id, "
                    "next_at_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, klass, priority, to, None if kind == "call" else body % i, url, key % i, owner_type,
                     owner_id, now_ms, now_ms // 1000, now_ms // 1000))
                ids.append(cur.lastrowid)
    finally:
        db.close()
    return ids


def rows(plantao, where="1=1", args=()):
    db = plantao.db.connect(named=True)
    try:
        return [dict(r) for r in db.execute("SELECT * FROM outbox WHERE " + where + " ORDER BY id", args)]
    finally:
        db.close()


class OutboundTest(IntegrationTest):
    plantao_env = {"PLANTAO_SMS_RATE": "0", "PLANTAO_CALL_RATE": "0"}

    def outbox(self, **query):
        qs = "&".join("%s=%s" % kv for kv in query.items())
        body = self.api_ok("GET", "/api/outbox" + ("?" + qs if qs else ""))
        return body["outbox"]

    def row(self, row_id):
        return next(r for r in self.outbox(limit=1000) if r["id"] == row_id)

    def wait_status(self, row_id, status, timeout=10):
        return wait_until(lambda: (lambda r: r if r["status"] == status else None)(self.row(row_id)),
                          timeout=timeout, what="outbox row %d to be %s (now %s)" % (row_id, status,
                                                                                     self.row(row_id)))

    def quiet(self, seconds=0.5):
        """Nothing new reaches the simulator within `seconds`."""
        n = len(self.sim.messages) + len(self.sim.calls)
        time.sleep(seconds)
        self.assertEqual(len(self.sim.messages) + len(self.sim.calls), n, self.sim.summary())

    def forgive_lost_callbacks(self):
        """Status callbacks the simulator could not deliver while plantao was down."""
        while True:
            try:
                self.sim.expect_error("callback", timeout=0.05)
            except AssertionError:
                return

    def metric(self, name):
        status, text, _ = self.api("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        total = 0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total


class TestSending(OutboundTest):
    def test_sms_sent_delivered_and_costed(self):
        (rid,) = queue(self.plantao, body="Atenção: serviço fora do ar %d " + "x" * 60)
        msg = self.sim.expect_sms(PHONE, containing="Atenção")
        self.assertEqual(msg.from_, TWILIO_FROM)
        self.assertEqual(msg.status_callback, self.plantao.url + "/twilio/status/message")
        r = self.wait_status(rid, "delivered")
        self.assertEqual(r["sid"], msg.sid)
        self.assertEqual(r["encoding"], "UCS-2")
        self.assertEqual(r["segments"], 2)
        self.assertEqual(r["segments"], msg.num_segments)
        self.assertEqual(r["tries"], 1)
        self.assertEqual(r["from"], TWILIO_FROM)
        self.assertEqual(self.metric("plantao_sms_segments_total"), 2)

    def test_whatsapp_addressing(self):
        self.plantao.stop()
        self.forgive_lost_callbacks()
        self.start_plantao_now(env={"TWILIO_WHATSAPP_FROM": "whatsapp:" + TWILIO_FROM})
        self.sim.phone(PHONE).wrote_on_whatsapp()  # inside the 24-hour window: free-form is delivered
        (rid,) = queue(self.plantao, kind="whatsapp", body="Alerta %d")
        msg = self.sim.expect_whatsapp(PHONE, containing="Alerta 0")
        self.assertEqual(msg.from_, "whatsapp:" + TWILIO_FROM)
        r = self.wait_status(rid, "delivered")
        self.assertIsNone(r["segments"])  # billed per message, not per SMS part

    def test_call_with_status_callbacks_and_duration(self):
        self.sim.phone(PHONE).answers(talk=0)
        (rid,) = queue(self.plantao, kind="call", url=self.plantao.url + "/twilio/voice", key="c:%d")
        call = self.sim.expect_call(PHONE)
        self.assertEqual(call.form["Method"], "POST")
        self.assertEqual(call.events_requested, {"initiated", "ringing", "answered", "completed"})
        self.assertEqual(call.status_callback, self.plantao.url + "/twilio/status/call")
        self.assertEqual(call.form.get("Timeout"), "20")
        self.assertNotIn("MachineDetection", call.form)
        r = self.wait_status(rid, "completed")
        self.assertEqual(r["sid"], call.sid)
        self.assertGreater(call.duration, 0)
        self.assertEqual(r["duration_s"], call.duration)
        self.assertEqual(self.metric("plantao_call_seconds_total"), call.duration)

    def test_priority_alerts_first(self):
        self.plantao.stop()
        queue(self.plantao, n=3, priority=2, klass="sales", body="venda %d", key="s:%d")
        queue(self.plantao, n=3, priority=0, klass="ack", body="alerta %d", key="a:%d")
        self.plantao.env["PLANTAO_SMS_RATE"] = "1"
        self.plantao.start()
        for _ in range(6):
            self.advance(1, settle=0.25)
        wait_until(lambda: len(self.sim.messages) == 6, what="six messages")
        bodies = [m.body for m in self.sim.messages]
        self.assertEqual([b.split()[0] for b in bodies], ["alerta"] * 3 + ["venda"] * 3)
        for m in list(self.sim.messages):
            self.sim.expect_sms(PHONE, containing=m.body)


class TestRetries(OutboundTest):
    def test_429_with_retry_after_then_500_then_success(self):
        self.sim.fail_next("messages", 429, retry_after=2)
        self.sim.fail_next("messages", 500)
        (rid,) = queue(self.plantao)
        r = wait_until(lambda: (lambda r: r if r["status"] == "retry" else None)(self.row(rid)), what="retry")
        self.assertEqual(r["error_code"], 20429)
        self.assertGreaterEqual(r["next_at_ms"] - r["attempt_at_ms"], 2000)  # Retry-After honoured
        self.assertEqual(self.sim.messages, [])
        self.advance(6)
        # the 500 leaves open whether Twilio created it: it is looked up before the resend
        wait_until(lambda: sum(1 for q in self.sim.requests if q.kind == "messages") >= 2, what="second try")
        self.advance(6)
        msg = self.sim.expect_sms(PHONE, containing="Mensagem 0", timeout=10)
        r = self.wait_status(rid, "delivered")
        self.assertEqual(r["sid"], msg.sid)
        self.assertEqual(r["tries"], 3)
        self.assertIsNone(r["error_code"])
        self.assertEqual(len(self.sim.messages), 1)
        self.assertEqual(self.metric("plantao_outbox_retries_total"), 2)

    def test_invalid_number_is_not_retried(self):
        (rid,) = queue(self.plantao, to="+551199999999999999")
        r = self.wait_status(rid, "failed")
        self.assertEqual(r["error_code"], 21211)
        self.assertIn("not a valid phone number", r["error_message"])
        self.assertEqual(r["tries"], 1)
        self.advance(120)
        self.assertEqual(sum(1 for q in self.sim.requests if q.kind == "messages"), 1)
        failed = self.outbox(status="failed")
        self.assertEqual([f["id"] for f in failed], [rid])
        self.assertFalse(failed[0]["dead_letter"])

    def test_dead_letter_after_max_tries(self):
        self.plantao.stop()
        self.start_plantao_now(env={"PLANTAO_MAX_TRIES": "3"})
        self.sim.fail_next("messages", 503, count=10)
        (rid,) = queue(self.plantao)
        for _ in range(8):
            self.advance(10, settle=0.3)
        r = self.wait_status(rid, "failed")
        self.assertTrue(r["dead_letter"])
        self.assertTrue(r["error_message"].startswith("dead letter after 3 tries"), r["error_message"])
        self.assertEqual(r["tries"], 3)
        self.assertEqual([d["id"] for d in self.outbox(status="dead")], [rid])
        self.assertEqual(self.metric("plantao_outbox_dead_letters_total"), 1)
        self.assertIn("dead letter after 3 tries", self.plantao.log_text())
        self.assertEqual(self.sim.messages, [])

    def test_lost_answer_is_looked_up_not_resent(self):
        self.sim.lose_response_next("messages")
        (rid,) = queue(self.plantao)
        msg = self.sim.expect_sms(PHONE, containing="Mensagem 0")
        self.advance(6)
        r = self.wait_status(rid, "delivered")
        self.assertEqual(r["sid"], msg.sid)
        self.assertEqual(len(self.sim.messages), 1)
        self.assertTrue(any(q.kind == "messages_list" for q in self.sim.requests))


class TestStatusCallbacks(OutboundTest):
    def test_out_of_order_message_callbacks(self):
        self.sim.phone(PHONE).sms_callbacks(order=["delivered", "sent"])
        (rid,) = queue(self.plantao)
        msg = self.sim.expect_sms(PHONE)
        wait_until(lambda: msg.is_done(), what="callbacks sent")
        self.assertEqual([c.params["MessageStatus"] for c in msg.callbacks], ["delivered", "sent"])
        self.assertEqual(self.row(rid)["status"], "delivered")

    def test_out_of_order_call_callbacks(self):
        self.sim.phone(PHONE).does_not_answer()
        self.sim.phone(PHONE).call_callbacks(order=["completed", "ringing", "initiated"])
        (rid,) = queue(self.plantao, kind="call", url=self.plantao.url + "/twilio/voice", key="c:%d")
        call = self.sim.expect_call(PHONE)
        wait_until(lambda: call.is_done(), what="call callbacks sent")
        self.assertEqual(call.callbacks[0].params["CallStatus"], "no-answer")
        self.assertEqual(self.row(rid)["status"], "no-answer")

    def test_lost_call_callbacks_are_fetched(self):
        self.sim.phone(PHONE).answers(talk=0)
        self.sim.phone(PHONE).call_callbacks(drop=("ringing", "answered", "completed"))
        (rid,) = queue(self.plantao, kind="call", url=self.plantao.url + "/twilio/voice", key="c:%d")
        call = self.sim.expect_call(PHONE)
        wait_until(lambda: call.is_done(), what="the call to end")
        self.assertEqual(self.wait_status(rid, "initiated")["duration_s"], None)
        self.advance(60)
        self.assertEqual(self.row(rid)["status"], "initiated")  # not yet: it may still be ringing
        self.advance(90)
        r = self.wait_status(rid, "completed")
        self.assertGreater(call.duration, 0)
        self.assertEqual(r["duration_s"], call.duration)
        self.assertTrue(any(q.kind == "call" and q.method == "GET" for q in self.sim.requests))
        self.assertIn("its status callback never came", self.plantao.log_text())

    def test_duplicates_and_stale_callbacks_by_hand(self):
        (rid,) = queue(self.plantao, kind="call", url=self.plantao.url + "/twilio/voice", key="c:%d")
        self.sim.phone(PHONE).is_busy()
        call = self.sim.expect_call(PHONE)
        self.wait_status(rid, "busy")
        base = {"CallSid": call.sid, "AccountSid": self.sim.account_sid, "To": PHONE, "From": TWILIO_FROM}
        for status, seq in (("ringing", 1), ("busy", 9), ("in-progress", 10), ("completed", 11)):
            wh = self.plantao.webhook("/twilio/status/call", dict(base, CallStatus=status, SequenceNumber=seq))
            self.assertEqual(wh.status, 204)
            self.assertEqual(wh.body, "")
        self.assertEqual(self.row(rid)["status"], "busy")
        # unsigned callbacks change nothing
        wh = self.plantao.webhook("/twilio/status/message", {"MessageSid": "SMx", "MessageStatus": "read"},
                                  signature=False)
        self.assertEqual(wh.status, 403)
        # a callback for a SID nobody knows is accepted and harmless
        wh = self.plantao.webhook("/twilio/status/message", {"MessageSid": "SM" + "0" * 32, "MessageStatus": "sent"})
        self.assertEqual(wh.status, 204)


class TestPacing(OutboundTest):
    plantao_env = {"PLANTAO_SMS_RATE": "1"}

    def test_twenty_messages_one_per_second(self):
        self.plantao.stop()
        queue(self.plantao, n=20)
        self.plantao.start()
        t0 = self.plantao.now()
        deadline = time.monotonic() + 30
        while len(self.sim.messages) < 20 and time.monotonic() < deadline:
            if len(self.sim.messages) > 1 + int(self.plantao.now() - t0) + 1:
                self.fail("faster than one a second: %d messages after %.1fs"
                          % (len(self.sim.messages), self.plantao.now() - t0))
            self.advance(1, settle=0.15)
        self.assertEqual(len(self.sim.messages), 20)
        # spacing in plantao's own time (the simulator's clock follows the clock file a few
        # milliseconds apart from plantao's, which re-reads it once a tick)
        times = sorted(r["attempt_at_ms"] for r in rows(self.plantao))
        self.assertEqual(len(times), 20)
        self.assertGreaterEqual(times[-1] - times[0], 19000)
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertGreaterEqual(min(gaps), 1000, gaps)
        for m in list(self.sim.messages):
            self.sim.expect_sms(PHONE, containing=m.body)

    def test_alert_destination_limit_defers_not_drops(self):
        self.plantao.stop()
        self.start_plantao_now(env={"PLANTAO_SMS_RATE": "0", "PLANTAO_DEST_PER_MINUTE": "1",
                                    "PLANTAO_DEST_PER_15MIN": "3"})
        ids = queue(self.plantao, n=5, klass="alert", priority=0, body="Alerta %d")
        queue(self.plantao, n=2, klass="ack", priority=0, body="Confirmado %d", key="k:%d")
        self.sim.expect_sms(PHONE, containing="Alerta 0")
        self.sim.expect_sms(PHONE, containing="Confirmado 0")
        self.sim.expect_sms(PHONE, containing="Confirmado 1")  # acknowledgments are exempt
        self.quiet(0.5)
        held = self.row(ids[1])
        self.assertEqual(held["status"], "pending")
        # page texts: the per-minute limit is a 10 s gathering gap (the pager bundles the alerts
        # that arrive meanwhile into the waiting text); the 15-minute limit is kept as it is
        self.assertGreater(held["next_at_ms"], int(self.plantao.now() * 1000) + 5000)
        self.advance(11)
        self.sim.expect_sms(PHONE, containing="Alerta 1")
        self.advance(11)
        self.sim.expect_sms(PHONE, containing="Alerta 2")
        self.advance(11)
        self.quiet(0.5)  # 3 in 15 minutes
        self.advance(15 * 60)
        self.sim.expect_sms(PHONE, containing="Alerta 3")
        self.advance(11)
        self.sim.expect_sms(PHONE, containing="Alerta 4")
        self.assertEqual({r["status"] for r in rows(self.plantao)}, {"delivered"})


class TestCrash(OutboundTest):
    def test_kill9_mid_send_each_message_once(self):
        self.plantao.stop()
        # slow Twilio down so that the kill lands while requests are in flight
        self.sim.delay_next("messages", 0.05, count=1000)
        queue(self.plantao, n=200, body="Mensagem %d", to=PHONE)
        self.plantao.start()
        wait_until(lambda: len(self.sim.messages) >= 40, timeout=30, what="40 messages sent")
        self.plantao.kill9()
        stuck = rows(self.plantao, "status = 'sending'")
        self.assertTrue(stuck, "the kill should land while requests are in flight")
        self.plantao.start()
        self.advance(6)
        wait_until(lambda: len(self.sim.messages) >= 200, timeout=60, what="all 200 messages")
        self.quiet(1.0)
        self.forgive_lost_callbacks()
        bodies = sorted(m.body for m in self.sim.messages)
        self.assertEqual(bodies, sorted("Mensagem %d" % i for i in range(200)))
        # on PostgreSQL the restarted instance takes the killed one's rows over once their lease
        # expires, then looks each up at Twilio: the bound leaves room for a busy machine
        wait_until(lambda: not rows(self.plantao, "sid IS NULL OR status IN ('sending', 'pending', 'retry')"),
                   timeout=45, what="every row settled")
        sids = [r["sid"] for r in rows(self.plantao)]
        self.assertEqual(sorted(sids), sorted(m.sid for m in self.sim.messages))
        self.assertIn("interrupted send", self.plantao.log_text())
        for m in list(self.sim.messages):
            self.sim.expect_sms(PHONE, containing=m.body)


class TestDemoMode(IntegrationTest):
    plantao_env = {"TWILIO_ACCOUNT_SID": None, "TWILIO_FROM": None}

    def test_rows_stay_pending(self):
        ids = queue(self.plantao, n=3)
        time.sleep(0.6)
        self.advance(60)
        status, body, _ = self.api("GET", "/api/outbox?status=pending")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(r["id"] for r in body["outbox"]), ids)
        self.assertEqual(self.sim.requests, [])
        log = self.plantao.log_text()
        self.assertEqual(log.count("stay pending until"), 1, log)
        self.assertTrue(self.plantao.running())
        self.assertEqual(self.api("GET", "/healthz?live", token=None)[0], 200)


class TestApi(OutboundTest):
    def test_listing_and_validation(self):
        queue(self.plantao, n=3)
        wait_until(lambda: len(self.sim.messages) == 3, what="three messages")
        body = self.api_ok("GET", "/api/outbox?limit=2")
        self.assertEqual(len(body["outbox"]), 2)
        first = body["outbox"][0]
        for key in ("id", "kind", "class", "to", "from", "status", "tries", "sid", "error_code", "error_message",
                    "encoding", "segments", "duration_s", "dead_letter", "created_at", "sent_at"):
            self.assertIn(key, first)
        older = self.api_ok("GET", "/api/outbox?before=%d" % body["outbox"][-1]["id"])["outbox"]
        self.assertEqual(len(older), 1)
        self.assertEqual(self.api("GET", "/api/outbox?limit=0")[0], 400)
        self.assertEqual(self.api("GET", "/api/outbox?limit=abc")[0], 400)
        self.assertEqual(self.api("GET", "/api/outbox", token=None)[0], 401)
        for m in list(self.sim.messages):
            self.sim.expect_sms(PHONE, containing=m.body)
