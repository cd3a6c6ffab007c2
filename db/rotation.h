/*
 * db/rotation.h — the rotation (rotation_versions + rotation_members) and the overrides
 * tables, and the loader that turns them into a struct schedule (server/rotation/schedule.h) for a
 * window of time. Everything that asks "who is on call" goes through here: the API, the
 * support line, the SMS commands, the hand-off notices and the alert escalation
 * ("oncall" / "next" targets).
 *
 * Versioning: PUT /api/rotation never edits a row. It appends a version effective from
 * "now" (rotation_put), so every shift that already started before the edit keeps the
 * person it had; the shift running at the edit is cut there and the new version's shift
 * starts at the same instant. Overrides are rows of their own; among overlapping ones the
 * most recent (highest id) wins, but the API keeps them disjoint (409 or ?replace=true).
 */
#ifndef PLANTAO_ROTATION_H
#define PLANTAO_ROTATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "rotation/schedule.h"

#define ROTATION_MAX_MEMBERS   100
#define ROTATION_MAX_OVERRIDES 50000 /* loaded for one window: more is RC_TOO_BIG */
#define ROTATION_REASON_MAX    500   /* bytes of an override's reason */
#define ROTATION_HANDOFF_MAX   32
#define ROTATION_CHAIN_MAX     8 /* people the support line dials at most */

/*
 * The rotation and the overrides that matter for [from, to), loaded into memory.
 * sched points into the arrays below: pass &snap->sched to schedule_*().
 */
struct rotation_snapshot {
	struct schedule sched;
	struct schedule_version *versions;
	size_t n_versions;
	struct schedule_override *overrides;
	size_t n_overrides;
};

/*
 * Loads every version that can apply in [from, to) (with the margin of schedule.h, so the
 * extents of pieces are exact) and every override with end_at > from - SCHEDULE_MARGIN and
 * start_at < to + SCHEDULE_MARGIN. *out: release with rotation_release() (also after an
 * error). RC_TOO_BIG past ROTATION_MAX_OVERRIDES, RC_DB, RC_INTERNAL (memory).
 */
enum rc rotation_load(struct db *db, int64_t from, int64_t to, struct rotation_snapshot *out);
void rotation_release(struct rotation_snapshot *s);

/* Zone of the version in force at `at` in s (borrowed), or fallback when there is none. */
const char *rotation_zone_at(const struct rotation_snapshot *s, int64_t at, const char *fallback);

/* ---- one-shot questions (each loads what it needs) ---- */

/* Who is on call at `at` (override included). RC_NOT_FOUND: nobody. */
enum rc rotation_oncall(struct db *db, int64_t at, struct schedule_shift *out);
/* The escalation's "next": schedule_next() at `at`. RC_NOT_FOUND: nobody else. */
enum rc rotation_next(struct db *db, int64_t at, struct schedule_shift *out);
/* The support line's chain at `at` (on call first, then the rest in rotation order, each once);
 * up to max ids. RC_NOT_FOUND: nobody. */
enum rc rotation_backups(struct db *db, int64_t at, int64_t *people, size_t max, size_t *n);
/* A value that every committed change able to move who is on call (a rotation version or its
 * members, an override, someone's number or archival) replaces with a new random one (migration
 * 0370's triggers): equal in two transactions, the chain read in the first still holds in the
 * second. ROTATION_GENERATION_UNKNOWN when its row is missing (logged once until it is back):
 * nothing can be taken as unchanged then. */
#define ROTATION_GENERATION_UNKNOWN INT64_MIN
enum rc rotation_generation(struct db *db, int64_t *out);

/* ---- the rotation ---- */

/* The version in force now (the latest), its fields copied out. RC_NOT_FOUND: none yet. */
struct rotation_current {
	int64_t id;
	int64_t effective_at;
	int shift_hours;
	char handoff[ROTATION_HANDOFF_MAX];
	char timezone[64];
	int64_t members[ROTATION_MAX_MEMBERS];
	size_t n_members;
};
enum rc rotation_latest(struct db *db, struct rotation_current *out);
/* Version id, as rotation_latest() gives it. RC_NOT_FOUND. */
enum rc rotation_version(struct db *db, int64_t id, struct rotation_current *out);

/*
 * A new version (validated by the caller except for the members' existence). Borrowed.
 * keep_*: the field was not given; the latest version's value is used, read inside the
 * transaction that appends (so two partial edits at once both land); the value given here
 * is the default when there is no version yet.
 */
struct rotation_input {
	const int64_t *members;
	size_t n_members;
	int shift_hours;
	const char *handoff;  /* local ISO "2026-01-05T09:00" */
	const char *timezone; /* IANA */
	bool keep_shift_hours, keep_handoff, keep_timezone;
};

/*
 * Appends a version effective at `now` with its members and an audit row
 * ("rotation.update") in one transaction (fields to keep are read in it). RC_UNPROCESSABLE
 * with err ("members: no person with id 7") when a member does not exist (or was deleted).
 * *version_id: the new id.
 */
enum rc rotation_put(struct db *db, const struct rotation_input *in, int64_t now, const char *actor,
                     int64_t *version_id, char *err, size_t errlen);

/* ---- overrides ---- */

struct rotation_override_input {
	int64_t person_id;
	int64_t start, end; /* [start, end), start < end */
	const char *reason; /* may be NULL */
};

/*
 * Inserts an override with its audit row ("overrides.create") in one transaction.
 * Overrides that overlap [start, end): RC_CONFLICT naming them in err, unless replace, in
 * which case they are deleted, trimmed or split around the new one (each audited) in the
 * same transaction. RC_UNPROCESSABLE (err) for an unknown person. *id: the new override.
 */
enum rc rotation_override_add(struct db *db, const struct rotation_override_input *in, bool replace, const char *actor,
                              int64_t *id, char *err, size_t errlen);
/*
 * rotation_override_add inside the caller's transaction (no begin, no commit: a failure leaves
 * the rollback to the caller), for flows that add an override together with other writes.
 */
enum rc rotation_override_add_tx(struct db *db, const struct rotation_override_input *in, bool replace,
                                 const char *actor, int64_t *id, char *err, size_t errlen);
/*
 * "assumir": person_id takes the piece running at now until its end, as an override (replace
 * semantics, audited as overrides.create by actor), with the look-up of who is on call inside
 * the same transaction, so two people taking at once are serialized: the second replaces the
 * first. *taken: the piece taken over (its person_id is the one replaced). RC_NOT_FOUND:
 * nobody is on call (no rotation); RC_CONFLICT: person_id is on call already (*taken set).
 */
enum rc rotation_take(struct db *db, int64_t person_id, int64_t now, const char *reason, const char *actor,
                      struct schedule_shift *taken, int64_t *id);
/* rotation_take of exactly the shift that was asked about: when expect_person is set and the piece
 * running at now is not expect_person's ending at expect_end, nothing is taken and the answer is
 * RC_UNPROCESSABLE with *taken the piece as it is now. */
enum rc rotation_take_expected(struct db *db, int64_t person_id, int64_t now, int64_t expect_person, int64_t expect_end,
                               const char *reason, const char *actor, struct schedule_shift *taken, int64_t *id);
/* Deletes one (audit "overrides.delete"). RC_NOT_FOUND. */
enum rc rotation_override_delete(struct db *db, int64_t id, const char *actor);
/*
 * Overrides with end_at > from and (to <= 0 or start_at < to), by start, as a new JSON
 * array of {id, person_id, person_name, start_at, end_at, reason, created_at, created_by}.
 */
enum rc rotation_override_list(struct db *db, int64_t from, int64_t to, json_t **out);

/*
 * Hand-off notices (server/rotation/handoff.c), one row per (boundary, person) announced, in the
 * order they were made. rotation_notice_exists: was person told they are on call from start?
 * rotation_notice_last: the newest row (RC_NOT_FOUND when none), i.e. who was told last.
 * rotation_notice_insert records one; *inserted false when another process or a retry did.
 */
enum rc rotation_notice_exists(struct db *db, int64_t start, int64_t person, bool *exists);
enum rc rotation_notice_last(struct db *db, int64_t *start, int64_t *person);
enum rc rotation_notice_insert(struct db *db, int64_t start, int64_t person, int64_t now, bool *inserted);

#endif
