"""
tests/integration/test_sim_selftest.py — tests of the Twilio simulator itself (no plantao:
a tiny webhook app stands in for it), and of the harness starting and stopping plantao.

The simulator must behave like Twilio so that what passes against it passes against the real
API: these tests pin the signature vectors, the REST shapes and errors, fault injection,
the callback order, and the phone-side TwiML interpretation.
"""

import base64
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import ROOT, IntegrationTest, Plantao, SimError, TwilioSim, binary_path, free_port, wait_until
from twilio_sim import signature, sms_segments

SID = "AC" + "1" * 32
TOKEN = "secret-token"
FROM = "+15005550006"
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeApp:
    """Stands in for plantao: routes path -> function(params) returning TwiML (or None for an
    empty 200), checks every request's X-Twilio-Signature and records it."""

    def __init__(self, token):
        self.token = token
        self.routes = {}
        self.seen = []  # (path, params dict, signature ok)
        self.lock = threading.Lock()
        app = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n).decode()
                pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
                url = "http://127.0.0.1:%d%s" % (app.port, self.path)
                ok = self.headers.get("X-Twilio-Signature") == signature(app.token, url, pairs)
                params = dict(pairs)
                with app.lock:
                    app.seen.append((self.path, params, ok))
                fn = app.routes.get(urllib.parse.urlsplit(self.path).path)
                body = fn(params) if fn else None
                data = (body or "").encode()
                self.send_response(200 if fn or body is not None else 404)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def route(self, path, twiml=None, fn=None):
        self.routes[path] = fn or (lambda p: twiml)

    def requests_to(self, path):
        with self.lock:
            return [(p, params, ok) for p, params, ok in self.seen if urllib.parse.urlsplit(p).path == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SimTestCase(unittest.TestCase):
    def setUp(self):
        self.app = FakeApp(TOKEN)
        self.addCleanup(self.app.close)
        self.sim = TwilioSim(SID, TOKEN, self.app.url, callback_delay=0.005).start()
        self.addCleanup(self.sim.stop)

    def rest(self, method, path, form=None, auth=(SID, TOKEN), query=None):
        url = self.sim.url + "/2010-04-01/Accounts/%s%s" % (SID, path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        if auth:
            req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
        try:
            with _direct.open(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), dict(e.headers)

    def send_sms(self, to, body="hello", callback="/status/message", **extra):
        form = {"To": to, "From": FROM, "Body": body}
        if callback:
            form["StatusCallback"] = self.app.url + callback
        form.update(extra)
        return self.rest("POST", "/Messages.json", form)

    def place_call(self, to, url="/alert", events=("initiated", "ringing", "answered", "completed"), **extra):
        form = {"To": to, "From": FROM, "Url": self.app.url + url,
                "StatusCallback": self.app.url + "/status/call", "StatusCallbackEvent": list(events)}
        form.update(extra)
        return self.rest("POST", "/Calls.json", form)


class TestSignature(unittest.TestCase):
    PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}

    def test_published_vectors(self):
        cases = [
            ("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
            ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
            ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        ]
        for url, expected in cases:
            self.assertEqual(signature("12345", url, self.PARAMS), expected, url)

    def test_repeated_key_vector(self):
        pairs = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"),
                 ("Digits", "1234")]
        self.assertEqual(signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", pairs),
                         "IK+Dwps556ElfBT0I3Rgjkr1wJU=")

    def test_any_change_breaks_it(self):
        url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        changed = dict(self.PARAMS, Digits="1235")
        self.assertNotEqual(signature("12345", url, changed), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        self.assertNotEqual(signature("12346", url, self.PARAMS), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


class TestSegments(unittest.TestCase):
    def test_gsm7_and_ucs2(self):
        self.assertEqual(sms_segments("a" * 160), 1)
        self.assertEqual(sms_segments("a" * 161), 2)
        self.assertEqual(sms_segments("a" * 306), 2)
        self.assertEqual(sms_segments("a" * 307), 3)
        self.assertEqual(sms_segments("[" * 80), 1)  # extension characters take two septets
        self.assertEqual(sms_segments("[" * 81), 2)
        self.assertEqual(sms_segments("plantão " * 8 + "x" * 6), 1)  # 70 UCS-2 units
        self.assertEqual(sms_segments("ã" * 71), 2)


class TestMessagesRest(SimTestCase):
    def test_create_shape(self):
        status, body, headers = self.send_sms("+5511999990001", "Alerta: disco cheio")
        self.assertEqual(status, 201)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        self.assertRegex(body["sid"], r"^SM[0-9a-f]{32}$")
        for field in ("account_sid", "api_version", "body", "date_created", "date_sent", "date_updated",
                      "direction", "error_code", "error_message", "from", "messaging_service_sid",
                      "num_media", "num_segments", "price", "price_unit", "sid", "status",
                      "subresource_uris", "to", "uri"):
            self.assertIn(field, body)
        self.assertEqual(body["status"], "queued")
        self.assertEqual(body["direction"], "outbound-api")
        self.assertEqual(body["to"], "+5511999990001")
        self.assertEqual(body["from"], FROM)
        self.assertEqual(body["account_sid"], SID)
        self.assertEqual(body["num_segments"], "1")
        self.assertIsNone(body["error_code"])
        self.assertRegex(body["date_created"], r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
        self.assertEqual(body["uri"], "/2010-04-01/Accounts/%s/Messages/%s.json" % (SID, body["sid"]))
        req = self.sim.requests[-1]
        self.assertEqual((req.method, req.kind, req.form["Body"]), ("POST", "messages", "Alerta: disco cheio"))
        self.assertEqual(req.auth, (SID, TOKEN))
        self.sim.expect_sms("+5511999990001", "disco")

    def test_auth_required(self):
        for auth in (None, (SID, "wrong"), ("AC" + "2" * 32, TOKEN)):
            status, body, _ = self.rest("POST", "/Messages.json", {"To": "+5511999990001", "From": FROM,
                                                                   "Body": "x"}, auth=auth)
            self.assertEqual(status, 401, auth)
            self.assertEqual(body["code"], 20003)
        self.assertEqual(self.sim.messages, [])

    def test_invalid_to_is_21211(self):
        status, body, _ = self.send_sms("11 99999-0001")
        self.assertEqual(status, 400)
        self.assertEqual(body, {"code": 21211,
                                "message": "The 'To' number 11 99999-0001 is not a valid phone number.",
                                "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
        status, body, _ = self.send_sms("whatsapp:+5511999990001", **{"From": "whatsapp:" + FROM})
        self.assertEqual(status, 201)
        self.sim.expect_whatsapp("+5511999990001")

    def test_missing_fields(self):
        self.assertEqual(self.rest("POST", "/Messages.json", {"From": FROM, "Body": "x"})[1]["code"], 21604)
        self.assertEqual(self.rest("POST", "/Messages.json", {"To": "+5511999990001", "From": FROM})[1]["code"],
                         21602)
        self.assertEqual(self.send_sms("+5511999990001", "x" * 1601)[1]["code"], 21617)

    def test_429_injection(self):
        self.sim.fail_next("messages", 429, retry_after=3)
        status, body, headers = self.send_sms("+5511999990001")
        self.assertEqual(status, 429)
        self.assertEqual(body["code"], 20429)
        self.assertEqual(headers["Retry-After"], "3")
        self.assertEqual(self.sim.messages, [])
        status, _, _ = self.send_sms("+5511999990001")
        self.assertEqual(status, 201)
        self.sim.expect_sms("+5511999990001")

    def test_500_and_400_injection_count(self):
        self.sim.fail_next("messages", 500, count=2)
        self.assertEqual(self.send_sms("+5511999990001")[0], 500)
        self.assertEqual(self.send_sms("+5511999990001")[0], 500)
        self.sim.fail_next("messages", 400, code=21211)
        status, body, _ = self.send_sms("+5511999990001")
        self.assertEqual((status, body["code"]), (400, 21211))
        self.assertEqual(self.send_sms("+5511999990001")[0], 201)
        self.sim.expect_sms("+5511999990001")

    def test_lost_response_still_creates(self):
        self.sim.lose_response_next("messages")
        with self.assertRaises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            self.send_sms("+5511999990001", "lost")
        m = self.sim.expect_sms("+5511999990001", "lost")
        status, body, _ = self.rest("GET", "/Messages/%s.json" % m.sid)
        self.assertEqual((status, body["sid"]), (200, m.sid))

    def test_fetch_and_404(self):
        _, created, _ = self.send_sms("+5511999990001")
        self.sim.expect_sms("+5511999990001")
        self.sim.wait_idle()
        status, body, _ = self.rest("GET", "/Messages/%s.json" % created["sid"])
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "delivered")
        self.assertIsNotNone(body["date_sent"])
        status, body, _ = self.rest("GET", "/Messages/SM%s.json" % ("0" * 32))
        self.assertEqual((status, body["code"]), (404, 20404))

    def test_list_filters_and_paging(self):
        for n in ("+5511999990001", "+5511999990002", "+5511999990001"):
            self.assertEqual(self.send_sms(n)[0], 201)
        self.sim.wait_idle()
        status, body, _ = self.rest("GET", "/Messages.json", query={"To": "+5511999990001"})
        self.assertEqual(status, 200)
        self.assertEqual(len(body["messages"]), 2)
        for key in ("page", "page_size", "uri", "next_page_uri", "first_page_uri", "previous_page_uri",
                    "start", "end"):
            self.assertIn(key, body)
        self.assertEqual((body["page"], body["page_size"], body["next_page_uri"]), (0, 50, None))
        today = time.strftime("%Y-%m-%d", time.gmtime())
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        self.assertEqual(len(self.rest("GET", "/Messages.json", query={"DateSent>": today})[1]["messages"]), 3)
        self.assertEqual(len(self.rest("GET", "/Messages.json", query={"DateSent>": tomorrow})[1]["messages"]), 0)
        # the literal form clients send: DateSent%3E=YYYY-MM-DD
        url = "/Messages.json?From=%s&DateSent%%3E=%s&PageSize=2" % (urllib.parse.quote(FROM), today)
        status, body, _ = self.rest("GET", url)
        self.assertEqual(len(body["messages"]), 2)
        self.assertIsNotNone(body["next_page_uri"])
        nxt = _direct.open(urllib.request.Request(self.sim.url + body["next_page_uri"], headers={
            "Authorization": "Basic " + base64.b64encode(("%s:%s" % (SID, TOKEN)).encode()).decode()}))
        self.assertEqual(len(json.loads(nxt.read())["messages"]), 1)
        self.sim.expect_sms("+5511999990001")
        self.sim.expect_sms("+5511999990001")
        self.sim.expect_sms("+5511999990002")

    def test_outage(self):
        self.sim.down()
        with self.assertRaises((urllib.error.URLError, ConnectionError)):
            self.send_sms("+5511999990001")
        self.sim.up()
        self.assertEqual(self.send_sms("+5511999990001")[0], 201)
        self.sim.expect_sms("+5511999990001")


class TestMessageCallbacks(SimTestCase):
    def statuses(self, n):
        return wait_until(lambda: len(self.app.requests_to("/status/message")) >= n
                          and self.app.requests_to("/status/message"), what="%d callbacks" % n)

    def test_delivered_signed_in_order(self):
        _, body, _ = self.send_sms("+5511999990001")
        seen = self.statuses(2)
        self.assertEqual([p["MessageStatus"] for _, p, _ in seen], ["sent", "delivered"])
        self.assertTrue(all(ok for _, _, ok in seen), "signatures must validate")
        p = seen[0][1]
        self.assertEqual((p["MessageSid"], p["SmsSid"], p["AccountSid"], p["To"], p["From"]),
                         (body["sid"], body["sid"], SID, "+5511999990001", FROM))
        self.assertNotIn("ErrorCode", seen[1][1])
        self.sim.expect_sms("+5511999990001")

    def test_undelivered_and_failed(self):
        self.sim.phone("+5511999990001").sms_undelivered()
        self.sim.phone("+5511999990002").sms_failed(30008)
        self.send_sms("+5511999990001")
        self.send_sms("+5511999990002")
        seen = self.statuses(3)
        by = {(p["To"], p["MessageStatus"]): p for _, p, _ in seen}
        self.assertEqual(by[("+5511999990001", "undelivered")]["ErrorCode"], "30003")
        self.assertEqual(by[("+5511999990002", "failed")]["ErrorCode"], "30008")
        self.assertNotIn(("+5511999990002", "sent"), by)
        self.assertEqual(self.sim.expect_sms("+5511999990001").error_code, 30003)
        self.sim.expect_sms("+5511999990002")

    def test_out_of_order_and_dropped(self):
        self.sim.phone("+5511999990001").sms_callbacks(order=["delivered", "sent"])
        self.sim.phone("+5511999990002").sms_callbacks(drop=["delivered"])
        self.send_sms("+5511999990001")
        self.sim.wait_idle()
        self.assertEqual([p["MessageStatus"] for _, p, _ in self.app.requests_to("/status/message")],
                         ["delivered", "sent"])
        self.send_sms("+5511999990002")
        self.sim.wait_idle()
        time.sleep(0.1)
        self.assertEqual([p["MessageStatus"] for _, p, _ in self.app.requests_to("/status/message")][2:], ["sent"])
        self.assertEqual(self.sim.expect_sms("+5511999990002").status, "delivered")  # the resource moved on
        self.sim.expect_sms("+5511999990001")

    def test_hold_and_release(self):
        self.sim.hold_callbacks()
        self.send_sms("+5511999990001")
        time.sleep(0.2)
        self.assertEqual(self.app.requests_to("/status/message"), [])
        self.sim.release_callbacks()
        self.statuses(2)
        self.sim.expect_sms("+5511999990001")

    def test_failing_callback_is_an_error(self):
        self.send_sms("+5511999990001", callback="/nowhere")
        self.sim.expect_sms("+5511999990001")
        self.sim.wait_idle()
        with self.assertRaises(SimError):
            self.sim.assert_no_unexpected()
        self.sim.expect_error("message status sent callback")
        self.sim.expect_error("message status delivered callback")
        self.sim.assert_no_unexpected()

    def test_unconsumed_is_unexpected(self):
        self.send_sms("+5511999990003", "surprise")
        wait_until(lambda: self.sim.sms_to("+5511999990003"))
        with self.assertRaisesRegex(SimError, "surprise"):
            self.sim.assert_no_unexpected()
        with self.assertRaises(SimError):
            self.sim.expect_sms("+5511999990003", "other text", timeout=0.2)
        self.sim.expect_sms("+5511999990003", re.compile(r"^sur"))


ALERT = ('<?xml version="1.0" encoding="UTF-8"?><Response>'
         '<Gather numDigits="1" action="/alert/gather" timeout="5"><Say language="pt-BR">Alerta: disco cheio. '
         'Tecle 1.</Say></Gather><Say>Sem resposta.</Say><Hangup/></Response>')


class TestCalls(SimTestCase):
    def setUp(self):
        super().setUp()
        self.app.route("/alert", ALERT)
        self.app.route("/alert/gather", fn=lambda p: "<Response><Say>Recebido %s</Say><Hangup/></Response>"
                       % p["Digits"])
        self.app.route("/status/call", "")

    def call_statuses(self):
        return [(p["CallStatus"], p["SequenceNumber"]) for _, p, _ in self.app.requests_to("/status/call")]

    def test_create_shape_and_answer_with_digit(self):
        self.sim.phone("+5511999990001").answers(digits="1")
        status, body, _ = self.place_call("+5511999990001", MachineDetection="Enable")
        self.assertEqual(status, 201)
        self.assertRegex(body["sid"], r"^CA[0-9a-f]{32}$")
        self.assertEqual((body["status"], body["direction"], body["to"], body["from"]),
                         ("queued", "outbound-api", "+5511999990001", FROM))
        for field in ("account_sid", "answered_by", "api_version", "date_created", "duration", "end_time",
                      "parent_call_sid", "start_time", "uri", "subresource_uris"):
            self.assertIn(field, body)
        call = self.sim.expect_call("+5511999990001")
        self.assertEqual(call.status, "completed")
        self.assertEqual(call.digits, ["1"])
        self.assertTrue(call.heard("disco cheio"))
        self.assertEqual(call.says[-1], "Recebido 1")
        self.assertEqual(call.answered_by, "human")
        self.assertEqual(self.call_statuses(), [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"),
                                                ("completed", "3")])
        fetch = self.app.requests_to("/alert")[0][1]
        self.assertEqual((fetch["CallStatus"], fetch["Direction"], fetch["AnsweredBy"]),
                         ("in-progress", "outbound-api", "human"))
        gather = self.app.requests_to("/alert/gather")[0]
        self.assertEqual(gather[1]["Digits"], "1")
        self.assertTrue(all(ok for _, _, ok in self.app.seen), "every webhook is signed")
        final = self.app.requests_to("/status/call")[-1][1]
        self.assertGreater(int(final["CallDuration"]), 0)
        status, fetched, _ = self.rest("GET", "/Calls/%s.json" % body["sid"])
        self.assertEqual((status, fetched["status"], fetched["answered_by"]), (200, "completed", "human"))

    def test_no_input_falls_through(self):
        self.sim.phone("+5511999990001").answers()
        self.place_call("+5511999990001")
        call = self.sim.expect_call("+5511999990001")
        self.assertEqual(call.digits, [])
        self.assertEqual(call.says[-1], "Sem resposta.")
        self.assertEqual(self.app.requests_to("/alert/gather"), [])

    def test_no_answer_busy_failed(self):
        self.sim.phone("+5511999990001").does_not_answer()
        self.sim.phone("+5511999990002").is_busy()
        self.sim.phone("+5511999990003").fails()
        for n in ("+5511999990001", "+5511999990002", "+5511999990003"):
            self.place_call(n)
        self.assertEqual(self.sim.expect_call("+5511999990001").status, "no-answer")
        self.assertEqual(self.sim.expect_call("+5511999990002").status, "busy")
        self.assertEqual(self.sim.expect_call("+5511999990003").status, "failed")
        self.assertEqual(self.app.requests_to("/alert"), [])
        finals = {p["To"]: p["CallStatus"] for _, p, _ in self.app.requests_to("/status/call")
                  if "CallDuration" in p}
        self.assertEqual(finals, {"+5511999990001": "no-answer", "+5511999990002": "busy",
                                  "+5511999990003": "failed"})

    def test_scripted_sequence_of_behaviours(self):
        self.sim.phone("+5511999990001").does_not_answer(times=1).answers(digits="1")
        self.place_call("+5511999990001")
        self.assertEqual(self.sim.expect_call("+5511999990001").status, "no-answer")
        self.place_call("+5511999990001")
        self.assertEqual(self.sim.expect_call("+5511999990001").digits, ["1"])

    def test_machine(self):
        self.sim.phone("+5511999990001").is_machine()
        self.place_call("+5511999990001", MachineDetection="DetectMessageEnd")
        call = self.sim.expect_call("+5511999990001")
        self.assertEqual(call.answered_by, "machine_end_beep")
        self.assertEqual(call.digits, [])
        self.assertEqual(self.app.requests_to("/alert")[0][1]["AnsweredBy"], "machine_end_beep")

    def test_out_of_order_and_dropped_call_callbacks(self):
        self.sim.phone("+5511999990001").answers(digits="1").call_callbacks(
            order=["completed", "answered", "ringing", "initiated"], drop=["ringing"])
        self.place_call("+5511999990001")
        self.sim.expect_call("+5511999990001")
        self.assertEqual(self.call_statuses(), [("completed", "3"), ("in-progress", "2"), ("initiated", "0")])

    def test_only_requested_events(self):
        self.sim.phone("+5511999990001").answers()
        self.place_call("+5511999990001", events=())
        self.sim.expect_call("+5511999990001")
        self.assertEqual([s for s, _ in self.call_statuses()], ["completed"])

    def test_cancel_while_ringing(self):
        self.sim.phone("+5511999990001").does_not_answer(delay=5)
        _, body, _ = self.place_call("+5511999990001")
        wait_until(lambda: self.sim.calls[0].status == "ringing")
        status, updated, _ = self.rest("POST", "/Calls/%s.json" % body["sid"], {"Status": "canceled"})
        self.assertEqual((status, updated["status"]), (200, "canceled"))
        self.assertEqual(self.sim.expect_call("+5511999990001", timeout=2).status, "canceled")

    def test_invalid_numbers(self):
        status, body, _ = self.place_call("+55 11")
        self.assertEqual((status, body["code"]), (400, 21211))
        status, body, _ = self.rest("POST", "/Calls.json", {"To": "+5511999990001", "From": FROM})
        self.assertEqual((status, body["code"]), (400, 21205))
        self.sim.fail_next("calls", 503)
        self.assertEqual(self.place_call("+5511999990001")[0], 503)
        self.assertEqual(self.sim.calls, [])

    def test_calls_list(self):
        self.sim.phone("+5511999990001").does_not_answer()
        self.place_call("+5511999990001")
        self.sim.expect_call("+5511999990001")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        status, body, _ = self.rest("GET", "/Calls.json", query={"To": "+5511999990001", "StartTime>": today})
        self.assertEqual(status, 200)
        self.assertEqual([c["status"] for c in body["calls"]], ["no-answer"])
        self.assertEqual(self.rest("GET", "/Calls.json", query={"To": "+5511999990009"})[1]["calls"], [])

    def test_bad_twiml_is_reported(self):
        self.app.route("/broken", "<Response><Say>unterminated</Response>")
        self.sim.phone("+5511999990001").answers()
        self.place_call("+5511999990001", url="/broken")
        call = self.sim.expect_call("+5511999990001")
        self.assertEqual(call.errors, [12100])
        self.sim.expect_error("12100")


SUPPORT = """<Response><Dial timeout="20" action="/voice/dial-status" callerId="+5511988887777">
<Number url="/voice/whisper">+5511999990001</Number></Dial></Response>"""
WHISPER = """<Response><Gather numDigits="1" action="/voice/whisper/accept">
<Say>Chamada de suporte. Tecle 1 para atender.</Say></Gather><Hangup/></Response>"""


class TestIncoming(SimTestCase):
    def setUp(self):
        super().setUp()
        self.app.route("/twilio/voice", SUPPORT)
        self.app.route("/voice/whisper", WHISPER)
        self.app.route("/voice/whisper/accept", "<Response><Say>Conectando.</Say></Response>")
        self.dial_status = []

        def dial_status(p):
            self.dial_status.append(p)
            if p["DialCallStatus"] == "completed" and p.get("DialBridged"):
                return "<Response><Hangup/></Response>"
            return ('<Response><Say>Deixe sua mensagem.</Say><Record maxLength="120" action="/voice/voicemail" '
                    'transcribeCallback="/voice/transcription"/></Response>')

        self.app.route("/voice/dial-status", fn=dial_status)
        self.app.route("/voice/voicemail", "<Response><Say>Obrigado.</Say></Response>")
        self.app.route("/voice/transcription", "")

    def test_answered_and_accepted(self):
        self.sim.phone("+5511999990001").answers(digits="1", talk=42)
        call = self.sim.incoming_call("+5511977776666")
        self.assertEqual(call.status, "completed")
        self.assertEqual(call.bridged_to, "+5511999990001")
        self.assertEqual(self.dial_status[0]["DialCallStatus"], "completed")
        self.assertGreaterEqual(int(self.dial_status[0]["DialCallDuration"]), 42)
        first = self.app.requests_to("/twilio/voice")[0][1]
        self.assertEqual((first["CallStatus"], first["Direction"], first["From"], first["Caller"]),
                         ("ringing", "inbound", "+5511977776666", "+5511977776666"))
        leg = self.sim.expect_call("+5511999990001")
        self.assertEqual(leg.direction, "outbound-dial")
        self.assertEqual(leg.from_, "+5511988887777")
        self.assertEqual(leg.parent_call_sid, call.sid)
        self.assertTrue(leg.heard("Tecle 1"))
        self.assertEqual(leg.digits, ["1"])
        self.assertEqual(self.dial_status[0]["DialCallSid"], leg.sid)
        self.assertTrue(all(ok for _, _, ok in self.app.seen))

    def test_whisper_declined_then_voicemail(self):
        self.sim.phone("+5511999990001").voicemail_picks_up()
        call = self.sim.incoming_call("+5511977776666", record_seconds=12, transcription="servidor caiu")
        self.assertIsNone(call.bridged_to)
        leg = self.sim.expect_call("+5511999990001")
        self.assertEqual(leg.digits, [])
        self.assertNotIn("DialBridged", self.dial_status[0])
        self.assertTrue(call.heard("Deixe sua mensagem"))
        vm = self.app.requests_to("/voice/voicemail")[0][1]
        self.assertEqual((vm["Digits"], vm["RecordingDuration"]), ("hangup", "12"))
        self.assertRegex(vm["RecordingSid"], r"^RE[0-9a-f]{32}$")
        self.assertFalse(call.heard("Obrigado"), "the caller hung up: the action's TwiML is not played")
        rec = _direct.open(vm["RecordingUrl"] + ".json").read()
        self.assertEqual(json.loads(rec)["duration"], "12")
        tr = wait_until(lambda: self.app.requests_to("/voice/transcription"))[0][1]
        self.assertEqual(tr["TranscriptionText"], "servidor caiu")

    def test_no_answer_and_busy(self):
        for behaviour, expected in (("does_not_answer", "no-answer"), ("is_busy", "busy")):
            getattr(self.sim.phone("+5511999990001"), behaviour)()
            self.dial_status.clear()
            self.sim.incoming_call("+5511977776666", record_end="#")
            self.assertEqual(self.dial_status[0]["DialCallStatus"], expected)
            self.assertEqual(self.sim.expect_call("+5511999990001").status, expected)
        vm = self.app.requests_to("/voice/voicemail")[-1][1]
        self.assertEqual(vm["Digits"], "#")

    def test_several_numbers(self):
        self.app.route("/twilio/voice", """<Response><Dial action="/voice/dial-status">
<Number>+5511999990001</Number><Number url="/voice/whisper">+5511999990002</Number>
<Number>+5511999990003</Number></Dial></Response>""")
        self.sim.phone("+5511999990001").does_not_answer()
        self.sim.phone("+5511999990002").answers(digits="1")
        call = self.sim.incoming_call("+5511977776666")
        self.assertEqual(call.bridged_to, "+5511999990002")
        self.assertEqual([d["status"] for d in call.dials], ["no-answer", "completed", "canceled"])
        self.assertEqual(self.sim.expect_call("+5511999990001").status, "no-answer")
        self.assertEqual(self.sim.expect_call("+5511999990002").digits, ["1"])
        self.assertEqual(self.sim.expect_call("+5511999990003").status, "canceled")
        self.assertEqual(self.dial_status[0]["DialCallSid"], call.dials[1]["leg"].sid)

    def test_incoming_sms(self):
        self.app.route("/twilio/sms", fn=lambda p: "<Response><Message>Plantão: %s</Message></Response>" % p["Body"])
        self.assertEqual(self.sim.incoming_sms("+5511977776666", "quem"), ["Plantão: quem"])
        _, params, ok = self.app.requests_to("/twilio/sms")[0]
        self.assertTrue(ok)
        self.assertEqual((params["From"], params["To"], params["NumMedia"]), ("+5511977776666", FROM, "0"))

    def test_forged_signature_helper(self):
        wh = self.sim.post_webhook("/twilio/sms", {"Body": "x"}, signature="forged")
        self.assertEqual(wh.status, 404)
        self.assertFalse(self.app.requests_to("/twilio/sms")[0][2])


@unittest.skipUnless(os.access(binary_path(), os.X_OK), "plantao is not built (%s)" % binary_path())
class TestHarness(unittest.TestCase):
    def test_start_healthz_restart_stop(self):
        sim = TwilioSim("AC" + "3" * 32, TOKEN).start()
        self.addCleanup(sim.stop)
        p = Plantao(sim)
        self.addCleanup(p.close)
        try:
            p.start()
        except RuntimeError as e:
            if "/healthz: HTTP 404" in str(e):
                self.skipTest("plantao has no /healthz yet")
            raise
        self.assertEqual(p.api("GET", "/healthz?live", token=None)[0], 200)
        p.kill9()
        with self.assertRaises(OSError):
            p.api("GET", "/healthz?live", token=None, timeout=1)
        p.restart()
        self.assertEqual(p.api("GET", "/healthz?live", token=None)[0], 200)
        self.assertEqual(p.stop(), 0)
        if p.db.kind == "sqlite":
            self.assertTrue(os.path.exists(p.db_path))


class TestStandalone(unittest.TestCase):
    """`python3 tests/sim/twilio_sim.py ...` as a user rehearsing without an account runs it."""

    def test_standalone_answers_and_prints(self):
        app = FakeApp("tok")
        self.addCleanup(app.close)
        app.route("/twilio/sms", "<Response><Message>oi</Message></Response>")
        port = free_port()
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "sim", "twilio_sim.py"),
                                 "--port", str(port), "--auth-token", "tok", "--plantao-url", app.url],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.terminate)
        self.assertIn("listening on http://127.0.0.1:%d" % port, proc.stdout.readline())
        lines = []
        threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
        base = "http://127.0.0.1:%d" % port
        sid = "AC" + "4" * 32
        form = urllib.parse.urlencode({"To": "+5511999990001", "From": FROM, "Body": "teste"}).encode()
        req = urllib.request.Request(base + "/2010-04-01/Accounts/%s/Messages.json" % sid, data=form, headers={
            "Authorization": "Basic " + base64.b64encode(("%s:tok" % sid).encode()).decode()})
        self.assertEqual(_direct.open(req).status, 201)
        out = _direct.open(urllib.request.Request(base + "/_sim/incoming-sms", data=urllib.parse.urlencode(
            {"From": "+5511999990002", "Body": "quem"}).encode())).read()
        self.assertEqual(json.loads(out)["replies"], ["oi"])
        self.assertTrue(app.requests_to("/twilio/sms")[0][2], "signed with --auth-token")
        wait_until(lambda: any("+5511999990001: teste" in x for x in lines), timeout=5, what="the SMS printed")
        app.route("/alert", ALERT)
        app.route("/alert/gather", "<Response><Hangup/></Response>")
        form = urllib.parse.urlencode({"To": "+5511999990001", "From": FROM, "Url": app.url + "/alert"}).encode()
        req = urllib.request.Request(base + "/2010-04-01/Accounts/%s/Calls.json" % sid, data=form, headers={
            "Authorization": "Basic " + base64.b64encode(("%s:tok" % sid).encode()).decode()})
        self.assertEqual(_direct.open(req).status, 201)
        gather = wait_until(lambda: app.requests_to("/alert/gather"), timeout=5)
        self.assertEqual(gather[0][1]["Digits"], "1", "phones answer and press 1 by default")
        wait_until(lambda: any("pressed ['1']" in x for x in lines), timeout=5, what="the call printed")


@unittest.skipUnless(os.access(binary_path(), os.X_OK), "plantao is not built (%s)" % binary_path())
class TestAgainstPlantao(IntegrationTest):
    """The IntegrationTest base class with the real server: webhooks the simulator signs are
    accepted, forged ones refused with 403."""

    def test_signed_call_is_answered(self):
        call = self.sim.incoming_call("+5511977776666")
        self.assertEqual(call.errors, [])
        self.assertTrue(call.says, "plantao answered with TwiML that says something")
        self.assertEqual(call.webhooks[0].status, 200)
        self.assertTrue(call.webhooks[0].headers["content-type"].startswith("text/xml"))

    def test_forged_signature_is_refused(self):
        params = {"CallSid": "CA" + "5" * 32, "AccountSid": self.sim.account_sid, "From": "+5511977776666",
                  "To": "+15005550006", "CallStatus": "ringing", "Direction": "inbound"}
        self.assertEqual(self.plantao.webhook("/twilio/voice", params, signature="AAAA").status, 403)
        self.assertEqual(self.plantao.webhook("/twilio/voice", params, signature=False).status, 403)
        self.assertEqual(self.plantao.webhook("/twilio/voice", params).status, 200)

    def test_clock_file(self):
        self.advance(3600, settle=0)
        with open(self.plantao.clock_path) as f:
            self.assertEqual(f.read().strip(), "3600")
        self.assertEqual(self.sim.clock_offset, 3600)


if __name__ == "__main__":
    unittest.main()
