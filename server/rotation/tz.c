/*
 * server/rotation/tz.c — time zones through the C library and the system tz database.
 *
 * The C library's notion of "local time" is process-global (TZ, tzset()), so every function
 * here that needs a zone takes `lock`, points TZ at the zone file, converts with
 * localtime_r(), and puts TZ back before unlocking. Nothing else in plantao touches TZ (see
 * tz.h). Calendar arithmetic is done on "wall" seconds (days_from_civil), never with
 * week numbers or mktime() normalisation.
 */
#include "rotation/tz.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define VALID_CACHE    16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by lock: whether TZ has been put in environ, and zone names already checked. */
static bool env_ready;
static char valid_cache[VALID_CACHE][TZ_NAME_MAX + 1];
static unsigned valid_next;

/* ---- calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t tz_wall_from_civil(int year, int month, int day, int hour, int min, int sec)
{
	return days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ---- parsing ---- */

struct parsed {
	int64_t wall;    /* the date-time as written */
	bool date_only;  /* "YYYY-MM-DD" */
	bool has_offset; /* "Z" or an offset: absolute */
	long offset;     /* seconds east of UTC */
};

static bool digits(const char **s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		x = x * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*v = x;
	return true;
}

static enum rc parse_iso(const char *s, struct parsed *p)
{
	int y, mo, d, h, mi, sec = 0, oh, om = 0;
	long sign;

	memset(p, 0, sizeof(*p));
	if (!s)
		return RC_INVALID;
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' || !digits(&s, 2, &d))
		return RC_INVALID;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return RC_INVALID;
	if (*s == '\0') {
		p->date_only = true;
		p->wall = tz_wall_from_civil(y, mo, d, 0, 0, 0);
		return RC_OK;
	}
	if (*s != 'T' && *s != 't' && *s != ' ')
		return RC_INVALID;
	s++;
	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
		return RC_INVALID;
	if (*s == ':') {
		s++;
		if (!digits(&s, 2, &sec))
			return RC_INVALID;
		if (*s == '.' || *s == ',') {
			s++;
			if (*s < '0' || *s > '9')
				return RC_INVALID;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (h > 23 || mi > 59 || sec > 59)
		return RC_INVALID;
	p->wall = tz_wall_from_civil(y, mo, d, h, mi, sec);
	if (*s == '\0')
		return RC_OK;
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		p->has_offset = true;
		return RC_OK;
	}
	if (*s != '+' && *s != '-')
		return RC_INVALID;
	sign = *s++ == '-' ? -1 : 1;
	if (!digits(&s, 2, &oh))
		return RC_INVALID;
	if (*s == ':')
		s++;
	if (*s != '\0' && !digits(&s, 2, &om))
		return RC_INVALID;
	if (*s != '\0' || oh > 18 || om > 59)
		return RC_INVALID;
	p->has_offset = true;
	p->offset = sign * (oh * 3600L + om * 60L);
	return RC_OK;
}

enum rc tz_parse_local(const char *iso_local, int64_t *wall)
{
	struct parsed p;
	enum rc rc = parse_iso(iso_local, &p);

	if (rc != RC_OK)
		return rc;
	if (p.date_only || p.has_offset)
		return RC_INVALID;
	*wall = p.wall;
	return RC_OK;
}

/* ---- zone names ---- */

static bool name_is_safe(const char *name)
{
	size_t i, len, comp = 0;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || name[0] == '-')
		return false;
	for (i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '/' || c == '\0') {
			/* an empty component ("a//b", trailing '/'); '.' is refused below,
			 * which rules out "." and ".." */
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '+' || c == '-'))
			return false;
		comp++;
	}
	return true;
}

/* Opens the zone file and checks its magic. Needs no lock: it reads only TZDIR. */
static bool zone_file_ok(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX], magic[4];
	struct stat st;
	int fd, n;
	bool ok = false;

	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 && memcmp(magic, "TZif", 4) == 0)
		ok = true;
	close(fd);
	return ok;
}

/* Caller holds lock. */
static bool cached_valid(const char *name)
{
	unsigned i;

	for (i = 0; i < VALID_CACHE; i++)
		if (strcmp(valid_cache[i], name) == 0)
			return true;
	return false;
}

bool tz_is_valid(const char *name)
{
	bool ok;

	if (!name_is_safe(name))
		return false;
	pthread_mutex_lock(&lock);
	ok = cached_valid(name);
	pthread_mutex_unlock(&lock);
	if (ok)
		return true;
	if (!zone_file_ok(name))
		return false;
	pthread_mutex_lock(&lock);
	if (!cached_valid(name)) {
		snprintf(valid_cache[valid_next], sizeof(valid_cache[0]), "%s", name);
		valid_next = (valid_next + 1) % VALID_CACHE;
	}
	pthread_mutex_unlock(&lock);
	return true;
}

/* ---- the zone switch ---- */

/* Caller holds lock. With TZ unset glibc reads /etc/localtime; naming that file keeps the
 * same meaning while letting later switches overwrite TZ in place. */
static void ensure_env(void)
{
	if (env_ready)
		return;
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 1);
	env_ready = true;
}

void tz_init(void)
{
	pthread_mutex_lock(&lock);
	ensure_env();
	pthread_mutex_unlock(&lock);
}

/*
 * Takes lock and points the C library at zone tz; *saved receives the previous TZ value to
 * hand to leave(). On failure the lock is not held.
 */
static enum rc enter(const char *tz, char **saved)
{
	char val[TZ_NAME_MAX + 2];
	const char *old;

	*saved = NULL;
	if (!tz_is_valid(tz))
		return RC_INVALID;
	snprintf(val, sizeof(val), ":%s", tz);
	pthread_mutex_lock(&lock);
	ensure_env();
	old = getenv("TZ");
	*saved = strdup(old ? old : ":/etc/localtime");
	if (!*saved) {
		pthread_mutex_unlock(&lock);
		return RC_INTERNAL;
	}
	if (strcmp(old ? old : "", val) != 0 && setenv("TZ", val, 1) != 0) {
		free(*saved);
		*saved = NULL;
		pthread_mutex_unlock(&lock);
		return RC_INTERNAL;
	}
	tzset();
	return RC_OK;
}

static void leave(char *saved)
{
	const char *cur = getenv("TZ");

	if (!cur || strcmp(cur, saved) != 0) {
		setenv("TZ", saved, 1);
		tzset();
	}
	free(saved);
	pthread_mutex_unlock(&lock);
}

/* ---- conversions (caller holds lock, TZ set) ---- */

static bool in_range(int64_t t)
{
	return t >= TZ_MIN_SECONDS && t <= TZ_MAX_SECONDS;
}

/* UTC offset at instant t, or LONG_MIN when the C library cannot say. */
static long offset_at(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return LONG_MIN;
	return tm.tm_gmtoff;
}

/*
 * The instant of wall time w. Candidates are w minus each offset in force within a day of
 * it; a candidate is real when the offset at that instant is the one assumed. Several: the
 * wall time is ambiguous, take the earliest. None: it is in a gap, whose end is found by
 * bisection between the instants computed with the offsets before and after.
 */
static enum rc resolve(int64_t w, int64_t *out)
{
	long cand[3], lo_off = LONG_MAX, hi_off = LONG_MIN, base;
	int64_t best = INT64_MAX, lo, hi, mid;
	int i;

	cand[0] = offset_at(w - 86400);
	cand[1] = offset_at(w);
	cand[2] = offset_at(w + 86400);
	for (i = 0; i < 3; i++) {
		if (cand[i] == LONG_MIN)
			return RC_INVALID;
		if (cand[i] < lo_off)
			lo_off = cand[i];
		if (cand[i] > hi_off)
			hi_off = cand[i];
		if (offset_at(w - cand[i]) == cand[i] && w - cand[i] < best)
			best = w - cand[i];
	}
	if (best != INT64_MAX) {
		*out = best;
		return RC_OK;
	}
	lo = w - hi_off;
	hi = w - lo_off;
	base = offset_at(lo);
	if (offset_at(hi) == base) { /* cannot happen with sane zone data */
		*out = w - cand[1];
		return RC_OK;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (offset_at(mid) == base)
			lo = mid;
		else
			hi = mid;
	}
	*out = hi;
	return RC_OK;
}

enum rc tz_walls_to_utc(const char *tz, const int64_t *walls, size_t n, int64_t *out)
{
	char *saved;
	enum rc rc = RC_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (!in_range(walls[i]))
			return RC_INVALID;
	rc = enter(tz, &saved);
	if (rc != RC_OK)
		return rc;
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = resolve(walls[i], &out[i]);
	leave(saved);
	return rc;
}

enum rc tz_wall_to_utc(const char *tz, int64_t wall, int64_t *out)
{
	return tz_walls_to_utc(tz, &wall, 1, out);
}

enum rc tz_utc_to_local(const char *tz, int64_t t, struct tm *out)
{
	time_t tt = (time_t)t;
	char *saved;
	enum rc rc;

	if (!in_range(t))
		return RC_INVALID;
	rc = enter(tz, &saved);
	if (rc != RC_OK)
		return rc;
	if (!localtime_r(&tt, out))
		rc = RC_INVALID;
	else
		out->tm_zone = NULL;
	leave(saved);
	return rc;
}

enum rc tz_utc_to_wall(const char *tz, int64_t t, int64_t *wall, long *gmtoff)
{
	struct tm tm;
	enum rc rc = tz_utc_to_local(tz, t, &tm);

	if (rc != RC_OK)
		return rc;
	*wall = t + tm.tm_gmtoff;
	if (gmtoff)
		*gmtoff = tm.tm_gmtoff;
	return RC_OK;
}

enum rc tz_format_iso(const char *tz, int64_t t, char *out, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	long off, a;
	int n;
	enum rc rc = tz_utc_to_local(tz, t, &tm);

	if (rc != RC_OK)
		return rc;
	off = tm.tm_gmtoff;
	if (off % 60 != 0) {
		gmtime_r(&tt, &tm);
		n = snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		             tm.tm_hour, tm.tm_min, tm.tm_sec);
	} else {
		a = off < 0 ? -off : off;
		n = snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
		             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', a / 3600,
		             a % 3600 / 60);
	}
	if (n < 0 || (size_t)n >= len)
		return RC_TOO_BIG;
	return RC_OK;
}

enum rc tz_local_to_utc(const char *tz, const char *iso_local, int64_t *out)
{
	struct parsed p;
	enum rc rc = parse_iso(iso_local, &p);

	if (rc != RC_OK)
		return rc;
	if (p.date_only)
		return RC_INVALID;
	if (p.has_offset) {
		if (!in_range(p.wall - p.offset))
			return RC_INVALID;
		*out = p.wall - p.offset;
		return RC_OK;
	}
	return tz_wall_to_utc(tz, p.wall, out);
}

enum rc tz_parse_instant(const char *tz, const char *text, int64_t *out)
{
	struct parsed p;
	enum rc rc = parse_iso(text, &p);

	if (rc != RC_OK)
		return rc;
	if (p.has_offset) {
		if (!in_range(p.wall - p.offset))
			return RC_INVALID;
		*out = p.wall - p.offset;
		return RC_OK;
	}
	return tz_wall_to_utc(tz, p.wall, out);
}

enum rc tz_local_add_hours(const char *tz, const char *iso_local, int64_t hours, int64_t *out)
{
	int64_t wall;
	enum rc rc = tz_parse_local(iso_local, &wall);

	if (rc != RC_OK)
		return rc;
	if (hours > (TZ_MAX_SECONDS - TZ_MIN_SECONDS) / 3600 || hours < -(TZ_MAX_SECONDS - TZ_MIN_SECONDS) / 3600)
		return RC_INVALID;
	return tz_wall_to_utc(tz, wall + hours * 3600, out);
}
