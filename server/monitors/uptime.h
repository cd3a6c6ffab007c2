/*
 * server/monitors/uptime.h — uptime checks (issue 15, Uptime Kuma / Pingdom's model): monitors
 * of kind http (fetch a URL: status range, keyword, redirects if asked, response time, the
 * TLS certificate's expiry) and tcp (connect to host:port), run by a thread of their own on
 * libcurl's multi interface, so a slow site never delays paging or the heartbeats.
 *
 * A check that fails is retried once UPTIME_RETRY_MS later before it counts (a check from one
 * place can be wrong); failures_before_alert counted failures in a row put the monitor down and
 * open an alert (dedup_key monitor:<id>, the failure in words: DNS, connect, TLS, timeout,
 * status, keyword); the next success resolves it with one "voltou" text. A monitor that changes
 * between up and down more than UPTIME_FLAP_CHANGES times within an hour is flapping: shown as
 * such, its alert kept open instead of paging at every fall, until an hour passes calmly. A
 * certificate that expires within cert_warn_days opens a warning alert (monitor:<id>:cert),
 * resolved when a renewed one is seen. Each counted result is kept as a ping (kind success or
 * fail, the failure in body, response_ms), so GET /api/monitors/{id}/pings is the history.
 */
#ifndef PLANTAO_UPTIME_H
#define PLANTAO_UPTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"

#define UPTIME_TICK_MS        200
#define UPTIME_RETRY_MS       5000          /* a failure is checked again this much later before it counts */
#define UPTIME_MAX_FLIGHT     64            /* checks running at once */
#define UPTIME_BODY_MAX       (1024 * 1024) /* bytes of a page searched for the keyword */
#define UPTIME_FLAP_CHANGES   4             /* more up/down changes than this within an hour: flapping */
#define UPTIME_FLAP_WINDOW_MS (3600 * 1000)
/* The thread ticks every UPTIME_TICK_MS whatever the checks do (transfers run on curl's multi
 * interface, bounded by their timeouts): no good tick for this long means it is stuck (its
 * database, a check that blocks), and /healthz says so (server/http/ops.c). */
#define UPTIME_STALL_MS 15000

struct app;
struct uptime;

/* Starts the thread; *out: uptime_stop(). */
enum rc uptime_start(struct app *app, struct uptime **out);
/* Asks the thread to stop, waits, frees (NULL: no-op). */
void uptime_stop(struct uptime *u);

/* clock_mono_us() of the uptime thread's last tick that went through (0: not started). Any
 * thread. Test fault: PLANTAO_TEST_UPTIME_STALL_S=N (tests only) makes the thread block N
 * seconds once, the first time a check is in flight, as a check stuck beyond its timeouts would. */
int64_t uptime_last_tick_us(void);

/* "200-399", "200", "200,204,300-308": true when valid (each status 100-599). */
bool uptime_status_spec_is_valid(const char *spec);
/* True when status is within spec. */
bool uptime_status_matches(const char *spec, long status);

#endif
