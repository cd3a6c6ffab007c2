"""
tests/integration/test_twilio_setup.py — the Twilio number from the command line (issue 14, items 2
and 3): `plantao twilio check` and `setup` against the simulator's Accounts and IncomingPhoneNumbers
resources, and the support line's fallback TwiML (GET /twilio/fallback.xml, `plantao twilio
fallback`) that dials the on-call chain when plantao cannot answer. Defaults everywhere; the clock is
moved, never slept on.
"""

import os
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

from harness import TWILIO_FROM, IntegrationTest, wait_until
from twilio_sim import signature

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
SETUP_FIELDS = ["VoiceUrl", "VoiceMethod", "SmsUrl", "SmsMethod", "StatusCallback", "StatusCallbackMethod",
                "VoiceFallbackUrl", "VoiceFallbackMethod"]


class TwilioCli(IntegrationTest):
    """Helpers: run `plantao twilio …` with the server's own configuration."""

    def cli(self, *args, env=None, timeout=60):
        e = dict(self.plantao.env)
        e.update(env or {})
        p = subprocess.run([self.plantao.binary, "twilio"] + list(args), cwd=self.plantao.tmp, env=e,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def lines(self, out, word):
        return [ln for ln in out.splitlines() if ln.startswith(word + " ")]


class TestTwilioCheck(TwilioCli):
    def test_wrong_credentials_fail_naming_20003(self):
        status, out, err = self.cli("check", env={"TWILIO_AUTH_TOKEN": "0" * 32})
        self.assertEqual(status, 1, out + err)
        fails = self.lines(out, "FAIL")
        self.assertEqual(len(fails), 1, out)
        self.assertIn("credentials", fails[0])
        self.assertIn("20003", fails[0])
        self.assertIn("TWILIO_AUTH_TOKEN", fails[0])
        # nothing else was asked with credentials that do not work, and nothing was changed
        self.assertEqual(self.sim.requests_of("incoming_numbers_list"), [])
        self.assertEqual(self.sim.requests_of("incoming_number_update"), [])

    def test_number_of_another_account_and_missing_capability(self):
        self.sim.remove_incoming_number(TWILIO_FROM)
        status, out, _ = self.cli("check")
        self.assertEqual(status, 1, out)
        self.assertTrue(any("TWILIO_FROM" in ln and "is not a number of account" in ln
                            for ln in self.lines(out, "FAIL")), out)
        self.sim.incoming_number(TWILIO_FROM, capabilities={"fax": False, "mms": False, "sms": False, "voice": True})
        status, out, _ = self.cli("check")
        self.assertEqual(status, 1, out)
        self.assertTrue(any(ln.startswith("FAIL sms capability") for ln in out.splitlines()), out)
        self.assertTrue(any(ln.startswith("OK   voice capability") for ln in out.splitlines()), out)

    def test_webhooks_pointing_elsewhere_fail_naming_the_url(self):
        # a freshly bought number still points at Twilio's demo; someone set the SMS URL by hand
        self.sim.incoming_number(TWILIO_FROM, sms_url="https://old-vm.example.com/twilio/sms")
        status, out, _ = self.cli("check")
        self.assertEqual(status, 1, out)
        fails = self.lines(out, "FAIL")
        voice = [ln for ln in fails if ln.startswith("FAIL voice webhook")]
        sms = [ln for ln in fails if ln.startswith("FAIL SMS webhook")]
        self.assertEqual(len(voice), 1, out)
        self.assertIn("https://demo.twilio.com/welcome/voice/", voice[0])
        self.assertIn(self.plantao.url + "/twilio/voice", voice[0])
        self.assertIn("https://old-vm.example.com/twilio/sms", sms[0])
        self.assertTrue(any(ln.startswith("FAIL status callback") for ln in fails), out)
        self.assertTrue(any(ln.startswith("FAIL voice fallback") for ln in fails), out)
        self.assertTrue(any(ln.startswith("OK   credentials") for ln in out.splitlines()), out)

    def test_setup_then_check_is_all_ok(self):
        status, out, err = self.cli("setup")
        self.assertEqual(status, 0, out + err)
        updates = self.sim.number_updates()
        self.assertEqual(len(updates), 1, updates)
        self.assertEqual([k for k, _ in updates[0]], SETUP_FIELDS)
        base = self.plantao.url
        self.assertEqual(dict(updates[0]), {
            "VoiceUrl": base + "/twilio/voice", "VoiceMethod": "POST",
            "SmsUrl": base + "/twilio/sms", "SmsMethod": "POST",
            "StatusCallback": base + "/twilio/status/call", "StatusCallbackMethod": "POST",
            "VoiceFallbackUrl": base + "/twilio/fallback.xml", "VoiceFallbackMethod": "GET"})
        number = self.sim.incoming_number(TWILIO_FROM)
        self.assertEqual(number["voice_url"], base + "/twilio/voice")
        self.assertEqual(number["voice_fallback_method"], "GET")

        status, out, _ = self.cli("check")
        self.assertEqual(status, 0, out)
        self.assertEqual(self.lines(out, "FAIL"), [], out)
        for what in ("credentials", "TWILIO_FROM", "voice capability", "sms capability", "voice webhook",
                     "SMS webhook", "status callback", "voice fallback"):
            self.assertTrue(any(ln.startswith("OK") and (" %s:" % what) in ln for ln in out.splitlines()),
                            "%s not OK:\n%s" % (what, out))
        # the fallback on plantao's own host is a warning: it does not answer when the VM is down
        self.assertTrue(any("voice fallback" in ln for ln in self.lines(out, "WARN")), out)
        self.assertEqual(len(self.sim.number_updates()), 1)  # check changes nothing

    def test_fallback_upload_points_the_number_at_the_static_host(self):
        status, _, err = self.cli("fallback", "--upload")
        self.assertEqual(status, 2)
        self.assertIn("TwiML Bin", err)
        self.assertIn("PLANTAO_FALLBACK_URL", err)
        self.assertEqual(self.sim.requests_of("incoming_number_update"), [])

        static = "https://static.example.com/plantao/fallback.xml"
        status, out, err = self.cli("fallback", "--upload", env={"PLANTAO_FALLBACK_URL": static})
        self.assertEqual(self.sim.number_updates(),
                         [[("VoiceFallbackUrl", static), ("VoiceFallbackMethod", "GET")]])
        self.assertTrue(any(ln.startswith("OK   voice fallback") and static in ln for ln in out.splitlines()),
                        out + err)
        self.assertEqual(self.sim.incoming_number(TWILIO_FROM)["voice_url"], "https://demo.twilio.com/welcome/voice/")
        self.assertEqual(status, 1, out)  # the voice and SMS webhooks were not set by --upload


class TestFallbackTwiml(TwilioCli):
    def people(self, *specs):
        return [self.api_ok("POST", "/api/people", json={"name": n, "phone": p}, expect=201)["id"]
                for n, p in specs]

    def iso_local(self, offset_s, tz_hours=-3):
        t = self.plantao.now() + offset_s + tz_hours * 3600
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "%+03d:00" % tz_hours

    def get_fallback(self, signed=True):
        """GET /twilio/fallback.xml as Twilio fetches a voice fallback URL with GET: the call's
        parameters in the query string, signed over the whole URL."""
        url = self.plantao.url + "/twilio/fallback.xml?AccountSid=%s&CallSid=CA%s&ErrorCode=11200" % (
            self.sim.account_sid, "1" * 32)
        req = urllib.request.Request(url)
        if signed:
            req.add_header("X-Twilio-Signature", signature(self.sim.auth_token, url))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def dialled(self, body):
        root = ET.fromstring(body)
        self.assertEqual(root.tag, "Response")
        return [d.find("Number").text for d in root.findall("Dial")]

    def assert_static(self, body):
        """Valid TwiML that needs nothing from plantao: no callbacks, no Record, ends hung up."""
        root = ET.fromstring(body)
        verbs = [c.tag for c in root]
        self.assertEqual(verbs[0], "Say")
        self.assertEqual(verbs[-2:], ["Say", "Hangup"])
        self.assertNotIn("Record", verbs)
        self.assertNotIn("Redirect", verbs)
        self.assertNotIn("Gather", verbs)
        for d in root.findall("Dial"):
            self.assertEqual(d.get("timeout"), "20")
            self.assertIsNone(d.get("action"))
            self.assertEqual(len(d.findall("Number")), 1)
            self.assertIsNone(d.find("Number").get("url"))
        for s in root.findall("Say"):
            self.assertEqual(s.get("language"), "pt-BR")

    def test_fallback_dials_the_chain_and_follows_the_handoff(self):
        ana, bruno, carla = self.people(("Ana", ANA), ("Bruno", BRUNO), ("Carla", CARLA))
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bruno, carla], "shift_hours": 24,
                                                  "handoff": self.iso_local(-1800)[:16]})
        self.advance(60)

        # Twilio signs its requests to fallback URLs too; the document names the team's phones
        status, _, _ = self.get_fallback(signed=False)
        self.assertEqual(status, 403)
        status, ctype, body = wait_until(lambda: (lambda r: r if r[0] == 200 and ANA in r[2] else None)(
            self.get_fallback()), timeout=20, what="the fallback TwiML")
        self.assertTrue(ctype.startswith("text/xml"), ctype)
        self.assertEqual(self.dialled(body), [ANA, BRUNO, CARLA])
        self.assert_static(body)

        # the command writes the same document for a static host
        path = os.path.join(self.plantao.tmp, "site", "fallback.xml")
        os.makedirs(os.path.dirname(path))
        status, out, err = self.cli("fallback", "--file", path)
        self.assertEqual(status, 0, out + err)
        with open(path) as f:
            self.assertEqual(f.read(), body)

        # the shift passes to Bruno: the engine rebuilds it within its interval
        self.advance(24 * 3600)
        self.sim.expect_sms(BRUNO, "você está de plantão desde", timeout=30)
        self.sim.expect_sms(ANA, "seu plantão terminou", timeout=30)
        body = wait_until(lambda: (lambda r: r[2] if self.dialled(r[2])[0] == BRUNO else None)(self.get_fallback()),
                          timeout=30, what="the fallback to dial Bruno first")
        self.assertEqual(self.dialled(body), [BRUNO, CARLA, ANA])
        self.assertEqual(self.plantao.db.scalar("SELECT chain FROM twilio_fallback"), " ".join([BRUNO, CARLA, ANA]))

        # the rotation can no longer be computed (emptied by mistake): the last document stays
        self.plantao.db.execute("DELETE FROM rotation_members")
        self.advance(120)
        time.sleep(1.0)
        self.assertEqual(self.get_fallback()[2], body)
        status, out, err = self.cli("fallback", "--file", path)
        self.assertEqual(status, 0, out + err)
        with open(path) as f:
            self.assertEqual(f.read(), body)
