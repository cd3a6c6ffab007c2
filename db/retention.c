/*
 * db/retention.c — pruning statements (see db/retention.h).
 *
 * Each step is a filter on one table plus the statements that act on the rows it selects. A
 * batch first picks its range of ids (the first `max` matching rows above the cursor: count and
 * highest id), then runs the statements on "filter AND id in (cursor, last]" in the same
 * transaction, which is exactly that batch. Walking by id with a cursor keeps every batch an
 * index range scan from where the previous one stopped, however many rows were kept behind it.
 * Every statement binds ?1 (the cut), ?2 (cursor) and ?3 (the limit, or the batch's last id).
 */
#include "db/retention.h"

#include <string.h>

#include "core/log.h"

#define OUTBOX_DONE "status NOT IN ('pending', 'sending', 'retry', 'undecided')"
/* a finished outbox row that no alert kept longer still points at (page texts, call attempts) */
#define OUTBOX_FREE                                                                                                    \
	"created_at < ?1 AND " OUTBOX_DONE " AND NOT EXISTS (SELECT 1 FROM page_texts p WHERE p.outbox_id = "          \
	"outbox.id) AND NOT (coalesce(owner_type, '') = 'call_attempt' AND EXISTS (SELECT 1 FROM call_attempts c "     \
	"WHERE c.id = outbox.owner_id)) AND NOT (coalesce(owner_type, '') = 'alert' AND EXISTS (SELECT 1 FROM "        \
	"alerts a WHERE a.id = outbox.owner_id))"
#define ALERT_OLD                                                                                                      \
	"created_at < ?1 AND status IN ('resolved', 'exhausted') AND NOT EXISTS (SELECT 1 FROM monitors m "            \
	"WHERE m.alert_id = alerts.id OR m.cert_alert_id = alerts.id)"
#define SCHEDULE_ACTION                                                                                                \
	"(action LIKE 'rotation.%' OR action LIKE 'overrides.%' OR action LIKE 'escalation.%' OR action LIKE "         \
	"'swaps.%')"
#define PICK(table, filter)                                                                                            \
	"SELECT count(*), max(id) FROM (SELECT id FROM " table " WHERE " filter " AND id > ?2 ORDER BY id LIMIT ?3) b"
#define RANGE " AND id > ?2 AND id <= ?3"

enum cut_kind { CUT_BODIES, CUT_ROWS, CUT_KEPT };

struct step {
	const char *name;
	enum cut_kind cut;
	const char *pick;
	const char *act[4]; /* run in order; NULL ends */
};

static const struct step steps[RETENTION_STEPS] = {
        [RETENTION_OUTBOX_BODIES] = {"outbox bodies",
                                     CUT_BODIES,
                                     PICK("outbox", "created_at < ?1 AND " OUTBOX_DONE " AND body <> ''"),
                                     {"UPDATE outbox SET body = '' WHERE created_at < ?1 AND " OUTBOX_DONE
                                      " AND body <> ''" RANGE}},
        [RETENTION_VOICEMAIL_TEXTS] = {"voicemail transcriptions",
                                       CUT_BODIES,
                                       PICK("voicemails", "created_at < ?1 AND transcription IS NOT NULL"),
                                       {"UPDATE voicemails SET transcription = NULL WHERE created_at < ?1 AND "
                                        "transcription IS NOT NULL" RANGE}},
        [RETENTION_PING_BODIES] = {"ping bodies",
                                   CUT_BODIES,
                                   PICK("monitor_pings", "at_ms / 1000 < ?1 AND body IS NOT NULL"),
                                   {"UPDATE monitor_pings SET body = NULL WHERE at_ms / 1000 < ?1 AND body IS NOT "
                                    "NULL" RANGE}},
        [RETENTION_ALERTS] =
                {"alerts",
                 CUT_KEPT,
                 PICK("alerts", ALERT_OLD),
                 {"DELETE FROM page_texts WHERE alert_id IN (SELECT id FROM alerts WHERE " ALERT_OLD RANGE ")",
                  "DELETE FROM call_attempts WHERE alert_id IN (SELECT id FROM alerts WHERE " ALERT_OLD RANGE ")",
                  "DELETE FROM alert_members WHERE alert_id IN (SELECT id FROM alerts WHERE " ALERT_OLD RANGE ")",
                  "DELETE FROM alerts WHERE " ALERT_OLD RANGE}},
        [RETENTION_OUTBOX] =
                {"outbox rows",
                 CUT_ROWS,
                 PICK("outbox", OUTBOX_FREE),
                 {"DELETE FROM mail_messages WHERE outbox_id IN (SELECT id FROM outbox WHERE " OUTBOX_FREE RANGE ")",
                  "DELETE FROM outbox WHERE " OUTBOX_FREE RANGE}},
        [RETENTION_CALLS] = {"support-line calls",
                             CUT_ROWS,
                             PICK("support_calls", "created_at < ?1"),
                             {"DELETE FROM support_chain WHERE call_id IN (SELECT id FROM support_calls WHERE "
                              "created_at < ?1" RANGE ")",
                              "DELETE FROM support_legs WHERE call_id IN (SELECT id FROM support_calls WHERE "
                              "created_at < ?1" RANGE ")",
                              "DELETE FROM support_calls WHERE created_at < ?1" RANGE}},
        [RETENTION_VOICEMAILS] = {"voicemails",
                                  CUT_ROWS,
                                  PICK("voicemails", "created_at < ?1"),
                                  {"DELETE FROM voicemails WHERE created_at < ?1" RANGE}},
        [RETENTION_AUDIT] = {"audit",
                             CUT_ROWS,
                             PICK("audit", "at < ?1 AND NOT " SCHEDULE_ACTION),
                             {"DELETE FROM audit WHERE at < ?1 AND NOT " SCHEDULE_ACTION RANGE}},
        [RETENTION_AUDIT_SCHEDULE] = {"audit of schedule changes",
                                      CUT_KEPT,
                                      PICK("audit", "at < ?1 AND " SCHEDULE_ACTION),
                                      {"DELETE FROM audit WHERE at < ?1 AND " SCHEDULE_ACTION RANGE}},
        /* sign-in codes and sessions long over (their hashes included): the body cut */
        [RETENTION_OTP_CODES] =
                {"sign-in codes",
                 CUT_BODIES,
                 PICK("otp_codes", "expires_at < ?1 AND coalesce(locked_until, 0) < ?1"),
                 {"DELETE FROM otp_codes WHERE expires_at < ?1 AND coalesce(locked_until, 0) < ?1" RANGE}},
        [RETENTION_SESSIONS] =
                {"sessions",
                 CUT_BODIES,
                 PICK("sessions", "coalesce(ended_at, expires_at) < ?1 AND expires_at < ?1"),
                 {"DELETE FROM sessions WHERE coalesce(ended_at, expires_at) < ?1 AND expires_at < ?1" RANGE}},
};

const char *retention_step_name(enum retention_step step)
{
	return step < RETENTION_STEPS ? steps[step].name : "?";
}

static enum rc run3(struct db *db, const char *sql, int64_t a, int64_t b, int64_t c, const char *what)
{
	struct db_stmt *st = db_prepare(db, sql);

	if (!st || db_bind_int64(st, 1, a) || db_bind_int64(st, 2, b) || db_bind_int64(st, 3, c))
		return db_bind_failed(db, st, what);
	return db_step_done(db, st, what);
}

enum rc retention_batch(struct db *db, enum retention_step step, const struct retention_cut *cut, int max,
                        int64_t *cursor, int *n)
{
	const struct step *s;
	struct db_stmt *st;
	int64_t when, last = 0;
	enum rc rc;
	size_t i;

	*n = 0;
	if (step >= RETENTION_STEPS || max <= 0)
		return RC_INVALID;
	s = &steps[step];
	when = s->cut == CUT_BODIES ? cut->bodies : s->cut == CUT_ROWS ? cut->rows : cut->kept;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, s->pick);
	if (!st || db_bind_int64(st, 1, when) || db_bind_int64(st, 2, *cursor) || db_bind_int64(st, 3, max)) {
		rc = db_bind_failed(db, st, s->name);
		goto out;
	}
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		*n = db_column_int(st, 0);
		last = db_column_int64(st, 1);
	}
	db_reset(st);
	if (rc != RC_OK || !*n)
		goto out;
	for (i = 0; rc == RC_OK && i < sizeof s->act / sizeof s->act[0] && s->act[i]; i++)
		rc = run3(db, s->act[i], when, *cursor, last, s->name);
out:
	if (rc == RC_OK) {
		rc = db_commit(db);
		if (rc == RC_OK && *n)
			*cursor = last;
	} else {
		db_rollback(db);
		*n = 0;
	}
	return rc;
}

static bool is_sqlite(struct db *db)
{
	return !strcmp(db_driver_name(db), "sqlite");
}

static enum rc pragma_int(struct db *db, const char *sql, int64_t *out)
{
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (!st)
		return db_bind_failed(db, st, sql);
	rc = db_step_row(db, st);
	if (rc == RC_OK)
		*out = db_column_int64(st, 0);
	db_reset(st);
	return rc;
}

enum rc retention_vacuum_setup(struct db *db, bool *switched)
{
	static const char mode[] = "PRAGMA auto_vacuum", pages[] = "PRAGMA page_count",
	                  page_size[] = "PRAGMA page_size";
	int64_t m = 0, n = 0, size = 0;
	enum rc rc;

	*switched = false;
	if (!is_sqlite(db))
		return RC_OK;
	rc = pragma_int(db, mode, &m);
	if (rc != RC_OK || m == 2) /* 2: INCREMENTAL */
		return rc;
	rc = pragma_int(db, pages, &n);
	if (rc == RC_OK)
		rc = pragma_int(db, page_size, &size);
	if (rc != RC_OK)
		return rc;
	if (n * size > RETENTION_VACUUM_SWITCH_MAX) {
		/* a VACUUM of a big file would hold the writer (and the engine's pages) for long */
		log_warn("retention: the database file (%lld MiB) does not shrink after pruning (auto_vacuum is not "
		         "INCREMENTAL) and is too big to switch while serving; stop plantao and run: sqlite3 FILE "
		         "'PRAGMA auto_vacuum = INCREMENTAL; VACUUM;' (pruned space is reused meanwhile)",
		         (long long)(n * size / (1024 * 1024)));
		return RC_OK;
	}
	/* The mode of an existing file changes only with a VACUUM, which rewrites it (once). */
	rc = db_exec(db, "PRAGMA auto_vacuum = INCREMENTAL");
	if (rc == RC_OK)
		rc = db_exec(db, "VACUUM");
	if (rc == RC_OK)
		rc = pragma_int(db, mode, &m);
	if (rc == RC_OK && m != 2) {
		log_warn("retention: the database file could not be switched to incremental vacuum (auto_vacuum %lld)",
		         (long long)m);
		return RC_DB;
	}
	*switched = rc == RC_OK;
	return rc;
}

enum rc retention_vacuum(struct db *db, int64_t *left)
{
	static const char freelist[] = "PRAGMA freelist_count";
	enum rc rc;

	*left = 0;
	if (!is_sqlite(db))
		return RC_OK;
	rc = db_exec(db, "PRAGMA incremental_vacuum(" RETENTION_VACUUM_PAGES_STR ")");
	if (rc == RC_OK)
		rc = pragma_int(db, freelist, left);
	return rc;
}
