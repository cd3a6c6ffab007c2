/*
 * tests/unit/rotfix.h — shared by the tests of the rotation's jobs and flows over a database
 * from testdb.h (tests/unit/rotation/test_handoff.c, test_swap_flow.c): the app they run in
 * (America/Sao_Paulo, pt-BR, nothing else set), a person added by name and phone, and a
 * rotation in daily shifts from Monday 2026-01-05 09:00 in São Paulo (H0). Header-only (static
 * functions): each test is one translation unit.
 */
#ifndef PLANTAO_ROTFIX_H
#define PLANTAO_ROTFIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "core/app.h"
#include "core/cfg.h"
#include "db/db.h"
#include "db/people.h"
#include "db/rotation.h"

/* 2026-01-05T09:00-03:00, a Monday */
#define H0   INT64_C(1767614400)
#define HOUR INT64_C(3600)

/* a: an app with only its configuration c (America/Sao_Paulo, pt-BR, everything else zero). */
static inline void rotfix_app(struct app *a, struct cfg *c)
{
	memset(c, 0, sizeof *c);
	c->tz = "America/Sao_Paulo";
	c->lang = "pt-BR";
	memset(a, 0, sizeof *a);
	a->cfg = c;
}

/* Adds the person name with phone (E.164); returns the id. */
static inline int64_t rotfix_person(struct db *t, const char *name, const char *phone)
{
	struct person_input in = {.has_name = true, .has_phone = true, .name = name, .phone = phone};
	char err[160];
	int64_t id = 0;

	assert_int_equal(people_create(t, &in, "test", &id, err, sizeof err), RC_OK);
	return id;
}

/* Saves, at now, the rotation of the n members in 24-hour shifts from H0 (São Paulo). */
static inline void rotfix_daily(struct db *t, const int64_t *members, size_t n, int64_t now)
{
	struct rotation_input r = {members, n, 24, "2026-01-05T09:00", "America/Sao_Paulo", false, false, false};
	char err[300];
	int64_t vid;

	assert_int_equal(rotation_put(t, &r, now, "test", &vid, err, sizeof err), RC_OK);
}

#endif
