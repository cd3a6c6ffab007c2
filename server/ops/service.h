/*
 * server/ops/service.h — plantao as a systemd service: the sd_notify protocol over
 * $NOTIFY_SOCKET (READY=1, STATUS=, STOPPING=1, WATCHDOG=1; no libsystemd), the watchdog that
 * pings only while the engine thread ticks, and the live reload of the environment file on
 * SIGHUP. Called by server/main.c (cmd_serve) only.
 *
 * The notify protocol is systemd's stable interface (sd_notify(3)): one datagram per message
 * to the AF_UNIX socket $NOTIFY_SOCKET names ("@name" is an abstract address). Without
 * NOTIFY_SOCKET every call here does nothing.
 */
#ifndef PLANTAO_SERVICE_H
#define PLANTAO_SERVICE_H

#include <stdbool.h>

#include "core/rc.h"

struct app;
struct service;

/* Sends one notify message ("READY=1\nSTATUS=..."); false when there is no socket or it failed. */
bool service_notify(const char *msg);

/*
 * Starts the watchdog thread when systemd asked for one (WATCHDOG_USEC set, WATCHDOG_PID unset or
 * ours): every WATCHDOG_USEC/4 it sends WATCHDOG=1, but only while the engine thread has taken a
 * wake-up (app_wake_engine) within the last WATCHDOG_USEC/2; a stalled engine stops the pings,
 * is logged at ERROR and shown in STATUS=, and systemd restarts the service. *out is NULL (and
 * RC_OK) when no watchdog was asked for. Stop with service_stop() before app_release().
 */
enum rc service_start(struct app *app, struct service **out);
void service_stop(struct service *s);

/*
 * SIGHUP: re-reads env_file (the file given to `serve --env-file`; NULL: ./.env) and applies what
 * can change while serving — PLANTAO_LOG_LEVEL — logging each change; other variables whose
 * value differs from the running one are logged as taking effect at the next restart.
 */
void service_reload(const char *env_file);

#endif
