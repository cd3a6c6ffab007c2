/*
 * server/api/api_people.h — GET/POST /api/people, GET/PATCH/DELETE /api/people/{id}
 * (DESIGN.md, "HTTP contract"). Reads need HTTP_PERM_READ, edits HTTP_PERM_EDIT; every edit
 * is audited by db/people.c in the same transaction.
 */
#ifndef PLANTAO_API_PEOPLE_H
#define PLANTAO_API_PEOPLE_H

#include "http/http.h"

enum rc api_people_list(struct http_req *req);
enum rc api_people_create(struct http_req *req);
enum rc api_people_get(struct http_req *req);
enum rc api_people_update(struct http_req *req);
enum rc api_people_delete(struct http_req *req);

#endif
