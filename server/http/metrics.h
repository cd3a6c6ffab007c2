/*
 * server/http/metrics.h — in-process counters for /metrics (Prometheus text format 0.0.4):
 * requests by route and status, a latency histogram per route, and named counters that
 * other modules bump (outbox sends, dead letters, …). Thread-safe (one mutex; increments
 * are a few nanoseconds next to a request).
 */
#ifndef PLANTAO_METRICS_H
#define PLANTAO_METRICS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/rc.h"

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* One finished request: route pattern (static string; "" for unmatched), status, latency. */
void metrics_request(struct metrics *m, const char *method, const char *route, int status, int64_t us);
/* Adds delta to the counter name{label="value"} (name and labels must be static strings). */
void metrics_count(struct metrics *m, const char *name, const char *labels, int64_t delta);
/* Appends every series in text format. */
enum rc metrics_render(struct metrics *m, struct buf *out);

#endif
