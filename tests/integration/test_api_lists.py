"""
tests/integration/test_api_lists.py — the API's consistency rules on the lists this file's
endpoints serve (issue 13, item 7): GET /api/sales lists the months with sales, newest first,
paged with the same limit/before cursor as every list, times in ISO 8601 with the team's
offset; an unknown query parameter is a 400 naming it with the stable code
"unknown_parameter". GET /api/me says who the caller is and what it may do.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest  # noqa: E402

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


class ApiListsTest(IntegrationTest):
    plantao_env = {"PLANTAO_TZ": "America/Sao_Paulo"}

    def upload(self, period, csv):
        status, body, _ = self.api("POST", "/api/sales?period=" + period, data=csv.encode(),
                                   headers={"Content-Type": "text/csv"})
        self.assertEqual(status, 201, body)

    def test_sales_lists_its_periods(self):
        self.assertEqual(self.api_ok("GET", "/api/sales"), {"periods": [], "next_before": None})
        self.upload("2026-01", "vendedor;valor\nAna;\"R$ 61.250,00\"\nBruno;\"R$ 12.000,50\"\n")
        self.upload("2026-02", "vendedor;valor\nAna;\"R$ 10,00\"\n")
        self.upload("2026-03", "vendedor;valor\nCarla;\"R$ 55.000,00\"\nDavi;\"R$ 55.000,01\"\n")
        body = self.api_ok("GET", "/api/sales")
        self.assertEqual([p["period"] for p in body["periods"]], ["2026-03", "2026-02", "2026-01"])
        jan = body["periods"][2]
        self.assertEqual((jan["sellers"], jan["total_cents"], jan["above_goal"]), (2, 6125000 + 1200050, 1), jan)
        mar = body["periods"][0]
        self.assertEqual(mar["above_goal"], 1, "R$ 55.000,00 is not more than the goal")
        self.assertRegex(mar["last_import_at"], ISO)
        self.assertTrue(mar["last_import_at"].endswith("-03:00"), mar)
        self.assertIsNone(body["next_before"])

        # the same cursor as every list: a full page names where the next one starts
        page1 = self.api_ok("GET", "/api/sales?limit=2")
        self.assertEqual([p["period"] for p in page1["periods"]], ["2026-03", "2026-02"])
        self.assertEqual(page1["next_before"], "2026-02")
        page2 = self.api_ok("GET", "/api/sales?limit=2&before=2026-02")
        self.assertEqual([p["period"] for p in page2["periods"]], ["2026-01"])
        self.assertIsNone(page2["next_before"])

        status, body, _ = self.api("GET", "/api/sales?limt=2")
        self.assertEqual(status, 400, body)
        self.assertEqual((body["error"]["code"], body["error"]["field"]), ("unknown_parameter", "limt"), body)
        status, body, _ = self.api("GET", "/api/sales?before=fevereiro")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["field"], "before", body)

    def test_every_list_refuses_a_parameter_it_does_not_know(self):
        for path, known in (("/api/people", ""), ("/api/tokens", ""), ("/api/monitors", ""), ("/api/rotation", ""),
                            ("/api/alerts", "status=triggered&limit=5"), ("/api/oncall", "at=2026-01-05T09:00-03:00"),
                            ("/api/schedule", "from=2026-01-05&to=2026-01-12"),
                            ("/api/overrides", "from=2026-01-05&to=2026-01-12"), ("/api/sales", "limit=5")):
            self.api_ok("GET", path + ("?" + known if known else ""))
            status, body, _ = self.api("GET", path + "?" + (known + "&" if known else "") + "pessoa=1")
            self.assertEqual(status, 400, (path, body))
            self.assertEqual((body["error"]["code"], body["error"]["field"]), ("unknown_parameter", "pessoa"),
                             (path, body))

    def test_me_says_who_and_what_it_may_do(self):
        me = self.api_ok("GET", "/api/me")
        self.assertEqual((me["kind"], me["role"]), ("token", "admin"), me)
        self.assertIsNone(me["person"])
        self.assertEqual(me["may"], {"read": True, "edit": True, "alerts": True, "admin": True})
        tok = self.api_ok("POST", "/api/tokens", json={"name": "painel", "role": "viewer"})
        me = self.api_ok("GET", "/api/me", token=tok["token"])
        self.assertEqual((me["role"], me["person"]), ("viewer", None), me)
        self.assertIn("painel", me["actor"])
        self.assertEqual(me["may"], {"read": True, "edit": False, "alerts": False, "admin": False})


if __name__ == "__main__":
    import unittest
    unittest.main()
