/*
 * tests/bench/outbox_enqueue.c — insert latency of the outbox as a webhook handler sees it:
 * one BEGIN IMMEDIATE, outbox_enqueue(), COMMIT per message, on a migrated WAL database file
 * (the server's settings), timed with the monotonic clock. Built and run by tests/bench/outbox.py.
 *   outbox_enqueue DB_PATH COUNT  ->  "p50_us p99_us per_second"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/outbox.h"
#include "core/clock.h"

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct db *db = NULL;
	int64_t *us, t_all;
	long n, i;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) <= 0)
		return 2;
	us = calloc((size_t)n, sizeof *us);
	if (!us || db_open(argv[1], &db) != RC_OK || db_migrate(db, NULL) != RC_OK)
		return 1;
	t_all = clock_mono_us();
	for (i = 0; i < n; i++) {
		char key[64], body[160];
		struct outbox_msg m;
		int64_t t0 = clock_mono_us(), id;

		snprintf(key, sizeof key, "bench:%ld", i);
		snprintf(body, sizeof body, "Alerta %ld: disco cheio em db%ld (98%%), responda ack %ld", i, i % 7, i);
		memset(&m, 0, sizeof m);
		m.kind = OUTBOX_SMS;
		m.class_ = "alert";
		m.priority = OUTBOX_PRIO_ALERT;
		m.to = "+5511990000001";
		m.body = body;
		m.idem_key = key;
		if (db_begin(db) != RC_OK || outbox_enqueue(db, &m, &id) != RC_OK || db_commit(db) != RC_OK)
			return 1;
		us[i] = clock_mono_us() - t0;
	}
	t_all = clock_mono_us() - t_all;
	qsort(us, (size_t)n, sizeof *us, cmp);
	printf("%lld %lld %.0f\n", (long long)us[n / 2], (long long)us[(n * 99) / 100],
	       (double)n * 1e6 / (double)t_all);
	db_close(db);
	free(us);
	return 0;
}
