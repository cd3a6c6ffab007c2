/*
 * server/sales/sales_parse.c — the sales data model shared by all readers: seller folding,
 * periods, header matching, row emission and the JSON reader. See sales_parse.h.
 * Text is UTF-8 throughout (readers convert before calling in).
 */
#include "sales/sales_parse.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sales/amount.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++) /* one line, whatever the input held */
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

/* ---- UTF-8 helpers ---- */

/* What decode() returns for a byte that does not start a valid sequence. */
#define NOT_UTF8 0x7FFFFFFFu
/* U+FFFD, written in place of such a byte so output is always valid UTF-8. */
#define REPLACEMENT "\xEF\xBF\xBD"

/* Decodes one code point at s; *n receives its length. A byte that does not start a valid,
 * shortest-form sequence gives NOT_UTF8 with length 1 (callers write U+FFFD for it). */
static unsigned decode(const unsigned char *s, size_t *n)
{
	unsigned cp;

	*n = 1;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80) {
		*n = 2;
		return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
	}
	if ((s[0] & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
		cp = ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
		if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
			return NOT_UTF8;
		*n = 3;
		return cp;
	}
	if ((s[0] & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
		cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
		if (cp < 0x10000 || cp > 0x10FFFF)
			return NOT_UTF8;
		*n = 4;
		return cp;
	}
	return NOT_UTF8;
}

static bool is_space_cp(unsigned cp)
{
	return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == '\v' || cp == '\f' || cp == 0xA0 ||
	       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x3000;
}

/* Base letters of U+00C0..U+00FF (NULL: keep the character). */
static const char *const latin1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c",  "e", "e", "e", "e", "i", "i", "i",  "i",
        "d", "n", "o", "o", "o", "o", "o",  NULL, "o", "u", "u", "u", "u", "y", "th", "y",
};
/* Base letters of U+0100..U+017F (Latin Extended-A), one per code point. */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkk"
                                  "llllllllllnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuu"
                                  "wwyyyzzzzzzs";
_Static_assert(sizeof(latin_ext_a) == 129, "one letter per code point U+0100..U+017F");

struct out {
	char *p;
	size_t len, n;
	bool full;
};

static void put(struct out *o, const char *s, size_t k)
{
	if (o->full || o->n + k >= o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, k);
	o->n += k;
	o->p[o->n] = '\0';
}

void sales_fold(const char *name, char *outbuf, size_t len)
{
	const unsigned char *s = (const unsigned char *)(name ? name : "");
	struct out o = {outbuf, len, 0, false};
	bool space = false;

	if (!outbuf || len == 0)
		return;
	outbuf[0] = '\0';
	while (*s && !o.full) {
		size_t n;
		unsigned cp = decode(s, &n);

		if (is_space_cp(cp)) {
			space = true;
		} else if (cp >= 0x300 && cp <= 0x36F) {
			/* combining mark of decomposed text: dropped like a precomposed accent */
		} else {
			/* the separating space goes out with the next character or not at all, so
			 * a truncated key never ends in a space */
			char unit[8];
			const char *m = NULL;
			size_t k = 0, mlen = 0;

			if (space && o.n > 0)
				unit[k++] = ' ';
			space = false;
			if (cp < 0x80) {
				unit[k++] = (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
			} else if (cp >= 0xC0 && cp <= 0xFF && latin1[cp - 0xC0]) {
				m = latin1[cp - 0xC0];
				mlen = strlen(m);
			} else if (cp >= 0x100 && cp <= 0x17F) {
				m = &latin_ext_a[cp - 0x100];
				mlen = 1;
			} else if (cp == NOT_UTF8) {
				m = REPLACEMENT;
				mlen = 3;
			} else {
				m = (const char *)s;
				mlen = n;
			}
			if (m) {
				memcpy(unit + k, m, mlen);
				k += mlen;
			}
			put(&o, unit, k);
		}
		s += n;
	}
}

/* ---- periods ---- */

static const struct {
	const char *name;
	int month;
} months[] = {
        {"janeiro", 1}, {"fevereiro", 2}, {"marco", 3},     {"abril", 4},    {"maio", 5},      {"junho", 6},
        {"julho", 7},   {"agosto", 8},    {"setembro", 9},  {"outubro", 10}, {"novembro", 11}, {"dezembro", 12},
        {"january", 1}, {"february", 2},  {"march", 3},     {"april", 4},    {"may", 5},       {"june", 6},
        {"july", 7},    {"august", 8},    {"september", 9}, {"october", 10}, {"november", 11}, {"december", 12},
        {"jan", 1},     {"fev", 2},       {"feb", 2},       {"mar", 3},      {"abr", 4},       {"apr", 4},
        {"mai", 5},     {"jun", 6},       {"jul", 7},       {"ago", 8},      {"aug", 8},       {"set", 9},
        {"sep", 9},     {"sept", 9},      {"out", 10},      {"oct", 10},     {"nov", 11},      {"dez", 12},
        {"dec", 12},
};

static const char *const month_pt[12] = {"janeiro", "fevereiro", "março",    "abril",   "maio",     "junho",
                                         "julho",   "agosto",    "setembro", "outubro", "novembro", "dezembro"};
static const char *const month_en[12] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};

const char *sales_month_name(int month, const char *lang)
{
	if (month < 1 || month > 12)
		return NULL;
	if (lang && strncasecmp(lang, "en", 2) == 0)
		return month_en[month - 1];
	return month_pt[month - 1];
}

bool sales_period_is_valid(const char *s)
{
	int y, m;

	if (!s || strlen(s) != 7 || s[4] != '-')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	return y >= 1900 && m >= 1 && m <= 12;
}

#define MAX_TOKENS 32

struct tok {
	char s[16];
	size_t len; /* real length, may exceed sizeof(s) - 1 */
	bool digit; /* all digits */
	bool glued; /* split from the previous token at a letter/digit change, not a separator */
	long value; /* digits: the number (capped), else month number or 0 */
};

static int month_of(const char *s)
{
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++)
		if (strcmp(s, months[i].name) == 0)
			return months[i].month;
	return 0;
}

/* Splits folded text into alphanumeric tokens; returns the count, or -1 when there are
 * more than MAX_TOKENS. */
static int tokenize(const char *folded, struct tok *t)
{
	int n = 0;
	const char *p = folded;

	while (*p) {
		bool glued = false;

		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
			p++;
			continue;
		}
		if (n > 0 && p > folded) {
			char prev = p[-1];

			glued = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
		}
		if (n == MAX_TOKENS)
			return -1;
		struct tok *k = &t[n++];
		bool digit = *p >= '0' && *p <= '9';

		k->len = 0;
		k->digit = digit;
		k->glued = glued;
		k->value = 0;
		while (*p && (digit ? (*p >= '0' && *p <= '9') : (*p >= 'a' && *p <= 'z'))) {
			if (k->len < sizeof(k->s) - 1)
				k->s[k->len] = *p;
			if (digit && k->value < 100000000)
				k->value = k->value * 10 + (*p - '0');
			k->len++;
			p++;
		}
		k->s[k->len < sizeof(k->s) ? k->len : sizeof(k->s) - 1] = '\0';
		if (!digit)
			k->value = k->len < sizeof(k->s) ? month_of(k->s) : 0;
	}
	return n;
}

static bool is_year4(const struct tok *k)
{
	return k->digit && k->len == 4 && k->value >= 1900;
}

static bool is_month_num(const struct tok *k)
{
	return k->digit && k->len <= 2 && k->value >= 1 && k->value <= 12;
}

static bool write_period(int year, int month, char out[8])
{
	char tmp[16];

	if (year < 1900 || year > 9999 || month < 1 || month > 12)
		return false;
	snprintf(tmp, sizeof(tmp), "%04d-%02d", year, month);
	memcpy(out, tmp, 8);
	return true;
}

/* Adds v to a set of at most 4 distinct values; returns the set size. */
static int add_distinct(int *set, int *n, int v)
{
	for (int i = 0; i < *n; i++)
		if (set[i] == v)
			return *n;
	if (*n < 4)
		set[(*n)++] = v;
	return *n;
}

bool sales_period_from_name(const char *filename, int default_year, char out[8])
{
	char base[256], folded[512];
	struct tok t[MAX_TOKENS];
	int n, ms[4], ys[4], nm = 0, ny = 0;
	const char *b = filename, *p, *dot;
	size_t blen;

	if (!filename)
		return false;
	for (p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	blen = strlen(b);
	dot = strrchr(b, '.');
	if (dot && dot != b && strlen(dot) <= 6)
		blen = (size_t)(dot - b);
	if (blen >= sizeof(base))
		blen = sizeof(base) - 1;
	memcpy(base, b, blen);
	base[blen] = '\0';
	sales_fold(base, folded, sizeof(folded));
	n = tokenize(folded, t);
	if (n < 0)
		n = MAX_TOKENS;
	for (int i = 0; i < n; i++) {
		struct tok *k = &t[i];

		if (!k->digit && k->value) {
			add_distinct(ms, &nm, (int)k->value);
			/* "marco-26", "jan26": a two-digit year right after a month name */
			if (i + 1 < n && t[i + 1].digit && t[i + 1].len == 2)
				add_distinct(ys, &ny, 2000 + (int)t[i + 1].value);
		} else if (k->digit && k->len == 6 && k->value / 100 >= 1900 && k->value % 100 >= 1 &&
		           k->value % 100 <= 12) {
			add_distinct(ys, &ny, (int)(k->value / 100));
			add_distinct(ms, &nm, (int)(k->value % 100));
		} else if (is_year4(k) && k->value <= 2999) {
			add_distinct(ys, &ny, (int)k->value);
			/* a numeric month next to the year: "2026-01", "01_2026" (not "v2 2026") */
			if (i + 1 < n && is_month_num(&t[i + 1]) && !t[i + 1].glued)
				add_distinct(ms, &nm, (int)t[i + 1].value);
			else if (i > 0 && is_month_num(&t[i - 1]) && !t[i - 1].glued && !k->glued)
				add_distinct(ms, &nm, (int)t[i - 1].value);
		}
	}
	if (nm != 1 || ny > 1)
		return false;
	return write_period(ny ? ys[0] : default_year, ms[0], out);
}

static bool is_filler(const char *s)
{
	static const char *const fillers[] = {"de", "do", "da", "of", "t", "z"};

	for (size_t i = 0; i < sizeof(fillers) / sizeof(fillers[0]); i++)
		if (strcmp(s, fillers[i]) == 0)
			return true;
	return false;
}

bool sales_period_parse(const char *text, int default_year, char out[8])
{
	char folded[256];
	struct tok t[MAX_TOKENS];
	const struct tok *num[MAX_TOKENS];
	int n, nn = 0, month = 0;

	if (!text)
		return false;
	sales_fold(text, folded, sizeof(folded));
	n = tokenize(folded, t);
	if (n <= 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (t[i].digit) {
			num[nn++] = &t[i];
		} else if (t[i].value) {
			if (month && month != t[i].value)
				return false;
			month = (int)t[i].value;
		} else if (!is_filler(t[i].s) || t[i].len >= sizeof(t[i].s)) {
			return false;
		}
	}
	if (month) {
		if (nn == 0)
			return write_period(default_year, month, out);
		if (nn == 1 && is_year4(num[0]))
			return write_period((int)num[0]->value, month, out);
		if (nn == 1 && num[0]->len == 2)
			return write_period(2000 + (int)num[0]->value, month, out);
		if (nn == 2 && num[0]->len <= 2 && num[0]->value >= 1 && num[0]->value <= 31 && is_year4(num[1]))
			return write_period((int)num[1]->value, month, out);
		return false;
	}
	if (nn == 1 && num[0]->len == 6)
		return write_period((int)(num[0]->value / 100), (int)(num[0]->value % 100), out);
	if (nn == 1 && is_month_num(num[0]))
		return write_period(default_year, (int)num[0]->value, out);
	if (nn == 2 && is_year4(num[0]) && is_month_num(num[1]))
		return write_period((int)num[0]->value, (int)num[1]->value, out);
	if (nn == 2 && is_month_num(num[0]) && is_year4(num[1]))
		return write_period((int)num[1]->value, (int)num[0]->value, out);
	if (nn >= 3) {
		/* full dates, maybe followed by a time: y-m-d or d/m/y */
		bool day0 = num[0]->len <= 2 && num[0]->value >= 1 && num[0]->value <= 31;
		bool day2 = num[2]->len <= 2 && num[2]->value >= 1 && num[2]->value <= 31;

		for (int i = 3; i < nn; i++)
			if (num[i]->len > 2)
				return false;
		if (is_year4(num[0]) && is_month_num(num[1]) && day2)
			return write_period((int)num[0]->value, (int)num[1]->value, out);
		if (day0 && is_month_num(num[1]) && is_year4(num[2]))
			return write_period((int)num[2]->value, (int)num[1]->value, out);
	}
	return false;
}

/* ---- format detection ---- */

static bool ct_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool has_ext(const char *filename, const char *ext)
{
	size_t n, e = strlen(ext);

	if (!filename)
		return false;
	n = strlen(filename);
	return n > e && filename[n - e - 1] == '.' && strcasecmp(filename + n - e, ext) == 0;
}

static bool looks_binary(const unsigned char *s, size_t len)
{
	size_t ctl = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0)
			return true;
		if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v' &&
		    s[i] != 0x1A)
			ctl++;
	}
	return ctl * 100 > len;
}

enum sales_format sales_detect(const unsigned char *head, size_t len, const char *content_type, const char *filename)
{
	static const unsigned char ole[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	size_t i = 0;

	if (!head)
		len = 0;
	if (len >= 4 && head[0] == 'P' && head[1] == 'K' &&
	    ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6)))
		return SALES_XLSX;
	if ((len >= 8 && memcmp(head, ole, 8) == 0) || looks_binary(head, len))
		return SALES_UNKNOWN;
	/* text declared as a workbook: the XLSX reader will say it is not one */
	if (ct_is(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") ||
	    (has_ext(filename, "xlsx") && len > 0))
		return SALES_XLSX;
	if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		i = 3;
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (i < len && (head[i] == '[' || head[i] == '{'))
		return SALES_JSON;
	if (ct_is(content_type, "application/json") || has_ext(filename, "json"))
		return SALES_JSON;
	if (content_type) {
		const char *semi = strchr(content_type, ';');
		size_t n = semi ? (size_t)(semi - content_type) : strlen(content_type);

		if (n >= 5 && strncasecmp(content_type + n - 5, "+json", 5) == 0)
			return SALES_JSON;
	}
	return SALES_CSV;
}

/* ---- header matching ---- */

/* Copies a value for a message: one line, at most ~40 bytes, cut on a UTF-8 boundary. */
static void quote_value(const char *s, char *out, size_t len)
{
	size_t o = 0, max = len < 44 ? len - 1 : 40;
	const unsigned char *u = (const unsigned char *)s;

	while (*u == ' ')
		u++;
	for (; *u && o < max; u++) {
		if ((*u & 0xC0) == 0x80 || *u >= 0x80) {
			/* copy a whole sequence or stop */
			size_t n = 1;

			while (u[n] && (u[n] & 0xC0) == 0x80)
				n++;
			if (o + n > max)
				break;
			memcpy(out + o, u, n);
			o += n;
			u += n - 1;
			continue;
		}
		out[o++] = *u < 0x20 ? ' ' : (char)*u;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (*u && o + 3 < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static const char *const col_names[SALES_COL_COUNT][14] = {
        [SALES_COL_SELLER] = {"vendedor", "vendedora", "seller", "nome", "name", "vendedor a", "nome do vendedor",
                              "salesperson", "sales rep", "representante", "consultor", "consultora", NULL},
        [SALES_COL_AMOUNT] = {"vendas", "sales", "valor", "amount", "total", "total de vendas", "total vendas",
                              "valor total", "valor vendido", "total vendido", "faturamento", "revenue", NULL},
        [SALES_COL_PERIOD] = {"mes", "month", "periodo", "period", "competencia", "mes de referencia", "mes referencia",
                              "referencia", "data", "date", "data da venda", NULL},
};
static const char *const col_label[SALES_COL_COUNT] = {"seller", "amount", "period"};

/* Normalises a header name for matching: folded, "(...)" and "[...]" suffixes cut, the
 * currency marks "r$" and "brl" removed, punctuation turned into single spaces. */
static void norm_header(const char *raw, char *out, size_t len)
{
	char f[256];
	size_t o = 0;
	bool space = false;
	char *cut;

	sales_fold(raw, f, sizeof(f));
	cut = strpbrk(f, "([");
	if (cut)
		*cut = '\0';
	for (char *p = f; (p = strstr(p, "r$")) != NULL;)
		*p++ = ' ';
	for (const char *p = f; *p && o + 1 < len; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (unsigned char)*p >= 0x80;

		if (!alnum) {
			space = true;
			continue;
		}
		if (space && o > 0 && o + 2 < len)
			out[o++] = ' ';
		space = false;
		out[o++] = *p;
	}
	out[o] = '\0';
	if (o >= 4 && strcmp(out + o - 4, " brl") == 0)
		out[o - 4] = '\0';
}

/* Role of a header name and its preference (lower wins); -1 when none. */
static int role_of(const char *raw, int *prio)
{
	char h[256];

	norm_header(raw, h, sizeof(h));
	for (int r = 0; r < SALES_COL_COUNT; r++)
		for (int i = 0; col_names[r][i]; i++)
			if (strcmp(h, col_names[r][i]) == 0) {
				*prio = i;
				return r;
			}
	return -1;
}

enum rc sales_header_match(const char *const *names, size_t n, struct sales_cols *cols, char *err, size_t errlen)
{
	int best[SALES_COL_COUNT];
	char msg[512], found[256];
	size_t o = 0, fo = 0;
	bool any = false;

	for (int r = 0; r < SALES_COL_COUNT; r++) {
		cols->idx[r] = -1;
		best[r] = 1000;
	}
	for (size_t i = 0; i < n; i++) {
		int prio, r;

		if (!names[i])
			continue;
		r = role_of(names[i], &prio);
		if (r >= 0 && prio < best[r]) {
			best[r] = prio;
			cols->idx[r] = (long)i;
		}
	}
	if (cols->idx[SALES_COL_SELLER] >= 0 && cols->idx[SALES_COL_AMOUNT] >= 0)
		return RC_OK;
	msg[0] = '\0';
	for (int r = 0; r < SALES_COL_PERIOD; r++) {
		if (cols->idx[r] >= 0)
			continue;
		o += (size_t)snprintf(msg + o, o < sizeof(msg) ? sizeof(msg) - o : 0,
		                      "%smissing %s column (one of %s, %s, %s, %s, %s)", o ? "; " : "", col_label[r],
		                      col_names[r][0], col_names[r][1], col_names[r][2], col_names[r][3],
		                      col_names[r][4]);
		if (o >= sizeof(msg))
			o = sizeof(msg) - 1;
	}
	found[0] = '\0';
	for (size_t i = 0; i < n && fo + 1 < sizeof(found); i++) {
		char q[48];

		if (!names[i] || !*names[i])
			continue;
		quote_value(names[i], q, sizeof(q)); /* one line, bounded */
		fo += (size_t)snprintf(found + fo, sizeof(found) - fo, "%s'%s'", any ? ", " : "", q);
		any = true;
	}
	set_err(err, errlen, "%s; found %s", msg, any ? found : "no column names");
	return RC_UNPROCESSABLE;
}

/* ---- rows ---- */

/* True when s folds to nothing. Most cells start with a printable ASCII character, which
 * folds to itself: answered without folding. */
static bool is_blank(const char *s)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	char f[8];

	while (*u == ' ' || *u == '\t')
		u++;
	if (*u > 0x20 && *u < 0x7f)
		return false;
	sales_fold(s, f, sizeof(f));
	return f[0] == '\0';
}

/* Display name: trimmed, whitespace runs made one space. false when longer than max. */
static bool display_name(const char *s, char *out, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	bool space = false;

	while (*u) {
		size_t n;
		unsigned cp = decode(u, &n);

		if (is_space_cp(cp) || cp < 0x20) {
			space = true;
		} else {
			if (space && o > 0) {
				if (o + 1 > max)
					return false;
				out[o++] = ' ';
			}
			space = false;
			if (o + (cp == NOT_UTF8 ? 3 : n) > max)
				return false;
			memcpy(out + o, cp == NOT_UTF8 ? (const unsigned char *)REPLACEMENT : u,
			       cp == NOT_UTF8 ? 3 : n);
			o += cp == NOT_UTF8 ? 3 : n;
		}
		u += n;
	}
	out[o] = '\0';
	return true;
}

/* key: the seller name already folded. */
static bool is_total_row(const char *key)
{
	static const char *const totals[] = {"total", "total geral", "subtotal", "totais", "grand total", "soma"};

	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
		if (strcmp(key, totals[i]) == 0)
			return true;
	return false;
}

/*
 * The seller column's memo: a file names a few dozen sellers over and over (in a few
 * spellings each), and a name's display form, key and total-row test depend on its text
 * alone, so each thread that reads files keeps them for the last few hundred texts it saw
 * (two-way, by a hash of the text; freed when the thread ends). Only short texts are kept;
 * the others are worked out each time.
 */
#define MEMO_SLOTS 512 /* a power of two */
#define MEMO_TEXT  48
#define MEMO_OUT   128 /* name, NUL, key, NUL */

struct seller_memo {
	unsigned char len; /* of text; 0: empty slot */
	bool total;
	unsigned char name_len, key_len;
	char text[MEMO_TEXT], out[MEMO_OUT];
};

static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static pthread_key_t memo_key;
static bool memo_ok;

static void memo_setup(void)
{
	memo_ok = pthread_key_create(&memo_key, free) == 0;
}

/* This thread's memo (NULL: none, the names are worked out each time). */
static struct seller_memo *memo_table(void)
{
	struct seller_memo *t;

	pthread_once(&memo_once, memo_setup);
	if (!memo_ok)
		return NULL;
	t = pthread_getspecific(memo_key);
	if (!t) {
		t = calloc(MEMO_SLOTS, sizeof(*t));
		if (t && pthread_setspecific(memo_key, t) != 0) {
			free(t);
			t = NULL;
		}
	}
	return t;
}

/* Display name and key of raw, and whether it names a total row; false when the name is
 * longer than SALES_SELLER_MAX. *name and *key point into the memo or, for a text worked out
 * now, at name_buf (SALES_SELLER_MAX + 1 bytes) and key_buf (SALES_FOLD_MAX). */
static bool seller_of(const char *raw, char *name_buf, char *key_buf, const char **name, const char **key, bool *total)
{
	size_t len = strlen(raw), nl, kl;
	uint32_t h = 2166136261u; /* FNV-1a */
	struct seller_memo *t = len > 0 && len < MEMO_TEXT ? memo_table() : NULL, *m = NULL;

	if (t) {
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)raw[i]) * 16777619u;
		for (int way = 0; way < 2; way++) {
			struct seller_memo *e = &t[(h + (uint32_t)way) & (MEMO_SLOTS - 1)];

			if (e->len == len && memcmp(e->text, raw, len) == 0) {
				*name = e->out;
				*key = e->out + e->name_len + 1;
				*total = e->total;
				return true;
			}
			if (!m && !e->len)
				m = e;
		}
		if (!m)
			m = &t[h & (MEMO_SLOTS - 1)];
	}
	*name = name_buf;
	*key = key_buf;
	if (!display_name(raw, name_buf, SALES_SELLER_MAX))
		return false;
	sales_fold(name_buf, key_buf, SALES_FOLD_MAX); /* the one fold of this row's seller */
	*total = is_total_row(key_buf);
	nl = strlen(name_buf);
	kl = strlen(key_buf);
	if (m && nl + kl + 2 <= MEMO_OUT) {
		m->len = (unsigned char)len;
		memcpy(m->text, raw, len);
		memcpy(m->out, name_buf, nl + 1);
		memcpy(m->out + nl + 1, key_buf, kl + 1);
		m->name_len = (unsigned char)nl;
		m->key_len = (unsigned char)kl;
		m->total = *total;
	}
	return true;
}

enum rc sales_emit(struct sales_sink *sink, struct sales_cell seller, struct sales_cell amount,
                   struct sales_cell period, long line, const char *unit, char *err, size_t errlen)
{
	char name_buf[SALES_SELLER_MAX + 1], key_buf[SALES_FOLD_MAX], q[48], per[8];
	const char *name, *key;
	struct sales_row row;
	bool total;
	enum rc rc;

	if (!seller_of(seller.text, name_buf, key_buf, &name, &key, &total)) {
		set_err(err, errlen, "%s %ld: seller name longer than %d bytes", unit, line, SALES_SELLER_MAX);
		return RC_UNPROCESSABLE;
	}
	if (is_blank(amount.text) || total)
		return RC_OK;
	if (!name[0]) {
		quote_value(amount.text, q, sizeof(q));
		set_err(err, errlen, "%s %ld: amount '%s' has no seller", unit, line, q);
		return RC_UNPROCESSABLE;
	}
	rc = amount.numeric ? amount_parse_real(amount.text, &row.cents) : amount_parse(amount.text, &row.cents);
	if (rc != RC_OK) {
		quote_value(amount.text, q, sizeof(q));
		set_err(err, errlen, "%s %ld: amount '%s' %s", unit, line, q,
		        rc == RC_UNPROCESSABLE ? "is negative" : "is not a number");
		return RC_UNPROCESSABLE;
	}
	row.period = NULL;
	if (!is_blank(period.text)) {
		if (!sales_period_parse(period.text, sink->default_year, per)) {
			quote_value(period.text, q, sizeof(q));
			set_err(err, errlen, "%s %ld: period '%s' is not a month (expected YYYY-MM)", unit, line, q);
			return RC_UNPROCESSABLE;
		}
		row.period = per;
	}
	row.seller = name;
	row.key = key;
	row.line = line;
	if (err && errlen)
		err[0] = '\0';
	rc = sink->row(sink->ctx, &row);
	if (rc != RC_OK) {
		if (err && errlen && !err[0])
			set_err(err, errlen, "%s %ld: row not accepted (%s)", unit, line, rc_str(rc));
		return rc;
	}
	sink->rows++;
	return RC_OK;
}

/* ---- JSON ---- */

enum rc sales_parse_json(const char *data, size_t len, struct sales_sink *sink, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(data, len, 0, &je), *v;
	enum rc rc = RC_UNPROCESSABLE;
	size_t i;

	if (!root) {
		set_err(err, errlen, "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
		goto out;
	}
	if (!json_is_array(root)) {
		set_err(err, errlen,
		        "expected a JSON array of {\"seller\", \"amount\", \"period\"} "
		        "objects");
		goto out;
	}
	if (json_array_size(root) == 0) {
		set_err(err, errlen, "no rows: the array is empty");
		goto out;
	}
	json_array_foreach(root, i, v)
	{
		json_t *cell[SALES_COL_COUNT] = {NULL, NULL, NULL}, *x;
		int best[SALES_COL_COUNT] = {1000, 1000, 1000};
		char num[64];
		const char *key;
		struct sales_cell c[SALES_COL_COUNT];
		long line = (long)i + 1;

		rc = RC_UNPROCESSABLE; /* for every failure below but the sink's */
		if (!json_is_object(v)) {
			set_err(err, errlen, "entry %ld: expected an object", line);
			goto out;
		}
		json_object_foreach(v, key, x)
		{
			int prio, r = role_of(key, &prio);

			if (r >= 0 && prio < best[r]) {
				best[r] = prio;
				cell[r] = x;
			}
		}
		for (int r = 0; r < SALES_COL_COUNT; r++)
			c[r] = (struct sales_cell){"", false};
		if (!cell[SALES_COL_SELLER] || !cell[SALES_COL_AMOUNT]) {
			set_err(err, errlen, "entry %ld: missing %s", line,
			        cell[SALES_COL_SELLER] ? "amount" : "seller");
			goto out;
		}
		if (!json_is_string(cell[SALES_COL_SELLER])) {
			set_err(err, errlen, "entry %ld: seller must be a string", line);
			goto out;
		}
		c[SALES_COL_SELLER].text = json_string_value(cell[SALES_COL_SELLER]);
		x = cell[SALES_COL_AMOUNT];
		if (json_is_integer(x)) {
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(x));
			c[SALES_COL_AMOUNT] = (struct sales_cell){num, true};
		} else if (json_is_real(x)) {
			/* 15 significant digits give back the decimal the sender wrote */
			snprintf(num, sizeof(num), "%.15g", json_real_value(x));
			c[SALES_COL_AMOUNT] = (struct sales_cell){num, true};
		} else if (json_is_string(x)) {
			c[SALES_COL_AMOUNT].text = json_string_value(x);
		} else if (!json_is_null(x)) {
			set_err(err, errlen, "entry %ld: amount must be a number or a string", line);
			goto out;
		}
		x = cell[SALES_COL_PERIOD];
		if (json_is_string(x)) {
			c[SALES_COL_PERIOD].text = json_string_value(x);
		} else if (x && !json_is_null(x)) {
			set_err(err, errlen, "entry %ld: period must be a string like \"2026-01\"", line);
			goto out;
		}
		rc = sales_emit(sink, c[SALES_COL_SELLER], c[SALES_COL_AMOUNT], c[SALES_COL_PERIOD], line, "entry", err,
		                errlen);
		if (rc != RC_OK)
			goto out;
	}
	rc = RC_OK;
out:
	json_decref(root);
	return rc;
}
