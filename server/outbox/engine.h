/*
 * server/outbox/engine.h — the background threads: everything plantao does on its own, outside a
 * request. The engine thread sends the outbox, advances escalations and sends shift hand-off
 * notices, waking every ENGINE_TICK_MS or when a handler calls app_wake_engine(); the IMAP
 * poller runs in a thread of its own so a slow mail server never delays paging. Each thread
 * owns its database connection.
 */
#ifndef PLANTAO_ENGINE_H
#define PLANTAO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"

#define ENGINE_TICK_MS 100

struct app;
struct db;
struct engine;

/*
 * One periodic job. run() does what is due at now_ms and returns RC_OK or an rc that is
 * logged (the engine keeps going). Jobs must not block for long: network I/O is bounded by
 * timeouts and done without holding a database transaction.
 */
struct engine_job {
	const char *name;
	enum rc (*start)(struct app *app, struct db *db, void **state); /* optional, once */
	enum rc (*run)(struct app *app, struct db *db, void *state, int64_t now_ms);
	void (*stop)(void *state); /* optional */
	/* Run by one instance at a time among instances on one database (db_job_lock): the others
	 * skip it until the holder's session ends (SQLite: always this instance). */
	bool singleton;
};

enum rc engine_start(struct app *app, struct engine **out);
/* Asks the thread to finish its current job, waits for it, frees. */
void engine_stop(struct engine *e);
/* clock_mono_us() when the engine thread last finished a tick (every job run once), or when
 * engine_start() was called if it has not finished one since. Any thread may read it. */
int64_t engine_last_tick_us(void);

#endif
