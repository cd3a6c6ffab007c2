/* tests/unit/sales/test_xlsx.c — the .xlsx reader: openpyxl and hand-written fixtures, sheet choice,
 * cell types, dates, corrupt and hostile zips (bombs), and workbooks built here with libzip
 * for the XML edge cases. Fixtures are committed; tests/fixtures/sales/make_fixtures.py
 * regenerates them. Runs from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zip.h>

#include "core/buf.h"
#include "sales/xlsx.h"

#include "tests/unit/salesfix.h"

/* Rows and outcome of parsing data as one string (free it). */
static char *run(const void *data, size_t len, const char *sheet, long fail_at)
{
	struct rec r = {.fail_at = fail_at};
	struct sales_sink sink = {rec_row, &r, 2026, 0};
	char err[512] = "";
	enum rc rc;

	buf_init(&r.out, 1 << 20);
	rc = xlsx_parse(data, len, sheet, &sink, err, sizeof(err));
	buf_printf(&r.out, "rc=%s rows=%ld err=%s", rc_str(rc), sink.rows, err);
	return buf_steal(&r.out);
}

static void expect(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void expect_fixture(const char *name, const char *sheet, const char *want)
{
	size_t len;
	char *data = load(name, &len);

	expect(run(data, len, sheet, 0), want);
	free(data);
}

static void expect_prefix(const char *name, const char *want)
{
	size_t len;
	char *data = load(name, &len), *got = run(data, len, NULL, 0);

	if (strncmp(got, want, strlen(want)) != 0)
		fail_msg("%s: got:\n%s\nwant prefix:\n%s", name, got, want);
	free(got);
	free(data);
}

static void test_monthly_files(void **state)
{
	static const struct {
		const char *file, *period, *rows;
	} m[] = {
	        {"janeiro 2026.xlsx", "2026-01",
	         "Ana Souza|5732000|-|2\nBruno Lima|4100050|-|3\nCarla Dias|5500000|-|4\n"},
	        {"fevereiro 2026.xlsx", "2026-02",
	         "Ana Souza|4800000|-|2\nBruno Lima|5500001|-|3\nCarla Dias|6123456|-|4\n"},
	        {"Março_2026.xlsx", "2026-03", "ANA SOUZA|7000000|-|2\nBruno Lima|1200000|-|3\nCarla Dias|0|-|4\n"},
	        {"vendas-abril-2026.xlsx", "2026-04",
	         "Aná Souza|5500000|-|2\nBruno Lima|9999999|-|3\nCarla Dias|5499999|-|4\n"},
	        {"2026-05.xlsx", "2026-05", "Ana Souza|3000000|-|2\nBruno Lima|5600000|-|3\nCarla Dias|5800000|-|4\n"},
	        {"junho.xlsx", "2026-06", "Ana Souza|6600000|-|2\nBruno Lima|1000|-|3\nCarla Dias|5500050|-|4\n"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char want[512], period[8];
		size_t len;
		char *data = load(m[i].file, &len);

		/* the month is only in the file name; the Total row is skipped */
		assert_true(sales_period_from_name(m[i].file, 2026, period));
		assert_string_equal(period, m[i].period);
		snprintf(want, sizeof(want), "%src=ok rows=3 err=", m[i].rows);
		expect(run(data, len, NULL, 0), want);
		free(data);
	}
}

static void test_shared_strings_and_title_row(void **state)
{
	(void)state;
	/* row 1 is a title, the header is row 3; numbers as n cells, one amount as text */
	expect_fixture("shared_strings.xlsx", NULL,
	               "Ana Souza|5732000|2026-01|4\n"
	               "Bruno Lima|5700001|2026-02|5\n"
	               "Carla Dias|123456|2026-03|6\n"
	               "Ana Souza|10000|2026-03|7\n"
	               "rc=ok rows=4 err=");
}

static void test_sheet_choice(void **state)
{
	size_t len;
	char *data = load("second_sheet.xlsx", &len);
	struct rec r = {.fail_at = 0};
	struct sales_sink sink = {rec_row, &r, 2026, 0};
	struct xlsx *x;
	char err[256];

	(void)state;
	/* default: the first visible sheet ("Oculta" is hidden), which has no such columns */
	expect(run(data, len, NULL, 0),
	       "rc=unprocessable rows=0 err=row 1: missing seller column (one of vendedor, "
	       "vendedora, seller, nome, name); missing amount column (one of vendas, sales, valor, "
	       "amount, total); found 'Mês', 'Meta'");
	expect(run(data, len, "Vendas", 0), "Ana Souza|6000000|-|2\nBruno Lima|100000|-|3\nrc=ok rows=2 err=");
	expect(run(data, len, " VENDAS ", 0), "Ana Souza|6000000|-|2\nBruno Lima|100000|-|3\nrc=ok rows=2 err=");
	expect(run(data, len, "oculta", 0), "Nunca Lido|100|-|2\nrc=ok rows=1 err=");
	expect(run(data, len, "Nope", 0),
	       "rc=unprocessable rows=0 err=sheet 'Nope' not found; the workbook has 'Oculta', "
	       "'Resumo', 'Vendas'");

	/* the same through the feeding interface, in uneven chunks; the sheet name is kept */
	buf_init(&r.out, 4096);
	x = xlsx_new(&sink, "vendas");
	assert_non_null(x);
	assert_string_equal(xlsx_sheet_name(x), "");
	for (size_t at = 0; at < len; at += 1000)
		assert_int_equal(xlsx_feed(x, data + at, len - at < 1000 ? len - at : 1000, err, sizeof(err)), RC_OK);
	assert_int_equal(xlsx_finish(x, err, sizeof(err)), RC_OK);
	assert_string_equal(xlsx_sheet_name(x), "Vendas");
	assert_string_equal(r.out.data, "Ana Souza|6000000|-|2\nBruno Lima|100000|-|3\n");
	assert_int_equal(xlsx_feed(x, "x", 1, err, sizeof(err)), RC_INTERNAL);
	xlsx_free(x);
	xlsx_free(NULL);
	buf_release(&r.out);
	free(data);
}

static void test_inline_strings_and_sparse_rows(void **state)
{
	(void)state;
	expect_fixture("inline_strings.xlsx", NULL,
	               "Ana Souza|5732000|2026-01|4\n"
	               "Bruno|5500050|-|6\n"
	               "Carla|100000|2026-02|7\n"
	               "42|750|-|10\n"
	               "rc=ok rows=4 err=");
}

static void test_rich_text(void **state)
{
	(void)state;
	expect_fixture("rich_text.xlsx", NULL, "Ana Souza|5732000|-|2\nBruno & Filhos|1250|-|3\nrc=ok rows=2 err=");
}

static void test_date_periods(void **state)
{
	static const char want[] = "Ana|100|2026-01|2\nBruno|200|2026-01|3\nCarla|300|2026-02|4\n"
	                           "Davi|400|2026-03|5\nrc=ok rows=4 err=";

	(void)state;
	expect_fixture("dates.xlsx", NULL, want);
	expect_fixture("dates_1904.xlsx", NULL, want);
}

static void test_row_17(void **state)
{
	size_t len;
	char *data = load("bad_amount.xlsx", &len), *got = run(data, len, NULL, 0);

	(void)state;
	assert_non_null(strstr(got, "S16|1600000|-|16\n"));
	assert_non_null(strstr(got, "rc=unprocessable rows=15 err=row 17: amount 'abc' is not a "
	                            "number"));
	free(got);
	free(data);
}

static void test_bad_zips(void **state)
{
	(void)state;
	expect_prefix("corrupt.xlsx", "rc=unprocessable rows=0 err=corrupt .xlsx file: ");
	expect_prefix("truncated.xlsx", "rc=unprocessable rows=0 err=");
	expect_fixture("not_xlsx.zip", NULL,
	               "rc=unprocessable rows=0 err=not an .xlsx workbook: xl/workbook.xml is missing");
	expect(run("vendedor;valor\nAna;5\n", 21, NULL, 0),
	       "rc=unprocessable rows=0 err=not an .xlsx file: not a zip archive");
	expect(run("", 0, NULL, 0), "rc=unprocessable rows=0 err=empty file");
	expect(run("PK\x03\x04garbage", 11, NULL, 0),
	       "rc=unprocessable rows=0 err=not an .xlsx file: not a zip archive");
}

static void test_zip_bombs(void **state)
{
	(void)state;
	size_t len;
	char *data = load("bomb.xlsx", &len), *got = run(data, len, NULL, 0);

	/* declared 80 MiB: refused before inflating */
	assert_non_null(strstr(got, "rc=too_big rows=0 err=xl/worksheets/sheet1.xml unzips to 840"));
	assert_non_null(strstr(got, " bytes, over the 64 MiB limit"));
	free(got);
	free(data);
	/* headers claim 1000 bytes: the byte counter stops it */
	expect_fixture("bomb_lying.xlsx", NULL, "rc=too_big rows=0 err=the workbook unzips to more than 64 MiB");
}

static void test_input_cap(void **state)
{
	struct rec r = {.fail_at = 0};
	struct sales_sink sink = {rec_row, &r, 2026, 0};
	struct xlsx *x = xlsx_new(&sink, NULL);
	size_t chunk = 1 << 20;
	char *zeros = calloc(1, chunk), err[128];
	enum rc rc = RC_OK;
	size_t fed = 0;

	(void)state;
	assert_non_null(zeros);
	while (rc == RC_OK && fed <= XLSX_MAX_INPUT) {
		rc = xlsx_feed(x, zeros, chunk, err, sizeof(err));
		fed += chunk;
	}
	assert_int_equal(rc, RC_TOO_BIG);
	assert_int_equal(fed, XLSX_MAX_INPUT + chunk);
	assert_string_equal(err, "the .xlsx file is larger than 32 MiB");
	err[0] = '\0';
	assert_int_equal(xlsx_finish(x, err, sizeof(err)), RC_TOO_BIG); /* sticky */
	assert_string_equal(err, "the .xlsx file is larger than 32 MiB");
	xlsx_free(x);
	free(zeros);
}

/* ---- workbooks built here ---- */

static const char wb_xml[] = "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
                             "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
                             "<sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
static const char rels_xml[] = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                               "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
                               "relationships/worksheet\" Target=\"worksheets/../worksheets/./s.xml\"/>"
                               "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
                               "relationships/sharedStrings\" Target=\"sst.xml\"/></Relationships>";

/* A zip in memory with the given entries (name, text; NULL-terminated pairs). Free it. */
static char *make_zip(size_t *len, ...)
{
	zip_error_t ze;
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *za;
	zip_stat_t st;
	const char *name;
	char *out;
	va_list ap;

	assert_non_null(src);
	zip_source_keep(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	va_start(ap, len);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *text = va_arg(ap, const char *);
		zip_source_t *s = zip_source_buffer(za, text, strlen(text), 0);

		assert_true(zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8) >= 0);
	}
	va_end(ap);
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_stat(src, &st), 0);
	assert_int_equal(zip_source_open(src), 0);
	out = malloc(st.size + 1);
	assert_non_null(out);
	assert_int_equal(zip_source_read(src, out, st.size), (zip_int64_t)st.size);
	zip_source_close(src);
	zip_source_free(src);
	*len = st.size;
	return out;
}

static char *sheet_run(const char *sheet_data, const char *sst)
{
	char sheet[8192];
	size_t len;
	char *zip, *got;

	snprintf(sheet, sizeof(sheet),
	         "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
	         "<sheetData>%s</sheetData></worksheet>",
	         sheet_data);
	if (sst)
		zip = make_zip(&len, "xl/workbook.xml", wb_xml, "xl/_rels/workbook.xml.rels", rels_xml,
		               "xl/worksheets/s.xml", sheet, "xl/sst.xml", sst, NULL);
	else
		zip = make_zip(&len, "xl/workbook.xml", wb_xml, "xl/_rels/workbook.xml.rels", rels_xml,
		               "xl/worksheets/s.xml", sheet, NULL);
	got = run(zip, len, NULL, 0);
	free(zip);
	return got;
}

#define HDR                                                                                                            \
	"<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>vendedor</t></is></c>"                                        \
	"<c r=\"B1\" t=\"inlineStr\"><is><t>valor</t></is></c></row>"

static void test_built_workbooks(void **state)
{
	static const char sst[] = "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/"
	                          "main\"><si><t>Ana</t></si></sst>";
	char *got;

	(void)state;
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c><c r=\"B2\"><v>2</v></c>"
	                     "</row>",
	                 sst),
	       "Ana|200|-|2\nrc=ok rows=1 err=");
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c><c r=\"B2\"><v>2</v></c>"
	                     "</row>",
	                 sst),
	       "rc=unprocessable rows=0 err=row 2: shared string '1' does not exist");
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c></row>", NULL),
	       "rc=unprocessable rows=0 err=row 2: shared string '0' does not exist");
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"ZZZZ2\"><v>1</v></c></row>", NULL),
	       "rc=unprocessable rows=0 err=row 2: bad cell reference 'ZZZZ2'");
	expect(sheet_run(HDR "<row r=\"x\"></row>", NULL), "rc=unprocessable rows=0 err=row 2: bad row number 'x'");
	expect(sheet_run(HDR, NULL), "rc=unprocessable rows=0 err=sheet 'S' has no data rows after the header");
	expect(sheet_run("", NULL), "rc=unprocessable rows=0 err=sheet 'S' is empty");
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Ana</t></is></c>"
	                     "<c r=\"B2\" t=\"e\"><v>#REF!</v></c></row>",
	                 NULL),
	       "rc=unprocessable rows=0 err=row 2: amount '#REF!' is not a number");
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Ana</t></is></c>"
	                     "<c r=\"B2\"><v>-1</v></c></row>",
	                 NULL),
	       "rc=unprocessable rows=0 err=row 2: amount '-1' is negative");
	/* a formula cell keeps its cached value */
	expect(sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Ana</t></is></c>"
	                     "<c r=\"B2\"><f>SUM(C2:D2)</f><v>57000.5</v></c></row>",
	                 NULL),
	       "Ana|5700050|-|2\nrc=ok rows=1 err=");
	got = sheet_run(HDR "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Ana</t></is>", NULL);
	assert_non_null(strstr(got, "rc=unprocessable rows=0 err=xl/worksheets/s.xml: invalid XML: "));
	free(got);
}

static void test_title_rows_limit(void **state)
{
	char rows[4096];
	size_t o = 0;

	(void)state;
	for (int i = 1; i <= 10; i++)
		o += (size_t)snprintf(rows + o, sizeof(rows) - o,
		                      "<row r=\"%d\"><c r=\"A%d\" t=\"inlineStr\"><is><t>t%d</t></is>"
		                      "</c></row>",
		                      i, i, i);
	snprintf(rows + o, sizeof(rows) - o,
	         "<row r=\"11\"><c r=\"A11\" t=\"inlineStr\"><is><t>vendedor</t></is></c>"
	         "<c r=\"B11\" t=\"inlineStr\"><is><t>valor</t></is></c></row>");
	expect(sheet_run(rows, NULL),
	       "rc=unprocessable rows=0 err=row 1: missing seller column (one of vendedor, vendedora, "
	       "seller, nome, name); missing amount column (one of vendas, sales, valor, amount, "
	       "total); found 't1'");
}

static void test_dtd_refused(void **state)
{
	static const char laughs[] =
	        "<?xml version=\"1.0\"?><!DOCTYPE workbook [<!ENTITY a \"aaaaaaaaaa\">"
	        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	        "]><workbook><sheets><sheet name=\"&c;\"/></sheets></workbook>";
	size_t len;
	char *zip = make_zip(&len, "xl/workbook.xml", laughs, NULL);

	(void)state;
	expect(run(zip, len, NULL, 0), "rc=unprocessable rows=0 err=xl/workbook.xml: a DTD is not allowed");
	free(zip);
}

static void test_sink_failure(void **state)
{
	size_t len;
	char *data = load("janeiro 2026.xlsx", &len);

	(void)state;
	expect(run(data, len, NULL, 2),
	       "Ana Souza|5732000|-|2\nrc=database rows=1 err=row 3: row not accepted (database)");
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_monthly_files),   cmocka_unit_test(test_shared_strings_and_title_row),
	        cmocka_unit_test(test_sheet_choice),    cmocka_unit_test(test_inline_strings_and_sparse_rows),
	        cmocka_unit_test(test_rich_text),       cmocka_unit_test(test_date_periods),
	        cmocka_unit_test(test_row_17),          cmocka_unit_test(test_bad_zips),
	        cmocka_unit_test(test_zip_bombs),       cmocka_unit_test(test_input_cap),
	        cmocka_unit_test(test_built_workbooks), cmocka_unit_test(test_title_rows_limit),
	        cmocka_unit_test(test_dtd_refused),     cmocka_unit_test(test_sink_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
