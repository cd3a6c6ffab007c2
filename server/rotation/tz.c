/*
 * server/rotation/tz.c — time zones from the system tz database, read and computed here.
 *
 * Each zone file (TZif, RFC 8536, under $TZDIR or /usr/share/zoneinfo) is read and parsed
 * once, on first use, and kept for the life of the process; conversions are then plain
 * arithmetic on the parsed transitions and, past the last one, on the file's POSIX TZ footer.
 * Nothing here touches TZ, tzset() or localtime(): the answers are the ones glibc's
 * localtime_r() gives for the same file (tests/unit/rotation/test_tz.c compares them over
 * many instants and every transition), without re-reading files or a process-wide lock on
 * the hot path. Calendar arithmetic is done on "wall" seconds (days_from_civil), never with
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
#define TZ_FILE_MAX    (256 * 1024) /* the largest zone file in tzdata is under 4 KiB */
#define TZ_TRANS_MAX   4096

/* Guards the list of parsed zones. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Calendar fields of wall time w (the inverse of days_from_civil, Hinnant's civil_from_days). */
static void civil_from_wall(int64_t w, int64_t *y, int *m, int *d)
{
	int64_t z = floor_div(w, 86400) + 719468, era, doe, yoe, doy, mp;

	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t civil_year(int64_t w)
{
	int64_t y;
	int m, d;

	civil_from_wall(w, &y, &m, &d);
	return y;
}

/* struct tm of wall time w (tm_isdst, tm_gmtoff and tm_zone left to the caller). */
static void civil_tm(int64_t w, struct tm *tm)
{
	int64_t y, days = floor_div(w, 86400), secs = w - days * 86400;
	int m, d;

	memset(tm, 0, sizeof(*tm));
	civil_from_wall(w, &y, &m, &d);
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs % 3600 / 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)((days % 7 + 11) % 7);
	tm->tm_yday = (int)(days - days_from_civil(y, 1, 1));
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

/* ---- zone files (TZif, RFC 8536) ---- */

/* A local time type: UTC offset in seconds east, and whether it is daylight time. */
struct ttype {
	int32_t off;
	bool isdst;
};

/* One end of the footer's DST period: Jn (day 1..365, no Feb 29), n (day 0..365) or
 * Mm.w.d (weekday d of week w, 5 = last, of month m), at `secs` local time. */
struct rule_date {
	char kind; /* 'J', 'N' or 'M' */
	int n, m, w, d;
	int32_t secs;
};

/* The footer's POSIX TZ string, in force after the last transition. */
struct footer {
	struct ttype std, dst;
	bool has_dst;
	struct rule_date start, end; /* start: in standard time, end: in daylight time */
};

struct zone {
	char name[TZ_NAME_MAX + 1];
	size_t n_trans, n_types;
	int64_t *trans;      /* ascending */
	uint8_t *idx;        /* type of each transition */
	struct ttype *types; /* n_types >= 1 */
	size_t before;       /* the type before the first transition: the first standard one */
	bool has_footer;
	struct footer footer;
	struct zone *next;
};

/* Parsed zones, never freed (a process uses one or a few); the list only grows, under lock. */
static struct zone *zones;
/* The zone this thread used last: the common case takes no lock at all. */
static _Thread_local const struct zone *last_zone;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads the whole file at dir/name (a regular file of at most TZ_FILE_MAX bytes). */
static unsigned char *read_zone_file(const char *name, size_t *len)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	unsigned char *data = NULL;
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd, n;

	if (!dir || !*dir)
		dir = TZ_DEFAULT_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 44 || st.st_size > TZ_FILE_MAX)
		goto out;
	data = malloc((size_t)st.st_size);
	if (!data)
		goto out;
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != (size_t)st.st_size) {
		free(data);
		data = NULL;
	}
	*len = got;
out:
	close(fd);
	return data;
}

/* ---- the footer: a POSIX TZ string, "<-03>3" or "WET0WEST,M3.5.0/1,M10.5.0" ---- */

static bool posix_num(const char **s, int max, int *v)
{
	int x = 0, k = 0;

	while (**s >= '0' && **s <= '9') {
		x = x * 10 + (**s - '0');
		(*s)++;
		if (++k > 3 || x > max)
			return false;
	}
	*v = x;
	return k > 0;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to max_h. */
static bool posix_hms(const char **s, int max_h, int32_t *secs)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!posix_num(s, max_h, &h))
		return false;
	if (**s == ':') {
		(*s)++;
		if (!posix_num(s, 59, &m))
			return false;
		if (**s == ':') {
			(*s)++;
			if (!posix_num(s, 59, &sec))
				return false;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool posix_name(const char **s)
{
	const char *p = *s;

	if (*p == '<') {
		p = strchr(p, '>');
		if (!p || p - *s < 4)
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

static bool posix_rule(const char **s, struct rule_date *r)
{
	memset(r, 0, sizeof(*r));
	r->secs = 7200; /* 02:00 unless said */
	if (**s == 'J') {
		(*s)++;
		r->kind = 'J';
		if (!posix_num(s, 365, &r->n) || r->n < 1)
			return false;
	} else if (**s == 'M') {
		(*s)++;
		r->kind = 'M';
		if (!posix_num(s, 12, &r->m) || r->m < 1 || *(*s)++ != '.' || !posix_num(s, 5, &r->w) || r->w < 1 ||
		    *(*s)++ != '.' || !posix_num(s, 6, &r->d))
			return false;
	} else {
		r->kind = 'N';
		if (!posix_num(s, 365, &r->n))
			return false;
	}
	if (**s == '/') {
		(*s)++;
		if (!posix_hms(s, 167, &r->secs))
			return false;
	}
	return true;
}

static bool parse_footer(const char *s, struct footer *f)
{
	int32_t west;

	memset(f, 0, sizeof(*f));
	if (!posix_name(&s) || !posix_hms(&s, 24, &west))
		return false;
	f->std.off = -west;
	if (*s == '\0')
		return true;
	if (!posix_name(&s))
		return false;
	f->has_dst = true;
	f->dst.isdst = true;
	f->dst.off = f->std.off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!posix_hms(&s, 24, &west))
			return false;
		f->dst.off = -west;
	}
	/* Zone files always carry the rule; "EST5EDT" alone would mean the US rule. */
	if (*s++ != ',' || !posix_rule(&s, &f->start) || *s++ != ',' || !posix_rule(&s, &f->end))
		return false;
	return *s == '\0';
}

/* Instant (as if UTC) of local midnight starting the rule's day in year y. */
static int64_t rule_day(const struct rule_date *r, int64_t y)
{
	int64_t jan1 = days_from_civil(y, 1, 1), first, day;
	int wday;

	switch (r->kind) {
	case 'J': /* Feb 29 is never counted */ day = jan1 + r->n - 1 + (is_leap((int)y) && r->n >= 60 ? 1 : 0); break;
	case 'N': day = jan1 + r->n; break;
	default:
		first = days_from_civil(y, r->m, 1);
		wday = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
		day = first + (r->d - wday + 7) % 7 + (int64_t)(r->w - 1) * 7;
		while (day - first >= days_in_month((int)y, r->m))
			day -= 7;
		break;
	}
	return day * 86400;
}

/* As glibc's __tz_compute: the DST period of the instant's UTC year. */
static const struct ttype *footer_type(const struct footer *f, int64_t t)
{
	int64_t y, start, end;

	if (!f->has_dst)
		return &f->std;
	y = civil_year(t);
	start = rule_day(&f->start, y) + f->start.secs - f->std.off;
	end = rule_day(&f->end, y) + f->end.secs - f->dst.off;
	if (start > end) /* southern hemisphere: DST spans the year's end */
		return t < end || t >= start ? &f->dst : &f->std;
	return t >= start && t < end ? &f->dst : &f->std;
}

/* Parses a TZif file (versions 1 to 4); NULL when it is not one or carries leap seconds. */
static struct zone *parse_zone(const char *name, const unsigned char *d, size_t len)
{
	uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
	size_t tsize = 4, off = 0, body, i;
	struct zone *z = NULL;
	const char *nl;

	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		return NULL;
	for (;;) {
		if (len - off < 44 || memcmp(d + off, "TZif", 4) != 0)
			return NULL;
		isut = be32(d + off + 20);
		isstd = be32(d + off + 24);
		leap = be32(d + off + 28);
		timecnt = be32(d + off + 32);
		typecnt = be32(d + off + 36);
		charcnt = be32(d + off + 40);
		if (timecnt > TZ_TRANS_MAX || typecnt == 0 || typecnt > 256 || leap > 0 || isut > typecnt ||
		    isstd > typecnt || charcnt > 256)
			return NULL;
		body = timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
		if (len - off - 44 < body)
			return NULL;
		/* version 2 and later repeat the data with 64-bit times: use that block */
		if (tsize == 4 && d[off + 4] >= '2') {
			off += 44 + body;
			tsize = 8;
			continue;
		}
		break;
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->n_trans = timecnt;
	z->n_types = typecnt;
	z->trans = malloc((timecnt ? timecnt : 1) * sizeof(*z->trans));
	z->idx = malloc(timecnt ? timecnt : 1);
	z->types = malloc(typecnt * sizeof(*z->types));
	if (!z->trans || !z->idx || !z->types)
		goto bad;
	off += 44;
	for (i = 0; i < timecnt; i++) {
		z->trans[i] = tsize == 8 ? be64(d + off + i * 8) : (int32_t)be32(d + off + i * 4);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			goto bad;
	}
	off += timecnt * tsize;
	for (i = 0; i < timecnt; i++)
		if ((z->idx[i] = d[off + i]) >= typecnt)
			goto bad;
	off += timecnt;
	for (i = 0; i < typecnt; i++) {
		int32_t o = (int32_t)be32(d + off + i * 6);

		if (o < -25 * 3600 || o > 26 * 3600 || d[off + i * 6 + 4] > 1)
			goto bad;
		z->types[i].off = o;
		z->types[i].isdst = d[off + i * 6 + 4] == 1;
	}
	off += typecnt * 6 + charcnt + isstd + isut;
	/* glibc: before the first transition, the first standard-time type (else type 0) */
	for (z->before = 0; z->before < typecnt && z->types[z->before].isdst; z->before++)
		;
	if (z->before == typecnt)
		z->before = 0;
	if (tsize == 8 && off < len && d[off] == '\n') {
		char footer[TZ_NAME_MAX * 2];

		nl = memchr(d + off + 1, '\n', len - off - 1);
		if (!nl || (size_t)(nl - (const char *)(d + off + 1)) >= sizeof(footer))
			goto bad;
		memcpy(footer, d + off + 1, (size_t)(nl - (const char *)(d + off + 1)));
		footer[nl - (const char *)(d + off + 1)] = '\0';
		if (footer[0] != '\0') {
			if (!parse_footer(footer, &z->footer))
				goto bad;
			z->has_footer = true;
		}
	}
	return z;
bad:
	free(z->trans);
	free(z->idx);
	free(z->types);
	free(z);
	return NULL;
}

/* Caller holds lock. */
static const struct zone *cached_zone(const char *name)
{
	const struct zone *z;

	for (z = zones; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			return z;
	return NULL;
}

/*
 * The parsed zone called name, reading its file the first time; NULL when the name is
 * unsafe or names no usable zone file. Zones are immutable once listed.
 */
static const struct zone *zone_get(const char *name)
{
	const struct zone *hit = last_zone;
	struct zone *z;
	unsigned char *data;
	size_t len = 0;

	if (hit && name && strcmp(hit->name, name) == 0)
		return hit;
	if (!name_is_safe(name))
		return NULL;
	pthread_mutex_lock(&lock);
	hit = cached_zone(name);
	pthread_mutex_unlock(&lock);
	if (hit) {
		last_zone = hit;
		return hit;
	}
	data = read_zone_file(name, &len);
	z = data ? parse_zone(name, data, len) : NULL;
	free(data);
	if (!z)
		return NULL;
	pthread_mutex_lock(&lock);
	hit = cached_zone(name); /* another thread may have read it meanwhile */
	if (!hit) {
		z->next = zones;
		zones = z;
		hit = z;
		z = NULL;
	}
	pthread_mutex_unlock(&lock);
	if (z) {
		free(z->trans);
		free(z->idx);
		free(z->types);
		free(z);
	}
	last_zone = hit;
	return hit;
}

bool tz_is_valid(const char *name)
{
	return zone_get(name) != NULL;
}

void tz_init(void)
{
}

/* ---- conversions ---- */

static bool in_range(int64_t t)
{
	return t >= TZ_MIN_SECONDS && t <= TZ_MAX_SECONDS;
}

/* The local time type at instant t, with the same choices glibc's localtime_r makes. */
static const struct ttype *type_at(const struct zone *z, int64_t t)
{
	size_t lo, hi, mid;

	if (z->n_trans == 0 || t < z->trans[0])
		return &z->types[z->before];
	if (t >= z->trans[z->n_trans - 1]) {
		if (z->has_footer)
			return footer_type(&z->footer, t);
		return &z->types[z->idx[z->n_trans - 1]];
	}
	/* the last transition at or before t */
	lo = 0;
	hi = z->n_trans - 1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &z->types[z->idx[lo]];
}

static long offset_at(const struct zone *z, int64_t t)
{
	return type_at(z, t)->off;
}

/*
 * The instant of wall time w. Candidates are w minus each offset in force within a day of
 * it; a candidate is real when the offset at that instant is the one assumed. Several: the
 * wall time is ambiguous, take the earliest. None: it is in a gap, whose end is found by
 * bisection between the instants computed with the offsets before and after.
 */
static enum rc resolve(const struct zone *z, int64_t w, int64_t *out)
{
	long cand[3], lo_off = LONG_MAX, hi_off = LONG_MIN, base;
	int64_t best = INT64_MAX, lo, hi, mid;
	int i;

	cand[0] = offset_at(z, w - 86400);
	cand[1] = offset_at(z, w);
	cand[2] = offset_at(z, w + 86400);
	for (i = 0; i < 3; i++) {
		if (cand[i] < lo_off)
			lo_off = cand[i];
		if (cand[i] > hi_off)
			hi_off = cand[i];
		if (offset_at(z, w - cand[i]) == cand[i] && w - cand[i] < best)
			best = w - cand[i];
	}
	if (best != INT64_MAX) {
		*out = best;
		return RC_OK;
	}
	lo = w - hi_off;
	hi = w - lo_off;
	base = offset_at(z, lo);
	if (offset_at(z, hi) == base) { /* cannot happen with sane zone data */
		*out = w - cand[1];
		return RC_OK;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (offset_at(z, mid) == base)
			lo = mid;
		else
			hi = mid;
	}
	*out = hi;
	return RC_OK;
}

enum rc tz_walls_to_utc(const char *tz, const int64_t *walls, size_t n, int64_t *out)
{
	const struct zone *z;
	enum rc rc = RC_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (!in_range(walls[i]))
			return RC_INVALID;
	z = zone_get(tz);
	if (!z)
		return RC_INVALID;
	for (i = 0; i < n && rc == RC_OK; i++)
		rc = resolve(z, walls[i], &out[i]);
	return rc;
}

enum rc tz_wall_to_utc(const char *tz, int64_t wall, int64_t *out)
{
	return tz_walls_to_utc(tz, &wall, 1, out);
}

enum rc tz_utc_to_local(const char *tz, int64_t t, struct tm *out)
{
	const struct zone *z;
	const struct ttype *ty;

	if (!in_range(t))
		return RC_INVALID;
	z = zone_get(tz);
	if (!z)
		return RC_INVALID;
	ty = type_at(z, t);
	civil_tm(t + ty->off, out);
	out->tm_isdst = ty->isdst;
	out->tm_gmtoff = ty->off;
	out->tm_zone = NULL;
	return RC_OK;
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
