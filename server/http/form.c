/*
 * server/http/form.c — application/x-www-form-urlencoded parsing.
 * Decoding of %XX is libcurl's (curl_easy_unescape, no handle needed); this file only
 * splits on '&' and '=', turns '+' into a space first (so "%2B" still decodes to '+'),
 * and rejects what curl would pass through silently: malformed escapes, NUL, bad UTF-8.
 */
#include "http/form.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

void form_init(struct form *f)
{
	f->pairs = NULL;
	f->n = 0;
	f->alloc = 0;
}

static void truncate_to(struct form *f, size_t n)
{
	while (f->n > n) {
		f->n--;
		free(f->pairs[f->n].name);
		free(f->pairs[f->n].value);
	}
}

void form_release(struct form *f)
{
	truncate_to(f, 0);
	free(f->pairs);
	form_init(f);
}

/* Appends a pair taking ownership of name and value (freed on failure). */
static enum rc push(struct form *f, char *name, char *value)
{
	struct form_pair *p;
	size_t n;

	if (f->n >= FORM_MAX_PAIRS) {
		free(name);
		free(value);
		return RC_TOO_BIG;
	}
	if (f->n == f->alloc) {
		n = f->alloc ? f->alloc * 2 : 16;
		if (n > FORM_MAX_PAIRS)
			n = FORM_MAX_PAIRS;
		p = realloc(f->pairs, n * sizeof(*p));
		if (!p) {
			free(name);
			free(value);
			return RC_INTERNAL;
		}
		f->pairs = p;
		f->alloc = n;
	}
	f->pairs[f->n].name = name;
	f->pairs[f->n].value = value;
	f->n++;
	return RC_OK;
}

enum rc form_add(struct form *f, const char *name, const char *value)
{
	char *n = strdup(name);
	char *v = strdup(value);

	if (!n || !v) {
		free(n);
		free(v);
		return RC_INTERNAL;
	}
	return push(f, n, v);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Decodes s[0..len) into a new malloc'd NUL-terminated string in *out. */
static enum rc decode(const char *s, size_t len, char **out)
{
	enum rc rc = RC_INVALID;
	char *raw = NULL, *dec = NULL;
	int dec_len = 0;
	size_t i;

	*out = NULL;
	if (len > INT_MAX)
		return RC_TOO_BIG;
	for (i = 0; i < len; i++)
		if (s[i] == '%' && (len - i < 3 || !is_hex(s[i + 1]) || !is_hex(s[i + 2])))
			return RC_INVALID;
	raw = malloc(len + 1);
	if (!raw)
		return RC_INTERNAL;
	for (i = 0; i < len; i++)
		raw[i] = s[i] == '+' ? ' ' : s[i];
	raw[len] = '\0';
	dec = curl_easy_unescape(NULL, raw, (int)len, &dec_len);
	if (!dec) {
		rc = RC_INTERNAL;
		goto out;
	}
	if (memchr(dec, '\0', (size_t)dec_len) || !form_is_utf8(dec, (size_t)dec_len))
		goto out;
	*out = malloc((size_t)dec_len + 1);
	if (!*out) {
		rc = RC_INTERNAL;
		goto out;
	}
	memcpy(*out, dec, (size_t)dec_len);
	(*out)[dec_len] = '\0';
	rc = RC_OK;
out:
	free(raw);
	curl_free(dec);
	return rc;
}

/* Parses one non-empty "name[=value]" segment and appends it. */
static enum rc parse_pair(struct form *f, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t name_len = eq ? (size_t)(eq - s) : len;
	char *name = NULL, *value = NULL;
	enum rc rc;

	rc = decode(s, name_len, &name);
	if (rc != RC_OK)
		return rc;
	if (eq)
		rc = decode(eq + 1, len - name_len - 1, &value);
	else
		rc = decode("", 0, &value);
	if (rc != RC_OK) {
		free(name);
		return rc;
	}
	return push(f, name, value);
}

enum rc form_parse(struct form *f, const char *body, size_t len)
{
	size_t before = f->n, i = 0, seg;
	const char *amp;
	enum rc rc = RC_OK;

	while (i < len) {
		amp = memchr(body + i, '&', len - i);
		seg = amp ? (size_t)(amp - (body + i)) : len - i;
		if (seg > 0) {
			rc = parse_pair(f, body + i, seg);
			if (rc != RC_OK)
				goto out;
		}
		i += seg + 1;
	}
out:
	if (rc != RC_OK)
		truncate_to(f, before);
	return rc;
}

const char *form_get(const struct form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->pairs[i].name, name) == 0)
			return f->pairs[i].value;
	return NULL;
}

/* RFC 3629 section 4 (the UTF8-octets grammar), byte by byte. */
bool form_is_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, need, k;
	unsigned char lo, hi;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			if (s[i] == 0xe0)
				lo = 0xa0; /* overlong */
			else if (s[i] == 0xed)
				hi = 0x9f; /* UTF-16 surrogates */
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			if (s[i] == 0xf0)
				lo = 0x90; /* overlong */
			else if (s[i] == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return false; /* continuation byte, 0xc0, 0xc1, 0xf5..0xff */
		}
		if (len - i - 1 < need)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k <= need; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}
