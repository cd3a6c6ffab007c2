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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define WATCH_TICK_MS 200
/* Pings folded, and due monitors handled, per transaction. */
#define WATCH_BATCH 256

/* How often the thread counts monitors by state for /metrics and /healthz. */
#define WATCH_COUNT_MS 5000
/* A thread whose last good tick is older than this is stalled: /healthz "monitors" fails. */
#define WATCH_STALL_MS 15000
/* States counted: new, up, late, down, and paused (a paused monitor counts only there). */
#define WATCH_STATES 5

struct app;
struct watch;

/* Starts the thread; *out: watch_stop(). */
enum rc watch_start(struct app *app, struct watch **out);
/* Asks the thread to finish its tick, waits for it, frees (NULL: no-op). */
void watch_stop(struct watch *w);

/* clock_mono_us() of the monitor thread's last tick that folded and judged without an error
 * (set to the start time by watch_start); 0 when no thread was started in this process. */
int64_t watch_last_tick_us(void);
/* Monitors by state as last counted (at most WATCH_COUNT_MS old while the thread ticks), in the
 * order of watch_state_name(); false when they were never counted. */
bool watch_counts(int64_t counts[WATCH_STATES]);
/* "new", "up", "late", "down", "paused" for i in 0..WATCH_STATES-1. */
const char *watch_state_name(size_t i);

#endif
