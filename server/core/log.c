/*
 * server/core/log.c — stderr logging with UTC timestamps.
 * UTC through gmtime_r so logging never depends on the process TZ. A record is always one
 * line: control characters in the message (a newline in a requested path, an alert summary)
 * are written escaped (\n, \r, \t, \xNN), so no client can forge a log line.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level min_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	min_level = level;
}

/* Copies in to out (size len, always terminated) with control characters escaped. */
static void escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 1 < len; in++) {
		unsigned char c = (unsigned char)*in;
		char esc[5];
		size_t k;

		if (c >= 0x20 && c != 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		if (c == '\n')
			snprintf(esc, sizeof esc, "\\n");
		else if (c == '\r')
			snprintf(esc, sizeof esc, "\\r");
		else if (c == '\t')
			snprintf(esc, sizeof esc, "\\t");
		else
			snprintf(esc, sizeof esc, "\\x%02x", c);
		k = strlen(esc);
		if (o + k + 1 > len)
			break;
		memcpy(out + o, esc, k);
		o += k;
	}
	out[o] = '\0';
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	char line[2048], msg[2048];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ", tm.tm_year + 1900, tm.tm_mon + 1,
	             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), names[level]);
	if (n < 0)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	escape(msg, line + n, sizeof line - (size_t)n);
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
