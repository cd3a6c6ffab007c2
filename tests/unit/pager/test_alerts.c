/*
 * tests/unit/pager/test_alerts.c — the alert pager's state machine on a real SQLite file:
 * intake and dedup (server/pager/alerts.c), the escalation chain (server/pager/escalation.c) driven by
 * call statuses and deadlines, acknowledgment, SMS commands, and the rows it leaves
 * (db/alerts.c). The outbox is only inspected: nothing is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/alerts.h"
#include "db/db.h"
#include "db/escalation.h"
#include "pager/alerts.h"
#include "core/app.h"
#include "core/buf.h"
#include "core/cfg.h"
#include "core/clock.h"
#include "pager/escalation.h"
#include "tests/unit/testdb.h"

#define T0 1800000000 /* a fixed "now" for the state machine */

struct fx {
	char path[64];
	struct cfg cfg;
	struct app app;
	struct db *db;
	int64_t ana, bruno, carla;
};

static int64_t scalar(struct db *db, const char *sql)
{
	return testdb_scalar(db, sql);
}

/* The text of the first column of the first row, copied into out. */
static const char *text(struct db *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void exec(struct db *db, const char *sql)
{
	assert_int_equal(db_exec(db, sql), RC_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->cfg.public_url = "https://pager.example.com";
	f->cfg.lang = "pt-BR";
	f->cfg.callback_grace = 30;
	f->cfg.machine_detection = true;
	f->cfg.whatsapp_from = "whatsapp:+15005550006";
	assert_int_equal(app_init(&f->app, &f->cfg), RC_OK);
	f->db = testdb_open("alerts", f->path);
	exec(f->db, "INSERT INTO people (name, phone, whatsapp, created_at, updated_at) VALUES "
	            "('Ana', '+5511990000001', 0, 0, 0), ('Bruno', '+5511990000002', 1, 0, 0), "
	            "('Carla', '+5511990000003', 0, 0, 0)");
	f->ana = 1;
	f->bruno = 2;
	f->carla = 3;
	/* three people, one step each, 30 s, two rounds */
	exec(f->db, "DELETE FROM escalation_steps");
	exec(f->db, "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES "
	            "(0, 'person', 1, 30), (1, 'person', 2, 30), (2, 'person', 3, 30)");
	exec(f->db, "UPDATE escalation SET rounds = 2");
	clock_set_offset((T0 - clock_now()) * 1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	testdb_close(f->db, f->path);
	app_release(&f->app);
	free(f);
	clock_set_offset(0);
	return 0;
}

static int64_t trigger(struct fx *f, const char *summary, const char *key, bool *deduped)
{
	struct alert_input in = {summary, "details", "critical", "test", key};
	int64_t id = 0;

	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, deduped), RC_OK);
	assert_true(id > 0);
	return id;
}

/* One engine pass at now (seconds). */
static void tick(struct fx *f, int64_t now)
{
	assert_int_equal(escalation_run(&f->app, f->db, NULL, now * 1000), RC_OK);
}

/* Runs fn-like call-status handling in a transaction, as server/twilio/status.c does. */
static void call_status(struct fx *f, int64_t attempt, const char *status, const char *answered_by)
{
	assert_int_equal(db_begin(f->db), RC_OK);
	assert_int_equal(alerts_call_status(&f->app, f->db, attempt, status, answered_by), RC_OK);
	assert_int_equal(db_commit(f->db), RC_OK);
}

static int64_t current_attempt(struct fx *f, int64_t alert)
{
	struct alerts_row a;
	struct alerts_attempt t;

	assert_int_equal(alerts_load(f->db, alert, &a), RC_OK);
	assert_int_equal(alerts_attempt_at(f->db, alert, a.round, a.step, &t), RC_OK);
	return t.id;
}

/* The sender handed the page texts to Twilio (nothing is sent in these tests). */
static void texts_sent(struct fx *f)
{
	exec(f->db, "UPDATE outbox SET status = 'sent' WHERE class = 'alert' AND kind IN ('sms', 'whatsapp') "
	            "AND status = 'pending'");
}

static int64_t calls(struct fx *f)
{
	return scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'call'");
}

/* ---------------------------------------------------------------- intake */

static void dedup_folds_open_alerts_only(void **state)
{
	struct fx *f = *state;
	bool deduped = true;
	int64_t a, b, c;

	a = trigger(f, "disk full", "disk:db1", &deduped);
	assert_false(deduped);
	b = trigger(f, "disk full again", "disk:db1", &deduped);
	assert_true(deduped);
	assert_int_equal(a, b);
	assert_int_equal(scalar(f->db, "SELECT hits FROM alerts WHERE id = 1"), 2);
	/* a different key, and no key at all, are new alerts */
	c = trigger(f, "cpu", "cpu:db1", &deduped);
	assert_false(deduped);
	assert_int_not_equal(c, a);
	assert_int_not_equal(trigger(f, "no key", NULL, &deduped), trigger(f, "no key", NULL, &deduped));
	/* acknowledged is still open; resolved is not */
	assert_int_equal(alerts_ack(&f->app, f->db, a, f->ana, "api", NULL), RC_OK);
	assert_int_equal(trigger(f, "disk full", "disk:db1", &deduped), a);
	assert_true(deduped);
	assert_int_equal(alerts_resolve(&f->app, f->db, a, "api", NULL), RC_OK);
	assert_int_not_equal(trigger(f, "disk full", "disk:db1", &deduped), a);
	assert_false(deduped);
}

static void summary_is_required_and_cleaned(void **state)
{
	struct fx *f = *state;
	struct alert_input in = {0};
	char long_summary[400], out[512];
	int64_t id;

	in.summary = NULL;
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_UNPROCESSABLE);
	in.summary = "  \n\t ";
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_UNPROCESSABLE);
	in.summary = "bad \xff utf-8";
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_UNPROCESSABLE);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM alerts"), 0); /* nothing half-written */
	in.summary = "  disk\nfull\r\n";
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_OK);
	assert_string_equal(text(f->db, "SELECT summary FROM alerts", out, sizeof out), "disk full");
	/* C1 controls become spaces, the noncharacters U+FFFE/U+FFFF the replacement character:
	 * no text or TwiML built from the summary carries them */
	in.summary = "db\xc2\x85one \xef\xbf\xbftwo\xef\xbf\xbe";
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_OK);
	assert_string_equal(text(f->db, "SELECT summary FROM alerts WHERE id = 2", out, sizeof out),
	                    "db one \xef\xbf\xbdtwo\xef\xbf\xbd");
	/* cut to ALERTS_SUMMARY_MAX bytes without splitting "é" (2 bytes) */
	memset(long_summary, 0, sizeof long_summary);
	long_summary[0] = 'x'; /* then "é" (2 bytes) from offset 1: byte 300 is inside a character */
	for (size_t i = 1; i + 2 < sizeof long_summary; i += 2)
		memcpy(long_summary + i, "\xc3\xa9", 2);
	in.summary = long_summary;
	assert_int_equal(alerts_trigger(&f->app, f->db, &in, &id, NULL), RC_OK);
	assert_int_equal(scalar(f->db, "SELECT length(CAST(summary AS BLOB)) FROM alerts WHERE id = 3"),
	                 ALERTS_SUMMARY_MAX - 1);
}

/* ---------------------------------------------------------------- the chain */

static void start_texts_everyone_then_calls_the_first(void **state)
{
	struct fx *f = *state;
	char out[512];
	int64_t id;

	exec(f->db, "UPDATE people SET sms_opt_out = 1 WHERE id = 3"); /* Carla texted STOP */
	id = trigger(f, "disk full", NULL, NULL);
	assert_int_equal(calls(f), 0); /* the handler only writes the alert */
	tick(f, T0);
	/* SMS to Ana and Bruno, WhatsApp to Bruno, nothing to Carla; the page carries the number */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms' AND class = 'alert'"), 2);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'whatsapp' AND to_number = "
	                               "'+5511990000002'"),
	                 1);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE to_number = '+5511990000003' AND kind "
	                               "!= 'call'"),
	                 0);
	assert_string_equal(text(f->db, "SELECT body FROM outbox WHERE kind = 'sms' ORDER BY id", out, sizeof out),
	                    "Alerta 1: disk full. Responda 'ack 1' para assumir.");
	/* then exactly one call: Ana, step 0 of round 0, with machine detection, owned by the attempt */
	assert_int_equal(calls(f), 1);
	assert_string_equal(text(f->db, "SELECT url FROM outbox WHERE kind = 'call'", out, sizeof out),
	                    "https://pager.example.com/twilio/alert-call/1");
	assert_string_equal(text(f->db,
	                         "SELECT to_number || ' ' || idem_key || ' ' || owner_type || ' ' || "
	                         "owner_id || ' ' || machine_detection || ' ' || priority FROM outbox "
	                         "WHERE kind = 'call'",
	                         out, sizeof out),
	                    "+5511990000001 attempt:1:call call_attempt 1 1 0");
	assert_int_equal(scalar(f->db, "SELECT step_deadline FROM alerts"), T0 + 30 + ESCALATION_CALL_ALLOWANCE_S + 30);
	assert_int_equal(scalar(f->db, "SELECT outbox_id FROM call_attempts"),
	                 scalar(f->db, "SELECT id FROM outbox WHERE kind = 'call'"));
	/* running again (a restart) changes nothing */
	tick(f, T0);
	tick(f, T0 + 1);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox"), 4);
	(void)id;
}

static void busy_no_answer_then_ack_by_keypad_path(void **state)
{
	struct fx *f = *state;
	char out[512];
	int64_t id = trigger(f, "db down", NULL, NULL), a1, a2, a3;
	bool changed = false;

	tick(f, T0);
	texts_sent(f);
	a1 = current_attempt(f, id);
	call_status(f, a1, "ringing", NULL);
	assert_int_equal(calls(f), 1);
	call_status(f, a1, "no-answer", NULL);
	a2 = current_attempt(f, id);
	assert_int_not_equal(a1, a2);
	assert_int_equal(calls(f), 2);
	call_status(f, a2, "busy", NULL);
	a3 = current_attempt(f, id);
	assert_int_equal(calls(f), 3);
	assert_string_equal(
	        text(f->db, "SELECT to_number FROM outbox WHERE kind = 'call' ORDER BY id DESC", out, sizeof out),
	        "+5511990000003");
	/* a late "completed" for the first attempt must not move the chain again */
	call_status(f, a1, "completed", NULL);
	assert_int_equal(calls(f), 3);
	assert_int_equal(current_attempt(f, id), a3);
	/* Carla presses 1 (what the gather handler does) */
	assert_int_equal(db_begin(f->db), RC_OK);
	assert_int_equal(alerts_ack_tx(&f->app, f->db, id, f->carla, "call", T0 + 5, &changed), RC_OK);
	assert_int_equal(alerts_attempt_outcome(f->db, a3, "ack", "1", true), RC_OK);
	assert_int_equal(db_commit(f->db), RC_OK);
	assert_true(changed);
	call_status(f, a3, "completed", "human");
	assert_string_equal(
	        text(f->db, "SELECT status || ' ' || acked_by || ' ' || acked_via FROM alerts", out, sizeof out),
	        "acknowledged 3 call");
	/* everyone texted hears who took it; no further call ever */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE class = 'ack' AND body = "
	                               "'Alerta 1 assumido por Carla.'"),
	                 4); /* 3 SMS + Bruno's WhatsApp */
	tick(f, T0 + 10000);
	assert_int_equal(calls(f), 3);
	assert_string_equal(text(f->db,
	                         "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM call_attempts "
	                         "ORDER BY id)",
	                         out, sizeof out),
	                    "no-answer,busy,ack");
}

/* Twilio accepted the call of attempt `attempt` at `at`, as the sender records it. */
static void accepted(struct fx *f, int64_t attempt, int64_t at)
{
	char sql[256];

	snprintf(sql, sizeof sql,
	         "UPDATE outbox SET status = 'queued', sid = 'CA%032lld', sent_at = %lld WHERE id = "
	         "(SELECT outbox_id FROM call_attempts WHERE id = %lld)",
	         (long long)attempt, (long long)at, (long long)attempt);
	exec(f->db, sql);
}

static void deadline_moves_on_without_callback(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "lost callback", NULL, NULL), deadline, a1;
	char out[64];

	tick(f, T0);
	a1 = current_attempt(f, id);
	accepted(f, a1, T0);
	deadline = scalar(f->db, "SELECT step_deadline FROM alerts");
	tick(f, deadline - 1);
	assert_int_equal(calls(f), 1);
	tick(f, deadline);
	assert_int_equal(calls(f), 2);
	assert_string_equal(text(f->db, "SELECT outcome FROM call_attempts WHERE id = 1", out, sizeof out), "timeout");
	assert_true(scalar(f->db, "SELECT ended_at FROM call_attempts WHERE id = 1") > 0);
	/* the lost callback arriving late changes nothing */
	call_status(f, a1, "no-answer", NULL);
	assert_int_equal(calls(f), 2);
}

/* A step's time counts from when Twilio accepted its call, not from when it was queued. */
static void deadline_counts_from_acceptance(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "held call", NULL, NULL), first, a1;

	tick(f, T0);
	a1 = current_attempt(f, id);
	first = scalar(f->db, "SELECT step_deadline FROM alerts");
	/* the call sat in the outbox (a per-phone limit) past the first deadline: Ana is not skipped */
	tick(f, first + 200);
	assert_int_equal(calls(f), 1);
	assert_int_equal(current_attempt(f, id), a1);
	assert_true(scalar(f->db, "SELECT ended_at IS NULL FROM call_attempts WHERE id = 1"));
	/* Twilio accepts it late: the step gets its whole time from then */
	accepted(f, a1, first + 250);
	tick(f, first + 251);
	assert_int_equal(scalar(f->db, "SELECT step_deadline FROM alerts"), first + 250 + (first - T0));
	tick(f, first + 250 + (first - T0) - 1);
	assert_int_equal(calls(f), 1);
	tick(f, first + 250 + (first - T0));
	assert_int_equal(calls(f), 2);
	assert_int_equal(scalar(f->db, "SELECT person_id FROM call_attempts WHERE id = 2"), f->bruno);
}

/* Alerts for somebody whose call has not been answered yet ride on that call, and end with it. */
static void alerts_join_the_call_not_answered_yet(void **state)
{
	struct fx *f = *state;
	int64_t a = trigger(f, "first", NULL, NULL), b, c;

	tick(f, T0);
	b = trigger(f, "second", NULL, NULL);
	c = trigger(f, "third", NULL, NULL);
	tick(f, T0 + 1);
	/* one call to Ana carries the three alerts */
	assert_int_equal(calls(f), 1);
	assert_int_equal(scalar(f->db, "SELECT count(DISTINCT outbox_id) FROM call_attempts"), 1);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM call_attempts"), 3);
	/* one text to each person lists the three (they were still waiting to be sent) */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms'"), 3);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms' AND body LIKE "
	                               "'3 alertas abertos: #1 first, #2 second, #3 third; responda%'"),
	                 3);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM page_texts"), 12); /* and Bruno's WhatsApp */
	/* the call ends unanswered: the three move on together, to one call to Bruno */
	call_status(f, current_attempt(f, a), "no-answer", NULL);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM alerts WHERE step = 1"), 3);
	assert_int_equal(calls(f), 2);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM call_attempts WHERE step = 0 AND outcome = 'no-answer' "
	                               "AND ended_at IS NOT NULL"),
	                 3);
	assert_int_equal(current_attempt(f, b) > 0, 1);
	assert_int_equal(scalar(f->db, "SELECT count(DISTINCT outbox_id) FROM call_attempts WHERE step = 1"), 1);
	/* an acknowledgment of one of them by text keeps the call for the other two */
	assert_int_equal(alerts_ack(&f->app, f->db, c, f->bruno, "sms", NULL), RC_OK);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'call' AND status = 'canceled' "
	                               "AND to_number = '+5511990000002'"),
	                 0);
	/* the texts still waiting are rewritten without it */
	tick(f, T0 + 2);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms' AND body LIKE "
	                               "'2 alertas abertos: #1 first, #2 second; responda%'"),
	                 3);
	assert_int_equal(alerts_ack(&f->app, f->db, a, f->bruno, "sms", NULL), RC_OK);
	assert_int_equal(alerts_ack(&f->app, f->db, b, f->bruno, "sms", NULL), RC_OK);
	/* nothing open left in them: never sent */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE class = 'alert' AND kind <> 'call' "
	                               "AND status <> 'canceled'"),
	                 0);
	/* nobody left on it: the call waiting in the outbox is canceled */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'call' AND status = 'canceled' "
	                               "AND to_number = '+5511990000002'"),
	                 1);
}

static void severity_decides_who_is_paged(void **state)
{
	struct fx *f = *state;
	struct alert_input warn = {"fila", NULL, "warning", "test", NULL},
	                   info = {"deploy", NULL, "INFO", "test", NULL};
	const char *reason = NULL;
	int64_t w, i;
	char out[128];

	assert_int_equal(escalation_severity_of(NULL), ESCALATION_CRITICAL);
	assert_int_equal(escalation_severity_of("page"), ESCALATION_CRITICAL);
	assert_int_equal(escalation_severity_of("Warning"), ESCALATION_WARNING);
	assert_int_equal(escalation_severity_of("info"), ESCALATION_INFO);
	assert_int_equal(alerts_trigger(&f->app, f->db, &warn, &w, NULL), RC_OK);
	assert_int_equal(alerts_trigger(&f->app, f->db, &info, &i, NULL), RC_OK);
	tick(f, T0);
	/* warning: texted, never called; info: recorded with the reason */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms'"), 3);
	assert_int_equal(calls(f), 0);
	tick(f, T0 + 3600);
	assert_int_equal(calls(f), 0);
	assert_string_equal(text(f->db, "SELECT unpaged_reason FROM alerts WHERE id = 2", out, sizeof out),
	                    ESCALATION_REASON_INFO);
	assert_int_equal(escalation_would_page(f->db, "info", T0, &reason), RC_OK);
	assert_string_equal(reason, ESCALATION_REASON_INFO);
	assert_int_equal(escalation_would_page(f->db, "warning", T0, &reason), RC_OK);
	assert_null(reason);
	/* the policy can call warnings too */
	exec(f->db, "UPDATE escalation SET call_min_severity = 'warning'");
	assert_int_equal(alerts_trigger(&f->app, f->db, &warn, &w, NULL), RC_OK);
	tick(f, T0 + 3601);
	assert_int_equal(calls(f), 1);
}

/* A runbook link (intake keeps it) is in the page text of the alert. */
static void runbook_in_the_page_text(void **state)
{
	struct fx *f = *state;

	trigger(f, "db1 lento", NULL, NULL);
	exec(f->db, "UPDATE alerts SET runbook_url = 'https://wiki.example.com/db1'");
	tick(f, T0);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms' AND body = "
	                               "'Alerta 1: db1 lento. Runbook: https://wiki.example.com/db1 . "
	                               "Responda ''ack 1'' para assumir.'"),
	                 3);
}

static void machine_and_silence_move_on(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "x", NULL, NULL);
	char out[64];

	tick(f, T0);
	call_status(f, current_attempt(f, id), "completed", "machine_end_beep");
	call_status(f, current_attempt(f, id), "completed", "human"); /* answered, pressed nothing */
	assert_int_equal(calls(f), 3);
	assert_string_equal(text(f->db,
	                         "SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM call_attempts "
	                         "ORDER BY id)",
	                         out, sizeof out),
	                    "machine,silence");
}

static void rounds_then_exhausted(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "nobody home", NULL, NULL);
	char out[128];
	int i;

	tick(f, T0);
	texts_sent(f);
	for (i = 0; i < 6; i++) /* 3 steps x 2 rounds */
		call_status(f, current_attempt(f, id), "no-answer", NULL);
	assert_int_equal(calls(f), 6);
	assert_string_equal(text(f->db, "SELECT status FROM alerts", out, sizeof out), "exhausted");
	assert_int_equal(scalar(f->db, "SELECT count(DISTINCT round) FROM call_attempts"), 2);
	/* the last text goes to everyone texted: 3 SMS + 1 WhatsApp */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE body = 'Alerta 1: ninguém assumiu.'"), 4);
	tick(f, T0 + 100000);
	assert_int_equal(calls(f), 6);
	/* exhausted can still be taken, by SMS */
	assert_int_equal(alerts_ack(&f->app, f->db, id, f->bruno, "sms", NULL), RC_OK);
	assert_string_equal(text(f->db, "SELECT status FROM alerts", out, sizeof out), "acknowledged");
}

static void move_on_is_compare_and_set(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "race", NULL, NULL);

	tick(f, T0);
	assert_int_equal(db_begin(f->db), RC_OK);
	assert_int_equal(escalation_move_on(&f->app, f->db, id, 0, 0, T0 + 1), RC_OK);
	assert_int_equal(escalation_move_on(&f->app, f->db, id, 0, 0, T0 + 1), RC_OK); /* same step again */
	assert_int_equal(db_commit(f->db), RC_OK);
	assert_int_equal(calls(f), 2);
	assert_int_equal(scalar(f->db, "SELECT step FROM alerts"), 1);
	/* one attempt per (alert, round, step), whatever happens */
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM call_attempts"), 2);
}

static void ack_cancels_pending_calls_and_resolved_is_final(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "ack me", NULL, NULL);
	bool changed = true;
	char out[64];

	tick(f, T0); /* the first call is queued, not yet sent */
	texts_sent(f);
	assert_int_equal(alerts_ack(&f->app, f->db, id, 0, "api", &changed), RC_OK);
	assert_true(changed);
	assert_string_equal(text(f->db, "SELECT status FROM outbox WHERE kind = 'call'", out, sizeof out), "canceled");
	assert_string_equal(text(f->db, "SELECT status FROM call_attempts", out, sizeof out), "canceled");
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE body = 'Alerta 1 assumido.'"), 4);
	/* again: no change, no second notice */
	assert_int_equal(alerts_ack(&f->app, f->db, id, f->ana, "api", &changed), RC_OK);
	assert_false(changed);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE class = 'ack'"), 4);
	assert_int_equal(alerts_resolve(&f->app, f->db, id, "api", &changed), RC_OK);
	assert_true(changed);
	assert_int_equal(alerts_ack(&f->app, f->db, id, f->ana, "api", NULL), RC_CONFLICT);
	assert_int_equal(alerts_ack(&f->app, f->db, 999, f->ana, "api", NULL), RC_NOT_FOUND);
	assert_int_equal(alerts_resolve(&f->app, f->db, 999, "api", NULL), RC_NOT_FOUND);
}

static void oncall_and_next_from_the_rotation(void **state)
{
	struct fx *f = *state;
	int64_t id;

	/* weekly rotation Bruno, Carla, Ana from long ago; Ana overrides now */
	exec(f->db, "INSERT INTO rotation_versions (id, effective_at, shift_hours, handoff, timezone, created_at) "
	            "VALUES (1, 0, 168, '2026-01-05T09:00', 'America/Sao_Paulo', 0)");
	exec(f->db, "INSERT INTO rotation_members (version_id, position, person_id) VALUES (1, 0, 2), (1, 1, 3), "
	            "(1, 2, 1)");
	exec(f->db, "DELETE FROM escalation_steps");
	exec(f->db, "INSERT INTO escalation_steps (position, target, timeout_s) VALUES (0, 'oncall', 30), "
	            "(1, 'next', 30)");
	{
		int64_t oncall, next;

		assert_int_equal(escalation_rotation(f->db, T0, &oncall, &next), RC_OK);
		assert_true(oncall > 0 && next > 0 && oncall != next);
		id = trigger(f, "rotation", NULL, NULL);
		tick(f, T0);
		assert_int_equal(scalar(f->db, "SELECT person_id FROM call_attempts"), oncall);
		call_status(f, current_attempt(f, id), "busy", NULL);
		assert_int_equal(scalar(f->db, "SELECT person_id FROM call_attempts WHERE step = 1"), next);
		assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE kind = 'sms'"), 2);
	}
}

static void nobody_on_call_is_skipped(void **state)
{
	struct fx *f = *state;
	char out[64];

	/* no rotation at all: oncall and next page nobody; Carla is a fixed step */
	exec(f->db, "DELETE FROM escalation_steps");
	exec(f->db, "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES "
	            "(0, 'oncall', NULL, 30), (1, 'person', 3, 30), (2, 'next', NULL, 30)");
	trigger(f, "skip", NULL, NULL);
	tick(f, T0);
	assert_int_equal(scalar(f->db, "SELECT step FROM alerts"), 1);
	assert_string_equal(text(f->db, "SELECT to_number FROM outbox WHERE kind = 'call'", out, sizeof out),
	                    "+5511990000003");
	/* a policy that reaches nobody at all: the alert stays open, says why, and is looked at again */
	exec(f->db, "DELETE FROM escalation_steps WHERE position = 1");
	trigger(f, "nobody", NULL, NULL);
	tick(f, T0);
	assert_string_equal(text(f->db, "SELECT status FROM alerts WHERE id = 2", out, sizeof out), "triggered");
	assert_string_equal(text(f->db, "SELECT unpaged_reason FROM alerts WHERE id = 2", out, sizeof out),
	                    "nobody is on call");
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM outbox WHERE owner_id = 2"), 0);
	/* somebody becomes reachable: paged at the next look */
	exec(f->db,
	     "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES (1, 'person', 3, 30)");
	tick(f, T0 + ESCALATION_RECHECK_S - 1);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM call_attempts WHERE alert_id = 2"), 0);
	tick(f, T0 + ESCALATION_RECHECK_S);
	assert_int_equal(scalar(f->db, "SELECT count(*) FROM call_attempts WHERE alert_id = 2"), 1);
	assert_int_equal(scalar(f->db, "SELECT unpaged_reason IS NULL FROM alerts WHERE id = 2"), 1);
}

static void call_that_cannot_be_placed_moves_on(void **state)
{
	struct fx *f = *state;
	int64_t id = trigger(f, "dead letter", NULL, NULL);
	char out[64];

	tick(f, T0);
	/* the sender gave up on the call (dead letter): no callback will ever come */
	exec(f->db, "UPDATE outbox SET status = 'failed' WHERE kind = 'call'");
	tick(f, T0 + 1);
	assert_int_equal(calls(f), 2);
	assert_string_equal(
	        text(f->db, "SELECT outcome || ' ' || status FROM call_attempts WHERE id = 1", out, sizeof out),
	        "not-placed failed");
	assert_int_equal(scalar(f->db, "SELECT step FROM alerts"), 1);
	(void)id;
}

/* ---------------------------------------------------------------- SMS commands */

static void sms(struct fx *f, int64_t person, const char *msg, bool expect_handled, const char *expect_reply)
{
	struct buf reply;
	bool handled = !expect_handled;

	buf_init(&reply, 1024);
	assert_int_equal(alerts_sms_command(&f->app, f->db, person, msg, &reply, &handled), RC_OK);
	assert_int_equal(handled, expect_handled);
	if (expect_reply)
		assert_string_equal(reply.data ? reply.data : "", expect_reply);
	buf_release(&reply);
}

static void sms_commands(void **state)
{
	struct fx *f = *state;
	char out[64];

	/* not ours */
	sms(f, f->ana, "quem", false, "");
	sms(f, f->ana, "plantao assumir", false, "");
	sms(f, f->ana, "ok obrigado", false, "");
	sms(f, f->ana, "acknowledge 1", false, "");
	/* nothing open */
	sms(f, f->ana, "ok", true, "Nenhum alerta aberto para você.");
	/* "assumir", the word of every page, is about alerts only: never the shift */
	sms(f, f->ana, "assumir", true,
	    "Nenhum alerta aberto para você; nada mudou. Para ficar de plantão no lugar de quem está, envie "
	    "PLANTAO ASSUMIR.");
	sms(f, f->ana, "ack 7", true, "Alerta 7 não existe.");
	sms(f, 0, "ack 1", true, "Este número não está cadastrado no plantão.");

	trigger(f, "one", NULL, NULL);
	trigger(f, "two", NULL, NULL);
	tick(f, T0);
	/* bare ack takes every open alert paged to that person, oldest first */
	/* a bare "assumir" takes the newest page sent to that person: that page */
	sms(f, f->carla, "Assumir!", true, "Alerta 2 assumido por você.");
	exec(f->db, "UPDATE alerts SET status = 'triggered', acked_by = NULL, acked_via = NULL, acked_at = NULL "
	            "WHERE id = 2");
	sms(f, f->bruno, "  OK! ", true, "Alertas 1 e 2 assumidos por você.");
	assert_string_equal(text(f->db, "SELECT status || ' ' || acked_by || ' ' || acked_via FROM alerts WHERE id = 2",
	                         out, sizeof out),
	                    "acknowledged 2 sms");
	sms(f, f->bruno, "ok", true, "Nenhum alerta aberto para você.");
	sms(f, f->ana, "ack #2", true, "Alerta 2 já foi assumido por Bruno.");
	sms(f, f->ana, "Assumir 1", true, "Alerta 1 já foi assumido por Bruno.");
	sms(f, f->carla, "resolver 1", true, "Alerta 1 resolvido.");
	sms(f, f->carla, "resolve 1", true, "Alerta 1 já estava resolvido.");
	sms(f, f->carla, "ack 1", true, "Alerta 1 já foi resolvido.");
	sms(f, f->carla, "resolver", true, "Use: resolver N (o número do alerta).");
}

static void english_texts(void **state)
{
	struct fx *f = *state;
	char out[256];

	f->cfg.lang = "en";
	trigger(f, "disk full", NULL, NULL);
	tick(f, T0);
	assert_string_equal(text(f->db, "SELECT body FROM outbox WHERE kind = 'sms' ORDER BY id", out, sizeof out),
	                    "Alert 1: disk full. Reply 'ack 1' to acknowledge.");
	sms(f, f->ana, "ack 1", true, "Alert 1 is yours.");
	f->cfg.lang = "pt-BR";
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(dedup_folds_open_alerts_only, setup, teardown),
	        cmocka_unit_test_setup_teardown(summary_is_required_and_cleaned, setup, teardown),
	        cmocka_unit_test_setup_teardown(start_texts_everyone_then_calls_the_first, setup, teardown),
	        cmocka_unit_test_setup_teardown(busy_no_answer_then_ack_by_keypad_path, setup, teardown),
	        cmocka_unit_test_setup_teardown(deadline_moves_on_without_callback, setup, teardown),
	        cmocka_unit_test_setup_teardown(deadline_counts_from_acceptance, setup, teardown),
	        cmocka_unit_test_setup_teardown(alerts_join_the_call_not_answered_yet, setup, teardown),
	        cmocka_unit_test_setup_teardown(severity_decides_who_is_paged, setup, teardown),
	        cmocka_unit_test_setup_teardown(runbook_in_the_page_text, setup, teardown),
	        cmocka_unit_test_setup_teardown(machine_and_silence_move_on, setup, teardown),
	        cmocka_unit_test_setup_teardown(rounds_then_exhausted, setup, teardown),
	        cmocka_unit_test_setup_teardown(move_on_is_compare_and_set, setup, teardown),
	        cmocka_unit_test_setup_teardown(ack_cancels_pending_calls_and_resolved_is_final, setup, teardown),
	        cmocka_unit_test_setup_teardown(oncall_and_next_from_the_rotation, setup, teardown),
	        cmocka_unit_test_setup_teardown(nobody_on_call_is_skipped, setup, teardown),
	        cmocka_unit_test_setup_teardown(call_that_cannot_be_placed_moves_on, setup, teardown),
	        cmocka_unit_test_setup_teardown(sms_commands, setup, teardown),
	        cmocka_unit_test_setup_teardown(english_texts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
