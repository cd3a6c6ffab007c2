/*
 * server/core/clock.h — the one clock of plantao. Everything timed reads it, so tests can move it.
 * The offset comes from clock_set_offset() (unit tests) or, when PLANTAO_CLOCK_FILE names a
 * file, from that file's content (a signed number of seconds to add), re-read by clock_reload();
 * the engine calls clock_reload() each tick. Thread-safe.
 */
#ifndef PLANTAO_CLOCK_H
#define PLANTAO_CLOCK_H

#include <stdint.h>

/* Unix time in milliseconds / seconds, offset applied. */
int64_t clock_now_ms(void);
int64_t clock_now(void);
void clock_set_offset(int64_t offset_ms);
/* Sets the file to read offsets from (NULL: none) and reads it now. */
void clock_use_file(const char *path);
/* Re-reads the offset file if one is set; cheap (a stat) when unchanged. */
void clock_reload(void);
/* Monotonic microseconds, never offset: for latency measurement only. */
int64_t clock_mono_us(void);

#endif
