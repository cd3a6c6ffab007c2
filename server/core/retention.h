/*
 * server/core/retention.h — the engine job that keeps the database from growing forever
 * (PLANTAO_RETENTION_DAYS, PLANTAO_RETENTION_BODY_DAYS, PLANTAO_RETENTION_ALERT_DAYS; what goes
 * when is in db/retention.h).
 *
 * A pass starts at start-up and then every RETENTION_INTERVAL_S of the clock. It runs on the
 * engine thread, which also sends pages, so it works in slices: each tick it runs batches of
 * RETENTION_BATCH rows (one short transaction each: webhooks and the sender get the writer
 * between any two) for at most RETENTION_SLICE_MS, and goes on at the next tick. After a pass
 * that removed rows, SQLite's free pages are given back RETENTION_VACUUM_PAGES_STR at a time,
 * again one slice per tick. A singleton job: with several instances on one database one prunes.
 * A pass that removed anything is logged at INFO with counts per step; a step that fails is a
 * WARNING and the pass goes on at the next interval.
 */
#ifndef PLANTAO_RETENTION_H
#define PLANTAO_RETENTION_H

#include <stdint.h>

#include "core/app.h"
#include "core/rc.h"
#include "db/db.h"

#define RETENTION_BATCH      500  /* rows per transaction */
#define RETENTION_SLICE_MS   20   /* work per engine tick (ENGINE_TICK_MS is 100) */
#define RETENTION_INTERVAL_S 3600 /* clock seconds between passes */

enum rc retention_start(struct app *app, struct db *db, void **state);
enum rc retention_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void retention_stop(void *state);

#endif
