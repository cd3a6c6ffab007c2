/*
 * server/api/api_feed.h — GET /api/schedule.ics[?person=ID][&from=&to=][&token=] (perm READ; calendar
 * clients cannot send headers, so the route also takes a viewer token as ?token=): the schedule
 * as iCalendar (server/rotation/ics.h), the whole team's or one person's own shifts (rotation
 * and overrides) — the personal feed each person subscribes to in their phone's calendar.
 * Default window: 30 days back, 180 ahead; at most 366 days.
 */
#ifndef PLANTAO_API_FEED_H
#define PLANTAO_API_FEED_H

#include "http/http.h"

enum rc api_feed_schedule_ics(struct http_req *req);

#endif
