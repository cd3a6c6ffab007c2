"""
tests/integration/test_sobreaviso.py — the monthly on-call ("sobreaviso") report (issue 13,
item 6) against the real server at the default configuration (PLANTAO_COUNTRY BR, pt-BR,
America/Sao_Paulo): a weekly rotation with a holiday covered by an override, hours per person
split into weekday, weekend and holiday hours, the holidays of the month named, CSV for Excel in
Brazil, one person's line, and the errors (bad month, unknown parameter, unknown format).
"""

import calendar
import csv
import io

from harness import IntegrationTest

ANA, BRUNO, CARLA = "+5511990000001", "+5511990000002", "+5511990000003"
BRT = -3 * 3600


def local_epoch(y, mo, d, h=0, mi=0):
    return calendar.timegm((y, mo, d, h, mi, 0)) - BRT


class TestSobreaviso(IntegrationTest):
    def setUp(self):
        super().setUp()
        # Tuesday 20 October 2026, noon in São Paulo: the team plans November
        self.plantao.set_clock_offset(local_epoch(2026, 10, 20, 12) - int(__import__("time").time()))
        self.ana = self.api_ok("POST", "/api/people", json={"name": "Ana Souza", "phone": ANA}, expect=201)["id"]
        self.bruno = self.api_ok("POST", "/api/people", json={"name": "Bruno; Lima", "phone": BRUNO}, expect=201)["id"]
        self.carla = self.api_ok("POST", "/api/people", json={"name": "Carla Dias", "phone": CARLA}, expect=201)["id"]
        # weekly shifts from Monday 09:00: Ana the week of 5 Oct, Bruno the next, and so on
        self.api_ok("PUT", "/api/rotation", json={"members": [self.ana, self.bruno], "shift_hours": 168,
                                                  "handoff": "2026-10-05T09:00"})
        # Carla covers Ana on 20 November (Consciência Negra, a Friday)
        self.api_ok("POST", "/api/overrides", json={"person_id": self.carla, "start": "2026-11-20T00:00",
                                                    "end": "2026-11-21T00:00", "reason": "troca"}, expect=201)

    def test_november_split_into_weekday_weekend_and_holiday_hours(self):
        r = self.api_ok("GET", "/api/reports/sobreaviso?month=2026-11")
        self.assertEqual((r["month"], r["timezone"], r["country"]), ("2026-11", "America/Sao_Paulo", "BR"))
        self.assertEqual((r["from"], r["to"]), ("2026-11-01T00:00:00-03:00", "2026-12-01T00:00:00-03:00"))
        self.assertEqual([h["date"] for h in r["holidays"]], ["2026-11-02", "2026-11-15", "2026-11-20"])
        self.assertEqual(r["days"], {"weekday": 19, "weekend": 8, "holiday": 3})
        got = {p["name"]: (p["weekday_hours"], p["weekend_hours"], p["holiday_hours"], p["total_hours"])
               for p in r["people"]}
        self.assertEqual(got, {"Ana Souza": (216, 96, 15, 327), "Bruno; Lima": (240, 96, 33, 369),
                               "Carla Dias": (0, 0, 24, 24)})
        self.assertEqual(r["uncovered"]["total_seconds"], 0)
        # one person's line
        only = self.api_ok("GET", "/api/reports/sobreaviso?month=2026-11&person=%d" % self.carla)
        self.assertEqual([p["name"] for p in only["people"]], ["Carla Dias"])

    def test_csv_for_excel_in_brazil(self):
        status, body, headers = self.api("GET", "/api/reports/sobreaviso?month=2026-11&format=csv")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/csv"))
        self.assertIn('filename="sobreaviso-2026-11.csv"', headers["content-disposition"])
        self.assertTrue(body.startswith("\ufeff"))  # Excel reads the accents as UTF-8
        rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
        self.assertEqual(rows[0], ["id", "pessoa", "horas_dias_uteis", "horas_fim_de_semana", "horas_feriados",
                                   "horas_total"])
        self.assertIn([str(self.bruno), "Bruno; Lima", "240,00", "96,00", "33,00", "369,00"], rows)
        self.assertIn([str(self.ana), "Ana Souza", "216,00", "96,00", "15,00", "327,00"], rows)
        self.assertEqual(rows[-1], ["", "(ninguém de plantão)", "0,00", "0,00", "0,00", "0,00"])

    def test_gaps_and_a_month_before_the_rotation(self):
        # September: no rotation yet, so every hour is uncovered; Independência (7 Sep) is named
        r = self.api_ok("GET", "/api/reports/sobreaviso?month=2026-09")
        self.assertEqual(r["people"], [])
        self.assertEqual(r["uncovered"]["total_hours"], 720)
        self.assertEqual(r["uncovered"]["holiday_hours"], 24)
        self.assertEqual([h["name"] for h in r["holidays"]], ["Independência do Brasil"])

    def test_errors_name_the_parameter(self):
        for q, word in (("month=2026-13", "month"), ("month=nov", "month"), ("mes=2026-11", "mes"),
                        ("month=2026-11&format=xlsx", "format"), ("month=2026-11&person=x", "person")):
            status, err, _ = self.api("GET", "/api/reports/sobreaviso?" + q)
            self.assertEqual(status, 400, q)
            self.assertIn(word, err["error"]["message"], q)
