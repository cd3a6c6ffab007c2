/*
 * tests/unit/pager/test_intake.c — what alert intake keeps beyond the alert row (db/intake.c):
 * notification groups and their members, the details written from them (firing first, a
 * group of one keeps its member's own details, a cap cut on a line), runbook links and the
 * test flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "db/alerts.h"
#include "db/intake.h"
#include "../testdb.h"

static char file[64];

static int setup(void **state)
{
	*state = testdb_open("intake", file);
	return 0;
}

static int teardown(void **state)
{
	testdb_close(*state, file);
	return 0;
}

static int64_t new_alert(struct db *db, const char *summary)
{
	int64_t id = 0;

	assert_int_equal(alerts_insert(db, summary, NULL, "critical", "alertmanager", NULL, 1000, &id), RC_OK);
	return id;
}

/* The alert's details and summary as stored. */
static void stored(struct db *db, int64_t id, char *summary, size_t slen, char *details, size_t dlen)
{
	static const char sql[] = "SELECT summary, coalesce(details, '') FROM alerts WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);

	assert_non_null(st);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(summary, slen, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(details, dlen, "%s", (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
}

static void test_group_members_and_details(void **state)
{
	struct db *db = *state;
	char summary[400], details[4096];
	bool is_new = false, was_firing = true;
	int firing, total;
	int64_t id = new_alert(db, "Disco cheio em db1"), found = 0;

	assert_int_equal(intake_find_group(db, "am:{}:{alertname=\"DiskFull\"}", &found), RC_NOT_FOUND);
	assert_int_equal(intake_set_group(db, id, "am:{}:{alertname=\"DiskFull\"}"), RC_OK);
	assert_int_equal(intake_find_group(db, "am:{}:{alertname=\"DiskFull\"}", &found), RC_OK);
	assert_int_equal(found, id);

	assert_int_equal(intake_member_set(db, id, "am:fp1", "firing", "Disco cheio em db1", "/var 98%\ninstance=db1",
	                                   NULL, 1000, &is_new, &was_firing),
	                 RC_OK);
	assert_true(is_new);
	assert_false(was_firing);
	/* a group of one: the member's own details */
	assert_int_equal(intake_group_update(db, id, "Disco cheio em db1", 4096, 1000), RC_OK);
	stored(db, id, summary, sizeof summary, details, sizeof details);
	assert_string_equal(details, "/var 98%\ninstance=db1");

	/* the same member again: known and firing */
	assert_int_equal(intake_member_set(db, id, "am:fp1", "firing", "Disco cheio em db1", NULL, NULL, 1001, &is_new,
	                                   &was_firing),
	                 RC_OK);
	assert_false(is_new);
	assert_true(was_firing);
	assert_int_equal(intake_member_set(db, id, "am:fp2", "firing", "Disco cheio em db2", "instance=db2", NULL, 1002,
	                                   &is_new, NULL),
	                 RC_OK);
	assert_true(is_new);
	/* db1 recovers: listed after the one still firing; its details were kept */
	assert_int_equal(intake_member_set(db, id, "am:fp1", "resolved", NULL, NULL, NULL, 1003, NULL, &was_firing),
	                 RC_OK);
	assert_true(was_firing);
	assert_int_equal(intake_member_counts(db, id, &firing, &total), RC_OK);
	assert_int_equal(firing, 1);
	assert_int_equal(total, 2);
	assert_int_equal(intake_group_update(db, id, "DiskFull (1 alertas)", 4096, 1003), RC_OK);
	stored(db, id, summary, sizeof summary, details, sizeof details);
	assert_string_equal(summary, "DiskFull (1 alertas)");
	assert_string_equal(details, "[firing] Disco cheio em db2\ninstance=db2\n"
	                             "\n[resolved] Disco cheio em db1\n/var 98%\ninstance=db1\n");
	/* under a cap, whole lines only */
	assert_int_equal(intake_group_update(db, id, "DiskFull", 50, 1004), RC_OK);
	stored(db, id, summary, sizeof summary, details, sizeof details);
	assert_string_equal(details, "[firing] Disco cheio em db2\ninstance=db2\n\n");

	/* nobody answered: no longer open, but still to be resolved */
	assert_int_equal(alerts_set_exhausted(db, id, 1005), RC_OK);
	assert_int_equal(intake_find_group(db, "am:{}:{alertname=\"DiskFull\"}", &found), RC_NOT_FOUND);
	assert_int_equal(intake_find_group_unresolved(db, "am:{}:{alertname=\"DiskFull\"}", &found), RC_OK);
	assert_int_equal(found, id);
	/* a resolved alert no longer stands for its group */
	assert_int_equal(alerts_set_resolved(db, id, "alertmanager", 1006), RC_OK);
	assert_int_equal(intake_find_group_unresolved(db, "am:{}:{alertname=\"DiskFull\"}", &found), RC_NOT_FOUND);
}

static void test_unresolved_by_key(void **state)
{
	struct db *db = *state;
	int64_t old = 0, id = 0, found = 0;

	assert_int_equal(alerts_insert(db, "db1 fora", NULL, NULL, "api", "db1", 1000, &old), RC_OK);
	assert_int_equal(alerts_set_resolved(db, old, "api", 1001), RC_OK);
	assert_int_equal(intake_find_unresolved(db, "db1", &found), RC_NOT_FOUND);
	assert_int_equal(alerts_insert(db, "db1 fora de novo", NULL, NULL, "api", "db1", 1002, &id), RC_OK);
	assert_int_equal(alerts_set_exhausted(db, id, 1003), RC_OK);
	assert_int_equal(intake_find_unresolved(db, "db1", &found), RC_OK);
	assert_int_equal(found, id);
}

static void test_runbook_and_test_flag(void **state)
{
	struct db *db = *state;
	int64_t id = new_alert(db, "fila parada");
	json_t *a = json_object();
	struct alerts_row row;

	assert_int_equal(alerts_load(db, id, &row), RC_OK); /* what the page text and the call read */
	assert_string_equal(row.runbook_url, "");
	assert_int_equal(alerts_load(db, id + 100, &row), RC_NOT_FOUND);

	assert_int_equal(intake_set_extra(db, id, "https://wiki/rb/1", false), RC_OK);
	assert_int_equal(intake_set_extra(db, id, "https://wiki/rb/2", true), RC_OK); /* the first link stays */
	assert_int_equal(intake_set_extra(db, id, NULL, false), RC_OK);               /* the flag stays up */
	assert_int_equal(alerts_load(db, id, &row), RC_OK);
	assert_string_equal(row.runbook_url, "https://wiki/rb/1");
	assert_int_equal(intake_alert_json(db, id, a, true), RC_OK);
	assert_string_equal(json_string_value(json_object_get(a, "runbook_url")), "https://wiki/rb/1");
	assert_true(json_is_true(json_object_get(a, "test")));
	assert_true(json_is_null(json_object_get(a, "group_key")));
	assert_int_equal(json_array_size(json_object_get(a, "members")), 0);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_group_members_and_details, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unresolved_by_key, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_runbook_and_test_flag, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
