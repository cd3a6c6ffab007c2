/*
 * server/core/app.c — shared application state. Database connections are per thread (SQLite
 * connections must not be shared between threads without a mutex; WAL lets them read
 * concurrently), kept in a pthread key whose destructor closes them when the thread ends.
 */
#include "core/app.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "db/db.h"
#include "core/log.h"
#include "http/metrics.h"

static void close_db(void *p)
{
	db_close(p);
}

enum rc app_init(struct app *app, const struct cfg *cfg)
{
	pthread_condattr_t ca;

	memset(app, 0, sizeof *app);
	app->cfg = cfg;
	app->started_at = clock_now();
	if (pthread_key_create(&app->db_key, close_db))
		return RC_INTERNAL;
	pthread_mutex_init(&app->wake_lock, NULL);
	pthread_mutex_init(&app->probe_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&app->wake_cond, &ca);
	pthread_condattr_destroy(&ca);
	app->metrics = metrics_new();
	return app->metrics ? RC_OK : RC_INTERNAL;
}

void app_release(struct app *app)
{
	app_db_close(app);
	db_close(__atomic_exchange_n(&app->spare_db, NULL, __ATOMIC_ACQ_REL));
	pthread_key_delete(app->db_key);
	pthread_mutex_destroy(&app->wake_lock);
	pthread_mutex_destroy(&app->probe_lock);
	pthread_cond_destroy(&app->wake_cond);
	metrics_free(app->metrics);
	app->metrics = NULL;
}

void app_give_db(struct app *app, struct db *db)
{
	__atomic_store_n(&app->spare_db, db, __ATOMIC_RELEASE);
}

struct db *app_db(struct app *app)
{
	struct db *db = pthread_getspecific(app->db_key);

	if (db)
		return db;
	/* A connection is used by one thread at a time (SQLite's multi-thread mode); this one
	 * leaves the thread that gave it before any other takes it. */
	db = __atomic_exchange_n(&app->spare_db, NULL, __ATOMIC_ACQ_REL);
	if (!db && db_open(app->cfg->db_path, &db) != RC_OK)
		return NULL;
	pthread_setspecific(app->db_key, db);
	return db;
}

void app_db_close(struct app *app)
{
	struct db *db = pthread_getspecific(app->db_key);

	pthread_setspecific(app->db_key, NULL);
	db_close(db);
}

void app_wake_engine(struct app *app)
{
	pthread_mutex_lock(&app->wake_lock);
	app->wake_pending = true;
	pthread_cond_signal(&app->wake_cond);
	pthread_mutex_unlock(&app->wake_lock);
}

bool app_wake_is_pending(struct app *app)
{
	bool pending;

	pending = __atomic_load_n(&app->wake_pending, __ATOMIC_ACQUIRE);
	return pending;
}

bool app_engine_wait(struct app *app, int timeout_ms)
{
	struct timespec ts;
	bool woken;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&app->wake_lock);
	while (!app->wake_pending && !app->stopping)
		if (pthread_cond_timedwait(&app->wake_cond, &app->wake_lock, &ts) == ETIMEDOUT)
			break;
	woken = app->wake_pending;
	app->wake_pending = false;
	pthread_mutex_unlock(&app->wake_lock);
	return woken;
}

bool app_lang_en(const struct app *app)
{
	return strcmp(app->cfg->lang, "en") == 0;
}
