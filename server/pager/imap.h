/*
 * server/pager/imap.h — alert e-mail: the engine job that reads a mailbox over IMAP (libcurl) and
 * turns each matching unseen mail into an alert. On when PLANTAO_IMAP_URL is set.
 * The job's functions are rows of jobs[] in server/outbox/engine.c; the parsers below are exposed
 * for the unit tests. See server/pager/imap.c for the order of operations and why it is safe.
 */
#ifndef PLANTAO_IMAP_H
#define PLANTAO_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/rc.h"

struct app;
struct db;

/* Largest part of one mail read (bigger mail: its first IMAP_MAX_MAIL bytes, noted as cut). */
#define IMAP_MAX_MAIL (1u << 20)
/* Most mails turned into alerts in one poll; the rest wait for the next one. */
#define IMAP_MAX_PER_POLL 50
/* Alert text limits, in characters. */
#define IMAP_SUMMARY_MAX 200
#define IMAP_DETAILS_MAX 4000

/* Engine job (server/outbox/engine.h). *state is NULL when IMAP is off; a bad configuration is
 * logged and leaves the job off (RC_INVALID). */
enum rc imap_start(struct app *app, struct db *db, void **state);
/* Polls when PLANTAO_IMAP_INTERVAL seconds have passed since the last poll, by now_ms. Network
 * trouble and failures to create an alert are logged once per streak and retried at the next
 * poll; they are not errors of the job (RC_OK). */
enum rc imap_run(struct app *app, struct db *db, void *state, int64_t now_ms);
void imap_stop(void *state);

/*
 * Appends the IMAP command "UID SEARCH [CHARSET UTF-8] UNSEEN [FROM "from"] [SUBJECT "subject"]"
 * to out; from and subject may be NULL or "" (no criterion). Quotes and backslashes are escaped;
 * RC_INVALID when a value holds a control character (no quoted string can carry it).
 */
enum rc imap_search_command(const char *from, const char *subject, struct buf *out);

/*
 * Collects the numbers of the untagged "* SEARCH n n n" responses in text[0..len) into uids
 * (at most max, in ascending order, duplicates dropped); *n gets how many.
 */
void imap_parse_search(const char *text, size_t len, uint32_t *uids, size_t max, size_t *n);

/*
 * In the response lines of one "UID FETCH uid (... BODY.PEEK[]...)" (as libcurl hands them to
 * its header callback) finds the message literal of uid: *lit points into stream, *lit_len is
 * its length, *size the message's RFC822.SIZE when the response has one (else 0).
 * RC_NOT_FOUND when no FETCH response with a literal is there; RC_UPSTREAM when the stream
 * ends before the literal does (a response cut short).
 */
enum rc imap_fetch_literal(const char *stream, size_t len, uint32_t uid, const char **lit, size_t *lit_len,
                           uint64_t *size);

#endif
