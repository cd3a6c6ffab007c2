/* tests/unit/sales/test_sales_parse.c — seller folding, periods, detection, header matching, row
 * rules and the JSON reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "sales/sales_parse.h"

/* ---- a sink that prints rows as "seller|cents|period|line\n" ---- */

struct rec {
	struct buf out;
	long fail_at; /* call (1-based) at which to fail, 0: never */
	long calls;
	char *err; /* where to write the sink's own reason */
	size_t errlen;
};

static enum rc rec_row(void *ctx, const struct sales_row *row)
{
	struct rec *r = ctx;

	assert_non_null(row->seller);
	assert_true(row->seller[0] != '\0');
	assert_true(row->cents >= 0);
	assert_true(!row->period || sales_period_is_valid(row->period));
	if (++r->calls == r->fail_at) {
		if (r->err)
			snprintf(r->err, r->errlen, "seller %s refused", row->seller);
		return RC_CONFLICT;
	}
	return buf_printf(&r->out, "%s|%lld|%s|%ld\n", row->seller, (long long)row->cents,
	                  row->period ? row->period : "-", row->line);
}

static void rec_init(struct rec *r, struct sales_sink *s)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 1 << 20);
	s->row = rec_row;
	s->ctx = r;
	s->default_year = 2026;
	s->rows = 0;
}

static const char *rows(struct rec *r)
{
	return r->out.data ? r->out.data : "";
}

/* ---- folding ---- */

static void test_fold(void **state)
{
	static const char *const same[] = {
	        "Ana  Souza",         "ANA SOUZA",    "Aná Souza",
	        " ana\xc2\xa0souza ", "Ana\tSouza\n", "A\xcc\x81na Souza" /* decomposed: A + combining acute */,
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		sales_fold(same[i], out, sizeof(out));
		assert_string_equal(out, "ana souza");
	}
	sales_fold("João Conceição", out, sizeof(out));
	assert_string_equal(out, "joao conceicao");
	sales_fold("ÀÉÎÕÜÇÑ àéîõüçñ", out, sizeof(out));
	assert_string_equal(out, "aeiouc"
	                         "n aeioucn");
	sales_fold("Łukasz Żółw Straße Æsir", out, sizeof(out));
	assert_string_equal(out, "lukasz zolw strasse aesir");
	sales_fold("Дмитрий 日本", out, sizeof(out)); /* other scripts are kept as they are */
	assert_string_equal(out, "Дмитрий 日本");
	sales_fold("", out, sizeof(out));
	assert_string_equal(out, "");
	sales_fold(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	/* truncation stays on character boundaries */
	sales_fold("ção", out, 3);
	assert_string_equal(out, "ca");
	sales_fold("日本", out, 5);
	assert_string_equal(out, "日");
	sales_fold("ab  cd", out, 4); /* never a trailing space */
	assert_string_equal(out, "ab");
	sales_fold("\xff\xfe", out, sizeof(out)); /* invalid bytes are replaced */
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	sales_fold("a\xcc\xcc\xbb\xbf", out, sizeof(out)); /* ...so folding twice changes nothing */
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd");
	sales_fold("\xe0\x80\x80x\xed\xa0\x80", out, sizeof(out)); /* overlong, surrogate */
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* ---- periods ---- */

static void test_period_is_valid(void **state)
{
	(void)state;
	assert_true(sales_period_is_valid("2026-01"));
	assert_true(sales_period_is_valid("2026-12"));
	assert_true(sales_period_is_valid("1900-01"));
	assert_false(sales_period_is_valid("2026-13"));
	assert_false(sales_period_is_valid("2026-00"));
	assert_false(sales_period_is_valid("2026-1"));
	assert_false(sales_period_is_valid("26-01"));
	assert_false(sales_period_is_valid("2026/01"));
	assert_false(sales_period_is_valid("2026-01 "));
	assert_false(sales_period_is_valid("1899-12"));
	assert_false(sales_period_is_valid("20a6-01"));
	assert_false(sales_period_is_valid(NULL));
}

static void name_is(const char *file, int year, const char *want)
{
	char out[8] = "unset";

	if (!want) {
		if (sales_period_from_name(file, year, out))
			fail_msg("'%s' gave %s, expected no period", file, out);
		assert_string_equal(out, "unset");
		return;
	}
	if (!sales_period_from_name(file, year, out))
		fail_msg("'%s' gave no period, expected %s", file, want);
	assert_string_equal(out, want);
}

static void test_period_from_name(void **state)
{
	(void)state;
	name_is("janeiro.xlsx", 2026, "2026-01");
	name_is("janeiro.xlsx", 2025, "2025-01");
	name_is("2026-01.xlsx", 2020, "2026-01");
	name_is("fevereiro 2026.xlsx", 2020, "2026-02");
	name_is("Março_2026.csv", 2020, "2026-03");
	name_is("MARÇO.csv", 2026, "2026-03");
	name_is("vendas-marco-2026.xlsx", 2020, "2026-03");
	name_is("sales_january_2026.csv", 2020, "2026-01");
	name_is("April 2025.xlsx", 2026, "2025-04");
	name_is("jan26.xlsx", 2020, "2026-01");
	name_is("setembro.xlsx", 2026, "2026-09");
	name_is("Out 2026.xlsx", 2020, "2026-10");
	name_is("/tmp/up/Dezembro 2025.xlsx", 2026, "2025-12");
	name_is("C:\\Users\\ana\\maio.xlsx", 2025, "2025-05");
	name_is("2026-01 (1).xlsx", 2020, "2026-01");
	name_is("15-01-2026.csv", 2020, "2026-01");
	name_is("01_2026.csv", 2020, "2026-01");
	name_is("202603.xlsx", 2020, "2026-03");
	name_is("vendas.2026.06.xlsx", 2020, "2026-06");
	name_is("relatorio.xlsx", 2026, NULL);
	name_is("vendas 2026.xlsx", 2026, NULL);
	name_is("vendas 2026 v2.xlsx", 2026, NULL);
	name_is("jan-fev.xlsx", 2026, NULL);
	name_is("2025-2026-jan.xlsx", 2026, NULL);
	name_is("janeiro.xlsx", 0, NULL); /* no usable year */
	name_is("", 2026, NULL);
	name_is(NULL, 2026, NULL);
}

static void cell_is(const char *text, const char *want)
{
	char out[8] = "unset";

	if (!want) {
		if (sales_period_parse(text, 2026, out))
			fail_msg("'%s' gave %s, expected no period", text, out);
		return;
	}
	if (!sales_period_parse(text, 2026, out))
		fail_msg("'%s' gave no period, expected %s", text, want);
	assert_string_equal(out, want);
}

static void test_period_parse(void **state)
{
	(void)state;
	cell_is("2026-01", "2026-01");
	cell_is(" 2025-12 ", "2025-12");
	cell_is("2026/01", "2026-01");
	cell_is("01/2026", "2026-01");
	cell_is("1/2026", "2026-01");
	cell_is("202601", "2026-01");
	cell_is("jan/2026", "2026-01");
	cell_is("jan/26", "2026-01");
	cell_is("Janeiro de 2026", "2026-01");
	cell_is("janeiro/2025", "2025-01");
	cell_is("Março", "2026-03");
	cell_is("February 2026", "2026-02");
	cell_is("3", "2026-03");
	cell_is("2026-01-15", "2026-01");
	cell_is("15/01/2026", "2026-01");
	cell_is("15 de janeiro de 2026", "2026-01");
	cell_is("2026-01-15T10:00:00Z", "2026-01");
	cell_is("15/01/2026 10:30", "2026-01");
	cell_is("2026-13", NULL);
	cell_is("2026", NULL);
	cell_is("13", NULL);
	cell_is("0", NULL);
	cell_is("abc", NULL);
	cell_is("jan fev", NULL);
	cell_is("janeiro 2026 extra", NULL);
	cell_is("2026-01-32", NULL);
	cell_is("01/02", NULL);
	cell_is("", NULL);
	cell_is("1899-01", NULL);
}

static void test_month_name(void **state)
{
	(void)state;
	assert_string_equal(sales_month_name(1, "pt-BR"), "janeiro");
	assert_string_equal(sales_month_name(3, "pt"), "março");
	assert_string_equal(sales_month_name(1, NULL), "janeiro");
	assert_string_equal(sales_month_name(1, "en"), "January");
	assert_string_equal(sales_month_name(12, "EN-us"), "December");
	assert_null(sales_month_name(0, "en"));
	assert_null(sales_month_name(13, "pt-BR"));
}

/* ---- detection ---- */

static enum sales_format detect(const char *head, size_t len, const char *ct, const char *file)
{
	return sales_detect((const unsigned char *)head, len, ct, file);
}

static void test_detect(void **state)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
	static const char xls[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0\0";
	static const char utf16[] = "\xff\xfev\0e\0n\0d\0";

	(void)state;
	assert_int_equal(detect("PK\x03\x04\x14\0\0\0", 8, NULL, NULL), SALES_XLSX);
	assert_int_equal(detect("PK\x03\x04", 4, "text/csv", "x.csv"), SALES_XLSX); /* bytes win */
	assert_int_equal(detect("[{\"seller\":1}]", 14, NULL, NULL), SALES_JSON);
	assert_int_equal(detect("\xef\xbb\xbf  \r\n{", 8, "text/plain", NULL), SALES_JSON);
	assert_int_equal(detect("vendedor;valor\r\n", 16, NULL, NULL), SALES_CSV);
	assert_int_equal(detect("vendedor;valor", 14, "text/csv; charset=utf-8", "a.csv"), SALES_CSV);
	assert_int_equal(detect("vendedor;valor", 14, "application/vnd.ms-excel", "a.csv"), SALES_CSV);
	assert_int_equal(detect("x", 1, "application/json", NULL), SALES_JSON);
	assert_int_equal(detect("x", 1, "Application/JSON; charset=utf-8", NULL), SALES_JSON);
	assert_int_equal(detect("x", 1, "application/vnd.api+json", NULL), SALES_JSON);
	assert_int_equal(detect("x", 1, NULL, "vendas.json"), SALES_JSON);
	assert_int_equal(detect("x", 1, "application/octet-stream", "vendas.xlsx"), SALES_XLSX);
	assert_int_equal(detect("x", 1, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL),
	                 SALES_XLSX);
	assert_int_equal(detect(png, sizeof(png) - 1, "image/png", NULL), SALES_UNKNOWN);
	assert_int_equal(detect(xls, sizeof(xls) - 1, NULL, "vendas.xls"), SALES_UNKNOWN);
	assert_int_equal(detect(utf16, sizeof(utf16) - 1, NULL, NULL), SALES_UNKNOWN);
	assert_int_equal(detect("a\x01\x02\x03\x04", 5, NULL, NULL), SALES_UNKNOWN);
	assert_int_equal(detect("", 0, NULL, NULL), SALES_CSV); /* the reader says it is empty */
	assert_int_equal(detect(NULL, 10, NULL, NULL), SALES_CSV);
}

/* ---- header matching ---- */

static struct sales_cols match_ok(const char *const *names, size_t n)
{
	struct sales_cols c;
	char err[256];

	if (sales_header_match(names, n, &c, err, sizeof(err)) != RC_OK)
		fail_msg("header did not match: %s", err);
	return c;
}

static void test_header_match(void **state)
{
	static const char *const pt[] = {"Vendedor", "Vendas", "Mês"};
	static const char *const en[] = {"MONTH", "amount", "Seller"};
	static const char *const decorated[] = {" VENDEDOR(A) ", "Valor (R$)", NULL, "Período"};
	static const char *const currency[] = {"nome", "Valor R$", "competência"};
	static const char *const prefer[] = {"Nome", "Total", "Vendedor", "Vendas"};
	static const char *const nfd[] = {"Vendedora", "Valor", "Me\xcc\x82s"};
	static const char *const nope[] = {"Produto", "Qtd", NULL, "Preço"};
	static const char *const half[] = {"vendedor", "quantidade"};
	struct sales_cols c;
	char err[512];

	(void)state;
	c = match_ok(pt, 3);
	assert_int_equal(c.idx[SALES_COL_SELLER], 0);
	assert_int_equal(c.idx[SALES_COL_AMOUNT], 1);
	assert_int_equal(c.idx[SALES_COL_PERIOD], 2);
	c = match_ok(en, 3);
	assert_int_equal(c.idx[SALES_COL_SELLER], 2);
	assert_int_equal(c.idx[SALES_COL_AMOUNT], 1);
	assert_int_equal(c.idx[SALES_COL_PERIOD], 0);
	c = match_ok(decorated, 4);
	assert_int_equal(c.idx[SALES_COL_SELLER], 0);
	assert_int_equal(c.idx[SALES_COL_AMOUNT], 1);
	assert_int_equal(c.idx[SALES_COL_PERIOD], 3);
	c = match_ok(currency, 3);
	assert_int_equal(c.idx[SALES_COL_AMOUNT], 1);
	assert_int_equal(c.idx[SALES_COL_PERIOD], 2);
	c = match_ok(prefer, 4); /* vendedor over nome, vendas over total */
	assert_int_equal(c.idx[SALES_COL_SELLER], 2);
	assert_int_equal(c.idx[SALES_COL_AMOUNT], 3);
	assert_int_equal(c.idx[SALES_COL_PERIOD], -1);
	c = match_ok(nfd, 3);
	assert_int_equal(c.idx[SALES_COL_PERIOD], 2);

	assert_int_equal(sales_header_match(nope, 4, &c, err, sizeof(err)), RC_UNPROCESSABLE);
	assert_non_null(strstr(err, "missing seller column (one of vendedor, vendedora, seller, nome, "
	                            "name)"));
	assert_non_null(strstr(err, "missing amount column (one of vendas, sales, valor, amount, total)"));
	assert_non_null(strstr(err, "found 'Produto', 'Qtd', 'Preço'"));
	assert_int_equal(sales_header_match(half, 2, &c, err, sizeof(err)), RC_UNPROCESSABLE);
	assert_null(strstr(err, "seller column"));
	assert_non_null(strstr(err, "missing amount column"));
	assert_int_equal(sales_header_match(NULL, 0, &c, err, sizeof(err)), RC_UNPROCESSABLE);
	assert_non_null(strstr(err, "found no column names"));
	assert_int_equal(sales_header_match(nope, 4, &c, err, 10), RC_UNPROCESSABLE);
	assert_int_equal(strlen(err), 9);
}

/* ---- row rules ---- */

static struct sales_cell t(const char *s)
{
	return (struct sales_cell){s, false};
}

static void test_emit(void **state)
{
	struct sales_sink s;
	struct rec r;
	char err[256], longname[300];

	(void)state;
	rec_init(&r, &s);
	assert_int_equal(sales_emit(&s, t(" Ana \n Souza "), t("R$ 1,00"), t("jan/2025"), 2, "line", err, sizeof(err)),
	                 RC_OK);
	assert_int_equal(sales_emit(&s, t(""), t(" "), t(""), 3, "line", err, sizeof(err)), RC_OK);
	assert_int_equal(sales_emit(&s, t("Bruno"), t(""), t("2026-01"), 4, "line", err, sizeof(err)), RC_OK);
	assert_int_equal(sales_emit(&s, t("TOTAL GERAL"), t("9"), t(""), 5, "line", err, sizeof(err)), RC_OK);
	assert_int_equal(
	        sales_emit(&s, t("Carla"), (struct sales_cell){"57000.5", true}, t(""), 6, "row", err, sizeof(err)),
	        RC_OK);
	assert_string_equal(rows(&r), "Ana Souza|100|2025-01|2\nCarla|5700050|-|6\n");
	assert_int_equal(s.rows, 2);

	assert_int_equal(sales_emit(&s, t("Ana"), t("abc"), t(""), 17, "linha", err, sizeof(err)), RC_UNPROCESSABLE);
	assert_string_equal(err, "linha 17: amount 'abc' is not a number");
	assert_int_equal(sales_emit(&s, t("Ana"), t("-5,00"), t(""), 3, "row", err, sizeof(err)), RC_UNPROCESSABLE);
	assert_string_equal(err, "row 3: amount '-5,00' is negative");
	assert_int_equal(sales_emit(&s, t("  "), t("5"), t(""), 4, "line", err, sizeof(err)), RC_UNPROCESSABLE);
	assert_string_equal(err, "line 4: amount '5' has no seller");
	assert_int_equal(sales_emit(&s, t("Ana"), t("5"), t("março de 2026 talvez"), 5, "line", err, sizeof(err)),
	                 RC_UNPROCESSABLE);
	assert_string_equal(err, "line 5: period 'março de 2026 talvez' is not a month (expected "
	                         "YYYY-MM)");
	assert_int_equal(sales_emit(&s, t("Ana"), t("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), t(""), 6,
	                            "line", err, sizeof(err)),
	                 RC_UNPROCESSABLE);
	assert_string_equal(err, "line 6: amount 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not a "
	                         "number");
	assert_int_equal(sales_emit(&s, t("Ana"), t("a\nb"), t(""), 7, "line", err, sizeof(err)), RC_UNPROCESSABLE);
	assert_string_equal(err, "line 7: amount 'a b' is not a number"); /* one line */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sales_emit(&s, t(longname), t("5"), t(""), 8, "line", err, sizeof(err)), RC_UNPROCESSABLE);
	assert_string_equal(err, "line 8: seller name longer than 200 bytes");
	assert_int_equal(s.rows, 2);
	buf_release(&r.out);
}

static void test_emit_sink_failure(void **state)
{
	struct sales_sink s;
	struct rec r;
	char err[256];

	(void)state;
	rec_init(&r, &s);
	r.fail_at = 1;
	assert_int_equal(sales_emit(&s, t("Ana"), t("1"), t(""), 2, "line", err, sizeof(err)), RC_CONFLICT);
	assert_string_equal(err, "line 2: row not accepted (conflict)");
	r.err = err;
	r.errlen = sizeof(err);
	r.calls = 0;
	assert_int_equal(sales_emit(&s, t("Ana"), t("1"), t(""), 2, "line", err, sizeof(err)), RC_CONFLICT);
	assert_string_equal(err, "seller Ana refused"); /* the sink's own reason is kept */
	assert_int_equal(s.rows, 0);
	buf_release(&r.out);
}

/* ---- JSON ---- */

static enum rc json(const char *text, struct rec *r, struct sales_sink *s, char *err, size_t n)
{
	rec_init(r, s);
	return sales_parse_json(text, strlen(text), s, err, n);
}

static void test_json(void **state)
{
	static const char body[] = "[{\"seller\": \"Ana Souza\", \"amount\": 57000.5, \"period\": \"2026-01\"},"
	                           " {\"vendedor\": \"Bruno\", \"valor\": \"57.000,50\", \"mês\": null},"
	                           " {\"name\": \"Carla\", \"amount\": 55000},"
	                           " {\"seller\": \"Davi\", \"amount\": 57000.005, \"extra\": true},"
	                           " {\"seller\": \"Total\", \"amount\": 1},"
	                           " {\"seller\": \"Eva\", \"amount\": null}]";
	struct sales_sink s;
	struct rec r;
	char err[256];

	(void)state;
	assert_int_equal(json(body, &r, &s, err, sizeof(err)), RC_OK);
	assert_string_equal(rows(&r), "Ana Souza|5700050|2026-01|1\n"
	                              "Bruno|5700050|-|2\n"
	                              "Carla|5500000|-|3\n"
	                              "Davi|5700001|-|4\n");
	buf_release(&r.out);
}

static void json_fails(const char *text, enum rc want, const char *msg)
{
	struct sales_sink s;
	struct rec r;
	char err[256] = "";

	enum rc rc = json(text, &r, &s, err, sizeof(err));

	if (rc != want || !strstr(err, msg))
		fail_msg("'%s' gave '%s', expected '%s'", text, err, msg);
	buf_release(&r.out);
}

static void test_json_errors(void **state)
{
	(void)state;
	json_fails("[{\"seller\": \"Ana\",", RC_UNPROCESSABLE, "invalid JSON at line 1");
	json_fails("", RC_UNPROCESSABLE, "invalid JSON");
	json_fails("{\"seller\": \"Ana\"}", RC_UNPROCESSABLE, "expected a JSON array");
	json_fails("[]", RC_UNPROCESSABLE, "no rows");
	json_fails("[{\"seller\":\"A\",\"amount\":1}, 3]", RC_UNPROCESSABLE, "entry 2: expected an object");
	json_fails("[{\"amount\": 1}]", RC_UNPROCESSABLE, "entry 1: missing seller");
	json_fails("[{\"seller\": \"A\"}]", RC_UNPROCESSABLE, "entry 1: missing amount");
	json_fails("[{\"seller\": 5, \"amount\": 1}]", RC_UNPROCESSABLE, "entry 1: seller must be a string");
	json_fails("[{\"seller\": \"A\", \"amount\": true}]", RC_UNPROCESSABLE,
	           "entry 1: amount must be a number or a string");
	json_fails("[{\"seller\": \"A\", \"amount\": 1, \"period\": 202601}]", RC_UNPROCESSABLE,
	           "entry 1: period must be a string");
	json_fails("[{\"seller\": \"A\", \"amount\": 1, \"period\": \"jan-fev\"}]", RC_UNPROCESSABLE,
	           "entry 1: period 'jan-fev' is not a month");
	json_fails("[{\"seller\":\"A\",\"amount\":1},{\"seller\":\"B\",\"amount\":-5}]", RC_UNPROCESSABLE,
	           "entry 2: amount '-5' is negative");
	json_fails("[{\"seller\": \"A\", \"amount\": \"abc\"}]", RC_UNPROCESSABLE,
	           "entry 1: amount 'abc' is not a number");
	json_fails("[{\"seller\": \"A\", \"amount\": 1e300}]", RC_UNPROCESSABLE, "is not a number");
	json_fails("[{\"seller\": \"A\", \"amount\": 9223372036854775807}]", RC_UNPROCESSABLE, "is not a number");
}

static void test_json_sink_failure(void **state)
{
	struct sales_sink s;
	struct rec r;
	char err[256];
	static const char body[] = "[{\"seller\":\"A\",\"amount\":1},{\"seller\":\"B\",\"amount\":2}]";

	(void)state;
	rec_init(&r, &s);
	r.fail_at = 2;
	assert_int_equal(sales_parse_json(body, strlen(body), &s, err, sizeof(err)), RC_CONFLICT);
	assert_string_equal(err, "entry 2: row not accepted (conflict)");
	assert_int_equal(s.rows, 1);
	buf_release(&r.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fold),
	        cmocka_unit_test(test_period_is_valid),
	        cmocka_unit_test(test_period_from_name),
	        cmocka_unit_test(test_period_parse),
	        cmocka_unit_test(test_month_name),
	        cmocka_unit_test(test_detect),
	        cmocka_unit_test(test_header_match),
	        cmocka_unit_test(test_emit),
	        cmocka_unit_test(test_emit_sink_failure),
	        cmocka_unit_test(test_json),
	        cmocka_unit_test(test_json_errors),
	        cmocka_unit_test(test_json_sink_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
