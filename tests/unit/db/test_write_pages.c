/*
 * tests/unit/db/test_write_pages.c — the pages the two hottest writes put in the WAL (issue 18):
 * a text claimed and answered while 20,000 others wait, and a new support-line call with its
 * chain. Every index entry an UPDATE or INSERT moves is a page rewritten at commit, so an index
 * that serves no statement (outbox_due after 0110, support_legs_call beside its UNIQUE twin) or
 * a table stored beside its own primary key (support_chain before WITHOUT ROWID) shows up here
 * as pages per row. Counted with SQLITE_DBSTATUS_CACHE_WRITE on one connection, so the figure
 * does not depend on the machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db/calls.h"
#include "db/outbox.h"
#include "../testdb.h"

#define QUEUED 20000
#define BATCH  16

/* Pages this connection wrote since the last call (and resets the counter). */
static int pages_written(struct db *t)
{
	int cur = 0, hi = 0;

	assert_int_equal(sqlite3_db_status(t->h, SQLITE_DBSTATUS_CACHE_WRITE, &cur, &hi, 1), SQLITE_OK);
	return cur;
}

static void test_send_pages(void **state)
{
	char file[64], key[64], body[64], to[32], sid[40];
	struct db *t = testdb_open("pages", file);
	struct outbox_msg m;
	int64_t ids[BATCH];
	int claim, answer;
	long i;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < QUEUED; i++) {
		snprintf(key, sizeof key, "pages:%ld", i);
		snprintf(body, sizeof body, "Mensagem de teste %ld", i);
		snprintf(to, sizeof to, "+55119%08ld", i % 50);
		memset(&m, 0, sizeof m);
		m.kind = OUTBOX_SMS;
		m.class_ = "support";
		m.priority = OUTBOX_PRIO_SUPPORT;
		m.to = to;
		m.body = body;
		m.idem_key = key;
		m.owner_type = "voicemail";
		assert_int_equal(outbox_enqueue(t, &m, i < BATCH ? &ids[i] : NULL), RC_OK);
	}
	assert_int_equal(db_commit(t), RC_OK);
	pages_written(t);
	/* one fill round's claims, then their answers, one transaction each (server/outbox/sender.c) */
	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < BATCH; i++)
		assert_int_equal(outbox_mark_sending(t, ids[i], "+5511999990000", 1000 + i, 100000), RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	claim = pages_written(t);
	assert_int_equal(db_begin(t), RC_OK);
	for (i = 0; i < BATCH; i++) {
		snprintf(sid, sizeof sid, "SM%032lx", (unsigned long)i);
		assert_int_equal(outbox_mark_sent(t, ids[i], sid, "sent", 2000 + i), RC_OK);
	}
	assert_int_equal(db_commit(t), RC_OK);
	answer = pages_written(t);
	print_message("%d texts among %d waiting: claims wrote %d pages, answers %d\n", BATCH, QUEUED, claim, answer);
	/* The table's pages and one page per index whose entry moves: the claim moves a row out of
	 * the due indexes and into the lease's, its destination's and its kind's; the answer moves
	 * its status and adds its SID and time sent. */
	if (claim > 35 || answer > 10)
		fail_msg("%d claims wrote %d pages and their answers %d (at most 35 and 10)", BATCH, claim, answer);
	testdb_close(t, file);
}

static void test_new_call_pages(void **state)
{
	char file[64], sid[40];
	struct db *t = testdb_open("pages", file);
	static const struct calls_link chain[] = {{1, "+5511990000001"}, {2, "+5511990000002"}, {3, "+5511990000003"}};
	struct calls_call call;
	struct calls_leg leg;
	bool created;
	int pages = 0;
	long i;
	double per_call;

	(void)state;
	assert_int_equal(db_exec(t, "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('Ana', "
	                            "'+5511990000001', 0, 0), "
	                            "('Bruno', '+5511990000002', 0, 0), ('Carla', '+5511990000003', 0, 0)"),
	                 RC_OK);
	/* 1,000 calls before those measured, so that each tree has more than one level */
	for (i = 0; i <= 2000; i++) {
		snprintf(sid, sizeof sid, "CA%032lx", (unsigned long)i);
		if (i == 1000)
			pages_written(t);
		/* a new call as server/twilio/voice.c stores it: the call, its chain, its first leg */
		assert_int_equal(db_begin(t), RC_OK);
		assert_int_equal(
		        calls_start(t, sid, "+5511988887777", "+5511999990000", i, chain, 3, &call, &leg, &created),
		        RC_OK);
		assert_true(created);
		assert_int_equal(db_commit(t), RC_OK);
	}
	pages = pages_written(t);
	per_call = pages / 1001.0;
	print_message("calls 1,000 to 2,000 wrote %d pages, %.2f a call\n", pages, per_call);
	/* support_calls and its CallSid index, support_legs and its (call_id, leg) index, the chain;
	 * the file's header and a split now and then */
	if (per_call > 6.5)
		fail_msg("a new call wrote %.2f pages (at most 6.5)", per_call);
	testdb_close(t, file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_send_pages),
	        cmocka_unit_test(test_new_call_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
