/*
 * server/engine.c — the engine thread loop. The list of jobs is the table below; each job
 * lives in its own module. Order matters within a tick: state machines first (they queue
 * outbox rows), the outbox last (it sends them in the same tick).
 */
#include "engine.h"

#include <pthread.h>
#include <stdlib.h>

#include "db/db.h"
#include "server/app.h"
#include "server/clock.h"
#include "server/escalation.h"
#include "server/handoff.h"
#include "server/imap.h"
#include "server/log.h"
#include "server/sender.h"

static const struct engine_job jobs[] = {
        {"imap", imap_start, imap_run, imap_stop}, /* first: the alerts it creates are paged this tick */
        {"escalation", escalation_start, escalation_run,
         escalation_stop},                                     /* before the sender: it queues what it sends */
        {"handoff", handoff_start, handoff_run, handoff_stop}, /* shift hand-off texts, before the sender too */
        {"outbox", sender_start, sender_run, sender_stop},
};
#define N_JOBS (sizeof jobs / sizeof jobs[0])

struct engine {
	struct app *app;
	pthread_t thread;
	void *state[N_JOBS];
};

static void *loop(void *arg)
{
	struct engine *e = arg;
	struct db *db = app_db(e->app);
	size_t i;

	if (!db) {
		log_err("engine: no database connection; nothing will be sent");
		return NULL;
	}
	for (i = 0; i < N_JOBS; i++)
		if (jobs[i].start && jobs[i].start(e->app, db, &e->state[i]) != RC_OK)
			log_err("engine: %s failed to start", jobs[i].name);
	while (!e->app->stopping) {
		clock_reload();
		for (i = 0; i < N_JOBS && !e->app->stopping; i++) {
			enum rc rc;

			if (!jobs[i].run)
				continue;
			rc = jobs[i].run(e->app, db, e->state[i], clock_now_ms());
			db_settle(db, jobs[i].name);
			if (rc != RC_OK)
				log_warn("engine: %s: %s", jobs[i].name, rc_str(rc));
		}
		app_engine_wait(e->app, ENGINE_TICK_MS);
	}
	for (i = 0; i < N_JOBS; i++)
		if (jobs[i].stop)
			jobs[i].stop(e->state[i]);
	app_db_close(e->app);
	return NULL;
}

enum rc engine_start(struct app *app, struct engine **out)
{
	struct engine *e = calloc(1, sizeof *e);

	*out = NULL;
	if (!e)
		return RC_INTERNAL;
	e->app = app;
	if (pthread_create(&e->thread, NULL, loop, e)) {
		free(e);
		return RC_INTERNAL;
	}
	*out = e;
	return RC_OK;
}

void engine_stop(struct engine *e)
{
	if (!e)
		return;
	e->app->stopping = 1;
	app_wake_engine(e->app);
	pthread_join(e->thread, NULL);
	free(e);
}
