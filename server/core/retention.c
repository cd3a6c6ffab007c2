/*
 * server/core/retention.c — the retention job (see retention.h): a small state machine that
 * walks the steps of db/retention.h batch by batch across engine ticks, then vacuums.
 */
#include "core/retention.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/retention.h"

#define DAY_S ((int64_t)86400)

enum phase { IDLE, PRUNING, VACUUMING };

struct job {
	enum phase phase;
	bool vacuum_ready;  /* SQLite file in auto_vacuum INCREMENTAL (or PostgreSQL) */
	int64_t next_at;    /* clock seconds of the next pass */
	int64_t started_at; /* clock seconds the current (or last) pass began */
	struct retention_cut cut;
	enum retention_step step;
	int64_t cursor;
	int64_t done[RETENTION_STEPS];
	int64_t t0_us;      /* monotonic start of the pass */
	int64_t free_pages; /* free pages after the last incremental vacuum */
};

enum rc retention_start(struct app *app, struct db *db, void **state)
{
	struct job *j = calloc(1, sizeof *j);

	(void)app;
	(void)db;
	*state = j;
	return j ? RC_OK : RC_INTERNAL;
}

void retention_stop(void *state)
{
	free(state);
}

static void begin_pass(struct job *j, const struct cfg *c, int64_t now)
{
	int64_t rows = c->retention_days, bodies = c->retention_body_days, kept = c->retention_alert_days;

	/* bodies never outlive their rows, and what is kept longer never goes before the rest */
	if (bodies > rows)
		bodies = rows;
	if (kept < rows)
		kept = rows;
	j->cut.bodies = now - bodies * DAY_S;
	j->cut.rows = now - rows * DAY_S;
	j->cut.kept = now - kept * DAY_S;
	j->phase = PRUNING;
	j->started_at = now;
	j->step = 0;
	j->cursor = 0;
	for (size_t i = 0; i < RETENTION_STEPS; i++)
		j->done[i] = 0;
	j->t0_us = clock_mono_us();
}

static void end_pass(struct job *j, bool vacuum)
{
	int64_t total = 0;
	size_t i;

	for (i = 0; i < RETENTION_STEPS; i++)
		total += j->done[i];
	if (total) {
		char what[512];
		size_t at = 0;

		what[0] = '\0';
		for (i = 0; i < RETENTION_STEPS && at < sizeof what; i++) {
			int n = snprintf(what + at, sizeof what - at, "%s%s %lld", i ? ", " : "",
			                 retention_step_name(i), (long long)j->done[i]);
			if (n < 0)
				break;
			at += (size_t)n;
		}
		log_info("retention: %lld rows blanked or removed in %lld ms (%s)", (long long)total,
		         (long long)((clock_mono_us() - j->t0_us) / 1000), what);
	}
	j->phase = vacuum && total ? VACUUMING : IDLE;
	j->free_pages = INT64_MAX;
	/* from the start of the pass: a clock that jumped meanwhile gets a new pass at once */
	j->next_at = j->started_at + RETENTION_INTERVAL_S;
}

enum rc retention_run(struct app *app, struct db *db, void *state, int64_t now_ms)
{
	struct job *j = state;
	const struct cfg *c = app->cfg;
	int64_t now = now_ms / 1000, until;
	enum rc rc = RC_OK;

	if (!j || c->retention_days <= 0)
		return RC_OK; /* PLANTAO_RETENTION_DAYS=0: keep everything */
	if (!j->vacuum_ready) {
		bool switched = false;
		int64_t t0 = clock_mono_us();

		j->vacuum_ready = true; /* tried once: a failure is logged and pruning still runs */
		if (retention_vacuum_setup(db, &switched) != RC_OK)
			log_warn("retention: SQLite file not switched to incremental vacuum; pruned space is reused "
			         "but the "
			         "file does not shrink");
		else if (switched)
			log_info("retention: database file switched to incremental vacuum (one VACUUM, %lld ms)",
			         (long long)((clock_mono_us() - t0) / 1000));
	}
	if (j->phase == IDLE && now >= j->next_at)
		begin_pass(j, c, now);
	until = clock_mono_us() + RETENTION_SLICE_MS * 1000; /* after the one-off VACUUM above */
	while (j->phase == PRUNING && clock_mono_us() < until) {
		int n = 0;

		rc = retention_batch(db, j->step, &j->cut, RETENTION_BATCH, &j->cursor, &n);
		if (rc == RC_BUSY)
			return RC_OK; /* the writer is busy: the same batch at the next tick */
		if (rc != RC_OK) {
			log_warn("retention: %s could not be pruned (%s); the next pass tries again",
			         retention_step_name(j->step), rc_str(rc));
			n = 0; /* on to the next step */
		}
		j->done[j->step] += n;
		if (n < RETENTION_BATCH) {
			j->cursor = 0;
			if (++j->step == RETENTION_STEPS)
				end_pass(j, true);
		}
	}
	while (j->phase == VACUUMING && clock_mono_us() < until) {
		int64_t left = 0;

		rc = retention_vacuum(db, &left);
		if (rc != RC_OK)
			log_warn("retention: incremental vacuum failed (%s)", rc_str(rc));
		/* done, failed, or not shrinking (a file not in incremental mode): the next pass tries again */
		if (rc != RC_OK || !left || left >= j->free_pages)
			j->phase = IDLE;
		j->free_pages = left;
	}
	return RC_OK;
}
