/*
 * tests/unit/db/test_swaps.c — db/swaps.c (a second yes from the same side writes nothing, a
 * swap past expires_at reads "expired" and takes no answer, accept and void only a pending one)
 * and db/audit.c's actors of things done from a phone (the phone masked, the person named, read
 * back by audit_actor_json and found by the person filter), against a real temporary SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "db/audit.h"
#include "db/db.h"
#include "db/swaps.h"
#include "tests/unit/testdb.h"

static char path[64];
static struct db *db;

#define T0 INT64_C(1800000000)

static int setup(void **state)
{
	(void)state;
	db = testdb_open("swaps", path);
	clock_set_offset(0);
	assert_int_equal(db_exec(db,
	                         "INSERT INTO people (id, name, phone, created_at, updated_at) VALUES "
	                         "(1, 'Ana Souza', '+5511990000001', 0, 0), (2, 'Bruno Lima', '+5511990000002', 0, 0), "
	                         "(3, 'Carla Dias', '+5511990000003', 0, 0)"),
	                 RC_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t create(int64_t start, int64_t end, bool by_from, int64_t now)
{
	struct swap in = {.from_person = 1, .to_person = 2, .start = start, .end = end};
	int64_t id = 0;

	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(swaps_create_tx(db, &in, by_from, "person:1 Ana Souza", now, &id), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	return id;
}

static enum rc answer(int64_t id, int64_t person, bool yes, int64_t now, struct swap *s, bool *changed)
{
	enum rc rc = db_begin(db);

	assert_int_equal(rc, RC_OK);
	rc = swaps_answer_tx(db, id, person, yes, "sms:x", now, s, changed);
	if (rc == RC_OK)
		assert_int_equal(db_commit(db), RC_OK);
	else
		db_rollback(db);
	return rc;
}

static void second_yes_writes_nothing(void **state)
{
	int64_t id = create(T0 + 86400 * 3, T0 + 86400 * 4, true, T0);
	struct swap s;
	bool changed;

	(void)state;
	assert_int_equal(answer(id, 2, true, T0 + 60, &s, &changed), RC_OK);
	assert_true(changed);
	assert_int_equal(s.to_confirmed_at, T0 + 60);
	/* Twilio retrying the same text: no second confirmation, no second audit row */
	assert_int_equal(answer(id, 2, true, T0 + 120, &s, &changed), RC_OK);
	assert_false(changed);
	assert_int_equal(s.to_confirmed_at, T0 + 60);
	assert_int_equal(testdb_scalar(db, "SELECT count(*) FROM audit WHERE action = 'swaps.confirm'"), 1);
	assert_int_equal(answer(id, 3, true, T0 + 120, &s, &changed), RC_FORBIDDEN);
	assert_int_equal(answer(id + 9, 2, true, T0 + 120, &s, &changed), RC_NOT_FOUND);
	assert_int_equal(db_exec(db,
	                         "INSERT INTO overrides (id, person_id, start_at, end_at, created_at) VALUES (5, 2, "
	                         "1800259200, 1800345600, 0)"),
	                 RC_OK);
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(swaps_accept_tx(db, id, 5, "sms:x", T0 + 130), RC_OK);
	assert_int_equal(swaps_accept_tx(db, id, 5, "sms:x", T0 + 131), RC_CONFLICT);
	assert_int_equal(db_commit(db), RC_OK);
	assert_int_equal(swaps_get(db, id, T0 + 132, &s), RC_OK);
	assert_string_equal(s.status, "accepted");
	assert_int_equal(s.override_id, 5);
}

static void expires_a_day_after_or_at_its_end(void **state)
{
	int64_t far = create(T0 + 86400 * 3, T0 + 86400 * 4, true, T0);
	int64_t soon = create(T0 + 60, T0 + 3600, true, T0);
	struct swap s;
	bool changed;

	(void)state;
	assert_int_equal(swaps_get(db, far, T0, &s), RC_OK);
	assert_int_equal(s.expires_at, T0 + SWAP_TTL);
	assert_string_equal(s.status, "pending");
	assert_int_equal(swaps_get(db, soon, T0, &s), RC_OK);
	assert_int_equal(s.expires_at, T0 + 3600);
	assert_int_equal(answer(far, 2, true, T0 + SWAP_TTL, &s, &changed), RC_CONFLICT);
	assert_string_equal(s.status, "expired");
	assert_int_equal(s.to_confirmed_at, 0);
	assert_int_equal(answer(far, 1, false, T0 + SWAP_TTL + 1, &s, &changed), RC_CONFLICT);
	assert_int_equal(testdb_scalar(db, "SELECT count(*) FROM shift_swaps WHERE status = 'pending'"), 2);
}

static void void_closes_only_a_pending_swap(void **state)
{
	int64_t id = create(T0 + 86400, T0 + 86400 * 2, true, T0);
	struct swap s;

	(void)state;
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(swaps_void_tx(db, id, "time no longer the giver's", "sms:x", T0 + 5), RC_OK);
	assert_int_equal(swaps_void_tx(db, id, "again", "sms:x", T0 + 6), RC_CONFLICT);
	assert_int_equal(db_commit(db), RC_OK);
	assert_int_equal(swaps_get(db, id, T0 + 7, &s), RC_OK);
	assert_string_equal(s.status, "canceled");
	assert_int_equal(testdb_scalar(db, "SELECT count(*) FROM audit WHERE action = 'swaps.cancel' AND detail LIKE "
	                                   "'%time no longer%'"),
	                 1);
}

static void phone_actors_mask_the_phone_and_name_the_person(void **state)
{
	char actor[AUDIT_ACTOR_MAX];
	struct audit_filter f = {.person_id = 2};
	json_t *o, *rows;

	(void)state;
	audit_actor_phone(actor, "keypad", "+5511990000002", 2, "Bruno Lima");
	assert_null(strstr(actor, "+5511990000002"));
	o = audit_actor_json(actor);
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "keypad");
	assert_int_equal(json_integer_value(json_object_get(o, "person_id")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "Bruno Lima");
	assert_string_equal(json_string_value(json_object_get(o, "phone")), "+55 11 9****-0002");
	json_decref(o);
	/* the forms written before keep their meaning */
	o = audit_actor_json("sms:+5511990000001");
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "phone");
	assert_string_equal(json_string_value(json_object_get(o, "phone")), "+5511990000001");
	assert_null(json_object_get(o, "person_id"));
	json_decref(o);
	o = audit_actor_json("person:3 Carla Dias");
	assert_int_equal(json_integer_value(json_object_get(o, "person_id")), 3);
	json_decref(o);
	/* the person filter finds Bruno's row, not person 12's or 1's */
	assert_int_equal(db_begin(db), RC_OK);
	assert_int_equal(audit_log(db, actor, "alert.ack", 7, NULL), RC_OK);
	audit_actor_phone(actor, "sms", "+5511990000001", 1, "Ana Souza");
	assert_int_equal(audit_log(db, actor, "alert.ack", 8, NULL), RC_OK);
	assert_int_equal(audit_log(db, "sms:+55 11 9****-0012/person:12 Outro", "alert.ack", 9, NULL), RC_OK);
	assert_int_equal(db_commit(db), RC_OK);
	assert_int_equal(audit_query(db, &f, &rows), RC_OK);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "entity_id")), 7);
	json_decref(rows);
}

/* A name too long for the actor is cut between characters, never inside one (PostgreSQL refuses
 * text that is not UTF-8, and with it the acknowledgment's transaction). */
static void a_long_name_is_cut_between_characters(void **state)
{
	char actor[AUDIT_ACTOR_MAX], name[1024] = "Ana ";
	size_t i, n;

	(void)state;
	for (i = 0; i < 196; i++)
		strcat(name, "\xF0\x9F\x93\x9F"); /* U+1F4DF, four bytes */
	audit_actor_phone(actor, "keypad", "+5511990000001", 1, name);
	n = strlen(actor);
	assert_true(n > 100 && n < AUDIT_ACTOR_MAX);
	/* the text after "Ana " is whole four-byte characters */
	assert_non_null(strstr(actor, "Ana "));
	assert_int_equal((n - (size_t)(strstr(actor, "Ana ") + 4 - actor)) % 4, 0);
	assert_int_equal((unsigned char)actor[n - 1], 0x9F);
	assert_int_equal((unsigned char)actor[n - 4], 0xF0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(second_yes_writes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(expires_a_day_after_or_at_its_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(void_closes_only_a_pending_swap, setup, teardown),
	        cmocka_unit_test_setup_teardown(phone_actors_mask_the_phone_and_name_the_person, setup, teardown),
	        cmocka_unit_test_setup_teardown(a_long_name_is_cut_between_characters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
