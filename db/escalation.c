/*
 * db/escalation.c — statements on the escalation policy (see db/escalation.h); the rotation
 * questions are db/rotation.c's, the audit row db/audit.c's.
 */
#include "escalation.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/audit.h"
#include "db/rotation.h"
#include "core/log.h"

static const char *target_name(enum escalation_target t)
{
	switch (t) {
	case ESCALATION_ONCALL: return "oncall";
	case ESCALATION_NEXT: return "next";
	case ESCALATION_PERSON: return "person";
	}
	return "oncall";
}

static const char *const severity_names[] = {"info", "warning", "critical"};

enum escalation_severity escalation_severity_of(const char *severity)
{
	static const struct {
		const char *name;
		enum escalation_severity s;
	} words[] = {
	        {"info", ESCALATION_INFO},     {"informational", ESCALATION_INFO}, {"ok", ESCALATION_INFO},
	        {"none", ESCALATION_INFO},     {"warning", ESCALATION_WARNING},    {"warn", ESCALATION_WARNING},
	        {"minor", ESCALATION_WARNING},
	};
	size_t i;

	for (i = 0; severity && i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(severity, words[i].name) == 0)
			return words[i].s;
	return ESCALATION_CRITICAL;
}

const char *escalation_severity_name(enum escalation_severity s)
{
	return s <= ESCALATION_CRITICAL ? severity_names[s] : "critical";
}

bool escalation_severity_parse(const char *name, enum escalation_severity *out)
{
	size_t i;

	for (i = 0; name && i < sizeof severity_names / sizeof severity_names[0]; i++)
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum escalation_severity)i;
			return true;
		}
	return false;
}

enum rc escalation_load(struct db *db, struct escalation_policy *out)
{
	static const char head[] = "SELECT rounds, updated_at, call_min_severity FROM escalation WHERE id = 1";
	static const char steps[] =
	        "SELECT target, coalesce(person_id, 0), timeout_s FROM escalation_steps ORDER BY position";
	struct db_stmt *st = db_prepare(db, head);
	enum rc rc = RC_DB;
	int s;

	memset(out, 0, sizeof *out);
	out->rounds = ESCALATION_DEFAULT_ROUNDS;
	out->call_min = ESCALATION_CRITICAL;
	if (!st)
		goto out;
	s = db_step(st);
	if (s == DB_ROW) {
		out->rounds = db_column_int(st, 0);
		out->updated_at = db_column_int64(st, 1);
		if (!escalation_severity_parse((const char *)db_column_text(st, 2), &out->call_min))
			out->call_min = ESCALATION_CRITICAL;
	}
	db_reset(st);
	if (s != DB_ROW && s != DB_DONE)
		goto out;
	st = db_prepare(db, steps);
	if (!st)
		goto out;
	while ((s = db_step(st)) == DB_ROW && out->n_steps < ESCALATION_MAX_STEPS) {
		struct escalation_step *e = &out->steps[out->n_steps++];
		const char *t = (const char *)db_column_text(st, 0);

		e->target = !t || strcmp(t, "oncall") == 0 ? ESCALATION_ONCALL
		            : strcmp(t, "next") == 0       ? ESCALATION_NEXT
		                                           : ESCALATION_PERSON;
		e->person_id = db_column_int64(st, 1);
		e->timeout_s = db_column_int(st, 2);
	}
	db_reset(st);
	if (s == DB_ROW || s == DB_DONE)
		rc = RC_OK;
out:
	if (rc != RC_OK) {
		log_err("escalation_load: %s", db_errmsg(db));
		rc = db_rc(db) == RC_OK ? RC_DB : db_rc(db); /* a lost connection is RC_BUSY: 503 */
	}
	return rc;
}

enum rc escalation_save(struct db *db, const struct escalation_policy *p, const char *actor, const json_t *detail,
                        int64_t now)
{
	static const char clear[] = "DELETE FROM escalation_steps";
	static const char ins[] =
	        "INSERT INTO escalation_steps (position, target, person_id, timeout_s) VALUES (?1, ?2, ?3, ?4)";
	static const char head[] =
	        "INSERT INTO escalation (id, rounds, updated_at, call_min_severity) VALUES (1, ?1, ?2, ?3) "
	        "ON CONFLICT (id) DO UPDATE SET rounds = excluded.rounds, updated_at = excluded.updated_at, "
	        "call_min_severity = excluded.call_min_severity";
	struct db_stmt *st = NULL;
	enum rc rc;
	size_t i;

	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_prepare(db, clear);
	if (!st || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	for (i = 0; i < p->n_steps; i++) {
		const struct escalation_step *e = &p->steps[i];

		st = db_prepare(db, ins);
		if (!st || db_bind_int(st, 1, (int)i) || db_bind_text(st, 2, target_name(e->target), -1, DB_STATIC) ||
		    (e->target == ESCALATION_PERSON ? db_bind_int64(st, 3, e->person_id) : db_bind_null(st, 3)) ||
		    db_bind_int(st, 4, e->timeout_s))
			goto out;
		if (db_step(st) != DB_DONE) {
			rc = db_rc(db);
			goto out;
		}
		db_reset(st);
	}
	st = db_prepare(db, head);
	if (!st || db_bind_int(st, 1, p->rounds) || db_bind_int64(st, 2, now) ||
	    db_bind_text(st, 3, escalation_severity_name(p->call_min), -1, DB_STATIC) || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	st = NULL;
	rc = audit_log(db, actor, "escalation.update", 0, detail);
	if (rc != RC_OK)
		goto out;
	rc = db_commit(db);
out:
	if (rc != RC_OK) {
		log_err("escalation_save: %s", db_errmsg(db));
		if (st)
			db_reset(st);
		db_rollback(db);
	}
	return rc;
}

enum rc escalation_rotation(struct db *db, int64_t at, int64_t *oncall, int64_t *next)
{
	struct schedule_shift sh;
	enum rc rc;

	*oncall = 0;
	*next = 0;
	rc = rotation_oncall(db, at, &sh);
	if (rc == RC_OK)
		*oncall = sh.person_id;
	else if (rc != RC_NOT_FOUND)
		return rc;
	rc = rotation_next(db, at, &sh);
	if (rc == RC_OK)
		*next = sh.person_id;
	return rc == RC_NOT_FOUND ? RC_OK : rc;
}
