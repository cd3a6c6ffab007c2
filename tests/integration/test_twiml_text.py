"""
tests/integration/test_twiml_text.py — any text plantao accepted can be spoken and texted.

The failure story: an alert summary (or a person's name) holds a character XML 1.0 forbids —
U+FFFF or U+FFFE from a JSON "\\uffff" escape, a control character — or a name long enough
that a message cut inside one of its characters. The API took it, but the TwiML builder
refused the text, the alert-call webhook answered 400 and Twilio played "an application error
has occurred" to the person being paged, who could not acknowledge. These tests run at the
default configuration and check what the phone heard, what the simulator parsed (expat, like
Twilio, rejects U+FFFF) and what texts arrived.
"""

import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, wait_until  # noqa: E402

ANA, BRUNO = "+5511990000001", "+5511990000002"
# U+FFFF and U+FFFE are not XML 1.0 characters; BEL and ESC are control characters.
NAME = "Ana\uffff Souza\ufffe"
SUMMARY = "disk\uffff full on db1\ufffe now \u0007\u001b[31m red"
# 200 characters (the name limit), 4 bytes each in UTF-8: any fixed-size message that quotes
# it is cut inside a character.
LONG_NAME = "Ana " + "\U0001F4DF" * 196


def has_no_controls(s):
    """No control character but tab/newline/CR, no surrogate (a phone shows the rest)."""
    return not any((ord(ch) < 0x20 and ch not in "\t\n\r") or 0x7F <= ord(ch) <= 0x9F or 0xD800 <= ord(ch) <= 0xDFFF
                   for ch in s)


def is_speakable(s):
    """What may stand in spoken TwiML: no control character, nothing XML 1.0 forbids."""
    return has_no_controls(s) and "\ufffe" not in s and "\uffff" not in s


class TwimlTextTest(IntegrationTest):

    def person(self, name, phone):
        return self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"]

    def oncall(self, members):
        self.api_ok("PUT", "/api/rotation", json={"members": members, "shift_hours": 168})

    def attempt_twiml(self, attempt_id):
        """Fetches the alert-call TwiML of an attempt as Twilio would (signed) and parses it."""
        wh = self.plantao.webhook("/twilio/alert-call/%d" % attempt_id,
                                  {"CallSid": "CA" + "0" * 32, "CallStatus": "in-progress", "From": "+15005550006",
                                   "To": ANA, "AccountSid": self.sim.account_sid, "Direction": "outbound-api"})
        self.assertEqual(wh.status, 200, wh.body)
        self.assertTrue(wh.headers.get("content-type", "").startswith("text/xml"), wh.headers)
        root = ET.fromstring(wh.body.encode("utf-8"))  # expat: as strict as Twilio
        self.assertEqual(root.tag, "Response")
        return [" ".join("".join(s.itertext()).split()) for s in root.iter("Say")]

    def test_summary_and_name_with_forbidden_characters_are_spoken_and_texted(self):
        # a name is refused at the door (it would reach every text as boxes); a summary is not:
        # monitoring tools send what they send, and the page must still go out
        status, body, _ = self.api("POST", "/api/people", json={"name": NAME, "phone": ANA})
        self.assertEqual(status, 422, body)
        self.assertTrue(body["error"]["message"].startswith("name:"), body)
        ana = self.person("Ana Souza", ANA)
        bruno = self.person("Bruno", BRUNO)
        self.oncall([ana, bruno])
        self.sim.phone(ANA).answers(digits="1")
        status, a, _ = self.api("POST", "/api/alerts", json={"summary": SUMMARY, "severity": "critical"})
        self.assertEqual(status, 202, a)
        aid = a["id"]

        sms = self.sim.expect_sms(ANA, containing="Alerta %d:" % aid)
        self.assertIn("full on db1", sms.body)
        self.assertIn("red", sms.body)
        self.assertTrue(has_no_controls(sms.body), repr(sms.body))
        # the noncharacters reach the phone as the replacement character, never as themselves
        self.assertTrue(is_speakable(sms.body), repr(sms.body))
        self.assertIn("disk\ufffd full", sms.body)

        call = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(call.errors, [], call.transcript)
        self.assertTrue(call.heard("full on db1"), call.says)
        self.assertTrue(call.heard("Pressione 1"), call.says)
        self.assertEqual(call.pressed, "1")
        alert = wait_until(lambda: (lambda b: b if b["status"] == "acknowledged" else None)(
            self.api_ok("GET", "/api/alerts/%d" % aid)), timeout=15, what="the alert acknowledged")
        for s in call.says:
            self.assertTrue(is_speakable(s), repr(s))

        # a call that reaches someone after the alert was taken names who took it
        says = self.attempt_twiml(alert["attempts"][0]["id"])
        self.assertTrue(any("assumido por Ana" in s and "Souza" in s for s in says), says)

        # the acknowledgment notice and the SMS commands quote the name
        notice = self.sim.expect_sms(ANA, containing="Alerta %d assumido por Ana" % aid, timeout=30)
        self.assertIn("Souza", notice.body)
        # whether the rest of the team is texted up front is the escalation policy's business:
        # such texts are consumed here, not required
        self.sim.wait_idle()
        with self.sim._lock:
            for m in self.sim.messages:
                if m.to == BRUNO and "Alerta %d" % aid in m.body:
                    m.consumed = True
        replies = self.sim.incoming_sms(BRUNO, "ack %d" % aid)
        self.assertEqual(len(replies), 1, replies)
        self.assertIn("assumido por Ana", replies[0])
        self.assertIn("Souza", replies[0])
        replies = self.sim.incoming_sms(BRUNO, "quem")
        self.assertEqual(len(replies), 1, replies)
        self.assertIn("De plantão: Ana", replies[0])
        for r in replies:
            self.assertTrue(is_speakable(r), repr(r))

    def test_a_name_cut_inside_a_character_is_still_spoken(self):
        ana = self.person(LONG_NAME, ANA)
        self.oncall([ana])
        self.sim.phone(ANA).answers(digits="1")
        aid = self.api_ok("POST", "/api/alerts", json={"summary": "db1 down", "severity": "critical"})["id"]
        self.sim.expect_sms(ANA, containing="Alerta %d:" % aid)
        call = self.sim.expect_call(ANA, timeout=30)
        self.assertEqual(call.errors, [], call.transcript)
        self.assertEqual(call.pressed, "1")
        alert = wait_until(lambda: (lambda b: b if b["status"] == "acknowledged" else None)(
            self.api_ok("GET", "/api/alerts/%d" % aid)), timeout=15, what="the alert acknowledged")
        self.sim.expect_sms(ANA, containing="Alerta %d assumido" % aid, timeout=30)
        says = self.attempt_twiml(alert["attempts"][0]["id"])
        self.assertTrue(any(s.startswith("O alerta %d já foi assumido por Ana \U0001F4DF" % aid) for s in says), says)

    def test_a_lone_surrogate_is_refused_at_intake(self):
        """JSON can spell a lone surrogate (\\ud800); it is no text, so intake refuses it and
        nothing reaches a phone."""
        status, body, _ = self.api("POST", "/api/alerts", data=b'{"summary": "disk \\ud800 full"}',
                                   headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        status, body, _ = self.api("POST", "/api/alerts", data=b"disk \xed\xa0\x80 full",
                                   headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 400, body)
        self.sim.assert_quiet(0.5)


if __name__ == "__main__":
    unittest.main()
