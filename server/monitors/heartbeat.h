/*
 * server/monitors/heartbeat.h — the heartbeat state machine (issue 15, healthchecks.io's model).
 *
 *   new --success--> up --due passed--> late --grace passed--> down --success--> up
 *                     \--------------------fail ping----------> down
 *
 * A heartbeat expects a success ping every period_s seconds, or at each firing of its cron
 * schedule in its zone: "due" is the period after the last success (or the schedule's next
 * firing after it). It is late from due, and down grace_s seconds later. Going down opens an
 * alert (dedup_key monitor:<id>, the monitor's severity) that the normal escalation pages;
 * the next success resolves it with one "voltou" text to everyone paged. A fail ping (or an
 * exit status 1-255) is down at once. A new monitor never alerts before its first ping, a paused
 * one never alerts. Every function works on a struct monitor copy inside the caller's
 * transaction; the caller writes it back (monitors_update) and, after commit, acts on the
 * struct heartbeat_effects (wakes the engine, counts alerts).
 */
#ifndef PLANTAO_HEARTBEAT_H
#define PLANTAO_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/monitors.h"

struct app;
struct db;

/* What a change did, for the caller to act on after its commit. */
struct heartbeat_effects {
	int opened;   /* alerts triggered */
	int resolved; /* alerts resolved */
};

/* When the success after one at after_ms is due (period or schedule). RC_INVALID: bad schedule. */
enum rc heartbeat_due_after(const struct monitor *m, int64_t after_ms, int64_t *due_ms);

/* Folds one ping (body: the fail ping's kept body, may be NULL) into m at now_ms. */
enum rc heartbeat_on_ping(struct app *app, struct db *db, struct monitor *m, const struct monitor_ping *p,
                          const char *body, int64_t now_ms, struct heartbeat_effects *fx);

/* m's next_ms came: late or down as the clock says. */
enum rc heartbeat_on_time(struct app *app, struct db *db, struct monitor *m, int64_t now_ms,
                          struct heartbeat_effects *fx);

/* Pauses (closing its open alert) or resumes m: a resumed monitor that was pinged before is up
 * and owes its next success one period (or firing) from now; one never pinged is new. */
enum rc heartbeat_set_paused(struct app *app, struct db *db, struct monitor *m, bool paused, int64_t now_ms,
                             struct heartbeat_effects *fx);

/* After an edit of period, grace or schedule: an up or late monitor is due again counting from
 * its last success (the monitor thread then sees at once whether that is late or down). */
enum rc heartbeat_rescheduled(struct monitor *m, int64_t now_ms);

/* Closes m's open alerts, its state's and its certificate's (deleting or pausing a monitor). */
enum rc heartbeat_close_alert(struct app *app, struct db *db, struct monitor *m, int64_t now_ms,
                              struct heartbeat_effects *fx);

/* ---- shared with the uptime checks (server/monitors/uptime.c) ---- */

/* Opens an alert for m with dedup_key unless *alert_id is still open; *alert_id gets it. */
enum rc heartbeat_alert_open(struct db *db, struct monitor *m, int64_t *alert_id, const char *dedup_key,
                             const char *severity, const char *summary, const char *details, int64_t now_ms,
                             struct heartbeat_effects *fx);
/* Resolves alert *alert_id if open (notice, may be NULL for the pager's own, is the one text
 * everyone paged reads) and clears *alert_id. */
enum rc heartbeat_alert_close(struct app *app, struct db *db, struct monitor *m, int64_t *alert_id, const char *notice,
                              int64_t now_ms, struct heartbeat_effects *fx);

#endif
