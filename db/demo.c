/* db/demo.c — demo data for `make run` (one transaction; nothing when people exist). */
#include "demo.h"

#include "core/clock.h"
#include "core/log.h"

enum rc demo_seed(struct db *db, const char *timezone, bool *seeded)
{
	static const char count[] = "SELECT count(*) FROM people";
	static const char person[] = "INSERT INTO people (name, phone, email, whatsapp, created_at, updated_at) VALUES "
	                             "(?1, ?2, ?3, 0, ?4, ?4)";
	static const char version[] = "INSERT INTO rotation_versions (effective_at, shift_hours, handoff, timezone, "
	                              "created_at, created_by) VALUES (0, 168, '2026-01-05T09:00', ?1, ?2, 'demo')";
	static const char member[] =
	        "INSERT INTO rotation_members (version_id, position, person_id) VALUES (?1, ?2, ?3)";
	static const char *const people[][3] = {
	        {"Ana Souza", "+5511990000001", "ana@example.com"},
	        {"Bruno Lima", "+5511990000002", "bruno@example.com"},
	        {"Carla Dias", "+5511990000003", "carla@example.com"},
	};
	int64_t ids[3], vid, now = clock_now();
	struct db_stmt *st;
	enum rc rc;
	size_t i;

	*seeded = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_prepare(db, count);
	if (!st || db_step(st) != DB_ROW)
		goto out;
	if (db_column_int64(st, 0) > 0) {
		db_reset(st);
		db_rollback(db);
		return RC_OK;
	}
	db_reset(st);
	for (i = 0; i < 3; i++) {
		st = db_prepare(db, person);
		if (!st || db_bind_text(st, 1, people[i][0], -1, DB_STATIC) ||
		    db_bind_text(st, 2, people[i][1], -1, DB_STATIC) ||
		    db_bind_text(st, 3, people[i][2], -1, DB_STATIC) || db_bind_int64(st, 4, now) ||
		    db_step(st) != DB_DONE)
			goto out;
		db_reset(st);
		ids[i] = db_last_id(db);
	}
	st = db_prepare(db, version);
	if (!st || db_bind_text(st, 1, timezone, -1, DB_STATIC) || db_bind_int64(st, 2, now) || db_step(st) != DB_DONE)
		goto out;
	db_reset(st);
	vid = db_last_id(db);
	for (i = 0; i < 3; i++) {
		st = db_prepare(db, member);
		if (!st || db_bind_int64(st, 1, vid) || db_bind_int(st, 2, (int)i) || db_bind_int64(st, 3, ids[i]) ||
		    db_step(st) != DB_DONE)
			goto out;
		db_reset(st);
	}
	st = NULL;
	rc = db_commit(db);
	*seeded = rc == RC_OK;
out:
	if (st)
		db_reset(st);
	if (rc != RC_OK) {
		log_err("demo seed: %s", db_errmsg(db));
		db_rollback(db);
	}
	return rc;
}
