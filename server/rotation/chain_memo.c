/*
 * server/rotation/chain_memo.c — the support line's chain from memory while rotation_generation
 * is unchanged (see chain_memo.h).
 */
#include "rotation/chain_memo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "db/people.h"
#include "db/rotation.h"
#include "rotation/schedule.h"

#define MEMO_SPAN_S 3600 /* the rotation is read for the hour after the instant asked */
#define MEMO_BACK_S 60   /* and the minute before: another thread's clock read a moment earlier */
#define MEMO_PEOPLE 32   /* numbers remembered; more people than that are read again */

struct memo_person {
	int64_t id;
	bool gone; /* archived, or deleted: left out of chains */
	char phone[sizeof((struct calls_link *)0)->phone];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool ok;
	int64_t generation, from, to; /* the rotation as read at `generation`, for [from, to) */
	struct rotation_snapshot snap;
	struct memo_person people[MEMO_PEOPLE];
	size_t n_people;
} memo;

static const struct memo_person *person_in(const struct memo_person *people, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (people[i].id == id)
			return &people[i];
	return NULL;
}

/* The chain of ids into out from people (ids in chain order); false when someone is not there. */
static bool links(const int64_t *ids, size_t have, const struct memo_person *people, size_t n_people,
                  struct calls_link *out, size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < have; i++) {
		const struct memo_person *p = person_in(people, n_people, ids[i]);

		if (!p)
			return false;
		if (p->gone)
			continue;
		out[*n].person_id = p->id;
		snprintf(out[*n].phone, sizeof out[*n].phone, "%s", p->phone);
		(*n)++;
	}
	return true;
}

/* From the memo, with the lock held; false when it cannot answer. */
static bool from_memo(int64_t generation, int64_t at, struct calls_link *out, size_t *n)
{
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t have = 0;
	enum rc rc;

	if (!memo.ok || memo.generation != generation || at < memo.from || at >= memo.to)
		return false;
	rc = schedule_backups(&memo.snap.sched, at, ids, ROTATION_CHAIN_MAX, &have);
	if (rc == RC_NOT_FOUND) {
		*n = 0;
		return true;
	}
	return rc == RC_OK && links(ids, have, memo.people, memo.n_people, out, n);
}

/*
 * Keeps what was read at `generation` (snap, taken over, and the people of one chain), with the
 * lock held. A memo of a later generation stays (this reader's data may be older than it); one of
 * the same generation and hour only learns the numbers it lacked.
 */
static void keep(int64_t generation, int64_t at, struct rotation_snapshot *snap, const struct memo_person *people,
                 size_t n_people)
{
	size_t i;

	if (memo.ok && memo.generation > generation)
		return;
	if (!(memo.ok && memo.generation == generation && at >= memo.from && at < memo.to)) {
		/* a memo of the same generation for another hour gives way too */
		rotation_release(&memo.snap);
		memo.snap = *snap;
		memset(snap, 0, sizeof *snap);
		memo.generation = generation;
		memo.from = at - MEMO_BACK_S;
		memo.to = at + MEMO_SPAN_S;
		memo.n_people = 0;
		memo.ok = true;
	}
	for (i = 0; i < n_people && memo.n_people < MEMO_PEOPLE; i++)
		if (!person_in(memo.people, memo.n_people, people[i].id))
			memo.people[memo.n_people++] = people[i];
}

enum rc chain_memo_read(struct db *db, int64_t generation, int64_t at, struct calls_link *out, size_t *n)
{
	struct memo_person people[ROTATION_CHAIN_MAX];
	struct rotation_snapshot snap;
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t have = 0, i;
	bool hit;
	enum rc rc;

	*n = 0;
	pthread_mutex_lock(&lock);
	hit = from_memo(generation, at, out, n);
	pthread_mutex_unlock(&lock);
	if (hit)
		return RC_OK;
	rc = rotation_load(db, at - MEMO_BACK_S, at + MEMO_SPAN_S, &snap);
	if (rc == RC_OK)
		rc = schedule_backups(&snap.sched, at, ids, ROTATION_CHAIN_MAX, &have);
	if (rc == RC_NOT_FOUND) {
		rc = RC_OK;
		have = 0;
	}
	for (i = 0; rc == RC_OK && i < have; i++) {
		struct person p;

		rc = people_get(db, ids[i], &p);
		people[i].id = ids[i];
		people[i].gone = rc == RC_NOT_FOUND;
		snprintf(people[i].phone, sizeof people[i].phone, "%s", rc == RC_OK ? p.phone : "");
		if (rc == RC_NOT_FOUND)
			rc = RC_OK;
	}
	if (rc == RC_OK) {
		links(ids, have, people, have, out, n);
		pthread_mutex_lock(&lock);
		keep(generation, at, &snap, people, have);
		pthread_mutex_unlock(&lock);
	}
	rotation_release(&snap);
	return rc;
}

void chain_memo_forget(void)
{
	pthread_mutex_lock(&lock);
	rotation_release(&memo.snap);
	memset(&memo, 0, sizeof memo);
	pthread_mutex_unlock(&lock);
}
