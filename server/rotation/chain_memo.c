/*
 * server/rotation/chain_memo.c — the support line's chain from memory while rotation_generation
 * keeps its value (see chain_memo.h). The memo is the rotation as rotation_load() read it for
 * [at - MEMO_BACK_S, at + MEMO_SPAN_S) and the people of the chains given since (up to
 * MEMO_PEOPLE: a chain that does not fit starts the list over); the chain itself is computed at
 * each call's own instant (schedule_backups), so a hand-off inside the hour needs no read.
 * Lookups share a read lock; what was read is put in under the write lock.
 */
#include "rotation/chain_memo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/people.h"
#include "db/rotation.h"
#include "rotation/schedule.h"

#define MEMO_SPAN_S 3600 /* the rotation is read for the hour after the instant asked */
#define MEMO_BACK_S 60   /* and the minute before: another thread's clock read a moment earlier */
#define MEMO_PEOPLE 32   /* numbers remembered; a chain that does not fit starts the list over */

_Static_assert(MEMO_PEOPLE >= ROTATION_CHAIN_MAX, "one chain's people fit in the memo");

struct memo_person {
	int64_t id;
	bool gone; /* archived, or deleted: left out of chains */
	char phone[sizeof((struct calls_link *)0)->phone];
};

struct chain_memo {
	pthread_rwlock_t lock;
	bool ok;
	int64_t generation, from, to; /* the rotation as read at `generation`, for [from, to) */
	struct rotation_snapshot snap;
	struct memo_person people[MEMO_PEOPLE];
	size_t n_people;
};

struct chain_memo *chain_memo_new(void)
{
	struct chain_memo *m = calloc(1, sizeof *m);

	if (m && pthread_rwlock_init(&m->lock, NULL) != 0) {
		free(m);
		m = NULL;
	}
	return m;
}

void chain_memo_free(struct chain_memo *m)
{
	if (!m)
		return;
	rotation_release(&m->snap);
	pthread_rwlock_destroy(&m->lock);
	free(m);
}

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

/* From the memo, with its lock held; false when it cannot answer. */
static bool from_memo(const struct chain_memo *m, int64_t generation, int64_t at, struct calls_link *out, size_t *n)
{
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t have = 0;
	enum rc rc;

	if (!m->ok || m->generation != generation || at < m->from || at >= m->to)
		return false;
	rc = schedule_backups(&m->snap.sched, at, ids, ROTATION_CHAIN_MAX, &have);
	if (rc == RC_NOT_FOUND) {
		*n = 0;
		return true;
	}
	return rc == RC_OK && links(ids, have, m->people, m->n_people, out, n);
}

/*
 * Keeps what was read at `generation` for the hour from `at` (snap, taken over, and the people of
 * one chain), with the write lock held. A memo of the same value and hour only learns the numbers
 * it lacked (its list starting over when they do not fit); one of the same value for a later hour
 * stays (a call of earlier, whose chain is stored late, does not move it back); any other gives
 * way.
 */
static void keep(struct chain_memo *m, int64_t generation, int64_t at, struct rotation_snapshot *snap,
                 const struct memo_person *people, size_t n_people)
{
	bool same = m->ok && m->generation == generation;
	size_t i, missing = 0;

	if (same && at < m->from)
		return;
	if (!same || at >= m->to) {
		rotation_release(&m->snap);
		m->snap = *snap;
		memset(snap, 0, sizeof *snap);
		m->generation = generation;
		m->from = at - MEMO_BACK_S;
		m->to = at + MEMO_SPAN_S;
		m->n_people = 0;
		m->ok = true;
	}
	for (i = 0; i < n_people; i++)
		if (!person_in(m->people, m->n_people, people[i].id))
			missing++;
	/* No room for this chain's people: the list starts over with them, so the chain just read
	 * is answered from memory again (an order of use would need a write at every lookup). */
	if (m->n_people + missing > MEMO_PEOPLE)
		m->n_people = 0;
	for (i = 0; i < n_people; i++)
		if (!person_in(m->people, m->n_people, people[i].id))
			m->people[m->n_people++] = people[i];
}

enum rc chain_memo_read(struct chain_memo *m, struct db *db, int64_t generation, int64_t at, struct calls_link *out,
                        size_t *n)
{
	struct memo_person people[ROTATION_CHAIN_MAX];
	struct rotation_snapshot snap;
	int64_t ids[ROTATION_CHAIN_MAX];
	size_t have = 0, i;
	bool hit = false, use = m && generation != ROTATION_GENERATION_UNKNOWN;
	enum rc rc;

	if (use) {
		pthread_rwlock_rdlock(&m->lock);
		hit = from_memo(m, generation, at, out, n);
		pthread_rwlock_unlock(&m->lock);
		if (hit)
			return RC_OK;
	}
	*n = 0;
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
		if (use) {
			pthread_rwlock_wrlock(&m->lock);
			keep(m, generation, at, &snap, people, have);
			pthread_rwlock_unlock(&m->lock);
		}
	}
	rotation_release(&snap);
	return rc;
}
