/* tests/unit/sales/test_csv.c — the incremental CSV reader: fixtures, every chunk split, errors,
 * caps, memory. Runs from the repository root (fixtures in tests/fixtures/sales/). */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "sales/csv.h"

#include "tests/unit/salesfix.h"

/* Parses data cut at the given offsets (sorted, ascending; n of them) and returns every row
 * plus the outcome as one string (free it). */
static char *run_cuts(const char *data, size_t len, const size_t *cuts, size_t ncuts)
{
	struct rec r = {.fail_at = 0};
	struct sales_sink sink = {rec_row, &r, 2026, 0};
	struct csv *c = csv_new(&sink);
	char err[256] = "";
	enum rc rc = RC_OK;
	size_t at = 0;

	assert_non_null(c);
	buf_init(&r.out, 1 << 20);
	for (size_t i = 0; i <= ncuts && rc == RC_OK; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		rc = csv_feed(c, data + at, end - at, err, sizeof(err));
		at = end;
	}
	if (rc == RC_OK)
		rc = csv_finish(c, err, sizeof(err));
	csv_free(c);
	buf_printf(&r.out, "rc=%s rows=%ld err=%s", rc_str(rc), sink.rows, err);
	return buf_steal(&r.out);
}

static char *run_whole(const char *data, size_t len)
{
	return run_cuts(data, len, NULL, 0);
}

static char *run_text(const char *text)
{
	return run_whole(text, strlen(text));
}

static void expect(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void expect_fixture(const char *name, const char *want)
{
	size_t len;
	char *data = load(name, &len);

	expect(run_whole(data, len), want);
	free(data);
}

static void test_br_semicolon(void **state)
{
	(void)state;
	expect_fixture("br_semicolon.csv", "Ana Souza|5732000|2026-01|2\n"
	                                   "Bruno \"Bê\" Lima|5500000|2026-01|3\n"
	                                   "Carla;Dias|4850050|2026-01|4\n"
	                                   "João Pedro|5500000|-|6\n"
	                                   "rc=ok rows=4 err=");
}

static void test_us_comma(void **state)
{
	(void)state;
	expect_fixture("us_comma.csv", "Ana Souza|5700050|2026-02|2\n"
	                               "Lima, Bruno|123456|2026-02|3\n"
	                               "Carla Dias|5500000|-|4\n"
	                               "rc=ok rows=3 err=");
}

static void test_quoted_newlines(void **state)
{
	(void)state;
	/* the first record spans lines 2-4; errors name the line where a record starts */
	expect_fixture("quoted.csv", "Ana Souza|5732000|-|2\n"
	                             "Bruno|6000000|-|5\n"
	                             "rc=unprocessable rows=2 err=line 6: amount 'abc' is not a number");
}

static void test_line_17(void **state)
{
	size_t len;
	char *data = load("line17.csv", &len), *got = run_whole(data, len);
	const char *tail = strstr(got, "rc=");

	(void)state;
	assert_non_null(tail);
	assert_string_equal(tail, "rc=unprocessable rows=15 err=line 17: amount 'abc' is not a number");
	assert_non_null(strstr(got, "Seller 15|6500000|-|16\n"));
	free(got);
	free(data);
}

static void test_other_fixtures(void **state)
{
	(void)state;
	expect_fixture("cp1252.csv", "João Conceição|100000|2026-03|2\nrc=ok rows=1 err=");
	expect_fixture("tab.tsv", "Ana Souza|5700000|-|2\nBruno|150025|-|3\nrc=ok rows=2 err=");
	expect_fixture("cr_only.csv", "Ana|1000|-|2\nBruno|2000|-|3\nrc=ok rows=2 err=");
	expect_fixture("empty.csv", "rc=unprocessable rows=0 err=empty file: no header line");
	expect_fixture("header_only.csv", "rc=unprocessable rows=0 err=no data rows after the header");
	expect_fixture("negative.csv", "rc=unprocessable rows=0 err=line 2: amount '-5,00' is negative");
	expect_fixture("too_many_fields.csv",
	               "rc=unprocessable rows=0 err=line 2: 3 fields but the header has 2; quote "
	               "values that contain ','");
	expect_fixture("missing_columns.csv",
	               "rc=unprocessable rows=0 err=line 1: missing seller column (one of vendedor, "
	               "vendedora, seller, nome, name); missing amount column (one of vendas, sales, "
	               "valor, amount, total); found 'Produto', 'Quantidade', 'Preço'");
}

static const char *const split_fixtures[] = {
        "br_semicolon.csv", "us_comma.csv", "quoted.csv",          "line17.csv",
        "cp1252.csv",       "tab.tsv",      "cr_only.csv",         "empty.csv",
        "header_only.csv",  "negative.csv", "too_many_fields.csv", "missing_columns.csv",
};

/* Splitting anywhere (inside quotes, between CR and LF, inside UTF-8 and the BOM) changes
 * nothing: two halves at every offset, and one byte at a time. */
static void test_every_split(void **state)
{
	(void)state;
	for (size_t f = 0; f < sizeof(split_fixtures) / sizeof(split_fixtures[0]); f++) {
		size_t len, *cuts;
		char *data = load(split_fixtures[f], &len), *whole = run_whole(data, len);

		for (size_t at = 0; at <= len; at++) {
			char *got = run_cuts(data, len, &at, 1);

			if (strcmp(got, whole) != 0)
				fail_msg("%s split at %zu:\n%s\nwhole:\n%s", split_fixtures[f], at, got, whole);
			free(got);
		}
		cuts = malloc((len + 1) * sizeof(*cuts));
		assert_non_null(cuts);
		for (size_t i = 0; i < len; i++)
			cuts[i] = i + 1;
		{
			char *got = run_cuts(data, len, cuts, len ? len - 1 : 0);

			if (strcmp(got, whole) != 0)
				fail_msg("%s byte by byte:\n%s\nwhole:\n%s", split_fixtures[f], got, whole);
			free(got);
		}
		free(cuts);
		free(whole);
		free(data);
	}
}

static void test_separator_detection(void **state)
{
	(void)state;
	/* the separator inside quotes does not count; ';' wins a tie */
	expect(run_text("\"valor, R$\";vendedor\n\"1,5\";Ana\n"), "Ana|150|-|2\nrc=ok rows=1 err=");
	expect(run_text("vendedor;valor (R$, BRL)\nAna;5,5\n"), "Ana|550|-|2\nrc=ok rows=1 err=");
	expect(run_text("vendedor;valor;obs,x\nAna;5,5;a,b\n"), "Ana|550|-|2\nrc=ok rows=1 err=");
	expect(run_text("vendedor,valor\nAna,\"5,5\"\n"), "Ana|550|-|2\nrc=ok rows=1 err=");
	/* blank lines (and a BOM) before the header */
	expect(run_text("\xef\xbb\xbf\r\n  \r\n\nvendedor\tvalor\r\nAna\t5\r\n"), "Ana|500|-|5\nrc=ok rows=1 err=");
	/* no separator at all: one column, which cannot hold both */
	expect(run_text("vendedor\nAna\n"),
	       "rc=unprocessable rows=0 err=line 1: missing amount column (one of vendas, sales, "
	       "valor, amount, total); found 'vendedor'");
}

static void test_lenient_quotes(void **state)
{
	(void)state;
	expect(run_text("vendedor,valor\nA\"na,5\n\"Bru\"no,6\n \"Carla\"  ,\"7\"\n"),
	       "A\"na|500|-|2\nBruno|600|-|3\nCarla|700|-|4\nrc=ok rows=3 err=");
	expect(run_text("vendedor,valor\n\"\"\"Ana\"\"\",5\n\"\",\"\"\n"), "\"Ana\"|500|-|2\nrc=ok rows=1 err=");
	/* the last record without a newline, ending in an empty field */
	expect(run_text("vendedor,valor,mes\nAna,5,"), "Ana|500|-|2\nrc=ok rows=1 err=");
	expect(run_text("vendedor,valor\n\"Ana,5\n"), "rc=unprocessable rows=0 err=line 2: quoted field is not closed");
}

static void test_nul_and_caps(void **state)
{
	static const char nul[] = "vendedor,valor\nAna,5\nB\0,6\n";
	size_t big = CSV_MAX_RECORD + 10;
	char *data = malloc(big + 64);
	int n;

	(void)state;
	expect(run_whole(nul, sizeof(nul) - 1),
	       "Ana|500|-|2\nrc=unprocessable rows=1 err=line 3: NUL byte: not a text file");
	assert_non_null(data);
	n = snprintf(data, 64, "vendedor,valor\nAna,5\n\"");
	memset(data + n, 'x', big);
	memcpy(data + n + big, "\",1\n", 4);
	expect(run_whole(data, (size_t)n + big + 4),
	       "Ana|500|-|2\nrc=too_big rows=1 err=line 3: record longer than 65536 bytes");
	/* a header line that never ends */
	memset(data, 'v', big);
	expect(run_whole(data, big), "rc=too_big rows=0 err=line 1: header longer than 65536 bytes");
	/* a record just under the cap is fine */
	n = snprintf(data, 64, "vendedor,valor\n");
	memset(data + n, 'y', SALES_SELLER_MAX);
	memset(data + n + SALES_SELLER_MAX, ' ', CSV_MAX_RECORD - SALES_SELLER_MAX - 10);
	memcpy(data + n + CSV_MAX_RECORD - 10, ",5\n", 3);
	{
		char *got = run_whole(data, (size_t)n + CSV_MAX_RECORD - 10 + 3);

		assert_non_null(strstr(got, "rc=ok rows=1"));
		free(got);
	}
	free(data);
}

static void test_sticky_error_and_sink_failure(void **state)
{
	struct rec r = {.fail_at = 2};
	struct sales_sink sink = {rec_row, &r, 2026, 0};
	struct csv *c = csv_new(&sink);
	char err[128] = "";
	static const char body[] = "vendedor;valor\nAna;1\nBruno;2\nCarla;3\n";

	(void)state;
	buf_init(&r.out, 4096);
	assert_int_equal(csv_feed(c, body, sizeof(body) - 1, err, sizeof(err)), RC_DB);
	assert_string_equal(err, "line 3: row not accepted (database)");
	assert_int_equal(sink.rows, 1);
	err[0] = '\0';
	assert_int_equal(csv_feed(c, "Davi;4\n", 7, err, sizeof(err)), RC_DB);
	assert_string_equal(err, "line 3: row not accepted (database)");
	assert_int_equal(csv_finish(c, NULL, 0), RC_DB);
	assert_int_equal(r.calls, 2);
	csv_free(c);
	csv_free(NULL);
	buf_release(&r.out);
}

static enum rc count_row(void *ctx, const struct sales_row *row)
{
	(void)row;
	(*(long *)ctx)++;
	return RC_OK;
}

/* Tens of MiB in 64 KiB chunks: every row arrives and the heap does not grow with the file. */
static void test_large_input_constant_memory(void **state)
{
	long count = 0;
	struct sales_sink sink = {count_row, &count, 2026, 0};
	struct csv *c = csv_new(&sink);
	char chunk[65536];
	size_t n = 0, total = 0;
	size_t before, after;
	long rows = 0;

	(void)state;
	assert_int_equal(csv_feed(c, "vendedor;valor;mes\r\n", 20, NULL, 0), RC_OK);
	before = mallinfo2().uordblks;
	while (total < 24u << 20) {
		n = 0;
		while (n + 64 < sizeof(chunk)) {
			n += (size_t)snprintf(chunk + n, sizeof(chunk) - n,
			                      "\"Vendedor %ld\";R$ %ld.%03ld,50;2026-01\r\n", rows, rows / 1000 + 1,
			                      rows % 1000);
			rows++;
		}
		assert_int_equal(csv_feed(c, chunk, n, NULL, 0), RC_OK);
		total += n;
	}
	after = mallinfo2().uordblks;
	assert_int_equal(csv_finish(c, NULL, 0), RC_OK);
	assert_int_equal(count, rows);
	assert_int_equal(sink.rows, rows);
	/* uordblks is 0 under sanitizers; in a plain build this is the real check */
	assert_true(after < before + (1u << 20));
	csv_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_br_semicolon),
	        cmocka_unit_test(test_us_comma),
	        cmocka_unit_test(test_quoted_newlines),
	        cmocka_unit_test(test_line_17),
	        cmocka_unit_test(test_other_fixtures),
	        cmocka_unit_test(test_every_split),
	        cmocka_unit_test(test_separator_detection),
	        cmocka_unit_test(test_lenient_quotes),
	        cmocka_unit_test(test_nul_and_caps),
	        cmocka_unit_test(test_sticky_error_and_sink_failure),
	        cmocka_unit_test(test_large_input_constant_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
