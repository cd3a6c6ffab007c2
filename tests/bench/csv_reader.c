/*
 * tests/bench/csv_reader.c — the sales CSV reader in process, without HTTP or the database:
 * csv_feed() over a file in 32 KiB pieces (as an upload arrives) with the rows going through
 * sales_emit() to a sink that only sums them; thread CPU time, best of five passes. Built and
 * run by tests/bench/run on the file tests/bench/sales.py writes.
 *   csv_reader FILE  ->  "rows ns_per_row"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sales/csv.h"
#include "sales/sales_parse.h"

#define PIECE  32768
#define PASSES 5

struct sum {
	long rows;
	long long cents;
};

static enum rc on_row(void *ctx, const struct sales_row *r)
{
	struct sum *s = ctx;

	s->rows++;
	s->cents += r->cents + (long long)strlen(r->key);
	return RC_OK;
}

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
	char *data, err[256];
	long n;
	double best = 1e9;
	struct sum s = {0, 0};

	if (!f) {
		fprintf(stderr, "usage: csv_reader FILE\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n);
	if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	for (int pass = 0; pass < PASSES; pass++) {
		struct sales_sink sink = {on_row, &s, 2026, 0};
		struct csv *c = csv_new(&sink);
		double t0 = cpu_seconds(), t;

		s.rows = 0;
		for (long o = 0; c && o < n; o += PIECE)
			if (csv_feed(c, data + o, (size_t)(n - o < PIECE ? n - o : PIECE), err, sizeof err) != RC_OK) {
				fprintf(stderr, "csv_reader: %s\n", err);
				return 1;
			}
		if (!c || csv_finish(c, err, sizeof err) != RC_OK) {
			fprintf(stderr, "csv_reader: %s\n", c ? err : "out of memory");
			return 1;
		}
		csv_free(c);
		t = cpu_seconds() - t0;
		if (t < best)
			best = t;
	}
	free(data);
	printf("%ld %.0f\n", s.rows, s.rows ? best / (double)s.rows * 1e9 : 0.0);
	return 0;
}
