/*
 * db/rotation.c — statements on rotation_versions, rotation_members and overrides, and the
 * loader of struct schedule (see rotation.h for the versioning rule).
 */
#include "rotation.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/audit.h"
#include "db/people.h"
#include "core/clock.h"
#include "core/log.h"

/* ---------------------------------------------------------------- loading */

void rotation_release(struct rotation_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_versions; i++) {
		free((void *)s->versions[i].members);
		free((void *)s->versions[i].handoff);
		free((void *)s->versions[i].timezone);
	}
	free(s->versions);
	free(s->overrides);
	memset(s, 0, sizeof *s);
}

static enum rc load_members(struct db *db, struct schedule_version *v)
{
	static const char sql[] = "SELECT person_id FROM rotation_members WHERE version_id = ?1 ORDER BY position";
	struct db_stmt *st = db_prepare(db, sql);
	int64_t *m = NULL;
	size_t n = 0;
	int s;

	if (!st || db_bind_int64(st, 1, v->id))
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW) {
		int64_t *grown;

		if (n == ROTATION_MAX_MEMBERS)
			break;
		grown = realloc(m, (n + 1) * sizeof *m);
		if (!grown) {
			db_reset(st);
			free(m);
			return RC_INTERNAL;
		}
		m = grown;
		m[n++] = db_column_int64(st, 0);
	}
	db_reset(st);
	if (s != DB_DONE && s != DB_ROW) {
		free(m);
		return db_rc(db);
	}
	v->members = m;
	v->n_members = n;
	return RC_OK;
}

static enum rc load_versions(struct db *db, int64_t lo, int64_t hi, struct rotation_snapshot *out)
{
	/* From the last version that started at or before lo (it is in force at lo) up to hi. */
	static const char sql[] =
	        "SELECT id, effective_at, shift_hours, handoff, timezone FROM rotation_versions "
	        "WHERE effective_at < ?2 AND effective_at >= coalesce("
	        "(SELECT max(effective_at) FROM rotation_versions WHERE effective_at <= ?1), -9223372036854775807) "
	        "ORDER BY effective_at, id";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_OK;
	size_t i;
	int s;

	if (!st || db_bind_int64(st, 1, lo) || db_bind_int64(st, 2, hi))
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW) {
		struct schedule_version *grown = realloc(out->versions, (out->n_versions + 1) * sizeof *grown);
		struct schedule_version *v;

		if (!grown) {
			rc = RC_INTERNAL;
			break;
		}
		out->versions = grown;
		v = &out->versions[out->n_versions++];
		memset(v, 0, sizeof *v);
		v->id = db_column_int64(st, 0);
		v->effective_at = db_column_int64(st, 1);
		v->shift_hours = db_column_int(st, 2);
		v->handoff = strdup((const char *)db_column_text(st, 3));
		v->timezone = strdup((const char *)db_column_text(st, 4));
		if (!v->handoff || !v->timezone) {
			rc = RC_INTERNAL;
			break;
		}
	}
	if (rc == RC_OK && s != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	for (i = 0; rc == RC_OK && i < out->n_versions; i++)
		rc = load_members(db, &out->versions[i]);
	return rc;
}

static enum rc load_overrides(struct db *db, int64_t lo, int64_t hi, struct rotation_snapshot *out)
{
	static const char sql[] = "SELECT id, person_id, start_at, end_at FROM overrides "
	                          "WHERE end_at > ?1 AND start_at < ?2 ORDER BY id";
	struct db_stmt *st = db_prepare(db, sql);
	size_t alloc = 0;
	enum rc rc = RC_OK;
	int s;

	if (!st || db_bind_int64(st, 1, lo) || db_bind_int64(st, 2, hi))
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW) {
		struct schedule_override *o;

		if (out->n_overrides == ROTATION_MAX_OVERRIDES) {
			rc = RC_TOO_BIG;
			break;
		}
		if (out->n_overrides == alloc) {
			size_t n = alloc ? 2 * alloc : 16;
			struct schedule_override *grown = realloc(out->overrides, n * sizeof *grown);

			if (!grown) {
				rc = RC_INTERNAL;
				break;
			}
			out->overrides = grown;
			alloc = n;
		}
		o = &out->overrides[out->n_overrides++];
		o->id = db_column_int64(st, 0);
		o->person_id = db_column_int64(st, 1);
		o->start = db_column_int64(st, 2);
		o->end = db_column_int64(st, 3);
	}
	if (rc == RC_OK && s != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	return rc;
}

enum rc rotation_load(struct db *db, int64_t from, int64_t to, struct rotation_snapshot *out)
{
	/* Clamp so the margins cannot overflow; schedule_*() refuse out-of-range instants anyway. */
	int64_t lo = (from < INT64_MIN / 4 ? INT64_MIN / 4 : from) - SCHEDULE_MARGIN;
	int64_t hi = (to > INT64_MAX / 4 ? INT64_MAX / 4 : to) + SCHEDULE_MARGIN;
	enum rc rc;

	memset(out, 0, sizeof *out);
	rc = load_versions(db, lo, hi, out);
	if (rc == RC_OK)
		rc = load_overrides(db, lo, hi, out);
	if (rc != RC_OK && rc != RC_TOO_BIG)
		log_err("rotation_load: %s (%s)", rc_str(rc), db_errmsg(db));
	out->sched.versions = out->versions;
	out->sched.n_versions = out->n_versions;
	out->sched.overrides = out->overrides;
	out->sched.n_overrides = out->n_overrides;
	return rc;
}

const char *rotation_zone_at(const struct rotation_snapshot *s, int64_t at, const char *fallback)
{
	const char *tz = fallback;
	size_t i;

	for (i = 0; i < s->n_versions && s->versions[i].effective_at <= at; i++)
		tz = s->versions[i].timezone;
	if (tz == fallback && s->n_versions)
		tz = s->versions[0].timezone; /* before the first version: its zone is the best guess */
	return tz;
}

enum rc rotation_oncall(struct db *db, int64_t at, struct schedule_shift *out)
{
	struct rotation_snapshot s;
	enum rc rc = rotation_load(db, at, at + 1, &s);

	if (rc == RC_OK)
		rc = schedule_oncall(&s.sched, at, out);
	rotation_release(&s);
	return rc;
}

enum rc rotation_next(struct db *db, int64_t at, struct schedule_shift *out)
{
	struct rotation_snapshot s;
	enum rc rc = rotation_load(db, at, at + SCHEDULE_LOOKAHEAD, &s);

	if (rc == RC_OK)
		rc = schedule_next(&s.sched, at, out);
	rotation_release(&s);
	return rc;
}

enum rc rotation_backups(struct db *db, int64_t at, int64_t *people, size_t max, size_t *n)
{
	struct rotation_snapshot s;
	enum rc rc = rotation_load(db, at, at + 1, &s);

	*n = 0;
	if (rc == RC_OK)
		rc = schedule_backups(&s.sched, at, people, max, n);
	rotation_release(&s);
	return rc;
}

/*
 * Whether the missing row has been logged since it was last seen: once per process, not per
 * call (every new support call asks) nor per connection. The one mutable global here, as the
 * log it quiets is the process's; an atomic, for the worker threads ask at once.
 */
static atomic_bool generation_missing;

enum rc rotation_generation(struct db *db, int64_t *out)
{
	static const char sql[] = "SELECT n FROM rotation_generation WHERE id = 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*out = ROTATION_GENERATION_UNKNOWN;
	if (!st)
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*out = db_column_int64(st, 0);
	db_reset(st);
	if (rc == RC_NOT_FOUND) {
		if (!atomic_exchange(&generation_missing, true))
			log_warn("rotation_generation has no row (removed by hand?): the support line reads the "
			         "rotation at every call until it is back");
		rc = RC_OK;
	} else if (rc == RC_OK && atomic_load_explicit(&generation_missing, memory_order_relaxed) &&
	           atomic_exchange(&generation_missing, false)) {
		log_info("rotation_generation has its row again");
	}
	return rc;
}

/* ---------------------------------------------------------------- the rotation */

/* The version row st is bound to, with its members, into out. */
static enum rc version_row(struct db *db, struct db_stmt *st, struct rotation_current *out)
{
	static const char mem[] = "SELECT person_id FROM rotation_members WHERE version_id = ?1 ORDER BY position";
	enum rc rc;
	int s;

	memset(out, 0, sizeof *out);
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		out->id = db_column_int64(st, 0);
		out->effective_at = db_column_int64(st, 1);
		out->shift_hours = db_column_int(st, 2);
		snprintf(out->handoff, sizeof out->handoff, "%s", (const char *)db_column_text(st, 3));
		snprintf(out->timezone, sizeof out->timezone, "%s", (const char *)db_column_text(st, 4));
	}
	db_reset(st);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, mem);
	if (!st || db_bind_int64(st, 1, out->id))
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW && out->n_members < ROTATION_MAX_MEMBERS)
		out->members[out->n_members++] = db_column_int64(st, 0);
	db_reset(st);
	return s == DB_DONE || s == DB_ROW ? RC_OK : db_rc(db);
}

enum rc rotation_latest(struct db *db, struct rotation_current *out)
{
	static const char sql[] = "SELECT id, effective_at, shift_hours, handoff, timezone FROM rotation_versions "
	                          "ORDER BY effective_at DESC, id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	return st ? version_row(db, st, out) : RC_DB;
}

enum rc rotation_version(struct db *db, int64_t id, struct rotation_current *out)
{
	static const char sql[] = "SELECT id, effective_at, shift_hours, handoff, timezone FROM rotation_versions "
	                          "WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	memset(out, 0, sizeof *out);
	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	return version_row(db, st, out);
}

enum rc rotation_put(struct db *db, const struct rotation_input *in, int64_t now, const char *actor,
                     int64_t *version_id, char *err, size_t errlen)
{
	static const char ver[] = "INSERT INTO rotation_versions (effective_at, shift_hours, handoff, timezone, "
	                          "created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?1, ?5)";
	static const char mem[] = "INSERT INTO rotation_members (version_id, position, person_id) VALUES (?1, ?2, ?3)";
	struct db_stmt *st = NULL;
	json_t *detail = NULL, *ids = NULL;
	struct rotation_current *latest = NULL;
	struct rotation_input v = *in;
	struct person p;
	enum rc rc;
	size_t i;

	*version_id = 0;
	err[0] = '\0';
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	if (in->keep_shift_hours || in->keep_handoff || in->keep_timezone) {
		/* read inside the write transaction: a concurrent partial edit has landed or waits */
		latest = malloc(sizeof *latest);
		rc = latest ? rotation_latest(db, latest) : RC_INTERNAL;
		if (rc == RC_OK) {
			if (in->keep_shift_hours)
				v.shift_hours = latest->shift_hours;
			if (in->keep_handoff)
				v.handoff = latest->handoff;
			if (in->keep_timezone)
				v.timezone = latest->timezone;
		} else if (rc != RC_NOT_FOUND) {
			goto out;
		}
		rc = RC_OK;
	}
	in = &v;
	ids = json_array();
	for (i = 0; i < in->n_members; i++) {
		rc = people_get(db, in->members[i], &p);
		if (rc == RC_NOT_FOUND) {
			snprintf(err, errlen, "members: no person with id %lld", (long long)in->members[i]);
			rc = RC_UNPROCESSABLE;
		}
		if (rc != RC_OK)
			goto out;
		json_array_append_new(ids, json_integer(in->members[i]));
	}
	rc = RC_DB;
	st = db_prepare(db, ver);
	if (!st || db_bind_int64(st, 1, now) || db_bind_int(st, 2, in->shift_hours) ||
	    db_bind_text(st, 3, in->handoff, -1, DB_STATIC) || db_bind_text(st, 4, in->timezone, -1, DB_STATIC) ||
	    db_bind_text(st, 5, actor, -1, DB_STATIC) || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	*version_id = db_last_id(db);
	for (i = 0; i < in->n_members; i++) {
		st = db_prepare(db, mem);
		if (!st || db_bind_int64(st, 1, *version_id) || db_bind_int(st, 2, (int)i) ||
		    db_bind_int64(st, 3, in->members[i]) || db_step(st) != DB_DONE)
			goto out;
		db_reset(st);
	}
	st = NULL;
	detail = json_pack("{s:I,s:O,s:i,s:s,s:s}", "effective_at", (json_int_t)now, "members", ids, "shift_hours",
	                   in->shift_hours, "handoff", in->handoff, "timezone", in->timezone);
	rc = audit_log(db, actor, "rotation.update", *version_id, detail);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (st) {
		log_err("rotation_put: %s", db_errmsg(db));
		rc = db_rc(db);
		if (rc == RC_OK)
			rc = RC_DB;
		db_reset(st);
	}
	if (rc != RC_OK) {
		db_rollback(db);
		*version_id = 0;
	}
	json_decref(detail);
	json_decref(ids);
	free(latest);
	return rc;
}

/* ---------------------------------------------------------------- overrides */

struct ovl {
	int64_t id, person_id, start, end;
	char *reason;
	char *created_by;
};

static void ovls_free(struct ovl *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(o[i].reason);
		free(o[i].created_by);
	}
	free(o);
}

static char *dup_col(struct db_stmt *st, int i)
{
	const unsigned char *t = db_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static enum rc overlapping(struct db *db, int64_t start, int64_t end, struct ovl **out, size_t *n)
{
	static const char sql[] = "SELECT id, person_id, start_at, end_at, reason, created_by FROM overrides "
	                          "WHERE start_at < ?2 AND end_at > ?1 ORDER BY start_at, id LIMIT 1000";
	struct db_stmt *st = db_prepare(db, sql);
	struct ovl *a = NULL;
	enum rc rc = RC_OK;
	int s;

	*out = NULL;
	*n = 0;
	if (!st || db_bind_int64(st, 1, start) || db_bind_int64(st, 2, end))
		return RC_DB;
	while ((s = db_step(st)) == DB_ROW) {
		struct ovl *grown = realloc(a, (*n + 1) * sizeof *a);

		if (!grown) {
			rc = RC_INTERNAL;
			break;
		}
		a = grown;
		a[*n].id = db_column_int64(st, 0);
		a[*n].person_id = db_column_int64(st, 1);
		a[*n].start = db_column_int64(st, 2);
		a[*n].end = db_column_int64(st, 3);
		a[*n].reason = dup_col(st, 4);
		a[*n].created_by = dup_col(st, 5);
		(*n)++;
	}
	if (rc == RC_OK && s != DB_DONE)
		rc = db_rc(db);
	db_reset(st);
	if (rc != RC_OK) {
		ovls_free(a, *n);
		*n = 0;
		return rc;
	}
	*out = a;
	return RC_OK;
}

static enum rc step_done(struct db *db, struct db_stmt *st)
{
	enum rc rc = db_step(st) == DB_DONE ? RC_OK : db_rc(db);

	if (rc != RC_OK)
		log_err("overrides: %s", db_errmsg(db));
	db_reset(st);
	return rc;
}

static enum rc insert_override(struct db *db, int64_t person, int64_t start, int64_t end, const char *reason,
                               const char *created_by, int64_t *id)
{
	static const char sql[] = "INSERT INTO overrides (person_id, start_at, end_at, reason, created_at, created_by) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st || db_bind_int64(st, 1, person) || db_bind_int64(st, 2, start) || db_bind_int64(st, 3, end) ||
	    db_bind_text(st, 4, reason, -1, DB_STATIC) || db_bind_int64(st, 5, clock_now()) ||
	    db_bind_text(st, 6, created_by, -1, DB_STATIC))
		return RC_DB;
	rc = step_done(db, st);
	if (rc == RC_OK && id)
		*id = db_last_id(db);
	return rc;
}

static enum rc set_span(struct db *db, int64_t id, int64_t start, int64_t end)
{
	static const char sql[] = "UPDATE overrides SET start_at = ?2, end_at = ?3 WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, start) || db_bind_int64(st, 3, end))
		return RC_DB;
	return step_done(db, st);
}

static enum rc delete_row(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM overrides WHERE id = ?1";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, id))
		return RC_DB;
	return step_done(db, st);
}

static json_t *span_json(int64_t person, int64_t start, int64_t end)
{
	return json_pack("{s:I,s:I,s:I}", "person_id", (json_int_t)person, "start_at", (json_int_t)start, "end_at",
	                 (json_int_t)end);
}

static enum rc audit_span(struct db *db, const char *actor, const char *action, int64_t id, json_t *detail)
{
	enum rc rc = detail ? audit_log(db, actor, action, id, detail) : RC_INTERNAL;

	json_decref(detail);
	return rc;
}

/* Makes room for [start, end) by deleting, trimming or splitting the overlapped rows. */
static enum rc make_room(struct db *db, const struct ovl *o, size_t n, int64_t start, int64_t end, int64_t new_id,
                         const char *actor)
{
	enum rc rc = RC_OK;
	size_t i;

	for (i = 0; rc == RC_OK && i < n; i++) {
		json_t *d = span_json(o[i].person_id, o[i].start, o[i].end);

		if (d)
			json_object_set_new(d, "replaced_by", json_integer(new_id));
		if (o[i].start >= start && o[i].end <= end) {
			rc = delete_row(db, o[i].id);
			if (rc == RC_OK)
				rc = audit_span(db, actor, "overrides.delete", o[i].id, d);
			else
				json_decref(d);
		} else if (o[i].start < start && o[i].end > end) {
			int64_t tail = 0;

			rc = set_span(db, o[i].id, o[i].start, start);
			if (rc == RC_OK)
				rc = insert_override(db, o[i].person_id, end, o[i].end, o[i].reason, o[i].created_by,
				                     &tail);
			if (d && rc == RC_OK) {
				json_object_set_new(d, "kept_until", json_integer(start));
				json_object_set_new(d, "tail_id", json_integer(tail));
				json_object_set_new(d, "tail_from", json_integer(end));
			}
			if (rc == RC_OK)
				rc = audit_span(db, actor, "overrides.split", o[i].id, d);
			else
				json_decref(d);
		} else {
			int64_t s = o[i].start < start ? o[i].start : end;
			int64_t e = o[i].start < start ? start : o[i].end;

			rc = set_span(db, o[i].id, s, e);
			if (d && rc == RC_OK) {
				json_object_set_new(d, "new_start_at", json_integer(s));
				json_object_set_new(d, "new_end_at", json_integer(e));
			}
			if (rc == RC_OK)
				rc = audit_span(db, actor, "overrides.trim", o[i].id, d);
			else
				json_decref(d);
		}
	}
	return rc;
}

enum rc rotation_override_add_tx(struct db *db, const struct rotation_override_input *in, bool replace,
                                 const char *actor, int64_t *id, char *err, size_t errlen)
{
	struct ovl *o = NULL;
	struct person p;
	json_t *detail = NULL;
	size_t n = 0, i, used;
	enum rc rc;

	*id = 0;
	err[0] = '\0';
	rc = people_get(db, in->person_id, &p);
	if (rc == RC_NOT_FOUND) {
		snprintf(err, errlen, "person_id: no person with id %lld", (long long)in->person_id);
		rc = RC_UNPROCESSABLE;
	}
	if (rc != RC_OK)
		goto out;
	rc = overlapping(db, in->start, in->end, &o, &n);
	if (rc != RC_OK)
		goto out;
	if (n && !replace) {
		used = (size_t)snprintf(err, errlen, "overlaps override%s", n > 1 ? "s" : "");
		for (i = 0; i < n && used < errlen; i++)
			used += (size_t)snprintf(err + used, errlen - used, "%s %lld", i ? "," : "",
			                         (long long)o[i].id);
		if (used < errlen)
			snprintf(err + used, errlen - used, ": delete %s or pass ?replace=true", n > 1 ? "them" : "it");
		rc = RC_CONFLICT;
		goto out;
	}
	rc = insert_override(db, in->person_id, in->start, in->end, in->reason, actor, id);
	if (rc == RC_OK && n)
		rc = make_room(db, o, n, in->start, in->end, *id, actor);
	if (rc != RC_OK)
		goto out;
	detail = span_json(in->person_id, in->start, in->end);
	if (detail && in->reason)
		json_object_set_new(detail, "reason", json_string(in->reason));
	rc = audit_span(db, actor, "overrides.create", *id, detail);
out:
	if (rc != RC_OK)
		*id = 0;
	ovls_free(o, n);
	return rc;
}

enum rc rotation_override_add(struct db *db, const struct rotation_override_input *in, bool replace, const char *actor,
                              int64_t *id, char *err, size_t errlen)
{
	enum rc rc = db_begin(db);

	*id = 0;
	err[0] = '\0';
	if (rc != RC_OK)
		return rc;
	rc = rotation_override_add_tx(db, in, replace, actor, id, err, errlen);
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*id = 0;
	}
	return rc;
}

enum rc rotation_take(struct db *db, int64_t person_id, int64_t now, const char *reason, const char *actor,
                      struct schedule_shift *taken, int64_t *id)
{
	return rotation_take_expected(db, person_id, now, 0, 0, reason, actor, taken, id);
}

enum rc rotation_take_expected(struct db *db, int64_t person_id, int64_t now, int64_t expect_person, int64_t expect_end,
                               const char *reason, const char *actor, struct schedule_shift *taken, int64_t *id)
{
	struct rotation_override_input in = {0};
	char err[300];
	enum rc rc = db_begin(db);

	*id = 0;
	memset(taken, 0, sizeof *taken);
	if (rc != RC_OK)
		return rc;
	rc = rotation_oncall(db, now, taken); /* inside the write transaction: serialized */
	if (rc == RC_OK && taken->person_id == person_id)
		rc = RC_CONFLICT;
	else if (rc == RC_OK && expect_person && (taken->person_id != expect_person || taken->end != expect_end))
		rc = RC_UNPROCESSABLE; /* not the shift that was asked about: nothing taken */
	if (rc == RC_OK) {
		in.person_id = person_id;
		in.start = now;
		in.end = taken->end;
		in.reason = reason;
		rc = rotation_override_add_tx(db, &in, true, actor, id, err, sizeof err);
		if (rc != RC_OK && err[0]) {
			char name[PEOPLE_NAME_BYTES];

			people_name(db, person_id, name, sizeof name);
			log_warn("rotation_take by %s (person %lld): %s", name, (long long)person_id, err);
		}
	}
	if (rc == RC_OK)
		rc = db_commit(db);
	if (rc != RC_OK) {
		db_rollback(db);
		*id = 0;
	}
	return rc;
}

enum rc rotation_override_delete(struct db *db, int64_t id, const char *actor)
{
	static const char sel[] = "SELECT person_id, start_at, end_at FROM overrides WHERE id = ?1";
	struct db_stmt *st;
	json_t *detail = NULL;
	enum rc rc;
	int s;

	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_prepare(db, sel);
	if (!st || db_bind_int64(st, 1, id))
		goto out;
	s = db_step(st);
	if (s == DB_ROW)
		detail = span_json(db_column_int64(st, 0), db_column_int64(st, 1), db_column_int64(st, 2));
	db_reset(st);
	if (s != DB_ROW) {
		rc = s == DB_DONE ? RC_NOT_FOUND : db_rc(db);
		goto out;
	}
	rc = delete_row(db, id);
	if (rc == RC_OK)
		rc = audit_span(db, actor, "overrides.delete", id, detail);
	else
		json_decref(detail);
	if (rc == RC_OK)
		rc = db_commit(db);
out:
	if (rc != RC_OK)
		db_rollback(db);
	return rc;
}

enum rc rotation_override_list(struct db *db, int64_t from, int64_t to, json_t **out)
{
	static const char sql[] =
	        "SELECT o.id, o.person_id, p.name AS person_name, o.start_at, o.end_at, o.reason, o.created_at, "
	        "o.created_by FROM overrides o JOIN people p ON p.id = o.person_id "
	        "WHERE o.end_at > ?1 AND (?2 <= 0 OR o.start_at < ?2) ORDER BY o.start_at, o.id LIMIT 10000";
	struct db_stmt *st = db_prepare(db, sql);

	*out = NULL;
	if (!st || db_bind_int64(st, 1, from) || db_bind_int64(st, 2, to))
		return RC_DB;
	return db_rows_json(db, st, out);
}

/* The handoff_notices table: one row per (boundary, person) announced (migration 0030). */

enum rc rotation_notice_exists(struct db *db, int64_t start, int64_t person, bool *exists)
{
	static const char sql[] = "SELECT 1 FROM handoff_notices WHERE shift_start = ?1 AND person_id = ?2";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*exists = false;
	if (!st || db_bind_int64(st, 1, start) || db_bind_int64(st, 2, person))
		return RC_DB;
	s = db_step(st);
	db_reset(st);
	if (s == DB_ROW)
		*exists = true;
	return s == DB_ROW || s == DB_DONE ? RC_OK : db_rc(db);
}

enum rc rotation_notice_last(struct db *db, int64_t *start, int64_t *person)
{
	static const char sql[] =
	        "SELECT shift_start, coalesce(person_id, 0) FROM handoff_notices ORDER BY id DESC LIMIT 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	*start = 0;
	*person = 0;
	if (!st)
		return RC_DB;
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*start = db_column_int64(st, 0);
		*person = db_column_int64(st, 1);
	}
	db_reset(st);
	return rc;
}

enum rc rotation_notice_insert(struct db *db, int64_t start, int64_t person, int64_t now, bool *inserted)
{
	static const char sql[] =
	        "INSERT INTO handoff_notices (shift_start, person_id, created_at) VALUES (?1, ?2, ?3) "
	        "ON CONFLICT (shift_start, person_id) DO NOTHING";
	struct db_stmt *st = db_prepare(db, sql);
	int s;

	*inserted = false;
	if (!st || db_bind_int64(st, 1, start) || db_bind_int64(st, 2, person) || db_bind_int64(st, 3, now))
		return RC_DB;
	s = db_step(st);
	db_reset(st);
	if (s != DB_DONE)
		return db_rc(db);
	*inserted = db_changes(db) == 1;
	return RC_OK;
}
