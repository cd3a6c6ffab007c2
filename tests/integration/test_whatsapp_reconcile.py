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
from test_messaging import ANA, TEMPLATE, WA_FROM, WhatsAppTest  # noqa: E402

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
