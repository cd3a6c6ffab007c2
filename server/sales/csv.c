/*
 * server/sales/csv.c — incremental sales CSV reader (rules in csv.h).
 * A byte-level state machine: every piece of state that a chunk boundary can cut through
 * (quote state, a CR waiting for its LF, the header line before its separator is known) lives
 * in struct csv, so feeding one byte at a time gives the same rows as feeding the whole file.
 * Follows RFC 4180, leniently where spreadsheets are sloppy.
 */
#include "sales/csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

enum st { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE, ST_AFTER_QUOTE };

struct csv {
	struct sales_sink *sink;
	enum rc rc;    /* sticky: first failure */
	char msg[256]; /* its reason */
	char *err;     /* where reasons go during the current call */
	size_t errlen;
	bool finished;

	/* the header line, held until its separator is known */
	bool have_delim;
	char delim;
	bool stop[2][256]; /* bytes that end a run of plain bytes: [0] unquoted, [1] quoted */
	bool plain[256];   /* bytes that start an unquoted field's text */
	struct buf pre;
	bool pre_inq, pre_content;
	unsigned counts[3]; /* ';' ',' '\t' outside quotes on the current line */

	/* the record being read */
	enum st st;
	bool after_cr, rec_open;
	long line, rec_line;
	size_t field_start;
	struct buf rec;  /* fields, each NUL-terminated */
	size_t *offs;    /* field starts in rec */
	size_t *coffs;   /* starts in conv of fields read as Windows-1252, or SIZE_MAX */
	const char **fv; /* the fields as strings */
	size_t noffs, aoffs;
	struct buf conv;

	bool have_header;
	struct sales_cols cols;
	size_t header_n;
	long data_records;
};

static enum rc fail(struct csv *c, enum rc rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum rc fail(struct csv *c, enum rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	for (char *p = c->err; *p; p++) /* one line, whatever the input held */
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return rc;
}

struct csv *csv_new(struct sales_sink *sink)
{
	struct csv *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sink = sink;
	c->line = 1;
	c->st = ST_START;
	buf_init(&c->pre, CSV_MAX_RECORD);
	buf_init(&c->rec, CSV_MAX_RECORD);
	buf_init(&c->conv, 3 * CSV_MAX_RECORD + 16);
	return c;
}

void csv_free(struct csv *c)
{
	if (!c)
		return;
	buf_release(&c->pre);
	buf_release(&c->rec);
	buf_release(&c->conv);
	free(c->offs);
	free(c->coffs);
	free(c->fv);
	free(c);
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned char b = *s;
		size_t n;
		unsigned cp;

		if (b < 0x80) {
			s++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF) {
			n = 1;
			cp = b & 0x1Fu;
		} else if (b >= 0xE0 && b <= 0xEF) {
			n = 2;
			cp = b & 0x0Fu;
		} else if (b >= 0xF0 && b <= 0xF4) {
			n = 3;
			cp = b & 0x07u;
		} else {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3Fu);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		s += n + 1;
	}
	return true;
}

/* Windows-1252 0x80..0x9F (0xFFFD: unassigned); 0xA0..0xFF equal Latin-1. */
static const unsigned short cp1252[32] = {
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

static enum rc from_cp1252(struct buf *out, const unsigned char *s)
{
	enum rc rc = RC_OK;

	for (; *s && rc == RC_OK; s++) {
		unsigned cp = *s < 0x80 ? *s : *s < 0xA0 ? cp1252[*s - 0x80] : *s;
		unsigned char u[3];
		size_t n;

		if (cp < 0x80) {
			u[0] = (unsigned char)cp;
			n = 1;
		} else if (cp < 0x800) {
			u[0] = (unsigned char)(0xC0 | (cp >> 6));
			u[1] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 2;
		} else {
			u[0] = (unsigned char)(0xE0 | (cp >> 12));
			u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			u[2] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 3;
		}
		rc = buf_append(out, u, n);
	}
	return rc == RC_OK ? buf_append(out, "", 1) : rc;
}

static bool blank(const char *s)
{
	while (*s) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		else if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
			s += 2;
		else
			return false;
	}
	return true;
}

static enum rc append(struct csv *c, const void *p, size_t n)
{
	struct buf *r = &c->rec;
	enum rc rc;

	if (r->data && n < r->alloc - r->len && r->len + n <= r->cap) {
		/* the common case, without buf_append's call: room for the bytes and the NUL */
		memcpy(r->data + r->len, p, n);
		r->len += n;
		r->data[r->len] = '\0';
		return RC_OK;
	}
	rc = buf_append(r, p, n);

	if (rc == RC_TOO_BIG)
		return fail(c, rc, "line %ld: record longer than %d bytes", c->rec_line, CSV_MAX_RECORD);
	if (rc != RC_OK)
		return fail(c, rc, "out of memory");
	return RC_OK;
}

static enum rc end_field(struct csv *c)
{
	enum rc rc = append(c, "", 1);

	if (rc != RC_OK)
		return rc;
	if (c->noffs == c->aoffs) {
		/* bounded by the record cap: every field adds at least its NUL to rec */
		size_t n = c->aoffs ? c->aoffs * 2 : 16;
		size_t *o = realloc(c->offs, n * sizeof(*o));

		if (!o)
			return fail(c, RC_INTERNAL, "out of memory");
		c->offs = o;
		o = realloc(c->coffs, n * sizeof(*o));
		if (!o)
			return fail(c, RC_INTERNAL, "out of memory");
		c->coffs = o;
		const char **f = realloc(c->fv, n * sizeof(*f));

		if (!f)
			return fail(c, RC_INTERNAL, "out of memory");
		c->fv = f;
		c->aoffs = n;
	}
	c->offs[c->noffs++] = c->field_start;
	c->field_start = c->rec.len;
	return RC_OK;
}

/* Whether s[0..len) is all ASCII, eight bytes at a time. */
static bool ascii(const char *s, size_t len)
{
	uint64_t w, any = 0;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		any |= w;
	}
	for (; i < len; i++)
		any |= (unsigned char)s[i];
	return (any & 0x8080808080808080u) == 0;
}

static enum rc use_record(struct csv *c)
{
	size_t n = c->noffs, k;
	struct sales_cell cell[SALES_COL_COUNT];
	bool all_blank = true;
	enum rc rc;

	c->conv.len = 0;
	for (k = 0; k < n; k++) {
		const char *f = c->rec.data + c->offs[k];
		size_t len = (k + 1 < n ? c->offs[k + 1] : c->rec.len) - c->offs[k] - 1; /* without its NUL */

		c->coffs[k] = SIZE_MAX;
		if (!ascii(f, len) && !utf8_ok((const unsigned char *)f)) {
			c->coffs[k] = c->conv.len;
			rc = from_cp1252(&c->conv, (const unsigned char *)f);
			if (rc != RC_OK)
				return fail(c, RC_INTERNAL, "out of memory");
		}
	}
	for (k = 0; k < n; k++) {
		c->fv[k] = c->coffs[k] == SIZE_MAX ? c->rec.data + c->offs[k] : c->conv.data + c->coffs[k];
		if (!blank(c->fv[k]))
			all_blank = false;
	}
	if (all_blank)
		return RC_OK;
	if (!c->have_header) {
		char m[512];

		rc = sales_header_match(c->fv, n, &c->cols, m, sizeof(m));
		if (rc != RC_OK)
			return fail(c, rc, "line %ld: %s", c->rec_line, m);
		c->have_header = true;
		c->header_n = n;
		return RC_OK;
	}
	c->data_records++;
	for (k = c->header_n; k < n; k++)
		if (!blank(c->fv[k]))
			return fail(c, RC_UNPROCESSABLE,
			            "line %ld: %zu fields but the header has %zu; quote values that "
			            "contain '%c'",
			            c->rec_line, n, c->header_n, c->delim == '\t' ? ' ' : c->delim);
	for (int r = 0; r < SALES_COL_COUNT; r++) {
		long i = c->cols.idx[r];

		cell[r].text = i >= 0 && (size_t)i < n ? c->fv[i] : "";
		cell[r].numeric = false;
	}
	return sales_emit(c->sink, cell[SALES_COL_SELLER], cell[SALES_COL_AMOUNT], cell[SALES_COL_PERIOD], c->rec_line,
	                  "line", c->err, c->errlen);
}

static enum rc end_record(struct csv *c)
{
	enum rc rc = end_field(c);

	if (rc == RC_OK)
		rc = use_record(c);
	c->rec.len = 0;
	c->noffs = 0;
	c->field_start = 0;
	c->rec_open = false;
	c->st = ST_START;
	return rc;
}

static enum rc step(struct csv *c, unsigned char b)
{
	bool eol = b == '\r' || b == '\n';
	bool space = b == ' ' || (b == '\t' && c->delim != '\t');
	enum rc rc = RC_OK;

	if (b == 0)
		return fail(c, RC_UNPROCESSABLE, "line %ld: NUL byte: not a text file", c->line);
	if (c->st == ST_START && !c->rec_open && b == '\n' && c->after_cr) {
		c->after_cr = false; /* the LF of a CRLF that ended the record */
		return RC_OK;
	}
	if (!c->rec_open) {
		c->rec_open = true;
		c->rec_line = c->line;
	}
	switch (c->st) {
	case ST_START:
	case ST_AFTER_QUOTE:
	case ST_QUOTE:
		if (c->st == ST_QUOTE && b == '"') {
			rc = append(c, "\"", 1);
			c->st = ST_QUOTED;
		} else if (b == (unsigned char)c->delim) {
			rc = end_field(c);
			c->st = ST_START;
		} else if (eol) {
			rc = end_record(c);
		} else if (c->st == ST_START && b == '"') {
			c->st = ST_QUOTED;
		} else if (space) {
			if (c->st == ST_QUOTE)
				c->st = ST_AFTER_QUOTE;
		} else {
			rc = append(c, &b, 1);
			c->st = ST_UNQUOTED;
		}
		break;
	case ST_UNQUOTED:
		if (b == (unsigned char)c->delim) {
			rc = end_field(c);
			c->st = ST_START;
		} else if (eol) {
			rc = end_record(c);
		} else {
			rc = append(c, &b, 1);
		}
		break;
	case ST_QUOTED:
		if (b == '"')
			c->st = ST_QUOTE;
		else
			rc = append(c, &b, 1);
		break;
	}
	if (b == '\r' || (b == '\n' && !c->after_cr))
		c->line++;
	c->after_cr = b == '\r';
	return rc;
}

static enum rc run(struct csv *c, const unsigned char *p, size_t n)
{
	size_t i = 0;
	enum rc rc;

	while (i < n) {
		/* fast path: a field of a record already open that starts with a plain byte, a run of
		 * plain bytes (one append) and the separator after an unquoted one are what step()
		 * would do with them, byte by byte */
		if (c->st == ST_START && c->rec_open && c->plain[p[i]])
			c->st = ST_UNQUOTED;
		if (c->st == ST_UNQUOTED || c->st == ST_QUOTED) {
			const bool *stop = c->stop[c->st == ST_QUOTED];
			size_t j = i;

			while (j < n && !stop[p[j]])
				j++;
			if (j > i) {
				rc = append(c, p + i, j - i);
				if (rc != RC_OK)
					return rc;
				c->after_cr = false;
				i = j;
			}
			if (i < n && c->st == ST_UNQUOTED && p[i] == (unsigned char)c->delim) {
				rc = end_field(c);
				if (rc != RC_OK)
					return rc;
				c->st = ST_START;
				c->after_cr = false;
				i++;
			}
			if (i >= n || c->st == ST_START)
				continue;
		}
		rc = step(c, p[i++]);
		if (rc != RC_OK)
			return rc;
	}
	return RC_OK;
}

/* The header line is complete (or the input ended): pick the separator and replay. */
static enum rc decide(struct csv *c)
{
	static const char cand[3] = {';', ',', '\t'};
	size_t skip = 0;
	enum rc rc;
	int best = -1;

	for (int i = 0; i < 3; i++)
		if (c->counts[i] > 0 && (best < 0 || c->counts[i] > c->counts[best]))
			best = i;
	c->delim = best < 0 ? ',' : cand[best];
	c->have_delim = true;
	for (int q = 0; q < 2; q++)
		c->stop[q]['\r'] = c->stop[q]['\n'] = c->stop[q][0] = true;
	c->stop[0][(unsigned char)c->delim] = true;
	c->stop[1]['"'] = true;
	for (int b = 1; b < 256; b++)
		c->plain[b] = !c->stop[0][b] && b != '"' && b != ' ' && (b != '\t' || c->delim == '\t');
	if (c->pre.len >= 3 && memcmp(c->pre.data, "\xEF\xBB\xBF", 3) == 0)
		skip = 3;
	rc = c->pre.len > skip ? run(c, (const unsigned char *)c->pre.data + skip, c->pre.len - skip) : RC_OK;
	buf_release(&c->pre);
	return rc;
}

/* Holds bytes until the first non-blank line ends; returns how many of p were used. */
static enum rc prescan(struct csv *c, const unsigned char *p, size_t n, size_t *used)
{
	static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
	size_t i;

	for (i = 0; i < n && !c->have_delim; i++) {
		unsigned char b = p[i];
		size_t pos = c->pre.len;
		enum rc rc = buf_append(&c->pre, &b, 1);

		if (rc != RC_OK)
			return fail(c, rc, rc == RC_TOO_BIG ? "line 1: header longer than %d bytes" : "out of memory",
			            CSV_MAX_RECORD);
		if (pos < 3 && b == bom[pos] && memcmp(c->pre.data, bom, pos + 1) == 0)
			continue;
		if (b == '"') {
			c->pre_inq = !c->pre_inq;
		} else if (!c->pre_inq && (b == '\r' || b == '\n')) {
			if (c->pre_content) {
				rc = decide(c);
				if (rc != RC_OK)
					return rc;
			} else {
				memset(c->counts, 0, sizeof(c->counts));
			}
			continue;
		} else if (!c->pre_inq) {
			c->counts[0] += b == ';';
			c->counts[1] += b == ',';
			c->counts[2] += b == '\t';
		}
		if (b != ' ' && b != '\t')
			c->pre_content = true;
	}
	*used = i;
	return RC_OK;
}

static void begin(struct csv *c, char *err, size_t errlen)
{
	bool own = !err || errlen == 0;

	c->err = own ? c->msg : err;
	c->errlen = own ? sizeof(c->msg) : errlen;
	c->err[0] = '\0';
}

static enum rc end(struct csv *c, enum rc rc)
{
	if (rc != RC_OK) {
		c->rc = rc;
		if (c->err != c->msg)
			snprintf(c->msg, sizeof(c->msg), "%s", c->err);
	}
	return rc;
}

static enum rc sticky(struct csv *c, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", c->msg);
	return c->rc;
}

enum rc csv_feed(struct csv *c, const void *data, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = data;
	size_t used = 0;
	enum rc rc = RC_OK;

	if (c->rc != RC_OK)
		return sticky(c, err, errlen);
	begin(c, err, errlen);
	if (c->finished)
		return end(c, fail(c, RC_INTERNAL, "csv_feed after csv_finish"));
	if (!c->have_delim)
		rc = prescan(c, p, len, &used);
	if (rc == RC_OK && used < len)
		rc = run(c, p + used, len - used);
	return end(c, rc);
}

enum rc csv_finish(struct csv *c, char *err, size_t errlen)
{
	enum rc rc = RC_OK;

	if (c->rc != RC_OK)
		return sticky(c, err, errlen);
	begin(c, err, errlen);
	if (c->finished)
		return RC_OK;
	c->finished = true;
	if (!c->have_delim)
		rc = decide(c);
	if (rc == RC_OK && c->st == ST_QUOTED)
		rc = fail(c, RC_UNPROCESSABLE, "line %ld: quoted field is not closed", c->rec_line);
	if (rc == RC_OK && c->rec_open)
		rc = end_record(c);
	if (rc == RC_OK && !c->have_header)
		rc = fail(c, RC_UNPROCESSABLE, "empty file: no header line");
	if (rc == RC_OK && c->data_records == 0)
		rc = fail(c, RC_UNPROCESSABLE, "no data rows after the header");
	return end(c, rc);
}

enum rc csv_parse(const void *data, size_t len, struct sales_sink *sink, char *err, size_t errlen)
{
	struct csv *c = csv_new(sink);
	enum rc rc;

	if (!c) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return RC_INTERNAL;
	}
	rc = csv_feed(c, data, len, err, errlen);
	if (rc == RC_OK)
		rc = csv_finish(c, err, errlen);
	csv_free(c);
	return rc;
}
