/*
 * db/fallback_store.c — every statement on twilio_fallback (see db/fallback_store.h).
 */
#include "db/fallback_store.h"

#include <stdlib.h>
#include <string.h>

static char *dup_col(struct db_stmt *st, int i)
{
	const unsigned char *s = db_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

enum rc fallback_store_get(struct db *db, char **twiml, char **chain, int64_t *updated_at)
{
	static const char sql[] = "SELECT twiml, chain, updated_at FROM twilio_fallback WHERE id = 1";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc;

	if (twiml)
		*twiml = NULL;
	if (chain)
		*chain = NULL;
	if (!st)
		return db_bind_failed(db, st, "fallback_store_get");
	rc = db_step_row(db, st);
	if (rc == RC_OK) {
		if (twiml)
			*twiml = dup_col(st, 0);
		if (chain)
			*chain = dup_col(st, 1);
		if (updated_at)
			*updated_at = db_column_int64(st, 2);
		if ((twiml && !*twiml) || (chain && !*chain))
			rc = RC_INTERNAL;
	}
	db_reset(st);
	if (rc == RC_INTERNAL) {
		if (twiml) {
			free(*twiml);
			*twiml = NULL;
		}
		if (chain) {
			free(*chain);
			*chain = NULL;
		}
	}
	return rc;
}

enum rc fallback_store_put(struct db *db, const char *chain, const char *twiml, int64_t now, bool *changed)
{
	static const char sql[] = "INSERT INTO twilio_fallback (id, chain, twiml, updated_at) VALUES (1, ?1, ?2, ?3) "
	                          "ON CONFLICT (id) DO UPDATE SET chain = excluded.chain, twiml = excluded.twiml, "
	                          "updated_at = excluded.updated_at "
	                          "WHERE twilio_fallback.twiml IS DISTINCT FROM excluded.twiml OR "
	                          "twilio_fallback.chain IS DISTINCT FROM excluded.chain";
	struct db_stmt *st;
	enum rc rc;

	*changed = false;
	rc = db_begin(db);
	if (rc != RC_OK)
		return rc;
	st = db_prepare(db, sql);
	if (!st || db_bind_text(st, 1, chain, -1, DB_STATIC) || db_bind_text(st, 2, twiml, -1, DB_STATIC) ||
	    db_bind_int64(st, 3, now)) {
		rc = db_bind_failed(db, st, "fallback_store_put");
		goto out;
	}
	rc = db_step_done(db, st, "fallback_store_put");
	if (rc == RC_OK)
		*changed = db_changes(db) == 1;
out:
	if (rc == RC_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	return rc;
}
