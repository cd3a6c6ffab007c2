/*
 * server/http/multipart.c — incremental multipart/form-data reader (see multipart.h).
 * The delimiter "\r\n--boundary" is matched byte by byte across chunks. Its only CR is its first
 * byte (a boundary holds no CR), so no proper suffix of a partial match can begin another
 * match: on a mismatch the matched bytes are plain data and matching restarts at the byte that
 * broke it (the Knuth-Morris-Pratt failure function of such a pattern is all zeros). The preamble is scanned as if a
 * CRLF preceded the body, which lets the first delimiter start the body without one. Body bytes are coalesced in a
 * small buffer so that data full of CRs does not turn into one callback per byte.
 */
#include "http/multipart.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

#define DELIM_MAX (4 + MULTIPART_BOUNDARY_MAX)
#define OUT_BUF   4096
#define NAME_MAX_ 256
#define CTYPE_MAX 128

enum state {
	ST_PREAMBLE,    /* before the first delimiter: discarded */
	ST_AFTER_DELIM, /* right after a delimiter: "--", padding or CRLF */
	ST_DASH,        /* one '-' seen after a delimiter */
	ST_PADDING,     /* spaces or tabs after a delimiter */
	ST_PADDING_CR,  /* CR after a delimiter */
	ST_HEADERS,     /* part headers up to the empty line */
	ST_BODY,        /* part data up to the next delimiter */
	ST_EPILOGUE,    /* after the closing delimiter: discarded */
	ST_FAILED,
};

struct multipart {
	struct multipart_cb cb;
	char delim[DELIM_MAX + 1];
	size_t dlen;
	size_t j; /* bytes of delim matched so far */
	enum state st;
	enum rc rc;
	struct buf hdr;
	size_t line_start; /* offset in hdr of the header line being read */
	size_t parts;
	char out[OUT_BUF];
	size_t out_len;
};

bool multipart_is(const char *ct)
{
	static const char t[] = "multipart/form-data";

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, t, sizeof t - 1) == 0 && (ct[sizeof t - 1] == '\0' || ct[sizeof t - 1] == ';' ||
	                                                 ct[sizeof t - 1] == ' ' || ct[sizeof t - 1] == '\t');
}

/* ---------------------------------------------------------------- header parameters */

/* Replaces bytes that are not valid UTF-8, and control characters, with '_'. */
static void sanitize(char *s)
{
	unsigned char *u = (unsigned char *)s;

	while (*u) {
		size_t n = *u < 0x80                  ? 0
		           : *u >= 0xC2 && *u <= 0xDF ? 1
		           : *u >= 0xE0 && *u <= 0xEF ? 2
		           : *u >= 0xF0 && *u <= 0xF4 ? 3
		                                      : 9;
		bool ok = n != 9;

		for (size_t i = 1; ok && i <= n; i++)
			if ((u[i] & 0xC0) != 0x80)
				ok = false;
		/* overlongs and surrogates: E0 needs A0-BF, ED 80-9F, F0 90-BF, F4 80-8F */
		if (ok && n == 2 && ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] > 0x9F)))
			ok = false;
		if (ok && n == 3 && ((u[0] == 0xF0 && u[1] < 0x90) || (u[0] == 0xF4 && u[1] > 0x8F)))
			ok = false;
		if (!ok) {
			*u++ = '_';
			continue;
		}
		if (n == 0 && (*u < 0x20 || *u == 0x7F))
			*u = '_';
		u += n + 1;
	}
}

/* Calls fn(ctx, name, value) for each "; name=value" parameter of a header value (the part
 * before the first ';' is skipped). Quoted values: \" and \\ are unescaped, any other
 * backslash is kept (browsers send Windows paths unescaped). Values are NUL-terminated in
 * scratch (capped: longer ones are cut). */
static void each_param(const char *v, void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	char name[64], value[1024];

	v = strchr(v, ';');
	while (v && *v) {
		size_t n = 0, o = 0;

		while (*v == ';' || *v == ' ' || *v == '\t')
			v++;
		while (*v && *v != '=' && *v != ';') {
			if (n < sizeof name - 1 && *v != ' ' && *v != '\t')
				name[n++] = *v;
			v++;
		}
		name[n] = '\0';
		if (*v != '=') {
			continue;
		}
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '"') {
			for (v++; *v && *v != '"'; v++) {
				if (*v == '\\' && (v[1] == '"' || v[1] == '\\'))
					v++;
				if (o < sizeof value - 1)
					value[o++] = *v;
			}
			if (*v == '"')
				v++;
			while (*v && *v != ';') /* junk after the closing quote */
				v++;
		} else {
			while (*v && *v != ';') {
				if (o < sizeof value - 1)
					value[o++] = *v;
				v++;
			}
			while (o > 0 && (value[o - 1] == ' ' || value[o - 1] == '\t'))
				o--;
		}
		value[o] = '\0';
		if (n)
			fn(ctx, name, value);
	}
}

struct disposition {
	char name[NAME_MAX_];
	char filename[NAME_MAX_];
	bool has_filename, has_ext;
};

/* RFC 5987 ext-value: charset'language'pct-encoded; only UTF-8 is understood. */
static bool ext_value(const char *v, char *out, size_t len)
{
	const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	char *dec;
	int n = 0;
	bool ok = false;

	if (!q1 || !q2 || (size_t)(q1 - v) != 5 || strncasecmp(v, "utf-8", 5) != 0)
		return false;
	dec = curl_easy_unescape(NULL, q2 + 1, 0, &n);
	if (dec && n >= 0 && memchr(dec, '\0', (size_t)n) == NULL) {
		snprintf(out, len, "%s", dec);
		ok = true;
	}
	curl_free(dec);
	return ok;
}

static void on_disposition_param(void *ctx, const char *name, const char *value)
{
	struct disposition *d = ctx;

	if (!strcasecmp(name, "name")) {
		snprintf(d->name, sizeof d->name, "%s", value);
	} else if (!strcasecmp(name, "filename*")) {
		if (ext_value(value, d->filename, sizeof d->filename))
			d->has_filename = d->has_ext = true;
	} else if (!strcasecmp(name, "filename") && !d->has_ext) {
		snprintf(d->filename, sizeof d->filename, "%s", value);
		d->has_filename = true;
	}
}

/* The last path component: clients may send "C:\Users\ana\janeiro.xlsx" (RFC 7578 §4.2). */
static void basename_in_place(char *s)
{
	char *slash = strrchr(s, '/'), *back = strrchr(s, '\\');
	char *cut = slash > back ? slash : back;

	if (cut)
		memmove(s, cut + 1, strlen(cut + 1) + 1);
}

bool multipart_disposition(const char *value, char *name, size_t name_len, char *filename, size_t filename_len)
{
	struct disposition d = {0};

	each_param(value, on_disposition_param, &d);
	sanitize(d.name);
	basename_in_place(d.filename);
	sanitize(d.filename);
	if (name)
		snprintf(name, name_len, "%s", d.name);
	if (filename)
		snprintf(filename, filename_len, "%s", d.has_filename ? d.filename : "");
	return d.has_filename;
}

struct boundary {
	char value[MULTIPART_BOUNDARY_MAX + 2];
	bool seen, too_long;
};

static void on_ct_param(void *ctx, const char *name, const char *value)
{
	struct boundary *b = ctx;

	if (strcasecmp(name, "boundary") || b->seen)
		return;
	b->seen = true;
	b->too_long = strlen(value) > MULTIPART_BOUNDARY_MAX;
	snprintf(b->value, sizeof b->value, "%s", value);
}

/* RFC 2046 bchars, space not last. */
static bool boundary_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MULTIPART_BOUNDARY_MAX || s[n - 1] == ' ')
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      strchr("'()+_,-./:=? ", *s)))
			return false;
	return true;
}

/* ---------------------------------------------------------------- life */

enum rc multipart_new(const char *content_type, const struct multipart_cb *cb, struct multipart **out, char *err,
                      size_t errlen)
{
	struct boundary b = {0};
	struct multipart *m;

	*out = NULL;
	err[0] = '\0';
	if (!multipart_is(content_type)) {
		snprintf(err, errlen, "expected Content-Type: multipart/form-data");
		return RC_INVALID;
	}
	each_param(content_type, on_ct_param, &b);
	if (!b.seen || b.too_long || !boundary_ok(b.value)) {
		snprintf(err, errlen, "multipart/form-data needs a boundary parameter of 1 to %d characters",
		         MULTIPART_BOUNDARY_MAX);
		return RC_INVALID;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		return RC_INTERNAL;
	m->cb = *cb;
	m->dlen = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", b.value);
	m->j = 2; /* as if the body began after a CRLF */
	m->st = ST_PREAMBLE;
	buf_init(&m->hdr, MULTIPART_MAX_HEADERS);
	*out = m;
	return RC_OK;
}

void multipart_free(struct multipart *m)
{
	if (!m)
		return;
	buf_release(&m->hdr);
	free(m);
}

/* ---------------------------------------------------------------- parsing */

/* Stops the parse; msg (NULL: a callback's rc, which wrote its own) goes to err. */
static enum rc stop(struct multipart *m, enum rc rc, char *err, size_t errlen, const char *msg)
{
	m->st = ST_FAILED;
	m->rc = rc;
	if (msg && err && errlen && !err[0])
		snprintf(err, errlen, "%s", msg);
	return rc;
}

static enum rc flush(struct multipart *m)
{
	enum rc rc = RC_OK;

	if (m->out_len && m->st == ST_BODY && m->cb.part_data)
		rc = m->cb.part_data(m->cb.ctx, m->out, m->out_len);
	m->out_len = 0;
	return rc;
}

/* Body bytes (discarded in the preamble). */
static enum rc emit(struct multipart *m, const char *p, size_t n)
{
	enum rc rc;

	if (m->st != ST_BODY || n == 0)
		return RC_OK;
	if (m->out_len + n <= OUT_BUF) {
		memcpy(m->out + m->out_len, p, n);
		m->out_len += n;
		return RC_OK;
	}
	rc = flush(m);
	if (rc != RC_OK)
		return rc;
	if (n >= OUT_BUF)
		return m->cb.part_data ? m->cb.part_data(m->cb.ctx, p, n) : RC_OK;
	memcpy(m->out, p, n);
	m->out_len = n;
	return RC_OK;
}

struct part_headers {
	struct disposition d;
	bool has_disposition;
	char ctype[CTYPE_MAX];
};

static void header_line(struct part_headers *h, char *line)
{
	char *colon = strchr(line, ':'), *v;

	if (!colon)
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	if (!strcasecmp(line, "Content-Disposition")) {
		h->has_disposition = true;
		h->d.has_filename =
		        multipart_disposition(v, h->d.name, sizeof h->d.name, h->d.filename, sizeof h->d.filename);
	} else if (!strcasecmp(line, "Content-Type")) {
		snprintf(h->ctype, sizeof h->ctype, "%s", v);
		sanitize(h->ctype);
	}
}

/* The empty line ended the headers in m->hdr: parse them and start the part. */
static enum rc start_part(struct multipart *m, char *err, size_t errlen)
{
	struct part_headers h = {0};
	struct multipart_part p;
	char *s = m->hdr.data ? m->hdr.data : (char *)"";
	enum rc rc;

	while (*s) {
		char *nl = strchr(s, '\n');

		if (nl) {
			*nl = '\0';
			if (nl > s && nl[-1] == '\r')
				nl[-1] = '\0';
		}
		if (*s)
			header_line(&h, s);
		if (!nl)
			break;
		s = nl + 1;
	}
	if (!h.has_disposition) {
		char msg[80];

		snprintf(msg, sizeof msg, "multipart part %zu has no Content-Disposition header", m->parts);
		return stop(m, RC_INVALID, err, errlen, msg);
	}
	p.name = h.d.name;
	p.filename = h.d.has_filename ? h.d.filename : NULL;
	p.content_type = h.ctype;
	m->st = ST_BODY;
	m->j = 0;
	rc = m->cb.part_begin ? m->cb.part_begin(m->cb.ctx, &p) : RC_OK;
	return rc == RC_OK ? RC_OK : stop(m, rc, NULL, 0, NULL);
}

/* Header bytes: one at a time (the block is small and capped). */
static enum rc header_byte(struct multipart *m, char c, char *err, size_t errlen)
{
	enum rc rc = buf_append(&m->hdr, &c, 1);
	size_t line_len;

	if (rc == RC_TOO_BIG)
		return stop(m, RC_TOO_BIG, err, errlen, "multipart part headers longer than 16 KiB");
	if (rc != RC_OK)
		return stop(m, rc, err, errlen, "out of memory");
	if (c == '\0')
		return stop(m, RC_INVALID, err, errlen, "NUL byte in multipart part headers");
	if (c != '\n')
		return RC_OK;
	line_len = m->hdr.len - m->line_start; /* including the LF */
	if (line_len == 1 || (line_len == 2 && m->hdr.data[m->line_start] == '\r')) {
		m->hdr.len = m->line_start; /* drop the empty line */
		m->hdr.data[m->hdr.len] = '\0';
		return start_part(m, err, errlen);
	}
	m->line_start = m->hdr.len;
	return RC_OK;
}

/* A whole delimiter was matched. */
static enum rc delimiter(struct multipart *m)
{
	enum rc rc = RC_OK;

	if (m->st == ST_BODY) {
		rc = flush(m);
		if (rc == RC_OK && m->cb.part_end)
			rc = m->cb.part_end(m->cb.ctx);
	}
	m->st = ST_AFTER_DELIM;
	m->j = 0;
	return rc == RC_OK ? RC_OK : stop(m, rc, NULL, 0, NULL);
}

static enum rc begin_headers(struct multipart *m, char *err, size_t errlen)
{
	if (++m->parts > MULTIPART_MAX_PARTS)
		return stop(m, RC_TOO_BIG, err, errlen, "more than 100 parts in a multipart body");
	m->st = ST_HEADERS;
	m->hdr.len = 0;
	if (m->hdr.data)
		m->hdr.data[0] = '\0';
	m->line_start = 0;
	return RC_OK;
}

/* Scans body or preamble bytes from p for the delimiter; returns bytes consumed (all of
 * them, or up to the end of a delimiter). */
static size_t scan(struct multipart *m, const char *p, size_t len, enum rc *rc)
{
	size_t i = 0;

	*rc = RC_OK;
	while (i < len) {
		char c;

		if (m->j == 0) {
			const char *cr = memchr(p + i, '\r', len - i);
			size_t run = cr ? (size_t)(cr - (p + i)) : len - i;

			*rc = emit(m, p + i, run);
			i += run;
			if (*rc != RC_OK || !cr)
				return i;
			m->j = 1; /* delim[0] is CR */
			i++;
			continue;
		}
		c = p[i];
		if (c != m->delim[m->j]) {
			/* what matched so far is data; c may still begin a delimiter (a CR) */
			*rc = emit(m, m->delim, m->j);
			if (*rc != RC_OK)
				return i;
			m->j = 0;
		}
		i++;
		if (c == m->delim[m->j]) {
			if (++m->j == m->dlen) {
				*rc = delimiter(m);
				return i;
			}
		} else {
			*rc = emit(m, &c, 1);
			if (*rc != RC_OK)
				return i;
		}
	}
	return i;
}

enum rc multipart_feed(struct multipart *m, const char *data, size_t len, char *err, size_t errlen)
{
	size_t i = 0;
	enum rc rc = RC_OK;

	if (m->st == ST_FAILED)
		return m->rc;
	while (i < len && rc == RC_OK) {
		char c = data[i];

		switch (m->st) {
		case ST_PREAMBLE:
		case ST_BODY:
			i += scan(m, data + i, len - i, &rc);
			if (rc != RC_OK && m->st != ST_FAILED)
				stop(m, rc, NULL, 0, NULL);
			break;
		case ST_AFTER_DELIM:
			i++;
			if (c == '-')
				m->st = ST_DASH;
			else if (c == ' ' || c == '\t')
				m->st = ST_PADDING;
			else if (c == '\r')
				m->st = ST_PADDING_CR;
			else if (c == '\n')
				rc = begin_headers(m, err, errlen);
			else
				rc = stop(m, RC_INVALID, err, errlen, "multipart boundary followed by text");
			break;
		case ST_DASH:
			i++;
			if (c == '-')
				m->st = ST_EPILOGUE;
			else
				rc = stop(m, RC_INVALID, err, errlen, "multipart boundary followed by text");
			break;
		case ST_PADDING:
			i++;
			if (c == '\r')
				m->st = ST_PADDING_CR;
			else if (c == '\n')
				rc = begin_headers(m, err, errlen);
			else if (c != ' ' && c != '\t')
				rc = stop(m, RC_INVALID, err, errlen, "multipart boundary followed by text");
			break;
		case ST_PADDING_CR:
			i++;
			if (c == '\n')
				rc = begin_headers(m, err, errlen);
			else
				rc = stop(m, RC_INVALID, err, errlen, "multipart boundary line not ended by CRLF");
			break;
		case ST_HEADERS:
			i++;
			rc = header_byte(m, c, err, errlen);
			break;
		case ST_EPILOGUE: i = len; break;
		case ST_FAILED: rc = m->rc; break;
		}
	}
	if (rc == RC_OK && m->st == ST_BODY)
		rc = flush(m);
	if (rc != RC_OK && m->st != ST_FAILED)
		stop(m, rc, NULL, 0, NULL);
	return m->st == ST_FAILED ? m->rc : RC_OK;
}

enum rc multipart_finish(struct multipart *m, char *err, size_t errlen)
{
	if (m->st == ST_FAILED)
		return m->rc;
	if (m->st != ST_EPILOGUE)
		return stop(m, RC_INVALID, err, errlen,
		            m->parts == 0 ? "multipart body without any part"
		                          : "multipart body ends before its closing boundary (truncated upload?)");
	if (m->parts == 0)
		return stop(m, RC_INVALID, err, errlen, "multipart body without any part");
	return RC_OK;
}
