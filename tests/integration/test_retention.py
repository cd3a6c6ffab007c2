"""
tests/integration/test_retention.py — the database does not grow forever (issue 14, item 5).

A year and more of traffic is written, the clock jumps past PLANTAO_RETENTION_DAYS (default 400)
and the engine's retention job prunes it in small batches while signed webhooks keep being answered;
three rounds of that leave the SQLite file about the size the first round left. Rows still in
flight, recent rows, alerts and the audit of schedule changes are kept; texts older than
PLANTAO_RETENTION_BODY_DAYS (default 90) lose their words but keep their row. Defaults everywhere;
the clock is moved, never slept on.
"""

import os
import re
import threading
import time

from harness import IntegrationTest, wait_until

DAY = 86400
JUMP = 401 * DAY
N_OUTBOX, N_AUDIT, N_CALLS, N_VOICEMAILS = 6000, 3000, 2000, 500
BODY = "Alerta: disco cheio no servidor db1, 97% usado; responda ack para reconhecer. " * 4  # ~320 bytes


def series(n):
    return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) " % n


class TestRetention(IntegrationTest):
    def fill(self, tag, at):
        """A round of traffic created at `at` (Unix seconds): texts, audit, support calls with their
        legs and chains, voicemails. Every key carries `tag`."""
        db = self.plantao.db
        conn = db.connect()
        try:
            with conn:
                conn.execute(series(N_OUTBOX) + "INSERT INTO outbox (kind, class, priority, to_number, body, "
                             "idem_key, status, next_at_ms, created_at, updated_at) SELECT 'sms', 'support', 1, "
                             "'+5511990000001', ?, ? || i, 'delivered', ?, ?, ? FROM n",
                             (BODY, tag + ":sms:", at * 1000, at, at))
                conn.execute(series(N_AUDIT) + "INSERT INTO audit (at, actor, action, entity_id, detail) "
                             "SELECT ?, ?, 'people.update', i, '{\"name\": \"Ana\"}' FROM n", (at, tag))
                conn.execute(series(N_CALLS) + "INSERT INTO support_calls (call_sid, caller, status, created_at) "
                             "SELECT ? || i, '+5521988887777', 'answered', ? FROM n", (tag + ":call:", at))
                conn.execute("INSERT INTO support_legs (call_id, leg, phone, created_at) SELECT id, 0, "
                             "'+5511990000001', created_at FROM support_calls WHERE call_sid LIKE ?", (tag + ":%",))
                conn.execute("INSERT INTO support_chain (call_id, position, phone) SELECT id, 0, '+5511990000001' "
                             "FROM support_calls WHERE call_sid LIKE ?", (tag + ":%",))
                conn.execute(series(N_VOICEMAILS) + "INSERT INTO voicemails (call_sid, caller, transcription, "
                             "created_at) SELECT ? || i, '+5521988887777', ?, ? FROM n", (tag + ":vm:", BODY, at))
        finally:
            conn.close()

    def count(self, sql, params=()):
        return self.plantao.db.scalar(sql, params)

    def old_left(self, tag):
        like = tag + ":%"
        return (self.count("SELECT count(*) FROM outbox WHERE idem_key LIKE ?", (like,)) +
                self.count("SELECT count(*) FROM audit WHERE actor = ?", (tag,)) +
                self.count("SELECT count(*) FROM support_calls WHERE call_sid LIKE ?", (like,)) +
                self.count("SELECT count(*) FROM voicemails WHERE call_sid LIKE ?", (like,)))

    def file_size(self):
        """The database file (its WAL is bounded by checkpoints and reused, not grown by rounds)."""
        return os.path.getsize(self.plantao.db.target)

    def freelist(self):
        return self.count("PRAGMA freelist_count")

    def webhooks_meanwhile(self, stop, latencies, statuses):
        i = 0
        while not stop.is_set():
            i += 1
            t0 = time.monotonic()
            wh = self.plantao.webhook("/twilio/voice", {"CallSid": "CA%032d" % (i + 10 ** 9), "From": "+5521977776666",
                                                        "To": "+15005550006", "CallStatus": "ringing"})
            latencies.append(time.monotonic() - t0)
            statuses.append(wh.status)
            time.sleep(0.05)

    def test_three_rounds_stay_bounded_and_keep_what_is_recent(self):
        sqlite = self.plantao.db.kind == "sqlite"
        # what must stay: an alert resolved before the first jump, schedule-change audit, a text
        # still undecided (in flight), and traffic of the last days before each jump
        alert = self.api_ok("POST", "/api/alerts", json={"summary": "db1 fora do ar"}, expect=202)
        alert_id = alert.get("id") or alert["alert"]["id"]
        self.api_ok("POST", "/api/alerts/%d/resolve" % alert_id)
        now = self.plantao.now()
        self.plantao.db.execute("INSERT INTO audit (at, actor, action, entity_id, detail) VALUES "
                                "(?, 'admin', 'rotation.update', 1, '{}')", (int(now),))
        self.plantao.db.execute("INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, status, "
                                "next_at_ms, created_at, updated_at) VALUES ('sms', 'alert', 0, '+5511990000009', "
                                "?, 'inflight:1', 'undecided', ?, ?, ?)",
                                (BODY, int(now) * 1000, int(now), int(now)))

        sizes = []
        latencies, statuses = [], []
        for r in range(3):
            now = self.plantao.now()
            self.fill("old%d" % r, int(now))
            # 100 days old after the jump: words go, rows stay; 1 day old: untouched
            self.fill("mid%d" % r, int(now + JUMP - 100 * DAY))
            self.fill("new%d" % r, int(now + JUMP - DAY))
            before = self.old_left("old%d" % r)
            self.assertEqual(before, N_OUTBOX + N_AUDIT + N_CALLS + N_VOICEMAILS)

            stop = threading.Event()
            t = threading.Thread(target=self.webhooks_meanwhile, args=(stop, latencies, statuses), daemon=True)
            t.start()
            try:
                self.advance(JUMP)
                wait_until(lambda: self.old_left("old%d" % r) == 0, timeout=120, interval=0.2,
                           what="round %d's old rows to be pruned" % r)
                wait_until(lambda: self.count("SELECT count(*) FROM outbox WHERE idem_key LIKE ? AND body <> ''",
                                              ("mid%d:%%" % r,)) == 0,
                           timeout=60, interval=0.2, what="round %d's 100-day-old texts to be blanked" % r)
                if sqlite:
                    wait_until(lambda: self.freelist() == 0, timeout=60, interval=0.2,
                               what="the freed pages to be given back")
            finally:
                stop.set()
                t.join()
            # 100 days old: rows kept without their words
            self.assertEqual(self.count("SELECT count(*) FROM outbox WHERE idem_key LIKE ?", ("mid%d:%%" % r,)),
                             N_OUTBOX)
            self.assertEqual(self.count("SELECT count(*) FROM voicemails WHERE call_sid LIKE ? AND transcription "
                                        "IS NOT NULL", ("mid%d:%%" % r,)), 0)
            self.assertEqual(self.count("SELECT count(*) FROM support_calls WHERE call_sid LIKE ?",
                                        ("mid%d:%%" % r,)), N_CALLS)
            # a day old: all there, words included
            self.assertEqual(self.count("SELECT count(*) FROM outbox WHERE idem_key LIKE ? AND body = ?",
                                        ("new%d:%%" % r, BODY)), N_OUTBOX)
            self.assertEqual(self.count("SELECT count(*) FROM audit WHERE actor = ?", ("new%d" % r,)), N_AUDIT)
            self.assertEqual(self.count("SELECT count(*) FROM support_legs l JOIN support_calls c ON c.id = "
                                        "l.call_id WHERE c.call_sid LIKE ?", ("new%d:%%" % r,)), N_CALLS)
            if sqlite:
                sizes.append(self.file_size())

        # kept longer than the rest (PLANTAO_RETENTION_ALERT_DAYS, 1100 by default): 1203 days on,
        # the alert is gone only now, and so is the schedule audit
        self.assertEqual(self.count("SELECT count(*) FROM outbox WHERE idem_key = 'inflight:1' AND body = ?",
                                    (BODY,)), 1)
        self.assertEqual(self.count("SELECT count(*) FROM alerts WHERE id = ?", (alert_id,)), 0)
        self.assertEqual(self.count("SELECT count(*) FROM audit WHERE action = 'rotation.update'"), 0)

        # the writer was never held long: every webhook during pruning answered 200, quickly.
        # Quickly by the server's own time for each (its access log): what the test measures
        # around a request also counts its own thread waiting for a core on a busy machine.
        self.assertGreater(len(latencies), 20)
        self.assertEqual(set(statuses), {200}, statuses)
        served = wait_until(lambda: (lambda t: t if len(t) >= len(latencies) else None)(
            [int(us) / 1e6 for us in re.findall(r"POST /twilio/voice 200 (\d+)us$", self.plantao.log_text(), re.M)]),
            what="the access log line of every webhook")
        self.assertEqual(len(served), len(latencies))
        self.assertLess(max(served), 1.0, "slowest answers (server side) %s; measured by the test %s"
                        % (sorted(served)[-5:], sorted(latencies)[-5:]))
        if sqlite:
            # three rounds of the same traffic: after the second (indexes at their working size;
            # measured 9.4, 14.1, 14.3 MB) the file stays put, where keeping everything would add
            # the size of a round (about 7 MB) each time
            self.assertLessEqual(sizes[2], sizes[1] * 1.1, sizes)
            self.assertLess(sizes[2], sizes[0] * 1.8, sizes)
            self.assertIn("retention:", self.plantao.log_text())

    def test_alerts_and_schedule_audit_outlive_the_rest(self):
        alert = self.api_ok("POST", "/api/alerts", json={"summary": "fila parada"}, expect=202)
        alert_id = alert.get("id") or alert["alert"]["id"]
        self.api_ok("POST", "/api/alerts/%d/resolve" % alert_id)
        now = int(self.plantao.now())
        for action in ("rotation.update", "overrides.create", "escalation.update", "people.update", "auth.signin"):
            self.plantao.db.execute("INSERT INTO audit (at, actor, action, entity_id, detail) VALUES "
                                    "(?, 'admin', ?, 1, '{}')", (now, action))
        self.advance(JUMP)
        wait_until(lambda: self.count("SELECT count(*) FROM audit WHERE action IN ('people.update', 'auth.signin')")
                   == 0, timeout=60, interval=0.2, what="the ordinary audit to be pruned")
        self.assertEqual(self.count("SELECT count(*) FROM alerts WHERE id = ?", (alert_id,)), 1)
        self.assertEqual(self.count("SELECT count(*) FROM audit WHERE action IN ('rotation.update', "
                                    "'overrides.create', 'escalation.update')"), 3)
        self.assertEqual(self.api_ok("GET", "/api/alerts/%d" % alert_id)["id"], alert_id)

    def test_sign_in_codes_and_sessions_long_over_are_pruned(self):
        """Codes and sessions carry hashes and grew forever: once over for longer than the body
        cut (90 days) they go; a session still valid after the jump and a code that still locks
        its phone stay."""
        pid = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "+5511990000001"},
                          expect=201)["id"]
        now = int(self.plantao.now())
        later = now + JUMP + 30 * DAY
        for tag, expires, locked in (("old", now, None), ("locked", now, later)):
            self.plantao.db.execute(
                "INSERT INTO otp_codes (destination, purpose, channel, person_id, salt, hash, created_at, "
                "expires_at, locked_until) VALUES ('+5511990000001', 'signin', 'sms', ?, 's', ?, ?, ?, ?)",
                (pid, "code-" + tag, now, expires, locked))
        for tag, expires in (("old", now), ("live", later)):
            self.plantao.db.execute(
                "INSERT INTO sessions (person_id, hash, created_at, last_seen_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)", (pid, "session-" + tag, now, now, expires))
        self.advance(JUMP)
        wait_until(lambda: self.count("SELECT count(*) FROM sessions WHERE hash = 'session-old'") == 0,
                   timeout=60, interval=0.2, what="the old session to be pruned")
        wait_until(lambda: self.count("SELECT count(*) FROM otp_codes WHERE hash = 'code-old'") == 0,
                   timeout=60, interval=0.2, what="the old code to be pruned")
        self.assertEqual(self.count("SELECT count(*) FROM sessions WHERE hash = 'session-live'"), 1)
        self.assertEqual(self.count("SELECT count(*) FROM otp_codes WHERE hash = 'code-locked'"), 1)

    def test_old_emails_are_pruned_with_their_messages(self):
        """An e-mail row keeps its Message-ID in mail_messages (a foreign key to the outbox):
        once old, both go, and the rows pruned after it in the same batch go too."""
        now = int(self.plantao.now())
        for i, kind in enumerate(("email", "sms")):
            oid = self.plantao.db.execute(
                "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, status, next_at_ms, "
                "created_at, updated_at) VALUES (?, 'support', 2, ?, ?, ?, 'sent', ?, ?, ?)",
                (kind, "ana@example.com" if kind == "email" else "+5511990000009", BODY, "old-%s-%d" % (kind, i),
                 now * 1000, now, now))
            if kind == "email":
                self.plantao.db.execute("INSERT INTO mail_messages (outbox_id, message_id, subject) VALUES "
                                        "((SELECT id FROM outbox WHERE idem_key = 'old-email-0'), "
                                        "'<old@plantao>', 'Correio de voz')")
        self.advance(JUMP)
        wait_until(lambda: self.count("SELECT count(*) FROM outbox WHERE idem_key LIKE 'old-%'") == 0,
                   timeout=60, interval=0.2, what="the old e-mail and text to be pruned")
        self.assertEqual(self.count("SELECT count(*) FROM mail_messages WHERE message_id = '<old@plantao>'"), 0)
