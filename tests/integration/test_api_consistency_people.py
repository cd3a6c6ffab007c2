"""
tests/integration/test_api_consistency_people.py — the API's consistency rules (issue 13, item 7)
on the people API and on every GET outside the lead's lists, alerts and monitors: an unknown
query parameter is a 400 "unknown_parameter" naming it; an unknown body field a 422
"unknown_field" naming it; validation errors are 422 with a code and the field; times are ISO
8601 with the team's offset, the epoch kept only as <name>_unix; GET /api/people is paged with
the same limit/before cursor as every list and filtered by role and q.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-03:00$")  # America/Sao_Paulo, the default zone
ANA = "+5511987650001"
BRUNO = "+5511987650002"


def code_of(msg):
    m = re.search(r"\b(\d{6})\b", msg.body)
    assert m, "no code in %r" % msg.body
    return m.group(1)


class ApiConsistencyPeopleTest(IntegrationTest):
    def error(self, method, path, status, **kw):
        got, body, _ = self.api(method, path, **kw)
        self.assertEqual(got, status, "%s %s -> %s %r" % (method, path, got, body))
        self.assertIn("error", body, body)
        return body["error"]

    def person(self, name, phone, role=None):
        p = self.api_ok("POST", "/api/people", json={"name": name, "phone": phone}, expect=201)
        if role:
            self.api_ok("PUT", "/api/people/%d/role" % p["id"], json={"role": role})
        return p["id"]

    def assert_time(self, obj, name, where):
        self.assertRegex(obj[name], ISO, (where, name, obj))
        self.assertIsInstance(obj[name + "_unix"], int, (where, name, obj))
        self.assertAlmostEqual(obj[name + "_unix"], self.plantao.now(), delta=120)

    def sign_in(self, phone):
        status, _, _ = self.api("POST", "/api/auth/code", json={"phone": phone}, token=None)
        self.assertEqual(status, 202)
        code = code_of(self.sim.expect_sms(phone, "plantao"))
        status, body, headers = self.api("POST", "/api/auth/verify", json={"phone": phone, "code": code}, token=None)
        self.assertEqual(status, 200, body)
        secret = re.match(r"plantao_session=([^;]*)", headers.get("set-cookie", "")).group(1)
        return secret, body

    def test_every_get_refuses_a_parameter_it_does_not_know(self):
        ana = self.person("Ana", ANA, role="admin")
        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        # every GET route of the API outside the lead's lists, alerts and monitors, with what it knows
        routes = (
            ("/api/me", ""),
            ("/api/auth/sessions", "person_id=%d" % ana),
            ("/api/tokens", ""),
            ("/api/escalation", ""),
            ("/api/people", "limit=5&role=admin&q=an"),
            ("/api/people/%d" % ana, ""),
            ("/api/rotation", ""),
            ("/api/oncall", "at=2026-01-05T09:00-03:00"),
            ("/api/schedule", "from=2026-01-05&to=2026-01-12"),
            ("/api/overrides", "from=2026-01-05&to=2026-01-12"),
            ("/api/sales", "limit=5"),
            ("/api/sales/settings", ""),
            ("/api/sales/report", "period=2026-01"),
        )
        for path, known in routes:
            with self.subTest(path=path):
                self.api_ok("GET", path + ("?" + known if known else ""))
                err = self.error("GET", path + "?" + (known + "&" if known else "") + "pessoa=1", 400)
                self.assertEqual((err["code"], err["field"]), ("unknown_parameter", "pessoa"), (path, err))
                self.assertIn("pessoa", err["message"])

    def test_writes_refuse_a_parameter_they_do_not_know_and_change_nothing(self):
        ana = self.person("Ana", ANA, role="admin")
        tok = self.api_ok("POST", "/api/tokens", json={"name": "painel", "role": "viewer"}, expect=201)["id"]
        start, end = "2030-01-07T09:00-03:00", "2030-01-07T18:00-03:00"
        ovr = self.api_ok("POST", "/api/overrides", json={"person_id": ana, "start": start, "end": end},
                          expect=201)["id"]
        audit_rows = self.plantao.db.scalar("SELECT count(*) FROM audit")
        for method, path, body in (
                ("POST", "/api/people?force=1", {"name": "Bia", "phone": BRUNO}),
                ("PATCH", "/api/people/%d?force=1" % ana, {"name": "Ana Souza"}),
                ("DELETE", "/api/people/%d?force=1" % ana, None),
                ("PUT", "/api/people/%d/role?force=1" % ana, {"role": "viewer"}),
                ("POST", "/api/tokens?force=1", {"name": "outro", "role": "viewer"}),
                ("DELETE", "/api/tokens/%d?force=1" % tok, None),
                ("PUT", "/api/rotation?force=1", {"members": [ana]}),
                ("POST", "/api/overrides?force=1", {"person_id": ana, "start": "2030-02-07T09:00-03:00",
                                                   "end": "2030-02-07T18:00-03:00"}),
                ("DELETE", "/api/overrides/%d?force=1" % ovr, None),
                ("PUT", "/api/sales/settings?force=1", {"target_cents": 100}),
        ):
            with self.subTest(method=method, path=path):
                err = self.error(method, path, 400, json=body)
                self.assertEqual((err["code"], err["field"]), ("unknown_parameter", "force"), (path, err))
        status, err, _ = self.api("POST", "/api/sales?period=2026-01&force=1", data=b"vendedor;valor\nAna;10\n",
                                  headers={"Content-Type": "text/csv"})
        self.assertEqual((status, err["error"]["field"]), (400, "force"), err)
        self.assertEqual(self.plantao.db.scalar("SELECT count(*) FROM audit"), audit_rows, "nothing was written")
        self.assertEqual(self.api_ok("GET", "/api/sales")["periods"], [])

    def test_unknown_body_fields_are_422_naming_them(self):
        ana = self.person("Ana", ANA)
        for method, path, body in (
                ("POST", "/api/people", {"name": "Bia", "phone": BRUNO, "fone": "x"}),
                ("PATCH", "/api/people/%d" % ana, {"nome": "Ana Souza"}),
                ("PUT", "/api/people/%d/role" % ana, {"role": "editor", "papel": "x"}),
                ("POST", "/api/tokens", {"name": "painel", "role": "viewer", "papel": "x"}),
                ("PUT", "/api/rotation", {"members": [ana], "membros": [ana]}),
                ("PUT", "/api/sales/settings", {"target_cents": 100, "meta": 1}),
        ):
            with self.subTest(path=path):
                field = (set(body) - {"name", "phone", "role", "members", "target_cents"}).pop()
                err = self.error(method, path, 422, json=body)
                self.assertEqual((err["code"], err["field"]), ("unknown_field", field), (path, err))
        self.assertEqual(self.api_ok("GET", "/api/people")["people"][0]["name"], "Ana")  # nothing written

    def test_validation_errors_are_422_with_code_and_field(self):
        ana = self.person("Ana", ANA)
        for method, path, body, code, field in (
                ("POST", "/api/people", {"name": "Bia", "phone": "ramal 12"}, "phone_invalid", "phone"),
                ("POST", "/api/people", {"name": " ", "phone": BRUNO}, "name_invalid", "name"),
                ("POST", "/api/people", {"name": "Bia", "phone": BRUNO, "email": "bia"}, "email_invalid", "email"),
                ("PATCH", "/api/people/%d" % ana, {"whatsapp": "sim"}, "invalid_value", "whatsapp"),
                ("POST", "/api/people", {"phone": BRUNO}, "required", "name"),
                ("PUT", "/api/people/%d/role" % ana, {"role": "chefe"}, "invalid_value", "role"),
                ("POST", "/api/tokens", {"name": "", "role": "viewer"}, "invalid_value", "name"),
                ("POST", "/api/tokens", {"name": "painel", "role": "dono"}, "invalid_value", "role"),
                ("POST", "/api/auth/code", {"phone": "ramal 12"}, "phone_invalid", "phone"),
        ):
            with self.subTest(path=path, field=field):
                err = self.error(method, path, 422, json=body)
                self.assertEqual((err["code"], err["field"]), (code, field), (path, body, err))
        # the same phone typed another way is taken: 409 naming the field
        err = self.error("POST", "/api/people", 409, json={"name": "Davi", "phone": "(11) 98765-0001"})
        self.assertEqual((err["code"], err["field"]), ("phone_taken", "phone"), err)
        # a person still needed by the rotation: 409 with the code that says why
        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        err = self.error("DELETE", "/api/people/%d" % ana, 409)
        self.assertEqual(err["code"], "person_in_rotation", err)

    def test_times_are_iso_with_the_offset_and_the_epoch_only_in_unix_fields(self):
        ana = self.person("Ana", ANA, role="admin")
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])  # Ana turns texts off
        self.api_ok("POST", "/api/tokens", json={"name": "painel", "role": "viewer"}, expect=201)
        p = self.api_ok("GET", "/api/people/%d" % ana)
        self.assertIs(p["sms_opt_out"], True)
        self.assert_time(p, "sms_opt_out_at", "GET /api/people/{id}")
        listed = self.api_ok("GET", "/api/people")["people"][0]
        self.assert_time(listed, "sms_opt_out_at", "GET /api/people")
        self.assertEqual(self.sim.incoming_sms(ANA, "START"), [])

        secret, verified = self.sign_in(ANA)
        self.assertRegex(verified["session"]["expires_at"], ISO, verified)
        self.assertIsInstance(verified["session"]["expires_at_unix"], int)
        cookie = {"Cookie": "plantao_session=" + secret, "X-Plantao-CSRF": "1"}
        status, me, _ = self.api("GET", "/api/me", headers=cookie, token=None)
        self.assertEqual(status, 200, me)
        self.assert_time(me["session"], "created_at", "GET /api/me")
        self.assertRegex(me["session"]["expires_at"], ISO, me)
        sessions = self.api_ok("GET", "/api/auth/sessions")["sessions"]
        for name in ("created_at", "last_seen_at"):
            self.assert_time(sessions[0], name, "GET /api/auth/sessions")
        self.assertRegex(sessions[0]["expires_at"], ISO, sessions)

        self.api_ok("PUT", "/api/rotation", json={"members": [ana]})
        self.assertEqual(self.sim.incoming_sms(ANA, "STOP"), [])
        oncall = self.api_ok("GET", "/api/oncall")["person"]  # the same person shape as /api/people
        self.assertEqual((oncall["id"], oncall["role"]), (ana, "admin"), oncall)
        self.assert_time(oncall, "sms_opt_out_at", "GET /api/oncall")
        self.assertEqual(self.sim.incoming_sms(ANA, "START"), [])

        tokens = self.api_ok("GET", "/api/tokens")["tokens"]
        self.assert_time(tokens[0], "created_at", "GET /api/tokens")
        self.assertIsNone(tokens[0]["revoked_at"])

    def test_people_are_paged_by_name_with_the_lists_cursor_and_filtered(self):
        names = ["Pessoa %02d" % i for i in range(25)]
        for i, name in enumerate(reversed(names)):  # created out of order: the page is by name
            self.person(name, "+55119876%05d" % (i + 10), role="editor" if i % 5 == 0 else None)
        seen, before, pages = [], None, 0
        while True:
            body = self.api_ok("GET", "/api/people?limit=10" + ("&before=%d" % before if before else ""))
            pages += 1
            self.assertLessEqual(len(body["people"]), 10)
            seen += [p["name"] for p in body["people"]]
            before = body["next_before"]
            if before is None:
                break
            self.assertEqual(before, body["people"][-1]["id"])
            self.assertLess(pages, 5, "the cursor does not end")
        self.assertEqual(pages, 3)
        self.assertEqual(seen, names)  # every person once, in order
        self.assertEqual(len(self.api_ok("GET", "/api/people")["people"]), 25)  # the default page holds a team

        editors = self.api_ok("GET", "/api/people?role=editor")["people"]
        self.assertEqual(len(editors), 5)
        self.assertTrue(all(p["role"] == "editor" for p in editors), editors)
        self.assertEqual(len(self.api_ok("GET", "/api/people?role=none")["people"]), 20)
        self.assertEqual([p["name"] for p in self.api_ok("GET", "/api/people?q=SSOA%200")["people"]], names[:10])
        self.assertEqual(self.api_ok("GET", "/api/people?q=%25")["people"], [])  # % is a character, not a wildcard
        err = self.error("GET", "/api/people?role=chefe", 400)
        self.assertEqual(err["field"], "role", err)
        err = self.error("GET", "/api/people?limit=0", 400)
        self.assertEqual(err["field"], "limit", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
