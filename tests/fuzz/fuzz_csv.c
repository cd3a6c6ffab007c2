/*
 * tests/fuzz/fuzz_csv.c — libFuzzer target for the CSV reader and the text helpers under it.
 * Beyond "no crash, no leak":
 *  - feeding the input in pseudo-random chunks (sizes drawn from the first byte) gives exactly
 *    the rows, result and message of feeding it whole;
 *  - every row has a non-empty valid UTF-8 seller, cents >= 0, a valid period or none, and
 *    increasing line numbers; a failure has a non-empty one-line reason;
 *  - amount_parse: an accepted amount is >= 0 and survives amount_format_brl and back;
 *  - sales_fold is idempotent; sales_period_parse / _from_name only produce valid periods;
 *  - sales_parse_json keeps the same row invariants.
 * The first byte of an input seeds the chunk sizes; the rest is the file.
 * Built and run by tests/fuzz/run (seeds in tests/fuzz/corpus/csv/).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sales/amount.h"
#include "core/buf.h"
#include "sales/csv.h"
#include "sales/sales_parse.h"

#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	struct buf b;
	long last_line;
};

static enum rc row(void *ctx, const struct sales_row *r)
{
	struct out *o = ctx;

	check(r->seller && r->seller[0] && utf8_ok((const unsigned char *)r->seller));
	check(strlen(r->seller) <= SALES_SELLER_MAX);
	check(r->cents >= 0);
	check(!r->period || sales_period_is_valid(r->period));
	check(r->line > o->last_line);
	o->last_line = r->line;
	return buf_printf(&o->b, "%s|%lld|%s|%ld\n", r->seller, (long long)r->cents, r->period ? r->period : "-",
	                  r->line) == RC_OK
	               ? RC_OK
	               : RC_INTERNAL;
}

static void check_reason(enum rc rc, const char *err)
{
	if (rc == RC_OK)
		return;
	check(err[0] != '\0');
	for (const char *p = err; *p; p++)
		check((unsigned char)*p >= 0x20);
}

/* Parses data in chunks (seed 0: whole) and returns rows + outcome; free() it. */
static char *parse(const uint8_t *data, size_t size, unsigned seed)
{
	struct out o = {.last_line = 0};
	struct sales_sink sink = {row, &o, 2026, 0};
	struct csv *c = csv_new(&sink);
	char err[256] = "";
	enum rc rc = RC_OK;
	size_t at = 0;
	char *s;

	check(c != NULL);
	buf_init(&o.b, 64u << 20);
	while (rc == RC_OK && at < size) {
		size_t n = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 17 : size;

		if (n > size - at)
			n = size - at;
		rc = csv_feed(c, data + at, n, err, sizeof(err));
		at += n;
	}
	if (rc == RC_OK)
		rc = csv_finish(c, err, sizeof(err));
	check_reason(rc, err);
	csv_free(c);
	check(buf_printf(&o.b, "rc=%d rows=%ld err=%s", (int)rc, sink.rows, err) == RC_OK);
	s = buf_steal(&o.b);
	check(s != NULL);
	return s;
}

static void text_helpers(const uint8_t *data, size_t size)
{
	char text[96], f1[256], f2[256], per[8], brl[AMOUNT_BRL_MAX];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	int64_t cents = 0, again = 0;
	enum rc rc;

	memcpy(text, data, n);
	text[n] = '\0';
	rc = amount_parse(text, &cents);
	check(rc == RC_OK || rc == RC_INVALID || rc == RC_UNPROCESSABLE);
	if (rc == RC_OK) {
		check(cents >= 0);
		amount_format_brl(cents, brl, sizeof(brl));
		check(amount_parse(brl, &again) == RC_OK && again == cents);
	}
	rc = amount_parse_real(text, &cents);
	check(rc == RC_OK || rc == RC_INVALID || rc == RC_UNPROCESSABLE);
	check(rc != RC_OK || cents >= 0);
	sales_fold(text, f1, sizeof(f1));
	sales_fold(f1, f2, sizeof(f2));
	check(strcmp(f1, f2) == 0);
	if (sales_period_parse(text, 2026, per))
		check(sales_period_is_valid(per));
	if (sales_period_from_name(text, 2026, per))
		check(sales_period_is_valid(per));
}

static void json(const uint8_t *data, size_t size)
{
	struct out o = {.last_line = 0};
	struct sales_sink sink = {row, &o, 2026, 0};
	char err[256] = "";
	enum rc rc;

	buf_init(&o.b, 64u << 20);
	rc = sales_parse_json((const char *)data, size, &sink, err, sizeof(err));
	check_reason(rc, err);
	buf_release(&o.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned seed;
	char *whole, *split;

	if (size == 0)
		return 0;
	seed = data[0] | 1u;
	data++;
	size--;
	whole = parse(data, size, 0);
	split = parse(data, size, seed);
	if (strcmp(whole, split) != 0)
		abort();
	free(whole);
	free(split);
	text_helpers(data, size);
	json(data, size);
	return 0;
}
