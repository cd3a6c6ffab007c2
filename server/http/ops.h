/*
 * server/http/ops.h — operational routes: GET /healthz (liveness with a database round-trip)
 * and GET /metrics (Prometheus text format).
 */
#ifndef PLANTAO_OPS_H
#define PLANTAO_OPS_H

#include "http/http.h"

enum rc ops_healthz(struct http_req *req);
enum rc ops_metrics(struct http_req *req);

#endif
