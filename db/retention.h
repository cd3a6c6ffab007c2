/*
 * db/retention.h — the statements that prune old rows (PLANTAO_RETENTION_DAYS) and give the
 * space back (SQLite incremental vacuum). The engine's retention job (server/core/retention.h)
 * drives them; each call is one small batch in a short transaction of its own, so the writer
 * is held for milliseconds and taken in turn with webhooks and the sender.
 *
 * What goes when (cuts in Unix seconds, computed by the job):
 *   bodies   (cut.bodies)  texts of finished outbox rows blanked (''), voicemail transcriptions
 *                          and heartbeat ping bodies set NULL: the row stays, its words go first
 *   rows     (cut.rows)    finished outbox rows no kept alert still points at, support-line calls
 *                          with their legs and chains, voicemails, audit rows other than
 *                          schedule changes
 *   long     (cut.kept)    resolved or exhausted alerts (with their call attempts, page texts
 *                          and group members) that no monitor points at, and the audit of
 *                          schedule changes (rotation.*, overrides.*, escalation.*, swaps.*)
 * Rows still in flight (outbox pending, sending, retry, undecided; alerts triggered or
 * acknowledged) are never touched, whatever their age.
 */
#ifndef PLANTAO_DB_RETENTION_H
#define PLANTAO_DB_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rc.h"
#include "db/db.h"

enum retention_step {
	RETENTION_OUTBOX_BODIES,
	RETENTION_VOICEMAIL_TEXTS,
	RETENTION_PING_BODIES,
	RETENTION_ALERTS,
	RETENTION_OUTBOX,
	RETENTION_CALLS,
	RETENTION_VOICEMAILS,
	RETENTION_AUDIT,
	RETENTION_AUDIT_SCHEDULE,
	RETENTION_OTP_CODES,
	RETENTION_SESSIONS,
	RETENTION_STEPS
};

struct retention_cut {
	int64_t bodies, rows, kept; /* rows created before these instants (Unix seconds) go */
};

/* The step's name for logs ("outbox bodies", "alerts", …). */
const char *retention_step_name(enum retention_step step);

/*
 * One batch of step: at most max rows with an id above *cursor, in one transaction. *n: rows
 * in the batch (fewer than max: the step is done); *cursor moves to the batch's last id.
 */
enum rc retention_batch(struct db *db, enum retention_step step, const struct retention_cut *cut, int max,
                        int64_t *cursor, int *n);

/*
 * SQLite: makes sure the file gives freed pages back (auto_vacuum INCREMENTAL). A file created
 * without it is switched once with a VACUUM, which rewrites the file (*switched true; it holds
 * the database for as long as that takes, so only up to RETENTION_VACUUM_SWITCH_MAX). A no-op on
 * PostgreSQL, whose autovacuum does this.
 */
enum rc retention_vacuum_setup(struct db *db, bool *switched);
/* Bigger files are not switched while serving (a WARNING says how to do it by hand). */
#define RETENTION_VACUUM_SWITCH_MAX ((int64_t)32 * 1024 * 1024) /* about a second: the engine waits */

/* Pages one retention_vacuum() gives back at most (4 MiB of 4 KiB pages: a few milliseconds). */
#define RETENTION_VACUUM_PAGES_STR "1000"

/* SQLite: gives back at most RETENTION_VACUUM_PAGES_STR free pages to the file system; *left:
 * free pages still in the file (0 on PostgreSQL). */
enum rc retention_vacuum(struct db *db, int64_t *left);

#endif
