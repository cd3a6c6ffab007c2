"""
tests/integration/test_voice_routes.py — every voice webhook answers TwiML, whatever it is sent.

The failure story: Twilio asks a voice route about a call or a leg plantao does not know (a
database restored from last night's backup, a call from before a reinstall, a URL typed by
hand in Twilio's console, an id cut by a proxy). plantao answered a JSON 404 (or 400, or 500),
Twilio turned it into "an application error has occurred" and hung up on the customer or on
the person being paged. Every /twilio/* voice route must answer 200 with TwiML that parses (as
strictly as Twilio: expat) and that still helps: a caller of the support line is offered
voicemail, a paged person hears what happened, a leg nobody knows is hung up cleanly.
"""

import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402

CUSTOMER, ANA = "+5511988887777", "+5511990000001"
UNKNOWN_SID = "CA" + "f" * 32


class VoiceRoutesAnswerTwimlTest(IntegrationTest):

    def params(self, **extra):
        p = {"CallSid": UNKNOWN_SID, "AccountSid": self.sim.account_sid, "From": CUSTOMER,
             "To": "+15005550006", "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        p.update(extra)
        return {k: v for k, v in p.items() if v is not None}

    def twiml(self, path, params):
        """Posts a signed webhook and returns the parsed <Response> (asserting 200 and text/xml)."""
        wh = self.plantao.webhook(path, params)
        self.assertEqual(wh.status, 200, "%s -> %s %s" % (path, wh.status, wh.body))
        ctype = wh.headers.get("content-type", "").split(";")[0].strip()
        self.assertEqual(ctype, "text/xml", "%s: %r" % (path, wh.headers))
        root = ET.fromstring(wh.body.encode("utf-8"))  # expat, as strict as Twilio
        self.assertEqual(root.tag, "Response", "%s: %s" % (path, wh.body))
        return root

    def said(self, root):
        return " ".join(" ".join("".join(s.itertext()).split()) for s in root.iter("Say"))

    def assert_offers_voicemail(self, path, root):
        rec = root.find(".//Record")
        self.assertIsNotNone(rec, "%s offers no voicemail: %s" % (path, ET.tostring(root)))
        self.assertTrue(rec.get("action", "").endswith("/twilio/voice/voicemail"), rec.attrib)
        self.assertTrue(self.said(root), "%s says nothing to the caller" % path)

    def test_every_voice_route_with_broken_ids_and_params_answers_twiml(self):
        # the caller of the support line: offered voicemail on every path
        caller_side = [
            ("/twilio/voice", self.params(CallSid=None)),
            ("/twilio/voice/dial-status/999/0", self.params(DialCallStatus="no-answer")),
            ("/twilio/voice/dial-status/abc/0", self.params(DialCallStatus="no-answer")),
            ("/twilio/voice/dial-status/1/x", self.params(DialCallStatus="busy")),
            ("/twilio/voice/dial-status/1/99999999999999999999", self.params(DialCallStatus="busy")),
            ("/twilio/voice/dial-status", self.params(DialCallStatus="no-answer")),
            ("/twilio/voice/dial-status", self.params(CallSid=None)),
        ]
        for path, params in caller_side:
            with self.subTest(path=path):
                self.assert_offers_voicemail(path, self.twiml(path, params))

        # the leg of a person being dialled: hung up cleanly (the customer's <Dial> moves on)
        for path, digits in [("/twilio/voice/whisper/999/0", None), ("/twilio/voice/whisper/abc/-1", None),
                             ("/twilio/voice/whisper/999/0/accept", "1"), ("/twilio/voice/whisper/x/y/accept", "1")]:
            with self.subTest(path=path):
                root = self.twiml(path, self.params(Digits=digits, ParentCallSid=UNKNOWN_SID))
                self.assertIsNotNone(root.find("Hangup"), ET.tostring(root))
                self.assertIsNone(root.find(".//Dial"))

        # the person being paged: told what happened, in words
        for path, digits in [("/twilio/alert-call/999", None), ("/twilio/alert-call/abc", None),
                             ("/twilio/alert-call/0", None), ("/twilio/alert-call/999/gather", "1"),
                             ("/twilio/alert-call/abc/gather", "*"), ("/twilio/alert-call/-5/gather", "2"),
                             ("/twilio/alert-call/999/machine", None), ("/twilio/alert-call/x/machine", None)]:
            with self.subTest(path=path):
                root = self.twiml(path, self.params(Digits=digits, Direction="outbound-api"))
                self.assertIn("plantão", self.said(root), ET.tostring(root))
                self.assertIsNotNone(root.find("Hangup"))

        # the answering-machine callback of an unknown call: an empty document, nothing queued
        for answered_by in ("machine_end_beep", None):
            root = self.twiml("/twilio/alert-call/999/amd", self.params(AnsweredBy=answered_by))
            self.assertEqual(len(root), 0, ET.tostring(root))

        # the end of a voicemail and its transcription: never an error for Twilio
        self.twiml("/twilio/voice/voicemail", self.params(CallSid=None, RecordingUrl="https://x/r"))
        self.twiml("/twilio/voice/transcription", self.params(CallSid=None, TranscriptionText="oi"))

        # a voice URL typed wrong in Twilio's console (trailing slash, a stray segment)
        for path in ["/twilio/voice/", "/twilio/voice/nonsense"]:
            with self.subTest(path=path):
                self.assert_offers_voicemail(path, self.twiml(path, self.params()))
        root = self.twiml("/twilio/alert-call/1/2/3", self.params())
        self.assertIn("plantão", self.said(root), ET.tostring(root))

        # a forged signature is still refused and changes nothing
        wh = self.plantao.webhook("/twilio/voice", self.params(), signature="forged")
        self.assertEqual(wh.status, 403)

    def test_voicemail_offered_for_an_unknown_call_reaches_the_person_on_call(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 168})
        root = self.twiml("/twilio/voice/dial-status/4242/0", self.params(DialCallStatus="no-answer"))
        action = root.find(".//Record").get("action")
        path = action[action.index("/twilio/"):]
        rec = "https://api.twilio.com/2010-04-01/Accounts/%s/Recordings/RE%s" % (self.sim.account_sid, "1" * 32)
        self.twiml(path, self.params(RecordingUrl=rec, RecordingSid="RE" + "1" * 32, RecordingDuration="9"))
        sms = self.sim.expect_sms(ANA, containing=rec, timeout=15)
        self.assertIn(CUSTOMER, sms.body)


class TranscriptionLimitTest(IntegrationTest):
    """Twilio transcribes only recordings shorter than 120 s (warning 13617 otherwise, billed all
    the same): with a longer voicemail limit plantao records without asking for a transcript."""

    plantao_env = {"PLANTAO_LANG": "en", "PLANTAO_VOICEMAIL_MAX": "300"}

    def record_verb(self, call):
        for wh in call.webhooks:
            if "<Record" in (wh.body or ""):
                return ET.fromstring(wh.body.encode("utf-8")).find(".//Record")
        self.fail("no <Record> in %r" % call.webhooks)

    def test_a_long_voicemail_limit_records_without_transcription(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": ANA}, expect=201)["id"]
        self.api_ok("PUT", "/api/rotation", json={"members": [ana], "shift_hours": 168})
        self.sim.phone(ANA).does_not_answer()
        call = self.sim.incoming_call(CUSTOMER, record_seconds=200, transcription="my server is down")
        rec = self.record_verb(call)
        self.assertEqual(rec.get("maxLength"), "300")
        self.assertIsNone(rec.get("transcribe"), rec.attrib)
        self.assertFalse(call.transcription_requested)
        self.assertEqual(self.sim.expect_call(ANA).status, "no-answer")
        sms = self.sim.expect_sms(ANA, containing="voicemail from %s (200 s)" % CUSTOMER, timeout=15)
        self.assertIn("/Recordings/", sms.body)
        vm = self.api_ok("GET", "/api/calls")["calls"][0]["voicemail"]
        self.assertEqual(vm["duration_s"], 200, vm)

    def test_a_short_voicemail_limit_is_transcribed(self):
        self.plantao.stop()
        self.plantao.env["PLANTAO_VOICEMAIL_MAX"] = "90"
        self.plantao.start()
        call = self.sim.incoming_call(CUSTOMER, record_seconds=40, transcription="my server is down")
        rec = self.record_verb(call)
        self.assertEqual((rec.get("maxLength"), rec.get("transcribe")), ("90", "true"))
        vm = self.api_ok("GET", "/api/calls")["calls"][0]["voicemail"]
        self.assertEqual(vm["transcription"], "my server is down")
