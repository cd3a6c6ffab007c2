/*
 * server/monitors/ping.h — GET/POST/HEAD /ping/{secret}[/start|/fail|/{exit status}]: a job
 * reports to its heartbeat monitor. The secret is the only credential (healthchecks.io's model).
 * A ping is one INSERT (db/monitors.c); the monitor thread (server/monitors/watch.c) folds it
 * into the monitor's state within a fraction of a second. Answers are text: "OK", or 404 "not
 * found" for an unknown secret; unknown secrets are rate limited (429) per client address so
 * nobody can guess them at speed, while a job elsewhere with a mistyped secret still hears 404.
 * A POST body is kept with the ping, its first MONITORS_PING_BODY bytes (the job's log tail),
 * and shown in the alert of a failure.
 */
#ifndef PLANTAO_PING_H
#define PLANTAO_PING_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

/* Body accepted by a ping route (the excess past MONITORS_PING_BODY is read and dropped). */
#define PING_MAX_BODY (16 * HTTP_MIB)
/* Pings with an unknown secret answered per second from one client address (burst twice
 * that); past it, 429 with Retry-After. Addresses are kept in a table of PING_MISS_SLOTS
 * (probing PING_MISS_PROBE neighbours; see ping.c for why a busy slot is never taken over). */
#define PING_MISS_RATE  20
#define PING_MISS_SLOTS 1024
#define PING_MISS_PROBE 8

/* Route handler of every /ping route. */
enum rc ping_handle(struct http_req *req);
/* Streaming body consumer of the POST routes: keeps the first MONITORS_PING_BODY bytes. */
enum rc ping_body(struct http_req *req, const char *data, size_t len);

/*
 * A job that can only send mail: when subject carries a heartbeat's secret (32 hex digits
 * anywhere in it), records a ping of that monitor (method "EMAIL"; a failure when the subject
 * also says "fail" or "falha", case-insensitive; body: the first MONITORS_PING_BODY bytes of
 * text, may be NULL) and sets *handled; otherwise changes nothing and *handled is false. For
 * the IMAP poller (server/pager/imap.c), before it turns a mail into an alert.
 */
enum rc ping_mail(struct db *db, const char *subject, const char *text, bool *handled);

#endif
