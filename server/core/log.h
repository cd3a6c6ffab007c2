/*
 * server/core/log.h — one-line log records on stderr: "2026-11-23T10:00:00.123Z LEVEL message".
 * Thread-safe; each record is one whole line, written in the order records were made.
 * Secrets must never be passed here.
 */
#ifndef PLANTAO_LOG_H
#define PLANTAO_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERR };

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* PLANTAO_LOG_FORMAT: text (default) or JSON lines {"time": RFC 3339, "level", "msg"} built
 * with jansson (control characters escaped by JSON itself, so a record stays one line). */
void log_set_format(enum log_format format);

/* Records below level are dropped (default INFO; PLANTAO_LOG_LEVEL=debug|info|warn|error). */
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A DEBUG access-log record ("POST /twilio/voice 200 183us"; dropped at the default level INFO,
 * PLANTAO_LOG_LEVEL=debug shows them), buffered: written by a
 * background thread within 100 ms, before any later log_msg() record, and at exit. The
 * caller makes no system call unless the buffer (256 KiB) is full because stderr's reader is
 * behind; then it waits for the write, so no line is ever dropped.
 */
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the buffered access lines now (also run at exit). */
void log_flush(void);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_LEVEL_ERR, __VA_ARGS__)

/* Room for log_phone()'s answer. */
#define LOG_PHONE_MAX 48

/*
 * A phone number as logs may show it (LGPD): "+5511987654321" -> "+55 11 9****-4321", a
 * Brazilian landline "+551133334444" -> "+55 11 ****-4444", elsewhere the first two digits and
 * the last four ("+14158675309" -> "+14 *****5309"); a "whatsapp:" prefix is kept; anything
 * shorter than 8 digits -> "+***". Writes into out and returns it, so it fits in an argument
 * list: log_info("texted %s", log_phone(to, buf)).
 */
const char *log_phone(const char *phone, char out[LOG_PHONE_MAX]);
/* log_phone() into a buffer that lives until the end of the enclosing block (one log call). */
#define LOG_PHONE(phone) log_phone((phone), (char[LOG_PHONE_MAX]){0})

/* Room for log_time()'s answer. */
#define LOG_TIME_MAX 32
/* A time (epoch seconds) as log lines show it: RFC 3339 in UTC like the record's own time,
 * "2026-12-05T12:00:00Z" — never the epoch number. Writes into out and returns it. */
const char *log_time(int64_t t, char out[LOG_TIME_MAX]);
/* log_time() into a buffer that lives until the end of the enclosing block (one log call). */
#define LOG_TIME(t) log_time((t), (char[LOG_TIME_MAX]){0})

/* An e-mail local part this long made only of hex digits and dots is a Message-ID, not a mailbox. */
#define LOG_MESSAGE_ID_MIN 20

/*
 * Copies in to out (size len, always terminated, cut to fit) with every E.164 number ("+" and 8
 * to 15 digits) written as log_phone() shows it and every e-mail address as its first letter,
 * "***" and its domain ("ana.souza@example.com" -> "a***@example.com"); plantao's own
 * Message-IDs (LOG_MESSAGE_ID_MIN) are left whole. log_msg() passes every record through it, so
 * texts from elsewhere (Twilio's error messages, SMTP answers) are masked too. Returns out.
 */
const char *log_mask(const char *in, char *out, size_t len);

/* Before the server starts only: log the message and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
