/*
 * tests/unit/core/test_app.c — the per-thread database connections of struct app
 * (server/core/app.c): start-up's migrated connection given with app_give_db goes to the first
 * thread that asks, once; every other thread opens its own; app_release closes one nobody took.
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

#include "core/app.h"
#include "core/cfg.h"
#include "db/db.h"
#include "tests/unit/testdb.h"

static char path[64];
static struct cfg cfg;
static struct app app;

struct taker {
	struct db *db;
	pthread_barrier_t *hold; /* keeps the thread (and its connection) alive until released */
};

static void *take(void *arg)
{
	struct taker *t = arg;

	t->db = app_db(&app);
	pthread_barrier_wait(t->hold);
	return NULL;
}

static void given_connection_goes_to_the_first_thread(void **state)
{
	struct taker a = {0}, b = {0};
	pthread_barrier_t hold;
	pthread_t ta, tb;
	struct db *given;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	given = testdb_open("app", path);
	cfg.db_path = path;
	assert_int_equal(app_init(&app, &cfg), RC_OK);
	app_give_db(&app, given);
	pthread_barrier_init(&hold, NULL, 3);
	a.hold = b.hold = &hold;
	assert_int_equal(pthread_create(&ta, NULL, take, &a), 0);
	while (!__atomic_load_n(&a.db, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_int_equal(pthread_create(&tb, NULL, take, &b), 0);
	while (!__atomic_load_n(&b.db, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_ptr_equal(a.db, given);
	assert_non_null(b.db);
	assert_ptr_not_equal(b.db, given);
	assert_int_equal(db_ping(b.db), RC_OK);
	pthread_barrier_wait(&hold);
	pthread_join(ta, NULL); /* each thread's connection is closed as it ends */
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&hold);
	app_release(&app);
	testdb_close(NULL, path);
}

static void unused_given_connection_closed_at_release(void **state)
{
	struct db *given;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	given = testdb_open("app", path);
	cfg.db_path = path;
	assert_int_equal(app_init(&app, &cfg), RC_OK);
	app_give_db(&app, given);
	app_release(&app); /* the sanitizer build reports the connection if it leaked */
	testdb_close(NULL, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(given_connection_goes_to_the_first_thread),
	        cmocka_unit_test(unused_given_connection_closed_at_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
