"""
tests/integration/test_whatsapp_reconcile.py — a WhatsApp page sent as the approved template
(TWILIO_WHATSAPP_TEMPLATE_SID) whose answer is lost reaches the phone exactly once (issue 12,
item 1), at the DEFAULT configuration against the simulator.

Twilio's Message resource carries the rendered template as its body, never the text plantao
keeps for the row: the interrupted send is found at Twilio by To, From and the time it was
made, not by the row's text.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import wait_until  # noqa: E402
from test_messaging import ANA, BRUNO, TEMPLATE, WA_FROM, WhatsAppTest  # noqa: E402

LOOKUP_DELAY = 12  # seconds: the create's own deadline (10 s) plus the margin, in plantao's clock


class TestTemplateLostAnswer(WhatsAppTest):
    plantao_env = {"TWILIO_WHATSAPP_FROM": WA_FROM, "TWILIO_WHATSAPP_TEMPLATE_SID": TEMPLATE}

    def setUp(self):
        super().setUp()
        self.sim.whatsapp_templates[TEMPLATE] = "Plantão: alerta {{1}}: {{2}}"

    def whatsapp_at_sim(self):
        with self.sim._lock:
            return [m for m in self.sim.messages if m.to == "whatsapp:" + ANA]

    def test_a_template_page_whose_answer_is_lost_goes_once(self):
        """Ana never wrote to the WhatsApp number: her page goes as the template. Twilio creates
        it but the answer never arrives; plantao looks it up, finds it (its body is the rendered
        template) and records its SID instead of sending it again."""
        aid = self.trigger("fila de pedidos parada", severity="warning")
        self.sim.expect_sms(ANA, containing="fila de pedidos parada")
        self.sim.expect_sms(BRUNO, containing="fila de pedidos parada")  # Bruno, next, is texted too
        wait_until(lambda: all(r["sid"] for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["kind"] == "sms"),
                   timeout=20, what="both page texts answered")
        self.sim.lose_response_next("messages")  # the WhatsApp copy's create, next
        self.advance(11)  # the WhatsApp copy waits the per-phone gap behind the text
        msg = self.sim.expect_whatsapp(ANA, containing="Plantão: alerta %d: fila de pedidos parada" % aid)
        self.assertEqual(msg.content_sid, TEMPLATE)
        self.advance(LOOKUP_DELAY + 2)  # past the create's deadline: the row is looked up at Twilio
        row = wait_until(lambda: (lambda r: r if r and r["sid"] else None)(self.whatsapp_row("fila de pedidos")),
                         timeout=20, what="the WhatsApp row settled with the SID Twilio has")
        self.assertEqual(row["sid"], msg.sid)
        self.advance(60)  # any resend would be due by now
        self.sim.wait_idle()
        sent = self.whatsapp_at_sim()
        self.assertEqual([m.sid for m in sent], [msg.sid], [m.body for m in sent])
        self.assertIn("found at Twilio as %s" % msg.sid, self.plantao.log_text())
        self.consume()

    def queue_whatsapp(self, *bodies):
        from test_paging_faults import queue
        return [queue(self.plantao, kind="whatsapp", klass="support", to=ANA, body=b, key="wr:" + b + ":%d")[0]
                for b in bodies]

    def outbox(self, rid):
        return [r for r in self.api_ok("GET", "/api/outbox")["outbox"] if r["id"] == rid][0]

    def test_look_alike_template_messages_both_created_each_take_one(self):
        """Two WhatsApp notices to Ana go as the template and both answers are lost; Twilio has
        both. Each row takes one of them (the oldest row the oldest message): none is sent again."""
        self.sim.whatsapp_templates[TEMPLATE] = "Plantão {{1}}: {{2}}. Responda pelo painel."
        self.sim.lose_response_next("messages", count=2)
        w1, w2 = self.queue_whatsapp("Aviso um", "Aviso dois")
        wait_until(lambda: len(self.whatsapp_at_sim()) == 2, timeout=20, what="both creates")
        self.advance(LOOKUP_DELAY + 2)
        wait_until(lambda: self.outbox(w1)["sid"] and self.outbox(w2)["sid"], timeout=20, what="both rows settled")
        self.advance(60)
        self.sim.wait_idle()
        sent = self.whatsapp_at_sim()
        self.assertEqual(len(sent), 2, [m.body for m in sent])
        self.assertEqual({self.outbox(w1)["sid"], self.outbox(w2)["sid"]}, {m.sid for m in sent})
        self.consume()

    def test_look_alike_template_messages_that_cannot_be_told_apart_are_reported(self):
        """Two WhatsApp notices of different texts to Ana go as the template; the first's answer is
        lost, the second gets a 500. Twilio has one message whose body is the rendered template:
        which row it belongs to is unknowable, so both are undecided and neither is sent again."""
        self.sim.lose_response_next("messages")
        self.sim.fail_next("messages", 500)
        w1, w2 = self.queue_whatsapp("Aviso um", "Aviso dois")
        wait_until(lambda: len([r for r in self.sim.requests_of("messages", "POST")
                                if r.form.get("To") == "whatsapp:" + ANA]) == 2, timeout=20, what="both creates")
        self.advance(LOOKUP_DELAY + 2)
        wait_until(lambda: {self.outbox(w1)["status"], self.outbox(w2)["status"]} == {"undecided"},
                   timeout=20, what="both rows undecided")
        self.advance(60)
        self.sim.wait_idle()
        self.assertEqual(len(self.whatsapp_at_sim()), 1)
        self.assertIn("cannot tell which", self.outbox(w1)["error_message"])
        self.consume()
