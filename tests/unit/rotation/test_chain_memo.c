/*
 * tests/unit/rotation/test_chain_memo.c — the support line's chain from memory
 * (server/rotation/chain_memo.c) against a real temporary SQLite file: the chain computed at
 * each instant from one read (a hand-off inside the hour remembered), the memo used while the
 * generation keeps its value (proved by a change made behind the triggers' back) and left when
 * it changes or is unknown, used again after more people than it keeps numbers of, and
 * rotation_generation changed by every change that can move who is on call and by no other.
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

#include "db/calls.h"
#include "db/db.h"
#include "db/rotation.h"
#include "core/app.h"
#include "core/cfg.h"
#include "rotation/chain_memo.h"

static char path[64];
static struct db *db;
static struct chain_memo *memo;
static int64_t ana, bia;

#include "tests/unit/testdb.h"
#include "tests/unit/rotfix.h"

static int setup(void **state)
{
	int64_t members[2];

	(void)state;
	memo = chain_memo_new();
	assert_non_null(memo);
	db = testdb_open("chain-memo", path);
	ana = rotfix_person(db, "Ana", "+5511990000001");
	bia = rotfix_person(db, "Bia", "+5511990000002");
	members[0] = ana;
	members[1] = bia;
	rotfix_daily(db, members, 2, H0 - HOUR); /* Ana from H0, Bia from H0 + 24 h, … */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	chain_memo_free(memo);
	testdb_close(db, path);
	return 0;
}

static int64_t generation(void)
{
	int64_t g = -1;

	assert_int_equal(rotation_generation(db, &g), RC_OK);
	return g;
}

/* The chain at `at` as the given generation: its first person's number ("" when nobody). */
static const char *first_at(int64_t g, int64_t at)
{
	static struct calls_link chain[ROTATION_CHAIN_MAX];
	size_t n = 9;

	assert_int_equal(chain_memo_read(memo, db, g, at, chain, &n), RC_OK);
	return n ? chain[0].phone : "";
}

static void a_handoff_inside_the_hour_is_computed_at_each_instant(void **state)
{
	int64_t g = generation();

	(void)state;
	assert_string_equal(first_at(g, H0 + 24 * HOUR - 30 * 60), "+5511990000001");
	/* behind the triggers' back: were the database read again, Bia's number would be this */
	assert_int_equal(db_exec(db, "DROP TRIGGER rotation_generation_people_upd"), RC_OK);
	assert_int_equal(db_exec(db, "UPDATE people SET phone = '+5511990000009' WHERE name = 'Bia'"), RC_OK);
	assert_int_equal(generation(), g);
	/* 30 minutes later, the same generation: from memory, Bia from the hand-off on */
	assert_string_equal(first_at(g, H0 + 24 * HOUR - 60), "+5511990000001");
	assert_string_equal(first_at(g, H0 + 24 * HOUR), "+5511990000002");
	assert_string_equal(first_at(g, H0 + 24 * HOUR + 29 * 60), "+5511990000002");
	/* another hour, another value, or none known: read again */
	assert_string_equal(first_at(g, H0 + 26 * HOUR), "+5511990000009");
	assert_int_equal(db_exec(db, "UPDATE people SET phone = '+5511990000008' WHERE name = 'Bia'"), RC_OK);
	assert_string_equal(first_at(ROTATION_GENERATION_UNKNOWN, H0 + 26 * HOUR), "+5511990000008");
	assert_string_equal(first_at(g, H0 + 26 * HOUR), "+5511990000009"); /* the unknown read kept nothing */
	assert_string_equal(first_at(g + 1, H0 + 26 * HOUR), "+5511990000008");
}

static void an_archived_person_is_left_out(void **state)
{
	struct calls_link chain[ROTATION_CHAIN_MAX];
	size_t n = 0;

	(void)state;
	assert_string_equal(first_at(generation(), H0 + HOUR), "+5511990000001");
	assert_int_equal(db_exec(db, "UPDATE people SET deleted_at = 5 WHERE name = 'Ana'"), RC_OK);
	assert_int_equal(chain_memo_read(memo, db, generation(), H0 + HOUR, chain, &n), RC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(chain[0].person_id, bia);
}

static void the_generation_moves_with_what_moves_who_is_on_call(void **state)
{
	static const char *const moves[] = {
	        "INSERT INTO overrides (person_id, start_at, end_at, created_at) VALUES (2, 10, 20, 1)",
	        "UPDATE overrides SET end_at = 30",
	        "DELETE FROM overrides",
	        "UPDATE people SET phone = '+5511990000003' WHERE id = 1",
	        "UPDATE people SET deleted_at = 7 WHERE id = 2",
	        "INSERT INTO rotation_versions (effective_at, shift_hours, handoff, timezone, created_at) "
	        "VALUES (99, 24, '2026-01-05T09:00', 'UTC', 1)",
	        "UPDATE rotation_versions SET shift_hours = 12 WHERE effective_at = 99",
	        "INSERT INTO rotation_members (version_id, position, person_id) "
	        "SELECT id, 0, 1 FROM rotation_versions WHERE effective_at = 99",
	        "DELETE FROM rotation_members WHERE version_id IN (SELECT id FROM rotation_versions WHERE effective_at "
	        "= 99)",
	        "DELETE FROM rotation_versions WHERE effective_at = 99",
	};
	static const char *const stays[] = {
	        "UPDATE people SET name = 'Ana Maria' WHERE id = 1",
	        "UPDATE people SET email = 'ana@example.com' WHERE id = 1",
	        "UPDATE people SET phone = phone, deleted_at = deleted_at, updated_at = 9", /* as PATCH does */
	        "INSERT INTO people (name, phone, created_at, updated_at) VALUES ('Caio', '+5511990000004', 1, 1)",
	};
	int64_t g = generation();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof moves / sizeof moves[0]; i++) {
		assert_int_equal(db_exec(db, moves[i]), RC_OK);
		if (generation() == g)
			fail_msg("did not change the generation: %s", moves[i]);
		g = generation();
	}
	for (i = 0; i < sizeof stays / sizeof stays[0]; i++) {
		assert_int_equal(db_exec(db, stays[i]), RC_OK);
		if (generation() != g)
			fail_msg("changed the generation: %s", stays[i]);
	}
}

/* 40 people on call a minute each in one hour (overrides): more than the memo keeps numbers of. */
static void more_people_than_it_keeps_in_one_hour_are_remembered_again(void **state)
{
	int64_t g, at = H0 + 2 * HOUR, i;
	char want[16];

	(void)state;
	assert_int_equal(db_exec(db, "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 39) "
	                             "INSERT INTO people (name, phone, created_at, updated_at) "
	                             "SELECT 'P' || i, printf('+55119911%04d', i), 1, 1 FROM k"),
	                 RC_OK);
	/* P<i> from H0 + 2 h + i minutes, for a minute */
	assert_int_equal(db_exec(db, "INSERT INTO overrides (person_id, start_at, end_at, created_at) "
	                             "SELECT id, 1767621600 + 60 * CAST(substr(name, 2) AS INTEGER), "
	                             "1767621660 + 60 * CAST(substr(name, 2) AS INTEGER), 1 FROM people "
	                             "WHERE name LIKE 'P%'"),
	                 RC_OK);
	g = generation();
	for (i = 0; i < 40; i++) {
		snprintf(want, sizeof want, "+55119911%04d", (int)i);
		assert_string_equal(first_at(g, at + 60 * i), want);
	}
	/* behind the triggers' back: were the database read again, P39's number would be this */
	assert_int_equal(db_exec(db, "DROP TRIGGER rotation_generation_people_upd"), RC_OK);
	assert_int_equal(db_exec(db, "UPDATE people SET phone = '+5511990000009' WHERE name = 'P39'"), RC_OK);
	assert_int_equal(generation(), g);
	/* the last chain read is in memory: the next call of that minute reads nothing */
	assert_string_equal(first_at(g, at + 60 * 39 + 30), "+551199110039");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(a_handoff_inside_the_hour_is_computed_at_each_instant, setup, teardown),
	        cmocka_unit_test_setup_teardown(an_archived_person_is_left_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(the_generation_moves_with_what_moves_who_is_on_call, setup, teardown),
	        cmocka_unit_test_setup_teardown(more_people_than_it_keeps_in_one_hour_are_remembered_again, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
