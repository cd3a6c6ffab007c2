"""
tests/integration/test_swaps.py — "trocar turno" (issue 13, item 6) at the default configuration:
Ana, signed in, offers part of her on-call time to Bruno; Bruno, signed in, confirms; the time
becomes Bruno's override (who is on call then is Bruno), every step audited with its person.
A colleague can decline; only the two people of a swap answer it; one cannot give away time that
is not theirs, or time that is over; a swap answered once cannot be answered again.
"""

import re
import time

from harness import IntegrationTest

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"


def local(t):
    return time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t - 3 * 3600))


class TestSwaps(IntegrationTest):
    def setUp(self):
        super().setUp()
        ids = []
        for name, phone in (("Ana Souza", ANA), ("Bruno Lima", BRUNO), ("Carla Dias", CARLA)):
            pid = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)["id"]
            self.api_ok("PUT", "/api/people/%d/role" % pid, json={"role": "editor"})
            ids.append(pid)
        self.ana, self.bruno, self.carla = ids
        now = self.plantao.now()
        # Ana's week started an hour ago; Bruno's starts in 167 hours
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno], "shift_hours": 168,
                                                  "handoff": local(now - 3600)})
        self.t0 = now - 3600

    def sign_in(self, phone):
        self.assertEqual(self.api("POST", "/api/auth/code", json={"phone": phone}, token=None)[0], 202)
        code = re.search(r"\b(\d{6})\b", self.sim.expect_sms(phone, "plantao").body).group(1)
        status, body, headers = self.api("POST", "/api/auth/verify", json={"phone": phone, "code": code}, token=None)
        self.assertEqual(status, 200, body)
        return re.match(r"plantao_session=([^;]*)", headers["set-cookie"]).group(1)

    def as_(self, secret, method, path, **kw):
        return self.api(method, path, headers={"Cookie": "plantao_session=" + secret, "X-Plantao-CSRF": "1"},
                        token=None, **kw)

    def oncall_at(self, t):
        body = self.api_ok("GET", "/api/oncall?at=" + local(t))
        return body["person"]["id"] if body.get("person") else None

    def test_both_confirm_then_the_colleague_is_on_call(self):
        ana, bruno = self.sign_in(ANA), self.sign_in(BRUNO)
        start, end = self.t0 + 24 * 3600, self.t0 + 36 * 3600  # tomorrow, 12 hours of Ana's week
        status, s, _ = self.as_(ana, "POST", "/api/swaps", json={"to_person_id": self.bruno, "start": local(start),
                                                                  "end": local(end)})
        self.assertEqual(status, 201, s)
        self.assertEqual((s["status"], s["from_person"], s["from_confirmed"], s["to_confirmed"]),
                         ("pending", self.ana, True, False))
        self.assertEqual(self.oncall_at(start + 3600), self.ana)  # nothing changes before Bruno says yes
        status, s, _ = self.as_(bruno, "POST", "/api/swaps/%d/confirm" % s["id"], json={})
        self.assertEqual(status, 200, s)
        self.assertEqual(s["status"], "accepted")
        self.assertIsNotNone(s["override_id"])
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)
        self.assertEqual(self.oncall_at(end + 3600), self.ana)  # the rest of the week stays Ana's
        ov = [o for o in self.api_ok("GET", "/api/overrides")["overrides"] if o["id"] == s["override_id"]]
        self.assertEqual(ov[0]["reason"], "troca de turno #%d" % s["id"])
        rows = self.api_ok("GET", "/api/audit?action=swaps.&entity_id=%d" % s["id"])["audit"]
        self.assertEqual([(r["action"], r["actor"]) for r in reversed(rows)],
                         [("swaps.create", "person:%d Ana Souza" % self.ana),
                          ("swaps.confirm", "person:%d Bruno Lima" % self.bruno),
                          ("swaps.accept", "person:%d Bruno Lima" % self.bruno)])
        # answered once: no second answer
        self.assertEqual(self.as_(ana, "POST", "/api/swaps/%d/decline" % s["id"], json={})[0], 409)
        listed = self.api_ok("GET", "/api/swaps?person=%d&status=accepted" % self.bruno)["swaps"]
        self.assertEqual([(x["id"], x["from_name"], x["to_name"]) for x in listed],
                         [(s["id"], "Ana Souza", "Bruno Lima")])

    def test_decline_outsiders_and_time_that_is_not_yours(self):
        ana, carla = self.sign_in(ANA), self.sign_in(CARLA)
        start, end = self.t0 + 48 * 3600, self.t0 + 60 * 3600
        status, s, _ = self.as_(ana, "POST", "/api/swaps", json={"to_person_id": self.carla, "start": local(start),
                                                                  "end": local(end)})
        self.assertEqual(status, 201, s)
        bruno = self.sign_in(BRUNO)
        self.assertEqual(self.as_(bruno, "POST", "/api/swaps/%d/confirm" % s["id"], json={})[0], 403)
        status, d, _ = self.as_(carla, "POST", "/api/swaps/%d/decline" % s["id"], json={})
        self.assertEqual((status, d["status"], d["override_id"]), (200, "declined", None))
        self.assertEqual(self.oncall_at(start + 3600), self.ana)
        # Carla cannot give away Ana's time; Ana cannot give away time that is over or Bruno's week
        for who, body, word in (
                (carla, {"to_person_id": self.bruno, "start": local(start), "end": local(end)}, "start"),
                (ana, {"to_person_id": self.bruno, "start": local(self.t0 - 7200), "end": local(self.t0 - 3600)},
                 "end"),
                (ana, {"to_person_id": self.carla, "start": local(self.t0 + 160 * 3600),
                       "end": local(self.t0 + 170 * 3600)}, "start"),
                (ana, {"to_person_id": self.ana, "start": local(start), "end": local(end)}, "to_person_id"),
                (ana, {"to_person_id": self.bruno, "start": local(start), "end": local(end), "motivo": "x"}, "motivo")):
            status, err, _ = self.as_(who, "POST", "/api/swaps", json=body)
            self.assertEqual(status, 422, (body, err))
            self.assertIn(word, err["error"]["message"])
        # a token must say whose shift it is; an admin token may, and then both still confirm
        status, err, _ = self.api("POST", "/api/swaps", json={"to_person_id": self.bruno, "start": local(start),
                                                              "end": local(end)})
        self.assertEqual(status, 422)
        status, s2, _ = self.api("POST", "/api/swaps", json={"from_person_id": self.ana, "to_person_id": self.bruno,
                                                             "start": local(start), "end": local(end)})
        self.assertEqual((status, s2["from_confirmed"]), (201, False))
        self.assertEqual(self.api("POST", "/api/swaps/%d/confirm" % s2["id"], json={"person_id": self.bruno})[1]["status"],
                         "pending")
        self.assertEqual(self.api("POST", "/api/swaps/%d/confirm" % s2["id"], json={"person_id": self.ana})[1]["status"],
                         "accepted")
        self.assertEqual(self.oncall_at(start + 3600), self.bruno)
