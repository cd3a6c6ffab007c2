/*
 * db/tokens.c — the api_tokens table. Secrets are 32 random bytes (OpenSSL RAND_bytes) shown
 * once as "plt_" + hex; only their SHA-256 is stored, so a stolen database file grants nothing.
 * Look-up is by hash (an index probe): comparing hashes of secrets leaks nothing useful
 * about the secret through timing.
 */
#include "tokens.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[in[i] >> 4];
		out[2 * i + 1] = hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void tokens_hash(const char *token, char out[TOKENS_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
	to_hex(md, n, out);
}

bool tokens_is_role(const char *role)
{
	return role && (!strcmp(role, "admin") || !strcmp(role, "editor") || !strcmp(role, "viewer") ||
	                !strcmp(role, "alerts"));
}

enum rc tokens_check(struct db *db, const char *token, char role[16], char *name, size_t name_len)
{
	static const char sel[] = "SELECT id, role, name, coalesce(last_used_at, 0) FROM api_tokens "
	                          "WHERE hash = ?1 AND revoked_at IS NULL";
	static const char use[] = "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1";
	char hex[TOKENS_HEX_LEN + 1];
	struct db_stmt *st = db_prepare(db, sel);
	enum rc rc = RC_AUTH;
	int64_t id = 0, last = 0, now = clock_now();
	int s;

	if (!st)
		return RC_DB;
	tokens_hash(token, hex);
	db_bind_text(st, 1, hex, -1, DB_STATIC);
	s = db_step(st);
	if (s == DB_ROW) {
		id = db_column_int64(st, 0);
		snprintf(role, 16, "%s", (const char *)db_column_text(st, 1));
		snprintf(name, name_len, "%s", (const char *)db_column_text(st, 2));
		last = db_column_int64(st, 3);
		rc = RC_OK;
	} else if (s != DB_DONE) {
		rc = db_rc(db) == RC_BUSY ? RC_BUSY : RC_DB;
	}
	db_reset(st);
	if (rc == RC_OK && now - last >= 60) {
		st = db_prepare(db, use);
		if (st && !db_bind_int64(st, 1, id) && !db_bind_int64(st, 2, now))
			db_step(st); /* best effort: a busy database must not refuse a valid token */
		if (st)
			db_reset(st);
	}
	return rc;
}

enum rc tokens_create(struct db *db, const char *name, const char *role, char **secret, int64_t *id)
{
	static const char ins[] = "INSERT INTO api_tokens (name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4)";
	unsigned char raw[32];
	char hex[TOKENS_HEX_LEN + 1], hash[TOKENS_HEX_LEN + 1];
	struct db_stmt *st;
	enum rc rc = RC_DB;

	*secret = NULL;
	if (!tokens_is_role(role))
		return RC_UNPROCESSABLE;
	if (RAND_bytes(raw, sizeof raw) != 1)
		return RC_INTERNAL;
	to_hex(raw, sizeof raw, hex);
	*secret = malloc(4 + TOKENS_HEX_LEN + 1);
	if (!*secret)
		return RC_INTERNAL;
	snprintf(*secret, 4 + TOKENS_HEX_LEN + 1, "plt_%s", hex);
	tokens_hash(*secret, hash);
	st = db_prepare(db, ins);
	if (!st || db_bind_text(st, 1, name, -1, DB_STATIC) || db_bind_text(st, 2, role, -1, DB_STATIC) ||
	    db_bind_text(st, 3, hash, -1, DB_STATIC) || db_bind_int64(st, 4, clock_now()))
		goto out;
	if (db_step(st) != DB_DONE) {
		rc = db_rc(db);
		goto out;
	}
	*id = db_last_id(db);
	rc = RC_OK;
out:
	if (st)
		db_reset(st);
	if (rc != RC_OK) {
		log_err("tokens_create: %s", db_errmsg(db));
		free(*secret);
		*secret = NULL;
	}
	return rc;
}

enum rc tokens_list(struct db *db, json_t **out)
{
	static const char sql[] = "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens "
	                          "ORDER BY id";
	struct db_stmt *st = db_prepare(db, sql);

	if (!st)
		return RC_DB;
	return db_rows_json(db, st, out);
}

enum rc tokens_revoke(struct db *db, int64_t id)
{
	static const char sql[] = "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
	struct db_stmt *st = db_prepare(db, sql);
	enum rc rc = RC_DB;

	if (!st || db_bind_int64(st, 1, id) || db_bind_int64(st, 2, clock_now()))
		goto out;
	if (db_step(st) == DB_DONE)
		rc = db_changes(db) == 1 ? RC_OK : RC_NOT_FOUND;
	else
		rc = db_rc(db);
out:
	if (st)
		db_reset(st);
	return rc;
}
