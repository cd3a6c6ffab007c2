/*
 * server/outbox/engine.c — the background threads (DESIGN.md, "Processes and threads").
 *
 * The engine thread runs the paging jobs each tick, in order: state machines first (they queue
 * outbox rows), the outbox sender last (it sends them in the same tick). It wakes every
 * ENGINE_TICK_MS or at once when a handler calls app_wake_engine(). Each tick it first renews
 * the leases of this instance's sends in flight (db/outbox.h): while it ticks, no other
 * instance on the database looks them up.
 *
 * The IMAP poller has a thread of its own: a mail server that is slow or down holds a poll for
 * up to its timeouts, and that must never delay an alert call or text. It ticks on its own
 * (polling every PLANTAO_IMAP_INTERVAL) and hands alerts over through the database,
 * waking the engine.
 *
 * Singleton jobs (hand-off notices, the fallback, retention, the IMAP poller) are asked about
 * each tick (db_job_lock): a standby instance asks every ENGINE_TICK_MS, so when the holder
 * dies its job moves within a tick of PostgreSQL ending the holder's session, whatever the
 * job's own interval. A singleton job whose start left it off (no state: IMAP not configured)
 * takes no lock and does not run.
 */
#include "outbox/engine.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "db/db.h"
#include "db/instance.h"
#include "db/outbox.h"
#include "core/app.h"
#include "core/clock.h"
#include "pager/escalation.h"
#include "rotation/handoff.h"
#include "pager/imap.h"
#include "core/log.h"
#include "core/retention.h"
#include "outbox/sender.h"
#include "twilio/redirect.h"
#include "twilio/fallback.h"

static const struct engine_job paging_jobs[] = {
        {"escalation", escalation_start, escalation_run, escalation_stop, false}, /* queues texts and calls */
        {"handoff", handoff_start, handoff_run, handoff_stop, true},              /* queues shift notices */
        {"outbox", sender_start, sender_run, sender_stop, false},                 /* sends what was queued */
        {"redirect", redirect_start, redirect_run, redirect_stop, false},         /* answering machines' messages */
        {"fallback", fallback_start, fallback_run, fallback_stop, true},          /* the support line's fallback */
        {"retention", retention_start, retention_run, retention_stop, true},      /* prunes old rows */
};

static const struct engine_job mail_jobs[] = {
        {"imap", imap_start, imap_run, imap_stop, true}, /* polls the mailbox when it is due */
};

#define MAX_JOBS 8

/* clock_mono_us() at the end of the engine thread's last tick: the systemd watchdog
 * (ops/service.c) pings only while it is recent. */
static _Atomic int64_t last_tick_us;

struct worker {
	struct app *app;
	const char *name;
	const struct engine_job *jobs;
	size_t n_jobs;
	bool wakeable; /* waits on app_wake_engine(); otherwise just ticks */
	pthread_t thread;
	bool started;
	void *state[MAX_JOBS];
};

struct engine {
	struct worker paging;
	struct worker mail;
};

static void tick_sleep(struct worker *w)
{
	struct timespec ts = {0, ENGINE_TICK_MS * 1000000L};

	if (w->wakeable)
		app_engine_wait(w->app, ENGINE_TICK_MS);
	else
		nanosleep(&ts, NULL);
}

static void *loop(void *arg)
{
	struct worker *w = arg;
	struct db *db = app_db(w->app);
	size_t i;

	if (!db) {
		log_err("%s: no database connection; this thread does nothing", w->name);
		return NULL;
	}
	for (i = 0; i < w->n_jobs; i++)
		if (w->jobs[i].start && w->jobs[i].start(w->app, db, &w->state[i]) != RC_OK)
			log_err("%s: %s failed to start", w->name, w->jobs[i].name);
	while (!w->app->stopping) {
		if (w->wakeable) {
			clock_reload(); /* one thread re-reads the test clock; the offset is shared */
			/* This instance is alive: its sends in flight stay its own (db/outbox.h, leases). */
			if (outbox_lease_renew(db, clock_now_ms(), NULL) != RC_OK)
				log_warn("%s: the leases of this instance's sends could not be renewed", w->name);
			db_settle(db, "outbox lease");
		}
		for (i = 0; i < w->n_jobs && !w->app->stopping; i++) {
			enum rc rc;

			if (!w->jobs[i].run)
				continue;
			if (w->jobs[i].singleton && w->jobs[i].start && !w->state[i])
				continue; /* off (its start said so): it holds no lock other instances could use */
			if (w->jobs[i].singleton && !db_job_lock(db, w->jobs[i].name))
				continue; /* another instance on this database runs this job */
			rc = w->jobs[i].run(w->app, db, w->state[i], clock_now_ms());
			db_settle(db, w->jobs[i].name);
			if (rc != RC_OK)
				log_warn("%s: %s: %s", w->name, w->jobs[i].name, rc_str(rc));
		}
		if (w->wakeable)
			atomic_store(&last_tick_us, clock_mono_us());
		tick_sleep(w);
	}
	for (i = 0; i < w->n_jobs; i++)
		if (w->jobs[i].stop)
			w->jobs[i].stop(w->state[i]);
	app_db_close(w->app);
	return NULL;
}

static enum rc start_worker(struct worker *w, struct app *app, const char *name, const struct engine_job *jobs,
                            size_t n, bool wakeable)
{
	w->app = app;
	w->name = name;
	w->jobs = jobs;
	w->n_jobs = n < MAX_JOBS ? n : MAX_JOBS;
	w->wakeable = wakeable;
	if (pthread_create(&w->thread, NULL, loop, w))
		return RC_INTERNAL;
	w->started = true;
	return RC_OK;
}

enum rc engine_start(struct app *app, struct engine **out)
{
	struct engine *e = calloc(1, sizeof *e);
	enum rc rc;

	*out = NULL;
	if (!e)
		return RC_INTERNAL;
	log_info("engine: instance %s", instance_id()); /* fixes the id's start time */
	atomic_store(&last_tick_us, clock_mono_us());   /* a thread that never ticks is stalled from now */
	rc = start_worker(&e->paging, app, "engine", paging_jobs, sizeof paging_jobs / sizeof paging_jobs[0], true);
	if (rc == RC_OK)
		rc = start_worker(&e->mail, app, "imap", mail_jobs, sizeof mail_jobs / sizeof mail_jobs[0], false);
	if (rc != RC_OK) {
		engine_stop(e);
		return rc;
	}
	*out = e;
	return RC_OK;
}

int64_t engine_last_tick_us(void)
{
	return atomic_load(&last_tick_us);
}

void engine_stop(struct engine *e)
{
	struct app *app;

	if (!e)
		return;
	app = e->paging.app ? e->paging.app : e->mail.app;
	if (app) {
		app->stopping = 1;
		app_wake_engine(app);
	}
	if (e->paging.started)
		pthread_join(e->paging.thread, NULL);
	if (e->mail.started)
		pthread_join(e->mail.thread, NULL);
	free(e);
}
