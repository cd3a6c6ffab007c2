/*
 * server/rotation/ics.h — the schedule as an iCalendar feed (RFC 5545), for calendar subscriptions
 * (GET /api/schedule.ics). Pure text building: no clock, no zone (times are written in
 * UTC, "…Z"), no database.
 */
#ifndef PLANTAO_ICS_H
#define PLANTAO_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/rc.h"
#include "rotation/schedule.h"

/*
 * Appends a VCALENDAR (VERSION:2.0, PRODID, CALSCALE:GREGORIAN, METHOD:PUBLISH,
 * X-WR-CALNAME) with one VEVENT per shift to out (initialised by the caller with its cap).
 * - UID is stable across requests: "shift-<start>-<person>@plantao" for a rotation piece,
 *   "override-<override id>-<start>-<person>@plantao" for an override piece.
 * - DTSTAMP is dtstamp; DTSTART/DTEND are UTC.
 * - SUMMARY is "Plantão: <name>", plus " (substituição)" for an override. name_of(ctx, id)
 *   returns a borrowed UTF-8 name or NULL (then "#<id>" is used); name_of may be NULL.
 * - Lines end in CRLF, TEXT values escape backslash, ';', ',' and newlines, and lines are
 *   folded at 75 octets without splitting a UTF-8 sequence.
 * calname may be NULL ("plantao"). RC_TOO_BIG when out's cap is reached (out then holds a
 * truncated calendar: discard it), RC_INVALID for an instant outside years 0001..9999.
 */
enum rc ics_render(const struct schedule_shift *shifts, size_t n, const char *(*name_of)(void *ctx, int64_t person_id),
                   void *ctx, const char *calname, int64_t dtstamp, struct buf *out);

#endif
