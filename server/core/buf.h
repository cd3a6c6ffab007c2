/*
 * server/core/buf.h — a growable byte buffer with a hard cap.
 * Storage is caller-owned (buf_init/buf_release); data is always NUL-terminated
 * so text can be used directly. Appending past cap fails with RC_TOO_BIG.
 */
#ifndef PLANTAO_BUF_H
#define PLANTAO_BUF_H

#include <stddef.h>

#include "core/rc.h"

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t cap; /* maximum len */
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
/* RC_TOO_BIG past cap, RC_INTERNAL when out of memory. */
enum rc buf_append(struct buf *b, const void *data, size_t len);
enum rc buf_puts(struct buf *b, const char *s);
enum rc buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (free() it) and resets b; never NULL on RC_OK. */
char *buf_steal(struct buf *b);

#endif
