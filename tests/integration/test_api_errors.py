"""
tests/integration/test_api_errors.py — the API's errors speak to the console (issue 13, item 2):
every JSON error is {"error": {"code", "message", "field"?}} with a stable code the console
translates and the field it is about; an override that overlaps another is a 409
"override_overlap" naming the one in the way (conflict_id), which ?replace=true replaces; and
phones are taken as people type them — "(11) 98765-4321", "11 98765 4321", "+55 …" — stored in
E.164 with the team's country (PLANTAO_COUNTRY, default BR).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402


class ApiErrorsTest(IntegrationTest):
    def error(self, method, path, status, **kw):
        got, body, _ = self.api(method, path, **kw)
        self.assertEqual(got, status, "%s %s -> %s %r" % (method, path, got, body))
        return body["error"]

    def iso_local(self, offset_s):
        t = self.plantao.now() + offset_s - 3 * 3600
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + "-03:00"

    def test_phones_as_people_type_them(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "(11) 98765-4321"}, expect=201)
        self.assertEqual(ana["phone"], "+5511987654321")
        bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": "11 98765 0002"}, expect=201)
        self.assertEqual(bruno["phone"], "+5511987650002")
        carla = self.api_ok("POST", "/api/people", json={"name": "Carla", "phone": "+55 21 3333-4444"}, expect=201)
        self.assertEqual(carla["phone"], "+552133334444")
        edited = self.api_ok("PATCH", "/api/people/%d" % bruno["id"], json={"phone": "0 21 11 98765-0003"})
        self.assertEqual(edited["phone"], "+5511987650003")

        # the same number typed another way is the same phone: taken
        err = self.error("POST", "/api/people", 409, json={"name": "Davi", "phone": "+55 (11) 98765-4321"})
        self.assertEqual((err["code"], err["field"]), ("phone_taken", "phone"), err)
        # not a number at all: said at the phone field
        for typed in ("11 9999", "ramal 12", ""):
            err = self.error("POST", "/api/people", 422, json={"name": "Davi", "phone": typed})
            self.assertEqual((err["code"], err["field"]), ("phone_invalid", "phone"), (typed, err))
        err = self.error("POST", "/api/people", 422, json={"phone": "(11) 98765-0009"})
        self.assertEqual((err["code"], err["field"]), ("required", "name"), err)
        err = self.error("POST", "/api/people", 422, json={"name": "Davi", "phone": "(11) 98765-0009", "fone": "x"})
        self.assertEqual((err["code"], err["field"]), ("unknown_field", "fone"), err)
        # every validation message still names its field, whichever module wrote it
        err = self.error("PUT", "/api/escalation", 422,
                         json={"steps": [{"target": ana["id"], "timeout_s": 2}], "rounds": 1})
        self.assertEqual(err["field"], "steps[0].timeout_s", err)

    def test_phones_of_another_country(self):
        self.plantao.stop()
        self.start_plantao_now({"PLANTAO_COUNTRY": "US"})
        p = self.api_ok("POST", "/api/people", json={"name": "Ann", "phone": "(415) 555-0100"}, expect=201)
        self.assertEqual(p["phone"], "+14155550100")

    def test_override_overlap_names_the_one_in_the_way(self):
        ana = self.api_ok("POST", "/api/people", json={"name": "Ana", "phone": "11 98765 0001"}, expect=201)["id"]
        bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno", "phone": "11 98765 0002"}, expect=201)["id"]
        first = self.api_ok("POST", "/api/overrides", json={"person_id": ana, "start": self.iso_local(3600),
                                                           "end": self.iso_local(5 * 3600)}, expect=201)
        body = {"person_id": bruno, "start": self.iso_local(2 * 3600), "end": self.iso_local(3 * 3600)}
        err = self.error("POST", "/api/overrides", 409, json=body)
        self.assertEqual((err["code"], err["field"], err["conflict_id"]), ("override_overlap", "start", first["id"]),
                         err)
        self.assertEqual(err["conflict_ids"], [first["id"]])
        second = self.api_ok("POST", "/api/overrides?replace=true", json=body, expect=201)
        self.assertEqual(second["person_id"], bruno)
        err = self.error("DELETE", "/api/people/%d" % bruno, 409)
        self.assertEqual(err["code"], "person_has_override", err)


if __name__ == "__main__":
    import unittest
    unittest.main()
