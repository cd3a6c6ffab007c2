"""
tests/integration/test_intake.py — alert intake as monitoring tools really use it, against a
real `plantao serve` at its default configuration and the Twilio simulator: a hostile
Alertmanager payload must not stall the support line's webhooks, Alertmanager groups become
one alert, Grafana test notifications page nobody, the generic API resolves by key and
refuses unknown fields, cron's plain text dedups by its first line, runbook links are kept,
and an alert with nobody to page says so in its 202.
"""

import json
import os
import secrets
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TWILIO_FROM, IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
CALLER = "+5511988880000"
# Twilio gives up on a webhook after 15 s; a support-line answer must come well before that.
WEBHOOK_BUDGET_S = 3.0


def alertmanager(status, alerts, group_key=None, **extra):
    """An Alertmanager webhook payload (version 4) carrying `alerts`."""
    body = {"version": "4", "groupKey": group_key, "status": status, "receiver": "plantao",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am:9093", "truncatedAlerts": 0, "alerts": alerts}
    if group_key is None:
        del body["groupKey"]
    body.update(extra)
    return body


def am_alert(fp, status="firing", summary=None, **labels):
    annotations = {"summary": summary} if summary else {}
    return {"status": status, "labels": dict(labels), "annotations": annotations,
            "startsAt": "2026-01-05T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-01-05T12:05:00Z",
            "generatorURL": "http://prom:9090/graph", "fingerprint": fp}


class IntakeTest(IntegrationTest):
    """Default configuration: no limit or pacing turned off."""

    def add_person(self, name, phone):
        return self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"]

    def policy(self, *people, timeout_s=30):
        self.api_ok("PUT", "/api/escalation", json={
            "steps": [{"target": p, "timeout_s": timeout_s} for p in people], "rounds": 1})

    def db_rows(self, sql, *args):
        conn = sqlite3.connect(self.plantao.db_path, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def voice_webhook(self):
        """One signed incoming call to the support line, as Twilio sends it; returns the
        simulator's Webhook (status, body, elapsed)."""
        return self.plantao.webhook("/twilio/voice", {
            "CallSid": "CA" + secrets.token_hex(16), "AccountSid": self.sim.account_sid, "From": CALLER,
            "To": TWILIO_FROM, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"})


class TestHostilePayload(IntakeTest):

    def test_huge_label_set_does_not_stall_the_support_line(self):
        """A 1 MB Alertmanager payload whose ~78,000 labels arrive in descending order was
        sorted under the writer lock in quadratic time: every signed voice webhook waited
        for it, long past Twilio's 15 s."""
        n = 78000
        labels = {"l%05d" % i: "" for i in range(n - 1, -1, -1)}
        labels["alertname"] = "Flood"
        payload = alertmanager("firing", [{"status": "firing", "labels": labels, "annotations": {},
                                           "fingerprint": "f100d"}], group_key="{}:{alertname=\"Flood\"}")
        raw = json.dumps(payload, separators=(",", ":")).encode()
        self.assertLess(len(raw), 1024 * 1024)
        self.assertGreater(len(raw), 800 * 1024)
        # warm the webhook path once: its first answer prepares statements
        self.assertEqual(self.voice_webhook().status, 200)
        result = {}

        def post():
            t0 = time.monotonic()
            result["status"], result["body"], _ = self.api("POST", "/api/alerts/alertmanager", data=raw,
                                                           headers={"Content-Type": "application/json"},
                                                           timeout=300)
            result["elapsed"] = time.monotonic() - t0

        poster = threading.Thread(target=post)
        poster.start()
        latencies = []
        try:
            # calls keep arriving while the payload is being taken in
            while poster.is_alive() or not latencies:
                wh = self.voice_webhook()
                self.assertIsNone(wh.error, "voice webhook: %s after %.1fs" % (wh.error, wh.elapsed))
                self.assertEqual(wh.status, 200, wh.body)
                self.assertIn("<Response>", wh.body)
                latencies.append(wh.elapsed)
                time.sleep(0.05)
        finally:
            poster.join(300)
        worst = max(latencies)
        sys.stderr.write("\n  intake of %d labels: %.2fs; %d voice webhooks meanwhile, slowest %.3fs\n"
                         % (n, result["elapsed"], len(latencies), worst))
        self.assertEqual(result["status"], 202, result.get("body"))
        self.assertLess(worst, WEBHOOK_BUDGET_S, "a voice webhook waited %.1fs behind the payload" % worst)
        aid = result["body"]["alerts"][0]["alert_id"]
        details = self.api_ok("GET", "/api/alerts/%d" % aid)["details"]
        lines = details.splitlines()
        # every label kept, in order
        self.assertEqual(lines[0], "alertname=Flood")
        self.assertEqual(lines[1], "l00000=")
        self.assertEqual(lines[n], "l%05d=" % (n - 1))
