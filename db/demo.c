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
	sqlite3_stmt *st;
	enum rc rc;
	size_t i;

	*seeded = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	rc = RC_DB;
	st = db_stmt(db, count);
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int64(st, 0) > 0) {
		sqlite3_reset(st);
		db_rollback(db);
		return RC_OK;
	}
	sqlite3_reset(st);
	for (i = 0; i < 3; i++) {
		st = db_stmt(db, person);
		if (!st || sqlite3_bind_text(st, 1, people[i][0], -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(st, 2, people[i][1], -1, SQLITE_STATIC) ||
		    sqlite3_bind_text(st, 3, people[i][2], -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 4, now) ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
		ids[i] = db_last_id(db);
	}
	st = db_stmt(db, version);
	if (!st || sqlite3_bind_text(st, 1, timezone, -1, SQLITE_STATIC) || sqlite3_bind_int64(st, 2, now) ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_reset(st);
	vid = db_last_id(db);
	for (i = 0; i < 3; i++) {
		st = db_stmt(db, member);
		if (!st || sqlite3_bind_int64(st, 1, vid) || sqlite3_bind_int(st, 2, (int)i) ||
		    sqlite3_bind_int64(st, 3, ids[i]) || sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	st = NULL;
	rc = db_commit(db);
	*seeded = rc == RC_OK;
out:
	if (st)
		sqlite3_reset(st);
	if (rc != RC_OK) {
		log_err("demo seed: %s", sqlite3_errmsg(db->h));
		db_rollback(db);
	}
	return rc;
}
