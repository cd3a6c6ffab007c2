/*
 * db/monitors.h — the monitors and monitor_pings tables (migrations/0140_monitors.sql).
 * Owns every statement on them. A monitor is copied in and out as a struct monitor; 0 stands
 * for SQL NULL in its optional integers. No transaction is opened here except by
 * monitors_ping_add (the one insert of a ping); callers wrap the rest.
 * Callers: server/api/api_monitors.c (the API), server/monitors/ (pings and the monitor thread).
 */
#ifndef PLANTAO_DB_MONITORS_H
#define PLANTAO_DB_MONITORS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/db.h"

#define MONITORS_NAME_MAX     200                         /* bytes */
#define MONITORS_SECRET_BYTES 16                          /* random bytes of a ping secret (128 bits) */
#define MONITORS_SECRET_LEN   (2 * MONITORS_SECRET_BYTES) /* as hex */
#define MONITORS_SCHEDULE_MAX 120
#define MONITORS_TZ_MAX       64
#define MONITORS_PING_BODY    (100 * 1024) /* bytes of a ping's body kept */
#define MONITORS_PINGS_KEPT   100          /* newest pings kept per monitor */
#define MONITORS_LIST_MAX     10000
#define MONITORS_TARGET_MAX   1024 /* URL or host:port of an uptime check */
#define MONITORS_KEYWORD_MAX  200
#define MONITORS_ERROR_MAX    300

struct monitor {
	int64_t id;
	char kind[12]; /* heartbeat (http, tcp: later kinds) */
	char name[MONITORS_NAME_MAX + 1];
	char secret[MONITORS_SECRET_LEN + 1];
	int64_t period_s; /* 0 when schedule is set */
	int64_t grace_s;
	char schedule[MONITORS_SCHEDULE_MAX + 1]; /* cron, "" when period_s is used */
	char tz[MONITORS_TZ_MAX + 1];             /* zone of the schedule and of texts */
	char severity[12];
	bool paused;
	char state[8]; /* new up late down */
	int64_t state_since_ms;
	int64_t last_ping_ms;
	char last_ping_kind[8]; /* success start fail, "" */
	int64_t last_start_ms;
	int64_t last_duration_ms;
	int64_t due_ms;  /* a success is expected by then */
	int64_t next_ms; /* when the monitor thread looks again; 0: only a ping changes it */
	int64_t alert_id;
	/* uptime checks (kind http, tcp) */
	char target[MONITORS_TARGET_MAX + 1]; /* http(s) URL, or host:port */
	int64_t interval_s, timeout_s;
	char expect_status[32]; /* "200-399" */
	char keyword[MONITORS_KEYWORD_MAX + 1];
	bool follow_redirects, tls_verify;
	int failures_before_alert, cert_warn_days;
	int fail_streak; /* failed checks in a row (after their retry) */
	char last_error[MONITORS_ERROR_MAX + 1];
	int64_t last_response_ms;
	int64_t cert_expires_at; /* the certificate's notAfter, 0: unknown */
	int64_t cert_alert_id;
	int flips;              /* up/down changes since flips_since_ms */
	int64_t flips_since_ms; /* start of the flapping window */
	bool flapping;
	int64_t created_at, updated_at;
};

/* One ping as the monitor thread folds it (the body is read separately). */
struct monitor_ping {
	int64_t id;
	int64_t monitor_id;
	int64_t at_ms;
	char kind[8];    /* success start fail */
	int exit_status; /* -1: none */
};

/* Inserts m (created_at and updated_at are now; next_ms as m has it); *id: the new row.
 * RC_CONFLICT when the secret is taken. */
enum rc monitors_insert(struct db *db, const struct monitor *m, int64_t now, int64_t *id);
/* Writes every mutable field of m (by m->id) with updated_at = now. RC_NOT_FOUND. */
enum rc monitors_update(struct db *db, const struct monitor *m, int64_t now);
/* RC_NOT_FOUND when there is no such monitor. */
enum rc monitors_get(struct db *db, int64_t id, struct monitor *out);
enum rc monitors_delete(struct db *db, int64_t id);
/* Calls fn with each monitor, by id (at most MONITORS_LIST_MAX); fn's monitor is borrowed. */
enum rc monitors_each(struct db *db, void (*fn)(void *ctx, const struct monitor *m), void *ctx);
/* What GET /api/monitors asks for; NULL and 0 stand for "any". */
struct monitors_filter {
	int limit;         /* 1 to MONITORS_LIST_MAX */
	int64_t before_id; /* only monitors with a smaller id (the cursor) */
	const char *kind;  /* heartbeat http tcp */
	const char *state; /* new up late down (not paused), or paused */
};
/* Calls fn with each monitor of f, newest (highest id) first; fn's monitor is borrowed. */
enum rc monitors_list(struct db *db, const struct monitors_filter *f, void (*fn)(void *ctx, const struct monitor *m),
                      void *ctx);

/* The heartbeat monitor whose ping secret is secret (an index probe); RC_NOT_FOUND. */
enum rc monitors_find_secret(struct db *db, const char *secret, int64_t *id, bool *paused);

/*
 * Records a ping: one INSERT in a transaction of its own (the only write of a ping). body (may
 * be NULL) is valid UTF-8 of at most MONITORS_PING_BODY bytes; exit_status -1 for none.
 */
enum rc monitors_ping_add(struct db *db, int64_t monitor_id, int64_t at_ms, const char *kind, int exit_status,
                          const char *method, const char *body, size_t body_len);
/* Up to max unfolded pings, oldest first, into out; *n how many. */
enum rc monitors_pings_unfolded(struct db *db, struct monitor_ping *out, size_t max, size_t *n);
/* Marks ping p folded and drops all but the newest MONITORS_PINGS_KEPT of its monitor.
 * RC_CONFLICT when it was folded already (by another process on the same database). */
enum rc monitors_ping_claim(struct db *db, const struct monitor_ping *p);
/* The body of ping id into out (cut to len - 1 bytes, NUL-terminated; "" when none). */
enum rc monitors_ping_body(struct db *db, int64_t id, char *out, size_t len);
/* Newest first, at most limit, as a new JSON array of {id, at (epoch seconds), kind, exit_status,
 * method, body, response_ms}. */
enum rc monitors_pings_json(struct db *db, int64_t monitor_id, int limit, json_t **out);
/* The same, only pings with an id below before_id (0: from the newest): the API's cursor. */
enum rc monitors_pings_page_json(struct db *db, int64_t monitor_id, int64_t before_id, int limit, json_t **out);

/*
 * Monitors whose next_ms came (next_ms <= now_ms), not paused, without unfolded pings (the
 * thread folds those first), soonest first: at most max ids into ids, *n how many.
 */
enum rc monitors_due(struct db *db, int64_t now_ms, int64_t *ids, size_t max, size_t *n);

/* Uptime checks (kind http or tcp) due now, not paused, soonest first: at most max ids. */
enum rc monitors_checks_due(struct db *db, int64_t now_ms, int64_t *ids, size_t max, size_t *n);
/* Records a check's result as a folded ping (kind success or fail; error: the failure in words,
 * may be NULL) and keeps the newest MONITORS_PINGS_KEPT of the monitor. In the caller's
 * transaction. */
enum rc monitors_result_add(struct db *db, int64_t monitor_id, int64_t at_ms, const char *kind, const char *method,
                            const char *error, int64_t response_ms);

#endif
