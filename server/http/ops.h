/*
 * server/http/ops.h — operational routes: GET /healthz (would a page go out now: database,
 * twilio, oncall and outbox, each with a reason when not ok, 503 when one fails; ?verbose for
 * the details; ?live for liveness only) and GET /metrics (Prometheus text format, paging gauges
 * included).
 */
#ifndef PLANTAO_OPS_H
#define PLANTAO_OPS_H

#include "http/http.h"

enum rc ops_healthz(struct http_req *req);
enum rc ops_metrics(struct http_req *req);

#endif
