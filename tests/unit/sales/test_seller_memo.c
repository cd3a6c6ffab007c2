/*
 * tests/unit/sales/test_seller_memo.c — the seller memo of sales_emit (server/sales/sales_parse.c)
 * changes no row: with far more seller spellings than the memo holds (so entries are replaced
 * while the file is read) every row still carries its own display name and key, total rows
 * are skipped on every appearance, names at the memo's length limits are kept or worked out
 * each time alike, and a name too long is refused on its second appearance too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sales/csv.h"
#include "sales/sales_parse.h"

#define NAMES 3000 /* distinct spellings: several times what the memo holds */

struct seen {
	long rows, bad;
	char first_bad[256];
};

/* The seller written as "  VENDEDOR  <n>  ", "vendedor <n>" or "Vendedor\tN<n>" by line. */
static void spelling(struct buf *b, int n, int how)
{
	if (how == 0)
		buf_printf(b, "  VENDEDOR  %d  ", n);
	else if (how == 1)
		buf_printf(b, "vendedor %d", n);
	else
		buf_printf(b, "Vendedor\xc2\xa0%d", n);
}

static enum rc check_row(void *ctx, const struct sales_row *row)
{
	struct seen *s = ctx;
	char want_key[64], want_seller[3][64];
	int n = (int)(row->cents / 100), how = (int)(row->cents % 100);

	snprintf(want_key, sizeof want_key, "vendedor %d", n);
	snprintf(want_seller[0], sizeof want_seller[0], "VENDEDOR %d", n);
	snprintf(want_seller[1], sizeof want_seller[1], "vendedor %d", n);
	snprintf(want_seller[2], sizeof want_seller[2], "Vendedor %d", n);
	s->rows++;
	if (how > 2 || strcmp(row->key, want_key) != 0 || strcmp(row->seller, want_seller[how]) != 0) {
		if (!s->bad++)
			snprintf(s->first_bad, sizeof s->first_bad, "line %ld: %s / %s (amount %lld)", row->line,
			         row->seller, row->key, (long long)row->cents);
	}
	return RC_OK;
}

static void test_rows_unchanged_while_the_memo_overflows(void **state)
{
	struct buf csv;
	struct seen s = {0};
	struct sales_sink sink = {check_row, &s, 2026, 0};
	char err[256] = "";
	long want = 0;

	(void)state;
	buf_init(&csv, 64u << 20);
	buf_printf(&csv, "vendedor;valor\n");
	/* each name in each spelling, twice over, interleaved so entries are replaced between
	 * appearances; the amount encodes the name and spelling: n * 100 + how cents */
	for (int pass = 0; pass < 2; pass++)
		for (int n = 1; n <= NAMES; n++)
			for (int how = 0; how < 3; how++) {
				spelling(&csv, (n * 7919 + pass * 13) % NAMES + 1, how);
				buf_printf(&csv, ";%d,%02d\n", ((n * 7919 + pass * 13) % NAMES + 1), how);
				buf_printf(&csv, "Total;1,00\nTOTAL ;2,00\n");
				want++;
			}
	assert_int_equal(csv_parse(csv.data, csv.len, &sink, err, sizeof err), RC_OK);
	if (s.bad)
		fail_msg("%ld of %ld rows wrong, first %s", s.bad, s.rows, s.first_bad);
	assert_int_equal(s.rows, want * 1);
	assert_int_equal(sink.rows, want);
	buf_release(&csv);
}

static enum rc keep_row(void *ctx, const struct sales_row *row)
{
	return buf_printf(ctx, "%s=%s|%lld\n", row->seller, row->key, (long long)row->cents);
}

static void test_names_at_the_memo_limits(void **state)
{
	char n46[47], n47[48], n48[49], n120[121], want[4096], csv[4096];
	struct buf out;
	struct sales_sink sink = {keep_row, &out, 2026, 0};
	char err[256] = "";

	(void)state;
	memset(n46, 'a', 46);
	n46[46] = '\0';
	memset(n47, 'B', 47);
	n47[47] = '\0';
	memset(n48, 'c', 48);
	n48[48] = '\0';
	memset(n120, 'D', 120);
	n120[120] = '\0';
	buf_init(&out, 1 << 16);
	snprintf(csv, sizeof csv, "vendedor;valor\n%s;1\n%s;2\n%s;3\n%s;4\n%s;5\n%s;6\n%s;7\n%s;8\n", n46, n47, n48,
	         n120, n46, n47, n48, n120);
	assert_int_equal(csv_parse(csv, strlen(csv), &sink, err, sizeof err), RC_OK);
	want[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const char *names[] = {n46, n47, n48, n120};

		for (int i = 0; i < 4; i++) {
			char key[256];

			sales_fold(names[i], key, sizeof key);
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s=%s|%d\n", names[i], key,
			         (pass * 4 + i + 1) * 100);
		}
	}
	assert_string_equal((const char *)out.data, want);
	buf_release(&out);
}

static void test_too_long_refused_each_time(void **state)
{
	char name[260], csv[1024], err[256] = "";
	struct buf out;
	struct sales_sink sink = {keep_row, &out, 2026, 0};

	(void)state;
	buf_init(&out, 1 << 16);
	memset(name, 'x', 250);
	name[250] = '\0';
	for (int i = 0; i < 2; i++) {
		snprintf(csv, sizeof csv, "vendedor;valor\nAna;1\n%s;2\n", name);
		assert_int_equal(csv_parse(csv, strlen(csv), &sink, err, sizeof err), RC_UNPROCESSABLE);
		assert_non_null(strstr(err, "line 3: seller name longer than 200 bytes"));
	}
	assert_string_equal((const char *)out.data, "Ana=ana|100\nAna=ana|100\n");
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rows_unchanged_while_the_memo_overflows),
	        cmocka_unit_test(test_names_at_the_memo_limits),
	        cmocka_unit_test(test_too_long_refused_each_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
