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
#include <stdint.h>

#include "core/rc.h"

struct app;
struct service;

/* Sends one notify message ("READY=1\nSTATUS=..."); false when there is no socket or it failed. */
bool service_notify(const char *msg);

/*
 * Starts the watchdog thread when systemd asked for one (WATCHDOG_USEC set, WATCHDOG_PID unset or
 * ours): every WATCHDOG_USEC/4 it sends WATCHDOG=1, but only while the engine thread has finished
 * a tick (engine_last_tick_us) within the last WATCHDOG_USEC/2; a stalled engine stops the pings,
 * is logged at ERROR and shown in STATUS=, and systemd restarts the service. *out is NULL (and
 * RC_OK) when no watchdog was asked for. Stop with service_stop() before app_release().
 */
enum rc service_start(struct app *app, struct service **out);

/* What the watchdog does at one of its WATCHDOG_USEC/4 beats. */
enum service_watchdog {
	SERVICE_WD_PING,       /* the engine ticked recently: WATCHDOG=1 */
	SERVICE_WD_PING_AGAIN, /* it ticks again after a stall: WATCHDOG=1, STATUS= and a warning */
	SERVICE_WD_STALLED,    /* it has just been found stalled: no ping, an ERROR and STATUS= */
	SERVICE_WD_WITHHOLD,   /* still stalled: no ping */
};
/* The watchdog's decision at now_us (clock_mono_us) given the engine's last finished tick
 * (engine_last_tick_us; 0 or less: never), WATCHDOG_USEC and whether it was stalled at the last
 * beat: a tick at most watchdog_us/2 old pings. */
enum service_watchdog service_watchdog_decide(int64_t now_us, int64_t last_tick_us, int64_t watchdog_us, bool stalled);
void service_stop(struct service *s);

/*
 * SIGHUP: re-reads env_file (the file given to `serve --env-file`; NULL: ./.env) and applies what
 * can change while serving — PLANTAO_LOG_LEVEL — logging each change; other variables whose
 * value differs from the running one are logged as taking effect at the next restart.
 */
void service_reload(const char *env_file);

#endif
