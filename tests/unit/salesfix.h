/*
 * tests/unit/salesfix.h — shared by the sales reader tests: a row sink that records every row
 * as "seller|cents|period|line" (and can fail at the Nth row), and loading a fixture file from
 * tests/fixtures/sales/. Header-only (static functions): each test is one translation unit.
 */
#ifndef PLANTAO_SALESFIX_H
#define PLANTAO_SALESFIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "sales/sales_parse.h"

#define FIXTURES "tests/fixtures/sales/"

struct rec {
	struct buf out;
	long fail_at, calls;
};

static inline enum rc rec_row(void *ctx, const struct sales_row *row)
{
	struct rec *r = ctx;

	if (++r->calls == r->fail_at)
		return RC_DB;
	return buf_printf(&r->out, "%s|%lld|%s|%ld\n", row->seller, (long long)row->cents,
	                  row->period ? row->period : "-", row->line);
}

/* The bytes of fixture name (malloc'd, NUL-terminated); fails the test when missing. */
static inline char *load(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

#endif
