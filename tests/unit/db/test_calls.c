/*
 * tests/unit/db/test_calls.c — a new support-line call stored in one go (calls_start, the
 * webhook's hot path): the call, its chain and its first leg as the step-by-step writes
 * (calls_open, calls_chain_add, calls_leg_add) left them; a CallSid seen already writes nothing;
 * an empty chain is a call gone to voicemail with no leg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "db/calls.h"
#include "../testdb.h"

static const struct calls_link chain[] = {{1, "+5511990000001"}, {2, "+5511990000002"}, {3, "+5511990000003"}};

static struct db *people(char file[64])
{
	struct db *t = testdb_open("calls", file);

	assert_int_equal(db_exec(t, "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('Ana', "
	                            "'+5511990000001', 0, 0), "
	                            "('Bruno', '+5511990000002', 0, 0), ('Carla', '+5511990000003', 0, 0)"),
	                 RC_OK);
	return t;
}

static void new_call(void **state)
{
	char file[64];
	struct db *t = people(file);
	struct calls_call call, again;
	struct calls_leg leg, got;
	bool created;
	int64_t pid;
	int n, pos;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	assert_int_equal(
	        calls_start(t, "CA1", "+5511988887777", "+5511999990000", 100, chain, 3, &call, &leg, &created), RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	assert_true(created);
	assert_true(call.id > 0);
	assert_string_equal(call.call_sid, "CA1");
	assert_string_equal(call.status, "ringing");
	assert_int_equal(call.legs, 1);
	assert_int_equal(leg.leg, 0);
	assert_int_equal(leg.person_id, 1);
	assert_string_equal(leg.phone, "+5511990000001");
	assert_int_equal(leg.chain_position, 0);
	/* what a retry and the next legs read back */
	assert_int_equal(calls_find_sid(t, "CA1", &again), RC_OK);
	assert_int_equal(again.id, call.id);
	assert_string_equal(again.caller, "+5511988887777");
	assert_string_equal(again.status, "ringing");
	assert_int_equal(again.legs, 1);
	assert_int_equal(again.created_at, 100);
	assert_int_equal(calls_find_first_leg(t, "CA1", &again, &got), RC_OK);
	assert_int_equal(got.person_id, 1);
	assert_string_equal(got.phone, "+5511990000001");
	assert_int_equal(got.chain_position, 0);
	assert_false(got.accepted);
	assert_int_equal(calls_chain_size(t, call.id, &n), RC_OK);
	assert_int_equal(n, 3);
	for (pos = 0; pos < 3; pos++) {
		assert_int_equal(calls_chain_get(t, call.id, pos, &pid), RC_OK);
		assert_int_equal(pid, pos + 1);
	}
	assert_int_equal(calls_chain_get(t, call.id, 3, &pid), RC_NOT_FOUND);
	/* the same CallSid again: nothing written, the caller goes the calls_open way */
	assert_int_equal(db_begin(t), RC_OK);
	assert_int_equal(calls_start(t, "CA1", "+5511900000000", NULL, 200, chain + 1, 2, &again, &got, &created),
	                 RC_OK);
	assert_false(created);
	assert_int_equal(db_changes(t), 0);
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(calls_find_sid(t, "CA1", &again), RC_OK);
	assert_string_equal(again.caller, "+5511988887777");
	assert_int_equal(calls_chain_size(t, call.id, &n), RC_OK);
	assert_int_equal(n, 3);
	testdb_close(t, file);
}

static void nobody_on_call(void **state)
{
	char file[64];
	struct db *t = people(file);
	struct calls_call call, again;
	struct calls_leg leg;
	bool created;
	int n;

	(void)state;
	assert_int_equal(db_begin(t), RC_OK);
	assert_int_equal(calls_start(t, "CA2", "unknown", NULL, 100, chain, 0, &call, &leg, &created), RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	assert_true(created);
	assert_string_equal(call.status, "voicemail");
	assert_int_equal(call.legs, 0);
	assert_int_equal(calls_find_sid(t, "CA2", &again), RC_OK);
	assert_string_equal(again.status, "voicemail");
	assert_int_equal(again.legs, 0);
	assert_int_equal(calls_leg_get(t, call.id, 0, &leg), RC_NOT_FOUND);
	assert_int_equal(calls_find_first_leg(t, "CA2", &again, &leg), RC_NOT_FOUND);
	assert_int_equal(calls_chain_size(t, call.id, &n), RC_OK);
	assert_int_equal(n, 0);
	testdb_close(t, file);
}

static void longest_chain(void **state)
{
	char file[64], sql[160];
	struct db *t = people(file);
	struct calls_link eight[CALLS_CHAIN_MAX];
	struct calls_call call;
	struct calls_leg leg;
	bool created;
	int64_t pid;
	int i, n;

	(void)state;
	for (i = 0; i < CALLS_CHAIN_MAX; i++) {
		snprintf(sql, sizeof sql,
		         "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('P%d', "
		         "'+55119900001%02d', 0, 0)",
		         i, i);
		assert_int_equal(db_exec(t, sql), RC_OK);
		eight[i].person_id = 4 + i;
		snprintf(eight[i].phone, sizeof eight[i].phone, "+55119900001%02d", i);
	}
	assert_int_equal(db_begin(t), RC_OK);
	assert_int_equal(calls_start(t, "CA3", "unknown", NULL, 100, eight, CALLS_CHAIN_MAX, &call, &leg, &created),
	                 RC_OK);
	assert_int_equal(db_commit(t), RC_OK);
	assert_int_equal(calls_chain_size(t, call.id, &n), RC_OK);
	assert_int_equal(n, CALLS_CHAIN_MAX);
	assert_int_equal(calls_chain_get(t, call.id, CALLS_CHAIN_MAX - 1, &pid), RC_OK);
	assert_int_equal(pid, 4 + CALLS_CHAIN_MAX - 1);
	testdb_close(t, file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(new_call),
	        cmocka_unit_test(nobody_on_call),
	        cmocka_unit_test(longest_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
