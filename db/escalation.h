/*
 * db/escalation.h — the escalation policy (tables escalation and escalation_steps) and who
 * its "oncall"/"next" targets are at an instant (through db/rotation.h). People come from
 * db/people.h (archived people are paged by nobody). Readers run inside or outside a
 * transaction; escalation_save opens its own.
 */
#ifndef PLANTAO_DB_ESCALATION_H
#define PLANTAO_DB_ESCALATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

#define ESCALATION_MAX_STEPS       20
#define ESCALATION_MIN_TIMEOUT     5
#define ESCALATION_MAX_TIMEOUT     600
#define ESCALATION_DEFAULT_TIMEOUT 30
#define ESCALATION_MAX_ROUNDS      20
#define ESCALATION_DEFAULT_ROUNDS  3

enum escalation_target { ESCALATION_ONCALL, ESCALATION_NEXT, ESCALATION_PERSON };

/* Alert severities in increasing order: info is recorded, warning texted, critical called (by default). */
enum escalation_severity { ESCALATION_INFO, ESCALATION_WARNING, ESCALATION_CRITICAL };

/*
 * The severity an alert's free-text severity stands for: "info"/"informational"/"ok"/"none"
 * are info, "warning"/"warn"/"minor" warning; anything else, and no severity at all, is
 * critical (a page nobody labelled is a page). Case-insensitive.
 */
enum escalation_severity escalation_severity_of(const char *severity);
/* "info", "warning" or "critical". */
const char *escalation_severity_name(enum escalation_severity s);
/* Exactly one of those three names: true and *out; false for anything else. */
bool escalation_severity_parse(const char *name, enum escalation_severity *out);

struct escalation_step {
	enum escalation_target target;
	int64_t person_id; /* ESCALATION_PERSON only */
	int timeout_s;
};

struct escalation_policy {
	int rounds;
	enum escalation_severity call_min; /* alerts of this severity and above are called */
	size_t n_steps;
	struct escalation_step steps[ESCALATION_MAX_STEPS];
	int64_t updated_at;
};

/* The policy now. A database without steps gives n_steps 0 (the engine then pages nobody). */
enum rc escalation_load(struct db *db, struct escalation_policy *out);
/*
 * Replaces the policy and writes an audit row (actor, action "escalation.update", detail
 * borrowed) in one transaction. RC_CONFLICT when a person id does not exist (foreign key).
 * The caller validates ranges.
 */
enum rc escalation_save(struct db *db, const struct escalation_policy *p, const char *actor, const json_t *detail,
                        int64_t now);
/*
 * Who the rotation (overrides included) puts on call at `at` and who is next after them
 * (rotation_oncall / rotation_next); 0 where nobody is.
 */
enum rc escalation_rotation(struct db *db, int64_t at, int64_t *oncall, int64_t *next);

#endif
