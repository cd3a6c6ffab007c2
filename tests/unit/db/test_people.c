/*
 * tests/unit/db/test_people.c — db/people.c (validation, phone uniqueness, delete vs archive)
 * and db/rotation.c (versions never rewrite the past, the loader's window, overrides
 * replaced by trimming and splitting), against a real temporary SQLite file.
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

#include "db/audit.h"
#include "tests/unit/testdb.h"
#include "db/db.h"
#include "db/people.h"
#include "db/rotation.h"
#include "core/clock.h"

static char path[64];
static struct db *db;

static int setup(void **state)
{
	(void)state;
	db = testdb_open("people", path);
	clock_set_offset(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testdb_close(db, path);
	return 0;
}

static int64_t scalar(const char *sql)
{
	return testdb_scalar(db, sql);
}

static enum rc parse(const char *text, bool partial, struct person_input *in, char *err, json_t **keep)
{
	*keep = json_loads(text, 0, NULL);
	assert_non_null(*keep);
	return people_input_parse(*keep, partial, in, err, 160);
}

static void validation(void **state)
{
	struct person_input in;
	char err[160];
	json_t *j;

	(void)state;
	assert_int_equal(
	        parse("{\"name\":\"Ana\",\"phone\":\"+5511999990000\",\"whatsapp\":true}", false, &in, err, &j), RC_OK);
	assert_true(in.has_whatsapp && in.whatsapp);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"Ana\",\"phone\":\"011 99999\"}", false, &in, err, &j), RC_UNPROCESSABLE);
	assert_string_equal(err, "phone: expected E.164 such as +5511999990000");
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"Ana\",\"phone\":\"+0511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"phone\":\"+5511999990000\"}", false, &in, err, &j), RC_UNPROCESSABLE);
	assert_true(strncmp(err, "name:", 5) == 0);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"   \",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"A\\u0007\",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	/* non-characters and C1 controls reach SMS texts and TwiML as boxes or nothing: refused */
	assert_int_equal(parse("{\"name\":\"Ana\\uFFFF\",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"Ana\\uFFFE\",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"Ana\\u0085\",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"name\":\"Jos\\u00e9 \\u00c7\",\"phone\":\"+5511999990000\"}", false, &in, err, &j),
	                 RC_OK); /* accents are not controls */
	json_decref(j);
	assert_int_equal(parse("{\"email\":\"a@b\"}", true, &in, err, &j), RC_OK); /* a patch needs no name */
	assert_true(in.has_email && !in.has_name);
	json_decref(j);
	assert_int_equal(parse("{\"email\":\"a b@c\"}", true, &in, err, &j), RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"whatsapp\":1}", true, &in, err, &j), RC_UNPROCESSABLE);
	json_decref(j);
	assert_int_equal(parse("{\"colour\":\"red\"}", true, &in, err, &j), RC_UNPROCESSABLE);
	assert_true(strncmp(err, "colour:", 7) == 0);
	json_decref(j);
	assert_int_equal(parse("[1]", true, &in, err, &j), RC_INVALID);
	json_decref(j);
}

/* Each refusal says its code and field itself: the API never reads them off the message. */
static void error_codes(void **state)
{
	static const struct {
		const char *body, *code, *field;
		bool partial;
	} cases[] = {
	        {"{\"name\":\"Ana\",\"phone\":\"011 99999\"}", "phone_invalid", "phone", false},
	        {"{\"name\":\"\",\"phone\":\"+5511999990000\"}", "name_invalid", "name", false},
	        {"{\"phone\":\"+5511999990000\"}", "required", "name", false},
	        {"{\"name\":\"Ana\"}", "required", "phone", false},
	        {"{\"email\":\"x\"}", "email_invalid", "email", true},
	        {"{\"whatsapp\":\"sim\"}", "invalid_value", "whatsapp", true},
	        {"{\"fone\":\"+5511999990000\"}", "unknown_field", "fone", true},
	};
	struct person_input in;
	struct people_err why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_loads(cases[i].body, 0, NULL);

		assert_non_null(j);
		assert_int_equal(people_input_check(j, cases[i].partial, &in, &why), RC_UNPROCESSABLE);
		assert_string_equal(why.code, cases[i].code);
		assert_string_equal(why.field, cases[i].field);
		assert_true(strncmp(why.msg, cases[i].field, strlen(cases[i].field)) == 0);
		json_decref(j);
	}
}

static int64_t add(const char *name, const char *phone)
{
	struct person_input in = {.has_name = true, .has_phone = true, .name = name, .phone = phone};
	char err[160];
	int64_t id = 0;

	assert_int_equal(people_create(db, &in, "test", &id, err, sizeof err), RC_OK);
	return id;
}

static void phone_unique_and_delete(void **state)
{
	struct person_input in = {.has_name = true, .has_phone = true, .name = "Dup", .phone = "+5511990000001"};
	int64_t a, b, m[1];
	struct rotation_input r = {m, 1, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct person p;
	struct people_err why;
	char err[160];
	bool archived;
	int64_t vid;

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	assert_int_equal(people_create(db, &in, "test", &vid, err, sizeof err), RC_CONFLICT);
	assert_non_null(strstr(err, "Ana"));
	in.phone = "+5511990000002";
	assert_int_equal(people_update(db, a, &in, "test", &why), RC_CONFLICT);
	assert_string_equal(why.code, "phone_taken");
	assert_string_equal(why.field, "phone");
	assert_int_equal(people_get(db, a, &p), RC_OK);
	assert_string_equal(p.name, "Ana"); /* nothing half-written */

	m[0] = a;
	assert_int_equal(rotation_put(db, &r, 1000, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(people_delete(db, a, "test", &archived, &why), RC_CONFLICT);
	assert_non_null(strstr(why.msg, "current rotation"));
	assert_string_equal(why.code, "person_in_rotation");
	m[0] = b;
	assert_int_equal(rotation_put(db, &r, 2000, "test", &vid, err, sizeof err), RC_OK);
	/* Ana is only in the old version now: archived, not deleted; her name stays for history */
	assert_int_equal(people_delete(db, a, "test", &archived, &why), RC_OK);
	assert_true(archived);
	assert_int_equal(people_get(db, a, &p), RC_NOT_FOUND);
	assert_int_equal(people_find_phone(db, "+5511990000001", &p), RC_NOT_FOUND);
	people_name(db, a, p.name, sizeof p.name);
	assert_string_equal(p.name, "Ana");
	assert_int_equal(people_delete(db, a, "test", &archived, &why), RC_NOT_FOUND);
	/* a person referenced by nothing is really deleted */
	a = add("Carla", "+5511990000003");
	assert_int_equal(people_delete(db, a, "test", &archived, &why), RC_OK);
	assert_false(archived);
	assert_int_equal(scalar("SELECT count(*) FROM people WHERE name = 'Carla'"), 0);
	/* an unknown member is refused and nothing is written */
	m[0] = 999;
	assert_int_equal(rotation_put(db, &r, 3000, "test", &vid, err, sizeof err), RC_UNPROCESSABLE);
	assert_string_equal(err, "members: no person with id 999");
	assert_int_equal(scalar("SELECT count(*) FROM rotation_versions"), 2);
	assert_int_equal(scalar("SELECT count(*) FROM audit WHERE action = 'rotation.update'"), 2);
	assert_int_equal(scalar("SELECT count(*) FROM audit WHERE action = 'people.delete'"), 2);
}

static void opt_out(void **state)
{
	struct person p;
	int64_t a;

	(void)state;
	a = add("Ana", "+5511990000001");
	assert_int_equal(people_set_opt_out(db, a, true, "sms:+5511990000001"), RC_OK);
	assert_int_equal(people_set_opt_out(db, a, true, "sms:+5511990000001"), RC_OK);
	assert_int_equal(people_get(db, a, &p), RC_OK);
	assert_true(p.sms_opt_out);
	assert_int_equal(scalar("SELECT count(*) FROM audit WHERE action = 'people.sms_opt_out'"), 1);
	assert_int_equal(people_set_opt_out(db, a, false, "sms:+5511990000001"), RC_OK);
	assert_int_equal(people_get(db, a, &p), RC_OK);
	assert_false(p.sms_opt_out);
}

static void versions_keep_the_past(void **state)
{
	int64_t a, b, c, m1[2], m2[2], vid;
	struct rotation_input r1 = {m1, 2, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct rotation_input r2 = {m2, 2, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct schedule_shift s;
	char err[160];
	/* 2026-01-05T09:00-03:00 */
	const int64_t h0 = 1767614400;

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	c = add("Carla", "+5511990000003");
	m1[0] = a, m1[1] = b;
	m2[0] = c, m2[1] = a;
	assert_int_equal(rotation_put(db, &r1, h0 - 86400, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_oncall(db, h0 + 3600, &s), RC_OK);
	assert_int_equal(s.person_id, a);
	assert_int_equal(rotation_oncall(db, h0 + 86400 + 3600, &s), RC_OK);
	assert_int_equal(s.person_id, b);
	/* edit on day 3 (shift 2, Ana's by r1): from then on r2 applies, before it nothing changes */
	assert_int_equal(rotation_put(db, &r2, h0 + 2 * 86400 + 7200, "test", &vid, err, sizeof err), RC_OK);
	assert_int_equal(rotation_oncall(db, h0 + 3600, &s), RC_OK);
	assert_int_equal(s.person_id, a);
	assert_int_equal(rotation_oncall(db, h0 + 86400 + 3600, &s), RC_OK);
	assert_int_equal(s.person_id, b);
	assert_int_equal(rotation_oncall(db, h0 + 2 * 86400 + 3600, &s), RC_OK);
	assert_int_equal(s.person_id, a);
	assert_int_equal(s.end, h0 + 2 * 86400 + 7200); /* cut at the edit */
	assert_int_equal(rotation_oncall(db, h0 + 2 * 86400 + 7200, &s), RC_OK);
	assert_int_equal(s.person_id, c);                                        /* shift 2 of r2 */
	assert_int_equal(rotation_oncall(db, h0 - 2 * 86400, &s), RC_NOT_FOUND); /* before any version */
}

static void overrides_replace_and_loader_window(void **state)
{
	int64_t a, b, c, m[1], vid, o1, o2, o3;
	struct rotation_input r = {m, 1, 168, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	struct rotation_override_input in;
	struct rotation_snapshot snap;
	struct schedule_shift s;
	int64_t chain[ROTATION_CHAIN_MAX];
	size_t n;
	char err[300];
	const int64_t h0 = 1767614400;

	(void)state;
	a = add("Ana", "+5511990000001");
	b = add("Bruno", "+5511990000002");
	c = add("Carla", "+5511990000003");
	m[0] = a;
	assert_int_equal(rotation_put(db, &r, 0, "test", &vid, err, sizeof err), RC_OK);
	in = (struct rotation_override_input){b, h0 + 1000, h0 + 9000, "swap"};
	assert_int_equal(rotation_override_add(db, &in, false, "test", &o1, err, sizeof err), RC_OK);
	in = (struct rotation_override_input){c, h0 + 3000, h0 + 5000, NULL};
	assert_int_equal(rotation_override_add(db, &in, false, "test", &o2, err, sizeof err), RC_CONFLICT);
	assert_non_null(strstr(err, "replace=true"));
	assert_int_equal(scalar("SELECT count(*) FROM overrides"), 1);
	assert_int_equal(rotation_override_add(db, &in, true, "test", &o2, err, sizeof err), RC_OK);
	/* o1 was split around o2: [1000, 3000) b, [3000, 5000) c, [5000, 9000) b */
	assert_int_equal(scalar("SELECT count(*) FROM overrides"), 3);
	assert_int_equal(rotation_oncall(db, h0 + 2000, &s), RC_OK);
	assert_int_equal(s.person_id, b);
	assert_int_equal(s.end, h0 + 3000);
	assert_int_equal(rotation_oncall(db, h0 + 4000, &s), RC_OK);
	assert_int_equal(s.person_id, c);
	assert_true(s.is_override && s.override_id == o2);
	assert_int_equal(rotation_oncall(db, h0 + 6000, &s), RC_OK);
	assert_int_equal(s.person_id, b);
	assert_int_equal(s.end, h0 + 9000);
	assert_int_equal(rotation_oncall(db, h0 + 9500, &s), RC_OK);
	assert_int_equal(s.person_id, a);
	/* the support line's chain: the override first, then the rotation */
	assert_int_equal(rotation_backups(db, h0 + 4000, chain, ROTATION_CHAIN_MAX, &n), RC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(chain[0], c);
	assert_int_equal(chain[1], a);
	/* covering a whole override deletes it */
	in = (struct rotation_override_input){a, h0, h0 + 20000, NULL};
	assert_int_equal(rotation_override_add(db, &in, true, "test", &o3, err, sizeof err), RC_OK);
	assert_int_equal(scalar("SELECT count(*) FROM overrides"), 1);
	assert_int_equal(rotation_override_delete(db, o3, "test"), RC_OK);
	assert_int_equal(rotation_override_delete(db, o3, "test"), RC_NOT_FOUND);
	assert_int_equal(scalar("SELECT count(*) FROM audit WHERE action LIKE 'overrides.%'"), 8);
	/* the loader takes the overrides near the window only */
	in = (struct rotation_override_input){b, h0 + 800 * 86400, h0 + 801 * 86400, NULL};
	assert_int_equal(rotation_override_add(db, &in, false, "test", &o1, err, sizeof err), RC_OK);
	assert_int_equal(rotation_load(db, h0, h0 + 86400, &snap), RC_OK);
	assert_int_equal(snap.n_versions, 1);
	assert_int_equal(snap.n_overrides, 0);
	assert_string_equal(rotation_zone_at(&snap, h0, "UTC"), "America/Sao_Paulo");
	rotation_release(&snap);
	assert_int_equal(rotation_load(db, h0 + 700 * 86400, h0 + 700 * 86400 + 1, &snap), RC_OK);
	assert_int_equal(snap.n_overrides, 1);
	rotation_release(&snap);
}

static void audit_listing(void **state)
{
	json_t *d = json_pack("{s:s}", "k", "v"), *rows;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(audit_log(db, "tester", "thing.do", i + 1, d), RC_OK);
	assert_int_equal(audit_list(db, 2, 0, &rows), RC_OK);
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "entity_id")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(rows, 0), "detail"), "k")),
	                    "v");
	json_decref(rows);
	assert_int_equal(audit_list(db, 10, 3, &rows), RC_OK); /* paging: ids below 3 */
	assert_int_equal(json_array_size(rows), 2);
	json_decref(rows);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(validation),
	        cmocka_unit_test(error_codes),
	        cmocka_unit_test_setup_teardown(phone_unique_and_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(opt_out, setup, teardown),
	        cmocka_unit_test_setup_teardown(versions_keep_the_past, setup, teardown),
	        cmocka_unit_test_setup_teardown(overrides_replace_and_loader_window, setup, teardown),
	        cmocka_unit_test_setup_teardown(audit_listing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
