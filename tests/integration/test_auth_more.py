"""
tests/integration/test_auth_more.py — the rest of sign-in and verification (issue 16), against
the real server and the Twilio simulator at the default configuration: a sign-in code goes
out with the pages, ahead of queued notices (PLANTAO_SMS_RATE's default pacing of 1 text a
second).
"""

import re

from harness import IntegrationTest

ANA = "+5511987654321"
NOTICE_TO = ["+55119700000%02d" % i for i in range(8)]


def code_of(msg):
    m = re.search(r"\b(\d{6})\b", msg.body)
    assert m, "no code in %r" % msg.body
    return m.group(1)


class AuthMoreTest(IntegrationTest):
    def person(self, name, phone, role="editor"):
        p = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)
        if role:
            self.api_ok("PUT", "/api/people/%d/role" % p["id"], json={"role": role})
        return p["id"]

    def ask_code(self, phone, headers=None):
        return self.api("POST", "/api/auth/code", json={"phone": phone}, headers=headers, token=None)


class TestCodePriority(AuthMoreTest):
    def test_code_asked_while_notices_wait_is_sent_before_them(self):
        self.person("Ana Souza", ANA)
        # Eight acknowledgment notices wait in the queue (as after an alert acknowledged by a
        # large chain); at the default 1 text a second they take eight seconds to drain.
        for i, to in enumerate(NOTICE_TO):
            self.plantao.db.execute(
                "INSERT INTO outbox (kind, class, priority, to_number, body, idem_key, owner_type, "
                "owner_id, next_at_ms, created_at, updated_at) "
                "VALUES ('sms', 'ack', 0, ?, ?, ?, 'alert', 1, 0, 0, 0)",
                (to, "Alerta 1 assumido por Bia.", "test-notice:%d" % i))
        status, _, _ = self.ask_code(ANA)
        self.assertEqual(status, 202)
        code_of(self.sim.expect_sms(ANA, "plantao", timeout=30))
        for to in NOTICE_TO:
            self.sim.expect_sms(to, "assumido", timeout=30)
        order = [m.to for m in self.sim.messages]
        # the code goes with the next free slot: at most the notices already taken before it
        # was asked (one or two at this pace) precede it, not the whole queue
        self.assertLessEqual(order.index(ANA), 2, order)
