"""
tests/integration/test_sales.py — sales-goal notifications end to end: a real `plantao serve`
imports the monthly spreadsheets (tests/fixtures/sales/, made by make_fixtures.py with
python3-openpyxl), CSV, JSON and multipart uploads, and texts the managers through the outbox.

Every test checks the outbox rows in the database (what plantao decided to send, exactly
once); when the build has the outbox sender, the texts are also awaited at the Twilio
simulator (sim.expect_sms), and tearDown fails on any text nobody expected — so a re-import
that sent again would fail.
"""

import csv
import http.client
import io
import json
import os
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ROOT, IntegrationTest  # noqa: E402

FIX = os.path.join(ROOT, "tests", "fixtures", "sales")
M1, M2 = "+5511988880001", "+5511988880002"
YEAR = time.gmtime().tm_year  # "junho.xlsx" has no year: the current one (PLANTAO_TZ, UTC here)

SIX = ["janeiro 2026.xlsx", "fevereiro 2026.xlsx", "Março_2026.xlsx", "vendas-abril-2026.xlsx", "2026-05.xlsx",
       "junho.xlsx"]
# Above R$ 55.000,00 ("more than", the default) in the six workbooks, as plantao names them.
SIX_ANNOUNCED = [
    ("janeiro/2026", "Ana Souza", "R$ 57.320,00"),
    ("fevereiro/2026", "Bruno Lima", "R$ 55.000,01"),
    ("fevereiro/2026", "Carla Dias", "R$ 61.234,56"),
    ("março/2026", "ANA SOUZA", "R$ 70.000,00"),
    ("abril/2026", "Bruno Lima", "R$ 99.999,99"),
    ("maio/2026", "Bruno Lima", "R$ 56.000,00"),
    ("maio/2026", "Carla Dias", "R$ 58.000,00"),
    ("junho/%d" % YEAR, "Ana Souza", "R$ 66.000,00"),
    ("junho/%d" % YEAR, "Carla Dias", "R$ 55.000,50"),
]


def text(month, seller, amount, target="R$ 55.000,00"):
    return "Meta batida em %s: %s vendeu %s (meta %s)" % (month, seller, amount, target)


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def multipart(files, fields=()):
    """files: [(filename, bytes, content_type)]; fields: [(name, value)]. Returns (body, content-type)."""
    boundary = "----plantao" + secrets.token_hex(8)
    out = io.BytesIO()
    for name, value in fields:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (boundary, name, value)).encode())
    for i, (filename, data, ctype) in enumerate(files):
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"file%d\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, i, filename, ctype)).encode("utf-8"))
        out.write(data)
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def small_xlsx(sheet_name, rows):
    """A minimal workbook (stdlib zipfile) with one sheet of inline strings and numbers."""
    import zipfile
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"

    def cell(v):
        if isinstance(v, str):
            return '<c t="inlineStr"><is><t>%s</t></is></c>' % v
        return "<c><v>%s</v></c>" % v

    sheet = '<worksheet xmlns="%s"><sheetData>%s</sheetData></worksheet>' % (
        ns, "".join("<row>%s</row>" % "".join(cell(v) for v in r) for r in rows))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("_rels/.rels", '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>' % (pkg, rel))
        z.writestr("xl/workbook.xml", '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="%s" sheetId="1" '
                   'r:id="rId1"/></sheets></workbook>' % (ns, rel, sheet_name))
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="%s"><Relationship Id="rId1" '
                   'Type="%s/worksheet" Target="worksheets/sheet1.xml"/></Relationships>' % (pkg, rel))
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


class SalesTest(IntegrationTest):
    plantao_env = {"PLANTAO_SMS_RATE": "0", "PLANTAO_TZ": "UTC"}

    def setUp(self):
        super().setUp()
        self.sender = self.api("POST", "/twilio/status/message", token=None)[0] != 404

    # ---- helpers --------------------------------------------------------------------

    def db(self):
        conn = self.plantao.db.connect(isolation_level=None)
        self.addCleanup(conn.close)
        return conn

    def managers(self, *phones, **kw):
        body = dict(kw)
        body["notify"] = list(phones)
        return self.api_ok("PUT", "/api/sales/settings", json=body)

    def upload(self, data, query="", filename=None, ctype=None, expect=201):
        headers = {}
        if filename:
            headers["Content-Disposition"] = "attachment; filename*=UTF-8''%s" % urllib.parse.quote(filename)
        if ctype:
            headers["Content-Type"] = ctype
        status, body, _ = self.api("POST", "/api/sales" + query, data=data, headers=headers)
        self.assertEqual(status, expect, body)
        return body

    def upload_multipart(self, files, fields=(), query="", expect=201):
        body, ctype = multipart(files, fields)
        status, answer, _ = self.api("POST", "/api/sales" + query, data=body, headers={"Content-Type": ctype})
        self.assertEqual(status, expect, answer)
        return answer

    def sales_texts(self):
        return sorted(self.db().execute(
            "SELECT to_number, body FROM outbox WHERE class = 'sales' AND kind = 'sms' AND priority = 2").fetchall())

    def expect_texts(self, expected):
        """expected: [(phone, text)] — exactly the sales texts queued so far (once each), and,
        with the sender, each delivered to the simulator."""
        self.assertEqual(self.sales_texts(), sorted(expected))
        if self.sender:
            for phone, body in expected:
                if (phone, body) not in self._delivered:
                    self.sim.expect_sms(phone, containing=body)
                    self._delivered.add((phone, body))

    def sales_rows(self):
        return {(p, s): c for p, s, c in self.db().execute("SELECT period, seller, amount_cents FROM sales")}

    def nothing_imported(self):
        self.assertEqual(self.db().execute("SELECT count(*) FROM sales").fetchone()[0], 0)
        self.assertEqual(self.db().execute("SELECT count(*) FROM outbox").fetchone()[0], 0)
        self.assertEqual(self.db().execute("SELECT count(*) FROM sales_notifications").fetchone()[0], 0)

    _delivered = None

    def run(self, result=None):
        self._delivered = set()
        return super().run(result)

    # ---- the six monthly workbooks ----------------------------------------------------

    def test_six_monthly_workbooks_text_the_managers_once(self):
        self.managers(M1, M2)
        for name in SIX:  # raw bodies, the month from the file name
            answer = self.upload(fixture(name), filename=name)
            self.assertEqual(answer["files"][0]["format"], "xlsx")
        expected = [(m, text(*a)) for a in SIX_ANNOUNCED for m in (M1, M2)]
        self.expect_texts(expected)
        self.assertEqual(len({p for p, _ in self.sales_rows()}), 6)
        # "Aná Souza" at exactly R$ 55.000,00 in April is not above the goal ("more than")
        self.assertEqual(self.sales_rows()[("2026-04", "Aná Souza")], 5500000)

        # the same six again, one multipart upload this time: nothing new is sent
        answer = self.upload_multipart([(n, fixture(n), XLSX) for n in SIX])
        self.assertEqual(answer["queued"], 0)
        self.assertEqual(answer["notifications"], [])
        self.assertEqual(len(answer["periods"]), 6)
        feb = [p for p in answer["periods"] if p["period"] == "2026-02"][0]
        self.assertEqual((feb["sellers"], feb["above_goal"]), (3, 2))
        above = [(a["period"], a["seller"], a["amount"], a["notified"]) for a in answer["above_goal"]]
        self.assertEqual(len(above), 9)
        self.assertIn(("2026-02", "Carla Dias", "R$ 61.234,56", True), above)
        self.assertEqual(above[1:3], [("2026-02", "Carla Dias", "R$ 61.234,56", True),
                                      ("2026-02", "Bruno Lima", "R$ 55.000,01", True)])
        time.sleep(0.5 if self.sender else 0)
        self.expect_texts(expected)  # tearDown fails on any extra text at the simulator

    def test_second_seller_in_the_same_month_is_announced_too(self):
        self.managers(M1)
        first = b"vendedor;valor\nAna Souza;57.320,00\nBruno Lima;40.000,00\n"
        answer = self.upload(first, query="?period=2026-01")
        self.assertEqual([n["seller"] for n in answer["notifications"]], ["Ana Souza"])
        self.expect_texts([(M1, text("janeiro/2026", "Ana Souza", "R$ 57.320,00"))])
        # the corrected export: Bruno passes the goal, Ana still above: only Bruno is new
        second = b"vendedor;valor\nAna Souza;57.320,00\nBruno Lima;40.000,00\nBruno Lima;20.000,00\n"
        answer = self.upload(second, query="?period=2026-01")
        self.assertEqual([n["seller"] for n in answer["notifications"]], ["Bruno Lima"])
        self.assertEqual(answer["notifications"][0]["phones"], [M1])
        self.expect_texts([(M1, text("janeiro/2026", "Ana Souza", "R$ 57.320,00")),
                           (M1, text("janeiro/2026", "Bruno Lima", "R$ 60.000,00"))])

    def test_every_seller_above_the_goal_not_only_the_first(self):
        self.managers(M2)
        rows = "".join("Vendedor %02d;%d.000,00\n" % (i, 50 + i) for i in range(1, 13))
        answer = self.upload(("Vendedor;Vendas\n" + rows).encode(), query="?period=2026-03")
        # 56.000 .. 62.000 are above 55.000: seven sellers
        self.assertEqual(len(answer["notifications"]), 7)
        self.expect_texts([(M2, text("março/2026", "Vendedor %02d" % i, "R$ %d.000,00" % (50 + i)))
                           for i in range(6, 13)])

    # ---- CSV, JSON, multipart ---------------------------------------------------------

    def test_csv_with_semicolons_and_brazilian_numbers(self):
        self.managers(M1)
        answer = self.upload(fixture("br_semicolon.csv"), query="?period=2026-01", ctype="text/csv")
        self.assertEqual(answer["files"][0]["format"], "csv")
        self.assertEqual(self.sales_rows(), {
            ("2026-01", "Ana Souza"): 5732000,
            ("2026-01", 'Bruno "Bê" Lima'): 5500000,
            ("2026-01", "Carla;Dias"): 4850050,
            ("2026-01", "João Pedro"): 5500000,
        })
        period = answer["periods"][0]
        self.assertEqual(period["total_cents"], 5732000 + 5500000 + 4850050 + 5500000)
        self.assertEqual(period["total"], "R$ 215.820,50")
        self.expect_texts([(M1, text("janeiro/2026", "Ana Souza", "R$ 57.320,00"))])

    def test_goal_at_least_and_json(self):
        self.managers(M1, rule="at_least", target_cents=5000000)
        rows = [{"seller": "Ana", "amount": 50000, "period": "2026-02"},
                {"seller": "Bia", "amount": "49.999,99", "period": "2026-02"},
                {"seller": "ana", "amount": 0.5, "period": "2026-02"}]
        answer = self.upload(json.dumps(rows).encode(), ctype="application/json")
        self.assertEqual([n["seller"] for n in answer["notifications"]], ["Ana"])
        self.expect_texts([(M1, text("fevereiro/2026", "Ana", "R$ 50.000,50", "R$ 50.000,00"))])

    def test_multipart_with_several_files_and_months_from_names(self):
        self.managers(M1)
        csv_march = "Vendedor;Vendas\r\nDora;60.000,00\r\n".encode()
        answer = self.upload_multipart([
            ("janeiro 2026.xlsx", fixture("janeiro 2026.xlsx"), XLSX),
            ("C:\\Planilhas\\fevereiro 2026.xlsx", fixture("fevereiro 2026.xlsx"), "application/octet-stream"),
            ("Março_2026.csv", csv_march, "text/csv"),
        ], fields=[("comment", "ignored")])
        self.assertEqual([(f["filename"], f["format"], f["periods"]) for f in answer["files"]], [
            ("janeiro 2026.xlsx", "xlsx", ["2026-01"]),
            ("fevereiro 2026.xlsx", "xlsx", ["2026-02"]),
            ("Março_2026.csv", "csv", ["2026-03"]),
        ])
        self.assertEqual(self.sales_rows()[("2026-03", "Dora")], 6000000)
        self.expect_texts([(M1, text("janeiro/2026", "Ana Souza", "R$ 57.320,00")),
                           (M1, text("fevereiro/2026", "Bruno Lima", "R$ 55.000,01")),
                           (M1, text("fevereiro/2026", "Carla Dias", "R$ 61.234,56")),
                           (M1, text("março/2026", "Dora", "R$ 60.000,00"))])
        # a period field names the month of files whose names do not
        answer = self.upload_multipart([("vendas.csv", b"vendedor,valor\nEva,1\n", "text/csv")],
                                       fields=[("period", "2026-09")])
        self.assertEqual(answer["files"][0]["periods"], ["2026-09"])

    def test_sheet_by_name_and_filename_parameter(self):
        book = fixture("second_sheet.xlsx")  # sheets: "Oculta" (hidden), "Resumo", "Vendas"
        answer = self.upload(book, query="?period=2026-01", expect=422)  # the first visible one is "Resumo"
        self.assert_error(422, answer, "missing seller column")
        answer = self.upload(book, query="?period=2026-01&sheet=vendas")
        self.assertEqual(self.sales_rows(), {("2026-01", "Ana Souza"): 6000000, ("2026-01", "Bruno Lima"): 100000})
        answer = self.upload_multipart([("abril.xlsx", book, XLSX)], fields=[("sheet", "Vendas")])
        self.assertEqual(answer["files"][0]["periods"], ["%d-04" % YEAR])
        answer = self.upload(fixture("junho.xlsx"), query="?filename=junho.xlsx")
        self.assertEqual(answer["files"][0]["periods"], ["%d-06" % YEAR])
        answer = self.upload(book, query="?period=2026-01&sheet=Nope", expect=422)
        self.assert_error(422, answer, "Nope")
        # neither parameter nor file name: a sheet named after its month
        answer = self.upload(small_xlsx("Outubro 2026", [["Vendedor", "Vendas"], ["Gil", 1234.5]]))
        self.assertEqual(answer["files"][0]["periods"], ["2026-10"])
        self.assertEqual(self.sales_rows()[("2026-10", "Gil")], 123450)
        answer = self.upload(small_xlsx("Planilha1", [["Vendedor", "Vendas"], ["Gil", 1]]), expect=422)
        self.assert_error(422, answer, "row 2: no month")

    def test_streamed_upload_without_content_length(self):
        """A chunked upload (no Content-Length) of a CSV in small pieces."""
        self.managers(M1)
        conn = http.client.HTTPConnection("127.0.0.1", self.plantao.port, timeout=30)
        conn.putrequest("POST", "/api/sales?period=2026-04")
        conn.putheader("Authorization", "Bearer " + self.plantao.api_token)
        conn.putheader("Content-Type", "text/csv")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        lines = [b"vendedor;valor\r\n"] + [b"Seller %d;1.000,00\r\n" % (i % 10) for i in range(5000)]
        for i in range(0, len(lines), 37):
            piece = b"".join(lines[i:i + 37])
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        answer = json.loads(resp.read())
        conn.close()
        self.assertEqual(resp.status, 201, answer)
        self.assertEqual(answer["files"][0]["rows"], 5000)
        self.assertEqual(answer["periods"][0]["sellers"], 10)
        self.assertEqual(self.sales_rows()[("2026-04", "Seller 3")], 500 * 100000)
        self.assertEqual(len(answer["notifications"]), 10)
        self.expect_texts([(M1, text("abril/2026", "Seller %d" % i, "R$ 500.000,00")) for i in range(10)])

    # ---- bad input ------------------------------------------------------------------

    def assert_error(self, status, answer, *parts):
        self.assertIn("error", answer, answer)
        msg = answer["error"]["message"]
        for p in parts:
            self.assertIn(p, msg)
        self.assertNotIn("\n", msg)

    def test_bad_files_are_rejected_and_nothing_is_imported(self):
        self.managers(M1, M2)
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01" + bytes(200)
        self.assert_error(415, self.upload(png, query="?period=2026-01", ctype="image/png", expect=415),
                          "not a spreadsheet")
        self.assert_error(422, self.upload(fixture("corrupt.xlsx"), query="?period=2026-01", expect=422),
                          "corrupt")
        self.assert_error(422, self.upload(fixture("truncated.xlsx"), query="?period=2026-01", expect=422),
                          "not a zip")
        self.assert_error(422, self.upload(fixture("not_xlsx.zip"), query="?period=2026-01", expect=422),
                          "not an .xlsx")
        self.assert_error(413, self.upload(fixture("bomb.xlsx"), query="?period=2026-01", expect=413), "64 MiB")
        self.assert_error(413, self.upload(fixture("bomb_lying.xlsx"), query="?period=2026-01", expect=413))
        self.assert_error(422, self.upload(fixture("missing_columns.csv"), query="?period=2026-01", expect=422),
                          "vendedor", "valor", "found 'Produto', 'Quantidade'")
        self.assert_error(422, self.upload(fixture("line17.csv"), query="?period=2026-01", expect=422),
                          "line 17", "'abc'")
        self.assert_error(422, self.upload(fixture("bad_amount.xlsx"), query="?period=2026-01", expect=422),
                          "row 17", "'abc'")
        self.assert_error(422, self.upload(b"", query="?period=2026-01", expect=422), "empty")
        self.assert_error(422, self.upload(fixture("header_only.csv"), query="?period=2026-01", expect=422))
        self.assert_error(422, self.upload(b"vendedor;valor\nAna;1,00\n", query="?period=2026-13", expect=422),
                          "2026-13")
        self.assert_error(422, self.upload(b"[{\"seller\": 1}]", ctype="application/json", expect=422))
        # a good workbook next to a bad CSV: the whole upload is refused
        answer = self.upload_multipart([("janeiro 2026.xlsx", fixture("janeiro 2026.xlsx"), XLSX),
                                        ("fevereiro 2026.csv", fixture("line17.csv"), "text/csv")], expect=422)
        self.assert_error(422, answer, "fevereiro 2026.csv", "line 17")
        answer = self.upload_multipart([("janeiro 2026.xlsx", fixture("janeiro 2026.xlsx"), XLSX),
                                        ("logo.png", png, "image/png")], expect=415)
        self.assert_error(415, answer, "logo.png")
        # two files for one month
        answer = self.upload_multipart([("janeiro 2026.xlsx", fixture("janeiro 2026.xlsx"), XLSX),
                                        ("2026-01.csv", b"vendedor,valor\nAna,1\n", "text/csv")], expect=422)
        self.assert_error(422, answer, "one file per month")
        # broken multipart framing
        body, ctype = multipart([("janeiro 2026.xlsx", fixture("janeiro 2026.xlsx"), XLSX)])
        status, answer, _ = self.api("POST", "/api/sales", data=body[:-30], headers={"Content-Type": ctype})
        self.assertEqual(status, 400, answer)
        self.assert_error(400, answer, "closing boundary")
        status, answer, _ = self.api("POST", "/api/sales", data=b"x", headers={"Content-Type": "multipart/form-data"})
        self.assertEqual(status, 400, answer)
        self.nothing_imported()
        # the server is fine afterwards
        self.upload(fixture("janeiro 2026.xlsx"), filename="janeiro 2026.xlsx")
        self.expect_texts([(m, text("janeiro/2026", "Ana Souza", "R$ 57.320,00")) for m in (M1, M2)])

    def test_body_over_the_cap_is_413(self):
        status, answer, _ = self.api("POST", "/api/sales?period=2026-01", data=b"x",
                                     headers={"Content-Length": str(65 * 1024 * 1024)}, timeout=5)
        self.assertEqual(status, 413, answer)

    # ---- settings, permissions, audit --------------------------------------------------

    def test_settings(self):
        s = self.api_ok("GET", "/api/sales/settings")
        self.assertEqual(s, {"target_cents": 5500000, "target": "R$ 55.000,00", "currency": "BRL",
                             "rule": "more_than", "notify": []})
        status, body, _ = self.api("PUT", "/api/sales/settings", json={"notify": [M1, "11 98888-0001"]})
        self.assertEqual(status, 422)
        self.assertIn("notify[1]", body["error"]["message"])
        self.assertIn("11 98888-0001", body["error"]["message"])
        for bad in ({"target_cents": -1}, {"target_cents": 55000.5}, {"target": "abc"}, {"target": 0},
                    {"target": 1, "target_cents": 2}, {"rule": "more"}, {"currency": "USD"}, {"colour": 1}):
            status, body, _ = self.api("PUT", "/api/sales/settings", json=bad)
            self.assertEqual(status, 422, bad)
        s = self.api_ok("PUT", "/api/sales/settings", json={"target_cents": 6000000, "rule": "at_least",
                                                             "notify": [M2, M1, M2]})
        self.assertEqual(s["notify"], [M2, M1])
        self.assertEqual(s["target"], "R$ 60.000,00")
        s = self.api_ok("PUT", "/api/sales/settings", json={"notify": [M1]})  # the rest is kept
        self.assertEqual((s["target_cents"], s["rule"], s["notify"]), (6000000, "at_least", [M1]))
        # the goal in reais, as a number or as typed; what GET answered can be sent back
        self.assertEqual(self.api_ok("PUT", "/api/sales/settings", json={"target": 57500.5})["target_cents"],
                         5750050)
        self.assertEqual(self.api_ok("PUT", "/api/sales/settings", json={"target": "R$ 58.000,00"})["target_cents"],
                         5800000)
        self.assertEqual(self.api_ok("PUT", "/api/sales/settings", json=s)["target_cents"], 6000000)
        audit = self.db().execute("SELECT actor, action, detail FROM audit WHERE action = 'sales.settings.update'"
                                  ).fetchall()
        self.assertEqual(len(audit), 5)
        self.assertEqual(json.loads(audit[-1][2])["notify"], [M1])

    def test_roles(self):
        def token(role):
            return self.api_ok("POST", "/api/tokens", json={"name": role, "role": role})["token"]

        editor, viewer = token("editor"), token("viewer")
        status, _, _ = self.api("POST", "/api/sales?period=2026-01", data=b"vendedor;valor\nAna;1\n", token=viewer)
        self.assertEqual(status, 403)
        status, _, _ = self.api("PUT", "/api/sales/settings", json={"notify": [M1]}, token=viewer)
        self.assertEqual(status, 403)
        status, _, _ = self.api("GET", "/api/sales/report", token=viewer)
        self.assertEqual(status, 200)
        status, _, _ = self.api("POST", "/api/sales?period=2026-01", data=b"vendedor;valor\nAna;1\n", token=None)
        self.assertEqual(status, 401)
        status, body, _ = self.api("POST", "/api/sales?period=2026-01", data=b"vendedor;valor\nAna;1\n", token=editor)
        self.assertEqual(status, 201, body)

    # ---- report ---------------------------------------------------------------------

    def test_report_json_and_csv(self):
        self.managers(M1)
        self.upload(fixture("janeiro 2026.xlsx"), filename="janeiro 2026.xlsx")
        self.upload(fixture("fevereiro 2026.xlsx"), filename="fevereiro 2026.xlsx")
        self.upload(b"vendedor;valor\n=HYPERLINK(\"x\");1,00\n", query="?period=2026-03")
        self.expect_texts([(M1, text("janeiro/2026", "Ana Souza", "R$ 57.320,00")),
                           (M1, text("fevereiro/2026", "Bruno Lima", "R$ 55.000,01")),
                           (M1, text("fevereiro/2026", "Carla Dias", "R$ 61.234,56"))])
        r = self.api_ok("GET", "/api/sales/report?period=2026-01")
        self.assertEqual((r["from"], r["to"], r["target_cents"], r["rule"]), ("2026-01", "2026-01", 5500000,
                                                                               "more_than"))
        self.assertEqual([(s["seller"], s["amount_cents"], s["above_goal"], s["notified"]) for s in r["sellers"]], [
            ("Ana Souza", 5732000, True, True), ("Carla Dias", 5500000, False, False),
            ("Bruno Lima", 4100050, False, False)])
        self.assertTrue(r["sellers"][0]["notified_at"].startswith(str(time.gmtime().tm_year)))
        self.assertEqual(r["periods"], [{"period": "2026-01", "sellers": 3, "total_cents": 15332050,
                                         "above_goal": 1}])
        r = self.api_ok("GET", "/api/sales/report?from=2026-02&to=2026-03")
        self.assertEqual([p["period"] for p in r["periods"]], ["2026-02", "2026-03"])
        self.assertEqual(len(self.api_ok("GET", "/api/sales/report")["sellers"]), 7)
        for bad in ("?period=2026-1", "?from=2026-03&to=2026-01", "?period=2026-01&from=2026-01", "?format=xml"):
            self.assertEqual(self.api("GET", "/api/sales/report" + bad)[0], 400, bad)

        status, body, headers = self.api("GET", "/api/sales/report?from=2026-01&to=2026-03&format=csv")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/csv"))
        self.assertIn("attachment", headers["content-disposition"])
        self.assertTrue(body.startswith("\ufeff"))
        rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
        self.assertEqual(rows[0], ["mes", "vendedor", "vendas", "meta", "acima_da_meta", "notificado",
                                   "notificado_em"])
        self.assertEqual(rows[1][:6], ["2026-01", "Ana Souza", "57320,00", "55000,00", "sim", "sim"])
        self.assertEqual(len(rows), 1 + 7)
        self.assertEqual(rows[-1][:3], ["2026-03", "'=HYPERLINK(\"x\")", "1,00"])  # no formula in a sheet
        # the report imports back: same figures, nothing announced again
        answer = self.upload(body.encode(), ctype="text/csv")
        self.assertEqual(answer["queued"], 0)
        self.assertEqual(self.sales_rows()[("2026-01", "Ana Souza")], 5732000)


class SalesEnglishTest(IntegrationTest):
    plantao_env = {"PLANTAO_SMS_RATE": "0", "PLANTAO_LANG": "en"}

    def test_english_text_and_csv(self):
        sender = self.api("POST", "/twilio/status/message", token=None)[0] != 404
        self.api_ok("PUT", "/api/sales/settings", json={"notify": [M1]})
        status, body, _ = self.api("POST", "/api/sales?period=2026-01",
                                   data=b"Seller,Sales\nAna Souza,\"57,320.00\"\n", headers={"Content-Type": "text/csv"})
        self.assertEqual(status, 201, body)
        want = "Goal reached in January 2026: Ana Souza sold R$ 57.320,00 (goal R$ 55.000,00)"
        self.assertEqual(body["notifications"][0]["message"], want)
        if sender:
            self.sim.expect_sms(M1, containing=want)
        status, report, _ = self.api("GET", "/api/sales/report?format=csv")
        self.assertTrue(report.startswith("\ufeffmonth,seller,sales,goal,above_goal,notified,notified_at\r\n"))
        self.assertIn("2026-01,Ana Souza,57320.00,55000.00,yes,yes,", report)
