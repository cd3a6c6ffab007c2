/*
 * tests/fuzz/fuzz_xlsx.c — libFuzzer target for the .xlsx reader.
 * Beyond "no crash, no leak, no runaway memory" (libFuzzer's -rss_limit_mb): every row has a
 * non-empty valid UTF-8 seller, cents >= 0, a valid period or none; a failure has a
 * non-empty one-line reason. The first byte chooses between the default sheet and the one
 * named "Sheet1"; the rest is the file.
 * Built and run by tests/fuzz/run (seeds in tests/fuzz/corpus/xlsx/: workbooks whose entries
 * are stored uncompressed, so mutations reach the XML).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sales/sales_parse.h"
#include "sales/xlsx.h"

#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum rc row(void *ctx, const struct sales_row *r)
{
	(void)ctx;
	check(r->seller && r->seller[0] && utf8_ok((const unsigned char *)r->seller));
	check(strlen(r->seller) <= SALES_SELLER_MAX);
	check(r->cents >= 0);
	check(!r->period || sales_period_is_valid(r->period));
	check(r->line >= 1 && r->line <= 1048576);
	return RC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sales_sink sink = {row, NULL, 2026, 0};
	char err[256] = "";
	const char *sheet;
	enum rc rc;

	if (size == 0)
		return 0;
	sheet = data[0] & 1 ? "Sheet1" : NULL;
	rc = xlsx_parse(data + 1, size - 1, sheet, &sink, err, sizeof(err));
	if (rc != RC_OK) {
		check(err[0] != '\0');
		for (const char *p = err; *p; p++)
			check((unsigned char)*p >= 0x20);
	}
	return 0;
}
