/*
 * server/api/api_reports.h — GET /api/reports/sobreaviso?month=YYYY-MM[&format=csv][&person=ID]
 * (perm READ): hours on call per person in a month of the team's zone, split into weekday,
 * weekend and holiday hours (server/rotation/sobreaviso.h; holidays of PLANTAO_COUNTRY), with the
 * hours nobody was on call. month defaults to the current one.
 */
#ifndef PLANTAO_API_REPORTS_H
#define PLANTAO_API_REPORTS_H

#include "http/http.h"

/*
 * JSON: {month, timezone, country, from, to, days{weekday,weekend,holiday}, holidays[{date,name}],
 * people[{person_id, name, weekday_hours, weekend_hours, holiday_hours, total_hours, and the same
 * as *_seconds}], uncovered{…}}. format=csv: one line per person and a line of the uncovered
 * hours, as a download (text/csv; in pt-BR with ';' and decimal commas, as Excel in Brazil reads
 * it; in English with ',' and points), UTF-8 with a byte-order mark so that Excel reads accents.
 */
enum rc api_reports_sobreaviso(struct http_req *req);

#endif
