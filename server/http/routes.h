/*
 * server/http/routes.h — the routing table of plantao (DESIGN.md, "HTTP contract").
 */
#ifndef PLANTAO_ROUTES_H
#define PLANTAO_ROUTES_H

#include <stddef.h>

#include "http/http.h"

extern const struct route routes[];
extern const size_t routes_count;

#endif
