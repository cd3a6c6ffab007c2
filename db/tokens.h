/*
 * db/tokens.h — API tokens: stored as hex SHA-256, shown once at creation, with a role.
 */
#ifndef PLANTAO_TOKENS_H
#define PLANTAO_TOKENS_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

#define TOKENS_HEX_LEN 64

/* hex SHA-256 of token into out (65 bytes). */
void tokens_hash(const char *token, char out[TOKENS_HEX_LEN + 1]);
/* Valid role name: admin, editor, viewer, alerts. */
bool tokens_is_role(const char *role);
/*
 * Looks up an unrevoked token; on RC_OK fills role (e.g. "editor") and name, and records the
 * use (at most once a minute). RC_AUTH when unknown or revoked.
 */
enum rc tokens_check(struct db *db, const char *token, char role[16], char *name, size_t name_len);
/* Creates a token with a new random secret; *secret (new string, free()) is shown once. */
enum rc tokens_create(struct db *db, const char *name, const char *role, char **secret, int64_t *id);
/* Lists tokens (never hashes) as a new JSON array. */
enum rc tokens_list(struct db *db, json_t **out);
/* Revokes; RC_NOT_FOUND when no such active token. */
enum rc tokens_revoke(struct db *db, int64_t id);

#endif
