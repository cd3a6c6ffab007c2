/*
 * server/pager/mime.c — decoding an Internet message into subject, Message-ID and body text.
 *
 * Specs: RFC 5322 (header fields, unfolding), RFC 2045 (Content-Type parameters,
 * quoted-printable, base64), RFC 2046 (multipart boundaries), RFC 2047 (encoded words).
 * Invariants: every string handed out is valid UTF-8 without NUL or control characters other
 * than '\n' and '\t' (jansson and SQLite take them as they are); every scan is bounded by the
 * input (encoded words by ENCODED_WORD_MAX), so malformed or hostile mail costs linear time.
 * Base64 goes through OpenSSL's EVP_DecodeBlock, charsets through iconv, HTML through
 * libxml2's HTML parser: nothing here re-implements them.
 */
#include "pager/mime.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

/* Longest encoded word looked for (RFC 2047 says 75; mailers exceed it, not by this much). */
#define ENCODED_WORD_MAX 1024
#define CHARSET_MAX      48
#define BOUNDARY_MAX     200

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Copies src into dst[0..size), cut short when it does not fit; always NUL-terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/*
 * Appends s[0..n) taken as UTF-8: ill-formed bytes become U+FFFD; NUL, C0 controls other
 * than tab and line ends, DEL and C1 controls are dropped.
 */
static enum rc put_utf8(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, k;
	enum rc rc;
	bool keep;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k == 1)
			keep = (u[i] >= 0x20 && u[i] != 0x7f) || u[i] == '\t' || u[i] == '\n' || u[i] == '\r';
		else
			keep = k > 1 && !(u[i] == 0xc2 && u[i + 1] < 0xa0);
		if (keep) {
			i += k;
			continue;
		}
		rc = buf_append(out, s + start, i - start);
		if (rc == RC_OK && k == 0)
			rc = buf_append(out, replacement, 3);
		if (rc != RC_OK)
			return rc;
		i += k ? k : 1;
		start = i;
	}
	return buf_append(out, s + start, i - start);
}

size_t mime_utf8_prefix(const char *s, size_t max_chars)
{
	size_t i, chars = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max_chars)
			return i;
		chars++;
	}
	return i;
}

/* ---- charsets --------------------------------------------------------------------------- */

enum charset { CS_UTF8, CS_ASCII, CS_ICONV };

/*
 * Classifies a charset label; for CS_ICONV writes the name to give iconv into name. Only
 * labels from a fixed list reach iconv_open: the label comes from the mail, and glibc's
 * iconv_open loads conversion modules by name.
 */
static enum charset charset_of(const char *label, char *name, size_t namelen)
{
	static const char *const exact[] = {"koi8-r", "koi8-u",    "gb2312",   "gbk",         "gb18030",
	                                    "big5",   "shift_jis", "euc-jp",   "iso-2022-jp", "euc-kr",
	                                    "utf-16", "utf-16le",  "utf-16be", "utf-7"};
	char l[CHARSET_MAX];
	size_t i, n = 0;

	if (!label)
		return CS_ASCII;
	while (is_space(*label) || *label == '"')
		label++;
	for (i = 0; label[i] && label[i] != '"' && label[i] != '*' && !is_space(label[i]); i++) {
		if (n + 1 >= sizeof l)
			return CS_ASCII;
		l[n++] = lower(label[i]);
	}
	l[n] = '\0';
	if (!strcmp(l, "utf-8") || !strcmp(l, "utf8"))
		return CS_UTF8;
	if (!strcmp(l, "iso-8859-1") || !strcmp(l, "iso8859-1") || !strcmp(l, "iso_8859-1") || !strcmp(l, "latin1") ||
	    !strcmp(l, "l1") || !strcmp(l, "windows-1252") || !strcmp(l, "cp1252")) {
		snprintf(name, namelen, "WINDOWS-1252");
		return CS_ICONV;
	}
	if ((!strncmp(l, "iso-8859-", 9) && l[9] >= '1' && l[9] <= '9' && strspn(l + 9, "0123456789") == n - 9) ||
	    (!strncmp(l, "windows-125", 11) && n == 12 && l[11] >= '0' && l[11] <= '8') ||
	    (!strncmp(l, "cp125", 5) && n == 6 && l[5] >= '0' && l[5] <= '8')) {
		copy_str(name, namelen, l);
		return CS_ICONV;
	}
	for (i = 0; i < sizeof exact / sizeof exact[0]; i++) {
		if (!strcmp(l, exact[i])) {
			copy_str(name, namelen, l);
			return CS_ICONV;
		}
	}
	return CS_ASCII;
}

/* ISO-8859-1 by hand: the fallback when iconv has no Windows-1252 (no gconv modules). */
static enum rc latin1(const char *in, size_t len, struct buf *out)
{
	unsigned char u[2];
	enum rc rc = RC_OK;
	size_t i;

	for (i = 0; i < len && rc == RC_OK; i++) {
		u[0] = (unsigned char)in[i];
		if (u[0] < 0x80) {
			rc = put_utf8(out, in + i, 1);
		} else if (u[0] >= 0xa0) {
			u[1] = (unsigned char)(0x80 | (u[0] & 0x3f));
			u[0] = (unsigned char)(0xc0 | (u[0] >> 6));
			rc = buf_append(out, u, 2);
		}
	}
	return rc;
}

/* Converts with iconv; *opened is false when iconv does not know from (nothing appended). */
static enum rc convert(const char *from, const char *in, size_t len, struct buf *out, bool *opened)
{
	char tmp[1024], *ip = (char *)in, *op;
	size_t il = len, ol, r;
	enum rc rc = RC_OK;
	iconv_t cd = iconv_open("UTF-8", from);

	*opened = cd != (iconv_t)-1;
	if (!*opened)
		return RC_OK;
	while (il > 0 && rc == RC_OK) {
		op = tmp;
		ol = sizeof tmp;
		r = iconv(cd, &ip, &il, &op, &ol);
		rc = put_utf8(out, tmp, (size_t)(op - tmp));
		if (r == (size_t)-1 && errno != E2BIG && rc == RC_OK) {
			/* EILSEQ or EINVAL (cut short): one byte becomes U+FFFD, then go on */
			rc = buf_append(out, replacement, 3);
			ip++;
			il--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	if (rc == RC_OK) {
		op = tmp;
		ol = sizeof tmp;
		iconv(cd, NULL, NULL, &op, &ol);
		rc = put_utf8(out, tmp, (size_t)(op - tmp));
	}
	iconv_close(cd);
	return rc;
}

enum rc mime_to_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	char name[CHARSET_MAX];
	enum charset cs = charset_of(charset, name, sizeof name);
	enum rc rc;
	bool opened;

	if (cs == CS_UTF8 || (cs == CS_ASCII && utf8_valid(in, len)))
		return put_utf8(out, in, len);
	if (cs == CS_ASCII)
		snprintf(name, sizeof name, "WINDOWS-1252");
	rc = convert(name, in, len, out, &opened);
	if (rc != RC_OK || opened)
		return rc;
	return cs == CS_ASCII || !strcmp(name, "WINDOWS-1252") ? latin1(in, len, out) : put_utf8(out, in, len);
}

/* ---- transfer encodings ----------------------------------------------------------------- */

enum rc mime_qp_decode(const char *in, size_t len, bool q_word, struct buf *out)
{
	size_t i = 0, j;
	enum rc rc = RC_OK;
	char c;

	while (i < len && rc == RC_OK) {
		c = in[i];
		if (c == '=' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			c = (char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
			rc = buf_append(out, &c, 1);
			i += 3;
			continue;
		}
		if (c == '=' && !q_word) {
			/* a soft line break, possibly with blanks a gateway added after the '=' */
			j = i + 1;
			while (j < len && is_wsp(in[j]))
				j++;
			if (j == len || in[j] == '\n' || in[j] == '\r') {
				if (j < len && in[j] == '\r')
					j++;
				if (j < len && in[j] == '\n')
					j++;
				i = j;
				continue;
			}
		}
		if (q_word && c == '_') {
			rc = buf_append(out, " ", 1);
			i++;
			continue;
		}
		if (!q_word && is_wsp(c)) {
			/* blanks at the end of a line were added in transport (RFC 2045 6.7 rule 3) */
			j = i;
			while (j < len && is_wsp(in[j]))
				j++;
			if (j < len && in[j] != '\r' && in[j] != '\n')
				rc = buf_append(out, in + i, j - i);
			i = j;
			continue;
		}
		rc = buf_append(out, &c, 1);
		i++;
	}
	return rc;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Decodes the n (< 4 k) base64 characters in q, padding the last quantum as needed. */
static enum rc b64_flush(unsigned char *q, size_t n, struct buf *out)
{
	unsigned char dec[3 * 1024 / 4 + 3];
	size_t pad = 0;
	int r;

	if (n % 4 == 1)
		n--; /* a lone sextet carries no whole byte */
	while (n % 4) {
		q[n++] = '=';
		pad++;
	}
	if (!n)
		return RC_OK;
	r = EVP_DecodeBlock(dec, q, (int)n);
	if (r < 0 || (size_t)r < pad)
		return RC_OK; /* cannot happen with the alphabet filtered; drop the quantum */
	return buf_append(out, dec, (size_t)r - pad);
}

enum rc mime_base64_decode(const char *in, size_t len, struct buf *out)
{
	unsigned char q[1024 + 4];
	size_t i, n = 0;
	enum rc rc = RC_OK;

	for (i = 0; i < len && rc == RC_OK; i++) {
		if (is_b64(in[i])) {
			q[n++] = (unsigned char)in[i];
			if (n == 1024) {
				rc = b64_flush(q, n, out);
				n = 0;
			}
		} else if (in[i] == '=') {
			/* padding ends a run; some mailers glue several encoded runs together */
			rc = b64_flush(q, n, out);
			n = 0;
		}
	}
	if (rc == RC_OK)
		rc = b64_flush(q, n, out);
	return rc;
}

/* ---- header fields ---------------------------------------------------------------------- */

struct eword {
	char charset[CHARSET_MAX];
	char enc;         /* 'b' or 'q' */
	const char *text; /* encoded text */
	size_t tlen;
	size_t len; /* of the whole word, "=?" to "?=" */
};

/* Recognises an encoded word "=?charset?B|Q?text?=" at the start of s[0..n). */
static bool parse_eword(const char *s, size_t n, struct eword *w)
{
	size_t i = 2, j;

	if (n > ENCODED_WORD_MAX)
		n = ENCODED_WORD_MAX;
	if (n < 6 || s[0] != '=' || s[1] != '?')
		return false;
	while (i < n && s[i] != '?') {
		if (s[i] <= ' ' || s[i] >= 0x7f || i - 2 + 1 >= sizeof w->charset)
			return false;
		w->charset[i - 2] = s[i];
		i++;
	}
	if (i == 2 || i + 2 >= n || s[i + 2] != '?')
		return false;
	w->charset[i - 2] = '\0';
	w->enc = lower(s[i + 1]);
	if (w->enc != 'b' && w->enc != 'q')
		return false;
	for (j = i + 3; j + 1 < n && !(s[j] == '?' && s[j + 1] == '='); j++)
		if (is_space(s[j]))
			return false;
	if (j + 1 >= n)
		return false;
	w->text = s + i + 3;
	w->tlen = j - (i + 3);
	w->len = j + 2;
	return true;
}

/* Converts the bytes gathered from encoded words in one charset and empties raw. */
static enum rc flush_words(struct buf *raw, const char *charset, struct buf *out)
{
	enum rc rc = RC_OK;

	if (raw->len)
		rc = mime_to_utf8(charset, raw->data, raw->len, out);
	raw->len = 0;
	return rc;
}

enum rc mime_header_decode(const char *s, size_t n, struct buf *out)
{
	struct buf raw;
	struct eword w;
	char charset[CHARSET_MAX] = "";
	bool after_word = false;
	size_t i = 0, j;
	enum rc rc = RC_OK;

	buf_init(&raw, n + 16);
	while (i < n && rc == RC_OK) {
		if (is_space(s[i])) {
			for (j = i; j < n && is_space(s[j]); j++)
				;
			/* blanks between two encoded words are not part of the text (RFC 2047 6.2) */
			if (after_word && j < n && parse_eword(s + j, n - j, &w)) {
				i = j;
				continue;
			}
			rc = flush_words(&raw, charset, out);
			if (rc == RC_OK)
				rc = put_utf8(out, s + i, j - i);
			after_word = false;
			i = j;
			continue;
		}
		if (parse_eword(s + i, n - i, &w)) {
			if (strcmp(w.charset, charset) != 0) {
				/* a character may be split across words of one charset: join their bytes */
				rc = flush_words(&raw, charset, out);
				copy_str(charset, sizeof charset, w.charset);
			}
			if (rc == RC_OK)
				rc = w.enc == 'b' ? mime_base64_decode(w.text, w.tlen, &raw)
				                  : mime_qp_decode(w.text, w.tlen, true, &raw);
			after_word = true;
			i += w.len;
			continue;
		}
		for (j = i + 1; j < n && !is_space(s[j]) && !(s[j] == '=' && j + 1 < n && s[j + 1] == '?'); j++)
			;
		rc = flush_words(&raw, charset, out);
		if (rc == RC_OK)
			rc = mime_to_utf8(NULL, s + i, j - i, out);
		after_word = false;
		i = j;
	}
	if (rc == RC_OK)
		rc = flush_words(&raw, charset, out);
	buf_release(&raw);
	return rc;
}

/* An entity: its header block and its body, both pointing into the message. */
struct entity {
	const char *h;
	size_t hlen;
	const char *b;
	size_t blen;
};

/* Headers end at the first empty line; without one, everything is header. */
static void split_entity(const char *s, size_t n, struct entity *e)
{
	const char *nl;
	size_t i = 0;

	e->h = s;
	e->hlen = n;
	e->b = s + n;
	e->blen = 0;
	while (i < n) {
		nl = memchr(s + i, '\n', n - i);
		if (!nl)
			return;
		if (s + i == nl || (s[i] == '\r' && s + i + 1 == nl)) {
			e->hlen = i;
			e->b = nl + 1;
			e->blen = n - (size_t)(nl + 1 - s);
			return;
		}
		i = (size_t)(nl + 1 - s);
	}
}

static size_t line_end(const char *s, size_t n, size_t i)
{
	const char *nl = memchr(s + i, '\n', n - i);

	return nl ? (size_t)(nl - s) : n;
}

static enum rc append_line(struct buf *b, const char *s, size_t from, size_t to)
{
	if (to > from && s[to - 1] == '\r')
		to--;
	return buf_append(b, s + from, to - from);
}

/*
 * The unfolded, trimmed value of the first header field called name in h[0..hlen), as a new
 * string in *value (free()), NULL when there is none.
 */
static enum rc header_get(const char *h, size_t hlen, const char *name, char **value)
{
	size_t nl = strlen(name), i = 0, eol, j, a, z;
	struct buf b;
	enum rc rc = RC_OK;

	*value = NULL;
	buf_init(&b, hlen + 1);
	while (i < hlen) {
		eol = line_end(h, hlen, i);
		if (eol - i > nl && ascii_ncaseeq(h + i, name, nl)) {
			for (j = i + nl; j < eol && is_wsp(h[j]); j++)
				;
			if (j < eol && h[j] == ':') {
				rc = append_line(&b, h, j + 1, eol);
				for (i = eol + 1; rc == RC_OK && i < hlen && is_wsp(h[i]); i = eol + 1) {
					eol = line_end(h, hlen, i);
					rc = append_line(&b, h, i, eol);
				}
				if (rc == RC_OK)
					rc = buf_append(&b, "", 0);
				if (rc != RC_OK)
					goto out;
				for (a = 0; a < b.len && is_space(b.data[a]); a++)
					;
				for (z = b.len; z > a && is_space(b.data[z - 1]); z--)
					;
				memmove(b.data, b.data + a, z - a);
				b.data[z - a] = '\0';
				*value = buf_steal(&b);
				rc = *value ? RC_OK : RC_INTERNAL;
				goto out;
			}
		}
		i = eol + 1;
	}
out:
	buf_release(&b);
	return rc;
}

/* A copy of s on one line: runs of blanks and line ends become one space; trimmed. */
static char *one_line(const char *s)
{
	char *r = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!r)
		return NULL;
	for (; *s; s++) {
		if (is_space(*s)) {
			if (n && r[n - 1] != ' ')
				r[n++] = ' ';
		} else {
			r[n++] = *s;
		}
	}
	while (n && r[n - 1] == ' ')
		n--;
	r[n] = '\0';
	return r;
}

/* The decoded, one-line value of header name, "" when absent, in *out (free()). */
static enum rc header_text(const struct entity *e, const char *name, char **out)
{
	char *v = NULL;
	struct buf b;
	enum rc rc;

	*out = NULL;
	buf_init(&b, 3 * e->hlen + 16);
	rc = header_get(e->h, e->hlen, name, &v);
	if (rc == RC_OK && v)
		rc = mime_header_decode(v, strlen(v), &b);
	if (rc == RC_OK) {
		*out = one_line(b.data ? b.data : "");
		rc = *out ? RC_OK : RC_INTERNAL;
	}
	free(v);
	buf_release(&b);
	return rc;
}

static enum rc message_id(const struct entity *e, char **out)
{
	char *v = NULL, *p, *q;
	size_t n = 0;
	enum rc rc = header_get(e->h, e->hlen, "Message-ID", &v);

	*out = NULL;
	if (rc != RC_OK || !v)
		return rc;
	p = strchr(v, '<');
	p = p ? p + 1 : v;
	for (q = p; *q && *q != '>' && n < 250; q++)
		if (*q > ' ' && *q < 0x7f)
			p[n++] = *q;
	p[n] = '\0';
	if (n) {
		*out = strdup(p);
		if (!*out)
			rc = RC_INTERNAL;
	}
	free(v);
	return rc;
}

/* ---- MIME structure --------------------------------------------------------------------- */

struct ctype {
	char type[64]; /* "text/plain", lower case; "" when the header is absent */
	char charset[CHARSET_MAX];
	char boundary[BOUNDARY_MAX + 1];
};

/* Reads Content-Type: type/subtype then parameters, token or quoted-string (RFC 2045 5.1). */
static void parse_ctype(const char *v, struct ctype *ct)
{
	char name[32], val[BOUNDARY_MAX + 1];
	size_t n;

	memset(ct, 0, sizeof *ct);
	while (is_space(*v))
		v++;
	for (n = 0; *v && *v != ';' && !is_space(*v); v++)
		if (n + 1 < sizeof ct->type)
			ct->type[n++] = lower(*v);
	ct->type[n] = '\0';
	while (*v) {
		v = strchr(v, ';');
		if (!v)
			break;
		v++;
		while (is_space(*v))
			v++;
		for (n = 0; *v && *v != '=' && *v != ';' && !is_space(*v); v++)
			if (n + 1 < sizeof name)
				name[n++] = lower(*v);
		name[n] = '\0';
		while (is_space(*v))
			v++;
		if (*v != '=')
			continue;
		v++;
		while (is_space(*v))
			v++;
		n = 0;
		if (*v == '"') {
			for (v++; *v && *v != '"'; v++) {
				if (*v == '\\' && v[1])
					v++;
				if (n + 1 < sizeof val)
					val[n++] = *v;
			}
			if (*v == '"')
				v++;
		} else {
			for (; *v && *v != ';' && !is_space(*v); v++)
				if (n + 1 < sizeof val)
					val[n++] = *v;
		}
		val[n] = '\0';
		if (!strcmp(name, "charset"))
			copy_str(ct->charset, sizeof ct->charset, val);
		else if (!strcmp(name, "boundary"))
			copy_str(ct->boundary, sizeof ct->boundary, val);
	}
}

/* The chosen text part: where its body is and how it is encoded. */
struct leaf {
	bool found;
	const char *body;
	size_t len;
	char charset[CHARSET_MAX];
	char cte[32];
};

struct pick {
	struct leaf plain, html;
	int parts;
};

static enum rc walk(const char *s, size_t n, int depth, bool in_digest, struct pick *p);

/* Walks each body part between the delimiter lines "--boundary" (RFC 2046 5.1.1). */
static enum rc walk_multipart(const struct entity *e, const char *boundary, int depth, bool digest, struct pick *p)
{
	const char *s = e->b;
	size_t n = e->blen, bl = strlen(boundary), i = 0, eol, k, start = 0, end;
	bool in_part = false, close;
	enum rc rc = RC_OK;

	while (i < n && rc == RC_OK && !p->plain.found) {
		eol = line_end(s, n, i);
		if (eol - i >= bl + 2 && s[i] == '-' && s[i + 1] == '-' && !memcmp(s + i + 2, boundary, bl)) {
			k = i + 2 + bl;
			close = eol - k >= 2 && s[k] == '-' && s[k + 1] == '-';
			if (close)
				k += 2;
			while (k < eol && is_space(s[k]))
				k++;
			if (k == eol) {
				if (in_part) {
					/* the line break before a delimiter belongs to the delimiter */
					end = i;
					if (end > start && s[end - 1] == '\n')
						end--;
					if (end > start && s[end - 1] == '\r')
						end--;
					rc = walk(s + start, end - start, depth + 1, digest, p);
				}
				if (close)
					return rc;
				in_part = true;
				start = eol < n ? eol + 1 : n;
			}
		}
		i = eol + 1;
	}
	/* no close delimiter: the last part runs to the end */
	if (rc == RC_OK && in_part && start < n && !p->plain.found)
		rc = walk(s + start, n - start, depth + 1, digest, p);
	return rc;
}

static enum rc walk(const char *s, size_t n, int depth, bool in_digest, struct pick *p)
{
	struct entity e;
	struct ctype ct;
	struct leaf *l;
	char *v = NULL;
	size_t i;
	enum rc rc;

	if (++p->parts > MIME_MAX_PARTS)
		return RC_OK;
	split_entity(s, n, &e);
	rc = header_get(e.h, e.hlen, "Content-Type", &v);
	if (rc != RC_OK)
		return rc;
	parse_ctype(v ? v : "", &ct);
	free(v);
	v = NULL;
	if (!ct.type[0])
		copy_str(ct.type, sizeof ct.type, in_digest ? "message/rfc822" : "text/plain");
	else if (!strchr(ct.type, '/'))
		snprintf(ct.type, sizeof ct.type, "text/plain"); /* RFC 2045 5.2: invalid means default */
	if (!strncmp(ct.type, "multipart/", 10)) {
		if (depth >= MIME_MAX_DEPTH || !ct.boundary[0])
			return RC_OK;
		return walk_multipart(&e, ct.boundary, depth, !strcmp(ct.type, "multipart/digest"), p);
	}
	l = !strcmp(ct.type, "text/plain") ? &p->plain : !strcmp(ct.type, "text/html") ? &p->html : NULL;
	if (!l || l->found)
		return RC_OK;
	rc = header_get(e.h, e.hlen, "Content-Disposition", &v);
	if (rc != RC_OK)
		return rc;
	if (v && strlen(v) >= 10 && ascii_ncaseeq(v, "attachment", 10)) {
		free(v);
		return RC_OK;
	}
	free(v);
	rc = header_get(e.h, e.hlen, "Content-Transfer-Encoding", &v);
	if (rc != RC_OK)
		return rc;
	l->found = true;
	l->body = e.b;
	l->len = e.blen;
	copy_str(l->charset, sizeof l->charset, ct.charset);
	copy_str(l->cte, sizeof l->cte, v ? v : "");
	for (i = 0; l->cte[i]; i++)
		l->cte[i] = lower(l->cte[i]);
	free(v);
	return RC_OK;
}

/* ---- text ------------------------------------------------------------------------------- */

/*
 * Appends s[0..n) with line ends made '\n', blanks at line ends dropped, at most one empty
 * line in a row, and no empty lines at the start or the end.
 */
static enum rc tidy(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, eol, end, blank = 0;
	enum rc rc = RC_OK;

	while (i < n && rc == RC_OK) {
		for (eol = i; eol < n && s[eol] != '\n' && s[eol] != '\r'; eol++)
			;
		for (end = eol; end > i && is_wsp(s[end - 1]); end--)
			;
		if (end == i) {
			blank++;
		} else {
			if (out->len)
				rc = buf_append(out, "\n\n", blank ? 2 : 1);
			if (rc == RC_OK)
				rc = buf_append(out, s + i, end - i);
			blank = 0;
		}
		if (eol + 1 < n && s[eol] == '\r' && s[eol + 1] == '\n')
			eol++;
		i = eol + 1;
	}
	return rc;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static bool name_in(const xmlChar *name, const char *const *list)
{
	for (; *list; list++)
		if (!xmlStrcasecmp(name, (const xmlChar *)*list))
			return true;
	return false;
}

static const char *const html_skip[] = {"script", "style", "head", "title", "noscript", "template", NULL};
static const char *const html_block[] = {
        "p",  "div", "br", "tr", "li", "ul", "ol",         "table",   "h1",      "h2",     "h3",     "h4",   "h5",
        "h6", "pre", "hr", "dl", "dt", "dd", "blockquote", "section", "article", "header", "footer", "body", NULL};

/* Appends a text node: blanks collapse into one space unless inside <pre>. */
static enum rc html_text_node(const char *t, bool pre, struct buf *out)
{
	size_t i, j, n = strlen(t);
	enum rc rc = RC_OK;
	bool at_line_start;

	if (pre)
		return buf_append(out, t, n);
	for (i = 0; i < n && rc == RC_OK; i = j) {
		if (is_space(t[i]) || ((unsigned char)t[i] == 0xc2 && (unsigned char)t[i + 1] == 0xa0)) {
			j = i + (is_space(t[i]) ? 1 : 2);
			at_line_start = !out->len || out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' ';
			if (!at_line_start)
				rc = buf_append(out, " ", 1);
			continue;
		}
		for (j = i + 1;
		     j < n && !is_space(t[j]) && !((unsigned char)t[j] == 0xc2 && (unsigned char)t[j + 1] == 0xa0); j++)
			;
		rc = buf_append(out, t + i, j - i);
	}
	return rc;
}

enum rc mime_html_text(const char *html, size_t len, struct buf *out)
{
	htmlDocPtr doc;
	xmlNodePtr node, top;
	enum rc rc = RC_OK;
	int pre = 0;
	bool into;

	if (!len)
		return RC_OK;
	if (len > INT_MAX)
		len = INT_MAX;
	pthread_once(&xml_once, xml_init);
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (!doc)
		return RC_OK;
	top = xmlDocGetRootElement(doc);
	node = top;
	/* walked without recursion: a hostile document may nest deeply */
	while (node && rc == RC_OK) {
		into = false;
		if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) && node->content) {
			rc = html_text_node((const char *)node->content, pre > 0, out);
		} else if (node->type == XML_ELEMENT_NODE && !name_in(node->name, html_skip)) {
			if (name_in(node->name, html_block))
				rc = buf_append(out, "\n", 1);
			if (!xmlStrcasecmp(node->name, (const xmlChar *)"pre"))
				pre++;
			into = node->children != NULL;
		}
		if (into) {
			node = node->children;
			continue;
		}
		for (;;) {
			if (node->type == XML_ELEMENT_NODE && !name_in(node->name, html_skip)) {
				if (!xmlStrcasecmp(node->name, (const xmlChar *)"pre"))
					pre--;
				if (rc == RC_OK && name_in(node->name, html_block) &&
				    xmlStrcasecmp(node->name, (const xmlChar *)"br"))
					rc = buf_append(out, "\n", 1);
			}
			if (node == top) {
				node = NULL;
				break;
			}
			if (node->next) {
				node = node->next;
				break;
			}
			node = node->parent;
			if (!node || node->type == XML_DOCUMENT_NODE || node->type == XML_HTML_DOCUMENT_NODE) {
				node = NULL;
				break;
			}
		}
	}
	xmlFreeDoc(doc);
	return rc;
}

/* The text of the chosen part: transfer decoding, charset, HTML to text, tidied. */
static enum rc leaf_text(const struct leaf *l, bool html, struct buf *out)
{
	struct buf dec, utf, txt;
	const char *data = l->body;
	size_t len = l->len;
	enum rc rc = RC_OK;

	buf_init(&dec, len + 16);
	buf_init(&utf, 3 * len + 16);
	buf_init(&txt, 3 * len + 16);
	if (!strcmp(l->cte, "quoted-printable"))
		rc = mime_qp_decode(data, len, false, &dec);
	else if (!strcmp(l->cte, "base64"))
		rc = mime_base64_decode(data, len, &dec);
	if (rc == RC_OK && (!strcmp(l->cte, "quoted-printable") || !strcmp(l->cte, "base64"))) {
		data = dec.data ? dec.data : "";
		len = dec.len;
	}
	if (rc == RC_OK)
		rc = mime_to_utf8(l->charset, data, len, &utf);
	if (rc == RC_OK && html) {
		rc = mime_html_text(utf.data ? utf.data : "", utf.len, &txt);
		if (rc == RC_OK)
			rc = tidy(txt.data ? txt.data : "", txt.len, out);
	} else if (rc == RC_OK) {
		rc = tidy(utf.data ? utf.data : "", utf.len, out);
	}
	buf_release(&dec);
	buf_release(&utf);
	buf_release(&txt);
	return rc;
}

enum rc mime_parse(const char *raw, size_t len, struct mime_msg *m)
{
	struct entity e;
	struct pick p;
	struct buf text;
	enum rc rc;

	memset(m, 0, sizeof *m);
	memset(&p, 0, sizeof p);
	buf_init(&text, 3 * (size_t)MIME_MAX_INPUT + 16);
	if (len > MIME_MAX_INPUT) {
		len = MIME_MAX_INPUT;
		m->truncated = true;
	}
	split_entity(raw, len, &e);
	rc = header_text(&e, "Subject", &m->subject);
	if (rc == RC_OK)
		rc = header_text(&e, "From", &m->from);
	if (rc == RC_OK)
		rc = message_id(&e, &m->message_id);
	if (rc == RC_OK)
		rc = walk(raw, len, 0, false, &p);
	if (rc == RC_OK && p.plain.found)
		rc = leaf_text(&p.plain, false, &text);
	else if (rc == RC_OK && p.html.found)
		rc = leaf_text(&p.html, true, &text);
	m->html = !p.plain.found && p.html.found;
	if (rc == RC_OK) {
		m->text = buf_steal(&text);
		rc = m->text ? RC_OK : RC_INTERNAL;
	}
	buf_release(&text);
	return rc;
}

void mime_release(struct mime_msg *m)
{
	free(m->subject);
	free(m->from);
	free(m->message_id);
	free(m->text);
	memset(m, 0, sizeof *m);
}
