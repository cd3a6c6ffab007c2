/*
 * server/api/api_tokens.h — POST/GET /api/tokens, DELETE /api/tokens/{id} (admin only):
 * tokens with roles, the secret shown once at creation.
 */
#ifndef PLANTAO_API_TOKENS_H
#define PLANTAO_API_TOKENS_H

#include "http/http.h"

enum rc api_tokens_list(struct http_req *req);
enum rc api_tokens_create(struct http_req *req);
enum rc api_tokens_revoke(struct http_req *req);

#endif
