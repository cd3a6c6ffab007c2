/*
 * db/alerts.h — the alerts and call_attempts tables, and the outbox rows that belong to an
 * alert (its texts, and the calls of its attempts). Every statement on them lives in
 * db/alerts.c; the state machine that decides what to write is server/pager/alerts.c and
 * server/pager/escalation.c. Callers open the transaction (db_begin) around these functions.
 *
 * Outbox ownership: texts of an alert are owner_type 'alert', owner_id = alert id; the call
 * of an attempt is owner_type 'call_attempt', owner_id = call_attempts.id.
 */
#ifndef PLANTAO_DB_ALERTS_H
#define PLANTAO_DB_ALERTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Longest summary kept (bytes, cut on a UTF-8 boundary at intake). */
#define ALERTS_SUMMARY_MAX 300
/* Longest list GET /api/alerts returns. */
#define ALERTS_LIST_MAX 500
/* Longest runbook link carried into a page text (bytes). */
#define ALERTS_RUNBOOK_MAX 400
/* Most alerts one call reads or one page text lists. */
#define ALERTS_BUNDLE_MAX 20

/* The state of one alert as the state machine needs it (a copy). */
struct alerts_row {
	int64_t id;
	char status[16]; /* triggered acknowledged resolved exhausted */
	char summary[ALERTS_SUMMARY_MAX + 1];
	char severity[32]; /* "" when NULL */
	int step;          /* -1: texts not yet sent */
	int round;
	int64_t step_deadline;                    /* 0 when NULL */
	int64_t acked_by;                         /* 0 when NULL */
	bool unpaged;                             /* unpaged_reason is set */
	char runbook_url[ALERTS_RUNBOOK_MAX + 1]; /* "" when none (or longer than ALERTS_RUNBOOK_MAX) */
};

/* One call attempt (a copy). Text fields are "" when NULL. */
struct alerts_attempt {
	int64_t id;
	int64_t alert_id;
	int round;
	int step;
	int64_t person_id; /* 0 when NULL (person deleted) */
	char phone[32];
	char status[16];
	char outcome[16];
	char answered_by[32];
	char digits[8];
	int64_t outbox_id; /* 0 when NULL */
	int64_t ended_at;  /* 0 while the call is open */
};

/* ---- alerts ---- */

/* The open (triggered or acknowledged) alert with dedup_key: *id, or RC_NOT_FOUND. */
enum rc alerts_find_open(struct db *db, const char *dedup_key, int64_t *id);
/* Inserts a triggered alert at step -1; optional fields may be NULL. */
enum rc alerts_insert(struct db *db, const char *summary, const char *details, const char *severity, const char *source,
                      const char *dedup_key, int64_t now, int64_t *id);
/* One more trigger folded into alert id (hits + 1). */
enum rc alerts_bump(struct db *db, int64_t id, int64_t now);
/* Loads alert id into *out; RC_NOT_FOUND when there is none. */
enum rc alerts_load(struct db *db, int64_t id, struct alerts_row *out);
/*
 * Triggered alerts the engine must look at now, at most max ids into ids[], oldest first: new
 * ones (step -1; unpaged ones once their recheck_at came) and those whose step_deadline
 * passed. Two index-served reads (migration 0111): the cost follows the alerts due, not the
 * number open.
 */
enum rc alerts_due(struct db *db, int64_t now, int64_t *ids, size_t max, size_t *n);
/*
 * Triggered alerts whose current call is over without the chain having moved: its outbox row
 * died (failed, canceled, undelivered: never placed, so no callback will come) or the attempt
 * ended. Reads every triggered alert: the engine runs it every few seconds, not every tick.
 */
enum rc alerts_stalled(struct db *db, int64_t *ids, size_t max, size_t *n);
/* Sets the current round/step and its deadline (0: none, the engine does not look at it by
 * time); paging has started, so an unpaged reason is cleared. */
enum rc alerts_set_step(struct db *db, int64_t id, int round, int step, int64_t deadline, int64_t now);
/*
 * Nobody is paged for triggered alert id: keeps reason (static text) and when to look again
 * (recheck_at, 0: never; only alerts at step -1 are looked at again). *first (may be NULL)
 * tells whether the alert was not marked unpaged before.
 */
enum rc alerts_set_unpaged(struct db *db, int64_t id, const char *reason, int64_t recheck_at, int64_t now, bool *first);
/* Whether alert id has had at least one call attempt. */
enum rc alerts_has_attempts(struct db *db, int64_t id, bool *any);
/* triggered -> exhausted. RC_CONFLICT when the alert is not triggered. */
enum rc alerts_set_exhausted(struct db *db, int64_t id, int64_t now);
/* triggered|exhausted -> acknowledged by person_id (0: none) via ("call", "sms", "api").
 * RC_CONFLICT when the alert is in another state. */
enum rc alerts_set_acked(struct db *db, int64_t id, int64_t person_id, const char *via, int64_t now);
/* triggered|acknowledged|exhausted -> resolved. RC_CONFLICT when already resolved. */
enum rc alerts_set_resolved(struct db *db, int64_t id, const char *via, int64_t now);
/*
 * The newest alert that is triggered or exhausted and was texted or called to this person
 * (person_id's attempts, or texts to phone): *id, or RC_NOT_FOUND.
 */
enum rc alerts_newest_for(struct db *db, int64_t person_id, const char *phone, int64_t *id);

/* ---- JSON views (new references) ---- */

/* The alert's own columns plus acked_by_name; RC_NOT_FOUND when there is none. */
enum rc alerts_json(struct db *db, int64_t id, json_t **out);
/* alerts_json plus "attempts" (call_attempts rows with person_name) and "timeline" (every
 * outbox row of the alert and its attempts: texts and calls with Twilio status and times). */
enum rc alerts_detail_json(struct db *db, int64_t id, json_t **out);
/* What GET /api/alerts asks for; NULL and 0 stand for "any". */
struct alerts_filter {
	int limit;            /* 1 to ALERTS_LIST_MAX */
	int64_t before_id;    /* only alerts with a smaller id (the cursor) */
	const char *status;   /* triggered acknowledged resolved exhausted */
	const char *severity; /* critical warning info */
	int64_t from, to;     /* created_at in [from, to) */
	int64_t person_id;    /* acknowledged by, called for or texted to this person */
};
/* The alerts of f, newest (highest id) first, as a new JSON array. */
enum rc alerts_list_json(struct db *db, const struct alerts_filter *f, json_t **out);

/* ---- call attempts ---- */

/*
 * The attempt of (alert_id, round, step): created when missing (UNIQUE(alert_id, round, step)
 * makes a second creation impossible). *created tells which; *out gets the row.
 */
enum rc alerts_attempt_ensure(struct db *db, int64_t alert_id, int round, int step, int64_t person_id,
                              const char *phone, int64_t now, struct alerts_attempt *out, bool *created);
/* Loads attempt id; RC_NOT_FOUND when there is none. */
enum rc alerts_attempt_load(struct db *db, int64_t id, struct alerts_attempt *out);
/* The attempt of (alert_id, round, step); RC_NOT_FOUND when there is none. */
enum rc alerts_attempt_at(struct db *db, int64_t alert_id, int round, int step, struct alerts_attempt *out);
enum rc alerts_attempt_set_outbox(struct db *db, int64_t id, int64_t outbox_id);
/*
 * Records what Twilio said about the call: status (NULL: unchanged), answered_by and
 * call_sid (NULL: unchanged). A call that ended (ended_at set) keeps its final status.
 * ended: set ended_at = now (only if not set yet).
 */
enum rc alerts_attempt_update(struct db *db, int64_t id, const char *status, const char *answered_by,
                              const char *call_sid, bool ended, int64_t now);
/* Sets outcome (ack, pass, machine, silence, timeout, busy, …) and, when not NULL, digits. An
 * outcome already recorded is kept unless overwrite. */
enum rc alerts_attempt_outcome(struct db *db, int64_t id, const char *outcome, const char *digits, bool overwrite);
/*
 * Cancels the calls of alert id that were not placed yet: its attempts on outbox rows still
 * pending or retry end as canceled, and those rows become canceled unless they still carry an
 * attempt of another alert (a bundle call goes on for the others). Page texts still waiting
 * whose every alert was acknowledged or resolved are canceled too (an exhausted alert is
 * still nobody's: its page still goes); those that still list an open alert are rewritten by
 * the engine (alerts_page_texts_stale). *n (may be NULL): how many call rows were canceled.
 */
enum rc alerts_cancel_calls(struct db *db, int64_t id, int64_t now, int *n);
/* Status of the attempt's outbox call ("" when unknown) into status (16 bytes). */
enum rc alerts_attempt_call_status(struct db *db, int64_t attempt_id, char status[16]);
/*
 * The attempt's outbox call: its status (as above) and *accepted_at, when Twilio accepted the
 * call (Unix seconds; 0 while it has not: pending, held by a limit, being sent).
 */
enum rc alerts_attempt_call(struct db *db, int64_t attempt_id, char status[16], int64_t *accepted_at);

/* ---- bundles: one call and one text per person carry every open alert for them ---- */

/*
 * A call to phone that new alerts may still join: an alert call not answered yet (waiting in
 * the outbox, being placed, queued or ringing at Twilio) that still carries an attempt that has
 * not ended, and none whose alert was read on it. *outbox_id and its outbox status, or
 * RC_NOT_FOUND.
 */
enum rc alerts_joinable_call(struct db *db, const char *phone, int64_t *outbox_id, char status[16]);

/* One alert carried by a call (alerts_on_call). */
struct alerts_on_call {
	int64_t attempt_id;
	int64_t alert_id;
	int round, step;
	int64_t person_id;
	char status[16]; /* the alert's */
	char summary[ALERTS_SUMMARY_MAX + 1];
	bool read;  /* read_at set */
	bool ended; /* the attempt ended */
};

/* The attempts carried by call outbox_id, oldest first, at most max into out (*n). */
enum rc alerts_on_call(struct db *db, int64_t outbox_id, struct alerts_on_call *out, size_t max, size_t *n);
/* The call's TwiML read attempt id's alert: read_at (first time only) and status in-progress. */
enum rc alerts_attempt_read(struct db *db, int64_t id, int64_t now);
/*
 * Whether call outbox_id should still be placed: some attempt on it has not ended and its
 * alert is triggered. For the sender's last look before it hands a page call to Twilio.
 */
enum rc alerts_call_wanted(struct db *db, int64_t outbox_id, bool *wanted);

/*
 * A page text of kind ("sms", "whatsapp") to phone that has not been handed to Twilio yet
 * (pending or retry) and lists alerts: new alerts for that person join it. *outbox_id, or
 * RC_NOT_FOUND.
 */
enum rc alerts_open_page_text(struct db *db, const char *kind, const char *phone, int64_t *outbox_id);
/* Page text outbox_id lists alert_id (once). */
enum rc alerts_page_text_link(struct db *db, int64_t outbox_id, int64_t alert_id);
/*
 * The open alerts (triggered or exhausted: nobody took them) page text outbox_id lists, oldest
 * first: ids and summaries (max of each).
 */
enum rc alerts_page_text_alerts(struct db *db, int64_t outbox_id, int64_t *ids,
                                char (*summaries)[ALERTS_SUMMARY_MAX + 1], size_t max, size_t *n);
/*
 * Rewrites page text outbox_id while it waits (pending or retry): body and owner alert (the
 * encoding and parts are counted again when it is sent). RC_CONFLICT when it is no longer
 * waiting.
 */
enum rc alerts_page_text_update(struct db *db, int64_t outbox_id, const char *body, int64_t owner_id);
/* Waiting page texts that list an alert acknowledged or resolved since (to be rewritten). */
enum rc alerts_page_texts_stale(struct db *db, int64_t *ids, size_t max, size_t *n);
/* Forgets the links of page text outbox_id to alerts acknowledged or resolved. */
enum rc alerts_page_text_prune(struct db *db, int64_t outbox_id);
/* Open alerts (triggered or exhausted) paged to this person (calls or texts), newest first. */
enum rc alerts_open_for(struct db *db, int64_t person_id, const char *phone, int64_t *ids, size_t max, size_t *n);

/* ---- texts ---- */

/*
 * Everyone the alert's page was texted to: calls fn(ctx, kind, to, opted_out) once per
 * distinct (kind, to) of the alert's outbox rows of class 'alert' (its own and the page texts
 * that list it), canceled ones left out; opted_out tells whether the phone belongs to a person
 * who texted STOP since.
 */
enum rc alerts_texted(struct db *db, int64_t id,
                      void (*fn)(void *ctx, const char *kind, const char *to, bool opted_out), void *ctx);

#endif
