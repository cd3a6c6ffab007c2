/*
 * server/core/log.c — stderr logging with UTC timestamps.
 * UTC through gmtime_r so logging never depends on the process TZ. A record is always one
 * line: control characters in the message (a newline in a requested path, an alert summary)
 * are written escaped (\n, \r, \t, \xNN), so no client can forge a log line. Every record
 * passes log_mask() first: a phone number or e-mail address inside a text plantao did not write
 * (Twilio's error messages, an SMTP server's answer, an alert summary) is masked like the ones
 * it logs on purpose (LGPD).
 *
 * Access lines (log_access) are the only high-rate records: they are appended whole to a
 * buffer and written by a flusher thread at most LOG_FLUSH_MS later, so a worker thread
 * answering a webhook makes no system call for its log line and a stalled reader of stderr
 * (a full pipe) does not stall requests until the buffer is full. Every other record is
 * written at once, after whatever access lines were buffered before it, so the file keeps
 * the order in which records were made. Writes to fd 2 are serialised (io_lock) and each
 * holds whole lines, so lines never interleave; the buffer is flushed by log_flush(), at
 * exit (atexit) and before die().
 */
#include "core/log.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX  2048
#define LOG_BUF_SIZE  (256 * 1024) /* buffered access lines; a full buffer is written by the caller */
#define LOG_FLUSH_MS  100          /* the longest an access line waits */
#define LOG_WAKE_FILL (LOG_BUF_SIZE / 2)

static _Atomic enum log_level min_level = LOG_LEVEL_INFO; /* SIGHUP changes it while threads log */
static enum log_format line_format = LOG_FORMAT_TEXT;

/* io_lock: held while writing fd 2. buf_lock: guards buf/used; taken inside io_lock, never around it. */
static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t buf_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t buf_cond = PTHREAD_COND_INITIALIZER;
static pthread_once_t flusher_once = PTHREAD_ONCE_INIT;
static bool flusher_running;
static char bufs[2][LOG_BUF_SIZE];
static char *buf = bufs[0], *spare = bufs[1];
static size_t used;

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_set_format(enum log_format format)
{
	line_format = format;
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

/* Writes all of p to fd 2 (caller holds io_lock); a failing stderr loses the text, as fprintf would. */
static void write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Writes the buffered access lines. Caller holds io_lock (not buf_lock). */
static void flush_locked(void)
{
	char *out;
	size_t n;

	pthread_mutex_lock(&buf_lock);
	out = buf;
	n = used;
	buf = spare;
	spare = out;
	used = 0;
	pthread_mutex_unlock(&buf_lock);
	/* appenders now fill the other buffer; `out` is ours until the next swap, which also
	 * needs io_lock */
	if (n > 0)
		write_all(out, n);
}

void log_flush(void)
{
	pthread_mutex_lock(&io_lock);
	flush_locked();
	pthread_mutex_unlock(&io_lock);
}

static void *flusher(void *arg)
{
	struct timespec deadline;
	size_t n;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&buf_lock);
		while (used == 0) /* idle: sleep until the first line */
			pthread_cond_wait(&buf_cond, &buf_lock);
		/* then gather lines for LOG_FLUSH_MS, or until the buffer is half full */
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += LOG_FLUSH_MS * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (used < LOG_WAKE_FILL && pthread_cond_timedwait(&buf_cond, &buf_lock, &deadline) == 0)
			;
		n = used;
		pthread_mutex_unlock(&buf_lock);
		if (n > 0)
			log_flush();
	}
	return NULL;
}

static void start_flusher(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;

	atexit(log_flush);
	/* the flusher takes no signal: SIGTERM stays with the thread that waits for it */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	flusher_running = pthread_create(&t, &attr, flusher, NULL) == 0;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

const char *log_time(int64_t t, char out[LOG_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, LOG_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, LOG_TIME_MAX, "?");
	return out;
}

static bool is_local_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._%+-", c);
}

static bool is_domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* plantao's own Message-IDs (<hex.digits@domain>, mailer.c) trace an e-mail and name nobody. */
static bool is_message_id(const char *local, size_t n)
{
	size_t i;

	if (n < LOG_MESSAGE_ID_MIN)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef.", local[i]))
			return false;
	return true;
}

/* An e-mail address at in (the start of a word): its length and the domain's offset, or 0;
 * *own true for plantao's own Message-ID (copied whole). */
static size_t email_at(const char *in, size_t *at, bool *own)
{
	size_t i = 0, d;
	bool dot = false;

	while (in[i] && is_local_char(in[i]))
		i++;
	if (!i || in[i] != '@')
		return 0;
	*at = i;
	for (d = i + 1; in[d] && is_domain_char(in[d]); d++)
		dot = dot || in[d] == '.';
	while (d > i + 1 && (in[d - 1] == '.' || in[d - 1] == '-'))
		d--; /* "write to ana@example.com." */
	if (d == i + 1 || !dot)
		return 0;
	*own = is_message_id(in, i);
	return d;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* How many digits start s. */
static size_t digits_at(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]))
		n++;
	return n;
}

/*
 * A phone number at in (in[-1], when there is one, is not a digit): its length, or 0; its
 * digits (country code first) into num as "+" and digits. Written as:
 *   "+" and 8 to 15 digits (E.164), or the same URL-encoded ("%2B5511987654321", a form body or
 *   a query string);
 *   without "+", a run of digits standing alone (no letter or digit either side) shaped like a
 *   Brazilian mobile or landline with its country code ("5511987654321", "551133334444") or a
 *   Brazilian mobile with its area code ("11987654321": 55 is put in front). Other bare runs
 *   (ids, times in seconds or milliseconds, foreign numbers without "+") are left alone: too
 *   many of them are no phone number.
 */
static size_t phone_at(const char *in, bool bare_ok, char num[LOG_PHONE_MAX])
{
	size_t skip = 0, n;
	const char *d;

	if (in[0] == '+')
		skip = 1;
	else if (in[0] == '%' && in[1] == '2' && (in[2] == 'B' || in[2] == 'b'))
		skip = 3;
	d = in + skip;
	n = digits_at(d);
	if (skip) {
		if (n < 8 || n > 15)
			return 0;
		snprintf(num, LOG_PHONE_MAX, "+%.*s", (int)n, d);
		return skip + n;
	}
	if (!bare_ok || is_alnum(d[n]))
		return 0;
	/* 55, area code (two digits, no 0), then 9 and 8 digits (mobile) or 2-5 and 7 (landline) */
	if (((n == 13 && d[4] == '9') || (n == 12 && d[4] >= '2' && d[4] <= '5')) && d[0] == '5' && d[1] == '5' &&
	    d[2] != '0' && d[3] != '0') {
		snprintf(num, LOG_PHONE_MAX, "+%.*s", (int)n, d);
		return n;
	}
	if (n == 11 && d[0] != '0' && d[1] != '0' && d[2] == '9') {
		snprintf(num, LOG_PHONE_MAX, "+55%.*s", (int)n, d);
		return n;
	}
	return 0;
}

static void put(char *out, size_t len, size_t *o, const char *s, size_t n)
{
	if (*o + n + 1 > len)
		n = len - *o - 1;
	memcpy(out + *o, s, n);
	*o += n;
}

const char *log_mask(const char *in, char *out, size_t len)
{
	char num[LOG_PHONE_MAX];
	size_t i = 0, o = 0, n, at;
	bool word_start = true, own = false, bare;

	if (!len)
		return out;
	while (in && in[i] && o + 1 < len) {
		char c = in[i];

		if (word_start && (n = email_at(in + i, &at, &own)) > 0) {
			/* "ana.souza@example.com" -> "a***@example.com"; a Message-ID of plantao's whole */
			if (own)
				put(out, len, &o, in + i, n);
			else {
				put(out, len, &o, in + i, 1);
				put(out, len, &o, "***", 3);
				put(out, len, &o, in + i + at, n - at);
			}
			i += n;
			word_start = false;
			continue;
		}
		/* a number does not start inside another; one without "+" stands alone */
		bare = i == 0 || (!is_alnum(in[i - 1]) && in[i - 1] != '+');
		if ((i == 0 || !is_digit(in[i - 1])) && (n = phone_at(in + i, bare, num)) > 0) {
			char shown[LOG_PHONE_MAX];

			log_phone(num, shown);
			put(out, len, &o, shown, strlen(shown));
			i += n;
			word_start = false;
			continue;
		}
		out[o++] = c;
		word_start = !is_local_char(c);
		i++;
	}
	out[o] = '\0';
	return out;
}

/*
 * One JSON record into line (LOG_LINE_MAX + 1, newline included): {"time", "level", "msg"}.
 * Bytes that are not UTF-8 become '?' (jansson takes UTF-8 only); a message whose JSON would not
 * fit is cut shorter until it does, so a record is always one whole object.
 */
static size_t format_json(enum log_level level, char *line, const struct tm *tm, int ms, const char *fmt, va_list ap)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	char raw[LOG_LINE_MAX], msg[LOG_LINE_MAX], when[96];
	size_t len = 0, cut, i;

	vsnprintf(raw, sizeof raw, fmt, ap);
	log_mask(raw, msg, sizeof msg);
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm->tm_year + 1900, tm->tm_mon + 1,
	         tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, ms);
	for (cut = strlen(msg);; cut /= 2) {
		json_t *o;
		char *s;

		msg[cut] = '\0';
		o = json_pack("{s:s, s:s, s:s}", "time", when, "level", names[level], "msg", msg);
		if (!o) { /* not UTF-8: keep ASCII, the rest as '?' */
			for (i = 0; msg[i]; i++)
				if ((unsigned char)msg[i] >= 0x80)
					msg[i] = '?';
			o = json_pack("{s:s, s:s, s:s}", "time", when, "level", names[level], "msg", msg);
		}
		s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (s && strlen(s) < LOG_LINE_MAX) {
			len = strlen(s);
			memcpy(line, s, len);
			free(s);
			break;
		}
		free(s);
		if (!cut) {
			len = (size_t)snprintf(line, LOG_LINE_MAX, "{\"time\":\"%s\",\"level\":\"error\",\"msg\":\"\"}",
			                       when);
			break;
		}
	}
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

/* Formats one record, newline included, into line (LOG_LINE_MAX + 1); returns its length. */
static size_t format_line(enum log_level level, char *line, const char *fmt, va_list ap)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	char raw[LOG_LINE_MAX], msg[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	size_t len;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	if (line_format == LOG_FORMAT_JSON)
		return format_json(level, line, &tm, (int)(tv.tv_usec / 1000), fmt, ap);
	n = snprintf(line, LOG_LINE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ", tm.tm_year + 1900, tm.tm_mon + 1,
	             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), names[level]);
	if (n < 0)
		n = 0;
	vsnprintf(raw, sizeof raw, fmt, ap);
	log_mask(raw, msg, sizeof msg);
	escape(msg, line + n, LOG_LINE_MAX - (size_t)n);
	len = strlen(line);
	line[len++] = '\n';
	line[len] = '\0';
	return len;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 1];
	size_t len = format_line(level, line, fmt, ap);

	pthread_mutex_lock(&io_lock);
	flush_locked(); /* access lines made before this record come first */
	write_all(line, len);
	pthread_mutex_unlock(&io_lock);
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

void log_access(const char *fmt, ...)
{
	char line[LOG_LINE_MAX + 1];
	va_list ap;
	size_t len;
	bool wake;

	/* DEBUG: one line per request was 93% of a day's log; warnings and errors say what matters */
	if (LOG_LEVEL_DEBUG < min_level)
		return;
	va_start(ap, fmt);
	len = format_line(LOG_LEVEL_DEBUG, line, fmt, ap);
	va_end(ap);
	pthread_once(&flusher_once, start_flusher);
	if (!flusher_running) {
		pthread_mutex_lock(&io_lock);
		write_all(line, len);
		pthread_mutex_unlock(&io_lock);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&buf_lock);
		if (used + len <= LOG_BUF_SIZE) {
			memcpy(buf + used, line, len);
			used += len;
			wake = used == len || (used >= LOG_WAKE_FILL && used - len < LOG_WAKE_FILL);
			pthread_mutex_unlock(&buf_lock);
			if (wake)
				pthread_cond_signal(&buf_cond);
			return;
		}
		pthread_mutex_unlock(&buf_lock);
		/* full: the writer of stderr is behind; wait for it like a direct record would */
		log_flush();
	}
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1); /* atexit(log_flush) writes any access lines still buffered */
}

/* ---- phone numbers in logs (LGPD): only what tells two people apart ---- */

const char *log_phone(const char *phone, char out[LOG_PHONE_MAX])
{
	const char *p = phone ? phone : "";
	const char *prefix = "";
	char digits[LOG_PHONE_MAX];
	size_t n = 0, i, o = 0;

	if (!strncmp(p, "whatsapp:", 9)) {
		prefix = "whatsapp:";
		p += 9;
	}
	if (*p == '+')
		p++;
	for (; *p && n + 1 < sizeof digits; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	digits[n] = '\0';
	if (n < 8) { /* too short to mask meaningfully: nothing of it */
		snprintf(out, LOG_PHONE_MAX, "%s+***", prefix);
		return out;
	}
	if (!strncmp(digits, "55", 2) && (n == 12 || n == 13)) {
		/* Brazil: +55 AA 9****-NNNN (mobile) or +55 AA ****-NNNN (landline) */
		snprintf(out, LOG_PHONE_MAX, "%s+55 %.2s %s****-%s", prefix, digits + 2, n == 13 ? "9" : "",
		         digits + n - 4);
		return out;
	}
	/* elsewhere: the first two digits (country) and the last four */
	o = (size_t)snprintf(out, LOG_PHONE_MAX, "%s+%.2s ", prefix, digits);
	for (i = 2; i + 4 < n && o + 6 < LOG_PHONE_MAX; i++)
		out[o++] = '*';
	snprintf(out + o, LOG_PHONE_MAX - o, "%s", digits + n - 4);
	return out;
}
