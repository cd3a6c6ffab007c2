/*
 * db/sales_periods.h — the months with sales (GET /api/sales): one summary per period read off
 * sales, sales_settings and sales_notifications, newest first. Reads only.
 */
#ifndef PLANTAO_DB_SALES_PERIODS_H
#define PLANTAO_DB_SALES_PERIODS_H

#include <jansson.h>
#include <stdint.h>

#include "db/db.h"

/*
 * Up to limit periods older than before ("YYYY-MM"; NULL or "" for the newest), newest first,
 * as a new JSON array of {period, sellers, total_cents, above_goal, notified, last_import_at (epoch seconds)}.
 * above_goal counts sellers past the goal by the current settings (target_cents and rule).
 */
enum rc sales_periods_list(struct db *db, const char *before, int64_t limit, json_t **out);

#endif
