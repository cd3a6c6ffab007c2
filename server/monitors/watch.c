/*
 * server/monitors/watch.c — the monitor thread (see watch.h). Each tick: fold the pings that
 * arrived, oldest first, then look at the monitors whose next_ms came; each batch is one short
 * transaction, and after its commit the engine is woken for the alerts it opened or resolved.
 * A monitor with pings still to fold is never judged by the clock first (monitors_due skips it),
 * so a ping that came just in time is never taken for a missed one.
 * Several instances on one PostgreSQL database: folding and judging are a singleton job
 * ("monitors", db_job_lock), so one instance at a time moves the monitors and a down notice
 * goes out once; the others keep ticking (counting states for /metrics) and stand by, and one
 * of them takes over within a tick of the holder's death (its session's advisory lock ends).
 */
#include "monitors/watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/db.h"
#include "db/monitors.h"
#include "http/metrics.h"
#include "monitors/heartbeat.h"
#include "pager/alerts.h"

/* What the thread last knew, for /healthz and /metrics (watch.h). Process-wide like the thread
 * itself: one monitor thread per process. */
static _Atomic int64_t last_tick_us; /* clock_mono_us() of the last tick that went through */
static _Atomic int64_t state_counts[WATCH_STATES];
static _Atomic int64_t counted_us; /* when state_counts were taken; 0: never */
static const char *const state_names[WATCH_STATES] = {"new", "up", "late", "down", "paused"};

struct watch {
	struct app *app;
	pthread_t thread;
	atomic_int stop;
	struct monitor_ping pings[WATCH_BATCH];
	int64_t ids[WATCH_BATCH];
	char body[MONITORS_PING_BODY + 1];
};

static void after_commit(struct app *app, const struct heartbeat_effects *fx)
{
	int i;

	for (i = 0; i < fx->opened; i++)
		alerts_count(app, ALERTS_TRIGGERED);
	for (i = 0; i < fx->resolved; i++)
		alerts_count(app, ALERTS_RESOLVED);
	if (fx->opened || fx->resolved)
		app_wake_engine(app);
}

/* One batch of pings in one transaction; *n how many were folded. */
static enum rc fold(struct watch *w, struct db *db, size_t *n)
{
	struct heartbeat_effects fx = {0, 0};
	int64_t kinds[3] = {0, 0, 0}; /* success, start, fail */
	int64_t now_ms = clock_now_ms();
	size_t i;
	enum rc rc = db_begin(db);

	*n = 0;
	if (rc != RC_OK)
		return rc;
	rc = monitors_pings_unfolded(db, w->pings, WATCH_BATCH, n);
	for (i = 0; rc == RC_OK && i < *n; i++) {
		const struct monitor_ping *p = &w->pings[i];
		struct monitor m;

		w->body[0] = '\0';
		rc = monitors_ping_claim(db, p); /* first: a ping is folded once, whoever folds it */
		if (rc == RC_CONFLICT) {
			rc = RC_OK;
			continue;
		}
		if (rc == RC_OK)
			kinds[strcmp(p->kind, "fail") == 0 ? 2 : strcmp(p->kind, "start") == 0 ? 1 : 0]++;
		if (rc == RC_OK)
			rc = monitors_get(db, p->monitor_id, &m);
		if (rc == RC_OK && strcmp(p->kind, "fail") == 0)
			rc = monitors_ping_body(db, p->id, w->body, sizeof w->body);
		if (rc == RC_OK)
			rc = heartbeat_on_ping(w->app, db, &m, p, w->body, now_ms, &fx);
		if (rc == RC_OK)
			rc = monitors_update(db, &m, now_ms / 1000);
		else if (rc == RC_INVALID || rc == RC_NOT_FOUND) /* a schedule that never fires; no monitor */
			rc = RC_OK;
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*n = 0;
		return rc;
	}
	after_commit(w->app, &fx);
	if (kinds[0])
		metrics_count(w->app->metrics, "plantao_monitor_pings_total", "kind=\"success\"", kinds[0]);
	if (kinds[1])
		metrics_count(w->app->metrics, "plantao_monitor_pings_total", "kind=\"start\"", kinds[1]);
	if (kinds[2])
		metrics_count(w->app->metrics, "plantao_monitor_pings_total", "kind=\"fail\"", kinds[2]);
	return RC_OK;
}

/* One batch of monitors whose time came; *n how many. */
static enum rc judge(struct watch *w, struct db *db, size_t *n)
{
	struct heartbeat_effects fx = {0, 0};
	int64_t now_ms = clock_now_ms();
	size_t i;
	enum rc rc = db_begin(db);

	*n = 0;
	if (rc != RC_OK)
		return rc;
	rc = monitors_due(db, now_ms, w->ids, WATCH_BATCH, n);
	for (i = 0; rc == RC_OK && i < *n; i++) {
		struct monitor m;

		rc = monitors_get(db, w->ids[i], &m);
		if (rc == RC_OK)
			rc = heartbeat_on_time(w->app, db, &m, now_ms, &fx);
		if (rc == RC_OK)
			rc = monitors_update(db, &m, now_ms / 1000);
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*n = 0;
		return rc;
	}
	after_commit(w->app, &fx);
	return RC_OK;
}

static void count_one(void *ctx, const struct monitor *m)
{
	int64_t *counts = ctx;
	size_t i;

	if (m->paused) {
		counts[WATCH_STATES - 1]++;
		return;
	}
	for (i = 0; i + 1 < WATCH_STATES; i++)
		if (strcmp(m->state, state_names[i]) == 0)
			counts[i]++;
}

/* Monitors by state, read every WATCH_COUNT_MS rather than at each scrape: one pass over the
 * table however often /metrics and /healthz are asked. */
static void count_states(struct db *db)
{
	int64_t counts[WATCH_STATES] = {0}, now = clock_mono_us();
	size_t i;

	if (atomic_load(&counted_us) && now - atomic_load(&counted_us) < WATCH_COUNT_MS * 1000LL)
		return;
	if (monitors_each(db, count_one, counts) != RC_OK)
		return;
	for (i = 0; i < WATCH_STATES; i++)
		atomic_store(&state_counts[i], counts[i]);
	atomic_store(&counted_us, now);
}

static void *loop(void *arg)
{
	struct watch *w = arg;
	struct db *db = app_db(w->app);
	struct timespec ts = {0, WATCH_TICK_MS * 1000000L};
	enum rc last = RC_OK;

	if (!db) {
		log_err("monitors: no database connection; heartbeats are not watched");
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		size_t n = 0, rounds = 0;
		enum rc rc = RC_OK;
		bool lead = db_job_lock(db, "monitors"); /* false: another instance moves the monitors */

		while (lead) { /* a burst of pings: keep folding, a few batches per tick */
			rc = fold(w, db, &n);
			if (rc != RC_OK || n != WATCH_BATCH || ++rounds >= 8)
				break;
		}
		db_settle(db, "monitors fold");
		if (rc == RC_OK && lead) {
			rounds = 0;
			do
				rc = judge(w, db, &n);
			while (rc == RC_OK && n == WATCH_BATCH && ++rounds < 8);
			db_settle(db, "monitors judge");
		}
		if (rc == RC_OK) {
			atomic_store(&last_tick_us, clock_mono_us());
			count_states(db);
			db_settle(db, "monitors count");
		}
		if (rc != RC_OK && rc != last) /* once per kind of trouble, not every tick */
			log_warn("monitors: %s; heartbeats are not being watched until it clears", rc_str(rc));
		else if (rc == RC_OK && last != RC_OK)
			log_info("monitors: watching again");
		last = rc;
		nanosleep(&ts, NULL);
	}
	app_db_close(w->app);
	return NULL;
}

enum rc watch_start(struct app *app, struct watch **out)
{
	struct watch *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w)
		return RC_INTERNAL;
	w->app = app;
	atomic_store(&last_tick_us, clock_mono_us()); /* a thread that never ticks is stalled from now */
	if (pthread_create(&w->thread, NULL, loop, w)) {
		free(w);
		return RC_INTERNAL;
	}
	*out = w;
	return RC_OK;
}

void watch_stop(struct watch *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
	free(w);
}

int64_t watch_last_tick_us(void)
{
	return atomic_load(&last_tick_us);
}

bool watch_counts(int64_t counts[WATCH_STATES])
{
	size_t i;

	for (i = 0; i < WATCH_STATES; i++)
		counts[i] = atomic_load(&state_counts[i]);
	return atomic_load(&counted_us) != 0;
}

const char *watch_state_name(size_t i)
{
	return i < WATCH_STATES ? state_names[i] : "";
}
