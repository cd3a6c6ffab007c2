"""
tests/integration/test_auth_more.py — the rest of sign-in and verification (issue 16), against
the real server and the Twilio simulator at the default configuration: a sign-in code goes
out with the pages, ahead of queued notices (PLANTAO_SMS_RATE's default pacing of 1 text a
second); POST /api/auth/code and /api/auth/verify limited per client address; an alert acknowledged through a session names the person; /healthz?verbose lists the unverified people by id; the weekly hand-off text
to an unverified phone and the SMS help ask for VERIFICAR.
"""

import http.client
import json
import re
import time

from harness import IntegrationTest

ANA = "+5511987654321"
BIA = "+5511912345678"
NOTICE_TO = ["+55119700000%02d" % i for i in range(8)]


def code_of(msg):
    m = re.search(r"\b(\d{6})\b", msg.body)
    assert m, "no code in %r" % msg.body
    return m.group(1)


class Client:
    """A keep-alive HTTP/1.1 client bound to one loopback source address."""

    def __init__(self, plantao, source="127.0.0.1"):
        self.conn = http.client.HTTPConnection("127.0.0.1", plantao.port, timeout=10,
                                               source_address=(source, 0))

    def post(self, path, body):
        self.conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return r.status, data, {k.lower(): v for k, v in r.getheaders()}

    def close(self):
        self.conn.close()


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


class TestSessionActs(AuthMoreTest):
    def test_ack_by_cookie_names_the_signed_in_person(self):
        ana = self.person("Ana Souza", ANA)
        self.assertEqual(self.ask_code(ANA)[0], 202)
        code = code_of(self.sim.expect_sms(ANA, "plantao"))
        status, body, headers = self.api("POST", "/api/auth/verify", json={"phone": ANA, "code": code}, token=None)
        self.assertEqual(status, 200, body)
        secret = re.match(r"plantao_session=([^;]*)", headers["set-cookie"]).group(1)
        status, alert, _ = self.api("POST", "/api/alerts", json={"summary": "disk full"})
        self.assertEqual(status, 202, alert)
        aid = alert["id"]
        # the console acknowledges with the cookie and no person_id in the body
        status, out, _ = self.api("POST", "/api/alerts/%d/ack" % aid, json={}, token=None,
                                  headers={"Cookie": "plantao_session=" + secret, "X-Plantao-CSRF": "1"})
        self.assertEqual(status, 200, out)
        got = self.api_ok("GET", "/api/alerts/%d" % aid)
        self.assertEqual(got["status"], "acknowledged")
        self.assertEqual(got["acked_by"], ana)
        self.assertEqual(got["acked_by_name"], "Ana Souza")
        # a token (a machine) still acknowledges as nobody in particular
        status, alert, _ = self.api("POST", "/api/alerts", json={"summary": "cpu hot"})
        self.api_ok("POST", "/api/alerts/%d/ack" % alert["id"], json={})
        self.assertIsNone(self.api_ok("GET", "/api/alerts/%d" % alert["id"])["acked_by"])


class TestAddressLimit(AuthMoreTest):
    """PLANTAO_API_RATE at its default (50/s, burst 100), charged per address."""

    def flood(self, client, path, body_of, limit=3000):
        statuses, limited = [], None
        t0 = time.monotonic()
        for i in range(limit):
            status, body, headers = client.post(path, body_of(i))
            statuses.append(status)
            if status == 429 and limited is None:
                limited = (body, headers)
            if limited and len(statuses) >= 400:
                break
        return statuses, limited, time.monotonic() - t0

    def test_code_flood_from_one_address_is_limited_and_the_table_stays_bounded(self):
        flooder = Client(self.plantao)
        self.addCleanup(flooder.close)
        # a different unknown phone each time: every accepted request records a code
        statuses, limited, took = self.flood(flooder, "/api/auth/code",
                                             lambda i: {"phone": "+55119%08d" % i})
        self.assertTrue(429 in statuses, "no 429 in %d requests (%.1fs)" % (len(statuses), took))
        body, headers = limited
        self.assertEqual(headers.get("retry-after"), "1")
        self.assertIn("sign-in requests from this address", json.loads(body)["error"]["message"])
        accepted = statuses.count(202)
        self.assertEqual(set(statuses), {202, 429})
        # refused requests cost nothing: the table holds the accepted ones only, which the
        # address's bucket bounds (burst 100 + 50 a second)
        rows = self.plantao.db.scalar("SELECT count(*) FROM otp_codes")
        self.assertEqual(rows, accepted)
        self.assertLessEqual(accepted, 100 + 50 * took + 10)
        # another address is not affected, even right after the flood
        other = Client(self.plantao, "127.0.0.3")
        self.addCleanup(other.close)
        self.assertEqual(other.post("/api/auth/code", {"phone": ANA})[0], 202)
        self.assertEqual(other.post("/api/auth/verify", {"phone": ANA, "code": "123456"})[0], 401)

    def test_guessing_codes_from_one_address_is_limited(self):
        flooder = Client(self.plantao, "127.0.0.4")
        self.addCleanup(flooder.close)
        statuses, limited, took = self.flood(flooder, "/api/auth/verify",
                                             lambda i: {"phone": "+55119%08d" % i, "code": "%06d" % i})
        self.assertTrue(429 in statuses, "no 429 in %d requests (%.1fs)" % (len(statuses), took))
        self.assertEqual(set(statuses), {401, 429})
        # and the code route from that address is limited too (one bucket per address)
        self.assertEqual(flooder.post("/api/auth/code", {"phone": ANA})[0], 429)
        other = Client(self.plantao, "127.0.0.5")
        self.addCleanup(other.close)
        self.assertEqual(other.post("/api/auth/code", {"phone": ANA})[0], 202)


class TestHealthUnverified(AuthMoreTest):
    def test_healthz_verbose_lists_unverified_people_by_id_only(self):
        ana = self.person("Ana Souza", ANA)
        bia = self.person("Bia Lima", BIA, role=None)
        # Bia verifies her phone (an admin starts it, she replies with the code)
        self.api_ok("POST", "/api/people/%d/verify" % bia, json={"channel": "sms"})
        code = code_of(self.sim.expect_sms(BIA, "plantao"))
        self.api_ok("POST", "/api/people/%d/verify/confirm" % bia, json={"code": code})
        status, body, _ = self.api("GET", "/healthz?verbose", token=None)
        self.assertIn(status, (200, 503), body)
        self.assertEqual(body["unverified_people"], [ana])
        self.assertNotIn("Ana Souza", str(body))  # no credentials needed: it names nobody
        # not in the short answer
        status, body, _ = self.api("GET", "/healthz", token=None)
        self.assertNotIn("unverified_people", body)
        # changing Bia's phone clears its verification: she is listed again
        self.api_ok("PATCH", "/api/people/%d" % bia, json={"phone": "+5511912340000"})
        status, body, _ = self.api("GET", "/healthz?verbose", token=None)
        self.assertEqual(sorted(body["unverified_people"]), sorted([ana, bia]))


class TestHandoffAsksToVerify(AuthMoreTest):
    def iso_local(self, offset_s, tz_hours=-3):
        t = self.plantao.now() + offset_s + tz_hours * 3600
        return time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t)) + "%+03d:00" % tz_hours

    def test_weekly_handoff_to_an_unverified_phone_asks_to_verify(self):
        ana = self.person("Ana Souza", ANA, role=None)
        bia = self.person("Bia Lima", BIA, role=None)
        # Ana verified her phone; Bia did not
        self.api_ok("POST", "/api/people/%d/verify" % ana, json={"channel": "sms"})
        code = code_of(self.sim.expect_sms(ANA, "plantao"))
        self.api_ok("POST", "/api/people/%d/verify/confirm" % ana, json={"code": code})
        self.api_ok("PUT", "/api/rotation", json={"members": [ana, bia], "shift_hours": 168,
                                                  "handoff": self.iso_local(-1800)[:16]})
        self.advance(60)  # the rotation is not brand new: its cut is not a hand-off
        self.advance(7 * 86400)  # a week later Bia takes over from Ana
        arrives = self.sim.expect_sms(BIA, "você está de plantão desde", timeout=30)
        leaves = self.sim.expect_sms(ANA, "seu plantão terminou", timeout=30)
        self.assertTrue(arrives.body.endswith(" Responda VERIFICAR para confirmar este telefone."), arrives.body)
        self.assertNotIn("VERIFICAR", leaves.body)
        # Bia replies VERIFICAR as asked: a code comes, her reply confirms the phone
        self.sim.incoming_sms(BIA, "VERIFICAR")
        code = code_of(self.sim.expect_sms(BIA, "plantao"))
        self.sim.incoming_sms(BIA, code)
        self.assertTrue(self.api_ok("GET", "/api/people/%d" % bia)["phone_verified"])

    def test_sms_help_mentions_verificar(self):
        self.person("Ana Souza", ANA, role=None)
        replies = self.sim.incoming_sms(ANA, "AJUDA")
        self.assertEqual(len(replies), 1, replies)
        self.assertIn("VERIFICAR", replies[0])

