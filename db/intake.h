/*
 * db/intake.h — what alert intake keeps beyond the alert row that db/alerts.c writes: the
 * runbook link, the test flag of a sender's "test" button, and the notification group an
 * alert stands for (alerts.group_key) with its member alerts (table alert_members). Every
 * statement on those columns and that table lives in db/intake.c; the caller
 * (server/api/api_alerts.c) opens the transaction around the writers.
 */
#ifndef PLANTAO_DB_INTAKE_H
#define PLANTAO_DB_INTAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Longest runbook link kept (bytes); longer ones are refused at intake. */
#define INTAKE_RUNBOOK_MAX 2048
/* Most members one group alert lists in GET /api/alerts/{id}. */
#define INTAKE_MEMBERS_MAX 500

/* Sets the runbook link unless the alert has one (NULL: unchanged); raises the test flag when
 * test is true. */
enum rc intake_set_extra(struct db *db, int64_t id, const char *runbook_url, bool test);

/* The open (triggered or acknowledged) alert standing for group_key: *id, or RC_NOT_FOUND. */
enum rc intake_find_group(struct db *db, const char *group_key, int64_t *id);
/*
 * The newest alert not resolved yet (triggered, acknowledged or exhausted: nobody answered,
 * but the problem was never said to be over) with dedup_key, or standing for group_key: *id,
 * or RC_NOT_FOUND. What a "resolved" from the sender closes.
 */
enum rc intake_find_unresolved(struct db *db, const char *dedup_key, int64_t *id);
enum rc intake_find_group_unresolved(struct db *db, const char *group_key, int64_t *id);
/* Records that alert id stands for group_key (only when it stands for no group yet). */
enum rc intake_set_group(struct db *db, int64_t id, const char *group_key);

/*
 * Adds or updates member member_key of alert id: status "firing" or "resolved"; summary,
 * details and runbook_url are replaced when not NULL. *was_firing (may be NULL) tells whether
 * the member existed and was firing before; *is_new (may be NULL) whether it was added now.
 */
enum rc intake_member_set(struct db *db, int64_t id, const char *member_key, const char *status, const char *summary,
                          const char *details, const char *runbook_url, int64_t now, bool *is_new, bool *was_firing);
/* Members of alert id that are firing (*firing) and in all (*total). */
enum rc intake_member_counts(struct db *db, int64_t id, int *firing, int *total);
/*
 * Rewrites the summary and details of group alert id from its members: summary is the given
 * text (already clean), details one block per member, firing ones first, each "[status]
 * summary" and then its own details (a group of one: its details alone); the whole cut at max
 * bytes on a line boundary.
 */
enum rc intake_group_update(struct db *db, int64_t id, const char *summary, size_t max, int64_t now);

/* Adds runbook_url, group_key, test and (when members is true) "members" to the alert a. */
enum rc intake_alert_json(struct db *db, int64_t id, json_t *a, bool members);

#endif
