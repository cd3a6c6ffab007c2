/*
 * tests/unit/db/test_rotation.c — db/rotation.c's read-then-write operations done inside one
 * transaction: a partial rotation edit keeps the fields of the version committed just before
 * it (not of the one its caller saw), and "assumir" (rotation_take) looks up who is on call in
 * the transaction that writes the override, so two people taking at once are serialized —
 * also with two connections on two threads; a missing rotation_generation row logged once while
 * it stays missing. Real temporary SQLite file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/capture.h"
#include "tests/unit/testdb.h"
#include "db/db.h"
#include "db/people.h"
#include "db/rotation.h"

#define H0   INT64_C(1767614400) /* 2026-01-05T09:00-03:00 */
#define HOUR INT64_C(3600)

static char path[64];
static struct db *db;

static int setup(void **state)
{
	(void)state;
	db = testdb_open("rotation", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t add(const char *name, const char *phone)
{
	struct person_input in = {.has_name = true, .has_phone = true, .name = name, .phone = phone};
	char err[160];
	int64_t id = 0;

	assert_int_equal(people_create(db, &in, "test", &id, err, sizeof err), RC_OK);
	return id;
}

static void partial_edits_both_land(void **state)
{
	int64_t m[2], vid;
	struct rotation_input first = {m, 2, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	/* two editors who both saw the first version: one changes the shift length, the other the zone */
	struct rotation_input hours = {m, 2, 12, "2026-01-01T00:00", "UTC", false, true, true};
	struct rotation_input zone = {m, 2, 168, "2026-01-01T00:00", "America/New_York", true, true, false};
	struct rotation_current cur;
	char err[160];

	(void)state;
	m[0] = add("Ana", "+5511990000001");
	m[1] = add("Bruno", "+5511990000002");
	/* nothing to keep yet: the given values are the defaults */
	assert_int_equal(rotation_put(db, &zone, H0 - 2 * HOUR, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_latest(db, &cur), RC_OK);
	assert_int_equal(cur.shift_hours, 168);
	assert_string_equal(cur.handoff, "2026-01-01T00:00");
	assert_int_equal(rotation_put(db, &first, H0 - HOUR, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_put(db, &hours, H0, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_put(db, &zone, H0 + 1, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_latest(db, &cur), RC_OK);
	assert_int_equal(cur.id, vid);
	assert_int_equal(cur.shift_hours, 12);                 /* the other editor's change survives */
	assert_string_equal(cur.timezone, "America/New_York"); /* and this one's */
	assert_string_equal(cur.handoff, "2026-01-05T09:00");  /* kept from the first version */
}

static void take_is_serialized(void **state)
{
	int64_t a, b, c, m[1], vid, id;
	struct rotation_input r = {m, 1, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct schedule_shift taken, on;
	char err[160];

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	c = add("Carla", "+5511990000003");
	assert_int_equal(rotation_take(db, b, H0 + HOUR, "x", "sms:b", &taken, &id), RC_NOT_FOUND);
	m[0] = a;
	assert_int_equal(rotation_put(db, &r, H0 - HOUR, "test", &vid, err, sizeof err), RC_OK);
	/* Bruno takes Ana's shift; Carla, right after, takes it from Bruno, not from Ana */
	assert_int_equal(rotation_take(db, b, H0 + HOUR, "x", "sms:b", &taken, &id), RC_OK);
	assert_int_equal(taken.person_id, a);
	assert_int_equal(taken.end, H0 + 24 * HOUR);
	assert_int_equal(rotation_take(db, c, H0 + HOUR, "x", "sms:c", &taken, &id), RC_OK);
	assert_int_equal(taken.person_id, b);
	assert_true(taken.is_override);
	assert_int_equal(taken.end, H0 + 24 * HOUR);
	assert_int_equal(rotation_oncall(db, H0 + HOUR, &on), RC_OK);
	assert_int_equal(on.person_id, c);
	assert_int_equal(on.override_id, id);
	/* the one on call already: nothing written */
	assert_int_equal(rotation_take(db, c, H0 + HOUR + 5, "x", "sms:c", &taken, &id), RC_CONFLICT);
	assert_int_equal(taken.person_id, c);
	assert_int_equal(testdb_scalar(db, "SELECT count(*) FROM overrides"), 1);
}

/* The "SIM" takes exactly the shift it was asked about: Bruno asked about Ana's shift; Carla took
 * it first; Bruno's take of Ana's shift takes nothing, and says who is on call now. */
static void take_expected_takes_only_that_shift(void **state)
{
	int64_t a, b, c, m[1], vid, id;
	struct rotation_input r = {m, 1, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct schedule_shift taken, on;
	char err[160];

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	c = add("Carla", "+5511990000003");
	m[0] = a;
	assert_int_equal(rotation_put(db, &r, H0 - HOUR, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_take(db, c, H0 + HOUR, "x", "sms:c", &taken, &id), RC_OK);
	assert_int_equal(rotation_take_expected(db, b, H0 + HOUR, a, H0 + 24 * HOUR, "x", "sms:b", &taken, &id),
	                 RC_UNPROCESSABLE);
	assert_int_equal(taken.person_id, c);
	assert_int_equal(id, 0);
	assert_int_equal(testdb_scalar(db, "SELECT count(*) FROM overrides"), 1);
	assert_int_equal(rotation_oncall(db, H0 + HOUR, &on), RC_OK);
	assert_int_equal(on.person_id, c);
	/* asked again about Carla's piece: that one is taken */
	assert_int_equal(rotation_take_expected(db, b, H0 + HOUR, c, H0 + 24 * HOUR, "x", "sms:b", &taken, &id), RC_OK);
	assert_int_equal(taken.person_id, c);
	assert_int_equal(rotation_oncall(db, H0 + HOUR, &on), RC_OK);
	assert_int_equal(on.person_id, b);
}

/* Two people text "assumir" at the same instant, each on its own connection and thread. */
struct taker {
	int64_t person, now, replaced;
	enum rc rc;
	pthread_barrier_t *go;
};

static void *take_thread(void *arg)
{
	struct taker *t = arg;
	struct schedule_shift taken;
	struct db *own = NULL;
	int64_t id;

	if (db_open(path, &own) != RC_OK) {
		t->rc = RC_DB;
		return NULL;
	}
	pthread_barrier_wait(t->go);
	t->rc = rotation_take(own, t->person, t->now, "x", "sms", &taken, &id);
	t->replaced = taken.person_id;
	db_close(own);
	return NULL;
}

static void take_from_two_threads(void **state)
{
	int64_t a, b, c, m[1], vid;
	struct rotation_input r = {m, 1, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	char err[160];
	int round;

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	c = add("Carla", "+5511990000003");
	m[0] = a;
	assert_int_equal(rotation_put(db, &r, H0 - HOUR, "test", &vid, err, sizeof err), RC_OK);
	for (round = 0; round < 20; round++) {
		int64_t now = H0 + 24 * HOUR * round + HOUR; /* a new shift of Ana's each round */
		pthread_barrier_t go;
		struct taker tb = {b, now, 0, RC_INTERNAL, &go}, tc = {c, now, 0, RC_INTERNAL, &go};
		pthread_t x, y;

		assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
		assert_int_equal(pthread_create(&x, NULL, take_thread, &tb), 0);
		assert_int_equal(pthread_create(&y, NULL, take_thread, &tc), 0);
		pthread_join(x, NULL);
		pthread_join(y, NULL);
		pthread_barrier_destroy(&go);
		assert_int_equal(tb.rc, RC_OK);
		assert_int_equal(tc.rc, RC_OK);
		/* one of them replaced Ana, the other replaced the first: never both Ana */
		assert_true((tb.replaced == a && tc.replaced == b) || (tc.replaced == a && tb.replaced == c));
	}
}

/* Calls rotation_generation `calls` times, each expected to give `want`; the number of warnings
 * of a missing row it logged. */
static int missing_row_warnings(int calls, int64_t want)
{
	struct capture c;
	char text[8192];
	const char *at = text;
	int i, warnings = 0, wrong = 0;
	enum rc rc = RC_OK;

	capture_begin(&c);
	for (i = 0; i < calls; i++) { /* asserted once standard error is back */
		int64_t g = 0;
		enum rc r = rotation_generation(db, &g);

		if (r != RC_OK)
			rc = r;
		if (g != want)
			wrong++;
	}
	capture_end(&c, text, sizeof text);
	assert_int_equal(rc, RC_OK);
	assert_int_equal(wrong, 0);
	while ((at = strstr(at, "rotation_generation has no row")) != NULL) {
		warnings++;
		at++;
	}
	return warnings;
}

static void a_missing_generation_row_is_logged_once(void **state)
{
	(void)state;
	assert_int_equal(db_exec(db, "UPDATE rotation_generation SET n = 7"), RC_OK);
	assert_int_equal(missing_row_warnings(2, 7), 0);
	assert_int_equal(db_exec(db, "DELETE FROM rotation_generation"), RC_OK);
	assert_int_equal(missing_row_warnings(3, ROTATION_GENERATION_UNKNOWN), 1);
	assert_int_equal(missing_row_warnings(3, ROTATION_GENERATION_UNKNOWN), 0);
	/* back, then missing again: logged again */
	assert_int_equal(db_exec(db, "INSERT INTO rotation_generation (id, n) VALUES (1, 8)"), RC_OK);
	assert_int_equal(missing_row_warnings(2, 8), 0);
	assert_int_equal(db_exec(db, "DELETE FROM rotation_generation"), RC_OK);
	assert_int_equal(missing_row_warnings(2, ROTATION_GENERATION_UNKNOWN), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(partial_edits_both_land, setup, teardown),
	        cmocka_unit_test_setup_teardown(take_is_serialized, setup, teardown),
	        cmocka_unit_test_setup_teardown(take_expected_takes_only_that_shift, setup, teardown),
	        cmocka_unit_test_setup_teardown(take_from_two_threads, setup, teardown),
	        cmocka_unit_test_setup_teardown(a_missing_generation_row_is_logged_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
