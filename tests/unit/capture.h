/*
 * tests/unit/capture.h — what a unit test's code logs, read back: standard error goes to a
 * file in /tmp between capture_begin and capture_end, which gives it back as text and puts
 * standard error where it was (before the test asserts anything on the text, so a failing
 * assertion is reported on the terminal, not into the file).
 * Header-only (static functions) because each test is one translation unit.
 */
#ifndef PLANTAO_CAPTURE_H
#define PLANTAO_CAPTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct capture {
	char path[40];
	int fd, saved;
};

static inline void capture_begin(struct capture *c)
{
	snprintf(c->path, sizeof c->path, "/tmp/plantao-capture-XXXXXX");
	c->fd = mkstemp(c->path);
	c->saved = dup(2);
	assert_true(c->fd >= 0 && c->saved >= 0);
	fflush(stderr);
	assert_true(dup2(c->fd, 2) >= 0);
}

/* Puts standard error back, then reads what was written meanwhile into text (size bytes, cut to
 * fit, always terminated). */
static inline void capture_end(struct capture *c, char *text, size_t size)
{
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	close(c->fd);
	f = fopen(c->path, "r");
	unlink(c->path);
	assert_non_null(f);
	n = fread(text, 1, size - 1, f);
	fclose(f);
	text[n] = '\0';
}

#endif
