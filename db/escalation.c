/*
 * db/escalation.c — statements on the escalation policy, the people it pages and the
 * rotation the "oncall"/"next" targets read (see db/escalation.h). The rotation is loaded
 * only around the instant asked (the version in force and later ones up to the look-ahead,
 * overrides overlapping that window) and handed to server/schedule.c, which does the
 * arithmetic.
 */
#include "escalation.h"

#include <stdlib.h>
#include <string.h>

#include "server/log.h"
#include "server/schedule.h"

static enum rc bind_failed(struct db *db, sqlite3_stmt *st, const char *what)
{
	if (st) {
		log_err("%s: bind: %s", what, sqlite3_errmsg(db->h));
		sqlite3_reset(st);
	}
	return RC_DB;
}

static const char *target_name(enum escalation_target t)
{
	switch (t) {
	case ESCALATION_ONCALL: return "oncall";
	case ESCALATION_NEXT: return "next";
	case ESCALATION_PERSON: return "person";
	}
	return "oncall";
}

enum rc escalation_load(struct db *db, struct escalation_policy *out)
{
	static const char head[] = "SELECT rounds, updated_at FROM escalation WHERE id = 1";
	static const char steps[] =
	        "SELECT target, coalesce(person_id, 0), timeout_s FROM escalation_steps ORDER BY position";
	sqlite3_stmt *st = db_stmt(db, head);
	enum rc rc = RC_DB;
	int s;

	memset(out, 0, sizeof *out);
	out->rounds = ESCALATION_DEFAULT_ROUNDS;
	if (!st)
		return RC_DB;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->rounds = sqlite3_column_int(st, 0);
		out->updated_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		goto out;
	st = db_stmt(db, steps);
	if (!st)
		goto out;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && out->n_steps < ESCALATION_MAX_STEPS) {
		struct escalation_step *e = &out->steps[out->n_steps++];
		const char *t = (const char *)sqlite3_column_text(st, 0);

		e->target = !t || strcmp(t, "oncall") == 0 ? ESCALATION_ONCALL
		            : strcmp(t, "next") == 0       ? ESCALATION_NEXT
		                                           : ESCALATION_PERSON;
		e->person_id = sqlite3_column_int64(st, 1);
		e->timeout_s = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	if (s == SQLITE_ROW || s == SQLITE_DONE)
		rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("escalation_load: %s", sqlite3_errmsg(db->h));
	return rc;
}

enum rc escalation_save(struct db *db, const struct escalation_policy *p, const char *actor, const char *detail,
                        int64_t now)
{
	static const char clear[] = "DELETE FROM escalation_steps";
	static const char ins[] =
	        "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES (?1, ?2, ?3, ?4)";
	static const char head[] =
	        "INSERT INTO escalation (id, rounds, updated_at) VALUES (1, ?1, ?2) "
	        "ON CONFLICT (id) DO UPDATE SET rounds = excluded.rounds, updated_at = excluded.updated_at";
	static const char audit[] =
	        "INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, 'escalation.update', ?3)";
	sqlite3_stmt *st = NULL;
	enum rc rc;
	size_t i;

	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_stmt(db, clear);
	if (!st || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	for (i = 0; i < p->n_steps; i++) {
		const struct escalation_step *e = &p->steps[i];

		st = db_stmt(db, ins);
		if (!st || sqlite3_bind_int(st, 1, (int)i) ||
		    sqlite3_bind_text(st, 2, target_name(e->target), -1, SQLITE_STATIC) ||
		    (e->target == ESCALATION_PERSON ? sqlite3_bind_int64(st, 3, e->person_id)
		                                    : sqlite3_bind_null(st, 3)) ||
		    sqlite3_bind_int(st, 4, e->timeout_s))
			goto out;
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_rc(db);
			goto out;
		}
		sqlite3_reset(st);
	}
	st = db_stmt(db, head);
	if (!st || sqlite3_bind_int(st, 1, p->rounds) || sqlite3_bind_int64(st, 2, now) ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	st = db_stmt(db, audit);
	if (!st || sqlite3_bind_int64(st, 1, now) || sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC) ||
	    sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC) || sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	st = NULL;
	rc = db_commit(db);
out:
	if (rc != RC_OK) {
		log_err("escalation_save: %s", sqlite3_errmsg(db->h));
		if (st)
			sqlite3_reset(st);
		db_rollback(db);
	}
	return rc;
}

#define PERSON_COLS "SELECT id, name, phone, whatsapp, sms_opt_out FROM people "

static enum rc one_person(struct db *db, sqlite3_stmt *st, struct escalation_person *out)
{
	enum rc rc;
	int s = sqlite3_step(st);

	memset(out, 0, sizeof *out);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(out->phone, sizeof out->phone, "%s", (const char *)sqlite3_column_text(st, 2));
		out->whatsapp = sqlite3_column_int(st, 3) != 0;
		out->sms_opt_out = sqlite3_column_int(st, 4) != 0;
		rc = RC_OK;
	} else {
		rc = s == SQLITE_DONE ? RC_NOT_FOUND : db_rc(db);
	}
	sqlite3_reset(st);
	return rc;
}

enum rc escalation_person(struct db *db, int64_t id, struct escalation_person *out)
{
	static const char sql[] = PERSON_COLS "WHERE id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_int64(st, 1, id))
		return bind_failed(db, st, "escalation_person");
	return one_person(db, st, out);
}

enum rc escalation_person_by_phone(struct db *db, const char *phone, struct escalation_person *out)
{
	static const char sql[] = PERSON_COLS "WHERE phone = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (!st || sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC))
		return bind_failed(db, st, "escalation_person_by_phone");
	return one_person(db, st, out);
}

/* ---------------------------------------------------------------- rotation */

/* Most overrides loaded around one instant; more is a misconfiguration, logged. */
#define ROTATION_MAX_OVERRIDES 4096
#define ROTATION_MAX_VERSIONS  1024

struct loaded {
	struct schedule_version *versions;
	size_t n_versions;
	struct schedule_override *overrides;
	size_t n_overrides;
};

static void loaded_free(struct loaded *l)
{
	size_t i;

	for (i = 0; i < l->n_versions; i++) {
		free((void *)l->versions[i].handoff);
		free((void *)l->versions[i].timezone);
		free((void *)l->versions[i].members);
	}
	free(l->versions);
	free(l->overrides);
}

static enum rc load_members(struct db *db, struct schedule_version *v)
{
	static const char sql[] = "SELECT person_id FROM rotation_members WHERE version_id = ?1 ORDER BY position";
	sqlite3_stmt *st = db_stmt(db, sql);
	int64_t *m = NULL, *grown;
	size_t n = 0, alloc = 0;
	enum rc rc = RC_OK;
	int s;

	if (!st || sqlite3_bind_int64(st, 1, v->id))
		return bind_failed(db, st, "rotation members");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 8;
			grown = realloc(m, alloc * sizeof *m);
			if (!grown) {
				rc = RC_INTERNAL;
				break;
			}
			m = grown;
		}
		m[n++] = sqlite3_column_int64(st, 0);
	}
	if (rc == RC_OK && s != SQLITE_DONE)
		rc = db_rc(db);
	sqlite3_reset(st);
	v->members = m;
	v->n_members = n;
	return rc;
}

static enum rc load_rotation(struct db *db, int64_t at, struct loaded *l)
{
	/* The version in force at `at` (the latest effective at or before it; of equal instants
	 * all, the later id wins in schedule.c) and every later one within the look-ahead. */
	static const char versions[] =
	        "SELECT id, effective_at, shift_hours, handoff, timezone FROM rotation_versions "
	        "WHERE effective_at >= coalesce((SELECT max(effective_at) FROM rotation_versions WHERE effective_at <= "
	        "?1), "
	        "-9223372036854775807) AND effective_at <= ?1 + ?2 ORDER BY effective_at, id LIMIT ?3";
	static const char overrides[] =
	        "SELECT id, person_id, start_at, end_at FROM overrides WHERE end_at > ?1 AND start_at < ?2 "
	        "ORDER BY id DESC LIMIT ?3";
	sqlite3_stmt *st;
	enum rc rc = RC_OK;
	size_t i;
	int s;

	memset(l, 0, sizeof *l);
	l->versions = calloc(ROTATION_MAX_VERSIONS, sizeof *l->versions);
	l->overrides = calloc(ROTATION_MAX_OVERRIDES, sizeof *l->overrides);
	if (!l->versions || !l->overrides)
		return RC_INTERNAL;
	st = db_stmt(db, versions);
	if (!st || sqlite3_bind_int64(st, 1, at) || sqlite3_bind_int64(st, 2, SCHEDULE_LOOKAHEAD) ||
	    sqlite3_bind_int(st, 3, ROTATION_MAX_VERSIONS))
		return bind_failed(db, st, "rotation versions");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct schedule_version *v = &l->versions[l->n_versions++];

		v->id = sqlite3_column_int64(st, 0);
		v->effective_at = sqlite3_column_int64(st, 1);
		v->shift_hours = sqlite3_column_int(st, 2);
		v->handoff = strdup((const char *)sqlite3_column_text(st, 3));
		v->timezone = strdup((const char *)sqlite3_column_text(st, 4));
		if (!v->handoff || !v->timezone) {
			rc = RC_INTERNAL;
			break;
		}
	}
	if (rc == RC_OK && s != SQLITE_DONE)
		rc = db_rc(db);
	sqlite3_reset(st);
	for (i = 0; rc == RC_OK && i < l->n_versions; i++)
		rc = load_members(db, &l->versions[i]);
	if (rc != RC_OK)
		return rc;
	st = db_stmt(db, overrides);
	if (!st || sqlite3_bind_int64(st, 1, at - SCHEDULE_MARGIN) ||
	    sqlite3_bind_int64(st, 2, at + SCHEDULE_LOOKAHEAD + SCHEDULE_MARGIN) ||
	    sqlite3_bind_int(st, 3, ROTATION_MAX_OVERRIDES))
		return bind_failed(db, st, "rotation overrides");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct schedule_override *o = &l->overrides[l->n_overrides++];

		o->id = sqlite3_column_int64(st, 0);
		o->person_id = sqlite3_column_int64(st, 1);
		o->start = sqlite3_column_int64(st, 2);
		o->end = sqlite3_column_int64(st, 3);
	}
	if (s != SQLITE_DONE)
		rc = db_rc(db);
	sqlite3_reset(st);
	if (l->n_overrides == ROTATION_MAX_OVERRIDES)
		log_warn("rotation: more than %d overrides around %lld; the oldest are ignored", ROTATION_MAX_OVERRIDES,
		         (long long)at);
	return rc;
}

enum rc escalation_rotation(struct db *db, int64_t at, int64_t *oncall, int64_t *next)
{
	struct loaded l;
	struct schedule s;
	struct schedule_shift sh;
	enum rc rc;

	*oncall = 0;
	*next = 0;
	rc = load_rotation(db, at, &l);
	if (rc != RC_OK)
		goto out;
	s.versions = l.versions;
	s.n_versions = l.n_versions;
	s.overrides = l.overrides;
	s.n_overrides = l.n_overrides;
	rc = schedule_oncall(&s, at, &sh);
	if (rc == RC_OK)
		*oncall = sh.person_id;
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		goto out;
	rc = schedule_next(&s, at, &sh);
	if (rc == RC_OK)
		*next = sh.person_id;
	if (rc == RC_NOT_FOUND)
		rc = RC_OK;
out:
	if (rc != RC_OK)
		log_err("escalation_rotation at %lld: %s", (long long)at, rc_str(rc));
	loaded_free(&l);
	return rc;
}
