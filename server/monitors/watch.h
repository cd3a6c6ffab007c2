/*
 * server/monitors/watch.h — the monitor thread: folds heartbeat pings into their monitors'
 * state and moves monitors whose time came to late and down (server/monitors/heartbeat.c),
 * every WATCH_TICK_MS. It has a thread and a database connection of its own, so a burst of
 * pings never delays the engine's paging; the alerts it opens are paged by the engine, woken
 * after each commit. Everything it knows is in the database: a monitor that went down while
 * plantao was stopped is found down on the first tick after start.
 */
#ifndef PLANTAO_WATCH_H
#define PLANTAO_WATCH_H

#include "core/rc.h"

#define WATCH_TICK_MS 200
/* Pings folded, and due monitors handled, per transaction. */
#define WATCH_BATCH 256

struct app;
struct watch;

/* Starts the thread; *out: watch_stop(). */
enum rc watch_start(struct app *app, struct watch **out);
/* Asks the thread to finish its tick, waits for it, frees (NULL: no-op). */
void watch_stop(struct watch *w);

#endif
