/* server/core/buf.c — capped growable buffer. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->cap);
}

static enum rc reserve(struct buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > b->cap || b->len > b->cap - extra)
		return RC_TOO_BIG;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return RC_OK;
	n = b->alloc ? b->alloc : 256;
	while (n < need)
		n *= 2;
	p = realloc(b->data, n);
	if (!p)
		return RC_INTERNAL;
	b->data = p;
	b->alloc = n;
	return RC_OK;
}

enum rc buf_append(struct buf *b, const void *data, size_t len)
{
	enum rc rc = reserve(b, len);

	if (rc != RC_OK)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return RC_OK;
}

enum rc buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum rc buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum rc rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return RC_INTERNAL;
	rc = reserve(b, (size_t)n);
	if (rc != RC_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return RC_OK;
}

char *buf_steal(struct buf *b)
{
	char *p;

	if (!b->data && reserve(b, 0) != RC_OK)
		return NULL;
	if (!b->data)
		return NULL;
	b->data[b->len] = '\0';
	p = b->data;
	buf_init(b, b->cap);
	return p;
}
