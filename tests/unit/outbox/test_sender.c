/*
 * tests/unit/outbox/test_sender.c — the outbound path's rules that need no network: SMS encoding and
 * parts (server/twilio/sms_cost.c), back-off and pacing (server/outbox/sender.c), the status order and
 * status callbacks applied to real outbox rows (server/twilio/status.c, db/outbox.c).
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

#include "db/db.h"
#include "db/outbox.h"
#include "core/clock.h"
#include "outbox/sender.h"
#include "twilio/sms_cost.h"
#include "twilio/status.h"

/* ---- SMS cost ---- */

static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit), i;
	char *s = malloc(len * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

static void assert_cost(const char *unit, size_t n, enum sms_encoding enc, size_t units, int segments)
{
	struct sms_cost c;
	char *s = repeat(unit, n);

	assert_int_equal(sms_cost_of(s, &c), RC_OK);
	assert_int_equal(c.encoding, enc);
	assert_int_equal(c.units, units);
	assert_int_equal(c.segments, segments);
	free(s);
}

static void test_gsm7_parts(void **state)
{
	(void)state;
	assert_cost("a", 0, SMS_GSM7, 0, 1);
	assert_cost("a", 1, SMS_GSM7, 1, 1);
	assert_cost("a", 160, SMS_GSM7, 160, 1);
	assert_cost("a", 161, SMS_GSM7, 161, 2);
	assert_cost("a", 306, SMS_GSM7, 306, 2);
	assert_cost("a", 307, SMS_GSM7, 307, 3);
	/* GSM-7 letters outside ASCII stay GSM-7 */
	assert_cost("é", 160, SMS_GSM7, 160, 1);
	assert_cost("Ç", 10, SMS_GSM7, 10, 1);
}

static void test_gsm7_extension_costs_two(void **state)
{
	(void)state;
	assert_cost("€", 80, SMS_GSM7, 160, 1);
	assert_cost("€", 81, SMS_GSM7, 162, 2);
	{
		/* "aa" + 152 '€' is 306 septets, 2 parts by arithmetic, but an escape pair never
		 * straddles two parts: 2 + 75x2, then 76x2, then 1x2 */
		char *tail = repeat("€", 152);
		char *s = malloc(strlen(tail) + 3);
		struct sms_cost c;

		assert_non_null(s);
		memcpy(s, "aa", 2);
		memcpy(s + 2, tail, strlen(tail) + 1);
		assert_int_equal(sms_cost_of(s, &c), RC_OK);
		assert_int_equal(c.units, 306);
		assert_int_equal(c.segments, 3);
		free(s);
		free(tail);
	}
	assert_cost("[", 1, SMS_GSM7, 2, 1);
	assert_cost("a", 0, SMS_GSM7, 0, 1);
	{
		struct sms_cost c;

		assert_int_equal(sms_cost_of("{x}|~^\\", &c), RC_OK);
		assert_int_equal(c.encoding, SMS_GSM7);
		assert_int_equal(c.units, 13);
	}
}

static void test_ucs2_for_portuguese(void **state)
{
	struct sms_cost c;

	(void)state;
	assert_int_equal(sms_cost_of("Alerta 3: disco cheio no servidor db1", &c), RC_OK);
	assert_int_equal(c.encoding, SMS_GSM7);
	assert_int_equal(sms_cost_of("Atenção: serviço fora do ar", &c), RC_OK);
	assert_int_equal(c.encoding, SMS_UCS2);
	assert_int_equal(c.units, 27);
	assert_string_equal(sms_cost_encoding_name(c.encoding), "UCS-2");
	assert_cost("ã", 70, SMS_UCS2, 70, 1);
	assert_cost("ã", 71, SMS_UCS2, 71, 2);
	assert_cost("ç", 134, SMS_UCS2, 134, 2);
	assert_cost("ç", 135, SMS_UCS2, 135, 3);
	/* one non-GSM character switches the whole text: 100 'a' + 'õ' is 2 UCS-2 parts */
	assert_int_equal(sms_cost_of("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                             "aaaaaaaaaaaaaaaaaaaõ",
	                             &c),
	                 RC_OK);
	assert_int_equal(c.encoding, SMS_UCS2);
	assert_int_equal(c.segments, 2);
	/* the backtick is not GSM-7 */
	assert_int_equal(sms_cost_of("a`b", &c), RC_OK);
	assert_int_equal(c.encoding, SMS_UCS2);
}

static void test_ucs2_surrogates_and_invalid(void **state)
{
	struct sms_cost c;

	(void)state;
	assert_cost("😀", 35, SMS_UCS2, 70, 1);
	assert_cost("😀", 36, SMS_UCS2, 72, 2);
	assert_cost("😀", 67, SMS_UCS2, 134, 3); /* 33 pairs per 67-unit part, not 67 */
	assert_int_equal(sms_cost_of("bad \xC3\x28", &c), RC_INVALID);
	assert_int_equal(sms_cost_of("\xED\xA0\x80", &c), RC_INVALID); /* an encoded surrogate */
	assert_int_equal(sms_cost_of("\xC0\xAF", &c), RC_INVALID);     /* overlong */
}

/* ---- back-off ---- */

static void test_backoff_grows_with_jitter(void **state)
{
	int tries;

	(void)state;
	assert_int_equal(sender_backoff_ms(1, -1, 0), SENDER_BACKOFF_BASE_MS / 2);
	assert_int_equal(sender_backoff_ms(1, -1, SENDER_BACKOFF_BASE_MS / 2), SENDER_BACKOFF_BASE_MS);
	for (tries = 1; tries <= 12; tries++) {
		int64_t full = (int64_t)SENDER_BACKOFF_BASE_MS << (tries - 1);
		uint32_t r;

		if (full > SENDER_BACKOFF_MAX_MS)
			full = SENDER_BACKOFF_MAX_MS;
		for (r = 0; r < 5000; r += 137) {
			int64_t d = sender_backoff_ms(tries, -1, r * 7919u);

			assert_true(d >= full / 2);
			assert_true(d <= full);
		}
	}
	/* jitter: different draws give different delays */
	assert_true(sender_backoff_ms(5, -1, 1) != sender_backoff_ms(5, -1, 2));
	/* capped, also for absurd try counts */
	assert_true(sender_backoff_ms(1000, -1, 0xffffffffu) <= SENDER_BACKOFF_MAX_MS);
}

static void test_backoff_honours_retry_after(void **state)
{
	(void)state;
	assert_true(sender_backoff_ms(1, 30, 0) >= 30000);
	assert_int_equal(sender_backoff_ms(1, 30, 0), 30000);
	/* a Retry-After shorter than the back-off does not shorten it */
	assert_true(sender_backoff_ms(6, 1, 0) >= 16000);
	assert_int_equal(sender_backoff_ms(1, 0, 0), SENDER_BACKOFF_BASE_MS / 2);
}

/* ---- pacing ---- */

static void test_bucket_one_per_second(void **state)
{
	struct sender_bucket b = {0, 0};
	int64_t t = 1700000000000;
	int sent = 0, i;

	(void)state;
	/* 20 s in 10 ms steps: at 1/s exactly one send a second */
	for (i = 0; i <= 2000; i++) {
		if (sender_bucket_ready(&b, 1.0, t + i * 10)) {
			sender_bucket_take(&b, 1.0);
			sent++;
		}
	}
	assert_int_equal(sent, 21); /* t=0, 1, …, 20 s */
	/* idle for a minute: still only one (no burst beyond one second's worth) */
	assert_true(sender_bucket_ready(&b, 1.0, t + 80000));
	sender_bucket_take(&b, 1.0);
	assert_false(sender_bucket_ready(&b, 1.0, t + 80001));
	/* a clock moved backwards refills nothing */
	assert_false(sender_bucket_ready(&b, 1.0, t));
}

static void test_bucket_unlimited_and_fast(void **state)
{
	struct sender_bucket b = {0, 0};
	int sent = 0, i;

	(void)state;
	for (i = 0; i < 1000; i++)
		if (sender_bucket_ready(&b, 0, 5)) {
			sender_bucket_take(&b, 0);
			sent++;
		}
	assert_int_equal(sent, 1000);
	memset(&b, 0, sizeof b);
	sent = 0;
	/* 10/s: a burst of 10, then 10 more over the next second */
	for (i = 0; i < 100; i++)
		if (sender_bucket_ready(&b, 10, 1000)) {
			sender_bucket_take(&b, 10);
			sent++;
		}
	assert_int_equal(sent, 10);
	for (i = 0; i <= 100; i++)
		if (sender_bucket_ready(&b, 10, 1000 + i * 10)) {
			sender_bucket_take(&b, 10);
			sent++;
		}
	assert_int_equal(sent, 20);
}

/* ---- status order ---- */

static void test_message_status_order(void **state)
{
	(void)state;
	assert_true(status_moves_forward(false, "sent", -1, "delivered", -1));
	assert_true(status_moves_forward(false, "sent", -1, "undelivered", -1));
	assert_true(status_moves_forward(false, "delivered", -1, "read", -1));
	assert_true(status_moves_forward(false, "queued", -1, "sending", -1));
	assert_false(status_moves_forward(false, "delivered", -1, "sent", -1));
	assert_false(status_moves_forward(false, "sent", -1, "queued", -1));
	assert_false(status_moves_forward(false, "sent", -1, "sending", -1)); /* Twilio's, never ours */
	assert_false(status_moves_forward(false, "read", -1, "delivered", -1));
	assert_false(status_moves_forward(false, "undelivered", -1, "delivered", -1));
	assert_false(status_moves_forward(false, "delivered", -1, "delivered", -1));
	assert_false(status_moves_forward(false, "sent", -1, "exploded", -1));
	assert_false(status_moves_forward(false, "sent", -1, NULL, -1));
}

static void test_call_status_order(void **state)
{
	(void)state;
	assert_true(status_moves_forward(true, "queued", -1, "initiated", 0));
	assert_true(status_moves_forward(true, "initiated", 0, "ringing", 1));
	assert_true(status_moves_forward(true, "ringing", 1, "in-progress", 2));
	assert_true(status_moves_forward(true, "in-progress", 2, "completed", 3));
	assert_true(status_moves_forward(true, "ringing", 1, "no-answer", 2));
	assert_true(status_moves_forward(true, "queued", -1, "completed", -1));
	assert_false(status_moves_forward(true, "completed", 3, "ringing", 1));
	assert_false(status_moves_forward(true, "completed", -1, "in-progress", -1));
	assert_false(status_moves_forward(true, "busy", 2, "completed", 3)); /* final is final */
	/* a stale sequence number loses even with a later-looking status */
	assert_false(status_moves_forward(true, "ringing", 5, "in-progress", 4));
	assert_false(status_moves_forward(true, "ringing", 1, "ringing", 2));
	assert_true(status_call_is_final("no-answer"));
	assert_false(status_call_is_final("ringing"));
	assert_int_equal(status_call_rank("delivered"), 0);
	assert_int_equal(status_message_rank("ringing"), 0);
}

/* ---- status callbacks on real rows ---- */

#include "tests/unit/testdb.h"

static char path[64];
static struct db *db;

static int db_setup(void **state)
{
	(void)state;
	db = testdb_open("sender", path);
	return 0;
}

static int db_teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t queue(enum outbox_kind kind, const char *key, const char *body, const char *owner_type, int64_t owner_id)
{
	struct outbox_msg m;
	int64_t id = 0;

	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.class_ = "alert";
	m.priority = OUTBOX_PRIO_ALERT;
	m.to = "+5511999990001";
	m.body = kind == OUTBOX_CALL ? NULL : body;
	m.url = kind == OUTBOX_CALL ? "http://127.0.0.1:8080/twilio/alert-call/1" : NULL;
	m.idem_key = key;
	m.owner_type = owner_type;
	m.owner_id = owner_id;
	assert_int_equal(outbox_enqueue(db, &m, &id), RC_OK);
	return id;
}

static void row(const char *sid, struct outbox_row *r)
{
	assert_int_equal(outbox_by_sid(db, sid, r), RC_OK);
}

static void send_as(int64_t id, const char *sid, const char *status)
{
	int64_t now = clock_now_ms();

	assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_OK);
	assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_CONFLICT);
	assert_int_equal(outbox_mark_sent(db, id, sid, status, now), RC_OK);
}

static void apply(bool call, const char *sid, const char *status, int seq, int err, int dur, bool expect_applied)
{
	struct status_update u = {call, sid, status, seq, err, dur, NULL};
	bool applied = !expect_applied;

	assert_int_equal(status_apply(NULL, db, &u, &applied), RC_OK);
	assert_int_equal(applied, expect_applied);
}

static void test_message_callbacks_out_of_order(void **state)
{
	struct outbox_row r;
	int64_t id = queue(OUTBOX_SMS, "t:msg:1", "Alerta 1", NULL, 0);

	(void)state;
	send_as(id, "SM00000000000000000000000000000001", "sent");
	row("SM00000000000000000000000000000001", &r);
	assert_string_equal(r.status, "sent");
	assert_string_equal(r.encoding, "GSM-7");
	assert_int_equal(r.segments, 1);
	assert_int_equal(r.tries, 1);
	outbox_row_release(&r);
	/* delivered arrives first, then the stale queued/sent ones, then a duplicate */
	apply(false, "SM00000000000000000000000000000001", "delivered", -1, 0, -1, true);
	apply(false, "SM00000000000000000000000000000001", "queued", -1, 0, -1, false);
	apply(false, "SM00000000000000000000000000000001", "sent", -1, 0, -1, false);
	apply(false, "SM00000000000000000000000000000001", "delivered", -1, 0, -1, false);
	row("SM00000000000000000000000000000001", &r);
	assert_string_equal(r.status, "delivered");
	outbox_row_release(&r);
	apply(false, "SM00000000000000000000000000000001", "read", -1, 0, -1, true);
	row("SM00000000000000000000000000000001", &r);
	assert_string_equal(r.status, "read");
	outbox_row_release(&r);
}

static void test_undelivered_records_error(void **state)
{
	struct outbox_row r;
	int64_t id = queue(OUTBOX_SMS, "t:msg:2", "Atenção", NULL, 0);
	json_t *rows = NULL;

	(void)state;
	send_as(id, "SM00000000000000000000000000000002", "sent");
	apply(false, "SM00000000000000000000000000000002", "undelivered", -1, 30003, -1, true);
	apply(false, "SM00000000000000000000000000000002", "delivered", -1, 0, -1, false);
	row("SM00000000000000000000000000000002", &r);
	assert_string_equal(r.status, "undelivered");
	assert_string_equal(r.encoding, "UCS-2");
	outbox_row_release(&r);
	assert_int_equal(outbox_list_json(db, "undelivered", 0, 10, &rows), RC_OK);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "error_code")), 30003);
	json_decref(rows);
}

static void test_call_callbacks_with_sequence(void **state)
{
	struct outbox_row r;
	int64_t id = queue(OUTBOX_CALL, "t:call:1", NULL, "test", 7);

	(void)state;
	send_as(id, "CA00000000000000000000000000000001", "queued");
	apply(true, "CA00000000000000000000000000000001", "completed", 3, 0, 42, true);
	apply(true, "CA00000000000000000000000000000001", "ringing", 1, 0, -1, false);
	apply(true, "CA00000000000000000000000000000001", "in-progress", 2, 0, -1, false);
	apply(true, "CA00000000000000000000000000000001", "completed", 3, 0, 42, false); /* Twilio retried it */
	row("CA00000000000000000000000000000001", &r);
	assert_string_equal(r.status, "completed");
	assert_int_equal(r.status_seq, 3);
	assert_string_equal(r.owner_type, "test");
	outbox_row_release(&r);
	{
		json_t *rows = NULL;

		assert_int_equal(outbox_list_json(db, "completed", 0, 10, &rows), RC_OK);
		assert_int_equal(json_array_size(rows), 1);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "duration_s")), 42);
		json_decref(rows);
	}
}

static void test_callback_before_sid_is_kept(void **state)
{
	struct outbox_row r;
	int64_t id = queue(OUTBOX_CALL, "t:call:2", NULL, NULL, 0);
	int64_t now = clock_now_ms();

	(void)state;
	/* Twilio calls back before the engine stored the SID of its request */
	apply(true, "CA00000000000000000000000000000002", "ringing", 1, 0, -1, false);
	apply(true, "CA00000000000000000000000000000002", "no-answer", 2, 0, 0, false);
	assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_OK);
	assert_int_equal(outbox_mark_sent(db, id, "CA00000000000000000000000000000002", "queued", now), RC_OK);
	assert_int_equal(status_flush_early(NULL, db, true, "CA00000000000000000000000000000002"), RC_OK);
	row("CA00000000000000000000000000000002", &r);
	assert_string_equal(r.status, "no-answer");
	assert_int_equal(r.status_seq, 2);
	outbox_row_release(&r);
	/* taken once: a second flush finds nothing */
	assert_int_equal(status_flush_early(NULL, db, true, "CA00000000000000000000000000000002"), RC_OK);
	assert_int_equal(outbox_early_prune(db, now + 1), RC_OK);
}

static void test_retry_dead_letter_and_destination_count(void **state)
{
	int64_t id = queue(OUTBOX_SMS, "t:msg:3", "Alerta 3", NULL, 0);
	int64_t now = clock_now_ms(), n = -1, oldest = -1;
	struct outbox_row rows[4];
	size_t got = 0;
	json_t *list = NULL;

	(void)state;
	assert_int_equal(outbox_dest_recent(db, "+5511999990001", false, now - 60000, &n, &oldest), RC_OK);
	{
		int64_t before = n;

		assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_OK);
		/* a row being sent counts against the destination's limit */
		assert_int_equal(outbox_dest_recent(db, "+5511999990001", false, now - 60000, &n, &oldest), RC_OK);
		assert_int_equal(n, before + 1);
		assert_int_equal(oldest <= now, true);
		/* calls are counted apart */
		assert_int_equal(outbox_dest_recent(db, "+5511999990001", true, now - 60000, &n, &oldest), RC_OK);
	}
	/* in 'sending' and due for a look-up only after the delay */
	assert_int_equal(outbox_stuck(db, now, 4, rows, &got), RC_OK);
	assert_int_equal(got, 0);
	assert_int_equal(outbox_stuck(db, now + 2000, 4, rows, &got), RC_OK);
	assert_int_equal(got, 1);
	assert_int_equal(rows[0].id, id);
	assert_string_equal(rows[0].from, "+15005550006");
	assert_int_equal(rows[0].attempt_at_ms, now);
	outbox_rows_release(rows, got);
	assert_int_equal(outbox_mark_retry(db, id, now + 5000, 20429, "Too Many Requests", now), RC_OK);
	assert_int_equal(outbox_due(db, OUTBOX_SMS, now, 4, rows, &got), RC_OK);
	assert_int_equal(got, 0);
	assert_int_equal(outbox_due(db, OUTBOX_SMS, now + 5000, 4, rows, &got), RC_OK);
	assert_int_equal(got, 1);
	assert_int_equal(rows[0].tries, 1);
	outbox_rows_release(rows, got);
	assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_OK);
	assert_int_equal(outbox_mark_failed(db, id, 20429, "dead letter after 2 tries: HTTP 429", now), RC_OK);
	assert_int_equal(outbox_list_json(db, "dead", 0, 10, &list), RC_OK);
	assert_int_equal(json_array_size(list), 1);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0), "dead_letter")) ||
	            json_integer_value(json_object_get(json_array_get(list, 0), "dead_letter")) == 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "tries")), 2);
	json_decref(list);
}

static int64_t queue_as(enum outbox_kind kind, const char *klass, const char *key, const char *owner_type,
                        int64_t owner_id)
{
	struct outbox_msg m;
	int64_t id = 0;

	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.class_ = klass;
	m.priority = OUTBOX_PRIO_ALERT;
	m.to = "+5511999990009";
	m.body = kind == OUTBOX_CALL ? NULL : key;
	m.url = kind == OUTBOX_CALL ? "http://127.0.0.1:8080/twilio/alert-call/9" : NULL;
	m.idem_key = key;
	m.owner_type = owner_type;
	m.owner_id = owner_id;
	assert_int_equal(outbox_enqueue(db, &m, &id), RC_OK);
	return id;
}

/* Issue 11, item 2: notices never go before pages, and a new critical page goes before older
 * pages of lesser alerts and before every notice queued earlier. */
static void test_due_strict_order(void **state)
{
	struct outbox_row rows[8];
	int64_t sales, handoff, ack, support, warning_page, critical_page, id;
	size_t got = 0;

	(void)state;
	assert_int_equal(db_exec(db, "INSERT INTO alerts (id, summary, severity, created_at, updated_at) VALUES "
	                             "(901, 'disco', 'warning', 0, 0), (902, 'fora do ar', 'critical', 0, 0)"),
	                 RC_OK);
	sales = queue_as(OUTBOX_SMS, "sales", "o:sales", "sales_notification", 1);
	handoff = queue_as(OUTBOX_SMS, "handoff", "o:handoff", "handoff", 1);
	ack = queue_as(OUTBOX_SMS, "ack", "o:ack", "alert", 901);
	support = queue_as(OUTBOX_SMS, "support", "o:support", "voicemail", 1);
	warning_page = queue_as(OUTBOX_SMS, "alert", "o:page:901", "alert", 901);
	critical_page = queue_as(OUTBOX_SMS, "alert", "o:page:902", "alert", 902);
	assert_int_equal(outbox_due(db, OUTBOX_SMS, clock_now_ms() + 1000, 8, rows, &got), RC_OK);
	assert_int_equal(got, 6);
	assert_int_equal(rows[0].id, critical_page);
	assert_int_equal(rows[1].id, warning_page);
	assert_int_equal(rows[2].id, ack);
	assert_int_equal(rows[3].id, support);
	assert_int_equal(rows[4].id, handoff);
	assert_int_equal(rows[5].id, sales);
	assert_true(rows[0].send_rank < rows[1].send_rank);
	outbox_rows_release(rows, got);
	/* with one slot left, the newest critical page is the one taken */
	assert_int_equal(outbox_due(db, OUTBOX_SMS, clock_now_ms() + 1000, 1, rows, &got), RC_OK);
	assert_int_equal(got, 1);
	assert_int_equal(rows[0].id, critical_page);
	outbox_rows_release(rows, got);
	/* accepted_at_ms: 0 until Twilio accepted the row, then when it did */
	id = critical_page;
	{
		int64_t at = -1, now = clock_now_ms();

		assert_int_equal(outbox_accepted_at(db, id, &at), RC_OK);
		assert_int_equal(at, 0);
		assert_int_equal(outbox_mark_sending(db, id, "+15005550006", now, now + 2000), RC_OK);
		assert_int_equal(outbox_accepted_at(db, id, &at), RC_OK);
		assert_int_equal(at, 0);
		assert_int_equal(outbox_mark_sent(db, id, "SM0000000000000000000000000000f902", "sent", now + 700),
		                 RC_OK);
		assert_int_equal(outbox_accepted_at(db, id, &at), RC_OK);
		assert_int_equal(at, now + 700);
		assert_int_equal(outbox_accepted_at(db, 999999, &at), RC_NOT_FOUND);
	}
}

/* Issue 11, item 3: acknowledging cancels every page Twilio has not accepted, whatever its state,
 * and queues the end of calls still ringing, except the acknowledger's own. */
static void test_cancel_pages_of_a_closed_alert(void **state)
{
	struct outbox_cancel_count n;
	struct outbox_row rows[8], r;
	int64_t now = clock_now_ms(), text_waiting, text_sending, call_sending, call_ringing, call_acker, notice;
	bool page = false, live = false;
	size_t got = 0;

	(void)state;
	assert_int_equal(db_exec(db, "INSERT INTO people (id, name, phone, created_at, updated_at) VALUES "
	                             "(71, 'Ana', '+5511990000071', 0, 0), (72, 'Bruno', '+5511990000072', 0, 0);"
	                             "INSERT INTO alerts (id, summary, created_at, updated_at) VALUES (903, 'x', 0, 0);"
	                             "INSERT INTO call_attempts (id, alert_id, round, step, person_id, phone, "
	                             "created_at) VALUES (931, 903, 0, 0, 71, '+5511990000071', 0), "
	                             "(932, 903, 0, 1, 72, '+5511990000072', 0), "
	                             "(933, 903, 0, 2, 71, '+5511990000071', 0)"),
	                 RC_OK);
	text_waiting = queue_as(OUTBOX_SMS, "alert", "c:text:1", "alert", 903);
	text_sending = queue_as(OUTBOX_SMS, "alert", "c:text:2", "alert", 903);
	notice = queue_as(OUTBOX_SMS, "ack", "c:ack", "alert", 903);
	call_sending = queue_as(OUTBOX_CALL, "alert", "c:call:1", "call_attempt", 933);
	call_ringing = queue_as(OUTBOX_CALL, "alert", "c:call:2", "call_attempt", 932);
	call_acker = queue_as(OUTBOX_CALL, "alert", "c:call:3", "call_attempt", 931);
	assert_int_equal(outbox_page_is_live(db, text_waiting, &page, &live), RC_OK);
	assert_true(page && live);
	assert_int_equal(outbox_page_is_live(db, notice, &page, &live), RC_OK);
	assert_true(!page && live);
	assert_int_equal(outbox_mark_sending(db, text_sending, "+15005550006", now, now + 12000), RC_OK);
	assert_int_equal(outbox_mark_sending(db, call_sending, "+15005550006", now, now + 12000), RC_OK);
	assert_int_equal(outbox_mark_sending(db, call_ringing, "+15005550006", now, now + 12000), RC_OK);
	assert_int_equal(outbox_mark_sent(db, call_ringing, "CA00000000000000000000000000000932", "ringing", now),
	                 RC_OK);
	assert_int_equal(outbox_mark_sending(db, call_acker, "+15005550006", now, now + 12000), RC_OK);
	assert_int_equal(outbox_mark_sent(db, call_acker, "CA00000000000000000000000000000931", "in-progress", now),
	                 RC_OK);
	assert_int_equal(db_exec(db, "UPDATE alerts SET status = 'acknowledged' WHERE id = 903"), RC_OK);
	assert_int_equal(outbox_cancel_pages(db, 903, 71, now, &n), RC_OK);
	assert_int_equal(n.canceled, 1);  /* the text still waiting */
	assert_int_equal(n.in_flight, 2); /* the text and the call being sent */
	assert_int_equal(n.hangups, 1);   /* Bruno's ringing call; Ana's, on which she acknowledged, is spared */
	assert_int_equal(outbox_get(db, text_waiting, &r), RC_OK);
	assert_string_equal(r.status, "canceled");
	outbox_row_release(&r);
	assert_int_equal(outbox_get(db, notice, &r), RC_OK);
	assert_string_equal(r.status, "pending"); /* the acknowledgment notice itself goes out */
	outbox_row_release(&r);
	assert_int_equal(outbox_get(db, call_sending, &r), RC_OK);
	assert_string_equal(r.status, "sending");
	assert_true(r.cancel_requested_ms > 0);
	outbox_row_release(&r);
	assert_int_equal(outbox_page_is_live(db, call_sending, &page, &live), RC_OK);
	assert_true(page && !live);
	assert_int_equal(outbox_hangups_due(db, now, 8, rows, &got), RC_OK);
	assert_int_equal(got, 1);
	assert_int_equal(rows[0].id, call_ringing);
	outbox_rows_release(rows, got);
	assert_int_equal(outbox_hangup_result(db, call_ringing, 0, "done"), RC_OK);
	assert_int_equal(outbox_hangups_due(db, now + 60000, 8, rows, &got), RC_OK);
	assert_int_equal(got, 0);
	/* a second pass changes nothing more */
	assert_int_equal(outbox_cancel_pages(db, 903, 71, now, &n), RC_OK);
	assert_int_equal(n.canceled + n.hangups, 0);
	/* look-alike rows: the two sending to the same phone are settled together */
	assert_int_equal(outbox_get(db, text_sending, &r), RC_OK);
	assert_int_equal(outbox_siblings(db, &r, 1000, 8, rows, &got), RC_OK);
	assert_int_equal(got, 1);
	assert_int_equal(rows[0].id, text_sending);
	outbox_rows_release(rows, got);
	outbox_row_release(&r);
}

/* ---- what a text costs the database (issue 18) ---- */

/* Pages connection t wrote since the last call (and resets the counter). */
static int pages_written(struct db *t)
{
	int cur = 0, hi = 0;

	assert_int_equal(sqlite3_db_status(t->h, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 1), SQLITE_OK);
	return cur;
}

#define CLAIM_QUEUED 20000
#define CLAIM_BATCH  16

/*
 * The oldest 16 of 20,000 waiting support-line texts (not pages), each to its own phone,
 * claimed in one transaction as a fill round does: a claim is one UPDATE, and it leaves alone
 * the per-destination index, which only the limits on pages read. Before migration 0360 every
 * claim also moved its row's entry there, on a page of its own for each phone. Counted with
 * SQLITE_DBSTATUS_CACHE_WRITE, so the figure does not depend on the machine.
 */
static void test_claim_pages(void **state)
{
	char file[64], key[64], to[32];
	struct db *t = testdb_open("claim", file);
	struct outbox_msg m;
	struct outbox_row r;
	int64_t ids[CLAIM_BATCH];
	int pages;
	long i;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < CLAIM_QUEUED; i++) {
		snprintf(key, sizeof key, "claim:%ld", i);
		snprintf(to, sizeof to, "+55119%08ld", i * 7919 % CLAIM_QUEUED); /* neighbours far apart */
		memset(&m, 0, sizeof m);
		m.kind = OUTBOX_SMS;
		m.class_ = "support";
		m.priority = OUTBOX_PRIO_SUPPORT;
		m.to = to;
		m.body = "Mensagem de teste";
		m.idem_key = key;
		assert_int_equal(outbox_enqueue(t, &m, i < CLAIM_BATCH ? &ids[i] : NULL), RC_OK);
	}
	assert_int_equal(db_commit(t), RC_OK);
	pages_written(t);
	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < CLAIM_BATCH; i++)
		assert_int_equal(outbox_claim(t, ids[i], "+5511999990000", 1000 + i, 100000, NULL, 0), RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	pages = pages_written(t);
	print_message("%d support texts to %d phones among %d waiting: claims wrote %d pages\n", CLAIM_BATCH,
	              CLAIM_BATCH, CLAIM_QUEUED, pages);
	if (pages > 20)
		fail_msg("%d claims wrote %d pages (at most 20)", CLAIM_BATCH, pages);
	/* the claim records an SMS's cost when the row has none, and keeps one it has */
	assert_int_equal(outbox_get(t, ids[0], &r), RC_OK);
	assert_string_equal(r.status, "sending");
	assert_string_equal(r.encoding, "GSM-7");
	assert_int_equal(r.segments, 1);
	outbox_row_release(&r);
	assert_int_equal(db_exec(t, "UPDATE outbox SET status = 'pending', encoding = NULL, segments = NULL "
	                            "WHERE id IN (SELECT id FROM outbox WHERE status = 'sending' LIMIT 2)"),
	                 RC_OK);
	assert_int_equal(outbox_claim(t, ids[0], "+5511999990000", 2000, 100000, "UCS-2", 3), RC_OK);
	assert_int_equal(outbox_claim(t, ids[1], "+5511999990000", 2000, 100000, NULL, 0), RC_OK);
	assert_int_equal(outbox_claim(t, ids[2], "+5511999990000", 2000, 100000, "UCS-2", 3), RC_CONFLICT);
	assert_int_equal(outbox_get(t, ids[0], &r), RC_OK);
	assert_string_equal(r.encoding, "UCS-2");
	assert_int_equal(r.segments, 3);
	assert_int_equal(r.tries, 2);
	outbox_row_release(&r);
	assert_int_equal(outbox_get(t, ids[1], &r), RC_OK);
	assert_string_equal(r.status, "sending");
	assert_string_equal(r.encoding, "");
	assert_int_equal(r.segments, 0);
	outbox_row_release(&r);
	assert_int_equal(outbox_get(t, ids[2], &r), RC_OK);
	assert_string_equal(r.encoding, "GSM-7"); /* claimed already: nothing changed */
	outbox_row_release(&r);
	testdb_close(t, file);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	        cmocka_unit_test(test_gsm7_parts),
	        cmocka_unit_test(test_gsm7_extension_costs_two),
	        cmocka_unit_test(test_ucs2_for_portuguese),
	        cmocka_unit_test(test_ucs2_surrogates_and_invalid),
	        cmocka_unit_test(test_backoff_grows_with_jitter),
	        cmocka_unit_test(test_backoff_honours_retry_after),
	        cmocka_unit_test(test_bucket_one_per_second),
	        cmocka_unit_test(test_bucket_unlimited_and_fast),
	        cmocka_unit_test(test_message_status_order),
	        cmocka_unit_test(test_call_status_order),
	};
	const struct CMUnitTest with_db[] = {
	        cmocka_unit_test(test_message_callbacks_out_of_order),
	        cmocka_unit_test(test_undelivered_records_error),
	        cmocka_unit_test(test_call_callbacks_with_sequence),
	        cmocka_unit_test(test_callback_before_sid_is_kept),
	        cmocka_unit_test(test_retry_dead_letter_and_destination_count),
	        cmocka_unit_test(test_due_strict_order),
	        cmocka_unit_test(test_cancel_pages_of_a_closed_alert),
	        cmocka_unit_test(test_claim_pages),
	};
	int failed = cmocka_run_group_tests_name("sender", pure, NULL, NULL);

	failed += cmocka_run_group_tests_name("outbox rows", with_db, db_setup, db_teardown);
	return failed;
}
