/*
 * server/core/clock.c — wall clock with a test offset. The offset is an atomic so readers in
 * any thread see a consistent value without a lock.
 */
#include "core/clock.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"

/* 1000 years: any test moves the clock far less; past it the milliseconds could overflow. */
#define CLOCK_MAX_OFFSET_S (1000.0 * 366 * 86400)

static _Atomic int64_t offset_ms;
static char clock_file[4096];

int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&offset_ms);
}

int64_t clock_now(void)
{
	int64_t ms = clock_now_ms();

	return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

void clock_set_offset(int64_t off)
{
	atomic_store(&offset_ms, off);
}

void clock_use_file(const char *path)
{
	if (!path || !*path) {
		clock_file[0] = '\0';
		return;
	}
	snprintf(clock_file, sizeof clock_file, "%s", path);
	clock_reload();
}

void clock_reload(void)
{
	char text[64];
	FILE *f;
	size_t n;
	char *end;
	double secs;

	if (!clock_file[0])
		return;
	f = fopen(clock_file, "r");
	if (!f)
		return;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	secs = strtod(text, &end);
	if (end == text)
		return;
	/* nan, inf or an offset past any date the schedule can hold would be undefined when
	 * converted: refuse it and keep the offset in force */
	if (!isfinite(secs) || fabs(secs) > CLOCK_MAX_OFFSET_S) {
		log_warn("PLANTAO_CLOCK_FILE %s: offset '%.20s' refused (not a number of seconds within +-%.0f)",
		         clock_file, text, CLOCK_MAX_OFFSET_S);
		return;
	}
	atomic_store(&offset_ms, (int64_t)(secs * 1000.0));
}

int64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
