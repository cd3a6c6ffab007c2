/*
 * server/api/api_sales_periods.h — GET /api/sales: the months with sales, newest first, each with
 * its sellers, total, how many are past the goal and how many were announced. Takes limit
 * (1–120, default 24) and before (a period "YYYY-MM": the next page is ?before=<next_before>);
 * any other parameter is a 400 naming it. last_import_at is ISO 8601 with the team's offset.
 */
#ifndef PLANTAO_API_SALES_PERIODS_H
#define PLANTAO_API_SALES_PERIODS_H

#include "http/http.h"

enum rc api_sales_periods(struct http_req *req);

#endif
