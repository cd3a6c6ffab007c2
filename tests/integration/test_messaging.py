"""
tests/integration/test_messaging.py — texts as Twilio really handles them (issue 12, items 1, 4
and 8), at the DEFAULT configuration (per-phone limits and pacing on) against the simulator:

- statuses Twilio reports that plantao did not know (partially_delivered, one Twilio adds later)
  are recorded as received and shown, never dropped;
- opt-out words (Twilio's defaults) by text, and a send refused with 21610 because the person
  replied STOP where plantao never heard it: the person is marked opted out, calls still go out,
  texts are no longer attempted;
- WhatsApp's 24-hour window: free-form messages only to people who wrote in within 24 hours,
  approved templates (TWILIO_WHATSAPP_TEMPLATE_SID) otherwise; a failing WhatsApp never stops
  the same person's SMS and call.

The rotation puts Ana on call and Bruno next; the policy is the default one (on call, next).
"""

import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402
from test_sim_selftest import FROM, SimTestCase  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
WA_FROM = "whatsapp:+15005550006"
TEMPLATE = "HX" + "0123456789abcdef" * 2  # a Content SID


class MessagingTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.team()

    def team(self, whatsapp=False):
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA,
                                                             "whatsapp": whatsapp})["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": BRUNO})["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno]})

    def trigger(self, summary, severity="critical"):
        status, body, _ = self.api("POST", "/api/alerts", json={"summary": summary, "severity": severity})
        self.assertEqual(status, 202, body)
        return body["id"]

    def outbox_row(self, to, kind="sms"):
        rows = [r for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["to"] == to and r["kind"] == kind]
        return rows[0] if rows else None

    def person(self, pid):
        return self.api_ok("GET", "/api/people/%d" % pid)

    def consume(self):
        """Texts and calls are checked by each test on its own terms; what is left is not unexpected."""
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                m.consumed = True
            for c in self.sim.calls:
                c.consumed = True


class TestStatusesAsReceived(MessagingTest):

    def test_partially_delivered_is_recorded_and_shown(self):
        self.sim.phone(ANA).sms_reports("sent", "partially_delivered")
        aid = self.trigger("disco quase cheio no db1", severity="warning")
        self.sim.expect_sms(ANA, containing="disco quase cheio")
        row = wait_until(lambda: (lambda r: r if r and r["status"] == "partially_delivered" else None)(
            self.outbox_row(ANA)), timeout=15, what="the text's row partially_delivered")
        self.assertEqual(row["twilio_status"], "partially_delivered")
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"] if m["to"] == ANA]
        self.assertEqual(shown[0]["status"], "partially_delivered")
        self.consume()

    def test_a_status_plantao_does_not_know_is_kept_and_logged(self):
        self.sim.phone(ANA).sms_reports("sent", "delivered_to_carrier_hub")
        self.trigger("fila de e-mail parada", severity="warning")
        self.sim.expect_sms(ANA, containing="fila de e-mail parada")
        row = wait_until(lambda: (lambda r: r if r and r["twilio_status"] == "delivered_to_carrier_hub" else None)(
            self.outbox_row(ANA)), timeout=15, what="the unknown status recorded")
        self.assertEqual(row["status"], "sent")  # the order is kept: an unknown status moves nothing
        wait_until(lambda: "status 'delivered_to_carrier_hub'" in self.plantao.log_text(), what="the warning")
        line = [x for x in self.plantao.log_text().splitlines() if "delivered_to_carrier_hub" in x][0]
        self.assertIn("WARN", line)
        self.consume()

    def test_a_call_status_plantao_does_not_know_is_kept_and_the_call_still_counts(self):
        self.sim.phone(ANA).answers(digits="1", delay=2.0)
        self.sim.hold_callbacks()  # Twilio's own callbacks come after the unknown one
        aid = self.trigger("banco de dados lento")
        call_row = wait_until(lambda: (lambda r: r if r and r["sid"] else None)(self.outbox_row(ANA, kind="call")),
                              timeout=15, what="the call placed")
        wh = self.sim.post_webhook("/twilio/status/call", {
            "AccountSid": self.sim.account_sid, "CallSid": call_row["sid"], "CallStatus": "carrier-hold",
            "SequenceNumber": "1", "To": ANA, "From": self.sim.support_number})
        self.assertEqual(wh.status, 204, wh.body)
        row = self.outbox_row(ANA, kind="call")
        self.assertEqual(row["twilio_status"], "carrier-hold")
        self.assertEqual(row["status"], "queued")  # it moves nothing
        self.assertTrue([x for x in self.plantao.log_text().splitlines()
                         if "status 'carrier-hold'" in x and "WARN" in x])
        self.sim.release_callbacks()
        # the call's own statuses still drive the pager: Ana takes the alert by pressing 1
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % aid)["status"] == "acknowledged",
                   timeout=20, what="acknowledged on the call")
        self.sim.expect_call(ANA, timeout=20)
        self.consume()

    def test_error_code_of_a_failed_text_is_explained_in_words(self):
        self.sim.phone(ANA).sms_undelivered(30003)
        aid = self.trigger("api lenta", severity="warning")
        self.sim.expect_sms(ANA, containing="api lenta")
        row = wait_until(lambda: (lambda r: r if r and r["status"] == "undelivered" else None)(
            self.outbox_row(ANA)), timeout=15, what="the text undelivered")
        self.assertEqual(row["error_code"], 30003)
        self.assertIn("unreachable", row["error_message"])
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"] if m["to"] == ANA]
        self.assertIn("unreachable", shown[0]["error_message"])
        self.consume()


class TestOptOut(MessagingTest):

    def texts_requested(self, phone):
        return [r for r in self.sim.requests_of("messages", "POST") if r.form.get("To") == phone]

    def test_every_opt_out_word_turns_texts_off_and_every_opt_in_word_back_on(self):
        words = ["STOP", "stopall", " Unsubscribe ", "CANCEL", "end", "Quit", "REVOKE", "optout", "OptOut."]
        again = ["START", "unstop", "Yes", "start", "UNSTOP", "yes", "Start", "START", "start"]
        for word, back in zip(words, again):
            with self.subTest(word=word):
                self.assertEqual(self.sim.incoming_sms(ANA, word), [])
                ana = self.person(self.ana)
                self.assertIs(ana["sms_opt_out"], True, word)
                self.assertEqual(ana["sms_opt_out_via"], word.strip().rstrip(".").upper())
                self.assertAlmostEqual(ana["sms_opt_out_at_unix"], self.plantao.now(), delta=30)
                self.assertEqual(self.sim.incoming_sms(ANA, back), [])
                ana = self.person(self.ana)
                self.assertIs(ana["sms_opt_out"], False, back)
                self.assertIsNone(ana["sms_opt_out_via"])
        # inside a sentence they are words like any other
        self.sim.incoming_sms(ANA, "please stop the alarm")
        self.assertIs(self.person(self.ana)["sms_opt_out"], False)

    def test_a_text_refused_with_21610_marks_the_person_and_calls_still_go_out(self):
        # Ana replied STOP to the team number while plantao was down: only Twilio knows. Her
        # phone rings until plantao has Twilio's refusal of the page text: were she to take the
        # alert first, its notice would go to her as well, as plantao could not know yet.
        refusal_known = threading.Event()
        self.addCleanup(refusal_known.set)
        self.sim.phone(ANA).opts_out().answers(digits="1", delay=refusal_known)
        first = self.trigger("db1 fora do ar")
        ana = wait_until(lambda: (lambda p: p if p["sms_opt_out"] else None)(self.person(self.ana)),
                         timeout=15, what="Ana marked opted out")
        self.assertEqual(ana["sms_opt_out_via"], "twilio_21610")
        refusal_known.set()
        self.sim.expect_call(ANA)  # the call goes out and she takes the alert
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % first)["status"] == "acknowledged",
                   timeout=20, what="alert acknowledged on the call")
        self.assertEqual(len(self.texts_requested(ANA)), 1)
        refused = self.outbox_row(ANA)
        self.assertEqual((refused["status"], refused["error_code"]), ("failed", 21610))
        self.assertIn("replied STOP", refused["error_message"])
        log = self.plantao.log_text()
        self.assertTrue([x for x in log.splitlines() if "21610" in x and "WARN" in x and "opted out" in x], log[-3000:])

        # the next alert: a call again, and no text is even attempted
        self.advance(16 * 60)  # past the per-phone limits
        second = self.trigger("db2 fora do ar")
        call = self.sim.expect_call(ANA, timeout=20)
        self.assertTrue(call.heard("db2 fora do ar"))
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % second)["status"] == "acknowledged",
                   timeout=20, what="second alert acknowledged")
        self.sim.wait_idle()
        self.assertEqual(len(self.texts_requested(ANA)), 1)
        self.consume()

    def test_a_page_text_waiting_when_the_person_texts_stop_is_not_sent_and_says_why(self):
        self.sim.phone(ANA).does_not_answer()
        first = self.trigger("fila travada", severity="warning")
        self.sim.expect_sms(ANA, containing="fila travada")
        second = self.trigger("fila travada de novo", severity="warning")
        # the second page text waits behind the per-phone gap; Ana texts STOP meanwhile
        wait_until(lambda: len([r for r in self.api_ok("GET", "/api/outbox")["outbox"]
                                if r["to"] == ANA and r["kind"] == "sms"]) == 2, what="second page text queued")
        self.assertEqual(self.sim.incoming_sms(ANA, "stop"), [])
        self.advance(61)
        held = wait_until(lambda: (lambda rows: rows[0] if rows and rows[0]["status"] != "pending"
                                   and rows[0]["status"] != "retry" else None)(
            [r for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["to"] == ANA and r["kind"] == "sms"]),
            timeout=15, what="the held text settled")
        self.assertEqual(held["status"], "canceled", held)
        self.assertIn("opted out", held["error_message"])
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % second)["timeline"]
                 if m["to"] == ANA and m["kind"] == "sms"]
        self.assertEqual(shown[0]["status"], "canceled")
        self.assertIn("opted out", shown[0]["error_message"])
        self.assertEqual(len(self.texts_requested(ANA)), 1)
        self.assertTrue(first)
        self.consume()


class WhatsAppTest(MessagingTest):
    plantao_env = {"TWILIO_WHATSAPP_FROM": WA_FROM}

    def setUp(self):
        super().setUp()
        self.api_ok("PATCH", "/api/people/%d" % self.ana, json={"whatsapp": True})

    def whatsapp_row(self, body_part):
        rows = [r for r in self.api_ok("GET", "/api/outbox")["outbox"]
                if r["kind"] == "whatsapp" and r["to"] == ANA and body_part in (r["body"] or "")]
        return rows[0] if rows else None

    def settled_whatsapp(self, body_part, status):
        return wait_until(lambda: (lambda r: r if r and r["status"] == status else None)(self.whatsapp_row(body_part)),
                          timeout=20, what="WhatsApp '%s' %s" % (body_part, status))


class TestWhatsAppWindow(WhatsAppTest):

    def test_start_up_says_what_fails_without_a_template(self):
        log = self.plantao.log_text()
        lines = [x for x in log.splitlines() if "TWILIO_WHATSAPP_TEMPLATE_SID" in x]
        self.assertTrue(lines, log[-2000:])
        self.assertIn("WARN", lines[0])
        self.assertIn("63016", lines[0])
        self.assertIn("24 hours", lines[0])

    def test_a_malformed_template_sid_stops_start_up_naming_it(self):
        env = dict(self.plantao.env, TWILIO_WHATSAPP_TEMPLATE_SID="HXnot-a-sid", PLANTAO_LISTEN="127.0.0.1:0")
        out = subprocess.run([self.plantao.binary, "serve"], env=env, cwd=self.plantao.tmp, capture_output=True,
                             text=True, timeout=20)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("TWILIO_WHATSAPP_TEMPLATE_SID", out.stdout + out.stderr)

    def test_free_form_inside_the_window_then_63016_when_it_has_closed(self):
        self.sim.incoming_sms("whatsapp:" + ANA, "bom dia", to=WA_FROM)  # Ana writes in
        wrote = self.person(self.ana)["whatsapp_inbound_at_unix"]
        self.assertAlmostEqual(wrote, self.plantao.now(), delta=30)
        self.trigger("cache frio", severity="warning")
        self.sim.expect_sms(ANA, containing="cache frio")
        self.advance(11)  # the WhatsApp copy waits the per-phone gap behind the text
        self.sim.expect_whatsapp(ANA, containing="cache frio")
        self.settled_whatsapp("cache frio", "delivered")

        self.advance(25 * 3600)  # the window closes: free-form is refused now
        aid = self.trigger("cache frio de novo", severity="warning")
        self.sim.expect_sms(ANA, containing="cache frio de novo", timeout=20)
        self.advance(11)
        self.sim.expect_whatsapp(ANA, containing="cache frio de novo", timeout=20)
        row = self.settled_whatsapp("cache frio de novo", "failed")
        self.assertEqual(row["error_code"], 63016)
        self.assertIn("24 hours", row["error_message"])
        shown = [m for m in self.api_ok("GET", "/api/alerts/%d" % aid)["timeline"] if m["kind"] == "whatsapp"]
        self.assertIn("24 hours", shown[0]["error_message"])
        self.assertTrue([x for x in self.plantao.log_text().splitlines() if "63016" in x and "WARN" in x])
        self.consume()

    def test_stop_on_whatsapp_stops_whatsapp_and_leaves_texts_alone(self):
        self.assertEqual(self.sim.incoming_sms("whatsapp:" + ANA, "STOP", to=WA_FROM), [])
        ana = self.person(self.ana)
        self.assertEqual((ana["whatsapp"], ana["sms_opt_out"]), (False, False))
        self.trigger("backup atrasado", severity="warning")
        self.sim.expect_sms(ANA, containing="backup atrasado")
        self.advance(11)
        self.sim.wait_idle()
        self.assertEqual([r for r in self.sim.requests_of("messages", "POST")
                          if r.form.get("To") == "whatsapp:" + ANA], [])
        self.assertEqual(self.sim.incoming_sms("whatsapp:" + ANA, "start", to=WA_FROM), [])
        self.assertIs(self.person(self.ana)["whatsapp"], True)
        self.consume()

    def test_failing_whatsapp_never_stops_the_text_and_the_call(self):
        # Ana never wrote to the WhatsApp number and there is no template: WhatsApp fails (63016)
        self.sim.phone(ANA).answers(digits="1", delay=8.0)  # she picks up after a while
        aid = self.trigger("pagamentos fora do ar")
        self.sim.expect_sms(ANA, containing="pagamentos fora do ar")
        self.advance(11)  # the WhatsApp copy waits the per-phone gap behind the text
        self.sim.expect_whatsapp(ANA, containing="pagamentos fora do ar")
        self.assertEqual(self.settled_whatsapp("pagamentos fora do ar", "failed")["error_code"], 63016)
        call = self.sim.expect_call(ANA, timeout=20)
        self.assertTrue(call.heard("pagamentos fora do ar"))
        wait_until(lambda: self.api_ok("GET", "/api/alerts/%d" % aid)["status"] == "acknowledged",
                   timeout=20, what="acknowledged on the call")
        wait_until(lambda: [r for r in self.api_ok("GET", "/api/outbox")["outbox"]
                            if r["kind"] == "sms" and r["to"] == ANA and "pagamentos fora do ar" in r["body"]
                            and r["status"] == "delivered"], timeout=20, what="the page text delivered")
        self.consume()


class TestWhatsAppTemplate(WhatsAppTest):
    plantao_env = {"TWILIO_WHATSAPP_FROM": WA_FROM, "TWILIO_WHATSAPP_TEMPLATE_SID": TEMPLATE}

    def setUp(self):
        super().setUp()
        self.sim.whatsapp_templates[TEMPLATE] = "Plantão: alerta {{1}}: {{2}}"

    def whatsapp_requests(self):
        return [r for r in self.sim.requests_of("messages", "POST") if r.form.get("To") == "whatsapp:" + ANA]

    def test_start_up_is_quiet_about_templates_when_one_is_set(self):
        self.assertNotIn("TWILIO_WHATSAPP_TEMPLATE_SID", self.plantao.log_text())

    def test_outside_the_window_pages_and_notices_go_as_the_template(self):
        self.sim.phone(ANA).answers(digits="1", delay=8.0)  # she picks up after a while
        aid = self.trigger("fila de pedidos\tparada      no db1")
        self.sim.expect_sms(ANA, containing="fila de pedidos")
        self.advance(11)  # the WhatsApp copy waits the per-phone gap behind the text
        msg = self.sim.expect_whatsapp(ANA, containing="Plantão: alerta %d: fila de pedidos parada no db1" % aid)
        self.assertEqual(msg.content_sid, TEMPLATE)
        req = self.whatsapp_requests()[0]
        self.assertNotIn("Body", req.form)
        self.assertEqual(json.loads(req.form["ContentVariables"]),
                         {"1": str(aid), "2": "fila de pedidos parada no db1"})
        self.settled_whatsapp("fila de pedidos", "delivered")
        # the acknowledgment notice goes as the template too, carrying its own text
        self.sim.expect_call(ANA, timeout=20)
        notice = self.sim.expect_whatsapp(ANA, containing="assumido por Ana", timeout=20)
        self.assertEqual(notice.content_sid, TEMPLATE)
        self.assertEqual(notice.content_variables["1"], str(aid))
        self.consume()

    def test_free_form_inside_the_window_and_the_template_once_it_closes(self):
        self.sim.incoming_sms("whatsapp:" + ANA, "oi", to=WA_FROM)  # Ana writes in: the window opens
        aid = self.trigger("cache frio", severity="warning")
        self.sim.expect_sms(ANA, containing="cache frio")
        self.advance(11)
        msg = self.sim.expect_whatsapp(ANA, containing="Alerta %d: cache frio" % aid)
        self.assertIsNone(getattr(msg, "content_sid", None))
        self.assertEqual(self.whatsapp_requests()[0].form.get("Body"), msg.body)
        self.settled_whatsapp("cache frio", "delivered")

        self.advance(25 * 3600)  # 25 hours later the window has closed
        aid2 = self.trigger("cache frio outra vez", severity="warning")
        self.sim.expect_sms(ANA, containing="cache frio outra vez", timeout=20)
        self.advance(11)
        later = self.sim.expect_whatsapp(ANA, containing="alerta %d: cache frio outra vez" % aid2, timeout=20)
        self.assertEqual(later.content_sid, TEMPLATE)
        self.settled_whatsapp("cache frio outra vez", "delivered")
        self.consume()


class TestSimulatorMessaging(SimTestCase):
    """The simulator answers these as Twilio does (the behaviour the tests above rely on)."""

    def test_a_text_to_someone_who_replied_stop_is_refused_with_21610(self):
        self.app.route("/twilio/sms", "<Response/>")
        self.sim.incoming_sms("+5511999990001", " stop ", to=FROM)
        status, body, _ = self.send_sms("+5511999990001")
        self.assertEqual((status, body["code"], body["status"]), (400, 21610, 400))
        self.assertIn("unsubscribed", body["message"])
        self.assertIn("more_info", body)
        self.sim.incoming_sms("+5511999990001", "START", to=FROM)
        self.assertEqual(self.send_sms("+5511999990001")[0], 201)

    def test_free_form_whatsapp_outside_the_window_is_accepted_then_fails_63016(self):
        status, body, _ = self.send_sms("whatsapp:+5511999990001", From="whatsapp:" + FROM)
        self.assertEqual((status, body["status"]), (201, "queued"))
        wait_until(lambda: [p for _, p, _ in self.app.requests_to("/status/message")
                            if p.get("MessageStatus") == "failed" and p.get("ErrorCode") == "63016"],
                   what="the 63016 callback")
        status, got, _ = self.rest("GET", "/Messages/%s.json" % body["sid"])
        self.assertEqual((got["status"], got["error_code"]), ("failed", 63016))

    def test_templates_go_anywhere_and_their_variables_are_checked(self):
        self.sim.whatsapp_templates[TEMPLATE] = "Alerta {{1}}: {{2}}"
        status, body, _ = self.send_sms("whatsapp:+5511999990001", body="", From="whatsapp:" + FROM,
                                        ContentSid=TEMPLATE, ContentVariables=json.dumps({"1": "7", "2": "disco"}))
        self.assertEqual(status, 201, body)
        self.assertEqual(body["body"], "Alerta 7: disco")
        self.assertEqual(self.send_sms("whatsapp:+5511999990001", body="", From="whatsapp:" + FROM,
                                       ContentSid="HX123")[1]["code"], 21655)
        self.assertEqual(self.send_sms("whatsapp:+5511999990001", body="", From="whatsapp:" + FROM,
                                       ContentSid=TEMPLATE, ContentVariables='{"1": "a\\nb"}')[1]["code"], 21656)
