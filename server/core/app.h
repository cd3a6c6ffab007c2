/*
 * server/core/app.h — the state shared by every handler and the engine: the read-only
 * configuration, metrics, the per-thread database connections and the engine's wake-up.
 * One struct app per process, built by main.c; nothing here is a mutable global.
 */
#ifndef PLANTAO_APP_H
#define PLANTAO_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cfg.h"
#include "core/rc.h"

struct db;
struct metrics;

#define APP_HEALTH_COMPONENTS 4 /* database, twilio, oncall, outbox */

struct app {
	const struct cfg *cfg;
	struct metrics *metrics;
	pthread_key_t db_key; /* each thread's struct db, closed when the thread exits */
	struct db *spare_db;  /* start-up's connection, taken by the first thread that needs one */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake_cond;
	bool wake_pending;
	_Atomic int stopping; /* set once at shutdown */
	int64_t started_at;   /* clock_now() when app_init ran: /metrics' start time, /healthz's "since start" */
	/* /healthz's last database write probe (server/http/ops.c), reused for a second so that a
	 * flood of health checks cannot queue writes in front of pages. */
	pthread_mutex_t probe_lock;
	int64_t probe_mono_us; /* clock_mono_us() of the last probe, 0: none yet */
	int probe_rc;          /* its enum rc */
	char probe_err[256];
	/* /healthz's last verdict per component (0 never checked, else level + 1), to log changes once. */
	int health_levels[APP_HEALTH_COMPONENTS];
	/* The support line's chain from memory (rotation/chain_memo.h): made and freed by
	 * server/main.c; NULL (tests that make their own app): every call reads the rotation. */
	struct chain_memo *chain_memo;
};

/* Initialises app around cfg (borrowed for app's life). */
enum rc app_init(struct app *app, const struct cfg *cfg);
void app_release(struct app *app);

/* Gives db (start-up's migrated connection) to the first thread that asks app_db for one:
 * no second open, and no checkpoint of the new WAL by closing the file's last connection
 * while the server is starting. Call before threads start; app_release closes it if unused. */
void app_give_db(struct app *app, struct db *db);
/* This thread's database connection, opened on first use (or the given one); NULL on failure
 * (logged). */
struct db *app_db(struct app *app);
/* Closes this thread's connection now (threads that exit on their own need not call it). */
void app_db_close(struct app *app);

/* Wakes the engine (new outbox rows or alerts are due now). Cheap; call after commit. */
void app_wake_engine(struct app *app);
/* Engine side: true when a wake-up is waiting (a long job should yield to the next tick). */
bool app_wake_is_pending(struct app *app);
/* Engine side: waits until woken or timeout_ms passed; returns true if woken. */
bool app_engine_wait(struct app *app, int timeout_ms);

/* True when the language of texts and voice is English (PLANTAO_LANG=en). */
bool app_lang_en(const struct app *app);

#endif
