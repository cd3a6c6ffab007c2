/*
 * server/rotation/schedule.c — rotation shifts, version changes and overrides (model in schedule.h).
 *
 * How a question is answered:
 * 1. Each version is checked and turned into a `struct ver`: wall time of the handoff,
 *    step in seconds, and the interval [begin, end) in which it applies.
 * 2. Rotation segments: for each version, shift k containing an instant is found by
 *    estimating from the wall clock and correcting by ±1 against real boundaries; then
 *    boundaries k, k+1, … are converted in batches (one zone switch per batch, tz.c).
 *    Segments are shifts clipped to the version's interval.
 * 3. Pieces: the boundaries of segments and overrides cut time into elementary intervals;
 *    each gets a winner (highest-id override covering it, else its rotation segment) and
 *    runs of the same winner are joined back into pieces. Segments are made only where no
 *    override covers the window, so an override to 2099 over one-hour shifts costs nothing.
 * 4. "Who is on call at t" does not sweep at all: the winning override (or the one shift
 *    containing t) is cut by the override boundaries nearest to t. Its cost depends on the
 *    number of overrides loaded, never on how long they or the rotation last.
 */
#include "rotation/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "rotation/tz.h"

#define MAX_SEGMENTS (4 * SCHEDULE_MAX_SHIFTS) /* intermediate arrays */
#define BATCH        256                       /* boundaries converted per zone switch */
#define FOREVER      TZ_MAX_SECONDS

struct ver {
	const struct schedule_version *v;
	int64_t wall0; /* wall time of the handoff (start of shift 0) */
	int64_t step;  /* shift length on the clock face, seconds */
	int64_t begin; /* applies in [begin, end) */
	int64_t end;
};

struct seg {
	int64_t start, end;
	int64_t person_id;
	int64_t version_id;
};

struct segs {
	struct seg *a;
	size_t n, alloc;
};

struct ctx {
	const struct schedule *s;
	struct ver *vers;
	size_t n_vers;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static size_t member_index(int64_t k, size_t n)
{
	int64_t m = k % (int64_t)n;

	return (size_t)(m < 0 ? m + (int64_t)n : m);
}

static bool instant_ok(int64_t t)
{
	return t >= TZ_MIN_SECONDS && t <= TZ_MAX_SECONDS;
}

static void ctx_release(struct ctx *c)
{
	free(c->vers);
	c->vers = NULL;
}

static enum rc ctx_init(struct ctx *c, const struct schedule *s)
{
	size_t i;

	c->s = s;
	c->vers = NULL;
	c->n_vers = s->n_versions;
	if ((s->n_versions && !s->versions) || (s->n_overrides && !s->overrides))
		return RC_INVALID;
	for (i = 0; i < s->n_overrides; i++) {
		const struct schedule_override *o = &s->overrides[i];

		if (o->start >= o->end || !instant_ok(o->start) || !instant_ok(o->end))
			return RC_INVALID;
	}
	if (!s->n_versions)
		return RC_OK;
	c->vers = calloc(s->n_versions, sizeof(*c->vers));
	if (!c->vers)
		return RC_INTERNAL;
	for (i = 0; i < s->n_versions; i++) {
		const struct schedule_version *v = &s->versions[i];
		struct ver *w = &c->vers[i];

		if (v->shift_hours < 1 || v->shift_hours > SCHEDULE_MAX_SHIFT_HOURS || !instant_ok(v->effective_at) ||
		    (v->n_members && !v->members) || (i > 0 && v->effective_at < s->versions[i - 1].effective_at) ||
		    !tz_is_valid(v->timezone) || tz_parse_local(v->handoff, &w->wall0) != RC_OK) {
			ctx_release(c);
			return RC_INVALID;
		}
		w->v = v;
		w->step = (int64_t)v->shift_hours * 3600;
		w->begin = v->effective_at;
		w->end = i + 1 < s->n_versions ? s->versions[i + 1].effective_at : FOREVER;
	}
	return RC_OK;
}

/* Index of the version in force at t, or -1 before the first. */
static long ver_at(const struct ctx *c, int64_t t)
{
	long i;

	for (i = (long)c->n_vers - 1; i >= 0; i--)
		if (c->vers[i].begin <= t)
			return i;
	return -1;
}

/* Start instants of shifts k .. k+count-1 of w. */
static enum rc starts(const struct ver *w, int64_t k, size_t count, int64_t *out)
{
	int64_t walls[BATCH + 1];
	int64_t lim = (TZ_MAX_SECONDS - TZ_MIN_SECONDS) / w->step + 2;
	size_t i;

	if (count > BATCH + 1 || k > lim || k < -lim)
		return RC_INVALID;
	for (i = 0; i < count; i++)
		walls[i] = w->wall0 + (k + (int64_t)i) * w->step;
	return tz_walls_to_utc(w->v->timezone, walls, count, out);
}

/*
 * Shift k of w containing instant t: start(k) <= t < start(k+1). The wall clock gives k
 * exactly except near a DST gap or fold, where one or two corrections settle it.
 */
static enum rc find_k(const struct ver *w, int64_t t, int64_t *k, int64_t *start)
{
	int64_t wall, b[2];
	enum rc rc;
	int tries;

	rc = tz_utc_to_wall(w->v->timezone, t, &wall, NULL);
	if (rc != RC_OK)
		return rc;
	*k = floor_div(wall - w->wall0, w->step);
	for (tries = 0; tries < 64; tries++) {
		rc = starts(w, *k, 2, b);
		if (rc != RC_OK)
			return rc;
		if (b[0] > t)
			(*k)--;
		else if (b[1] <= t)
			(*k)++;
		else {
			*start = b[0];
			return RC_OK;
		}
	}
	return RC_INTERNAL;
}

static enum rc segs_push(struct segs *g, const struct seg *x)
{
	struct seg *p;
	size_t n;

	/* a segment straddling an override is met from the gaps on both sides: keep it once */
	if (g->n && x->start < g->a[g->n - 1].end)
		return RC_OK;
	if (g->n >= MAX_SEGMENTS)
		return RC_TOO_BIG;
	if (g->n == g->alloc) {
		n = g->alloc ? g->alloc * 2 : 64;
		p = realloc(g->a, n * sizeof(*p));
		if (!p)
			return RC_INTERNAL;
		g->a = p;
		g->alloc = n;
	}
	g->a[g->n++] = *x;
	return RC_OK;
}

/* Appends the rotation segments of w overlapping [lo, hi), in order. */
static enum rc ver_segments(const struct ver *w, int64_t lo, int64_t hi, struct segs *g)
{
	int64_t a = w->begin > lo ? w->begin : lo, b = w->end < hi ? w->end : hi;
	int64_t k, first, st[BATCH + 1], m;
	struct seg x;
	size_t i;
	enum rc rc;

	if (a >= b || w->v->n_members == 0)
		return RC_OK;
	rc = find_k(w, a, &k, &first);
	if (rc != RC_OK)
		return rc;
	for (;;) {
		/* enough boundaries to reach b if shifts had their nominal length */
		m = (b - first) / w->step + 2;
		if (m > BATCH)
			m = BATCH;
		rc = starts(w, k, (size_t)m + 1, st);
		if (rc != RC_OK)
			return rc;
		for (i = 0; i < (size_t)m; i++) {
			if (st[i] >= b)
				return RC_OK;
			x.start = st[i] > w->begin ? st[i] : w->begin;
			x.end = st[i + 1] < w->end ? st[i + 1] : w->end;
			x.person_id = w->v->members[member_index(k + (int64_t)i, w->v->n_members)];
			x.version_id = w->v->id;
			if (x.start < x.end) {
				rc = segs_push(g, &x);
				if (rc != RC_OK)
					return rc;
			}
		}
		k += m;
		first = st[m];
	}
}

/* All rotation segments overlapping [lo, hi), in time order. */
static enum rc rotation_segments(const struct ctx *c, int64_t lo, int64_t hi, struct segs *g)
{
	size_t i;
	enum rc rc;

	for (i = 0; i < c->n_vers; i++) {
		rc = ver_segments(&c->vers[i], lo, hi, g);
		if (rc != RC_OK)
			return rc;
	}
	return RC_OK;
}

struct span {
	int64_t start, end;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/*
 * The rotation segments overlapping the parts of [lo, hi) that no override covers, in time
 * order, each once. Under an override the rotation cannot show, so its shifts are never made:
 * the work is bounded by the uncovered time, not by the window or the overrides' length.
 */
static enum rc uncovered_segments(const struct ctx *c, int64_t lo, int64_t hi, struct segs *g)
{
	const struct schedule *s = c->s;
	struct span *sp = NULL;
	size_t n = 0, i;
	int64_t at = lo;
	enum rc rc = RC_OK;

	if (s->n_overrides) {
		sp = malloc(s->n_overrides * sizeof(*sp));
		if (!sp)
			return RC_INTERNAL;
	}
	for (i = 0; i < s->n_overrides; i++)
		if (s->overrides[i].end > lo && s->overrides[i].start < hi) {
			sp[n].start = s->overrides[i].start;
			sp[n].end = s->overrides[i].end;
			n++;
		}
	if (n)
		qsort(sp, n, sizeof(*sp), cmp_span);
	for (i = 0; i <= n && at < hi && rc == RC_OK; i++) {
		int64_t gap_end = i < n && sp[i].start < hi ? sp[i].start : hi;

		if (gap_end > at)
			rc = rotation_segments(c, at, gap_end, g);
		if (i < n && sp[i].end > at)
			at = sp[i].end;
	}
	free(sp);
	return rc;
}

/* The highest-id override covering [p, q), or NULL. */
static const struct schedule_override *winner(const struct schedule *s, int64_t p, int64_t q)
{
	const struct schedule_override *best = NULL;
	size_t i;

	for (i = 0; i < s->n_overrides; i++) {
		const struct schedule_override *o = &s->overrides[i];

		if (o->start <= p && o->end >= q && (!best || o->id > best->id))
			best = o;
	}
	return best;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void add_point(int64_t *pts, size_t *n, int64_t p, int64_t lo, int64_t hi)
{
	if (p >= lo && p <= hi)
		pts[(*n)++] = p;
}

/* Appends piece x to res if it overlaps [from, to). */
static enum rc emit(struct schedule_shift *res, size_t *n, const struct schedule_shift *x, int64_t from, int64_t to)
{
	if (x->end <= from || x->start >= to)
		return RC_OK;
	if (*n == SCHEDULE_MAX_SHIFTS)
		return RC_TOO_BIG;
	res[(*n)++] = *x;
	return RC_OK;
}

static enum rc pieces(const struct ctx *c, int64_t from, int64_t to, struct schedule_shift **out, size_t *n_out)
{
	const struct schedule *s = c->s;
	const struct schedule_override *o;
	struct segs g = {0};
	struct schedule_shift *res = NULL, cur, x;
	int64_t lo = from, hi = to, *pts = NULL, p, q;
	size_t n_pts = 0, i, j = 0, n_res = 0;
	bool have = false, same;
	long vi;
	enum rc rc;

	*out = NULL;
	*n_out = 0;
	memset(&cur, 0, sizeof(cur));
	/* Widen the window to the underlying intervals of the pieces at its two ends, so
	 * those pieces get their true extent. */
	o = winner(s, from, from + 1);
	if (o && o->start < lo)
		lo = o->start;
	o = winner(s, to - 1, to);
	if (o && o->end > hi)
		hi = o->end;
	rc = uncovered_segments(c, lo, hi, &g);
	if (rc != RC_OK)
		goto out;
	if (g.n && g.a[0].start < lo)
		lo = g.a[0].start;
	if (g.n && g.a[g.n - 1].end > hi)
		hi = g.a[g.n - 1].end;

	rc = RC_TOO_BIG;
	if (s->n_overrides > MAX_SEGMENTS)
		goto out;
	rc = RC_INTERNAL;
	pts = malloc((2 + 2 * g.n + 2 * s->n_overrides) * sizeof(*pts));
	res = malloc(SCHEDULE_MAX_SHIFTS * sizeof(*res));
	if (!pts || !res)
		goto out;
	add_point(pts, &n_pts, lo, lo, hi);
	add_point(pts, &n_pts, hi, lo, hi);
	for (i = 0; i < g.n; i++) {
		add_point(pts, &n_pts, g.a[i].start, lo, hi);
		add_point(pts, &n_pts, g.a[i].end, lo, hi);
	}
	for (i = 0; i < s->n_overrides; i++) {
		add_point(pts, &n_pts, s->overrides[i].start, lo, hi);
		add_point(pts, &n_pts, s->overrides[i].end, lo, hi);
	}
	qsort(pts, n_pts, sizeof(*pts), cmp_i64);

	rc = RC_OK;
	for (i = 0; i + 1 < n_pts && rc == RC_OK; i++) {
		p = pts[i];
		q = pts[i + 1];
		if (p == q)
			continue;
		while (j < g.n && g.a[j].end <= p)
			j++;
		memset(&x, 0, sizeof(x));
		x.start = p;
		x.end = q;
		o = winner(s, p, q);
		if (o) {
			vi = ver_at(c, p);
			x.person_id = o->person_id;
			x.is_override = true;
			x.override_id = o->id;
			x.version_id = vi >= 0 ? c->vers[vi].v->id : 0;
			same = have && cur.end == p && cur.is_override && cur.override_id == o->id;
		} else if (j < g.n && g.a[j].start <= p) {
			x.person_id = g.a[j].person_id;
			x.version_id = g.a[j].version_id;
			/* a rotation piece ending at p inside segment j is segment j */
			same = have && cur.end == p && !cur.is_override && g.a[j].start < p;
		} else {
			/* nobody on call here */
			if (have)
				rc = emit(res, &n_res, &cur, from, to);
			have = false;
			continue;
		}
		if (same) {
			cur.end = q;
			continue;
		}
		if (have)
			rc = emit(res, &n_res, &cur, from, to);
		cur = x;
		have = true;
	}
	if (rc == RC_OK && have)
		rc = emit(res, &n_res, &cur, from, to);
out:
	free(g.a);
	free(pts);
	if (rc == RC_OK && n_res) {
		*out = res;
		*n_out = n_res;
	} else {
		free(res);
	}
	return rc;
}

enum rc schedule_shifts(const struct schedule *s, int64_t from, int64_t to, struct schedule_shift **out, size_t *n)
{
	struct ctx c;
	enum rc rc;

	*out = NULL;
	*n = 0;
	if (from >= to || !instant_ok(from) || !instant_ok(to))
		return RC_INVALID;
	rc = ctx_init(&c, s);
	if (rc != RC_OK)
		return rc;
	rc = pieces(&c, from, to, out, n);
	ctx_release(&c);
	return rc;
}

/*
 * The piece containing at, without a sweep: the highest-id override covering at, cut by the
 * newer overrides nearest to at on each side; else the rotation shift containing at (clipped
 * to its version), cut by the overrides nearest to at. Same answer as pieces() over any
 * window containing at (tests/unit/rotation/test_schedule.c checks both against each other).
 */
static enum rc oncall(const struct ctx *c, int64_t at, struct schedule_shift *out)
{
	const struct schedule *s = c->s;
	const struct schedule_override *o = winner(s, at, at + 1);
	int64_t lo, hi, k, b[2];
	long vi = ver_at(c, at);
	size_t i;
	enum rc rc;

	memset(out, 0, sizeof(*out));
	if (o) {
		lo = o->start;
		hi = o->end;
	} else {
		const struct ver *w;

		if (vi < 0 || c->vers[vi].v->n_members == 0)
			return RC_NOT_FOUND;
		w = &c->vers[vi];
		rc = find_k(w, at, &k, &b[0]);
		if (rc == RC_OK)
			rc = starts(w, k, 2, b);
		if (rc != RC_OK)
			return rc;
		lo = b[0] > w->begin ? b[0] : w->begin;
		hi = b[1] < w->end ? b[1] : w->end;
		out->person_id = w->v->members[member_index(k, w->v->n_members)];
		out->version_id = w->v->id;
	}
	for (i = 0; i < s->n_overrides; i++) {
		const struct schedule_override *x = &s->overrides[i];

		if (o && x->id <= o->id)
			continue; /* older overrides never cut the winner */
		if (x->end <= at && x->end > lo)
			lo = x->end;
		if (x->start > at && x->start < hi)
			hi = x->start;
	}
	out->start = lo;
	out->end = hi;
	if (o) {
		vi = ver_at(c, lo);
		out->person_id = o->person_id;
		out->is_override = true;
		out->override_id = o->id;
		out->version_id = vi >= 0 ? c->vers[vi].v->id : 0;
	}
	return RC_OK;
}

enum rc schedule_oncall(const struct schedule *s, int64_t at, struct schedule_shift *out)
{
	struct ctx c;
	enum rc rc;

	if (!instant_ok(at) || !instant_ok(at + 1))
		return RC_INVALID;
	rc = ctx_init(&c, s);
	if (rc != RC_OK)
		return rc;
	rc = oncall(&c, at, out);
	ctx_release(&c);
	return rc;
}

static bool has_other(const struct schedule_version *v, bool have, int64_t person)
{
	size_t i;

	for (i = 0; i < v->n_members; i++)
		if (!have || v->members[i] != person)
			return true;
	return false;
}

/* Scans the shifts of version vi from shift k on (clipped to the version) for one whose
 * person differs; at most n_members + 1 shifts, which covers every member. */
static enum rc scan_version(const struct ver *w, int64_t k, bool have, int64_t person, int64_t limit,
                            struct schedule_shift *out, bool *found)
{
	size_t n = w->v->n_members, i;
	int64_t st[2];
	enum rc rc;

	*found = false;
	for (i = 0; i <= n; i++, k++) {
		int64_t p = w->v->members[member_index(k, n)], a, b;

		rc = starts(w, k, 2, st);
		if (rc != RC_OK)
			return rc;
		a = st[0] > w->begin ? st[0] : w->begin;
		b = st[1] < w->end ? st[1] : w->end;
		if (a >= w->end || a >= limit)
			return RC_OK;
		if (a < b && (!have || p != person)) {
			memset(out, 0, sizeof(*out));
			out->start = a;
			out->end = b;
			out->person_id = p;
			out->version_id = w->v->id;
			*found = true;
			return RC_OK;
		}
	}
	return RC_OK;
}

enum rc schedule_next(const struct schedule *s, int64_t at, struct schedule_shift *out)
{
	struct schedule_shift now;
	struct ctx c;
	int64_t limit, k, first;
	bool have, found = false;
	long vi;
	size_t i;
	enum rc rc;

	if (!instant_ok(at) || !instant_ok(at + SCHEDULE_LOOKAHEAD))
		return RC_INVALID;
	rc = ctx_init(&c, s);
	if (rc != RC_OK)
		return rc;
	rc = oncall(&c, at, &now);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		goto out;
	have = rc == RC_OK;
	limit = at + SCHEDULE_LOOKAHEAD;
	vi = ver_at(&c, at);
	for (i = vi < 0 ? 0 : (size_t)vi; i < c.n_vers && !found; i++) {
		const struct ver *w = &c.vers[i];

		if (w->begin >= limit)
			break;
		if (w->begin >= w->end || !has_other(w->v, have, now.person_id))
			continue;
		if ((long)i == vi) {
			/* the shift after the one containing at */
			rc = find_k(w, at, &k, &first);
			if (rc != RC_OK)
				goto out;
			k++;
		} else {
			/* the version's first (clipped) shift */
			rc = find_k(w, w->begin, &k, &first);
			if (rc != RC_OK)
				goto out;
		}
		rc = scan_version(w, k, have, now.person_id, limit, out, &found);
		if (rc != RC_OK)
			goto out;
	}
	rc = found ? RC_OK : RC_NOT_FOUND;
out:
	ctx_release(&c);
	return rc;
}

static bool contains(const int64_t *a, size_t n, int64_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] == x)
			return true;
	return false;
}

enum rc schedule_backups(const struct schedule *s, int64_t at, int64_t *people, size_t max, size_t *n)
{
	struct schedule_shift now;
	struct ctx c;
	int64_t k, first;
	long vi;
	size_t i;
	enum rc rc;

	*n = 0;
	if (!instant_ok(at) || !instant_ok(at + 1))
		return RC_INVALID;
	rc = ctx_init(&c, s);
	if (rc != RC_OK)
		return rc;
	rc = oncall(&c, at, &now);
	if (rc != RC_OK && rc != RC_NOT_FOUND)
		goto out;
	if (rc == RC_OK && *n < max)
		people[(*n)++] = now.person_id;
	vi = ver_at(&c, at);
	if (vi >= 0 && c.vers[vi].v->n_members) {
		const struct ver *w = &c.vers[vi];

		rc = find_k(w, at, &k, &first);
		if (rc != RC_OK)
			goto out;
		for (i = 1; i <= w->v->n_members && *n < max; i++) {
			int64_t p = w->v->members[member_index(k + (int64_t)i, w->v->n_members)];

			if (!contains(people, *n, p))
				people[(*n)++] = p;
		}
	}
	rc = *n ? RC_OK : RC_NOT_FOUND;
out:
	ctx_release(&c);
	return rc;
}
