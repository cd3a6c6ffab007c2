/*
 * tests/unit/sales/test_sales_key.c — each row carries its seller's comparison key, folded once
 * by sales_emit (server/sales/sales_parse.c): the key is sales_fold() of the display name for
 * every spelling, total rows and blank amounts are still skipped, and an amount written after
 * spaces is still an amount.
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

struct keys {
	struct buf out;
	int bad;
};

static enum rc key_row(void *ctx, const struct sales_row *row)
{
	struct keys *k = ctx;
	char want[SALES_FOLD_MAX];

	sales_fold(row->seller, want, sizeof(want));
	if (!row->key || strcmp(row->key, want) != 0)
		k->bad++;
	return buf_printf(&k->out, "%s=%s|%lld\n", row->seller, row->key ? row->key : "(none)", (long long)row->cents);
}

static void test_key_is_the_fold(void **state)
{
	static const char csv[] = "vendedor;valor\n"
	                          "  Érica   Conceição ;1.000,00\n"
	                          "ERICA CONCEICAO;  2,50\n"
	                          "e\xcc\x81rica conceic\xcc\xa7\xc3\xa3o;\xc2\xa0"
	                          "3,00\n"
	                          "Jo\xc3\xa3o\xc2\xa0Souza;4\n"
	                          "TOTAL GERAL;10.000,00\n"
	                          "Tótal;9,00\n"
	                          "Subtotal ;9,00\n"
	                          "Soma;   \n"
	                          "Ana;\xc2\xa0\n"
	                          "Totalmente Nova;5,00\n";
	struct keys k = {0};
	struct sales_sink sink = {key_row, &k, 2026, 0};
	char err[256] = "";

	(void)state;
	buf_init(&k.out, 1 << 16);
	assert_int_equal(csv_parse(csv, strlen(csv), &sink, err, sizeof(err)), RC_OK);
	assert_int_equal(k.bad, 0);
	assert_string_equal((const char *)k.out.data, "Érica Conceição=erica conceicao|100000\n"
	                                              "ERICA CONCEICAO=erica conceicao|250\n"
	                                              "e\xcc\x81rica conceic\xcc\xa7\xc3\xa3o=erica conceicao|300\n"
	                                              "João Souza=joao souza|400\n"
	                                              "Totalmente Nova=totalmente nova|500\n");
	buf_release(&k.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_key_is_the_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
